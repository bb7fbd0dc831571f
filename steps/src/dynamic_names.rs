//! Dynamic names: update files tailored per client (sizes and contents differ, as with
//! service packs) under per-client URLs. Each client must get exactly its own bytes, from the
//! origin, never another client's download out of a cache.

use conformance_client::Exchange;
use conformance_model::Property;
use cucumber::{given, then, when};
use mock_servers::{OriginRequest, UpdateOrigin, ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER};

use crate::client::Ask;
use crate::parameters::{Resource, Scheme};
use crate::world::{ConformanceWorld, Served};

/// Every client asks for a file of this name; only the per-client token in the URL differs.
const TAILORED_FILE_NAME: &str = "windows10.0-kb5031356-x64.psf";

#[given(expr = "{string} serves each of {int} clients its own tailored update file")]
async fn serves_tailored_files(
    world: &mut ConformanceWorld,
    host: String,
    clients: usize,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    if clients < 2 {
        return Err("dynamic names need at least 2 clients".to_owned());
    }
    world.tailored = (0..clients)
        .map(|client| {
            let size = 96 * 1024 + client as u64 * 7919;
            let client_token = format!("client{client}-{:012x}", rand::random::<u64>() >> 16);
            let name = format!("{}/{client_token}/{TAILORED_FILE_NAME}", world.token);
            let served = Served {
                resource: Resource::File,
                host: host.clone(),
                target: UpdateOrigin::update_path(size, &name),
                size,
                payload: None,
            };
            (served, None)
        })
        .collect();
    Ok(())
}

#[when(expr = "every client downloads its own file over {scheme}, one after the other")]
async fn every_client_downloads(
    world: &mut ConformanceWorld,
    scheme: Scheme,
) -> Result<(), String> {
    if world.tailored.is_empty() {
        return Err("no tailored files were set up: add the Given step first".to_owned());
    }
    for index in 0..world.tailored.len() {
        let served = world.tailored[index].0.clone();
        let exchange = world.fetch_served(&served, Ask::bits(scheme)).await;
        world.exchanges.push(exchange.clone());
        world.tailored[index].1 = Some(exchange);
    }
    Ok(())
}

#[then("each client received exactly its own bytes")]
async fn each_client_received_its_own_bytes(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::DynamicNames));
    for (served, exchange) in &world.tailored {
        let Some(exchange) = exchange else {
            return Err(world.failure(
                format!("a download of {}", served.target),
                "the client made none",
            ));
        };
        if !exchange.delivered_whole_file(served.size) {
            return Err(world.failure(
                format!("200 with this client's own {}-byte file", served.size),
                exchange.to_string(),
            ));
        }
    }
    Ok(())
}

#[then("the origin received every client's URL once")]
async fn the_origin_received_every_url_once(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::DynamicNames));
    let journal = world.lab.origin().journal();
    for (served, exchange) in &world.tailored {
        let at_origin = journal.requests_containing(&served.target);
        let token = exchange.as_ref().map(|e| e.request_token.as_str());
        if let Some((expected, actual)) = not_fetched_once_by(&at_origin, &served.target, token) {
            return Err(world.failure(expected, actual));
        }
    }
    Ok(())
}
proven_by!(
    the_origin_received_every_url_once,
    "a_url_served_from_cache_or_fetched_twice_is_not_fetched_once"
);

/// Why a client's own URL was not fetched from the origin exactly once, by that client's own
/// request, if it was not (a cache answered it, or the proxy fetched it twice or rewrote it).
fn not_fetched_once_by(
    at_origin: &[OriginRequest],
    target: &str,
    token: Option<&str>,
) -> Option<(String, String)> {
    // A request whose token header the proxy stripped (header hardening) is told by its URL,
    // which is this client's own.
    let once = at_origin.len() == 1
        && at_origin[0]
            .header(REQUEST_TOKEN_HEADER)
            .is_none_or(|sent| Some(sent) == token)
        && at_origin[0].target == target;
    (!once).then(|| {
        let seen: Vec<String> = at_origin.iter().map(ToString::to_string).collect();
        (
            format!("exactly one origin request for {target} from request {token:?}"),
            format!("{seen:?}"),
        )
    })
}

#[then("no client was answered from another client's download")]
async fn no_client_was_answered_from_another(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::DynamicNames));
    if world.tailored.iter().any(|(_, e)| e.is_none()) {
        return Err(world.failure("every client downloaded", "some did not"));
    }
    // Header hardening takes the echo away: each client's own URL must then have reached the
    // origin (a store that answered one client from another's download asks the origin less).
    let stripped = world.instrument_headers_stripped();
    for (served, exchange) in &world.tailored {
        let Some(exchange) = exchange else { continue };
        if stripped {
            let at_origin = world
                .lab
                .origin()
                .journal()
                .requests_since(world.origin_mark, &served.target);
            if at_origin.is_empty() {
                return Err(world.failure(
                    format!("{} requested at the origin", served.target),
                    format!("the origin never saw it: {exchange}"),
                ));
            }
            continue;
        }
        if !answered_to_its_own_request(exchange) {
            return Err(world.failure(
                format!(
                    "the origin's echo of this client's own token {}",
                    exchange.request_token
                ),
                exchange.to_string(),
            ));
        }
    }
    let log = world.complete_proxy_log().await?;
    if let Some(hit) = log
        .iter()
        .flatten()
        .find(|l| l.cache != conformance_lab::CacheUse::Miss)
    {
        return Err(world.failure("no client answered from the proxy's cache", hit.to_string()));
    }
    Ok(())
}
proven_by!(
    no_client_was_answered_from_another,
    "another_clients_token_or_none_is_not_this_clients_answer"
);

/// Whether the response echoes this request's own token (another client's token means it came
/// out of a cache; none means the proxy answered by itself or stripped the header).
fn answered_to_its_own_request(exchange: &Exchange) -> bool {
    exchange
        .response()
        .and_then(|r| r.header(ECHO_TOKEN_HEADER))
        == Some(exchange.request_token.as_str())
}

#[cfg(test)]
mod tests {
    use conformance_client::{Exchange, Outcome};
    use mock_servers::ECHO_TOKEN_HEADER;

    use super::{answered_to_its_own_request, not_fetched_once_by};
    use crate::fixtures::origin_request as at_origin;

    /// A 200 to request `token` that echoes `echoed` (or nothing).
    fn exchange(token: &str, echoed: Option<&str>) -> Exchange {
        let mut exchange = crate::fixtures::exchange(token, 200);
        if let Outcome::Response(response) = &mut exchange.outcome {
            response.headers = echoed
                .map(|e| vec![(ECHO_TOKEN_HEADER.to_owned(), e.to_owned())])
                .unwrap_or_default();
        }
        exchange
    }

    #[test]
    fn another_clients_token_or_none_is_not_this_clients_answer() {
        assert!(answered_to_its_own_request(&exchange(
            "s1-r1",
            Some("s1-r1")
        )));
        assert!(!answered_to_its_own_request(&exchange(
            "s1-r2",
            Some("s1-r1")
        )));
        assert!(!answered_to_its_own_request(&exchange("s1-r2", None)));
    }

    #[test]
    fn a_url_served_from_cache_or_fetched_twice_is_not_fetched_once() {
        let url = "/updates/1/s1/client1/kb.psf";
        assert!(not_fetched_once_by(&[at_origin(url, "s1-r1")], url, Some("s1-r1")).is_none());
        assert!(not_fetched_once_by(&[], url, Some("s1-r1")).is_some());
        let twice = [at_origin(url, "s1-r1"), at_origin(url, "s1-r9")];
        assert!(not_fetched_once_by(&twice, url, Some("s1-r1")).is_some());
        assert!(not_fetched_once_by(&[at_origin(url, "s1-r9")], url, Some("s1-r1")).is_some());
    }
}
