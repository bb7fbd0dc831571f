//! The ICAP recorder (RFC 3507): answers OPTIONS, and REQMOD/RESPMOD with 204 (no
//! modification), journaling every adaptation call with its encapsulated HTTP request.
//!
//! Hand-written rather than built on icap-rs: icap-rs 0.3 answers Squid 5.7's OPTIONS
//! request with `400 Bad Request` (its strict parser rejects what Squid sends), and a
//! recorder that only says 204 needs nothing but the framing below.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const ISTAG: &str = "\"proxy-conformance-1\"";
const MAX_HEAD: usize = 64 * 1024;

/// One adaptation call the proxy made.
#[derive(Debug, Clone)]
pub struct IcapCall {
    /// `REQMOD` or `RESPMOD`.
    pub method: String,
    /// The encapsulated HTTP request's method and URI, e.g. `GET http://host/path`.
    pub http_method: String,
    pub http_uri: String,
    /// The encapsulated request's headers (the scenario header among them).
    pub http_headers: Vec<(String, String)>,
    /// Body bytes the call put before the ICAP service: the encapsulated message's
    /// `Content-Length` (RESPMOD: the response; REQMOD: the request), or the body bytes the
    /// proxy sent when more. The recorder asks for no preview and answers 204, so this is what a
    /// service that scans whole bodies would have read.
    pub scanned_bytes: u64,
}

impl IcapCall {
    pub fn http_header(&self, name: &str) -> Option<&str> {
        self.http_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for IcapCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} for {} {}",
            self.method, self.http_method, self.http_uri
        )
    }
}

type Journal = Arc<Mutex<Vec<IcapCall>>>;

use crate::fault_switch::FaultSwitch;

/// The running recorder; it stops when dropped.
#[derive(Debug)]
pub struct IcapRecorder {
    addr: SocketAddr,
    calls: Journal,
    unresponsive: FaultSwitch,
    task: JoinHandle<()>,
}

impl Drop for IcapRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl IcapRecorder {
    /// Starts on all interfaces (the proxy container reaches it through the host gateway).
    pub async fn start() -> Result<Self> {
        let listener = TcpListener::bind("0.0.0.0:0")
            .await
            .context("binding the ICAP recorder")?;
        let addr = listener.local_addr()?;
        let calls: Journal = Arc::default();
        let journal = calls.clone();
        let unresponsive = FaultSwitch::default();
        let switch = unresponsive.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            // Stops (instead of spinning) if the listener keeps failing; see `accept`.
            while let Ok((stream, _)) = crate::accept::accept_next(&listener).await {
                connections.spawn(serve(stream, journal.clone(), switch.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            addr,
            calls,
            unresponsive,
            task,
        })
    }

    /// Lab fault injection only: once tripped, the recorder reads requests and never answers
    /// them (nor journals them), like a hung ICAP server.
    pub fn unresponsive_switch(&self) -> FaultSwitch {
        self.unresponsive.clone()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every REQMOD and RESPMOD call so far, whatever it was for: in external mode, any
    /// call proves the proxy was pointed at the recorder.
    pub fn call_count(&self) -> usize {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Every call so far, in the order the proxy made them.
    pub fn calls(&self) -> Vec<IcapCall> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Calls whose encapsulated request URI contains `needle` or whose scenario header is it.
    pub fn calls_for(&self, needle: &str) -> Vec<IcapCall> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|c| {
                c.http_uri.contains(needle) || c.http_header(crate::SCENARIO_HEADER) == Some(needle)
            })
            .cloned()
            .collect()
    }
}

/// Serves one persistent ICAP connection until the proxy closes it.
async fn serve(stream: TcpStream, journal: Journal, unresponsive: FaultSwitch) -> Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let head = read_head(&mut reader).await?;
        if head.is_empty() {
            return Ok(());
        }
        if unresponsive.tripped() {
            std::future::pending::<()>().await;
        }
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let method = request_line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let answer = match method.as_str() {
            "OPTIONS" => {
                let methods = if request_line.contains("/respmod") {
                    "RESPMOD"
                } else {
                    "REQMOD"
                };
                format!(
                    "ICAP/1.0 200 OK\r\nMethods: {methods}\r\nService: proxy-conformance ICAP recorder\r\nISTag: {ISTAG}\r\nAllow: 204\r\nPreview: 0\r\nTransfer-Preview: *\r\nOptions-TTL: 3600\r\nEncapsulated: null-body=0\r\n\r\n"
                )
            }
            "REQMOD" | "RESPMOD" => {
                let sections = parse_encapsulated(header("encapsulated").unwrap_or("null-body=0"))?;
                let head_len = sections.last().map_or(0, |(_, offset)| *offset);
                let mut encapsulated = vec![0u8; head_len];
                reader.read_exact(&mut encapsulated).await?;
                let sent = if sections
                    .iter()
                    .any(|(name, _)| name.ends_with("-body") && name != "null-body")
                {
                    skip_chunked(&mut reader).await?
                } else {
                    0
                };
                let scanned = declared_body_length(&encapsulated, &sections).max(sent);
                let req_hdr_end = sections
                    .iter()
                    .find(|(n, _)| n != "req-hdr")
                    .map_or(head_len, |(_, o)| *o);
                let has_req_hdr = sections.iter().any(|(n, _)| n == "req-hdr");
                if has_req_hdr {
                    let text = String::from_utf8_lossy(&encapsulated[..req_hdr_end.min(head_len)])
                        .into_owned();
                    journal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(IcapCall {
                            scanned_bytes: scanned,
                            ..describe(&method, &text)
                        });
                }
                format!("ICAP/1.0 204 No Content\r\nISTag: {ISTAG}\r\nEncapsulated: null-body=0\r\n\r\n")
            }
            _ => "ICAP/1.0 405 Method Not Allowed\r\nEncapsulated: null-body=0\r\n\r\n".to_owned(),
        };
        write.write_all(answer.as_bytes()).await?;
    }
}

/// Reads an ICAP head up to the blank line; empty when the peer closed the connection.
async fn read_head(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Result<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(String::new());
        }
        if line == "\r\n" && !head.is_empty() {
            return Ok(head);
        }
        if line != "\r\n" {
            head.push_str(&line);
        }
        if head.len() > MAX_HEAD {
            bail!("ICAP head over {MAX_HEAD} bytes");
        }
    }
}

/// `req-hdr=0, res-hdr=120, res-body=300` → [("req-hdr", 0), ("res-hdr", 120), ("res-body", 300)].
fn parse_encapsulated(value: &str) -> Result<Vec<(String, usize)>> {
    value
        .split(',')
        .map(|part| {
            let (name, offset) = part
                .trim()
                .split_once('=')
                .context("malformed Encapsulated header")?;
            Ok((
                name.to_owned(),
                offset
                    .trim()
                    .parse()
                    .context("malformed Encapsulated offset")?,
            ))
        })
        .collect()
}

/// The `Content-Length` of the message whose body the call encapsulates: read in the header
/// section just before the body section; 0 without a body or a length.
fn declared_body_length(encapsulated: &[u8], sections: &[(String, usize)]) -> u64 {
    let Some(body) = sections
        .iter()
        .position(|(name, _)| name.ends_with("-body") && name != "null-body")
    else {
        return 0;
    };
    let Some((_, start)) = body.checked_sub(1).and_then(|i| sections.get(i)) else {
        return 0;
    };
    let end = sections[body].1.min(encapsulated.len());
    String::from_utf8_lossy(&encapsulated[(*start).min(end)..end])
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// Reads a chunked body (a preview or the whole body) up to its last chunk; the body bytes read.
async fn skip_chunked(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Result<u64> {
    let mut read = 0;
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line).await? == 0 {
            bail!("connection closed inside a chunked body");
        }
        let size_text = size_line
            .trim()
            .split(';')
            .next()
            .unwrap_or("0")
            .trim()
            .to_owned();
        let size = usize::from_str_radix(&size_text, 16).context("malformed chunk size")?;
        if size == 0 {
            let mut end = String::new();
            reader.read_line(&mut end).await?;
            return Ok(read);
        }
        let mut chunk = vec![0u8; size + 2];
        reader.read_exact(&mut chunk).await?;
        read += size as u64;
    }
}

fn describe(method: &str, http_head: &str) -> IcapCall {
    let mut lines = http_head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    IcapCall {
        method: method.to_owned(),
        http_method: request_line.next().unwrap_or_default().to_owned(),
        http_uri: request_line.next().unwrap_or_default().to_owned(),
        http_headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect(),
        scanned_bytes: 0,
    }
}
