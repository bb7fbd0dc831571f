//! What the lab's Squid did with one generated request, read from every vantage point the lab
//! has: the client (status, certificate issuer), the proxy's log as neutral facts (denied,
//! challenged, served from cache, tunnelled, bumped), the ICAP recorder (REQMOD, RESPMOD) and
//! the categorisation service (lookups).
//!
//! A case is up to three requests, each with a scenario token of its own: one without
//! credentials (denied? challenged?), the same with the lab's credentials when it was
//! challenged, then a repeat (served from the cache?).

use std::fmt;
use std::time::Duration;

use conformance_client::{ClientProfile, Credentials, Exchange, Fetch, Outcome, Scheme};
use conformance_lab::{CacheUse, Lab, ProxyFact};
use mock_servers::UpdateOrigin;

/// How long the proxy may take to log a finished request.
const LOG_WAIT: Duration = Duration::from_secs(3);

/// What the proxy decided for one case; `None` where the lab cannot see it (caching and
/// adaptation inside a tunnel it did not decrypt, anything after a refusal).
#[derive(Debug, Default)]
pub struct Observed {
    pub denied: bool,
    pub challenged: bool,
    pub categorized: bool,
    pub bumped: Option<bool>,
    pub cached: Option<bool>,
    pub reqmod: Option<bool>,
    pub respmod: Option<bool>,
    /// Evidence: each request's outcome and log lines, the ICAP calls and lookups.
    pub evidence: Vec<String>,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.evidence {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

/// The path a case requests: a cacheable generated file whose path names the case.
pub fn target(case: &str) -> String {
    UpdateOrigin::update_path(2048, &format!("{case}/payload.cab"))
}

async fn send(lab: &Lab, token: &str, url: &str, tls: bool, credentials: Credentials) -> Exchange {
    Fetch {
        proxy: &lab.proxy_endpoint(),
        scenario: token,
        method: reqwest::Method::GET,
        url: url.to_owned(),
        scheme: if tls { Scheme::Https } else { Scheme::Http },
        credentials,
        range: None,
        extra_headers: vec![ClientProfile::standing_for(credentials).user_agent_header()],
        payload: None,
        read_limit: None,
        body: None,
    }
    .send()
    .await
}

/// The log lines of `token`, once the request it names is logged: over HTTPS the CONNECT
/// (logged when a tunnel closes, or as soon as it is bumped) and, when it was bumped, the
/// decrypted request after it.
async fn facts(lab: &Lab, token: &str, tls: bool) -> Vec<ProxyFact> {
    let log = lab.proxy_log().expect("the bundled lab has a proxy log");
    let logged = |facts: &[ProxyFact]| {
        let request = facts.iter().any(|f| !f.is_connect());
        if !tls {
            return request;
        }
        let connect = facts.iter().find(|f| f.is_connect());
        connect.is_some_and(|c| !c.bumped || request)
    };
    let deadline = tokio::time::Instant::now() + LOG_WAIT;
    loop {
        let found = log.facts_for(token);
        if logged(&found) || tokio::time::Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn describe(exchange: &Exchange) -> String {
    let outcome = match &exchange.outcome {
        Outcome::Response(response) => format!(
            "{} (issuer {})",
            response.status,
            response.issuer.as_deref().unwrap_or("-")
        ),
        Outcome::TunnelRefused { status, message } => {
            format!("tunnel refused {status:?}: {message}")
        }
        Outcome::Closed(message) => format!("closed without a response: {message}"),
        Outcome::Failed(message) => format!("failed: {message}"),
    };
    format!(
        "{} {} ({:?}) -> {outcome}",
        exchange.method, exchange.url, exchange.credentials
    )
}

/// Sends the case's requests for `url` and reads what the proxy did.
pub async fn observe(lab: &Lab, case: &str, url: &str, tls: bool) -> Observed {
    let mut observed = Observed::default();
    let mut tokens = Vec::new();
    let mut served: Option<(String, Credentials)> = None;
    for (suffix, credentials) in [("a", Credentials::Without), ("b", Credentials::Presented)] {
        let token = format!("{case}{suffix}");
        let exchange = send(lab, &token, url, tls, credentials).await;
        let found = facts(lab, &token, tls).await;
        observed.evidence.push(describe(&exchange));
        observed
            .evidence
            .extend(found.iter().map(|f| format!("  log: {}", f.raw)));
        tokens.push(token.clone());
        let challenged = found.iter().any(|f| f.challenged);
        let denied = found.iter().any(|f| f.denied);
        if credentials == Credentials::Without {
            observed.challenged = challenged;
        }
        observed.denied |= denied;
        if denied || challenged {
            if denied {
                break;
            }
            continue;
        }
        if exchange.response().is_some() {
            if tls {
                observed.bumped = Some(found.iter().any(|f| f.bumped));
            }
            served = Some((token, credentials));
        }
        break;
    }
    if let Some((first, credentials)) = &served {
        let decrypted = !tls || observed.bumped == Some(true);
        if decrypted {
            let token = format!("{case}c");
            let exchange = send(lab, &token, url, tls, *credentials).await;
            let found = facts(lab, &token, tls).await;
            observed.evidence.push(describe(&exchange));
            observed
                .evidence
                .extend(found.iter().map(|f| format!("  log: {}", f.raw)));
            observed.cached = Some(
                found
                    .iter()
                    .filter(|f| !f.is_connect())
                    .any(|f| f.cache != CacheUse::Miss),
            );
            tokens.push(token);
            let calls = lab.icap().calls_for(first);
            observed.reqmod = Some(calls.iter().any(|c| c.method == "REQMOD"));
            observed.respmod = Some(calls.iter().any(|c| c.method == "RESPMOD"));
            observed.evidence.extend(
                calls
                    .iter()
                    .map(|c| format!("  icap: {} {} {}", c.method, c.http_method, c.http_uri)),
            );
        }
    }
    for token in &tokens {
        let lookups = lab.categorizer().lookups_in(token);
        observed.categorized |= !lookups.is_empty();
        observed
            .evidence
            .extend(lookups.iter().map(|l| format!("  categoriser: {l}")));
    }
    observed
}
