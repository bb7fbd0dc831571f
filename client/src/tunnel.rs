//! Raw CONNECT tunnels: bytes that are not an HTTP client's, sent through the proxy to port
//! 443 and read back, for protocol-detection checks (a proxy that leaves the tunnel alone
//! carries them verbatim both ways).

use std::time::Duration;

use mock_servers::SCENARIO_HEADER;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::endpoint::ProxyEndpoint;
use crate::exchange::Credentials;

const TUNNEL_TIMEOUT: Duration = Duration::from_secs(10);

/// One raw exchange through a CONNECT tunnel.
#[derive(Debug, Clone)]
pub struct RawTunnelExchange {
    pub host: String,
    /// The proxy's status line for the CONNECT.
    pub connect_status: String,
    pub sent: Vec<u8>,
    /// What the server said before the client sent anything, when the client waited for it.
    pub greeting: Option<Vec<u8>>,
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
        if let Some(greeting) = &self.greeting {
            write!(
                f,
                "; the server spoke first: {:?}",
                String::from_utf8_lossy(greeting)
            )?;
        }
        if let Some(why) = &self.stopped {
            write!(f, " ({why})")?;
        }
        Ok(())
    }
}

/// The CONNECT request's head: the scenario header, the component's User-Agent and, when
/// presented, the proxy credentials.
fn connect_request(
    proxy: &ProxyEndpoint,
    scenario: &str,
    credentials: Credentials,
    user_agent: Option<&str>,
    host: &str,
) -> std::io::Result<String> {
    let mut connect = format!(
        "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n{SCENARIO_HEADER}: {}\r\n",
        scenario
    );
    if let Some(agent) = user_agent {
        connect.push_str(&format!("User-Agent: {agent}\r\n"));
    }
    if credentials == Credentials::Presented {
        let (user, password) = proxy
            .credentials()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let basic = basic_credentials(user, password);
        connect.push_str(&format!("Proxy-Authorization: Basic {basic}\r\n"));
    }
    connect.push_str("\r\n");
    Ok(connect)
}

/// Opens a CONNECT tunnel to `host:443` through `proxy`, sends `sent` and reads as many bytes
/// back (bounded in time), keeping what the proxy answered and why reading stopped. With
/// `greeting`, the client first waits that long for the server to speak (a server-first
/// protocol) and reads its greeting line before it sends a byte; without one it gives up. The
/// CONNECT carries `user_agent` (the component the tunnel stands for) when given.
pub async fn raw_tunnel(
    proxy: &ProxyEndpoint,
    scenario: &str,
    credentials: Credentials,
    user_agent: Option<&str>,
    host: &str,
    sent: Vec<u8>,
    greeting: Option<Duration>,
) -> RawTunnelExchange {
    let mut exchange = RawTunnelExchange {
        host: host.to_owned(),
        connect_status: String::new(),
        sent,
        greeting: None,
        received: Vec::new(),
        stopped: None,
    };
    let bound = TUNNEL_TIMEOUT + greeting.unwrap_or_default();
    let outcome = tokio::time::timeout(bound, async {
        let stream = TcpStream::connect(proxy.address()).await?;
        let mut stream = BufReader::new(stream);
        let connect = connect_request(proxy, scenario, credentials, user_agent, host)?;
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
        if let Some(wait) = greeting {
            let mut line = Vec::new();
            match tokio::time::timeout(wait, stream.read_until(b'\n', &mut line)).await {
                Ok(read) => {
                    read?;
                    exchange.greeting = Some(line);
                }
                Err(_) => {
                    exchange.stopped = Some(format!(
                        "the server's greeting did not come through within {wait:?}"
                    ));
                    return Ok(());
                }
            }
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
        Err(_) => exchange.stopped = Some(format!("no complete reply within {bound:?}")),
    }
    exchange
}

fn basic_credentials(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
