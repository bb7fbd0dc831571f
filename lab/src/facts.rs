//! What a proxy did with one request, in neutral words: every backend turns its own log into
//! these facts, and steps judge only them (never a proxy's vocabulary such as `TCP_TUNNEL`).

use std::fmt;

/// Whether the proxy's cache had a hand in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Fetched from the origin and not served from a store.
    Miss,
    /// Served from the proxy's store without asking the origin.
    Hit,
    /// Served after the proxy revalidated a stored copy with the origin (a conditional request
    /// the client did not send): caching, too.
    Revalidated,
}

/// One request as the proxy under test reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyFact {
    /// The backend's own log line, kept as evidence.
    pub raw: String,
    pub method: String,
    /// As the proxy logged it: `http://host/path`, `https://host/path` for a decrypted
    /// request, `host:443` for a CONNECT.
    pub url: String,
    /// The status the proxy sent to the client, when it logged one.
    pub status: Option<u16>,
    /// The proxy refused the request by policy (a credentials challenge is not a refusal).
    pub denied: bool,
    /// The proxy asked the client for credentials (407).
    pub challenged: bool,
    pub cache: CacheUse,
    /// A CONNECT whose bytes the proxy passed through without decrypting them.
    pub tunnelled: bool,
    /// The proxy parsed the client's TLS ClientHello (protocol detection, SNI peeking).
    pub client_hello_inspected: bool,
    /// The proxy terminated the client's TLS with a certificate of its own.
    pub bumped: bool,
    /// The request was sent to an adaptation (ICAP) service.
    pub adapted: bool,
    /// The user the proxy authenticated, if any.
    pub user: Option<String>,
    /// The scenario header the request carried.
    pub scenario: Option<String>,
}

impl ProxyFact {
    /// A request the proxy read inside a TLS connection it decrypted.
    pub fn is_decrypted_request(&self) -> bool {
        self.url.starts_with("https://")
    }

    pub fn is_connect(&self) -> bool {
        self.method.eq_ignore_ascii_case("CONNECT")
    }

    /// Whether this is a CONNECT to `host` (any port) or a request for a URL on `host`.
    pub fn concerns_host(&self, host: &str) -> bool {
        let rest = self
            .url
            .strip_prefix("http://")
            .or_else(|| self.url.strip_prefix("https://"))
            .unwrap_or(&self.url);
        let authority = rest.split('/').next().unwrap_or("");
        let name = authority
            .rsplit_once(':')
            .map_or(authority, |(name, _)| name);
        name.eq_ignore_ascii_case(host)
    }
}

impl fmt::Display for ProxyFact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}
