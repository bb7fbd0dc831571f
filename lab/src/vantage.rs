//! Vantage points: where a judgement is made from — the client, the origin, the ICAP recorder,
//! the categorisation service, the proxy's own log. In the bundled lab every one of them can be
//! seen; in external mode the proxy's log never can, and the ICAP recorder and categoriser only
//! when the proxy was pointed at them. A step that cannot see what it needs says so with a
//! typed [`NotObservable`] (never a pass, never a fail), and the run keeps a [`VantageLedger`]
//! of what was judged how, for the reports' "vantage points" section.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub use conformance_model::Vantage;

/// A judgement that cannot be made in this mode: what it needs cannot be seen. Steps record
/// it (the scenario goes on, so its other steps are still judged) and the runner raises it as
/// a typed panic payload (`std::panic::panic_any`) that the recorder downcasts: it travels by
/// type, never by matching a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotObservable {
    pub vantage: Vantage,
    /// The step (or check) that could not be judged.
    pub check: String,
    /// Why, in one sentence (e.g. "the proxy made no ICAP call during the run").
    pub why: String,
}

impl fmt::Display for NotObservable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not observable: {} ({} not observable: {})",
            self.check, self.vantage, self.why
        )
    }
}

/// A scenario whose instruments the proxy took away (it stripped the harness's headers): its
/// failed step proves nothing either, so the scenario is not observable rather than failed.
#[derive(Debug, Clone)]
pub struct Blinded(pub NotObservable);

/// What the run judged from where: per vantage point, the checks that used it and the checks
/// it could not serve. Shared by every scenario of a run (held by the lab).
#[derive(Debug, Default)]
pub struct VantageLedger {
    judged: [AtomicUsize; 5],
    unobservable: [AtomicUsize; 5],
    reasons: Mutex<Vec<(Vantage, String)>>,
}

impl VantageLedger {
    /// A check used `vantage`.
    pub fn judged(&self, vantage: Vantage) {
        self.judged[vantage as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A check (or the part of a check) needing `vantage` could not be made, for `why`.
    pub fn unobservable(&self, vantage: Vantage, why: &str) {
        self.unobservable[vantage as usize].fetch_add(1, Ordering::Relaxed);
        let mut reasons = self.reasons.lock().unwrap_or_else(|p| p.into_inner());
        if !reasons.iter().any(|(v, w)| *v == vantage && w == why) {
            reasons.push((vantage, why.to_owned()));
        }
    }

    /// Checks that used `vantage`.
    pub fn judged_count(&self, vantage: Vantage) -> usize {
        self.judged[vantage as usize].load(Ordering::Relaxed)
    }

    /// Checks (or parts of checks) that could not use `vantage`.
    pub fn unobservable_count(&self, vantage: Vantage) -> usize {
        self.unobservable[vantage as usize].load(Ordering::Relaxed)
    }

    /// The distinct reasons `vantage` could not be observed.
    pub fn reasons(&self, vantage: Vantage) -> Vec<String> {
        self.reasons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(v, _)| *v == vantage)
            .map(|(_, why)| why.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_counts_per_vantage_and_keeps_distinct_reasons() {
        let ledger = VantageLedger::default();
        ledger.judged(Vantage::Client);
        ledger.judged(Vantage::Client);
        ledger.unobservable(Vantage::ProxyLog, "external");
        ledger.unobservable(Vantage::ProxyLog, "external");
        assert_eq!(ledger.judged_count(Vantage::Client), 2);
        assert_eq!(ledger.judged_count(Vantage::Origin), 0);
        assert_eq!(ledger.unobservable_count(Vantage::ProxyLog), 2);
        assert_eq!(ledger.reasons(Vantage::ProxyLog), ["external"]);
        assert!(Vantage::ProxyLog.only_corroborates());
        assert!(!Vantage::Icap.only_corroborates());
    }
}
