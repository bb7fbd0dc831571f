//! Redirects between update hosts: the origin answers one update host with a 302 to the same
//! file on another (as Windows Update's content hosts hand clients to the delivery network),
//! the client follows each hop itself, and every hop must reach the origin through the proxy
//! untouched (no 407 on the second host, no redirect answered or followed by the proxy).

use conformance_client::{Credentials, Exchange, Scheme};
use cucumber::{given, then, when};
use mock_servers::OriginRequest;

use crate::client::Ask;
use crate::parameters;
use crate::world::{ConformanceWorld, Served};

/// How many redirects a client follows before it gives up (browsers and WinHTTP use 10).
const MAX_HOPS: usize = 10;

#[given(expr = "{string} redirects requests for that file there")]
async fn redirects_requests_for_that_file(
    world: &mut ConformanceWorld,
    from: String,
) -> Result<(), String> {
    let from = world.resolve_host(&from)?;
    let served = world.served()?.clone();
    let location = format!("http://{}{}", served.host, served.target);
    let path = served.target.split('?').next().unwrap_or_default();
    world
        .lab
        .origin()
        .files()
        .redirect(from.as_str(), path, &location)
        .map_err(|e| format!("the origin cannot redirect {from}{path}: {e}"))?;
    world.redirected_from = Some(from);
    Ok(())
}

#[when(
    expr = "an update client downloads that file from the first host over {scheme}, following each redirect itself"
)]
async fn a_client_follows_each_redirect(
    world: &mut ConformanceWorld,
    scheme: parameters::Scheme,
) -> Result<(), String> {
    let served = world.served()?.clone();
    let from = world
        .redirected_from
        .clone()
        .ok_or("no redirect was set up: add the Given step that redirects the file")?;
    let mut hop = Served {
        host: from,
        ..served.clone()
    };
    let mut scheme = Scheme::from(scheme);
    for _ in 0..MAX_HOPS {
        let exchange = world
            .fetch_served(&hop, Ask::get(scheme, Credentials::Without))
            .await;
        let location = redirect_location(&exchange);
        world.exchanges.push(exchange);
        let Some(location) = location else {
            return Ok(());
        };
        let url = reqwest::Url::parse(&location)
            .map_err(|e| format!("the redirect's Location {location:?} is not a URL: {e}"))?;
        scheme = if url.scheme() == "https" {
            Scheme::Https
        } else {
            Scheme::Http
        };
        hop = Served {
            host: url.host_str().unwrap_or_default().to_owned(),
            target: crate::client::origin_target(&url),
            ..served.clone()
        };
    }
    Err(format!("more than {MAX_HOPS} redirects"))
}

/// Where a redirect response sends the client, if the exchange is one.
fn redirect_location(exchange: &Exchange) -> Option<String> {
    let response = exchange.response()?;
    if !(300..400).contains(&response.status) || response.status == 304 {
        return None;
    }
    response.header("location").map(str::to_owned)
}

#[then("the origin answered every hop of the redirect itself")]
async fn the_origin_answered_every_hop(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(None);
    let from = world
        .redirected_from
        .clone()
        .ok_or("no redirect was set up: add the Given step that redirects the file")?;
    let served = world.served()?.clone();
    let at_origin = world.origin_requests()?;
    match hop_problem(&world.exchanges, &at_origin, &from, &served) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_origin_answered_every_hop,
    "a_redirect_not_from_the_origin_or_a_hop_missing_fails"
);

/// Why the redirect from `from` to `served` was not carried hop by hop, if it was not: the
/// client must have seen the origin's redirect to the file (not one the proxy made or
/// followed), then the file itself; the origin must have answered both hops, each once.
fn hop_problem(
    exchanges: &[Exchange],
    at_origin: &[OriginRequest],
    from: &str,
    served: &Served,
) -> Option<(String, String)> {
    let location = format!("http://{}{}", served.host, served.target);
    let [first, last] = exchanges else {
        let seen: Vec<String> = exchanges.iter().map(ToString::to_string).collect();
        return Some((
            format!(
                "two hops: a redirect from {from}, then the file from {}",
                served.host
            ),
            format!("{} exchange(s): [{}]", exchanges.len(), seen.join("; ")),
        ));
    };
    if redirect_location(first).as_deref() != Some(location.as_str()) {
        return Some((
            format!("the origin's redirect to {location}"),
            first.to_string(),
        ));
    }
    if !last.delivered_whole_file(served.size) {
        return Some((
            format!("the whole {}-byte file from {}", served.size, served.host),
            last.to_string(),
        ));
    }
    let answered = |host: &str, status: u16| {
        at_origin
            .iter()
            .filter(|r| r.host.eq_ignore_ascii_case(host) && r.status == status)
            .count()
    };
    let hops = [(from, 302), (served.host.as_str(), 200)];
    hops.iter()
        .find(|(host, status)| answered(host, *status) != 1)
        .map(|(host, status)| {
            let seen: Vec<String> = at_origin.iter().map(ToString::to_string).collect();
            (
                format!("the origin to answer {host} with {status} once"),
                format!("the origin journal: [{}]", seen.join("; ")),
            )
        })
}

#[cfg(test)]
mod tests {
    use conformance_client::Outcome;

    use super::hop_problem;
    use crate::fixtures::{exchange, origin_request};
    use crate::parameters::Resource;
    use crate::world::Served;

    const FROM: &str = "download.windowsupdate.com";
    const TO: &str = "k3x9.dl.delivery.mp.microsoft.com";

    fn served() -> Served {
        Served {
            resource: Resource::File,
            host: TO.into(),
            target: "/filestreamingservice/files/abc?P1=1".into(),
            size: 1,
            payload: None,
        }
    }

    fn redirect() -> conformance_client::Exchange {
        let mut hop = exchange("s1-r1", 302);
        if let Outcome::Response(r) = &mut hop.outcome {
            r.body_len = 0;
            r.headers.push((
                "location".into(),
                format!("http://{TO}/filestreamingservice/files/abc?P1=1"),
            ));
        }
        hop
    }

    fn answered(host: &str, status: u16) -> mock_servers::OriginRequest {
        let mut request = origin_request("/filestreamingservice/files/abc?P1=1", "s1-r1");
        request.host = host.into();
        request.status = status;
        request
    }

    #[test]
    fn a_redirect_not_from_the_origin_or_a_hop_missing_fails() {
        let hops = [redirect(), exchange("s1-r2", 200)];
        let journal = [answered(FROM, 302), answered(TO, 200)];
        assert!(hop_problem(&hops, &journal, FROM, &served()).is_none());
        // The proxy followed the redirect itself: one exchange, the file.
        assert!(hop_problem(&hops[1..], &journal, FROM, &served()).is_some());
        // The second hop was refused (407 on the delivery network).
        let refused = [redirect(), exchange("s1-r2", 407)];
        assert!(hop_problem(&refused, &journal, FROM, &served()).is_some());
        // The proxy answered the redirect from its cache: the origin saw only the second hop.
        assert!(hop_problem(&hops, &journal[1..], FROM, &served()).is_some());
        // A redirect somewhere else.
        let mut elsewhere = redirect();
        if let Outcome::Response(r) = &mut elsewhere.outcome {
            r.headers.retain(|(n, _)| n != "location");
            r.headers
                .push(("location".into(), "http://proxy.example.net/blocked".into()));
        }
        assert!(hop_problem(
            &[elsewhere, exchange("s1-r2", 200)],
            &journal,
            FROM,
            &served()
        )
        .is_some());
    }
}
