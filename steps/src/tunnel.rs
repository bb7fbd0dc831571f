//! Protocol detection: raw bytes that are not TLS, sent through a CONNECT tunnel on port 443.
//! A proxy that leaves the tunnel alone carries them verbatim both ways; a proxy that
//! inspects the protocol (peeks for a ClientHello, bumps) breaks them.

use conformance_client::RawTunnelExchange;
use conformance_lab::ProxyFact;
use conformance_model::Property;
use cucumber::{then, when};
use mock_servers::{SERVER_FIRST_AFTER, SERVER_GREETING};

use crate::parameters::Credentials;
use crate::world::ConformanceWorld;

/// Bytes that cannot be mistaken for TLS (a TLS record starts with 0x16), carrying the token.
pub(crate) fn non_tls_bytes(token: &str) -> Vec<u8> {
    let mut bytes = format!("\x00\x01WU-BINARY-PROTOCOL {token}\r\n").into_bytes();
    bytes.extend((0u8..=255).cycle().take(1024));
    bytes
}

#[when(
    expr = "a client {credentials} sends non-TLS bytes through a CONNECT tunnel to {string} on port 443"
)]
async fn a_client_sends_non_tls_bytes(
    world: &mut ConformanceWorld,
    credentials: Credentials,
    host: String,
) -> Result<(), String> {
    world.open_raw_tunnel(credentials, &host, None).await
}

/// How much longer than the origin's own wait the client waits for its greeting: on a loaded
/// machine the greeting may reach the client seconds late, and only a proxy that inspects holds
/// it back for good (the wait is the whole cost of a failing check, never of a passing one).
const GREETING_MARGIN: std::time::Duration = std::time::Duration::from_secs(8);

#[when(
    expr = "a client {credentials} opens a CONNECT tunnel to {string} on port 443 and waits for the server to speak first"
)]
async fn a_client_waits_for_the_server(
    world: &mut ConformanceWorld,
    credentials: Credentials,
    host: String,
) -> Result<(), String> {
    world
        .open_raw_tunnel(
            credentials,
            &host,
            Some(SERVER_FIRST_AFTER + GREETING_MARGIN),
        )
        .await
}

#[then("the client received the origin's greeting before it sent a byte")]
async fn the_client_received_the_greeting(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Protocol));
    let exchange = world.raw_exchange()?.clone();
    let greeted = world
        .lab
        .origin()
        .journal()
        .raw_tunnels_containing(world.token.as_bytes())
        .iter()
        .any(|t| t.greeted);
    match greeting_problem(&exchange, greeted) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_client_received_the_greeting,
    "a_greeting_held_back_altered_or_not_the_origins_fails"
);

/// Why a server-first exchange did not carry the origin's greeting to the silent client, if
/// it did not: the client must have read exactly the greeting, and the origin must have
/// greeted the connection the client's bytes then arrived on.
fn greeting_problem(
    exchange: &RawTunnelExchange,
    origin_greeted: bool,
) -> Option<(String, String)> {
    let expected = format!(
        "the origin's greeting {:?} through the tunnel before the client spoke",
        String::from_utf8_lossy(SERVER_GREETING)
    );
    if exchange.greeting.as_deref() != Some(SERVER_GREETING) {
        return Some((expected, exchange.to_string()));
    }
    (!origin_greeted).then(|| {
        (
            expected,
            "the origin journaled no greeting on the connection that carried the client's bytes"
                .to_owned(),
        )
    })
}

#[then("the origin received those bytes verbatim")]
async fn the_origin_received_the_bytes_verbatim(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Protocol));
    let exchange = world.raw_exchange()?;
    let at_origin = world.origin_received_raw();
    if at_origin != exchange.sent {
        return Err(world.failure(
            format!(
                "the origin to receive the {} bytes sent",
                exchange.sent.len()
            ),
            format!(
                "{} bytes at the origin; client: {exchange}",
                at_origin.len()
            ),
        ));
    }
    Ok(())
}

#[then("the client received the origin's reply verbatim")]
async fn the_client_received_the_reply_verbatim(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Protocol));
    let exchange = world.raw_exchange()?;
    if !echoed_verbatim(exchange) {
        return Err(world.failure(
            "the origin's echo of every byte, unchanged",
            exchange.to_string(),
        ));
    }
    Ok(())
}
proven_by!(
    the_client_received_the_reply_verbatim,
    "a_short_altered_or_empty_echo_is_not_verbatim"
);

#[then("the proxy accepted the tunnel but the origin never received those bytes")]
async fn the_origin_never_received_the_bytes(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Protocol));
    let exchange = world.raw_exchange()?.clone();
    let at_origin = world.origin_received_raw();
    if detection_problem(&exchange, &at_origin, None).is_none() {
        return Ok(());
    }
    // The bytes went through: the proxy may still have shown its inspection in its own report
    // (it read the ClientHello, or bumped the tunnel) before letting them pass.
    let log = world
        .proxy_log_until(|facts| facts.iter().any(ProxyFact::is_connect))
        .await?;
    match detection_problem(&exchange, &at_origin, log.as_deref()) {
        None => Ok(()),
        Some((expected, actual)) => Err(world.failure(expected, actual)),
    }
}
proven_by!(
    the_origin_never_received_the_bytes,
    "bytes_through_an_uninspected_tunnel_or_a_refused_connect_show_no_detection"
);

/// Why a tunnel to a policed host does not show the proxy's protocol detection, if it does
/// not. The CONNECT must have been accepted (else the absence at the origin proves nothing);
/// then detection shows as the non-TLS bytes stopped (none at the origin, no verbatim echo),
/// or, when the proxy's log is visible (`log`), as a CONNECT the proxy reports it inspected
/// (read a ClientHello) or bumped.
fn detection_problem(
    exchange: &RawTunnelExchange,
    at_origin: &[u8],
    log: Option<&[ProxyFact]>,
) -> Option<(String, String)> {
    // Without an accepted CONNECT the absence at the origin would prove nothing.
    if !exchange.connect_status.contains(" 200") {
        return Some(("CONNECT answered 200".to_owned(), exchange.to_string()));
    }
    if at_origin.is_empty() && exchange.received != exchange.sent {
        return None;
    }
    let inspected = log
        .into_iter()
        .flatten()
        .any(|f| f.is_connect() && (f.client_hello_inspected || f.bumped));
    (!inspected).then(|| {
        (
            "the proxy to stop non-TLS bytes it inspects, or to report inspecting the tunnel"
                .to_owned(),
            format!(
                "{} bytes reached the origin; client: {exchange}",
                at_origin.len()
            ),
        )
    })
}

/// Whether the client got back exactly the bytes it sent (the origin echoes them): a tunnel
/// the proxy left alone. Nothing back, fewer bytes, or altered bytes all fail.
fn echoed_verbatim(exchange: &RawTunnelExchange) -> bool {
    !exchange.sent.is_empty() && exchange.received == exchange.sent
}

#[cfg(test)]
mod tests {
    use conformance_client::RawTunnelExchange;

    use mock_servers::SERVER_GREETING;

    use super::{detection_problem, echoed_verbatim, greeting_problem};
    use crate::fixtures::proxy_fact;

    #[test]
    fn bytes_through_an_uninspected_tunnel_or_a_refused_connect_show_no_detection() {
        let stopped = tunnel(b"\x00WU", b"");
        assert!(detection_problem(&stopped, b"", None).is_none());
        let passed = tunnel(b"\x00WU", b"\x00WU");
        assert!(detection_problem(&passed, b"\x00WU", None).is_some());
        let spliced = proxy_fact("CONNECT", "www.example.com:443");
        assert!(
            detection_problem(&passed, b"\x00WU", Some(std::slice::from_ref(&spliced))).is_some()
        );
        let mut peeked = spliced.clone();
        peeked.client_hello_inspected = true;
        assert!(detection_problem(&passed, b"\x00WU", Some(&[peeked])).is_none());
        let mut bumped = spliced;
        bumped.bumped = true;
        assert!(detection_problem(&passed, b"\x00WU", Some(&[bumped.clone()])).is_none());
        let mut refused = stopped.clone();
        refused.connect_status = "HTTP/1.1 403 Forbidden".into();
        assert!(detection_problem(&refused, b"", Some(&[bumped])).is_some());
    }

    fn tunnel(sent: &[u8], received: &[u8]) -> RawTunnelExchange {
        RawTunnelExchange {
            host: "fe2.update.microsoft.com".into(),
            connect_status: "HTTP/1.1 200 Connection established".into(),
            sent: sent.to_vec(),
            greeting: None,
            received: received.to_vec(),
            stopped: None,
        }
    }

    #[test]
    fn a_greeting_held_back_altered_or_not_the_origins_fails() {
        let mut greeted = tunnel(b"\x00WU", b"\x00WU");
        greeted.greeting = Some(SERVER_GREETING.to_vec());
        assert!(greeting_problem(&greeted, true).is_none());
        assert!(greeting_problem(&greeted, false).is_some());
        let mut held = tunnel(b"\x00WU", b"");
        held.stopped = Some("the server's greeting did not come through within 3s".into());
        assert!(greeting_problem(&held, true).is_some());
        let mut altered = greeted.clone();
        altered.greeting = Some(b"HTTP/1.1 400 Bad Request\r\n".to_vec());
        assert!(greeting_problem(&altered, true).is_some());
    }

    #[test]
    fn a_short_altered_or_empty_echo_is_not_verbatim() {
        assert!(echoed_verbatim(&tunnel(b"\x00WU", b"\x00WU")));
        assert!(!echoed_verbatim(&tunnel(b"\x00WU", b"\x00W")));
        assert!(!echoed_verbatim(&tunnel(b"\x00WU", b"\x15\x03\x03")));
        assert!(!echoed_verbatim(&tunnel(b"", b"")));
    }
}
