//! The origin's journal: every HTTP request it answered, every TLS handshake it accepted and
//! every non-TLS tunnel payload it received, shared by all scenarios and filtered per scenario.

use std::fmt;
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
    pub received: Vec<u8>,
}

#[derive(Debug)]
struct Entry {
    request: OriginRequest,
    bytes_sent: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<Entry>,
    handshakes: Vec<TlsHandshake>,
    raw_tunnels: Vec<RawTunnel>,
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

    /// Records a request; the returned counter is advanced as body bytes are sent.
    pub(crate) fn record_request(&self, request: OriginRequest) -> Arc<AtomicU64> {
        let bytes_sent = Arc::new(AtomicU64::new(request.bytes_sent));
        self.lock().requests.push(Entry {
            request,
            bytes_sent: bytes_sent.clone(),
        });
        bytes_sent
    }

    pub(crate) fn record_handshake(&self, handshake: TlsHandshake) {
        self.lock().handshakes.push(handshake);
    }

    pub(crate) fn record_raw_tunnel(&self, connection: u64, bytes: &[u8]) {
        let mut inner = self.lock();
        match inner
            .raw_tunnels
            .iter_mut()
            .find(|t| t.connection == connection)
        {
            Some(tunnel) => tunnel.received.extend_from_slice(bytes),
            None => inner.raw_tunnels.push(RawTunnel {
                connection,
                received: bytes.to_vec(),
            }),
        }
    }

    /// Requests whose target contains `needle` (scenarios put their token in every path).
    pub fn requests_containing(&self, needle: &str) -> Vec<OriginRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|e| e.request.target.contains(needle))
            .map(|e| {
                let mut request = e.request.clone();
                request.bytes_sent = e.bytes_sent.load(Ordering::Relaxed);
                request
            })
            .collect()
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
