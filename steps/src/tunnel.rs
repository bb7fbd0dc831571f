//! Protocol detection: raw bytes that are not TLS, sent through a CONNECT tunnel on port 443.
//! A proxy that leaves the tunnel alone carries them verbatim both ways; a proxy that
//! inspects the protocol (peeks for a ClientHello, bumps) breaks them.

use std::time::Duration;

use conformance_spec::{LAB_PASSWORD, LAB_USER};
use cucumber::{then, when};
use mock_servers::SCENARIO_HEADER;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::parameters::Credentials;
use crate::world::ConformanceWorld;

const TUNNEL_TIMEOUT: Duration = Duration::from_secs(5);

/// One raw exchange through a CONNECT tunnel.
#[derive(Debug, Clone)]
pub struct RawTunnelExchange {
    pub host: String,
    /// The proxy's status line for the CONNECT.
    pub connect_status: String,
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
    /// Why reading the reply stopped early, if it did.
    pub stopped: Option<String>,
}

impl std::fmt::Display for RawTunnelExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CONNECT {}:443 => {:?}; sent {} non-TLS bytes, got {} back",
            self.host,
            self.connect_status,
            self.sent.len(),
            self.received.len()
        )?;
        if let Some(why) = &self.stopped {
            write!(f, " ({why})")?;
        }
        Ok(())
    }
}

/// Bytes that cannot be mistaken for TLS (a TLS record starts with 0x16), carrying the token.
fn non_tls_bytes(token: &str) -> Vec<u8> {
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
    crate::files::known_host(&host)?;
    let sent = non_tls_bytes(&world.token);
    let exchange = raw_tunnel(world, credentials, &host, sent).await;
    world.raw_tunnel = Some(exchange);
    Ok(())
}

async fn raw_tunnel(
    world: &ConformanceWorld,
    credentials: Credentials,
    host: &str,
    sent: Vec<u8>,
) -> RawTunnelExchange {
    let mut exchange = RawTunnelExchange {
        host: host.to_owned(),
        connect_status: String::new(),
        sent,
        received: Vec::new(),
        stopped: None,
    };
    let outcome = tokio::time::timeout(TUNNEL_TIMEOUT, async {
        let proxy = world.lab.proxy_url();
        let address = proxy.trim_start_matches("http://");
        let stream = TcpStream::connect(address).await?;
        let mut stream = BufReader::new(stream);
        let mut connect = format!(
            "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n{SCENARIO_HEADER}: {}\r\n",
            world.token
        );
        if credentials == Credentials::Lab {
            let basic = basic_credentials(LAB_USER, LAB_PASSWORD);
            connect.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
        }
        connect.push_str("\r\n");
        stream.get_mut().write_all(connect.as_bytes()).await?;
        stream.read_line(&mut exchange.connect_status).await?;
        exchange.connect_status = exchange.connect_status.trim_end().to_owned();
        loop {
            let mut header = String::new();
            if stream.read_line(&mut header).await? == 0 || header == "\r\n" {
                break;
            }
        }
        if !exchange.connect_status.contains(" 200") {
            return Ok::<_, std::io::Error>(());
        }
        stream.get_mut().write_all(&exchange.sent).await?;
        let mut buf = vec![0u8; 4096];
        while exchange.received.len() < exchange.sent.len() {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                exchange.stopped = Some("the proxy closed the tunnel".to_owned());
                break;
            }
            exchange.received.extend_from_slice(&buf[..n]);
        }
        Ok(())
    })
    .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => exchange.stopped = Some(error.to_string()),
        Err(_) => exchange.stopped = Some(format!("no complete reply within {TUNNEL_TIMEOUT:?}")),
    }
    exchange
}

fn basic_credentials(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

impl ConformanceWorld {
    fn raw_exchange(&self) -> Result<&RawTunnelExchange, String> {
        self.raw_tunnel
            .as_ref()
            .ok_or_else(|| "no raw tunnel was opened: add the When step first".to_owned())
    }

    fn origin_received_raw(&self) -> Vec<u8> {
        self.lab
            .origin()
            .journal()
            .raw_tunnels_containing(self.token.as_bytes())
            .into_iter()
            .flat_map(|t| t.received)
            .collect()
    }
}

#[then("the origin received those bytes verbatim")]
async fn the_origin_received_the_bytes_verbatim(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
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
    let exchange = world.raw_exchange()?;
    if exchange.received != exchange.sent {
        return Err(world.failure(
            "the origin's echo of every byte, unchanged",
            exchange.to_string(),
        ));
    }
    Ok(())
}

#[then("the proxy accepted the tunnel but the origin never received those bytes")]
async fn the_origin_never_received_the_bytes(world: &mut ConformanceWorld) -> Result<(), String> {
    let exchange = world.raw_exchange()?;
    // Without an accepted CONNECT the absence at the origin would prove nothing.
    if !exchange.connect_status.contains(" 200") {
        return Err(world.failure("CONNECT answered 200", exchange.to_string()));
    }
    let at_origin = world.origin_received_raw();
    if !at_origin.is_empty() || exchange.received == exchange.sent {
        return Err(world.failure(
            "the proxy to stop non-TLS bytes it inspects",
            format!(
                "{} bytes reached the origin; client: {exchange}",
                at_origin.len()
            ),
        ));
    }
    Ok(())
}
