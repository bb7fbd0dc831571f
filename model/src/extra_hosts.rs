//! The hosts a run's features name beyond the lab's own (an intranet portal, another vendor's
//! update service): exact names served as written and wildcard patterns under which the lab
//! draws fresh names each run, like Microsoft's. The harness collects them before the lab
//! starts; the lab resolves them, covers them with the origin's certificate and journals them.

use std::collections::BTreeSet;

use crate::host_reference::HostReference;
use crate::hosts::{is_lab_host, WINDOWS_UPDATE_HOSTS};

/// Host names and wildcard patterns a run serves on top of the Windows Update set and the
/// control hosts, in lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraHosts {
    names: BTreeSet<String>,
    patterns: BTreeSet<String>,
}

impl ExtraHosts {
    /// Adds what `reference` needs served, when the lab does not serve it already.
    pub fn add_reference(&mut self, reference: &HostReference<'_>) {
        match reference {
            HostReference::LookAlike(_) => {}
            HostReference::Drawn { pattern, .. } => self.add_pattern(pattern),
            HostReference::Exact(name) => self.add_name(name),
        }
    }

    /// Adds an exact name (unless it is one of the lab's own).
    pub fn add_name(&mut self, name: &str) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !is_lab_host(&name) {
            self.names.insert(name);
        }
    }

    /// Adds a `*.suffix` pattern (unless it is a Windows Update pattern).
    pub fn add_pattern(&mut self, pattern: &str) {
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        if !WINDOWS_UPDATE_HOSTS
            .iter()
            .any(|p| p.pattern.eq_ignore_ascii_case(&pattern))
        {
            self.patterns.insert(pattern);
        }
    }

    /// Adds everything `other` names.
    pub fn extend(&mut self, other: &ExtraHosts) {
        self.names.extend(other.names.iter().cloned());
        self.patterns.extend(other.patterns.iter().cloned());
    }

    /// The exact names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The wildcard patterns (`*.corp.example`), sorted.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_reference::parse_host_reference;

    #[test]
    fn only_what_the_lab_does_not_serve_already_is_added() {
        let mut extra = ExtraHosts::default();
        for reference in [
            "Portal.Corp.Example",
            "*.corp.example, deep",
            "*.update.microsoft.com",
            "download.microsoft.com",
            "www.example.com",
            "look-alike 2",
        ] {
            extra.add_reference(&parse_host_reference(reference).unwrap());
        }
        assert_eq!(extra.names().collect::<Vec<_>>(), ["portal.corp.example"]);
        assert_eq!(extra.patterns().collect::<Vec<_>>(), ["*.corp.example"]);
        assert!(!extra.is_empty());
        assert!(ExtraHosts::default().is_empty());
    }
}
