//! The update components as they really talk: Delivery Optimization's parallel 1 MiB pieces,
//! CryptoAPI's conditional fetch of the certificate trust list, the Windows Update Agent's
//! SOAP call, and files served under the URL shapes of each Windows Update family — each sent
//! with the component's own User-Agent and headers, and checked at the origin.

use conformance_client::{ClientProfile, Exchange};
use conformance_model::Property;
use cucumber::{given, then, when, Parameter};
use futures::StreamExt;
use mock_servers::{UrlFamily, CLIENT_WEB_SERVICE_PATH, CTL_PATH};

use crate::client::Ask;
use crate::parameters::{Resource, Scheme, Size};
use crate::world::{ConformanceWorld, Served};

/// Delivery Optimization's piece size.
const DO_PIECE: u64 = 1 << 20;
/// Size of the certificate trust list the lab serves.
const CTL_SIZE: u64 = 64 << 10;

/// A Windows Update file family, as a scenario names it.
#[derive(Debug, Clone, Copy, Parameter)]
#[param(
    name = "family",
    regex = "cumulative update \\.cab|security update \\.msu|Delivery Optimization file stream|feature update \\.esd|Defender definitions \\.exe|Store app \\.appx|express update \\.psf"
)]
pub struct Family(UrlFamily);

impl std::str::FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(match s {
            "cumulative update .cab" => UrlFamily::CabC,
            "security update .msu" => UrlFamily::MsuD,
            "Delivery Optimization file stream" => UrlFamily::FileStreaming,
            "feature update .esd" => UrlFamily::Esd,
            "Defender definitions .exe" => UrlFamily::Exe,
            "Store app .appx" => UrlFamily::Appx,
            "express update .psf" => UrlFamily::Psf,
            other => return Err(format!("unknown file family {other}")),
        }))
    }
}

#[given(expr = "{string} serves a {size} {family} under its real URL shape")]
async fn serves_a_family_file(
    world: &mut ConformanceWorld,
    host: String,
    size: Size,
    family: Family,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    world.serve_from_catalog(host, family.0, size.0)
}

#[given(expr = "{string} serves the certificate trust list")]
async fn serves_the_certificate_trust_list(
    world: &mut ConformanceWorld,
    host: String,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    world.serve_from_catalog(host, UrlFamily::Ctl, CTL_SIZE)?;
    // One URL for everybody, byte for byte what CryptoAPI requests (no instrument in it): the
    // scenario runs alone (@serial) and reads only the requests made since it began.
    if let Some(served) = world.served.as_mut() {
        served.target = CTL_PATH.to_owned();
    }
    Ok(())
}

#[when(
    expr = "a Delivery Optimization client downloads that file over {scheme} in 1 MiB pieces over {int} connections"
)]
async fn a_delivery_optimization_client_downloads(
    world: &mut ConformanceWorld,
    scheme: Scheme,
    connections: usize,
) -> Result<(), String> {
    let served = world.served()?.clone();
    // Two one-byte-pair probes, as DO starts every download.
    for _ in 0..2 {
        let probe = Ask::by(ClientProfile::DeliveryOptimization, scheme).with_range("bytes=0-1");
        let exchange = world.fetch_served(&served, probe).await;
        world.exchanges.push(exchange);
    }
    let pieces: Vec<(u64, u64)> = (0..served.size.div_ceil(DO_PIECE))
        .map(|i| (i * DO_PIECE, ((i + 1) * DO_PIECE).min(served.size) - 1))
        .collect();
    let world_ref = &*world;
    let exchanges: Vec<Exchange> = futures::stream::iter(pieces)
        .map(|(first, last)| {
            let ask = Ask::by(ClientProfile::DeliveryOptimization, scheme)
                .with_range(format!("bytes={first}-{last}"));
            world_ref.fetch_served(&served, ask)
        })
        .buffered(connections.max(1))
        .collect()
        .await;
    world.exchanges.extend(exchanges);
    Ok(())
}

#[when("a CryptoAPI client fetches the certificate trust list over HTTP")]
async fn a_cryptoapi_client_fetches_the_ctl(world: &mut ConformanceWorld) -> Result<(), String> {
    // CryptoAPI always asks conditionally, with the date of the list it holds.
    let ask = Ask::by(ClientProfile::CryptoApi, Scheme::Http)
        .with_header("if-modified-since", "Mon, 01 Jan 2018 00:00:00 GMT");
    world.fetch(ask).await?;
    Ok(())
}

#[when("the CryptoAPI client fetches it again with the list's Last-Modified")]
async fn the_cryptoapi_client_revalidates(world: &mut ConformanceWorld) -> Result<(), String> {
    let last = world.last_exchange()?;
    let last_modified = last
        .response()
        .and_then(|r| r.header("last-modified"))
        .map(str::to_owned)
        .ok_or_else(|| world.failure("a Last-Modified on the trust list", last.to_string()))?;
    let ask = Ask::by(ClientProfile::CryptoApi, Scheme::Http)
        .with_header("if-modified-since", last_modified);
    world.fetch(ask).await?;
    Ok(())
}

#[when(expr = "the Windows Update Agent calls the update service on {string} over {scheme}")]
async fn the_agent_calls_the_update_service(
    world: &mut ConformanceWorld,
    host: String,
    scheme: Scheme,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    world.served = Some(Served {
        resource: Resource::Page,
        host,
        // The agent's own URL, no instrument in it: the scenario runs alone (@serial).
        target: CLIENT_WEB_SERVICE_PATH.to_owned(),
        size: 0,
        payload: None,
    });
    let mut ask = Ask::by(ClientProfile::WindowsUpdateAgent, scheme);
    ask.method = reqwest::Method::POST;
    ask.body = Some(sync_updates_request(&world.token));
    world.fetch(ask).await?;
    Ok(())
}

/// A SyncUpdates call as the agent sends it (cookie and update ids abbreviated), padded to the
/// tens of KiB real calls carry.
fn sync_updates_request(token: &str) -> Vec<u8> {
    let ids: String = (0..400)
        .map(|i| format!("<int>{}</int>", 100_000 + i))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><SyncUpdates xmlns=\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService\"><cookie><Expiration>2026-12-01T00:00:00Z</Expiration><EncryptedData>{token}</EncryptedData></cookie><parameters><ExpressQuery>false</ExpressQuery><InstalledNonLeafUpdateIDs>{ids}</InstalledNonLeafUpdateIDs><SkipSoftwareSync>false</SkipSoftwareSync><NeedTwoGroupOutOfScopeUpdates>true</NeedTwoGroupOutOfScopeUpdates></parameters></SyncUpdates></soap:Body></soap:Envelope>"
    )
    .into_bytes()
}

#[then("the origin received the agent's whole SOAP request")]
async fn the_origin_received_the_whole_soap_request(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Integrity));
    let served = world.served()?.clone();
    let sent = sync_updates_request(&world.token).len() as u64;
    let exchanges = world.lab.origin().journal().exchanges_since_for_host(
        world.origin_mark,
        &served.host,
        &served.target,
    );
    let Some(call) = exchanges.iter().find(|e| e.request.method == "POST") else {
        return Err(world.failure("the SOAP POST at the origin", "the origin saw none"));
    };
    if !whole_body_arrived(call.request_body_bytes, sent) {
        return Err(world.failure(
            format!("a {sent}-byte SOAP request body at the origin"),
            format!("{:?} bytes: {call}", call.request_body_bytes),
        ));
    }
    Ok(())
}
proven_by!(
    the_origin_received_the_whole_soap_request,
    "a_truncated_or_missing_soap_body_fails"
);

#[then("the origin received the client's conditional request unchanged")]
async fn the_origin_received_the_conditional_request(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Cache));
    let last = world.last_exchange()?.clone();
    let Some((_, sent)) = last
        .extra_headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("if-modified-since"))
    else {
        return Err(world.failure("a conditional request by the client", last.to_string()));
    };
    let at_origin = world.origin_requests_for(&last);
    match at_origin.first() {
        Some(request) if request.header("if-modified-since") == Some(sent.as_str()) => Ok(()),
        Some(request) => Err(world.failure(
            format!("If-Modified-Since: {sent} at the origin"),
            request.to_string(),
        )),
        None => Err(world.failure(
            "the client's conditional request at the origin",
            format!("none arrived; client: {last}"),
        )),
    }
}

#[then("the origin saw each client's own User-Agent")]
async fn the_origin_saw_each_user_agent(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Integrity));
    if world.exchanges.is_empty() {
        return Err(world.failure("at least one request", "none was made"));
    }
    for exchange in &world.exchanges {
        let Some((_, sent)) = exchange
            .extra_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        else {
            continue;
        };
        let at_origin = world.origin_requests_for(exchange);
        let Some(request) = at_origin.first() else {
            return Err(world.failure(
                "every request at the origin",
                format!("none arrived for {exchange}"),
            ));
        };
        if request.header("user-agent") != Some(sent.as_str()) {
            return Err(world.failure(
                format!("User-Agent: {sent} at the origin"),
                request.to_string(),
            ));
        }
    }
    Ok(())
}

/// Whether the origin read the whole request body the client sent (a proxy that truncates,
/// drops or re-encodes a body fails).
fn whole_body_arrived(read_at_origin: Option<u64>, sent: u64) -> bool {
    read_at_origin == Some(sent)
}

#[cfg(test)]
mod tests {
    use super::{sync_updates_request, whole_body_arrived};

    #[test]
    fn a_truncated_or_missing_soap_body_fails() {
        let sent = sync_updates_request("s1-abc").len() as u64;
        assert!(sent > 4096, "a realistic SyncUpdates call is several KiB");
        assert!(whole_body_arrived(Some(sent), sent));
        assert!(!whole_body_arrived(Some(sent - 1), sent));
        assert!(!whole_body_arrived(None, sent));
    }
}
