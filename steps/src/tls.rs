//! TLS interception: who issued the certificate the client saw, whose ClientHello reached the
//! origin (JA4), and whether the proxy logged a tunnel or a decrypted request.

use conformance_client::{chains_to, issuer_of};
use conformance_lab::{ProxyFact, Vantage};
use conformance_model::Property;
use cucumber::then;
use mock_servers::TlsHandshake;
use rustls::pki_types::CertificateDer;

use crate::world::ConformanceWorld;

/// Who must have issued the leaf certificate the client saw.
#[derive(Debug, Clone, Copy)]
enum ExpectedIssuer<'a> {
    /// The origin: it serves exactly one leaf, so the client must have seen that very
    /// certificate, byte for byte.
    Origin { leaf: &'a [u8] },
    /// The proxy's interception CA: the leaf must chain to it for the host, and must not be
    /// the origin's own leaf.
    Interception {
        roots: &'a [CertificateDer<'static>],
        origin_leaf: &'a [u8],
    },
}

/// Why the leaf the client saw for `host` was not issued as `expected` says, if it was not.
fn certificate_problem(
    seen: Option<&[u8]>,
    expected: ExpectedIssuer<'_>,
    host: &str,
) -> Option<(String, String)> {
    let describe = |der: &[u8]| {
        issuer_of(der).map_or("an unparsable certificate".to_owned(), |issuer| {
            format!("a certificate issued by {issuer}")
        })
    };
    let Some(seen) = seen else {
        return Some((
            "a TLS response and the certificate it was sent with".to_owned(),
            "no certificate (not a TLS response)".to_owned(),
        ));
    };
    match expected {
        ExpectedIssuer::Origin { leaf } if seen == leaf => None,
        ExpectedIssuer::Origin { leaf } => Some((
            format!("the origin's own leaf, {}", describe(leaf)),
            format!("{}, not the origin's leaf", describe(seen)),
        )),
        ExpectedIssuer::Interception { origin_leaf, .. } if seen == origin_leaf => Some((
            "a certificate issued by the proxy's interception CA".to_owned(),
            "the origin's own leaf: the connection was not intercepted".to_owned(),
        )),
        ExpectedIssuer::Interception { roots, .. } => {
            chains_to(seen, roots, host).err().map(|why| {
                (
                    format!("a certificate for {host} issued by the proxy's interception CA"),
                    format!("{}, which does not chain to it ({why})", describe(seen)),
                )
            })
        }
    }
}

#[then(regex = r"^the certificate the client saw was issued by the (origin|interception) CA$")]
async fn the_certificate_was_issued_by(
    world: &mut ConformanceWorld,
    which: String,
) -> Result<(), String> {
    world.checks(Some(Property::Tls));
    if which == "interception" && world.refused_as_policing().await?.is_some() {
        return Ok(());
    }
    let exchange = world.last_exchange()?;
    let host = reqwest::Url::parse(&exchange.url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let seen = exchange.response().and_then(|r| r.leaf.clone());
    let origin_leaf = world.lab.pki().origin_leaf.cert_der().to_vec();
    let expected = if which == "origin" {
        ExpectedIssuer::Origin { leaf: &origin_leaf }
    } else {
        match world.lab.interception_ca_certificates() {
            Some(roots) => ExpectedIssuer::Interception {
                roots,
                origin_leaf: &origin_leaf,
            },
            // External mode without --proxy-ca: the origin's own leaf still shows no
            // interception; any other certificate cannot be told from an interception.
            None if seen.as_deref() == Some(origin_leaf.as_slice()) => {
                ExpectedIssuer::Interception {
                    roots: &[],
                    origin_leaf: &origin_leaf,
                }
            }
            None => {
                world.not_observable(
                    Vantage::Client,
                    "the certificate the client saw was issued by the interception CA",
                    "the proxy's interception CA was not given (--proxy-ca FILE), so the client cannot tell its certificates from any other".to_owned(),
                );
                return Ok(());
            }
        }
    };
    match certificate_problem(seen.as_deref(), expected, &host) {
        Some((expected, actual)) => Err(world.failure(expected, format!("{actual}: {exchange}"))),
        None => Ok(()),
    }
}
proven_by!(
    the_certificate_was_issued_by,
    "a_leaf_not_the_origins_or_not_chaining_to_the_interception_ca_fails"
);

#[then(regex = r"^the origin saw (the client's own|the proxy's) TLS handshake$")]
async fn the_origin_saw_whose_handshake(
    world: &mut ConformanceWorld,
    whose: String,
) -> Result<(), String> {
    world.checks(Some(Property::Tls));
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
    match handshake_problem(&handshakes, &baseline, clients_own) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_origin_saw_whose_handshake,
    "another_stacks_hello_or_none_fails"
);

/// Why the ClientHellos the origin saw are not all the client's own (or, when `clients_own`
/// is false, not all the proxy's), if they are not; none seen is a failure too.
fn handshake_problem(
    handshakes: &[TlsHandshake],
    baseline: &str,
    clients_own: bool,
) -> Option<(String, String)> {
    if handshakes.is_empty() {
        return Some((
            "a TLS handshake at the origin for this scenario".to_owned(),
            "none".to_owned(),
        ));
    }
    let odd = handshakes
        .iter()
        .find(|h| (h.ja4.as_deref() == Some(baseline)) != clients_own)?;
    let expected = if clients_own {
        format!("JA4 {baseline} (the client's)")
    } else {
        format!("a JA4 other than the client's {baseline}")
    };
    Some((expected, odd.to_string()))
}

#[then(regex = r"^the proxy logged (a tunnel|a decrypted request) to that host$")]
async fn the_proxy_logged(world: &mut ConformanceWorld, what: String) -> Result<(), String> {
    world.checks(Some(Property::Tls));
    let host = world.host()?;
    let tunnel = what == "a tunnel";
    let expected = world.requests_sent();
    let Some(log) = world
        .proxy_log_until(|lines| {
            lines.len() >= expected && tunnel_log_problem(lines, &host, tunnel).is_none()
        })
        .await?
    else {
        world.not_observable(
            Vantage::ProxyLog,
            &format!("the proxy logged {what} to that host"),
            "the proxy under test is external: the harness cannot read its log".to_owned(),
        );
        return Ok(());
    };
    match tunnel_log_problem(&log, &host, tunnel) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(the_proxy_logged, "a_decrypted_request_or_no_tunnel_fails");

/// Why the proxy's facts do not show a tunnel to `host` (and no decrypted request), or, when
/// `tunnel` is false, a decrypted request to it, if they do not.
fn tunnel_log_problem(log: &[ProxyFact], host: &str, tunnel: bool) -> Option<(String, String)> {
    let decrypted = log
        .iter()
        .find(|l| l.concerns_host(host) && l.is_decrypted_request());
    if tunnel {
        let tunnelled = log
            .iter()
            .any(|l| l.concerns_host(host) && l.is_connect() && l.tunnelled);
        let expected =
            format!("a CONNECT to {host}:443 passed through undecrypted, and no decrypted request");
        return match decrypted {
            Some(line) => Some((expected, format!("a decrypted request: {line}"))),
            None if !tunnelled => Some((expected, "no tunnel to that host".to_owned())),
            None => None,
        };
    }
    decrypted.is_none().then(|| {
        (
            format!("a decrypted GET https://{host}/… line"),
            "no such line".to_owned(),
        )
    })
}

#[then("the proxy did not read the client's TLS ClientHello")]
async fn the_proxy_did_not_read_the_client_hello(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Protocol));
    let host = world.host()?;
    let Some(log) = world.complete_proxy_log().await? else {
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
proven_by!(
    the_proxy_did_not_read_the_client_hello,
    "neutral_facts_of_squid_statuses"
);

#[cfg(test)]
mod tests {
    use lab_certs::LabPki;

    use super::{certificate_problem, handshake_problem, tunnel_log_problem, ExpectedIssuer};
    use crate::fixtures::{handshake, proxy_fact};

    const HOST: &str = "fe2.update.microsoft.com";

    #[test]
    fn a_leaf_not_the_origins_or_not_chaining_to_the_interception_ca_fails() {
        let pki = LabPki::generate(&[HOST.to_owned()]).unwrap();
        let origin_leaf = pki.origin_leaf.cert_der().to_vec();
        let bumped = pki
            .interception_ca
            .issue_server_leaf(&[HOST.to_owned()])
            .unwrap()
            .cert_der()
            .to_vec();
        // A certificate that copies the interception CA's name but is signed by another key.
        let impostor_ca = lab_certs::CertificateAuthority::generate(
            pki.interception_ca.common_name(),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .unwrap();
        let impostor = impostor_ca
            .issue_server_leaf(&[HOST.to_owned()])
            .unwrap()
            .cert_der()
            .to_vec();
        let origin = ExpectedIssuer::Origin { leaf: &origin_leaf };
        let roots = [pki.interception_ca.cert_der().clone()];
        let interception = ExpectedIssuer::Interception {
            roots: &roots,
            origin_leaf: &origin_leaf,
        };

        assert!(certificate_problem(Some(&origin_leaf), origin, HOST).is_none());
        assert!(certificate_problem(Some(&bumped), interception, HOST).is_none());
        assert!(certificate_problem(Some(&bumped), origin, HOST).is_some());
        assert!(certificate_problem(Some(&origin_leaf), interception, HOST).is_some());
        let (_, actual) = certificate_problem(Some(&impostor), interception, HOST).unwrap();
        assert!(actual.contains("does not chain"), "{actual}");
        assert!(certificate_problem(None, origin, HOST).is_some());
    }

    #[test]
    fn another_stacks_hello_or_none_fails() {
        let own = handshake("t13d1516h2_8daaf6152771_02713d6af862");
        let proxys = handshake("t13d4907h2_0d8feac7bc37_7395dae3b2f3");
        let baseline = own.ja4.clone().unwrap();
        assert!(handshake_problem(std::slice::from_ref(&own), &baseline, true).is_none());
        assert!(handshake_problem(std::slice::from_ref(&proxys), &baseline, false).is_none());
        assert!(handshake_problem(&[own.clone(), proxys.clone()], &baseline, true).is_some());
        assert!(handshake_problem(&[own], &baseline, false).is_some());
        assert!(handshake_problem(&[], &baseline, true).is_some());
    }

    #[test]
    fn a_decrypted_request_or_no_tunnel_fails() {
        let tunnel = proxy_fact("CONNECT", &format!("{HOST}:443"));
        let decrypted = proxy_fact("GET", &format!("https://{HOST}/updates/s1/kb.cab"));
        let elsewhere = proxy_fact("CONNECT", "www.example.com:443");
        assert!(tunnel_log_problem(std::slice::from_ref(&tunnel), HOST, true).is_none());
        assert!(tunnel_log_problem(&[tunnel.clone(), decrypted.clone()], HOST, true).is_some());
        assert!(tunnel_log_problem(std::slice::from_ref(&elsewhere), HOST, true).is_some());
        assert!(tunnel_log_problem(&[], HOST, true).is_some());
        assert!(tunnel_log_problem(&[tunnel.clone(), decrypted], HOST, false).is_none());
        assert!(tunnel_log_problem(&[tunnel], HOST, false).is_some());
    }
}
