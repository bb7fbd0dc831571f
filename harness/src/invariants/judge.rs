//! The judgement itself: every update exchange of the run, from each vantage point, against
//! every property. Pure: it reads a [`RunEvidence`] and returns [`Finding`]s, so each rule is
//! proven by unit tests on synthetic observations.

use conformance_client::{Exchange, Outcome, Scheme};
use conformance_lab::{CacheUse, ProxyFact, Vantage};
use conformance_model::{is_update_host, Property, SCENARIO_HEADER};
use mock_servers::OriginExchange;

use super::headers::{self, HeaderRole};
use super::pairing::{pair, ClientRequest};
use super::{host_of, Finding, RunEvidence};

/// Every finding of the run: violations and notes, the refusals another finding explains
/// dropped.
pub fn judge(evidence: &RunEvidence) -> Vec<Finding> {
    let scenarios = ScenarioTokens(
        evidence
            .scenarios
            .iter()
            .map(|s| s.token.as_str())
            .collect(),
    );
    let mut findings = Vec::new();
    let clients: Vec<ClientRequest<'_>> = evidence
        .scenarios
        .iter()
        .flat_map(|s| {
            s.exchanges.iter().map(|exchange| ClientRequest {
                scenario: &s.token,
                exchange,
            })
        })
        .filter(|c| is_update_host(&c.host()))
        .collect();
    for client in &clients {
        judge_client(client, &evidence.origin_leaf, &mut findings);
    }
    let origin: Vec<&OriginExchange> = evidence
        .origin
        .iter()
        .filter(|o| is_update_host(&host_of(&o.request.host)))
        .collect();
    let pairs = pair(&clients, &origin);
    for &(o, c) in &pairs.paired {
        judge_pair(origin[o], &clients[c], &mut findings);
    }
    for &o in &pairs.origin_alone {
        findings.push(judge_unasked(origin[o], &scenarios));
    }
    for &c in &pairs.client_alone {
        judge_unanswered(&clients[c], &mut findings);
    }
    judge_raw_tunnels(evidence, &mut findings);
    judge_services(evidence, &scenarios, &mut findings);
    for fact in evidence.proxy_facts.iter().flatten() {
        judge_fact(fact, &scenarios, &mut findings);
    }
    drop_explained_refusals(findings)
}

/// The run's scenario tokens, to tell which scenario a journal entry belongs to.
struct ScenarioTokens<'a>(Vec<&'a str>);

impl<'a> ScenarioTokens<'a> {
    /// The scenario a scenario header names.
    fn named(&self, header: &str) -> Option<&'a str> {
        self.0.iter().find(|t| **t == header).copied()
    }

    /// The scenario whose token `text` (a URL, a target) carries.
    fn in_text(&self, text: &str) -> Option<&'a str> {
        self.0.iter().find(|t| text.contains(**t)).copied()
    }
}

/// A request the origin received that no client of the run sent: prefetched, or a
/// revalidation of a stored copy when it is conditional.
fn judge_unasked(exchange: &OriginExchange, scenarios: &ScenarioTokens<'_>) -> Finding {
    let request = &exchange.request;
    let scenario = request
        .header(SCENARIO_HEADER)
        .and_then(|h| scenarios.named(h))
        .or_else(|| scenarios.in_text(&request.target));
    let host = host_of(&request.host);
    let what = format!(
        "{} {}{}: the origin received it, but no client of the run sent it",
        request.method, request.host, request.target
    );
    let finding = if exchange.conditionals.is_empty() {
        Finding::new(Property::Prefetch, &host, Vantage::Origin, what)
    } else {
        let conditionals: Vec<String> = exchange
            .conditionals
            .iter()
            .map(ToString::to_string)
            .collect();
        Finding::new(
            Property::Cache,
            &host,
            Vantage::Origin,
            format!(
                "{what} — a revalidation of a stored copy ({})",
                conditionals.join(", ")
            ),
        )
    };
    finding.of(scenario)
}

/// Raw CONNECT tunnels to update hosts: challenged (a 407) or refused.
fn judge_raw_tunnels(evidence: &RunEvidence, findings: &mut Vec<Finding>) {
    for record in &evidence.scenarios {
        let Some(raw) = &record.raw_tunnel else {
            continue;
        };
        let host = host_of(&raw.host);
        if !is_update_host(&host) {
            continue;
        }
        let status = raw.connect_status.split_whitespace().nth(1).unwrap_or("");
        let what = format!("CONNECT {host}:443 answered {:?}", raw.connect_status);
        if status == "407" {
            findings.push(
                Finding::new(Property::Auth, &host, Vantage::Client, what).of(Some(&record.token)),
            );
        } else if !status.starts_with('2') {
            findings.push(
                Finding::new(
                    Property::Integrity,
                    &host,
                    Vantage::Client,
                    format!("{what}: the tunnel was refused"),
                )
                .refusal()
                .of(Some(&record.token)),
            );
        }
    }
}

/// Any ICAP call or categorisation lookup about an update host.
fn judge_services(
    evidence: &RunEvidence,
    scenarios: &ScenarioTokens<'_>,
    findings: &mut Vec<Finding>,
) {
    for call in &evidence.icap {
        let host = match call.http_header("host") {
            Some(host) if !call.http_uri.contains("://") => host_of(host),
            _ => host_of(&call.http_uri),
        };
        if is_update_host(&host) {
            let scenario = call
                .http_header(SCENARIO_HEADER)
                .and_then(|h| scenarios.named(h))
                .or_else(|| scenarios.in_text(&call.http_uri));
            findings.push(
                Finding::new(
                    Property::Icap,
                    &host,
                    Vantage::Icap,
                    format!("the ICAP service received {call}"),
                )
                .of(scenario),
            );
        }
    }
    for lookup in &evidence.lookups {
        let host = host_of(&lookup.host);
        if is_update_host(&host) {
            let scenario = lookup.scenario.as_deref().and_then(|h| scenarios.named(h));
            findings.push(
                Finding::new(
                    Property::Categorize,
                    &host,
                    Vantage::Categorizer,
                    format!("the categorisation service received a {lookup}"),
                )
                .of(scenario),
            );
        }
    }
}

/// What the proxy's own log says it did to a request for an update host.
fn judge_fact(fact: &ProxyFact, scenarios: &ScenarioTokens<'_>, findings: &mut Vec<Finding>) {
    let host = host_of(&fact.url);
    if !is_update_host(&host) {
        return;
    }
    let scenario = fact
        .scenario
        .as_deref()
        .and_then(|h| scenarios.named(h))
        .or_else(|| scenarios.in_text(&fact.url));
    let mut found = |property: Property, what: &str, refusal: bool| {
        let mut finding = Finding::new(
            property,
            &host,
            Vantage::ProxyLog,
            format!(
                "{} {}: {what} (log: {})",
                fact.method,
                fact.url,
                fact.raw.trim()
            ),
        )
        .of(scenario);
        finding.refusal = refusal;
        findings.push(finding);
    };
    if fact.challenged {
        found(Property::Auth, "the proxy asked for credentials", false);
    }
    match fact.cache {
        CacheUse::Hit => found(Property::Cache, "answered from the proxy's cache", false),
        CacheUse::Revalidated => found(Property::Cache, "revalidated in the proxy's cache", false),
        CacheUse::Miss => {}
    }
    if fact.bumped || fact.is_decrypted_request() {
        found(
            Property::Tls,
            "the proxy decrypted it (TLS intercepted)",
            false,
        );
    }
    if fact.client_hello_inspected {
        found(
            Property::Protocol,
            "the proxy parsed the client's TLS ClientHello",
            false,
        );
    }
    if fact.adapted {
        found(
            Property::Icap,
            "the proxy sent it to an adaptation service",
            false,
        );
    }
    if fact.denied {
        found(Property::Integrity, "the proxy refused it", true);
    }
}

/// A refusal on a scenario and host that another property's finding explains (a 407, a
/// category block) says nothing more.
fn drop_explained_refusals(findings: Vec<Finding>) -> Vec<Finding> {
    let explained: Vec<(Option<String>, String)> = findings
        .iter()
        .filter(|f| !f.refusal && f.is_violation() && f.property != Property::Integrity)
        .map(|f| (f.scenario.clone(), f.host.clone()))
        .collect();
    findings
        .into_iter()
        .filter(|f| !f.refusal || !explained.contains(&(f.scenario.clone(), f.host.clone())))
        .collect()
}

/// What the client alone shows: a challenge, a cache's marks, a certificate not the origin's,
/// bytes that are not the file's.
fn judge_client(client: &ClientRequest<'_>, origin_leaf: &[u8], findings: &mut Vec<Finding>) {
    let exchange = client.exchange;
    let host = client.host();
    let mut found = |property: Property, what: String| {
        findings.push(
            Finding::new(
                property,
                &host,
                Vantage::Client,
                format!("{}: {what}", request_line(exchange)),
            )
            .of(Some(client.scenario)),
        );
    };
    if exchange.status() == Some(407) {
        found(
            Property::Auth,
            "the proxy answered 407 (asked for credentials)".into(),
        );
    }
    let Some(response) = exchange.response() else {
        return;
    };
    if let Some(age) = response.header("age") {
        found(
            Property::Cache,
            format!("the reply carried Age: {age} (served from a cache)"),
        );
    }
    for name in ["x-cache", "cache-status"] {
        if let Some(value) = response.header(name) {
            if value.to_ascii_lowercase().contains("hit") {
                found(
                    Property::Cache,
                    format!("the reply carried {name}: {value}"),
                );
            }
        }
    }
    if exchange.scheme == Scheme::Https {
        if let Some(leaf) = &response.leaf {
            if leaf.as_slice() != origin_leaf {
                let issuer = response.issuer.as_deref().unwrap_or("an unknown issuer");
                let what = format!(
                    "the client was shown a certificate issued by {issuer}, not the origin's own"
                );
                if response.status >= 400 {
                    // An error page shown through a bumped CONNECT: a refusal first of all.
                    findings.push(
                        Finding::new(
                            Property::Integrity,
                            &host,
                            Vantage::Client,
                            format!(
                                "{}: refused with {} inside a connection the proxy intercepted ({what})",
                                request_line(exchange),
                                response.status
                            ),
                        )
                        .refusal()
                        .of(Some(client.scenario)),
                    );
                } else {
                    found(Property::Tls, what);
                }
            }
        }
    }
}

/// Whether the client received bytes that are not the file's.
fn corrupt(exchange: &Exchange) -> bool {
    exchange.response().is_some_and(|response| {
        response.body_mismatch.is_some() || response.parts.iter().any(|p| p.mismatch.is_some())
    })
}

/// A client request and the origin request that answered it: the same Range, no conditional
/// the client did not send, every end-to-end header kept both ways, the origin's status.
fn judge_pair(origin: &OriginExchange, client: &ClientRequest<'_>, findings: &mut Vec<Finding>) {
    let exchange = client.exchange;
    let host = client.host();
    let line = request_line(exchange);
    let found = |property: Property, what: String| {
        Finding::new(property, &host, Vantage::Origin, format!("{line}: {what}"))
            .of(Some(client.scenario))
    };
    let mut sent = exchange.extra_headers.clone();
    if let Some(range) = &exchange.range {
        sent.push(("range".to_owned(), range.clone()));
    }
    for change in headers::changes(&sent, &origin.request.headers, headers::request_role) {
        let what = format!("the origin received the request altered: {change}");
        match change.role {
            HeaderRole::Serves(property) => findings.push(found(property, what)),
            HeaderRole::Informational => findings.push(found(Property::Integrity, what).note()),
            HeaderRole::NotCompared => {}
        }
    }
    for conditional in &origin.conditionals {
        let name = conditional.kind.header_name();
        if !sent.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            findings.push(found(
                Property::Cache,
                format!("the origin received {conditional}, which the client did not send: the proxy revalidated a stored copy"),
            ));
        }
    }
    if origin.request.header("proxy-authorization").is_some() {
        findings.push(found(
            Property::Auth,
            "the origin received the client's Proxy-Authorization (credentials forwarded)".into(),
        ));
    }
    if corrupt(exchange) {
        let property = if exchange.range.is_some() {
            Property::Range
        } else {
            Property::Integrity
        };
        findings.push(found(
            property,
            "the body the client received differs from the file the origin served".into(),
        ));
    }
    let Some(response) = exchange.response() else {
        return;
    };
    let origin_status = origin.request.status;
    if response.status == 407 {
        return;
    }
    if response.status != origin_status {
        let what = format!(
            "the origin answered {origin_status}, the client received {} from the proxy",
            response.status
        );
        let finding = if origin_status == 206 || exchange.range.is_some() {
            found(Property::Range, what)
        } else {
            found(Property::Integrity, what).refusal()
        };
        findings.push(finding);
        return;
    }
    for change in headers::changes(
        &origin.response_headers,
        &response.headers,
        headers::reply_role,
    ) {
        let what = format!("the client received the reply altered: {change}");
        match change.role {
            HeaderRole::Serves(property) => findings.push(found(property, what)),
            HeaderRole::Informational => findings.push(found(Property::Integrity, what).note()),
            HeaderRole::NotCompared => {}
        }
    }
}

/// A client request the origin never saw: answered by the proxy itself (from its cache, or
/// with a refusal of its own), or refused before any reply.
fn judge_unanswered(client: &ClientRequest<'_>, findings: &mut Vec<Finding>) {
    let exchange = client.exchange;
    let host = client.host();
    let line = request_line(exchange);
    let finding = match &exchange.outcome {
        Outcome::Response(response) if response.status == 407 => return,
        Outcome::TunnelRefused {
            status: Some(407), ..
        } => return,
        Outcome::Response(response)
            if (200..300).contains(&response.status) || response.status == 304 =>
        {
            if corrupt(exchange) {
                findings.push(
                    Finding::new(
                        Property::DynamicNames,
                        &host,
                        Vantage::Client,
                        format!("{line}: answered from a store with bytes that are not this client's file (another client's download)"),
                    )
                    .of(Some(client.scenario)),
                );
            }
            Finding::new(
                Property::Cache,
                &host,
                Vantage::Origin,
                format!("{line}: the client received {}, but the origin was never asked: the proxy answered from its cache", response.status),
            )
        }
        Outcome::Response(response) => Finding::new(
            Property::Integrity,
            &host,
            Vantage::Client,
            format!(
                "{line}: the proxy answered {} itself; the origin was never asked",
                response.status
            ),
        )
        .refusal(),
        Outcome::TunnelRefused { message, .. } => Finding::new(
            Property::Integrity,
            &host,
            Vantage::Client,
            format!("{line}: the proxy refused the CONNECT ({message})"),
        )
        .refusal(),
        Outcome::Closed(message) => Finding::new(
            Property::Integrity,
            &host,
            Vantage::Client,
            format!("{line}: the connection was closed without a reply ({message})"),
        )
        .refusal(),
        Outcome::Failed(message) => Finding::new(
            Property::Integrity,
            &host,
            Vantage::Client,
            format!("{line}: failed before the origin was asked ({message})"),
        )
        .refusal(),
    };
    findings.push(finding.of(Some(client.scenario)));
}

fn request_line(exchange: &Exchange) -> String {
    match &exchange.range {
        Some(range) => format!("{} {} (Range: {range})", exchange.method, exchange.url),
        None => format!("{} {}", exchange.method, exchange.url),
    }
}

#[cfg(test)]
mod tests {
    use conformance_client::{ClientResponse, Credentials};
    use conformance_lab::ProxyFact;
    use mock_servers::{
        ConditionalHeader, ConditionalKind, IcapCall, Lookup, OriginRequest, REQUEST_TOKEN_HEADER,
    };

    use super::*;
    use crate::invariants::ScenarioRecord;

    const HOST: &str = "k3x9.dl.delivery.mp.microsoft.com";
    const TARGET: &str = "/filestreamingservice/files/1f2e?P1=1&P2=2";
    const LEAF: &[u8] = b"origin leaf";

    fn response(status: u16, headers: &[(&str, &str)]) -> Outcome {
        Outcome::Response(ClientResponse {
            status,
            headers: fields(headers),
            body_len: 0,
            body_mismatch: None,
            issuer: None,
            leaf: None,
            parts: Vec::new(),
            stopped_reading: false,
        })
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn exchange(token: &str, host: &str, outcome: Outcome) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: format!("http://{host}{TARGET}"),
            scheme: Scheme::Http,
            credentials: Credentials::Without,
            range: Some("bytes=0-1048575".into()),
            extra_headers: fields(&[("user-agent", "Microsoft-Delivery-Optimization/10.0")]),
            request_token: token.into(),
            outcome,
        }
    }

    /// The origin's side of `client`, as a proxy that changes nothing forwards it.
    fn at_origin(client: &Exchange, status: u16) -> OriginExchange {
        let mut headers = client.extra_headers.clone();
        headers.push(("range".into(), client.range.clone().unwrap_or_default()));
        headers.push((REQUEST_TOKEN_HEADER.into(), client.request_token.clone()));
        headers.push(("via".into(), "1.1 proxy (squid)".into()));
        OriginExchange {
            request: OriginRequest {
                connection: 1,
                scheme: mock_servers::Scheme::Http,
                method: client.method.clone(),
                target: TARGET.into(),
                host: host_of(&client.url),
                headers,
                status,
                bytes_sent: 0,
            },
            conditionals: Vec::new(),
            request_body_bytes: None,
            file: None,
            location: None,
            response_headers: fields(&[
                ("content-range", "bytes 0-1048575/4194304"),
                ("etag", "\"e1\""),
            ]),
        }
    }

    fn run(exchanges: Vec<Exchange>, origin: Vec<OriginExchange>) -> RunEvidence {
        RunEvidence {
            scenarios: vec![ScenarioRecord {
                feature: "features/x.feature".into(),
                line: 3,
                token: "s1-aaaa".into(),
                exchanges,
                raw_tunnel: None,
                judging: None,
                blinded: None,
                kinds_policed: None,
            }],
            origin,
            origin_leaf: LEAF.to_vec(),
            ..RunEvidence::default()
        }
    }

    fn properties(findings: &[Finding]) -> Vec<Property> {
        let mut found: Vec<Property> = findings
            .iter()
            .filter(|f| f.is_violation())
            .map(|f| f.property)
            .collect();
        found.dedup();
        found
    }

    fn intact() -> (Exchange, OriginExchange) {
        let client = exchange(
            "s1-aaaa-r1",
            HOST,
            response(
                206,
                &[
                    ("content-range", "bytes 0-1048575/4194304"),
                    ("etag", "\"e1\""),
                ],
            ),
        );
        let origin = at_origin(&client, 206);
        (client, origin)
    }

    #[test]
    fn untouched_update_traffic_has_no_finding() {
        let (client, origin) = intact();
        assert_eq!(judge(&run(vec![client], vec![origin])), []);
    }

    #[test]
    fn a_challenge_is_auth_wherever_it_shows() {
        let client = exchange(
            "s1-aaaa-r1",
            HOST,
            response(407, &[("proxy-authenticate", "Negotiate")]),
        );
        let findings = judge(&run(vec![client], vec![]));
        assert_eq!(properties(&findings), [Property::Auth]);
        assert_eq!(findings[0].scenario.as_deref(), Some("s1-aaaa"));
        let refused = exchange(
            "s1-aaaa-r1",
            HOST,
            Outcome::TunnelRefused {
                status: Some(407),
                message: "407".into(),
            },
        );
        assert_eq!(
            properties(&judge(&run(vec![refused], vec![]))),
            [Property::Auth]
        );
    }

    #[test]
    fn a_reply_the_origin_never_gave_is_the_cache_or_a_refusal() {
        let (client, origin) = intact();
        let mut again = client.clone();
        again.request_token = "s1-aaaa-r2".into();
        // Two requests, one at the origin: the second was answered from a store.
        assert_eq!(
            properties(&judge(&run(vec![client.clone(), again], vec![origin]))),
            [Property::Cache]
        );
        let denied = exchange("s1-aaaa-r1", HOST, response(403, &[]));
        let findings = judge(&run(vec![denied], vec![]));
        assert_eq!(properties(&findings), [Property::Integrity]);
        assert!(findings[0].refusal);
    }

    #[test]
    fn altered_ranges_headers_and_conditionals_are_found_without_the_instrument_headers() {
        let (client, mut origin) = intact();
        // Header hardening removed the token: pairing by method, host and target still works.
        origin
            .request
            .headers
            .retain(|(n, _)| n != REQUEST_TOKEN_HEADER);
        origin.request.headers.retain(|(n, _)| n != "range");
        assert_eq!(
            properties(&judge(&run(vec![client.clone()], vec![origin.clone()]))),
            [Property::Range]
        );
        let (client, mut origin) = intact();
        origin.request.headers.retain(|(n, _)| n != "user-agent");
        assert_eq!(
            properties(&judge(&run(vec![client.clone()], vec![origin]))),
            [Property::Integrity]
        );
        let (client, mut origin) = intact();
        origin.conditionals.push(ConditionalHeader {
            kind: ConditionalKind::IfNoneMatch,
            value: "\"e1\"".into(),
        });
        assert_eq!(
            properties(&judge(&run(vec![client.clone()], vec![origin]))),
            [Property::Cache]
        );
        // The validator the origin sent never reached the client.
        let (mut client, origin) = intact();
        if let Outcome::Response(r) = &mut client.outcome {
            r.headers.retain(|(n, _)| n != "etag");
        }
        assert_eq!(
            properties(&judge(&run(vec![client], vec![origin]))),
            [Property::Range]
        );
        // A stripped correlation vector is a note, never a failure.
        let (mut client, origin) = intact();
        client.extra_headers.push(("ms-cv".into(), "abc.1".into()));
        let findings = judge(&run(vec![client], vec![origin]));
        assert_eq!(properties(&findings), []);
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn requests_no_client_sent_are_prefetch_or_revalidation() {
        let (client, origin) = intact();
        let mut extra = origin.clone();
        extra.request.target = "/filestreamingservice/files/linked.cab".into();
        extra
            .request
            .headers
            .retain(|(n, _)| n != REQUEST_TOKEN_HEADER);
        assert_eq!(
            properties(&judge(&run(
                vec![client.clone()],
                vec![origin.clone(), extra.clone()]
            ))),
            [Property::Prefetch]
        );
        extra.conditionals.push(ConditionalHeader {
            kind: ConditionalKind::IfModifiedSince,
            value: "Tue, 01 Dec 2026 00:00:00 GMT".into(),
        });
        assert_eq!(
            properties(&judge(&run(vec![client], vec![origin, extra]))),
            [Property::Cache]
        );
    }

    #[test]
    fn instruments_and_the_proxy_log_speak_for_their_property() {
        let (client, origin) = intact();
        let mut evidence = run(vec![client], vec![origin]);
        evidence.icap.push(IcapCall {
            method: "RESPMOD".into(),
            http_method: "GET".into(),
            http_uri: format!("http://{HOST}{TARGET}"),
            http_headers: Vec::new(),
            scanned_bytes: 0,
        });
        evidence.lookups.push(Lookup {
            host: HOST.into(),
            scenario: Some("s1-aaaa".into()),
            verdict: mock_servers::CategoryVerdict::Allowed,
        });
        let fact = ProxyFact {
            raw: "TCP_TUNNEL/200".into(),
            method: "CONNECT".into(),
            url: format!("{HOST}:443"),
            status: Some(200),
            denied: false,
            challenged: false,
            cache: CacheUse::Miss,
            tunnelled: false,
            client_hello_inspected: true,
            bumped: true,
            adapted: false,
            user: None,
            scenario: Some("s1-aaaa".into()),
        };
        evidence.proxy_facts = Some(vec![fact]);
        let mut found = properties(&judge(&evidence));
        found.sort();
        assert_eq!(
            found,
            [
                Property::Tls,
                Property::Icap,
                Property::Categorize,
                Property::Protocol
            ]
        );
    }

    #[test]
    fn a_certificate_not_the_origins_is_a_bump_and_other_hosts_are_not_judged() {
        let (mut client, origin) = intact();
        client.scheme = Scheme::Https;
        if let Outcome::Response(r) = &mut client.outcome {
            r.leaf = Some(b"proxy leaf".to_vec());
        }
        assert_eq!(
            properties(&judge(&run(vec![client], vec![origin]))),
            [Property::Tls]
        );
        // Controls and look-alikes are policed on purpose: never an update finding.
        let control = exchange("s1-aaaa-r1", "www.example.com", response(407, &[]));
        let look_alike = exchange(
            "s1-aaaa-r2",
            "windowsupdate.com-x1y2.example.net",
            response(403, &[]),
        );
        assert_eq!(judge(&run(vec![control, look_alike], vec![])), []);
    }
}
