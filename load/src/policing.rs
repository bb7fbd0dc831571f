//! What the proxy did to the fleet's traffic that a bypass turns off, counted from the lab's
//! own journals between the fleet's start and its end: the ICAP recorder's calls and the bytes
//! they put before it, the categoriser's lookups, and the CONNECT tunnels the proxy's log shows
//! bumped. The lab's start-up probes, made before, are not counted.

use conformance_lab::Lab;

use crate::model::Policing;

/// How full each journal was when the fleet started.
pub(crate) struct PolicingStart {
    icap_calls: usize,
    lookups: usize,
    proxy_facts: Option<usize>,
}

impl PolicingStart {
    pub(crate) fn now(lab: &Lab) -> Self {
        Self {
            icap_calls: lab.icap().call_count(),
            lookups: lab.categorizer().lookup_count(),
            proxy_facts: lab.proxy_log().map(|log| log.facts().len()),
        }
    }

    /// Everything the journals gained since.
    pub(crate) fn since(&self, lab: &Lab) -> Policing {
        let calls = lab.icap().calls();
        let new_calls = calls.get(self.icap_calls..).unwrap_or_default();
        let bumped = lab.proxy_log().zip(self.proxy_facts).map(|(log, first)| {
            log.facts()
                .get(first..)
                .unwrap_or_default()
                .iter()
                .filter(|fact| fact.is_connect() && fact.bumped)
                .count() as u64
        });
        Policing {
            icap_calls: new_calls.len() as u64,
            icap_scanned_bytes: new_calls.iter().map(|call| call.scanned_bytes).sum(),
            categorisation_lookups: lab
                .categorizer()
                .lookup_count()
                .saturating_sub(self.lookups) as u64,
            bumped_connections: bumped,
        }
    }
}
