//! The lab's DNS server for external mode, where a proxy the harness did not start must
//! resolve the lab's host names to the harness: answers `A` for every lab name (exact names,
//! and any name at any depth under a wildcard suffix) with one IPv4 address, an empty
//! `NOERROR` for the other types of those names (so `AAAA` falls back to IPv4 at once),
//! and `REFUSED` for everything else, so a name the lab does not serve fails fast instead of
//! leaking to the Internet. Every query is journaled, so a check can prove the proxy
//! resolved through it.
//!
//! Built on hickory-server 0.26 (`Server` + a `RequestHandler`), which owns the DNS framing
//! over UDP and TCP; only the answer policy is written here.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{rdata::A, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

/// TTL of the lab's answers: short, so a restarted lab is picked up quickly.
pub const LAB_DNS_TTL: u32 = 30;
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const TCP_RESPONSE_BUFFER: usize = 32;
/// Attempts to find a port free for both UDP and TCP when asked for port 0.
const BIND_ATTEMPTS: u32 = 16;

/// Why the DNS server could not start or take a name.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("binding {transport} {addr}: {source}")]
    Bind {
        transport: DnsTransport,
        addr: SocketAddr,
        source: io::Error,
    },
    #[error("{0:?} is not a valid DNS name")]
    InvalidName(String),
}

/// How a query arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsTransport {
    Udp,
    Tcp,
}

impl fmt::Display for DnsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
        })
    }
}

/// What the server answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsOutcome {
    /// An `A` record with this address.
    Answered(Ipv4Addr),
    /// A lab name, but not an `A` query: `NOERROR` with no records.
    NoData,
    /// Not a lab name (or not a query): `REFUSED`.
    Refused,
}

/// One query the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// Lower case, without the final dot.
    pub name: String,
    /// `A`, `AAAA`, `HTTPS`, …
    pub record_type: String,
    pub outcome: DnsOutcome,
    pub transport: DnsTransport,
    pub peer: SocketAddr,
}

impl fmt::Display for DnsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} from {} over {} -> {:?}",
            self.record_type, self.name, self.peer, self.transport, self.outcome
        )
    }
}

/// The names the server answers for.
#[derive(Debug, Default)]
struct Zone {
    names: BTreeSet<String>,
    suffixes: BTreeSet<String>,
}

impl Zone {
    fn covers(&self, name: &str) -> bool {
        self.names.contains(name)
            || self.suffixes.iter().any(|suffix| {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix.as_str())
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
            })
    }
}

type Journal = Arc<Mutex<Vec<DnsQuery>>>;

/// The running DNS server; it stops when dropped.
pub struct LabDns {
    addr: SocketAddr,
    answer: Ipv4Addr,
    zone: Arc<RwLock<Zone>>,
    journal: Journal,
    _server: Server<Handler>,
}

impl fmt::Debug for LabDns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LabDns")
            .field("addr", &self.addr)
            .field("answer", &self.answer)
            .finish_non_exhaustive()
    }
}

impl LabDns {
    /// Starts on `bind` (UDP and TCP on the same port; port 0 picks a free one) answering
    /// `answer` for every name in `names` and every name under a suffix in
    /// `wildcard_suffixes` (`dl.delivery.mp.microsoft.com` covers
    /// `a.b.dl.delivery.mp.microsoft.com`, not the suffix itself).
    pub async fn start<N, S>(
        bind: SocketAddr,
        answer: Ipv4Addr,
        names: N,
        wildcard_suffixes: S,
    ) -> Result<Self, DnsError>
    where
        N: IntoIterator,
        N::Item: AsRef<str>,
        S: IntoIterator,
        S::Item: AsRef<str>,
    {
        let mut zone = Zone::default();
        for name in names {
            zone.names.insert(normalize(name.as_ref())?);
        }
        for suffix in wildcard_suffixes {
            let suffix = normalize(suffix.as_ref().trim_start_matches("*."))?;
            zone.suffixes.insert(suffix);
        }
        let (udp, tcp) = bind_both(bind).await?;
        let addr = udp.local_addr().map_err(|source| DnsError::Bind {
            transport: DnsTransport::Udp,
            addr: bind,
            source,
        })?;
        let zone = Arc::new(RwLock::new(zone));
        let journal = Journal::default();
        let mut server = Server::new(Handler {
            answer,
            zone: zone.clone(),
            journal: journal.clone(),
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        Ok(Self {
            addr,
            answer,
            zone,
            journal,
            _server: server,
        })
    }

    /// Where it listens (the same port for UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address every lab name resolves to.
    pub fn answer(&self) -> Ipv4Addr {
        self.answer
    }

    /// Answers for `name` from now on.
    pub fn add_name(&self, name: &str) -> Result<(), DnsError> {
        let name = normalize(name)?;
        self.zone
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .names
            .insert(name);
        Ok(())
    }

    /// Answers for every name under `suffix` from now on.
    pub fn add_wildcard_suffix(&self, suffix: &str) -> Result<(), DnsError> {
        let suffix = normalize(suffix.trim_start_matches("*."))?;
        self.zone
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .suffixes
            .insert(suffix);
        Ok(())
    }

    /// Whether `name` is a lab name (would get an answer).
    pub fn serves(&self, name: &str) -> bool {
        normalize(name).is_ok_and(|name| {
            self.zone
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .covers(&name)
        })
    }

    /// Every query received, in arrival order.
    pub fn queries(&self) -> Vec<DnsQuery> {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The queries for `name` (any case, with or without the final dot).
    pub fn queries_for(&self, name: &str) -> Vec<DnsQuery> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.queries()
            .into_iter()
            .filter(|q| q.name == name)
            .collect()
    }
}

/// Binds UDP then TCP on the same port; with port 0, retries until a port is free for both.
async fn bind_both(bind: SocketAddr) -> Result<(UdpSocket, TcpListener), DnsError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let udp = UdpSocket::bind(bind)
            .await
            .map_err(|source| DnsError::Bind {
                transport: DnsTransport::Udp,
                addr: bind,
                source,
            })?;
        let port = udp.local_addr().map_or(bind.port(), |a| a.port());
        let tcp_addr = SocketAddr::new(bind.ip(), port);
        match TcpListener::bind(tcp_addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(_) if bind.port() == 0 && attempt < BIND_ATTEMPTS => continue,
            Err(source) => {
                return Err(DnsError::Bind {
                    transport: DnsTransport::Tcp,
                    addr: tcp_addr,
                    source,
                })
            }
        }
    }
}

/// Lower case, no final dot, and a syntactically valid DNS name (RFC 1035 lengths; labels
/// of letters, digits, hyphens and underscores).
fn normalize(name: &str) -> Result<String, DnsError> {
    let lowered = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !lowered.is_empty()
        && lowered.len() <= 253
        && lowered.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(lowered)
    } else {
        Err(DnsError::InvalidName(name.to_owned()))
    }
}

struct Handler {
    answer: Ipv4Addr,
    zone: Arc<RwLock<Zone>>,
    journal: Journal,
}

impl Handler {
    fn record(&self, query: DnsQuery) {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(query);
    }
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let transport = match request.protocol() {
            hickory_server::net::xfer::Protocol::Tcp => DnsTransport::Tcp,
            _ => DnsTransport::Udp,
        };
        let mut metadata = Metadata::response_from_request(&request.metadata);
        let edns = request.edns.as_ref().map(|theirs| {
            let mut ours = Edns::new();
            ours.set_max_payload(theirs.max_payload().max(512));
            ours
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let query = (request.metadata.message_type == MessageType::Query
            && request.metadata.op_code == OpCode::Query)
            .then(|| request.request_info().ok())
            .flatten()
            .map(|info| info.query);
        let Some(query) = query else {
            metadata.response_code = if request.metadata.op_code == OpCode::Query {
                ResponseCode::FormErr
            } else {
                ResponseCode::NotImp
            };
            let response = builder.build_no_records(metadata);
            return send(&mut response_handle, response, metadata).await;
        };
        let name = query
            .name()
            .to_string()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let record_type = query.query_type();
        let covered = self
            .zone
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .covers(&name);
        let outcome = match (covered, record_type) {
            (false, _) => DnsOutcome::Refused,
            (true, RecordType::A) => DnsOutcome::Answered(self.answer),
            (true, _) => DnsOutcome::NoData,
        };
        self.record(DnsQuery {
            name,
            record_type: record_type.to_string(),
            outcome,
            transport,
            peer: request.src(),
        });
        metadata.authoritative = covered;
        metadata.response_code = if covered {
            ResponseCode::NoError
        } else {
            ResponseCode::Refused
        };
        let answers: Vec<Record> = match outcome {
            DnsOutcome::Answered(ip) => vec![Record::from_rdata(
                query.original().name().clone(),
                LAB_DNS_TTL,
                RData::A(A(ip)),
            )],
            _ => Vec::new(),
        };
        let response = builder.build(metadata, answers.iter(), [], [], []);
        send(&mut response_handle, response, metadata).await
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    response: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
    metadata: Metadata,
) -> ResponseInfo {
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => {
            let mut failed = metadata;
            failed.response_code = ResponseCode::ServFail;
            ResponseInfo::from(Header {
                metadata: failed,
                counts: HeaderCounts::default(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_suffixes_cover_any_depth_but_not_the_suffix_or_look_alikes() {
        let mut zone = Zone::default();
        zone.suffixes.insert("dl.delivery.mp.microsoft.com".into());
        zone.names.insert("download.windowsupdate.com".into());
        assert!(zone.covers("k3x9.dl.delivery.mp.microsoft.com"));
        assert!(zone.covers("a7.k3x9.dl.delivery.mp.microsoft.com"));
        assert!(!zone.covers("dl.delivery.mp.microsoft.com"));
        assert!(!zone.covers("xdl.delivery.mp.microsoft.com"));
        assert!(zone.covers("download.windowsupdate.com"));
        assert!(!zone.covers("au.download.windowsupdate.com"));
    }

    #[test]
    fn names_are_validated_and_normalised() {
        assert_eq!(
            normalize("Download.WindowsUpdate.com.").unwrap(),
            "download.windowsupdate.com"
        );
        assert!(normalize("bad name.example").is_err());
        assert!(normalize("a..b").is_err());
        assert!(normalize("").is_err());
    }
}
