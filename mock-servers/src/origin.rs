//! The update origin: one content server answering plain HTTP on one port and TLS on another
//! for every lab host name, like the Microsoft CDN. A request goes, in order, to: the
//! [`Catalog`] (registered and minted files of the real URL shapes, and redirects to other
//! update hosts); the synthetic files under [`UPDATES_PREFIX`]; the Windows Update Agent's
//! SOAP endpoint; and otherwise the scripted endpoints (wiremock) in-process, so each host
//! has one origin and one journal.
//!
//! Files are generated and streamed, with the CDN's headers (`Content-Type` by extension,
//! `Accept-Ranges`, `ETag`, `Last-Modified`, `Cache-Control` by family), conditional
//! requests (304 / 412, `If-Range`), single and multi-range GETs, and HEAD.
//!
//! The TLS port serves one leaf certificate whatever the SNI (or none), so a leaf with
//! wildcard SANs covers every drawn host name. A failed handshake is journaled as a
//! [`TlsFailure`](crate::TlsFailure).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::StreamExt;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lab_certs::LeafCertificate;
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::LazyConfigAcceptor;

use crate::accept::accept_next;
use crate::catalog::{Catalog, CatalogError, Resolved};
use crate::conditional::{evaluate, Precondition};
use crate::family::{content_type_for_path, UrlFamily, CLIENT_WEB_SERVICE_PATH};
use crate::fault_switch::FaultSwitch;
use crate::journal::{
    ListenerFailure, OriginExchange, OriginJournal, OriginRequest, Scheme, TlsFailure,
    TlsFailureStage, TlsHandshake,
};
use crate::payload::Payload;
use crate::range::{ByteRange, RangeRequest};
use crate::scripted::ScriptedEndpoints;
use crate::ECHO_TOKEN_HEADER;
use crate::REQUEST_TOKEN_HEADER;

/// Paths the content server owns: `/updates/<size in bytes>/<anything>`.
pub const UPDATES_PREFIX: &str = "/updates/";
/// Last-Modified of the synthetic files: Tue, 10 Oct 2023 17:00:00 GMT.
const SYNTHETIC_LAST_MODIFIED: u64 = 1_696_957_200;
const MULTIPART_BOUNDARY: &str = "CONFORMANCE_BYTERANGES";

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The running origin; its listeners stop when it is dropped.
#[derive(Debug)]
pub struct UpdateOrigin {
    http_addr: SocketAddr,
    tls_addr: SocketAddr,
    journal: OriginJournal,
    catalog: Catalog,
    resetting: FaultSwitch,
    _tasks: JoinSet<()>,
}

struct Shared {
    journal: OriginJournal,
    scripted: ScriptedEndpoints,
    catalog: Catalog,
    resetting: FaultSwitch,
}

impl UpdateOrigin {
    /// Starts both listeners on all interfaces (containers reach them through the host
    /// gateway), serving TLS with `leaf`.
    pub async fn start(leaf: &LeafCertificate, scripted: ScriptedEndpoints) -> Result<Self> {
        let journal = OriginJournal::default();
        let catalog = Catalog::new();
        let resetting = FaultSwitch::default();
        let context = Arc::new(Shared {
            journal: journal.clone(),
            scripted,
            catalog: catalog.clone(),
            resetting: resetting.clone(),
        });
        let http = TcpListener::bind("0.0.0.0:0")
            .await
            .context("binding the origin's HTTP port")?;
        let tls = TcpListener::bind("0.0.0.0:0")
            .await
            .context("binding the origin's TLS port")?;
        let tls_config = Arc::new(server_config(leaf)?);
        let (http_addr, tls_addr) = (http.local_addr()?, tls.local_addr()?);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(http, context.clone(), None));
        tasks.spawn(accept_loop(tls, context, Some(tls_config)));
        Ok(Self {
            http_addr,
            tls_addr,
            journal,
            catalog,
            resetting,
            _tasks: tasks,
        })
    }

    /// Lab fault injection only: once tripped, both ports reset every connection they accept
    /// (an RST, before any byte), like a crashing origin.
    pub fn reset_switch(&self) -> FaultSwitch {
        self.resetting.clone()
    }

    pub fn http_port(&self) -> u16 {
        self.http_addr.port()
    }

    pub fn tls_port(&self) -> u16 {
        self.tls_addr.port()
    }

    pub fn journal(&self) -> &OriginJournal {
        &self.journal
    }

    /// The files this origin serves: register, mint, redirect, republish.
    pub fn files(&self) -> &Catalog {
        &self.catalog
    }

    /// Republishes the catalogued file at `path` (see [`Catalog::touch`]).
    pub fn touch(&self, path: &str) -> Result<SystemTime, CatalogError> {
        self.catalog.touch(path)
    }

    /// The path of a generated update file of `size` bytes; `name` may carry per-client
    /// tokens (path segments or a query).
    pub fn update_path(size: u64, name: &str) -> String {
        format!("{UPDATES_PREFIX}{size}/{}", name.trim_start_matches('/'))
    }
}

fn server_config(leaf: &LeafCertificate) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert_der().clone()], leaf.private_key_der())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

async fn accept_loop(
    listener: TcpListener,
    context: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = match accept_next(&listener).await {
            Ok(accepted) => accepted,
            Err(error) => {
                let port = listener.local_addr().map_or(0, |a| a.port());
                context.journal.record_listener_failure(ListenerFailure {
                    port,
                    reason: error.to_string(),
                });
                return;
            }
        };
        if context.resetting.tripped() {
            let _ = stream.set_zero_linger();
            drop(stream);
            continue;
        }
        let context = context.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let connection = context.journal.next_connection_id();
            let _ = match tls {
                None => serve_http(stream, context, connection, Scheme::Http).await,
                Some(config) => serve_tls_port(stream, peer, context, connection, config).await,
            };
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_http<S>(
    stream: S,
    context: Arc<Shared>,
    connection: u64,
    scheme: Scheme,
) -> Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let context = context.clone();
        async move { Ok::<_, Infallible>(respond(request, &context, connection, scheme).await) }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await?;
    Ok(())
}

/// The TLS port: records the ClientHello (SNI, JA4) then serves HTTP over TLS. Bytes that
/// are not TLS are recorded and echoed back verbatim, so a step can check that a tunnel
/// carried them unchanged. A handshake that fails is journaled with its reason.
async fn serve_tls_port(
    mut stream: TcpStream,
    peer: SocketAddr,
    context: Arc<Shared>,
    connection: u64,
    config: Arc<rustls::ServerConfig>,
) -> Result<()> {
    let fail = |stage, sni: Option<String>, reason: String| {
        context.journal.record_tls_failure(TlsFailure {
            connection,
            peer,
            sni,
            stage,
            reason,
        });
    };
    // A client that says nothing may be waiting for a server-first protocol's greeting.
    // (`readable()` may report readiness spuriously; a peek waits for a byte or the end.)
    let mut first = [0u8; 1];
    if tokio::time::timeout(SERVER_FIRST_AFTER, stream.peek(&mut first))
        .await
        .is_err()
    {
        stream.write_all(SERVER_GREETING).await?;
        context.journal.record_greeting(connection);
    }
    let first_record = match peek_first_record(&stream).await {
        Ok(record) => record,
        Err(error) => {
            fail(TlsFailureStage::ClientHello, None, format!("{error:#}"));
            return Err(error);
        }
    };
    if first_record.first() != Some(&0x16) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            context.journal.record_raw_tunnel(connection, &buf[..n]);
            stream.write_all(&buf[..n]).await?;
        }
    }
    let ja4 = huginn_net_tls::parse_tls_client_hello_ja4(&first_record);
    let start = match LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await {
        Ok(start) => start,
        Err(error) => {
            fail(TlsFailureStage::ClientHello, None, error.to_string());
            return Err(error.into());
        }
    };
    let sni = start.client_hello().server_name().map(str::to_owned);
    context.journal.record_handshake(TlsHandshake {
        connection,
        sni: sni.clone(),
        ja4,
    });
    let tls = match start.into_stream(config).await {
        Ok(tls) => tls,
        Err(error) => {
            fail(TlsFailureStage::Handshake, sni, error.to_string());
            return Err(error.into());
        }
    };
    serve_http(tls, context, connection, Scheme::Https).await
}

/// How long the TLS port waits for a client's first byte before it speaks first, as the
/// service of a server-first protocol does (a banner): a tunnel that inspects the protocol
/// holds the connection until the client speaks, so the greeting never arrives. TLS clients
/// speak within milliseconds of the tunnel opening.
pub const SERVER_FIRST_AFTER: Duration = Duration::from_millis(2500);

/// What the origin says first to a silent client.
pub const SERVER_GREETING: &[u8] = b"220 update-origin ready\r\n";

/// Waits (bounded) until the first TLS record is complete in the socket buffer and returns it
/// without consuming it; returns what arrived if it is not TLS.
async fn peek_first_record(stream: &TcpStream) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; 16 * 1024 + 5];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline, stream.peek(&mut buf))
            .await
            .context("no ClientHello within 10 s")??;
        if n == 0 {
            anyhow::bail!("connection closed before any byte");
        }
        if buf[0] != 0x16 {
            return Ok(buf[..n].to_vec());
        }
        if n >= 5 {
            let wanted = 5 + usize::from(u16::from_be_bytes([buf[3], buf[4]]));
            if n >= wanted.min(buf.len()) {
                return Ok(buf[..n.min(wanted)].to_vec());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("incomplete ClientHello within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn respond(
    request: Request<Incoming>,
    context: &Shared,
    connection: u64,
    scheme: Scheme,
) -> Response<Body> {
    let (target, host) = target_and_host(&request);
    let mut exchange = exchange_of(&request, connection, scheme, &target, &host);
    let echo = request.headers().get(REQUEST_TOKEN_HEADER).cloned();
    let path = target.split('?').next().unwrap_or("/");
    let (mut response, body) = match context.catalog.resolve(&host, &target) {
        Some(Resolved::File(file)) => {
            exchange.file = Some(file.path.clone());
            let served = ServedFile {
                payload: file.payload(),
                etag: file.etag(),
                last_modified: file.last_modified,
                content_type: file.content_type(),
                cache_control: file.cache_control(),
            };
            serve_file(&request, &served)
        }
        Some(Resolved::Redirect { path, redirect }) => {
            exchange.file = Some(path);
            exchange.location = Some(redirect.location.clone());
            redirect_response(redirect.status, &redirect.location)
        }
        None if target.starts_with(UPDATES_PREFIX) => match synthetic_file(&target) {
            Some(served) => serve_file(&request, &served),
            None => (status_only(StatusCode::NOT_FOUND), Some(empty_body())),
        },
        None if path.eq_ignore_ascii_case(CLIENT_WEB_SERVICE_PATH) => {
            let (response, body, read) = crate::soap::answer(request).await;
            exchange.request_body_bytes = read;
            (response, Some(buffered(body)))
        }
        None => {
            let (response, body, read) = context.scripted.forward(request).await;
            exchange.request_body_bytes = Some(read);
            (response, Some(buffered(body)))
        }
    };
    if let Some(echo) = echo {
        response.headers_mut().insert(ECHO_TOKEN_HEADER, echo);
    }
    exchange.request.status = response.status().as_u16();
    exchange.response_headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let counter = context.journal.record_exchange(exchange);
    counted_response(response, body, counter)
}

/// The request's target (path and query) and the host it names.
fn target_and_host<B>(request: &Request<B>) -> (String, String) {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(request.uri().host())
        .unwrap_or("")
        .to_owned();
    (target, host)
}

/// The journal entry of a request as it arrived; the response side is filled in later.
fn exchange_of<B>(
    request: &Request<B>,
    connection: u64,
    scheme: Scheme,
    target: &str,
    host: &str,
) -> OriginExchange {
    let record = OriginRequest {
        connection,
        scheme,
        method: request.method().to_string(),
        target: target.to_owned(),
        host: host.to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        status: 0,
        bytes_sent: 0,
    };
    OriginExchange {
        conditionals: record.conditional_headers(),
        request: record,
        request_body_bytes: None,
        file: None,
        location: None,
        response_headers: Vec::new(),
    }
}

/// The response with its body streamed, each chunk counted into the journal's bytes sent.
fn counted_response(
    response: Response<()>,
    body: Option<ByteStream>,
    counter: Arc<AtomicU64>,
) -> Response<Body> {
    let (parts, ()) = response.into_parts();
    let body = match body {
        None => Full::new(Bytes::new()).boxed_unsync(),
        Some(stream) => {
            let counted = stream.map(move |chunk| {
                counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Ok(Frame::data(chunk))
            });
            BodyExt::boxed_unsync(StreamBody::new(counted))
        }
    };
    Response::from_parts(parts, body)
}

type ByteStream = futures::stream::BoxStream<'static, Bytes>;

fn buffered(body: Bytes) -> ByteStream {
    futures::stream::iter((!body.is_empty()).then_some(body)).boxed()
}

fn empty_body() -> ByteStream {
    futures::stream::empty().boxed()
}

/// What the origin needs to know to serve one generated file.
struct ServedFile {
    payload: Payload,
    etag: String,
    last_modified: SystemTime,
    content_type: &'static str,
    cache_control: &'static str,
}

/// A synthetic `/updates/<size>/<name>` file: content keyed by the whole target (query
/// included), fixed Last-Modified.
fn synthetic_file(target: &str) -> Option<ServedFile> {
    let rest = &target[UPDATES_PREFIX.len()..];
    let size = rest.split('/').next()?.parse::<u64>().ok()?;
    let payload = Payload::for_target(target, size);
    Some(ServedFile {
        etag: payload.etag(),
        payload,
        last_modified: std::time::UNIX_EPOCH + Duration::from_secs(SYNTHETIC_LAST_MODIFIED),
        content_type: content_type_for_path(target),
        cache_control: UrlFamily::Synthetic.cache_control(),
    })
}

/// `302 Found` (or the registered status) with `Location` and IIS's small HTML body.
fn redirect_response(status: u16, location: &str) -> (Response<()>, Option<ByteStream>) {
    let mut response = status_only(StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND));
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header_value(location));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    let body = Bytes::from(format!(
        "<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>This document may be found <a HREF=\"{location}\">here</a></body>"
    ));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    (response, Some(buffered(body)))
}

/// Serves a generated file: methods, preconditions, then the whole file or its ranges.
fn serve_file<B>(request: &Request<B>, file: &ServedFile) -> (Response<()>, Option<ByteStream>) {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, header_value(&file.etag));
    headers.insert(
        header::LAST_MODIFIED,
        header_value(&httpdate::fmt_http_date(file.last_modified)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(file.cache_control),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let method = request.method();
    if let Some(answer) = answer_other_methods(method, &mut headers) {
        return answer;
    }
    let range_applies = match evaluate(method, request.headers(), &file.etag, file.last_modified) {
        Precondition::NotModified => {
            // RFC 9110 §15.4.5: the validators and caching headers a 200 would carry, no body.
            return (with_headers(StatusCode::NOT_MODIFIED, headers), None);
        }
        Precondition::Failed => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
            return (
                with_headers(StatusCode::PRECONDITION_FAILED, headers),
                Some(empty_body()),
            );
        }
        Precondition::Proceed { range_applies } => range_applies,
    };
    let is_head = method == Method::HEAD;
    let ranges = request
        .headers()
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .and_then(RangeRequest::parse_header)
        .filter(|_| range_applies);
    let (status, length, stream) = file_body(file, ranges, &mut headers);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    (with_headers(status, headers), (!is_head).then_some(stream))
}

/// `OPTIONS` answered, and any method but `GET` and `HEAD` refused; `None` for those two.
fn answer_other_methods(
    method: &Method,
    headers: &mut HeaderMap,
) -> Option<(Response<()>, Option<ByteStream>)> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    headers.insert(
        header::ALLOW,
        HeaderValue::from_static("OPTIONS, GET, HEAD"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    let status = if method == Method::OPTIONS {
        StatusCode::OK
    } else {
        StatusCode::METHOD_NOT_ALLOWED
    };
    Some((
        with_headers(status, std::mem::take(headers)),
        Some(empty_body()),
    ))
}

/// The whole file, one range of it, several ranges as multipart, or none satisfiable: the
/// status, the body's length and its stream (headers that go with it added).
fn file_body(
    file: &ServedFile,
    ranges: Option<Vec<RangeRequest>>,
    headers: &mut HeaderMap,
) -> (StatusCode, u64, ByteStream) {
    let size = file.payload.size();
    let payload = file.payload;
    let Some(ranges) = ranges else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        let last = size.saturating_sub(1);
        return (StatusCode::OK, size, payload.stream(0, last).boxed());
    };
    let resolved: Vec<ByteRange> = ranges.iter().filter_map(|r| r.resolve(size)).collect();
    match resolved.as_slice() {
        [] => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{size}")),
            );
            (StatusCode::RANGE_NOT_SATISFIABLE, 0, empty_body())
        }
        [single] => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&single.content_range(size)),
            );
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.content_type),
            );
            (
                StatusCode::PARTIAL_CONTENT,
                single.len(),
                payload.stream(single.first, single.last).boxed(),
            )
        }
        several => {
            headers.insert(
                header::CONTENT_TYPE,
                header_value(&format!(
                    "multipart/byteranges; boundary={MULTIPART_BOUNDARY}"
                )),
            );
            let (length, stream) = multipart(payload, several, file.content_type);
            (StatusCode::PARTIAL_CONTENT, length, stream)
        }
    }
}

/// A `multipart/byteranges` body (RFC 9110 §14.6), streamed part by part.
fn multipart(payload: Payload, ranges: &[ByteRange], content_type: &str) -> (u64, ByteStream) {
    let size = payload.size();
    let mut length = 0u64;
    let mut parts: Vec<ByteStream> = Vec::new();
    for range in ranges {
        let head = format!(
            "\r\n--{MULTIPART_BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
            range.content_range(size)
        );
        length += head.len() as u64 + range.len();
        parts.push(futures::stream::once(async move { Bytes::from(head) }).boxed());
        parts.push(payload.stream(range.first, range.last).boxed());
    }
    let tail = format!("\r\n--{MULTIPART_BOUNDARY}--\r\n");
    length += tail.len() as u64;
    parts.push(futures::stream::once(async move { Bytes::from(tail) }).boxed());
    (length, futures::stream::iter(parts).flatten().boxed())
}

fn with_headers(status: StatusCode, headers: HeaderMap) -> Response<()> {
    let mut response = status_only(status);
    *response.headers_mut() = headers;
    response
}

fn status_only(status: StatusCode) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    response
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
