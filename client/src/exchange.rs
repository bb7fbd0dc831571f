//! What a client saw of one request: status, headers, body checked against the generated
//! payload, the parts of a multi-range body and the issuer of the certificate it was shown.

use std::fmt;

use mock_servers::{ByteRange, RangeRequest};

/// How the client reaches the origin through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP: the proxy sees and forwards the request.
    Http,
    /// HTTPS: a CONNECT tunnel the proxy splices or bumps.
    Https,
}

impl Scheme {
    pub fn url_prefix(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// Whether the client presents the proxy credentials of the run (the lab's, or the ones given
/// for an external proxy) to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    Without,
    Presented,
}

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
    /// The connection was reset or closed before any response came (a way to refuse, too).
    Closed(String),
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
    /// The leaf certificate the client was shown, DER (HTTPS only).
    pub leaf: Option<Vec<u8>>,
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
pub fn requested_ranges(range: Option<&str>, size: u64) -> Vec<ByteRange> {
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
            Outcome::Closed(_) | Outcome::Failed(_) => None,
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
            Credentials::Presented => "proxy credentials",
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
                    "location",
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
            Outcome::Closed(message) => {
                write!(f, "closed without a response: {message}")
            }
            Outcome::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}
