//! The categorisation service (a web-filter's URL categoriser, ProxySG's WebPulse): a
//! wiremock server the proxy's `lab_categorize` helper asks `GET /lookup?host=H&scenario=S`.
//! It answers `blocked` or `allowed` and journals every lookup, so steps can tell which
//! hosts the proxy had categorised on behalf of which scenario.
//!
//! Verdicts are per host *and* scenario: scenarios run concurrently on one lab, and calling a
//! host blocked for everyone would deny it to every other scenario using that host.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::fault_switch::FaultSwitch;
use crate::wiremock_server::WiremockServer;

/// The lookup path the helper asks.
pub const LOOKUP_PATH: &str = "/lookup";
/// A path the lab's health probe asks: answered `ok`, never journaled as a lookup.
pub const HEALTH_PATH: &str = "/lab-health";
/// How long a categoriser made unresponsive holds an answer (longer than any run).
const STALLED_FOR: std::time::Duration = std::time::Duration::from_secs(3600);
/// What the helper sends when a request carries no scenario header.
const NO_SCENARIO: &str = "-";

/// The service's answer for one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryVerdict {
    /// The proxy is told the host is in a blocked category (the helper answers `OK`).
    Blocked,
    /// The host is in no blocked category (the helper answers `ERR`).
    Allowed,
}

impl CategoryVerdict {
    fn word(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Allowed => "allowed",
        }
    }
}

/// One lookup the proxy made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The destination host the proxy asked about.
    pub host: String,
    /// The scenario header of the request being categorised, if it had one.
    pub scenario: Option<String>,
    pub verdict: CategoryVerdict,
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lookup of {} for scenario {} -> {}",
            self.host,
            self.scenario.as_deref().unwrap_or("(none)"),
            self.verdict.word()
        )
    }
}

#[derive(Debug, Default)]
struct State {
    /// (host, scenario) pairs the service calls blocked.
    blocked: HashSet<(String, String)>,
    lookups: Vec<Lookup>,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Answers lookups from the shared verdicts and journals them.
struct Verdicts(Shared, FaultSwitch);

impl Respond for Verdicts {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if self.1.tripped() {
            return ResponseTemplate::new(200).set_delay(STALLED_FOR);
        }
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
        };
        let Some(host) = query("host").filter(|h| !h.is_empty()) else {
            return ResponseTemplate::new(400).set_body_string("a lookup needs ?host=\n");
        };
        let host = host.to_ascii_lowercase();
        let scenario = query("scenario").filter(|s| !s.is_empty() && s != NO_SCENARIO);
        let mut state = lock(&self.0);
        let verdict = match &scenario {
            Some(s) if state.blocked.contains(&(host.clone(), s.clone())) => {
                CategoryVerdict::Blocked
            }
            _ => CategoryVerdict::Allowed,
        };
        state.lookups.push(Lookup {
            host,
            scenario,
            verdict,
        });
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/plain")
            .set_body_string(format!("{}\n", verdict.word()))
    }
}

/// Answers the lab's health probe, unless the service was made unresponsive.
struct Health(FaultSwitch);

impl Respond for Health {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let answer = ResponseTemplate::new(200).set_body_string("ok\n");
        if self.0.tripped() {
            answer.set_delay(STALLED_FOR)
        } else {
            answer
        }
    }
}

/// The running categorisation service; it stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Categorizer {
    server: Arc<WiremockServer>,
    state: Shared,
    unresponsive: FaultSwitch,
}

impl Categorizer {
    /// Starts on all interfaces (the proxy's helper reaches it through the host gateway).
    pub async fn start() -> Result<Self> {
        let listener =
            std::net::TcpListener::bind("0.0.0.0:0").context("binding the categoriser")?;
        let server = MockServer::builder().listener(listener).start().await;
        let state = Shared::default();
        let unresponsive = FaultSwitch::default();
        Mock::given(method("GET"))
            .and(path(LOOKUP_PATH))
            .respond_with(Verdicts(state.clone(), unresponsive.clone()))
            .named("categorisation lookup")
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(HEALTH_PATH))
            .respond_with(Health(unresponsive.clone()))
            .named("lab health probe")
            .mount(&server)
            .await;
        Ok(Self {
            server: Arc::new(WiremockServer::new(server)),
            state,
            unresponsive,
        })
    }

    /// Lab fault injection only: once tripped, lookups and health probes get no answer (and
    /// lookups are not journaled), like a hung categorisation service.
    pub fn unresponsive_switch(&self) -> FaultSwitch {
        self.unresponsive.clone()
    }

    pub fn port(&self) -> u16 {
        self.server.address().port()
    }

    /// From now on, calls `host` blocked in lookups made for requests of `scenario`; every
    /// other lookup is still answered `allowed`.
    pub fn block(&self, host: &str, scenario: &str) {
        lock(&self.state)
            .blocked
            .insert((host.to_ascii_lowercase(), scenario.to_owned()));
    }

    /// Every lookup so far, whatever host and scenario it was for: in external mode, any
    /// lookup proves the proxy was pointed at the service.
    pub fn lookup_count(&self) -> usize {
        lock(&self.state).lookups.len()
    }

    /// Every lookup so far, in the order the proxy made them.
    pub fn lookups(&self) -> Vec<Lookup> {
        lock(&self.state).lookups.clone()
    }

    /// Every lookup of `host` so far, whichever scenario it was made for.
    pub fn lookups_for(&self, host: &str) -> Vec<Lookup> {
        lock(&self.state)
            .lookups
            .iter()
            .filter(|l| l.host.eq_ignore_ascii_case(host))
            .cloned()
            .collect()
    }

    /// Every lookup made for requests of `scenario`, whichever host it was about.
    pub fn lookups_in(&self, scenario: &str) -> Vec<Lookup> {
        lock(&self.state)
            .lookups
            .iter()
            .filter(|l| l.scenario.as_deref() == Some(scenario))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ask(categorizer: &Categorizer, query: &str) -> (u16, String) {
        let url = format!(
            "http://127.0.0.1:{}{LOOKUP_PATH}?{query}",
            categorizer.port()
        );
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn a_block_holds_for_its_host_and_scenario_only() {
        let categorizer = Categorizer::start().await.unwrap();
        categorizer.block("WWW.example.com", "s1-a");
        let asked = [
            "host=www.example.com&scenario=s1-a",
            "host=www.example.com&scenario=s2-b",
            "host=downloads.example.net&scenario=s1-a",
            "host=www.example.com&scenario=-",
        ];
        let mut answers = Vec::new();
        for query in asked {
            answers.push(ask(&categorizer, query).await);
        }
        assert_eq!(answers[0], (200, "blocked\n".into()));
        assert_eq!(answers[1], (200, "allowed\n".into()));
        assert_eq!(answers[2], (200, "allowed\n".into()));
        assert_eq!(answers[3], (200, "allowed\n".into()));

        let www = categorizer.lookups_for("www.example.com");
        assert_eq!(www.len(), 3);
        assert_eq!(www[0].verdict, CategoryVerdict::Blocked);
        assert_eq!(www[2].scenario, None);
        let s1: Vec<String> = categorizer
            .lookups_in("s1-a")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            s1,
            [
                "lookup of www.example.com for scenario s1-a -> blocked",
                "lookup of downloads.example.net for scenario s1-a -> allowed"
            ]
        );
    }

    #[tokio::test]
    async fn a_lookup_without_a_host_is_refused_and_not_journaled() {
        let categorizer = Categorizer::start().await.unwrap();
        assert_eq!(ask(&categorizer, "scenario=s1").await.0, 400);
        assert!(categorizer.lookups_in("s1").is_empty());
    }
}
