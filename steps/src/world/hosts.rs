//! Host names as scenarios write them. A scenario names a documented pattern rather than a
//! fixed name, so a policy must cover the pattern, not the names a test happens to use:
//! `"*.dl.delivery.mp.microsoft.com"` is a name drawn under that pattern for this run (one
//! label deep), `"*.dl.delivery.mp.microsoft.com, deep"` one drawn two labels deep, and
//! `"look-alike 3"` the third look-alike control host (a name an over-broad bypass would
//! wrongly match). Exact names (apex names, control hosts) are taken as written.

use crate::world::ConformanceWorld;

use conformance_model::{parse_host_reference, HostReference};

impl ConformanceWorld {
    /// The concrete host a scenario's host reference names this run.
    pub(crate) fn resolve_host(&self, reference: &str) -> Result<String, String> {
        let hosts = self.lab.hosts();
        let resolved = match parse_host_reference(reference)? {
            HostReference::LookAlike(number) => {
                let all = hosts.look_alikes();
                all.get(number - 1).cloned().ok_or_else(|| {
                    format!(
                        "{reference:?}: this run has look-alikes 1 to {} ({})",
                        all.len(),
                        all.join(", ")
                    )
                })?
            }
            HostReference::Drawn { pattern, deep } => {
                let drawn = hosts.for_pattern(pattern);
                let index = usize::from(deep).min(drawn.len().saturating_sub(1));
                drawn
                    .get(index)
                    .cloned()
                    .ok_or_else(|| format!("no name was drawn under {pattern}"))?
            }
            HostReference::Exact(name) => name.to_owned(),
        };
        if self.lab.serves(&resolved) {
            Ok(resolved)
        } else {
            Err(format!("{resolved} is not served by this lab"))
        }
    }
}
