//! The access log of the proxy under test, read per scenario and turned into neutral facts by
//! its backend.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::ProxyBackend;
use crate::facts::ProxyFact;

/// The log a running proxy writes into a directory the harness shares with it.
#[derive(Debug, Clone)]
pub struct ProxyLog {
    path: PathBuf,
    backend: Arc<dyn ProxyBackend>,
}

impl ProxyLog {
    pub(crate) fn new(path: PathBuf, backend: Arc<dyn ProxyBackend>) -> Self {
        Self { path, backend }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The facts of every request the proxy logged so far, in order.
    pub fn facts(&self) -> Vec<ProxyFact> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines()
            .filter_map(|line| self.backend.parse_log_line(line))
            .collect()
    }

    /// The facts of every request of `scenario`: its header value, or a URL containing it.
    pub fn facts_for(&self, scenario: &str) -> Vec<ProxyFact> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines()
            .filter_map(|line| self.backend.parse_log_line(line))
            .filter(|fact| {
                fact.scenario.as_deref() == Some(scenario) || fact.url.contains(scenario)
            })
            .collect()
    }
}
