//! Run-wide invariants: every exchange the run made with a Windows Update host — whatever
//! scenario, client profile, URL family, scheme or host depth made it — judged on every
//! property from every vantage point that saw it (client, origin, ICAP recorder, categoriser,
//! proxy log). Scenarios keep their focused checks; these make every scenario evidence for
//! every property, so a PASS is a claim about all the update traffic of the run.
//!
//! Each [`Finding`] names its property by type (a 407 is @auth wherever it shows, a bump @tls,
//! an ICAP call @icap), the host, the vantage point, the exchange and, where it can be told,
//! the scenario whose traffic it was.

mod headers;
mod judge;
mod pairing;

use conformance_client::{Exchange, RawTunnelExchange};
use conformance_lab::{NotObservable, ProxyFact, Vantage};
use conformance_model::{KindsPoliced, Property};
use mock_servers::{IcapCall, Lookup, OriginExchange};

pub use headers::HeaderRole;
pub use judge::judge;

/// What one scenario's clients did, kept for the run-wide judgement.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    /// As [`crate::ScenarioOutcome::feature`] names it.
    pub feature: String,
    /// As [`crate::ScenarioOutcome::line`] (the example row's, for outlines).
    pub line: usize,
    /// The scenario's token (its scenario header, and part of its synthetic URLs).
    pub token: String,
    pub exchanges: Vec<Exchange>,
    pub raw_tunnel: Option<RawTunnelExchange>,
    /// The property the failing `Then` step declared it judges, if it declared one.
    pub judging: Option<Property>,
    /// Set when the proxy stripped the harness's instrument headers from this scenario's
    /// traffic: its own checks may have lost their evidence.
    pub blinded: Option<NotObservable>,
    /// Which kinds of a control's objects the proxy policed, when a check judged them.
    pub kinds_policed: Option<KindsPoliced>,
}

/// Everything the run observed, from its start to its end (the lab's own probes before the
/// first scenario are not in it).
#[derive(Debug, Clone, Default)]
pub struct RunEvidence {
    pub scenarios: Vec<ScenarioRecord>,
    pub origin: Vec<OriginExchange>,
    pub icap: Vec<IcapCall>,
    pub lookups: Vec<Lookup>,
    /// `None` where the proxy's log cannot be read (external mode).
    pub proxy_facts: Option<Vec<ProxyFact>>,
    /// The origin's own leaf certificate (DER): any other leaf on an update host is a bump.
    pub origin_leaf: Vec<u8>,
}

impl RunEvidence {
    /// Requests the run's clients sent to update hosts (the invariants' observations).
    pub fn update_exchange_count(&self) -> usize {
        self.scenarios
            .iter()
            .map(|s| {
                s.exchanges
                    .iter()
                    .filter(|e| conformance_model::is_update_host(&host_of(&e.url)))
                    .count()
                    + s.raw_tunnel
                        .iter()
                        .filter(|r| conformance_model::is_update_host(&host_of(&r.host)))
                        .count()
            })
            .sum()
    }
}

/// How grave a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The property is broken for update traffic: the run fails.
    Violation,
    /// Worth knowing, breaks nothing Windows Update needs (a correlation header stripped).
    Note,
}

/// One thing the proxy did to update traffic that a property forbids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub property: Property,
    pub severity: Severity,
    /// The update host concerned.
    pub host: String,
    pub vantage: Vantage,
    /// One sentence: the exchange and what happened to it.
    pub what: String,
    /// The token of the scenario whose traffic it was, where it can be told.
    pub scenario: Option<String>,
    /// Only says the proxy refused or replaced a reply: another property's finding on the
    /// same scenario and host names the cause better, and this one is then dropped.
    pub refusal: bool,
}

impl Finding {
    fn new(property: Property, host: &str, vantage: Vantage, what: String) -> Self {
        Self {
            property,
            severity: Severity::Violation,
            host: host.to_owned(),
            vantage,
            what,
            scenario: None,
            refusal: false,
        }
    }

    fn of(mut self, scenario: Option<&str>) -> Self {
        self.scenario = scenario.map(str::to_owned);
        self
    }

    fn refusal(mut self) -> Self {
        self.refusal = true;
        self
    }

    fn note(mut self) -> Self {
        self.severity = Severity::Note;
        self
    }

    pub fn is_violation(&self) -> bool {
        self.severity == Severity::Violation
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}] {}", self.property, self.vantage, self.what)
    }
}

/// The host of a URL as a client, proxy or ICAP service writes it (`http://h:80/p`,
/// `https://h/p`, `h:443` for a CONNECT), lower case, without port or trailing dot.
pub(crate) fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let name = match authority.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => authority,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The request target (path and query) of a URL, as an origin sees it.
pub(crate) fn target_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => rest[at..].to_owned(),
        Some(at) => format!("/{}", &rest[at..]),
        None => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_targets_are_read_from_every_url_form() {
        assert_eq!(
            host_of("http://Au.Download.WindowsUpdate.com:80/c/x.cab?a=1"),
            "au.download.windowsupdate.com"
        );
        assert_eq!(
            host_of("fe3.delivery.mp.microsoft.com:443"),
            "fe3.delivery.mp.microsoft.com"
        );
        assert_eq!(
            host_of("https://download.microsoft.com./x"),
            "download.microsoft.com"
        );
        assert_eq!(target_of("http://h/c/x.cab?a=1"), "/c/x.cab?a=1");
        assert_eq!(target_of("http://h?a"), "/?a");
        assert_eq!(target_of("http://h"), "/");
    }
}
