//! One request through the proxy under test, made the way an update client makes it, with
//! everything the client saw kept as an [`Exchange`]. The body is streamed and checked
//! against the generated payload, never held in memory.

use std::time::Duration;

use futures::StreamExt;
use mock_servers::{Payload, REQUEST_TOKEN_HEADER, SCENARIO_HEADER};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::endpoint::ProxyEndpoint;
use crate::exchange::{ClientResponse, Credentials, Exchange, Outcome, ReceivedPart, Scheme};
use crate::tls_capture::{client_tls, issuer_of, SeenLeaf};

/// How long a client waits for a connection, or for the next bytes of a reply: a stalled
/// exchange fails, a long download that keeps moving does not (a 300 MiB body on a loaded
/// 2-core machine can take longer than any fixed total).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A request to make through the proxy under test.
pub struct Fetch<'a> {
    pub proxy: &'a ProxyEndpoint,
    pub scenario: &'a str,
    pub method: reqwest::Method,
    pub url: String,
    pub scheme: Scheme,
    pub credentials: Credentials,
    pub range: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// Verify the body against this payload, if it is a generated file.
    pub payload: Option<Payload>,
    /// Stop reading a body that runs past this many bytes (a widened range of a huge file).
    pub read_limit: Option<u64>,
    /// A request body (the Windows Update Agent's SOAP call).
    pub body: Option<Vec<u8>>,
}

impl Fetch<'_> {
    pub async fn send(self) -> Exchange {
        let request_token = format!(
            "{}-r{:06x}",
            self.scenario,
            rand::random::<u32>() & 0xff_ffff
        );
        let outcome = match self.try_send(&request_token).await {
            Ok(outcome) => outcome,
            Err(SendError::BeforeResponse(error)) => classify_error(&error, true),
            Err(SendError::Http(error)) => classify_error(&error, false),
            Err(SendError::Setup(error)) => {
                Outcome::Failed(format!("building the client: {error:#}"))
            }
            Err(SendError::Body(message)) => Outcome::Failed(message),
        };
        Exchange {
            method: self.method.to_string(),
            url: self.url,
            scheme: self.scheme,
            credentials: self.credentials,
            range: self.range,
            extra_headers: self.extra_headers,
            request_token,
            outcome,
        }
    }

    fn client(&self) -> anyhow::Result<(reqwest::Client, SeenLeaf)> {
        let mut scenario_headers = HeaderMap::new();
        scenario_headers.insert(
            HeaderName::from_static(SCENARIO_HEADER),
            HeaderValue::from_str(self.scenario).expect("scenario tokens are ASCII"),
        );
        // The CONNECT carries the request's User-Agent too: a proxy sees a CONNECT as a request
        // of its own, and a rule refusing requests without one applies to it. reqwest also
        // inserts these headers into a plain-HTTP request it sends to the proxy, replacing the
        // request's own value (`HeaderMap::insert`), so the request still carries exactly one.
        let mut proxy_headers = scenario_headers.clone();
        if let Some(agent) = self.user_agent() {
            proxy_headers.insert(
                reqwest::header::USER_AGENT,
                HeaderValue::from_str(agent).map_err(|e| anyhow::anyhow!("User-Agent: {e}"))?,
            );
        }
        let mut proxy = reqwest::Proxy::all(&self.proxy.url)?.headers(proxy_headers);
        if self.credentials == Credentials::Presented {
            let (user, password) = self.proxy.credentials()?;
            proxy = proxy.basic_auth(user, password);
        }
        let (tls, seen) = client_tls(&self.proxy.trusted_roots)?;
        let client = reqwest::Client::builder()
            .proxy(proxy)
            .default_headers(scenario_headers)
            .tls_backend_preconfigured(tls)
            .http1_only()
            // An update client's redirects are steps of their own, each journaled: never
            // followed silently.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .connect_timeout(CLIENT_TIMEOUT)
            .read_timeout(CLIENT_TIMEOUT)
            .build()?;
        Ok((client, seen))
    }

    /// The User-Agent this request carries: the one among its headers (none only for a probe
    /// whose point is to have none).
    fn user_agent(&self) -> Option<&str> {
        self.extra_headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
            .map(|(_, value)| value.as_str())
    }

    async fn try_send(&self, request_token: &str) -> Result<Outcome, SendError> {
        let (client, seen) = self.client().map_err(SendError::Setup)?;
        let mut request = client
            .request(self.method.clone(), &self.url)
            .header(REQUEST_TOKEN_HEADER, request_token);
        if let Some(range) = &self.range {
            request = request.header(reqwest::header::RANGE, range);
        }
        for (name, value) in &self.extra_headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let mut response = request.send().await.map_err(SendError::BeforeResponse)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let leaf = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let issuer = leaf.as_deref().and_then(issuer_of);
        let first_offset = content_range_start(response.headers());
        let boundary = multipart_boundary(response.headers());
        let verify = self.payload.filter(|_| status == 200 || status == 206);
        let mut body_len = 0u64;
        let mut body_mismatch = None;
        let mut parts = Vec::new();
        let mut stopped_reading = false;
        if let Some(boundary) = boundary {
            let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counter = received.clone();
            let counted = response.bytes_stream().inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                }
            });
            parts = read_parts(counted, boundary, verify)
                .await
                .map_err(SendError::Body)?;
            body_len = received.load(std::sync::atomic::Ordering::Relaxed);
        } else {
            while let Some(chunk) = response.chunk().await? {
                if self.read_limit.is_some_and(|limit| body_len > limit) {
                    stopped_reading = true;
                    break;
                }
                if let (Some(payload), None) = (verify, body_mismatch) {
                    body_mismatch = payload
                        .first_mismatch(first_offset + body_len, &chunk)
                        .map(|i| body_len + i as u64);
                }
                body_len += chunk.len() as u64;
            }
        }
        Ok(Outcome::Response(ClientResponse {
            status,
            headers,
            body_len,
            body_mismatch,
            issuer,
            leaf,
            parts,
            stopped_reading,
        }))
    }
}

/// Where a ranged reply's body starts in the file (`Content-Range: bytes <first>-…`); 0 for a
/// whole one.
fn content_range_start(headers: &reqwest::header::HeaderMap) -> u64 {
    headers
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split('-').next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
}

/// The boundary of a `multipart/*` reply, if it is one.
fn multipart_boundary(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .filter(|m| m.type_() == mime::MULTIPART)
        .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned()))
}

/// Reads a `multipart/byteranges` body part by part (streamed, each part checked against the
/// payload at the offset its `Content-Range` names).
async fn read_parts<S>(
    body: S,
    boundary: String,
    payload: Option<Payload>,
) -> Result<Vec<ReceivedPart>, String>
where
    S: futures::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static,
{
    let mut multipart = multer::Multipart::new(body, boundary);
    let mut parts = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("malformed multipart/byteranges body: {e}"))?
    {
        let content_range = field
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let first = content_range
            .as_deref()
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let mut len = 0u64;
        let mut mismatch = None;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| format!("malformed multipart/byteranges part: {e}"))?
        {
            if let (Some(payload), None) = (payload, mismatch) {
                mismatch = payload
                    .first_mismatch(first + len, &chunk)
                    .map(|i| len + i as u64);
            }
            len += chunk.len() as u64;
        }
        parts.push(ReceivedPart {
            content_range,
            len,
            mismatch,
        });
    }
    Ok(parts)
}

enum SendError {
    Setup(anyhow::Error),
    /// No response head came.
    BeforeResponse(reqwest::Error),
    Http(reqwest::Error),
    Body(String),
}

impl From<reqwest::Error> for SendError {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error)
    }
}

/// hyper-util's tunnel error, as it describes itself. The type (`TunnelError`) is not exported,
/// so it cannot be downcast; its variants' own messages are matched exactly, each cause on its
/// own — never the whole chain, which carries the URL (a scenario token such as `s407-…` must
/// not turn a 403 into a 407).
const TUNNEL_AUTH_REQUIRED: &str = "tunnel error: proxy authorization required";
const TUNNEL_UNSUCCESSFUL: &str = "tunnel error: unsuccessful";

/// What a client error means; `before_response`: no response head had come (only then is a
/// closed connection the proxy's way to answer).
fn classify_error(error: &reqwest::Error, before_response: bool) -> Outcome {
    let mut causes = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let message = causes.join(": ");
    if causes.iter().any(|c| c == TUNNEL_AUTH_REQUIRED) {
        return Outcome::TunnelRefused {
            status: Some(407),
            message,
        };
    }
    if causes.iter().any(|c| c == TUNNEL_UNSUCCESSFUL) {
        return Outcome::TunnelRefused {
            status: None,
            message,
        };
    }
    if before_response && closed_without_response(error) {
        return Outcome::Closed(message);
    }
    Outcome::Failed(message)
}

/// hyper's error for a connection that ended before a whole response head, as it describes
/// itself (`hyper::Error` is not a dependency of this crate, so it is matched by its message,
/// cause by cause, as the tunnel errors are).
const INCOMPLETE_MESSAGE: &str = "connection closed before message completed";

/// Whether the connection was reset or closed before any response came: an I/O error of
/// those kinds anywhere in the chain, or hyper's incomplete message.
fn closed_without_response(error: &reqwest::Error) -> bool {
    use std::io::ErrorKind;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.to_string() == INCOMPLETE_MESSAGE {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::BrokenPipe
            ) {
                return true;
            }
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proxy that answers CONNECT with `status` once, then closes.
    async fn refusing_proxy(status: &'static str) -> String {
        recording_proxy(Some(status)).await.0
    }

    /// A proxy that reads one request head, keeps it, answers `status` (or closes without a
    /// word when `None`), then closes.
    async fn recording_proxy(
        status: Option<&'static str>,
    ) -> (String, tokio::sync::oneshot::Receiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (head, received) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => len += n,
                    }
                }
                let _ = head.send(String::from_utf8_lossy(&buf[..len]).into_owned());
                if let Some(status) = status {
                    let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                    let _ = stream.write_all(reply.as_bytes()).await;
                }
            }
        });
        (format!("http://{address}"), received)
    }

    fn endpoint(url: String) -> ProxyEndpoint {
        ProxyEndpoint {
            url,
            user: Some(("lab".to_owned(), "lab".to_owned())),
            trusted_roots: vec![lab_certs::LabPki::generate(&[
                "download.windowsupdate.com".to_owned()
            ])
            .unwrap()
            .origin_ca
            .cert_der()
            .clone()],
        }
    }

    fn fetch<'a>(proxy: &'a ProxyEndpoint, url: &str, headers: Vec<(String, String)>) -> Fetch<'a> {
        Fetch {
            proxy,
            scenario: "s1",
            method: reqwest::Method::GET,
            url: url.to_owned(),
            scheme: if url.starts_with("https") {
                Scheme::Https
            } else {
                Scheme::Http
            },
            credentials: Credentials::Presented,
            range: None,
            extra_headers: headers,
            payload: None,
            read_limit: None,
            body: None,
        }
    }

    fn user_agents(head: &str) -> Vec<&str> {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
            .map(|(_, value)| value.trim())
            .collect()
    }

    /// What the proxy reads on the wire: a plain request and a CONNECT each carry the agent's
    /// User-Agent exactly once (reqwest adds the proxy's headers to plain requests too), and a
    /// probe without one carries none.
    #[tokio::test]
    async fn a_request_and_its_connect_carry_exactly_one_user_agent() {
        let bits = crate::ClientProfile::Bits;
        for url in [
            "http://download.windowsupdate.com/s1/kb.cab",
            "https://download.windowsupdate.com/s1/kb.cab",
        ] {
            let (proxy_url, head) = recording_proxy(Some("403 Forbidden")).await;
            let proxy = endpoint(proxy_url);
            fetch(&proxy, url, bits.headers()).send().await;
            let head = head.await.unwrap();
            assert_eq!(user_agents(&head), [bits.user_agent()], "{url}: {head}");
            assert!(head.starts_with(if url.starts_with("https") {
                "CONNECT "
            } else {
                "GET "
            }));
        }
        let (proxy_url, head) = recording_proxy(Some("403 Forbidden")).await;
        let proxy = endpoint(proxy_url);
        fetch(
            &proxy,
            "http://download.windowsupdate.com/s1/probe",
            Vec::new(),
        )
        .send()
        .await;
        let head = head.await.unwrap();
        assert!(user_agents(&head).is_empty(), "{head}");
    }

    #[tokio::test]
    async fn a_connection_closed_without_a_response_is_told_apart() {
        let (proxy_url, _head) = recording_proxy(None).await;
        let proxy = endpoint(proxy_url);
        let outcome = fetch(&proxy, "http://www.example.com/s1/page", Vec::new())
            .send()
            .await
            .outcome;
        assert!(matches!(outcome, Outcome::Closed(_)), "{outcome:?}");
    }

    async fn outcome_through(status: &'static str, scenario: &str) -> Outcome {
        let proxy = ProxyEndpoint {
            user: None,
            ..endpoint(refusing_proxy(status).await)
        };
        Fetch {
            proxy: &proxy,
            scenario,
            method: reqwest::Method::GET,
            // The URL carries "407": only the tunnel error itself may say 407.
            url: format!("https://download.windowsupdate.com/{scenario}/s407-x"),
            scheme: Scheme::Https,
            credentials: Credentials::Without,
            range: None,
            extra_headers: Vec::new(),
            payload: None,
            read_limit: None,
            body: None,
        }
        .send()
        .await
        .outcome
    }

    #[tokio::test]
    async fn a_refused_connect_is_407_only_when_the_proxy_said_407() {
        let challenged = outcome_through("407 Proxy Authentication Required", "s1407-a").await;
        assert!(
            matches!(
                challenged,
                Outcome::TunnelRefused {
                    status: Some(407),
                    ..
                }
            ),
            "{challenged:?}"
        );
        let forbidden = outcome_through("403 Forbidden", "s407-b").await;
        assert!(
            matches!(forbidden, Outcome::TunnelRefused { status: None, .. }),
            "{forbidden:?}"
        );
    }
}
