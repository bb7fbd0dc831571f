//! The World's helpers for the categorisation service: the scenario's lookups, and whether the
//! service can be observed in this mode.

use conformance_lab::{LabMode, Vantage};
use mock_servers::Lookup;

use crate::world::ConformanceWorld;

impl ConformanceWorld {
    /// Lookups of `host` the proxy made for this scenario's requests. An external proxy's
    /// categoriser is not told the scenario: its lookups of the host count too.
    pub(crate) fn categorisation_lookups_of(&self, host: &str) -> Vec<Lookup> {
        let external = self.lab.mode() == LabMode::External;
        self.lab
            .categorizer()
            .lookups_for(host)
            .into_iter()
            .filter(|l| {
                l.scenario.as_deref() == Some(self.token.as_str())
                    || (external && l.scenario.is_none())
            })
            .collect()
    }

    /// Whether the categoriser can be observed in this run; records it when it cannot.
    pub(crate) async fn categoriser_observable(&mut self, check: &str) -> bool {
        match self.lab.observe(Vantage::Categorizer).await {
            Ok(()) => true,
            Err(unseen) => {
                self.not_observable(unseen.vantage, check, unseen.why);
                false
            }
        }
    }
}
