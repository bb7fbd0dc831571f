//! Dynamic names: update files tailored per client (sizes and contents differ, as with
//! service packs) under per-client URLs. Each client must get exactly its own bytes, from the
//! origin, never another client's download out of a cache.

use cucumber::{given, then, when};
use mock_servers::{UpdateOrigin, ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER};

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
    let journal = world.lab.origin().journal();
    for (served, exchange) in &world.tailored {
        let at_origin = journal.requests_containing(&served.target);
        let token = exchange.as_ref().map(|e| e.request_token.as_str());
        let from_this_client = at_origin.len() == 1
            && at_origin[0].header(REQUEST_TOKEN_HEADER) == token
            && at_origin[0].target == served.target;
        if !from_this_client {
            let seen: Vec<String> = at_origin.iter().map(ToString::to_string).collect();
            return Err(world.failure(
                format!(
                    "exactly one origin request for {} from request {token:?}",
                    served.target
                ),
                format!("{seen:?}"),
            ));
        }
    }
    Ok(())
}

#[then("no client was answered from another client's download")]
async fn no_client_was_answered_from_another(world: &mut ConformanceWorld) -> Result<(), String> {
    if world.tailored.iter().any(|(_, e)| e.is_none()) {
        return Err(world.failure("every client downloaded", "some did not"));
    }
    for exchange in world.tailored.iter().filter_map(|(_, e)| e.as_ref()) {
        let echo = exchange
            .response()
            .and_then(|r| r.header(ECHO_TOKEN_HEADER));
        if echo != Some(exchange.request_token.as_str()) {
            return Err(world.failure(
                format!(
                    "the origin's echo of this client's own token {}",
                    exchange.request_token
                ),
                exchange.to_string(),
            ));
        }
    }
    let log = world.proxy_log().await?;
    if let Some(hit) = log
        .iter()
        .flatten()
        .find(|l| l.cache != conformance_lab::CacheUse::Miss)
    {
        return Err(world.failure("no client answered from the proxy's cache", hit.to_string()));
    }
    Ok(())
}
