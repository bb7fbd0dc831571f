//! Host names as scenarios write them. A scenario names a documented pattern rather than a
//! fixed name, so a policy must cover the pattern, not the names a test happens to use:
//! `"*.dl.delivery.mp.microsoft.com"` is a name drawn under that pattern for this run (one
//! label deep), `"*.dl.delivery.mp.microsoft.com, deep"` one drawn two labels deep, and
//! `"look-alike 3"` the third look-alike control host (a name an over-broad bypass would
//! wrongly match). Exact names (apex names, control hosts) are taken as written.

use crate::world::ConformanceWorld;

const DEEP_SUFFIX: &str = ", deep";
const LOOK_ALIKE_PREFIX: &str = "look-alike ";

impl ConformanceWorld {
    /// The concrete host a scenario's host reference names this run.
    pub(crate) fn resolve_host(&self, reference: &str) -> Result<String, String> {
        let hosts = self.lab.hosts();
        let resolved = if let Some(number) = reference.strip_prefix(LOOK_ALIKE_PREFIX) {
            let index: usize = number
                .trim()
                .parse()
                .map_err(|_| format!("{reference:?}: write look-alike N with N from 1"))?;
            let all = hosts.look_alikes();
            all.get(index.wrapping_sub(1)).cloned().ok_or_else(|| {
                format!(
                    "{reference:?}: this run has look-alikes 1 to {} ({})",
                    all.len(),
                    all.join(", ")
                )
            })?
        } else if reference.starts_with("*.") {
            let (pattern, deep) = match reference.strip_suffix(DEEP_SUFFIX) {
                Some(pattern) => (pattern, true),
                None => (reference, false),
            };
            let drawn = hosts.for_pattern(pattern);
            if drawn.is_empty() {
                return Err(format!(
                    "{pattern:?} is not one of Microsoft's Windows Update patterns: {}",
                    hosts
                        .patterns()
                        .map(|(p, _)| p)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let index = usize::from(deep).min(drawn.len() - 1);
            drawn[index].clone()
        } else {
            reference.to_owned()
        };
        if self.lab.serves(&resolved) {
            Ok(resolved)
        } else {
            Err(format!(
                "{resolved} is not a lab host: name a Windows Update pattern (\"*.update.microsoft.com\"), \
                 an exact Windows Update name, a control host ({}) or \"look-alike N\"",
                conformance_spec::CONTROL_HOSTS.join(", ")
            ))
        }
    }
}
