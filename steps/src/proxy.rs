//! What the proxy did with the scenario's requests: whether it asked for credentials, denied
//! them or answered from its cache, judged from the client, the origin and the proxy's own
//! report of each request (neutral facts from its backend).

use conformance_model::Property;

use conformance_client::{ClientResponse, Exchange, Outcome};
use conformance_lab::{CacheUse, ProxyFact};
use cucumber::{given, then};
use mock_servers::{OriginRequest, ECHO_TOKEN_HEADER};

use crate::world::ConformanceWorld;

#[given("a refusal by the proxy counts as policing the host")]
async fn a_refusal_counts_as_policing(world: &mut ConformanceWorld) {
    world.refusal_polices = true;
}

#[then(expr = "the client receives status {int}")]
async fn the_client_receives_status(
    world: &mut ConformanceWorld,
    status: u16,
) -> Result<(), String> {
    world.checks(None);
    let exchange = world.last_exchange()?;
    if exchange.status() != Some(status) {
        return Err(world.failure(format!("status {status}"), exchange.to_string()));
    }
    Ok(())
}

#[then("the proxy did not ask for credentials")]
async fn the_proxy_did_not_ask_for_credentials(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Auth));
    if let Some((expected, actual)) = credential_problem(&world.exchanges, None, None) {
        return Err(world.failure(expected, actual));
    }
    let log = world.complete_proxy_log().await?;
    let origin = world.scenario_origin_requests();
    match credential_problem(&world.exchanges, log.as_deref(), Some(&origin)) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_proxy_did_not_ask_for_credentials,
    "a_challenge_a_user_a_leaked_credential_or_no_request_fails"
);

/// Why the scenario's requests were not all answered without a credentials challenge, if
/// they were not: from the client's side (no 407, every request answered), the proxy's log
/// (no challenge, no authenticated user; `None` when it cannot be read) and the origin's
/// journal (the requests arrived, none carried `Proxy-Authorization`; `None` to judge the
/// client's side only). No request at all is a failure, never a vacuous pass.
fn credential_problem(
    exchanges: &[Exchange],
    log: Option<&[ProxyFact]>,
    at_origin: Option<&[OriginRequest]>,
) -> Option<(String, String)> {
    if exchanges.is_empty() {
        return Some((
            "at least one request".to_owned(),
            "none was made".to_owned(),
        ));
    }
    if let Some(refused) = exchanges.iter().find(|e| e.status() == Some(407)) {
        return Some((
            "no 407 Proxy Authentication Required".to_owned(),
            refused.to_string(),
        ));
    }
    if let Some(failed) = exchanges
        .iter()
        .find(|e| matches!(e.outcome, Outcome::Failed(_) | Outcome::Closed(_)))
    {
        return Some(("every request answered".to_owned(), failed.to_string()));
    }
    if let Some(line) = log
        .into_iter()
        .flatten()
        .find(|l| l.challenged || l.user.is_some())
    {
        return Some((
            "no request challenged for credentials or logged with a user".to_owned(),
            line.to_string(),
        ));
    }
    let at_origin = at_origin?;
    if at_origin.is_empty() {
        return Some((
            "the requests to reach the origin".to_owned(),
            "the origin saw none".to_owned(),
        ));
    }
    at_origin
        .iter()
        .find(|r| r.header("proxy-authorization").is_some())
        .map(|leak| {
            (
                "no Proxy-Authorization at the origin".to_owned(),
                leak.to_string(),
            )
        })
}

#[then("the proxy asked for credentials")]
async fn the_proxy_asked_for_credentials(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Auth));
    if world.refused_as_policing().await?.is_some() {
        return Ok(());
    }
    let exchange = world.last_exchange()?;
    if !challenged(exchange) {
        return Err(world.failure(
            "407 with a Proxy-Authenticate challenge (any scheme)",
            exchange.to_string(),
        ));
    }
    let log = world.complete_proxy_log().await?;
    if log.is_some_and(|log| !log.iter().any(|l| l.challenged)) {
        return Err(world.failure("the proxy to log a credentials challenge (407)", "none"));
    }
    if !world.origin_requests()?.is_empty() {
        return Err(world.failure("nothing at the origin", "the origin saw the request"));
    }
    Ok(())
}
proven_by!(
    the_proxy_asked_for_credentials,
    "a_challenge_of_any_scheme_counts_and_a_bare_407_or_other_status_does_not"
);

/// Whether the proxy challenged the client for credentials: a 407 with a `Proxy-Authenticate`
/// challenge of any scheme (Basic, Negotiate, NTLM, Digest …), or a CONNECT refused with 407.
fn challenged(exchange: &Exchange) -> bool {
    match &exchange.outcome {
        Outcome::Response(r) => {
            r.status == 407
                && r.header("proxy-authenticate")
                    .is_some_and(|v| !v.trim().is_empty())
        }
        Outcome::TunnelRefused { status, .. } => *status == Some(407),
        Outcome::Closed(_) | Outcome::Failed(_) => false,
    }
}

#[then("the proxy denied the request")]
async fn the_proxy_denied_the_request(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Categorize));
    let exchange = world.last_exchange()?.clone();
    if refusal(&exchange, None).is_some() {
        return Ok(());
    }
    // The client saw no refusal of its own kind (a block page served as 200, say): the proxy's
    // own report may still show the denial.
    let log = world
        .proxy_log_until(|lines| lines.iter().any(|l| l.denied))
        .await?;
    if refusal(&exchange, log.as_deref()).is_none() {
        return Err(world.failure(
            "a refusal by the proxy: 403, 451 or 511, a redirect off the requested host, a \
             refused CONNECT, a connection closed without a response, or a denial in its log",
            exchange.to_string(),
        ));
    }
    Ok(())
}
proven_by!(
    the_proxy_denied_the_request,
    "a_response_from_the_origin_or_a_redirect_to_its_own_host_is_not_a_denial"
);

/// How the proxy refused `exchange`, if the evidence shows it did. A response the origin
/// answered (it carries the origin's echoed token) is never a refusal. Otherwise: 403, 451 or
/// 511; a redirect (3xx) whose `Location` is on another host than the one requested (a block
/// page); a CONNECT refused with anything but 407; a connection reset or closed without a
/// response; or, when the proxy's log is visible (`log`), a fact of it marked denied. A
/// credentials challenge is not a refusal.
pub(crate) fn refusal(exchange: &Exchange, log: Option<&[ProxyFact]>) -> Option<String> {
    if answered_by_origin(exchange) {
        return None;
    }
    let from_client = match &exchange.outcome {
        Outcome::Response(r) if matches!(r.status, 403 | 451 | 511) => {
            Some(format!("answered {}", r.status))
        }
        Outcome::Response(r) if (300..400).contains(&r.status) => r
            .header("location")
            .filter(|location| redirects_off(&exchange.url, location))
            .map(|location| format!("redirected to {location}")),
        Outcome::Response(_) => None,
        Outcome::TunnelRefused { status, .. } => {
            (*status != Some(407)).then(|| "refused the CONNECT".to_owned())
        }
        Outcome::Closed(_) => Some("closed the connection without a response".to_owned()),
        Outcome::Failed(_) => None,
    };
    from_client.or_else(|| {
        log.into_iter()
            .flatten()
            .find(|fact| fact.denied && !fact.challenged)
            .map(|fact| format!("logged a denial: {fact}"))
    })
}

/// Whether the origin answered `exchange` (its reply carries the origin's echoed token).
pub(crate) fn answered_by_origin(exchange: &Exchange) -> bool {
    exchange
        .response()
        .is_some_and(|r| r.header(ECHO_TOKEN_HEADER).is_some())
}

/// Whether `location` (absolute, or relative to `requested`) names another host than
/// `requested`'s.
fn redirects_off(requested: &str, location: &str) -> bool {
    let Ok(requested) = reqwest::Url::parse(requested) else {
        return false;
    };
    let Ok(target) = requested.join(location) else {
        return false;
    };
    match (requested.host_str(), target.host_str()) {
        (Some(from), Some(to)) => !from.eq_ignore_ascii_case(to),
        _ => false,
    }
}

#[then("no response came from the proxy's cache")]
async fn no_response_came_from_the_cache(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Cache));
    if world.exchanges.len() < 2 {
        return Err(world.failure(
            "at least two requests for the same URL",
            format!("{}", world.exchanges.len()),
        ));
    }
    // Header hardening takes the echoed token away: the check then judges by the cache's
    // marks, the proxy's log and the origin's count, which need no instrument.
    let stripped = world.instrument_headers_stripped();
    for exchange in &world.exchanges {
        let Some(response) = exchange.response() else {
            return Err(world.failure("a response", exchange.to_string()));
        };
        if let Some(signal) = cache_signal(exchange, response, !stripped) {
            return Err(world.failure(
                "a response fresh from the origin",
                format!("{signal}: {exchange}"),
            ));
        }
    }
    let log = world.complete_proxy_log().await?;
    if let Some(hit) = log.iter().flatten().find(|l| l.cache != CacheUse::Miss) {
        return Err(world.failure(
            "no request served from or revalidated in the proxy's cache",
            hit.to_string(),
        ));
    }
    let origin = world.origin_requests()?;
    let sent: Vec<(&str, Vec<String>)> = world
        .exchanges
        .iter()
        .map(|e| {
            let names = e.extra_headers.iter().map(|(name, _)| name.clone());
            (e.request_token.as_str(), names.collect())
        })
        .collect();
    if let Some((request, conditional)) =
        crate::files::revalidations_not_sent_by_the_client(&origin, &sent).first()
    {
        return Err(world.failure(
            "no conditional request at the origin that the client did not send",
            format!("the proxy revalidated a stored copy ({conditional}): {request}"),
        ));
    }
    let at_origin = origin.len();
    if at_origin != world.exchanges.len() {
        return Err(world.failure(
            format!(
                "{} requests at the origin (one per client request)",
                world.exchanges.len()
            ),
            format!("{at_origin}"),
        ));
    }
    Ok(())
}
proven_by!(
    no_response_came_from_the_cache,
    "a_conditional_request_the_client_did_not_send_is_a_revalidation"
);

#[then("at least one of them came from the proxy's cache the second time")]
async fn at_least_one_of_them_came_from_the_cache(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Cache));
    let log = world.complete_proxy_log().await?;
    let mut seen = Vec::new();
    for object in world.control_objects()? {
        let asked = world.exchanges_for(&object);
        let Some(&last) = asked.last() else {
            continue;
        };
        let target = object.served.target.as_str();
        let concerns = |fact: &ProxyFact| fact.url.ends_with(target);
        let evidence = CacheEvidence {
            requests: asked.len(),
            refused: world
                .refusal_as_policing(last, |fact| concerns(fact) || fact.is_connect())
                .await?
                .is_some(),
            client: last.response().and_then(|r| cache_signal(last, r, true)),
            logged_hit: log
                .as_ref()
                .map(|log| log.iter().any(|f| concerns(f) && f.cache == CacheUse::Hit)),
            at_origin: world.origin_requests_for_object(&object).len(),
        };
        seen.push((object.kind, evidence.served_from_cache()));
    }
    world.hold_control_on(
        Property::Cache,
        &seen,
        "the second response from the proxy's cache (a cache hit to the client and in the \
         proxy's log, one request at the origin)",
    )
}
proven_by!(
    at_least_one_of_them_came_from_the_cache,
    "a_kind_counts_as_cached_only_when_every_vantage_point_shows_the_hit"
);

/// What each vantage point saw of a control object the client asked for twice.
#[derive(Debug, Clone, Default)]
struct CacheEvidence {
    /// How many times the client asked for it.
    requests: usize,
    /// The proxy refused it, and the scenario counts a refusal as policing (a look-alike).
    refused: bool,
    /// Why the client's last response looks served from a cache, if it does.
    client: Option<String>,
    /// Whether the proxy logged a hit for it (`None`: its log cannot be read).
    logged_hit: Option<bool>,
    /// Requests for it at the origin.
    at_origin: usize,
}

impl CacheEvidence {
    /// Whether the object's second response came from the proxy's cache: the client saw a
    /// cache hit, the proxy logged one (when its log can be read) and the origin was asked
    /// once. An object asked for once cannot show it.
    fn served_from_cache(&self) -> bool {
        self.refused
            || (self.requests >= 2
                && self.client.is_some()
                && self.logged_hit != Some(false)
                && self.at_origin == 1)
    }
}

/// Why a response looks like it came from a cache, if it does.
fn cache_signal(
    exchange: &Exchange,
    response: &ClientResponse,
    echo_expected: bool,
) -> Option<String> {
    let asked_conditionally = exchange
        .extra_headers
        .iter()
        .any(|(name, _)| name.to_ascii_lowercase().starts_with("if-"));
    if response.status == 304 && !asked_conditionally {
        return Some("304 Not Modified although the client sent no conditional request".into());
    }
    if let Some(age) = response.header("age") {
        return Some(format!("Age: {age}"));
    }
    for name in ["x-cache", "cache-status"] {
        if let Some(value) = response
            .header(name)
            .filter(|v| v.to_ascii_uppercase().contains("HIT"))
        {
            return Some(format!("{name}: {value}"));
        }
    }
    match response.header(mock_servers::ECHO_TOKEN_HEADER) {
        _ if !echo_expected => None,
        Some(echo) if echo == exchange.request_token => None,
        Some(echo) => Some(format!("echoed token {echo} belongs to another request")),
        None => Some("the origin's echoed token is missing".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use conformance_client::Outcome;

    use super::{challenged, credential_problem, refusal, CacheEvidence};
    use crate::fixtures::{exchange, origin_request, proxy_fact};

    /// An answer made by the proxy (no echoed token from the origin), with `headers`.
    fn proxy_answer(status: u16, headers: &[(&str, &str)]) -> conformance_client::Exchange {
        let mut answer = exchange("s1-r1", status);
        answer.url = "http://www.example.com/s1/page".into();
        if let Outcome::Response(r) = &mut answer.outcome {
            r.headers = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
        }
        answer
    }

    #[test]
    fn a_kind_counts_as_cached_only_when_every_vantage_point_shows_the_hit() {
        use crate::control_objects::{control_problem, kinds_policed};
        use conformance_model::{ObjectKind, Property};
        let hit = CacheEvidence {
            requests: 2,
            refused: false,
            client: Some("Age: 3".into()),
            logged_hit: Some(true),
            at_origin: 1,
        };
        assert!(hit.served_from_cache());
        assert!(CacheEvidence {
            logged_hit: None,
            ..hit.clone()
        }
        .served_from_cache());
        for missed in [
            CacheEvidence {
                client: None,
                ..hit.clone()
            },
            CacheEvidence {
                logged_hit: Some(false),
                ..hit.clone()
            },
            CacheEvidence {
                at_origin: 2,
                ..hit.clone()
            },
            CacheEvidence {
                requests: 1,
                ..hit.clone()
            },
        ] {
            assert!(!missed.served_from_cache(), "{missed:?}");
        }
        let refused = CacheEvidence {
            refused: true,
            ..CacheEvidence::default()
        };
        assert!(refused.served_from_cache());
        // A cache for software downloads: the executable and the archive hit, nothing else.
        let seen: Vec<_> = ObjectKind::ALL
            .into_iter()
            .map(|kind| {
                let cached = matches!(kind, ObjectKind::Executable | ObjectKind::Archive);
                let evidence = if cached {
                    hit.clone()
                } else {
                    CacheEvidence {
                        at_origin: 2,
                        ..hit.clone()
                    }
                };
                (kind, evidence.served_from_cache())
            })
            .collect();
        assert!(control_problem(kinds_policed(Property::Cache, &seen).as_ref(), "a hit").is_none());
        let none: Vec<_> = seen.iter().map(|(kind, _)| (*kind, false)).collect();
        assert!(control_problem(kinds_policed(Property::Cache, &none).as_ref(), "a hit").is_some());
        assert!(control_problem(kinds_policed(Property::Cache, &[]).as_ref(), "a hit").is_some());
    }

    #[test]
    fn a_response_from_the_origin_or_a_redirect_to_its_own_host_is_not_a_denial() {
        for status in [403, 451, 511] {
            assert!(
                refusal(&proxy_answer(status, &[]), None).is_some(),
                "{status}"
            );
        }
        let block_page = [("Location", "http://blockpage.example.org/blocked?url=x")];
        assert!(refusal(&proxy_answer(302, &block_page), None).is_some());
        let served_block_page = [("Location", "http://downloads.example.net/blocked")];
        assert!(refusal(&proxy_answer(307, &served_block_page), None).is_some());
        let mut reset = proxy_answer(200, &[]);
        reset.outcome = Outcome::Closed("connection reset by peer".into());
        assert!(refusal(&reset, None).is_some());
        let mut connect_refused = proxy_answer(200, &[]);
        connect_refused.outcome = Outcome::TunnelRefused {
            status: None,
            message: "tunnel error: unsuccessful".into(),
        };
        assert!(refusal(&connect_refused, None).is_some());
        let mut denied = proxy_fact("GET", "http://www.example.com/s1/page");
        denied.denied = true;
        let block_page_200 = proxy_answer(200, &[]);
        assert!(refusal(&block_page_200, None).is_none());
        assert!(refusal(&block_page_200, Some(&[denied.clone()])).is_some());

        // The origin answered: whatever the status, the proxy let the request through.
        assert!(refusal(&exchange("s1-r1", 200), None).is_none());
        assert!(refusal(&exchange("s1-r1", 403), None).is_none());
        assert!(refusal(&exchange("s1-r1", 200), Some(&[denied])).is_none());
        // A redirect on the requested host is the site's own, not a block page.
        let same_host = [("Location", "http://www.example.com/elsewhere")];
        assert!(refusal(&proxy_answer(302, &same_host), None).is_none());
        assert!(refusal(&proxy_answer(302, &[("Location", "/elsewhere")]), None).is_none());
        assert!(refusal(&proxy_answer(302, &[]), None).is_none());
        // A challenge, a timeout or a plain miss in the log is no denial.
        let mut challenge = connect_refused.clone();
        challenge.outcome = Outcome::TunnelRefused {
            status: Some(407),
            message: "tunnel error: proxy authorization required".into(),
        };
        assert!(refusal(&challenge, None).is_none());
        let mut timed_out = proxy_answer(200, &[]);
        timed_out.outcome = Outcome::Failed("operation timed out".into());
        let passed = proxy_fact("GET", "http://www.example.com/s1/page");
        assert!(refusal(&timed_out, Some(&[passed])).is_none());
        let mut challenged_fact = proxy_fact("GET", "http://www.example.com/s1/page");
        challenged_fact.denied = true;
        challenged_fact.challenged = true;
        assert!(refusal(&proxy_answer(407, &[]), Some(&[challenged_fact])).is_none());
    }

    #[test]
    fn a_challenge_of_any_scheme_counts_and_a_bare_407_or_other_status_does_not() {
        for scheme in [
            "Basic realm=\"lab\"",
            "Negotiate",
            "NTLM",
            "Digest realm=\"x\"",
        ] {
            let answer = proxy_answer(407, &[("Proxy-Authenticate", scheme)]);
            assert!(challenged(&answer), "{scheme}");
        }
        assert!(!challenged(&proxy_answer(407, &[])));
        assert!(!challenged(&proxy_answer(
            403,
            &[("Proxy-Authenticate", "Basic")]
        )));
        assert!(!challenged(&exchange("s1-r1", 200)));
        let mut refused = exchange("s1-r1", 200);
        refused.outcome = Outcome::TunnelRefused {
            status: Some(407),
            message: "tunnel error: proxy authorization required".into(),
        };
        assert!(challenged(&refused));
    }

    #[test]
    fn a_challenge_a_user_a_leaked_credential_or_no_request_fails() {
        let answered = [exchange("s1-r1", 200)];
        let passed = [proxy_fact(
            "GET",
            "http://download.windowsupdate.com/s1/kb.cab",
        )];
        let at_origin = [origin_request("/s1/kb.cab", "s1-r1")];
        assert!(credential_problem(&answered, Some(&passed), Some(&at_origin)).is_none());
        assert!(credential_problem(&answered, None, Some(&at_origin)).is_none());

        assert!(credential_problem(&[], None, None).is_some());
        assert!(credential_problem(&[exchange("s1-r1", 407)], None, None).is_some());
        let mut refused_tunnel = exchange("s1-r1", 200);
        refused_tunnel.outcome = Outcome::Failed("connection reset".into());
        assert!(credential_problem(&[refused_tunnel], None, None).is_some());

        let mut challenged = passed[0].clone();
        challenged.challenged = true;
        assert!(credential_problem(&answered, Some(&[challenged]), Some(&at_origin)).is_some());
        let mut authenticated = passed[0].clone();
        authenticated.user = Some("lab".into());
        assert!(credential_problem(&answered, Some(&[authenticated]), Some(&at_origin)).is_some());

        assert!(credential_problem(&answered, Some(&passed), Some(&[])).is_some());
        let mut leaked = at_origin[0].clone();
        leaked
            .headers
            .push(("Proxy-Authorization".into(), "Basic bGFiOmxhYg==".into()));
        assert!(credential_problem(&answered, Some(&passed), Some(&[leaked])).is_some());
    }
}
