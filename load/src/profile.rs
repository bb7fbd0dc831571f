//! How one simulated machine downloads a file with its client profile's transfer pattern
//! (`conformance_client::ClientProfile`, `docs/update-traffic.md`):
//! - **BITS** (head, then ranges): `HEAD` for the size and `Last-Modified`
//!   (`Accept-Encoding: identity`), then consecutive ranged `GET`s with `If-Unmodified-Since`
//!   over one keep-alive connection.
//! - **Delivery Optimization** (probes, then parallel pieces): two `Range: bytes=0-1` probes,
//!   then 1 MiB-aligned pieces fetched in parallel over several keep-alive connections, with an
//!   `MS-CV` correlation vector; the last piece is short.
//! - A profile that fetches whole objects: one `GET` of the file.
//!
//! Every body is streamed and checked against the generated payload as it arrives; nothing is
//! buffered.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use conformance_client::{ClientProfile, TransferPattern};
use http::{header, Request};
use http_body_util::{BodyExt, Empty};
use mock_servers::Payload;

use crate::connection::ProxyConnection;
use crate::failure::{FailureKind, MachineEnd};
use crate::meter::Meter;

/// A file a machine downloads: where, and what its bytes must be.
#[derive(Debug, Clone)]
pub(crate) struct FileToFetch {
    /// Absolute `http://` URL (with the machine's own query where the family has one).
    pub url: String,
    pub host: String,
    pub payload: Payload,
    /// Every machine downloads it under the same URL.
    pub shared: bool,
}

/// What every machine of a run shares.
#[derive(Debug)]
pub(crate) struct FleetContext {
    pub proxy: SocketAddr,
    pub meter: Arc<Meter>,
    pub request_timeout: Duration,
    pub max_bytes: Option<u64>,
    pub piece_size: u64,
    pub do_connections: usize,
}

impl FleetContext {
    fn budget_spent(&self) -> bool {
        self.max_bytes
            .is_some_and(|max| self.meter.delivered.load(Ordering::Relaxed) >= max)
    }
}

/// One HEAD, ranged or whole GET request and what the machine expects back.
struct Ask<'a> {
    file: &'a FileToFetch,
    method: http::Method,
    /// Inclusive byte range; `None` for HEAD and for a whole GET.
    range: Option<(u64, u64)>,
    headers: &'a [(&'static str, String)],
}

impl<'a> Ask<'a> {
    fn get(
        file: &'a FileToFetch,
        range: Option<(u64, u64)>,
        headers: &'a [(&'static str, String)],
    ) -> Self {
        Self {
            file,
            method: http::Method::GET,
            range,
            headers,
        }
    }
}

/// Downloads `file` with `profile` over `connections` (only parallel pieces use more than the
/// first).
pub(crate) async fn download(
    context: &FleetContext,
    profile: ClientProfile,
    connections: &mut [ProxyConnection],
    file: &FileToFetch,
    correlation: &str,
) -> Result<(), MachineEnd> {
    match profile.transfer() {
        TransferPattern::HeadThenRanges => {
            head_then_ranges(context, profile, &mut connections[0], file).await
        }
        TransferPattern::ProbesThenParallelPieces => {
            probes_then_parallel_pieces(context, profile, connections, file, correlation).await
        }
        TransferPattern::WholeObject => {
            let headers = [("user-agent", profile.user_agent().to_owned())];
            let ask = Ask::get(file, None, &headers);
            send(context, &mut connections[0], ask).await.map(drop)
        }
    }
}

/// How many connections a machine of `profile` opens.
pub(crate) fn connections_for(profile: ClientProfile, context: &FleetContext) -> usize {
    match profile.transfer() {
        TransferPattern::ProbesThenParallelPieces => context.do_connections,
        TransferPattern::HeadThenRanges | TransferPattern::WholeObject => 1,
    }
}

/// BITS: `HEAD`, then consecutive ranges with `If-Unmodified-Since` on one connection.
async fn head_then_ranges(
    context: &FleetContext,
    profile: ClientProfile,
    connection: &mut ProxyConnection,
    file: &FileToFetch,
) -> Result<(), MachineEnd> {
    let size = file.payload.size();
    let head_headers = [
        ("user-agent", profile.user_agent().to_owned()),
        ("accept-encoding", "identity".to_owned()),
        ("connection", "Keep-Alive".to_owned()),
    ];
    let head = Ask {
        file,
        method: http::Method::HEAD,
        range: None,
        headers: &head_headers,
    };
    let last_modified = send(context, connection, head).await?.unwrap_or_default();
    let get_headers = [
        ("user-agent", profile.user_agent().to_owned()),
        ("connection", "Keep-Alive".to_owned()),
        ("if-unmodified-since", last_modified),
    ];
    let mut first = 0;
    while first < size {
        let last = (first + context.piece_size).min(size) - 1;
        send(
            context,
            connection,
            Ask::get(file, Some((first, last)), &get_headers),
        )
        .await?;
        first = last + 1;
    }
    Ok(())
}

/// Delivery Optimization: two `bytes=0-1` probes on the first connection, then the pieces
/// shared out over the parallel connections, each request with the next `MS-CV` increment.
async fn probes_then_parallel_pieces(
    context: &FleetContext,
    profile: ClientProfile,
    connections: &mut [ProxyConnection],
    file: &FileToFetch,
    correlation: &str,
) -> Result<(), MachineEnd> {
    let size = file.payload.size();
    let piece = context.piece_size;
    let next_cv = AtomicU64::new(1);
    let headers = |cv: u64| {
        [
            ("user-agent", profile.user_agent().to_owned()),
            ("ms-cv", format!("{correlation}.{cv}")),
            ("proxy-connection", "Keep-Alive".to_owned()),
        ]
    };
    for _ in 0..2 {
        let headers = headers(next_cv.fetch_add(1, Ordering::Relaxed));
        let probe = Ask::get(file, Some((0, 1.min(size - 1))), &headers);
        send(context, &mut connections[0], probe).await?;
    }
    let pieces = size.div_ceil(piece);
    let next_piece = AtomicU64::new(0);
    let workers = connections
        .iter_mut()
        .take(context.do_connections)
        .map(|connection| {
            let (next_piece, next_cv, headers) = (&next_piece, &next_cv, &headers);
            async move {
                loop {
                    let index = next_piece.fetch_add(1, Ordering::Relaxed);
                    if index >= pieces {
                        return Ok::<(), MachineEnd>(());
                    }
                    let first = index * piece;
                    let last = (first + piece).min(size) - 1;
                    let headers = headers(next_cv.fetch_add(1, Ordering::Relaxed));
                    send(
                        context,
                        connection,
                        Ask::get(file, Some((first, last)), &headers),
                    )
                    .await?;
                }
            }
        });
    futures::future::try_join_all(workers).await?;
    Ok(())
}

/// Sends one request and checks the answer; returns the `Last-Modified` of a HEAD.
async fn send(
    context: &FleetContext,
    connection: &mut ProxyConnection,
    ask: Ask<'_>,
) -> Result<Option<String>, MachineEnd> {
    if context.budget_spent() {
        return Err(MachineEnd::Unfinished);
    }
    let mut request = Request::builder()
        .method(ask.method.clone())
        .uri(&ask.file.url)
        .header(header::HOST, &ask.file.host);
    if let Some((first, last)) = ask.range {
        request = request.header(header::RANGE, format!("bytes={first}-{last}"));
    }
    for (name, value) in ask.headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|_| MachineEnd::Failed(FailureKind::WrongBytes))?;
    context.meter.request();
    match exchange(context, connection, request, &ask).await {
        Ok(last_modified) => Ok(last_modified),
        Err(kind) => {
            // The connection's state is unknown after a failure: never reuse it.
            *connection = ProxyConnection::default();
            Err(MachineEnd::Failed(kind))
        }
    }
}

/// `step` within the request timeout: like BITS and Delivery Optimization, a request fails
/// when nothing arrives for that long (a slow but moving transfer goes on).
async fn within<T>(
    context: &FleetContext,
    step: impl std::future::Future<Output = Result<T, FailureKind>>,
) -> Result<T, FailureKind> {
    tokio::time::timeout(context.request_timeout, step)
        .await
        .unwrap_or(Err(FailureKind::Timeout))
}

async fn exchange(
    context: &FleetContext,
    connection: &mut ProxyConnection,
    request: Request<Empty<Bytes>>,
    ask: &Ask<'_>,
) -> Result<Option<String>, FailureKind> {
    let size = ask.file.payload.size();
    let response = within(context, connection.send(context.proxy, request)).await?;
    let status = response.status().as_u16();
    let header = |name: header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if ask.method == http::Method::HEAD {
        // HEAD: the whole file's length and its validator.
        if status != 200 {
            return Err(FailureKind::of_status(status));
        }
        if header(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok()) != Some(size) {
            return Err(FailureKind::WrongBytes);
        }
        return Ok(header(header::LAST_MODIFIED));
    }
    let (first, last) = match (status, ask.range) {
        (206, Some((first, last))) => {
            let content_range = format!("bytes {first}-{last}/{size}");
            if header(header::CONTENT_RANGE).as_deref() != Some(&content_range) {
                return Err(FailureKind::WrongBytes);
            }
            (first, last)
        }
        // The range was ignored: the client would get the whole file where it asked a slice.
        (200, Some(_)) => return Err(FailureKind::WrongBytes),
        (200, None) => (0, size.saturating_sub(1)),
        (other, _) => return Err(FailureKind::of_status(other)),
    };
    let mut body = response.into_body();
    let mut received = 0u64;
    let expected = last - first + 1;
    while let Some(frame) = within(context, async { Ok(body.frame().await) }).await? {
        let frame = frame.map_err(|_| FailureKind::Reset)?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        context.meter.delivered(chunk.len() as u64, ask.file.shared);
        if received + chunk.len() as u64 > expected
            || ask
                .file
                .payload
                .first_mismatch(first + received, &chunk)
                .is_some()
        {
            return Err(FailureKind::WrongBytes);
        }
        received += chunk.len() as u64;
    }
    if received != expected {
        return Err(FailureKind::WrongBytes);
    }
    Ok(None)
}
