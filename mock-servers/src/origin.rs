//! The update origin: one content server answering plain HTTP on one port and TLS on another
//! for every lab host name. Paths under [`UPDATES_PREFIX`] are generated update files
//! (HEAD, full GET, single and multi-range GET, `If-Range`); every other path is handed to
//! the scripted endpoints (wiremock) in-process, so each host has one origin and one journal.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::LazyConfigAcceptor;

use crate::journal::{OriginJournal, OriginRequest, Scheme, TlsHandshake};
use crate::payload::Payload;
use crate::range::{ByteRange, RangeRequest};
use crate::scripted::ScriptedEndpoints;
use crate::ECHO_TOKEN_HEADER;
use crate::REQUEST_TOKEN_HEADER;

/// Paths the content server owns: `/updates/<size in bytes>/<anything>`.
pub const UPDATES_PREFIX: &str = "/updates/";
const LAST_MODIFIED: &str = "Tue, 10 Oct 2023 17:00:00 GMT";
const MULTIPART_BOUNDARY: &str = "CONFORMANCE_BYTERANGES";

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The running origin; its listeners stop when it is dropped.
#[derive(Debug)]
pub struct UpdateOrigin {
    http_addr: SocketAddr,
    tls_addr: SocketAddr,
    journal: OriginJournal,
    _tasks: JoinSet<()>,
}

struct Shared {
    journal: OriginJournal,
    scripted: ScriptedEndpoints,
}

impl UpdateOrigin {
    /// Starts both listeners on all interfaces (containers reach them through the host
    /// gateway), serving TLS with `leaf`.
    pub async fn start(leaf: &LeafCertificate, scripted: ScriptedEndpoints) -> Result<Self> {
        let journal = OriginJournal::default();
        let context = Arc::new(Shared {
            journal: journal.clone(),
            scripted,
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
            _tasks: tasks,
        })
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
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let context = context.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let connection = context.journal.next_connection_id();
            let _ = match tls {
                None => serve_http(stream, context, connection, Scheme::Http).await,
                Some(config) => serve_tls_port(stream, context, connection, config).await,
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
/// carried them unchanged.
async fn serve_tls_port(
    mut stream: TcpStream,
    context: Arc<Shared>,
    connection: u64,
    config: Arc<rustls::ServerConfig>,
) -> Result<()> {
    let first_record = peek_first_record(&stream).await?;
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
    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
    let sni = start.client_hello().server_name().map(str::to_owned);
    context.journal.record_handshake(TlsHandshake {
        connection,
        sni,
        ja4,
    });
    let tls = start.into_stream(config).await?;
    serve_http(tls, context, connection, Scheme::Https).await
}

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
    let mut record = OriginRequest {
        connection,
        scheme,
        method: request.method().to_string(),
        target: target.clone(),
        host,
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
    let echo = request.headers().get(REQUEST_TOKEN_HEADER).cloned();
    let (mut response, body_stream) = if target.starts_with(UPDATES_PREFIX) {
        serve_update_file(&request, &target)
    } else {
        let (response, body) = context.scripted.forward(request).await;
        record.bytes_sent = body.len() as u64;
        (response, Some(futures::stream::iter([body]).boxed()))
    };
    if let Some(echo) = echo {
        response.headers_mut().insert(ECHO_TOKEN_HEADER, echo);
    }
    record.status = response.status().as_u16();
    let scripted_bytes = record.bytes_sent;
    let counter = context.journal.record_request(record);
    let (parts, ()) = response.into_parts();
    let body = match body_stream {
        None => Full::new(Bytes::new()).boxed_unsync(),
        Some(stream) if scripted_bytes > 0 => {
            BodyExt::boxed_unsync(StreamBody::new(stream.map(|b| Ok(Frame::data(b)))))
        }
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

fn serve_update_file<B>(request: &Request<B>, target: &str) -> (Response<()>, Option<ByteStream>) {
    let rest = &target[UPDATES_PREFIX.len()..];
    let Some(size) = rest.split('/').next().and_then(|s| s.parse::<u64>().ok()) else {
        return (status_only(StatusCode::NOT_FOUND), None);
    };
    let payload = Payload::for_target(target, size);
    let mut headers = HeaderMap::new();
    let etag = payload.etag();
    headers.insert(header::ETAG, header_value(&etag));
    headers.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_static(LAST_MODIFIED),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let is_head = request.method() == Method::HEAD;
    let range_applies = request
        .headers()
        .get(header::IF_RANGE)
        .is_none_or(|validator| validator.as_bytes() == etag.as_bytes());
    let ranges = request
        .headers()
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
        .and_then(RangeRequest::parse_header)
        .filter(|_| range_applies);

    let (status, body): (StatusCode, Option<(u64, ByteStream)>) = match ranges {
        None => (StatusCode::OK, whole(payload, &mut headers)),
        Some(ranges) => {
            let resolved: Vec<ByteRange> = ranges.iter().filter_map(|r| r.resolve(size)).collect();
            match resolved.as_slice() {
                [] => {
                    headers.insert(
                        header::CONTENT_RANGE,
                        header_value(&format!("bytes */{size}")),
                    );
                    (
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        Some((0, futures::stream::empty().boxed())),
                    )
                }
                [single] => {
                    headers.insert(
                        header::CONTENT_RANGE,
                        header_value(&single.content_range(size)),
                    );
                    headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    (
                        StatusCode::PARTIAL_CONTENT,
                        Some((
                            single.len(),
                            payload.stream(single.first, single.last).boxed(),
                        )),
                    )
                }
                several => {
                    headers.insert(
                        header::CONTENT_TYPE,
                        header_value(&format!(
                            "multipart/byteranges; boundary={MULTIPART_BOUNDARY}"
                        )),
                    );
                    (
                        StatusCode::PARTIAL_CONTENT,
                        Some(multipart(payload, several)),
                    )
                }
            }
        }
    };
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    let Some((length, stream)) = body else {
        return (response, None);
    };
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    (response, (!is_head).then_some(stream))
}

fn whole(payload: Payload, headers: &mut HeaderMap) -> Option<(u64, ByteStream)> {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let last = payload.size().saturating_sub(1);
    Some((payload.size(), payload.stream(0, last).boxed()))
}

/// A `multipart/byteranges` body (RFC 9110 §14.6), streamed part by part.
fn multipart(payload: Payload, ranges: &[ByteRange]) -> (u64, ByteStream) {
    let size = payload.size();
    let mut length = 0u64;
    let mut parts: Vec<ByteStream> = Vec::new();
    for range in ranges {
        let head = format!(
            "\r\n--{MULTIPART_BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-Range: {}\r\n\r\n",
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

fn status_only(status: StatusCode) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    response
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
