//! The origin side of a scenario: what it serves (generated update files under per-client
//! names, scripted cacheable pages) and what it saw (request counts, Range headers, bytes
//! sent), and the integrity of what the client received.

use conformance_model::Property;
use cucumber::{given, then};
use mock_servers::{OriginRequest, UpdateOrigin, REQUEST_TOKEN_HEADER};
use wiremock::ResponseTemplate;

use crate::parameters::{Resource, Size};
use crate::world::{ConformanceWorld, Served};

#[given("the lab proxy enforces the policy under test")]
async fn the_lab_proxy_enforces_the_policy(world: &mut ConformanceWorld) -> Result<(), String> {
    let policy = world.lab.policy();
    if policy.text().trim().is_empty() {
        return Err(format!(
            "the lab runs an empty policy ({})",
            policy.path().display()
        ));
    }
    Ok(())
}

#[given(expr = "{string} serves a {size} update file under a per-client name")]
async fn serves_an_update_file(
    world: &mut ConformanceWorld,
    host: String,
    size: Size,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    let client_token = format!("{:016x}", rand::random::<u64>());
    let name = format!(
        "{}/windows10.0-kb5031356-x64_{client_token}.psf",
        world.token
    );
    world.served = Some(Served {
        resource: Resource::File,
        host,
        target: UpdateOrigin::update_path(size.0, &name),
        size: size.0,
        payload: None,
    });
    Ok(())
}

#[given(expr = "{string} serves a cacheable page")]
async fn serves_a_cacheable_page(world: &mut ConformanceWorld, host: String) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    let target = format!("/pages/{}/index.html", world.token);
    let page = ResponseTemplate::new(200)
        .insert_header("cache-control", "public, max-age=3600")
        .insert_header("last-modified", "Tue, 10 Oct 2023 17:00:00 GMT")
        .insert_header("content-type", "text/html")
        .set_body_string(format!(
            "<html><body>control page {}</body></html>",
            world.token
        ));
    world.serve_page(host, target, page).await;
    Ok(())
}

#[given(expr = "{string} serves an update page that links {int} other objects")]
async fn serves_a_page_that_links(
    world: &mut ConformanceWorld,
    host: String,
    objects: usize,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    let directory = format!("/pages/{}", world.token);
    let links: Vec<String> = (1..=objects)
        .map(|n| format!("{directory}/windows10.0-kb50313{n:02}-x64.cab"))
        .collect();
    for link in &links {
        let object = ResponseTemplate::new(200)
            .insert_header("cache-control", "public, max-age=3600")
            .insert_header("content-type", "application/vnd.ms-cab-compressed")
            .set_body_bytes(vec![0x4d; 4096]);
        world.mount(link, object).await;
    }
    let body: String = links
        .iter()
        .map(|l| format!("<a href=\"http://{host}{l}\">{l}</a><img src=\"{l}\">\n"))
        .collect();
    let page = ResponseTemplate::new(200)
        .insert_header("content-type", "text/html")
        .set_body_string(format!("<html><body>\n{body}</body></html>"));
    world.linked = links;
    world
        .serve_page(host, format!("{directory}/index.html"), page)
        .await;
    Ok(())
}

#[then(expr = "the origin received {int} request(s) for that {resource}")]
async fn the_origin_received_n_requests(
    world: &mut ConformanceWorld,
    count: usize,
    _resource: Resource,
) -> Result<(), String> {
    world.checks(Some(Property::Cache));
    let requests = world.origin_requests()?;
    match request_count_problem(&requests, count) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_origin_received_n_requests,
    "a_request_count_other_than_expected_fails"
);

/// Why the origin did not see exactly `count` requests for the resource, if it did not.
fn request_count_problem(requests: &[OriginRequest], count: usize) -> Option<(String, String)> {
    (requests.len() != count).then(|| {
        let seen: Vec<String> = requests.iter().map(ToString::to_string).collect();
        (
            format!("{count} request(s) at the origin"),
            format!("{} request(s): [{}]", requests.len(), seen.join("; ")),
        )
    })
}

#[then("every response carried the file's exact bytes")]
async fn every_response_carried_the_exact_bytes(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(None);
    let served = world.served()?;
    if world.exchanges.is_empty() {
        return Err(world.failure("at least one download", "none was made"));
    }
    for exchange in &world.exchanges {
        if !exchange.delivered_whole_file(served.size) {
            return Err(world.failure(
                format!("200 with the whole {}-byte file", served.size),
                exchange.to_string(),
            ));
        }
    }
    Ok(())
}

#[then("the origin saw only the requests the client sent")]
async fn the_origin_saw_only_the_clients_requests(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Prefetch));
    // Wait until the proxy is done with everything the client sent, then compare.
    world.every_request_reached_the_proxy().await?;
    let at_origin = world.scenario_origin_requests();
    if at_origin.is_empty() {
        return Err(world.failure("the client's requests at the origin", "none"));
    }
    let sent: Vec<&str> = world
        .exchanges
        .iter()
        .map(|e| e.request_token.as_str())
        .collect();
    let targets: Vec<String> = world
        .exchanges
        .iter()
        .filter_map(|e| reqwest::Url::parse(&e.url).ok())
        .map(|url| crate::client::origin_target(&url))
        .collect();
    let unrequested: Vec<String> = not_sent_by_the_client(&at_origin, &sent, &targets)
        .map(ToString::to_string)
        .collect();
    if !unrequested.is_empty() || at_origin.len() != sent.len() {
        return Err(world.failure(
            format!(
                "exactly the client's {} request(s) at the origin",
                sent.len()
            ),
            format!(
                "{} request(s); not sent by the client: {unrequested:?}",
                at_origin.len()
            ),
        ));
    }
    Ok(())
}
proven_by!(
    the_origin_saw_only_the_clients_requests,
    "a_prefetched_object_is_reported"
);

/// Origin requests that carry none of the client's request tokens: the proxy made them up.
fn not_sent_by_the_client<'a>(
    at_origin: &'a [OriginRequest],
    sent_tokens: &'a [&str],
    sent_targets: &'a [String],
) -> impl Iterator<Item = &'a OriginRequest> {
    // Header hardening strips every token: a request is then the client's when the client
    // asked for its URL (one per URL: the count is compared apart).
    let hardened = at_origin
        .iter()
        .all(|r| r.header(REQUEST_TOKEN_HEADER).is_none());
    at_origin
        .iter()
        .filter(move |r| match r.header(REQUEST_TOKEN_HEADER) {
            Some(token) => !sent_tokens.contains(&token),
            None => !(hardened && sent_targets.contains(&r.target)),
        })
}

/// Conditional requests at the origin that the client did not send: a cache revalidating a
/// stored copy (`If-None-Match`, `If-Modified-Since` … added by the proxy), which is caching
/// even when every response is fresh. `sent` pairs each client request token with the names
/// of the headers that client sent.
pub(crate) fn revalidations_not_sent_by_the_client<'a>(
    at_origin: &'a [OriginRequest],
    sent: &[(&str, Vec<String>)],
) -> Vec<(&'a OriginRequest, String)> {
    at_origin
        .iter()
        .filter_map(|request| {
            // Without the request token (header hardening) the request could be any of the
            // client's: a conditional any of them sent is the client's own.
            let all_sent: Vec<String> = sent.iter().flat_map(|(_, h)| h.iter().cloned()).collect();
            let client_headers = match request
                .header(REQUEST_TOKEN_HEADER)
                .and_then(|token| sent.iter().find(|(sent_token, _)| *sent_token == token))
            {
                Some((_, headers)) => headers.as_slice(),
                None if request.header(REQUEST_TOKEN_HEADER).is_none() => all_sent.as_slice(),
                None => &[],
            };
            request
                .conditional_headers()
                .into_iter()
                .find(|conditional| {
                    !client_headers
                        .iter()
                        .any(|name| name.eq_ignore_ascii_case(conditional.kind.header_name()))
                })
                .map(|conditional| (request, conditional.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use mock_servers::{OriginRequest, Scheme, REQUEST_TOKEN_HEADER};

    use super::{
        not_sent_by_the_client, request_count_problem, revalidations_not_sent_by_the_client,
    };
    use crate::fixtures::origin_request;

    #[test]
    fn a_conditional_request_the_client_did_not_send_is_a_revalidation() {
        let mut revalidated = request("/updates/1/s1/kb.cab", Some("s1-r2"));
        revalidated
            .headers
            .push(("if-none-match".into(), "\"abc\"".into()));
        let mut clients_own = request("/ctl/authrootstl.cab", Some("s1-r3"));
        clients_own.headers.push((
            "If-Modified-Since".into(),
            "Tue, 10 Oct 2023 17:00:00 GMT".into(),
        ));
        let plain = request("/updates/1/s1/kb.cab", Some("s1-r1"));
        let at_origin = [plain, revalidated, clients_own];
        let sent = [
            ("s1-r1", Vec::new()),
            ("s1-r2", Vec::new()),
            ("s1-r3", vec!["if-modified-since".to_owned()]),
        ];
        let found = revalidations_not_sent_by_the_client(&at_origin, &sent);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.to_ascii_lowercase().contains("if-none-match"));
        assert!(revalidations_not_sent_by_the_client(&at_origin[2..], &sent).is_empty());
    }

    fn request(target: &str, token: Option<&str>) -> OriginRequest {
        OriginRequest {
            connection: 1,
            scheme: Scheme::Http,
            method: "GET".into(),
            target: target.into(),
            host: "www.windowsupdate.com".into(),
            headers: token
                .map(|t| vec![(REQUEST_TOKEN_HEADER.to_owned(), t.to_owned())])
                .unwrap_or_default(),
            status: 200,
            bytes_sent: 0,
        }
    }

    #[test]
    fn a_request_count_other_than_expected_fails() {
        let once = [origin_request("/updates/1/s1/kb.cab", "s1-r1")];
        assert!(request_count_problem(&once, 1).is_none());
        assert!(request_count_problem(&[], 1).is_some());
        let twice = [
            once[0].clone(),
            origin_request("/updates/1/s1/kb.cab", "s1-r2"),
        ];
        let (_, actual) = request_count_problem(&twice, 1).unwrap();
        assert!(actual.starts_with("2 request(s)"), "{actual}");
    }

    #[test]
    fn a_prefetched_object_is_reported() {
        let at_origin = [
            request("/pages/s1/index.html", Some("s1-r1")),
            request("/pages/s1/a.cab", Some("s1-r2")),
            request("/pages/s1/b.cab", None),
        ];
        let targets = [
            "/pages/s1/index.html".to_owned(),
            "/pages/s1/a.cab".to_owned(),
        ];
        let flagged: Vec<_> =
            not_sent_by_the_client(&at_origin, &["s1-r1", "s1-r2"], &targets).collect();
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].target, "/pages/s1/b.cab");
        // Every token stripped: the client's own URLs are its requests, the linked one is not.
        let hardened = [
            request("/pages/s1/index.html", None),
            request("/pages/s1/b.cab", None),
        ];
        let flagged: Vec<_> = not_sent_by_the_client(&hardened, &["s1-r1"], &targets).collect();
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].target, "/pages/s1/b.cab");
    }

    #[test]
    fn only_the_clients_requests_pass() {
        let at_origin = [request("/pages/s1/index.html", Some("s1-r1"))];
        assert_eq!(
            not_sent_by_the_client(&at_origin, &["s1-r1"], &[]).count(),
            0
        );
    }
}
