//! TLS interception: who issued the certificate the client saw, whose ClientHello reached the
//! origin (JA4), and whether the proxy logged a tunnel or a decrypted request.

use conformance_lab::{ProxyFact, Vantage};
use cucumber::then;

use crate::world::ConformanceWorld;

#[derive(Debug, Clone, Copy)]
enum Authority {
    Origin,
    Interception,
}

#[then(regex = r"^the certificate the client saw was issued by the (origin|interception) CA$")]
async fn the_certificate_was_issued_by(
    world: &mut ConformanceWorld,
    which: String,
) -> Result<(), String> {
    let authority = if which == "origin" {
        Authority::Origin
    } else {
        Authority::Interception
    };
    let origin_ca = world.lab.pki().origin_ca.common_name().to_owned();
    let exchange = world.last_exchange()?;
    let issuer = exchange.response().and_then(|r| r.issuer.clone());
    let expected = match authority {
        Authority::Origin => origin_ca.clone(),
        Authority::Interception => match world.lab.interception_ca_name() {
            Some(name) => name.to_owned(),
            // External mode without --proxy-ca: a leaf from the origin CA still shows no
            // interception; any other certificate cannot be told from an interception.
            None if issuer
                .as_deref()
                .is_some_and(|i| i.contains(&format!("CN={origin_ca}"))) =>
            {
                return Err(world.failure(
                    "a certificate issued by the proxy's interception CA",
                    issuer.unwrap_or_default(),
                ));
            }
            None => {
                world.not_observable(
                    Vantage::Client,
                    "the certificate the client saw was issued by the interception CA",
                    "the proxy's interception CA was not given (--proxy-ca FILE), so the client cannot tell its certificates from any other".to_owned(),
                );
                return Ok(());
            }
        },
    };
    match issuer {
        Some(issuer) if issuer.contains(&format!("CN={expected}")) => Ok(()),
        Some(issuer) => Err(world.failure(format!("issuer CN={expected}"), issuer)),
        None => Err(world.failure(
            format!("a TLS response with a certificate issued by {expected}"),
            exchange.to_string(),
        )),
    }
}

#[then(regex = r"^the origin saw (the client's own|the proxy's) TLS handshake$")]
async fn the_origin_saw_whose_handshake(
    world: &mut ConformanceWorld,
    whose: String,
) -> Result<(), String> {
    let clients_own = whose == "the client's own";
    let baseline = world
        .baseline_ja4
        .clone()
        .ok_or("the client's own JA4 was not measured at lab start")?;
    let journal = world.lab.origin().journal();
    let handshakes: Vec<_> = world
        .origin_requests()?
        .iter()
        .filter_map(|r| journal.handshake(r.connection))
        .collect();
    if handshakes.is_empty() {
        return Err(world.failure("a TLS handshake at the origin for this scenario", "none"));
    }
    for handshake in &handshakes {
        let same = handshake.ja4.as_deref() == Some(baseline.as_str());
        if same != clients_own {
            let expected = if clients_own {
                format!("JA4 {baseline} (the client's)")
            } else {
                format!("a JA4 other than the client's {baseline}")
            };
            return Err(world.failure(expected, handshake.to_string()));
        }
    }
    Ok(())
}

#[then(regex = r"^the proxy logged (a tunnel|a decrypted request) to that host$")]
async fn the_proxy_logged(world: &mut ConformanceWorld, what: String) -> Result<(), String> {
    let host = world.host()?;
    let tunnel = what == "a tunnel";
    let matches = |line: &ProxyFact| {
        line.concerns_host(&host)
            && if tunnel {
                line.is_connect() && line.tunnelled
            } else {
                line.is_decrypted_request()
            }
    };
    let expected = world.requests_sent();
    let Some(log) = world
        .proxy_log_until(|lines| lines.len() >= expected && lines.iter().any(matches))
        .await?
    else {
        world.not_observable(
            Vantage::ProxyLog,
            &format!("the proxy logged {what} to that host"),
            "the proxy under test is external: the harness cannot read its log".to_owned(),
        );
        return Ok(());
    };
    let found = log.iter().any(matches);
    let decrypted = log.iter().find(|l| l.is_decrypted_request());
    if !found || (tunnel && decrypted.is_some()) {
        let expected = if tunnel {
            format!("a CONNECT to {host}:443 passed through undecrypted, and no decrypted request")
        } else {
            format!("a decrypted GET https://{host}/… line")
        };
        return Err(world.failure(
            expected,
            decrypted.map_or("no such line".to_owned(), |l| l.to_string()),
        ));
    }
    Ok(())
}

#[then("the proxy did not read the client's TLS ClientHello")]
async fn the_proxy_did_not_read_the_client_hello(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    let host = world.host()?;
    let Some(log) = world.proxy_log().await? else {
        world.not_observable(
            Vantage::ProxyLog,
            "the proxy did not read the client's TLS ClientHello",
            "the proxy under test is external: the harness cannot read its log".to_owned(),
        );
        return Ok(());
    };
    let tunnels: Vec<&ProxyFact> = log
        .iter()
        .filter(|l| l.is_connect() && l.concerns_host(&host))
        .collect();
    if tunnels.is_empty() {
        return Err(world.failure(format!("a CONNECT to {host} in the proxy's log"), "none"));
    }
    if let Some(inspected) = tunnels.iter().find(|l| l.client_hello_inspected) {
        return Err(world.failure(
            "a tunnel whose ClientHello the proxy never parsed (no protocol detection, no SNI peek)",
            inspected.to_string(),
        ));
    }
    Ok(())
}
