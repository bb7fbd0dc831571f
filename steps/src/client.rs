//! Clients that behave like the Windows Update agent (BITS): plain and ranged downloads over
//! HTTP and through CONNECT, with or without proxy credentials. Each exchange is kept with
//! what the client saw: status, headers, body check against the generated payload, and the
//! issuer of the certificate it was shown.

use std::fmt;
use std::time::Duration;

use conformance_lab::Lab;
use conformance_spec::{LAB_PASSWORD, LAB_USER};
use cucumber::when;
use futures::StreamExt;
use mock_servers::{ByteRange, Payload, RangeRequest, REQUEST_TOKEN_HEADER, SCENARIO_HEADER};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::parameters::{Credentials, Resource, Scheme};
use crate::tls_capture::{client_tls, issuer_of, SeenLeaf};
use crate::world::{ConformanceWorld, Served};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);
/// How far past what it asked for a client reads before it stops.
const READ_MARGIN: u64 = 1 << 20;
/// Bodies up to this size are always read whole (a 200 for a range of a small file is
/// evidence worth having whole; of a multi-GiB file it is not).
const ALWAYS_READ: u64 = 64 << 20;

/// One request a client made and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub scheme: Scheme,
    pub credentials: Credentials,
    pub range: Option<String>,
    /// Other request headers the client sent (If-Range …).
    pub extra_headers: Vec<(String, String)>,
    pub request_token: String,
    pub outcome: Outcome,
}

/// What the client got.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(ClientResponse),
    /// The proxy refused the CONNECT (reqwest reports that as an error, not a response).
    TunnelRefused {
        /// Known for 407 only: reqwest reports any other refusal without its status (the
        /// access log has it).
        status: Option<u16>,
        message: String,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ClientResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body_len: u64,
    /// Offset of the first byte that differs from the generated payload (files only).
    pub body_mismatch: Option<u64>,
    /// Issuer of the leaf certificate the client was shown (HTTPS only).
    pub issuer: Option<String>,
    /// The parts of a `multipart/byteranges` body, each checked against the payload.
    pub parts: Vec<ReceivedPart>,
    /// The client stopped reading: the body ran past everything it asked for.
    pub stopped_reading: bool,
}

/// One part of a `multipart/byteranges` response.
#[derive(Debug, Clone)]
pub struct ReceivedPart {
    pub content_range: Option<String>,
    pub len: u64,
    /// Offset in the part of the first byte that differs from the payload.
    pub mismatch: Option<u64>,
}

impl fmt::Display for ReceivedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = self.content_range.as_deref().unwrap_or("no Content-Range");
        write!(f, "[{range}: {} bytes", self.len)?;
        if let Some(offset) = self.mismatch {
            write!(f, ", CORRUPT from part offset {offset}")?;
        }
        write!(f, "]")
    }
}

impl ClientResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The satisfiable ranges a `Range` header value asks for in a file of `size` bytes; empty
/// when there is no header or it is not a byte-range header.
pub(crate) fn requested_ranges(range: Option<&str>, size: u64) -> Vec<ByteRange> {
    range
        .and_then(RangeRequest::parse_header)
        .map(|ranges| ranges.iter().filter_map(|r| r.resolve(size)).collect())
        .unwrap_or_default()
}

impl Exchange {
    /// The satisfiable ranges this request asked for in a file of `size` bytes.
    pub fn requested_ranges(&self, size: u64) -> Vec<ByteRange> {
        requested_ranges(self.range.as_deref(), size)
    }

    /// Whether the client got 200 with exactly the `size`-byte generated file.
    pub fn delivered_whole_file(&self, size: u64) -> bool {
        self.response()
            .is_some_and(|r| r.status == 200 && r.body_len == size && r.body_mismatch.is_none())
    }

    /// The HTTP status the client ended up with (a refused CONNECT counts as its status).
    pub fn status(&self) -> Option<u16> {
        match &self.outcome {
            Outcome::Response(r) => Some(r.status),
            Outcome::TunnelRefused { status, .. } => *status,
            Outcome::Failed(_) => None,
        }
    }

    pub fn response(&self) -> Option<&ClientResponse> {
        match &self.outcome {
            Outcome::Response(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credentials = match self.credentials {
            Credentials::Without => "no credentials",
            Credentials::Lab => "lab credentials",
        };
        write!(f, "{} {} ({credentials}", self.method, self.url)?;
        if let Some(range) = &self.range {
            write!(f, ", Range: {range}")?;
        }
        for (name, value) in &self.extra_headers {
            write!(f, ", {name}: {value}")?;
        }
        write!(f, ", token {}) => ", self.request_token)?;
        match &self.outcome {
            Outcome::Response(r) => {
                write!(f, "{} with {} body bytes", r.status, r.body_len)?;
                if let Some(offset) = r.body_mismatch {
                    write!(f, ", CORRUPT from offset {offset}")?;
                }
                if r.stopped_reading {
                    write!(f, " (the client stopped reading: more than it asked for)")?;
                }
                for name in [
                    "content-range",
                    "age",
                    "x-cache",
                    "cache-status",
                    "x-conformance-echo",
                    "proxy-authenticate",
                    "via",
                ] {
                    if let Some(value) = r.header(name) {
                        write!(f, "; {name}: {value}")?;
                    }
                }
                if let Some(issuer) = &r.issuer {
                    write!(f, "; certificate issued by {issuer}")?;
                }
                if !r.parts.is_empty() {
                    write!(f, "; parts:")?;
                    for part in &r.parts {
                        write!(f, " {part}")?;
                    }
                }
                Ok(())
            }
            Outcome::TunnelRefused {
                status: Some(status),
                message,
            } => write!(f, "CONNECT refused with {status} ({message})"),
            Outcome::TunnelRefused {
                status: None,
                message,
            } => write!(
                f,
                "CONNECT refused ({message}; the client library does not report the status)"
            ),
            Outcome::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}

/// A request to make through the proxy under test.
pub(crate) struct Fetch<'a> {
    pub lab: &'a Lab,
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
}

impl Fetch<'_> {
    pub(crate) async fn send(self) -> Exchange {
        let request_token = format!(
            "{}-r{:06x}",
            self.scenario,
            rand::random::<u32>() & 0xff_ffff
        );
        let outcome = match self.try_send(&request_token).await {
            Ok(outcome) => outcome,
            Err(SendError::Http(error)) => classify_error(&error),
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
        let mut proxy =
            reqwest::Proxy::all(self.lab.proxy_url())?.headers(scenario_headers.clone());
        if self.credentials == Credentials::Lab {
            proxy = proxy.basic_auth(LAB_USER, LAB_PASSWORD);
        }
        let pki = self.lab.pki();
        let (tls, seen) = client_tls(&[pki.origin_ca.cert_der(), pki.interception_ca.cert_der()])?;
        let client = reqwest::Client::builder()
            .proxy(proxy)
            .default_headers(scenario_headers)
            .tls_backend_preconfigured(tls)
            .http1_only()
            .pool_max_idle_per_host(0)
            .timeout(CLIENT_TIMEOUT)
            .build()?;
        Ok((client, seen))
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
        let mut response = request.send().await?;
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
        let issuer = seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
            .and_then(issuer_of);
        let first_offset = response
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let boundary = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .filter(|m| m.type_() == mime::MULTIPART)
            .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned()));
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
            parts,
            stopped_reading,
        }))
    }
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
    Http(reqwest::Error),
    Body(String),
}

impl From<reqwest::Error> for SendError {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error)
    }
}

fn classify_error(error: &reqwest::Error) -> Outcome {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if message.contains("proxy authorization required") || message.contains("407") {
        return Outcome::TunnelRefused {
            status: Some(407),
            message,
        };
    }
    if message.contains("tunnel error: unsuccessful") {
        return Outcome::TunnelRefused {
            status: None,
            message,
        };
    }
    Outcome::Failed(message)
}

/// What a client asks for, besides the URL of the served file or page.
#[derive(Debug, Clone)]
pub(crate) struct Ask {
    pub method: reqwest::Method,
    pub scheme: Scheme,
    pub credentials: Credentials,
    pub range: Option<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl Ask {
    pub(crate) fn get(scheme: Scheme, credentials: Credentials) -> Self {
        Self {
            method: reqwest::Method::GET,
            scheme,
            credentials,
            range: None,
            extra_headers: Vec::new(),
        }
    }

    /// A BITS request: no credentials (the agent runs as SYSTEM).
    pub(crate) fn bits(scheme: Scheme) -> Self {
        Self::get(scheme, Credentials::Without)
    }

    pub(crate) fn with_range(mut self, range: impl Into<String>) -> Self {
        self.range = Some(range.into());
        self
    }

    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn head(mut self) -> Self {
        self.method = reqwest::Method::HEAD;
        self
    }
}

impl ConformanceWorld {
    /// Sends `ask` for the file or page this scenario serves and keeps the exchange.
    pub(crate) async fn fetch(&mut self, ask: Ask) -> Result<&Exchange, String> {
        let served = self.served()?.clone();
        let exchange = self.fetch_served(&served, ask).await;
        self.exchanges.push(exchange);
        Ok(self.exchanges.last().expect("just pushed"))
    }

    /// Sends `ask` for `served` (one of several files a scenario serves).
    pub(crate) async fn fetch_served(&self, served: &Served, ask: Ask) -> Exchange {
        let payload = (served.resource == Resource::File && ask.method == reqwest::Method::GET)
            .then(|| Payload::for_target(&served.target, served.size));
        let read_limit = (served.resource == Resource::File).then(|| {
            let asked = match requested_ranges(ask.range.as_deref(), served.size) {
                ranges if ranges.is_empty() => served.size,
                ranges => ranges.iter().map(ByteRange::len).sum(),
            };
            (asked + READ_MARGIN).max((served.size + READ_MARGIN).min(ALWAYS_READ))
        });
        Fetch {
            lab: &self.lab,
            scenario: &self.token,
            method: ask.method,
            url: format!(
                "{}://{}{}",
                ask.scheme.url_prefix(),
                served.host,
                served.target
            ),
            scheme: ask.scheme,
            credentials: ask.credentials,
            range: ask.range,
            extra_headers: ask.extra_headers,
            payload,
            read_limit,
        }
        .send()
        .await
    }
}

#[when(expr = "a client {credentials} requests that {resource} over {scheme}")]
async fn a_client_requests(
    world: &mut ConformanceWorld,
    credentials: Credentials,
    resource: Resource,
    scheme: Scheme,
) -> Result<(), String> {
    let served = world.served()?;
    if served.resource != resource {
        return Err(format!(
            "this scenario set up a {:?}, not a {resource:?}",
            served.resource
        ));
    }
    world.fetch(Ask::get(scheme, credentials)).await?;
    Ok(())
}

#[when("the client follows the first link of that page")]
async fn the_client_follows_the_first_link(world: &mut ConformanceWorld) -> Result<(), String> {
    let link = world
        .linked
        .first()
        .cloned()
        .ok_or("the page links nothing: serve a page that links objects first")?;
    let last = world.last_exchange()?;
    let served = Served {
        resource: Resource::Page,
        host: world.served()?.host.clone(),
        target: link,
        size: 0,
    };
    let exchange = world
        .fetch_served(&served, Ask::get(last.scheme, last.credentials))
        .await;
    world.exchanges.push(exchange);
    Ok(())
}

#[when("the same client requests it again")]
async fn the_same_client_requests_again(world: &mut ConformanceWorld) -> Result<(), String> {
    let last = world.last_exchange()?;
    let mut ask = Ask::get(last.scheme, last.credentials);
    ask.range = last.range.clone();
    ask.extra_headers = last.extra_headers.clone();
    world.fetch(ask).await?;
    Ok(())
}
