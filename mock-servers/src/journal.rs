//! The origin's journal: every HTTP request it answered (one entry per hop of a redirect, with
//! the conditional headers it carried and the request body it read), every TLS handshake it
//! accepted or saw fail, and every non-TLS tunnel payload it received, shared by all
//! scenarios and filtered per scenario.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How a request reached the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// One request the origin answered.
#[derive(Debug, Clone)]
pub struct OriginRequest {
    pub connection: u64,
    pub scheme: Scheme,
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// Body bytes handed to the connection so far.
    pub bytes_sent: u64,
}

impl OriginRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The conditional headers (RFC 9110 §13.1) this request carried, in the order received.
    pub fn conditional_headers(&self) -> Vec<ConditionalHeader> {
        self.headers
            .iter()
            .filter_map(|(name, value)| {
                ConditionalKind::from_header_name(name).map(|kind| ConditionalHeader {
                    kind,
                    value: value.clone(),
                })
            })
            .collect()
    }

    /// Whether the request carried any conditional header (a revalidation, or BITS's
    /// `If-Unmodified-Since`).
    pub fn is_conditional(&self) -> bool {
        !self.conditional_headers().is_empty()
    }
}

/// The five conditional request headers of RFC 9110 §13.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionalKind {
    IfMatch,
    IfNoneMatch,
    IfModifiedSince,
    IfUnmodifiedSince,
    IfRange,
}

impl ConditionalKind {
    pub const ALL: [ConditionalKind; 5] = [
        Self::IfMatch,
        Self::IfNoneMatch,
        Self::IfModifiedSince,
        Self::IfUnmodifiedSince,
        Self::IfRange,
    ];

    /// The header's name, lower case as on the wire of HTTP/2 and in this journal.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::IfMatch => "if-match",
            Self::IfNoneMatch => "if-none-match",
            Self::IfModifiedSince => "if-modified-since",
            Self::IfUnmodifiedSince => "if-unmodified-since",
            Self::IfRange => "if-range",
        }
    }

    pub fn from_header_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.header_name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for ConditionalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_name())
    }
}

/// One conditional header as the origin received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalHeader {
    pub kind: ConditionalKind,
    pub value: String,
}

impl fmt::Display for ConditionalHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.value)
    }
}

/// One request with what the origin did with it beyond the status: which catalogued file
/// answered, the conditional headers it evaluated, where it redirected, how much request
/// body it read. Each hop of a redirect chain is its own exchange, with its own host.
#[derive(Debug, Clone)]
pub struct OriginExchange {
    pub request: OriginRequest,
    /// Every conditional header received (also when the origin had nothing to evaluate them
    /// against), so a check can find revalidations the client never sent.
    pub conditionals: Vec<ConditionalHeader>,
    /// Request body bytes the origin read (SOAP calls, scripted endpoints); `None` when the
    /// resource takes no body and the origin did not read one.
    pub request_body_bytes: Option<u64>,
    /// The catalogued path (no query) that answered, if a catalogued file or redirect did.
    pub file: Option<String>,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    /// The reply's header fields as the origin sent them (what the client must receive
    /// unchanged, hop-by-hop fields aside).
    pub response_headers: Vec<(String, String)>,
}

impl fmt::Display for OriginExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.request)?;
        for conditional in &self.conditionals {
            if conditional.kind != ConditionalKind::IfRange {
                write!(f, "; {conditional}")?;
            }
        }
        if let Some(location) = &self.location {
            write!(f, "; location: {location}")?;
        }
        if let Some(bytes) = self.request_body_bytes {
            write!(f, "; {bytes} request body bytes")?;
        }
        Ok(())
    }
}

/// Where in the TLS set-up a connection to the origin's TLS port failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureStage {
    /// No complete ClientHello arrived (closed, timed out, or garbage that starts like TLS).
    ClientHello,
    /// The handshake failed after the ClientHello: typically the peer rejected the origin's
    /// certificate (an alert such as `UnknownCA`) or offered nothing the origin accepts.
    Handshake,
}

/// A TLS connection to the origin that failed before any HTTP request: "the proxy's TLS to
/// the origin failed" is visible here, with the peer's reason where it sent one (an alert).
#[derive(Debug, Clone)]
pub struct TlsFailure {
    pub connection: u64,
    pub peer: SocketAddr,
    /// The SNI of the ClientHello, when one was parsed.
    pub sni: Option<String>,
    pub stage: TlsFailureStage,
    pub reason: String,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} TLS from {} (SNI {}) failed at {:?}: {}",
            self.connection,
            self.peer,
            self.sni.as_deref().unwrap_or("(none)"),
            self.stage,
            self.reason
        )
    }
}

/// A listener of the origin that stopped accepting after repeated errors.
#[derive(Debug, Clone)]
pub struct ListenerFailure {
    pub port: u16,
    pub reason: String,
}

impl fmt::Display for OriginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(
            f,
            "#{conn} {method} {scheme}://{host}{target} -> {status}, {bytes} body bytes sent",
            conn = self.connection,
            method = self.method,
            host = self.host,
            target = self.target,
            status = self.status,
            bytes = self.bytes_sent
        )?;
        for name in [
            "range",
            "if-range",
            "via",
            "proxy-authorization",
            "x-forwarded-for",
        ] {
            if let Some(value) = self.header(name) {
                write!(f, "; {name}: {value}")?;
            }
        }
        Ok(())
    }
}

/// One TLS ClientHello the origin received.
#[derive(Debug, Clone)]
pub struct TlsHandshake {
    pub connection: u64,
    pub sni: Option<String>,
    /// JA4 fingerprint of the ClientHello: tells the client's own TLS stack from a proxy's.
    pub ja4: Option<String>,
}

impl fmt::Display for TlsHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} ClientHello SNI {} JA4 {}",
            self.connection,
            self.sni.as_deref().unwrap_or("(none)"),
            self.ja4.as_deref().unwrap_or("(unparsed)")
        )
    }
}

/// Bytes received on the TLS port that were not TLS (a tunnel the proxy passed through).
#[derive(Debug, Clone)]
pub struct RawTunnel {
    pub connection: u64,
    /// The origin spoke first on this connection (its greeting, after the client's silence).
    pub greeted: bool,
    pub received: Vec<u8>,
}

#[derive(Debug)]
struct Entry {
    exchange: OriginExchange,
    bytes_sent: Arc<AtomicU64>,
}

impl Entry {
    fn snapshot(&self) -> OriginExchange {
        let mut exchange = self.exchange.clone();
        exchange.request.bytes_sent = self.bytes_sent.load(Ordering::Relaxed);
        exchange
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<Entry>,
    handshakes: Vec<TlsHandshake>,
    raw_tunnels: Vec<RawTunnel>,
    tls_failures: Vec<TlsFailure>,
    listener_failures: Vec<ListenerFailure>,
}

/// The shared journal of the update origin.
#[derive(Debug, Clone, Default)]
pub struct OriginJournal {
    inner: Arc<Mutex<Inner>>,
    next_connection: Arc<AtomicU64>,
}

impl OriginJournal {
    pub(crate) fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records an exchange; the returned counter is advanced as body bytes are sent.
    pub(crate) fn record_exchange(&self, exchange: OriginExchange) -> Arc<AtomicU64> {
        let bytes_sent = Arc::new(AtomicU64::new(exchange.request.bytes_sent));
        self.lock().requests.push(Entry {
            exchange,
            bytes_sent: bytes_sent.clone(),
        });
        bytes_sent
    }

    pub(crate) fn record_tls_failure(&self, failure: TlsFailure) {
        self.lock().tls_failures.push(failure);
    }

    pub(crate) fn record_listener_failure(&self, failure: ListenerFailure) {
        self.lock().listener_failures.push(failure);
    }

    pub(crate) fn record_handshake(&self, handshake: TlsHandshake) {
        self.lock().handshakes.push(handshake);
    }

    pub(crate) fn record_raw_tunnel(&self, connection: u64, bytes: &[u8]) {
        self.raw_tunnel(connection, |tunnel| {
            tunnel.received.extend_from_slice(bytes)
        });
    }

    /// The origin greeted the client first on `connection`.
    pub(crate) fn record_greeting(&self, connection: u64) {
        self.raw_tunnel(connection, |tunnel| tunnel.greeted = true);
    }

    fn raw_tunnel(&self, connection: u64, update: impl FnOnce(&mut RawTunnel)) {
        let mut inner = self.lock();
        let index = match inner
            .raw_tunnels
            .iter()
            .position(|t| t.connection == connection)
        {
            Some(index) => index,
            None => {
                inner.raw_tunnels.push(RawTunnel {
                    connection,
                    greeted: false,
                    received: Vec::new(),
                });
                inner.raw_tunnels.len() - 1
            }
        };
        update(&mut inner.raw_tunnels[index]);
    }

    /// How many requests the origin has journaled so far: a mark to read what came after.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// Requests journaled after `mark` (a [`Self::request_count`]) whose target contains
    /// `needle`, whatever their host (the hops of a redirect): a scenario's own requests for a
    /// URL every client uses alike (a trust list) when it runs alone.
    pub fn requests_since(&self, mark: usize, needle: &str) -> Vec<OriginRequest> {
        self.lock()
            .requests
            .iter()
            .skip(mark)
            .filter(|e| e.exchange.request.target.contains(needle))
            .map(|e| Entry::snapshot(e).request)
            .collect()
    }

    /// Exchanges journaled after `mark` for `host` whose target contains `needle`.
    pub fn exchanges_since_for_host(
        &self,
        mark: usize,
        host: &str,
        needle: &str,
    ) -> Vec<OriginExchange> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.lock()
            .requests
            .iter()
            .skip(mark)
            .filter(|e| {
                let request = &e.exchange.request;
                request.target.contains(needle)
                    && request
                        .host
                        .split(':')
                        .next()
                        .is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&host))
            })
            .map(Entry::snapshot)
            .collect()
    }

    /// Requests whose target contains `needle` (scenarios put their token in every path).
    pub fn requests_containing(&self, needle: &str) -> Vec<OriginRequest> {
        self.exchanges_containing(needle)
            .into_iter()
            .map(|e| e.request)
            .collect()
    }

    /// Exchanges whose target contains `needle`, in arrival order.
    pub fn exchanges_containing(&self, needle: &str) -> Vec<OriginExchange> {
        self.exchanges_where(|e| e.request.target.contains(needle))
    }

    /// Exchanges that arrived for `host` (compared without port, case-insensitively).
    pub fn exchanges_for_host(&self, host: &str) -> Vec<OriginExchange> {
        let wanted = crate::catalog::normalize_host(host);
        self.exchanges_where(|e| crate::catalog::normalize_host(&e.request.host) == wanted)
    }

    /// Exchanges whose target contains `needle` and that carried at least one conditional
    /// header: revalidations, and BITS's `If-Unmodified-Since`.
    pub fn conditional_exchanges_containing(&self, needle: &str) -> Vec<OriginExchange> {
        self.exchanges_where(|e| e.request.target.contains(needle) && !e.conditionals.is_empty())
    }

    /// Every exchange, in arrival order.
    pub fn exchanges(&self) -> Vec<OriginExchange> {
        self.exchanges_where(|_| true)
    }

    fn exchanges_where(&self, keep: impl Fn(&OriginExchange) -> bool) -> Vec<OriginExchange> {
        self.lock()
            .requests
            .iter()
            .filter(|e| keep(&e.exchange))
            .map(Entry::snapshot)
            .collect()
    }

    /// TLS connections that failed before any request, in arrival order.
    pub fn tls_failures(&self) -> Vec<TlsFailure> {
        self.lock().tls_failures.clone()
    }

    /// Listeners that stopped accepting (none in a healthy run).
    pub fn listener_failures(&self) -> Vec<ListenerFailure> {
        self.lock().listener_failures.clone()
    }

    /// The ClientHello of connection `id`, if it was TLS.
    pub fn handshake(&self, connection: u64) -> Option<TlsHandshake> {
        self.lock()
            .handshakes
            .iter()
            .find(|h| h.connection == connection)
            .cloned()
    }

    /// Non-TLS tunnel payloads whose bytes contain `needle`.
    pub fn raw_tunnels_containing(&self, needle: &[u8]) -> Vec<RawTunnel> {
        self.lock()
            .raw_tunnels
            .iter()
            .filter(|t| t.received.windows(needle.len().max(1)).any(|w| w == needle))
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
