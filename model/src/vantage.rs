//! Vantage points: where a judgement is made from — the client, the origin, the ICAP recorder,
//! the categorisation service, the proxy's own log. Plain data, so that each property's record
//! (`model/src/property.rs`) can name the vantage points it is judged from; the lab's ledger of
//! what was judged how is in `lab/src/vantage.rs`.

use std::fmt;

/// A place the harness observes the proxy's treatment of a request from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Vantage {
    /// What the scenario's clients received (status, headers, bytes, certificate issuer).
    Client,
    /// What the update origin saw (requests, Range headers, bytes sent, ClientHellos).
    Origin,
    /// The ICAP recorder's journal of REQMOD/RESPMOD calls.
    Icap,
    /// The categorisation service's journal of lookups.
    Categorizer,
    /// The proxy's own access log, as its backend reads it.
    ProxyLog,
}

impl Vantage {
    pub const ALL: [Vantage; 5] = [
        Self::Client,
        Self::Origin,
        Self::Icap,
        Self::Categorizer,
        Self::ProxyLog,
    ];

    /// The vantage point's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Origin => "origin",
            Self::Icap => "ICAP recorder",
            Self::Categorizer => "categorisation service",
            Self::ProxyLog => "proxy log",
        }
    }

    /// Whether this vantage point only corroborates what others judge. Every property is
    /// judged from the client and the origin (or from its own instrument: ICAP, categoriser);
    /// the proxy's log is a third witness, so a scenario whose proxy-log step cannot be
    /// observed is still judged by its other steps. Any other vantage point that cannot be
    /// observed leaves its property unjudged: the scenario is not observable.
    pub fn only_corroborates(self) -> bool {
        self == Self::ProxyLog
    }
}

impl fmt::Display for Vantage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
