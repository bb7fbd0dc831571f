//! What to point a proxy at: the set-up `run --proxy` and `serve` print before anything runs,
//! in the words of an appliance's configuration (DNS, ICAP services, trusted CA) and with every
//! wait the harness will make.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// How long the harness waits for the proxy to accept a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the harness waits for a first request through the proxy to reach its origin.
pub const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a check waits for the first ICAP call or categorisation lookup of the run before
/// calling that vantage point not observable.
pub const INSTRUMENT_GRACE: Duration = Duration::from_secs(10);

/// The harness side's addresses and files, as a proxy administrator needs them.
#[derive(Debug, Clone)]
pub struct Setup {
    pub expose: Ipv4Addr,
    pub ports: SidePorts,
    /// The origin CA's certificate (PEM) the proxy must trust for the hosts it intercepts.
    pub origin_ca: PathBuf,
    /// Every exact lab name, one a line.
    pub names_file: PathBuf,
    pub seed: u64,
    /// A few drawn names, to show what the DNS server answers.
    pub example_names: Vec<String>,
}

impl Setup {
    pub fn icap_reqmod_url(&self) -> String {
        format!("icap://{}:{}/reqmod", self.expose, self.ports.icap)
    }

    pub fn icap_respmod_url(&self) -> String {
        format!("icap://{}:{}/respmod", self.expose, self.ports.icap)
    }

    pub fn categorizer_url(&self) -> String {
        format!(
            "http://{}:{}{}?host=HOST",
            self.expose,
            self.ports.categorizer,
            mock_servers::LOOKUP_PATH
        )
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.expose;
        let p = self.ports;
        writeln!(
            f,
            "harness side at {a} — configure the proxy under test with:"
        )?;
        writeln!(
            f,
            "  DNS server      {a}:{} (UDP and TCP): answers every lab name with {a}, REFUSED for \
             anything else; use it as the proxy's resolver for the test, or forward the names in \
             {} and every name under Microsoft's update domains to it",
            p.dns,
            self.names_file.display()
        )?;
        writeln!(
            f,
            "  update origins  {a}:{} (HTTP) and {a}:{} (TLS) under every lab name; the proxy must be \
             allowed to connect there",
            p.http, p.tls
        )?;
        writeln!(
            f,
            "  origin CA       {} — trust it for upstream (server) certificates of the hosts the \
             proxy intercepts (it is kept: trust it once)",
            self.origin_ca.display()
        )?;
        writeln!(
            f,
            "  ICAP            {} (REQMOD) and {} (RESPMOD) — only if the proxy scans with ICAP; \
             without a call, ICAP is not observable",
            self.icap_reqmod_url(),
            self.icap_respmod_url()
        )?;
        writeln!(
            f,
            "  categorisation  {} — answers `blocked` or `allowed`; only if the proxy can ask an \
             HTTP categoriser; without a lookup, categorisation is not observable",
            self.categorizer_url()
        )?;
        writeln!(
            f,
            "  host names      drawn with seed {:#x} (e.g. {})",
            self.seed,
            self.example_names.join(", ")
        )?;
        write!(
            f,
            "  waits           proxy accepts a connection: {} s; first request reaches an origin \
             through it: {} s; ICAP call or categorisation lookup seen in the run: {} s",
            CONNECT_TIMEOUT.as_secs(),
            FIRST_REQUEST_TIMEOUT.as_secs(),
            INSTRUMENT_GRACE.as_secs()
        )
    }
}

/// The ports the harness listens on at the exposed address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidePorts {
    pub dns: u16,
    pub http: u16,
    pub tls: u16,
    pub icap: u16,
    pub categorizer: u16,
}

impl Default for SidePorts {
    /// DNS 53, HTTP 80, TLS 443 (what a proxy asks for by default), ICAP 1344 (RFC 3507's
    /// port), categoriser 8344.
    fn default() -> Self {
        Self {
            dns: 53,
            http: 80,
            tls: 443,
            icap: 1344,
            categorizer: 8344,
        }
    }
}
