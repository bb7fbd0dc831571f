//! Before any scenario: is the proxy there, and can it reach the harness? First a TCP connect
//! (bounded), then one request through the proxy to an update host, which must arrive at the
//! harness's origin. Each failure is one plain sentence naming the host and port tried, and
//! what the DNS server saw, so an administrator knows which setting to fix.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::LabError;
use crate::external::setup::{CONNECT_TIMEOUT, FIRST_REQUEST_TIMEOUT};
use crate::external::side::HarnessSide;

/// `HOST:PORT` of an `http://HOST:PORT[/]` proxy URL.
pub fn proxy_authority(url: &str) -> Result<(String, u16), LabError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        LabError::Usage(format!(
            "--proxy {url}: write the proxy as http://HOST:PORT (the harness speaks plain HTTP to a forward proxy)"
        ))
    })?;
    let authority = rest.trim_end_matches('/');
    let (host, port) = authority
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            LabError::Usage(format!("--proxy {url}: give the port, http://HOST:PORT"))
        })?;
    if host.is_empty() || authority.contains('/') {
        return Err(LabError::Usage(format!(
            "--proxy {url}: write the proxy as http://HOST:PORT"
        )));
    }
    Ok((host.to_owned(), port))
}

/// Connects to the proxy within [`CONNECT_TIMEOUT`] (name resolution included).
pub async fn proxy_accepts_connections(url: &str) -> Result<SocketAddr, LabError> {
    let (host, port) = proxy_authority(url)?;
    let unreachable = |why: String| {
        LabError::ProxyUnreachable(format!(
            "the proxy under test at {host}:{port} cannot be reached: {why}"
        ))
    };
    let attempt = async {
        let stream = TcpStream::connect((host.as_str(), port)).await?;
        stream.peer_addr()
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(addr)) => Ok(addr),
        Ok(Err(error)) => Err(unreachable(error.to_string().to_lowercase())),
        Err(_) => Err(unreachable(format!(
            "no answer to a TCP connection within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Sends one request for an update host through the proxy and checks the harness's origin got
/// it, within [`FIRST_REQUEST_TIMEOUT`]. A 407 is accepted (asking update traffic for
/// credentials is for the scenarios to judge) when no credentials were given.
pub async fn first_request_reaches_origin(
    proxy: SocketAddr,
    proxy_url: &str,
    credentials: Option<&(String, String)>,
    side: &HarnessSide,
) -> Result<(), LabError> {
    let host = conformance_model::WINDOWS_UPDATE_HOSTS[0].names[0];
    let token = format!("external-readiness-{:08x}", rand::random::<u32>());
    let path = mock_servers::UpdateOrigin::update_path(16, &token);
    let authorization = credentials.map_or_else(String::new, |(user, password)| {
        format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64(&format!("{user}:{password}"))
        )
    });
    let request = format!(
        "GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\n{authorization}Connection: close\r\n\r\n",
        conformance_client::ClientProfile::Bits.user_agent()
    );
    let exchange = async {
        let mut stream = TcpStream::connect(proxy).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(FIRST_REQUEST_TIMEOUT, exchange).await;
    let reached = !side.origin.journal().requests_containing(&token).is_empty();
    if reached {
        return Ok(());
    }
    let setup = side.setup();
    let said = match &answer {
        Ok(Ok(bytes)) => {
            let text = String::from_utf8_lossy(bytes);
            let status = text.lines().next().unwrap_or("").trim().to_owned();
            if status.split_whitespace().nth(1) == Some("407") {
                return Ok(());
            }
            if status.is_empty() {
                "closed the connection without an answer".to_owned()
            } else {
                format!("answered {status:?}")
            }
        }
        Ok(Err(error)) => format!("failed ({error})"),
        Err(_) => format!(
            "did not answer within {} s",
            FIRST_REQUEST_TIMEOUT.as_secs()
        ),
    };
    let asked_dns = !side.dns().queries_for(host).is_empty();
    let fix = if asked_dns {
        format!(
            "it resolved {host} through the harness's DNS server but never reached the origin at \
             {}:{} — allow the proxy to connect there",
            setup.expose, setup.ports.http
        )
    } else {
        format!(
            "it never asked the harness's DNS server at {}:{} for {host} — point the proxy's DNS at it",
            setup.expose, setup.ports.dns
        )
    };
    Err(LabError::ProxyCannotReachHarness(format!(
        "the proxy under test at {proxy_url} {said} to GET http://{host}{path}, and the request \
         never reached the harness: {fix}"
    )))
}

/// Base64 of `text` (standard alphabet, padded): the Basic credentials of one request.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_http_host_port() {
        assert_eq!(
            proxy_authority("http://127.0.0.1:3128").unwrap(),
            ("127.0.0.1".to_owned(), 3128)
        );
        assert_eq!(
            proxy_authority("http://proxy.corp:8080/").unwrap(),
            ("proxy.corp".to_owned(), 8080)
        );
        for bad in [
            "127.0.0.1:3128",
            "http://proxy",
            "https://p:1",
            "http://p:1/x",
        ] {
            assert!(proxy_authority(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_credentials_are_base64() {
        assert_eq!(base64("lab:secret"), "bGFiOnNlY3JldA==");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
    }

    #[tokio::test]
    async fn nothing_listening_is_one_sentence_within_the_bound() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let started = std::time::Instant::now();
        let error = proxy_accepts_connections(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(started.elapsed() <= CONNECT_TIMEOUT + std::time::Duration::from_millis(500));
        let text = error.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }
}
