//! The harness's side of an external-mode run, and all `serve` starts: the update origin under
//! every lab name on :80 and :443 of the exposed address, a DNS server answering every lab
//! name (and the look-alikes) with that address and refusing everything else, the ICAP
//! recorder and the categorisation service. The origin CA is kept in a state directory, so a
//! proxy told to trust it once keeps trusting it across `serve` and later runs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use lab_certs::{CertificateAuthority, LabPki};
use mock_servers::{Categorizer, IcapRecorder, LabDns, ScriptedEndpoints, UpdateOrigin};

use conformance_model::{DrawnHosts, ExtraHosts};

use crate::error::LabError;
use crate::external::relay::PortRelay;
use crate::external::setup::{Setup, SidePorts};
use crate::servers::InProcessServers;

/// How to start the harness's side.
#[derive(Debug, Clone)]
pub struct SideOptions {
    /// The address at which the proxy reaches the harness (an address of this machine).
    pub expose: Ipv4Addr,
    /// Where the origin CA is kept between runs (`origin-ca.pem`, `origin-ca.key`) and the
    /// lab's host names are listed (`lab-names.txt`); created when missing.
    pub state_dir: PathBuf,
    pub ports: SidePorts,
    /// Hosts the run's features name beyond the lab's own: resolved and served too.
    pub extra_hosts: ExtraHosts,
}

/// The running harness side; everything stops when it is dropped.
pub struct HarnessSide {
    pub(crate) pki: LabPki,
    pub(crate) origin: UpdateOrigin,
    pub(crate) scripted: ScriptedEndpoints,
    pub(crate) icap: IcapRecorder,
    pub(crate) categorizer: Categorizer,
    pub(crate) dns: LabDns,
    pub(crate) hosts: DrawnHosts,
    pub(crate) served_names: Vec<String>,
    pub(crate) setup: Setup,
    _relay: PortRelay,
}

impl std::fmt::Debug for HarnessSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarnessSide")
            .field("setup", &self.setup)
            .finish_non_exhaustive()
    }
}

impl HarnessSide {
    /// Starts every service of the harness side at `options.expose`, for host names drawn
    /// from `CONFORMANCE_HOST_SEED` when it is set (randomly otherwise), with the features'
    /// own hosts (`options.extra_hosts`).
    pub async fn start(options: &SideOptions) -> Result<Self, LabError> {
        let hosts =
            crate::run_hosts::draw_hosts(None, &options.extra_hosts).map_err(LabError::Usage)?;
        let failed = |e: anyhow::Error| LabError::CouldNotStart(format!("{e:#}"));
        let served_names = crate::run_hosts::served_names(&hosts);
        let origin_ca = kept_origin_ca(&options.state_dir)?;
        let pki = LabPki::with_origin_ca(origin_ca, &served_names).map_err(failed)?;
        let InProcessServers {
            origin,
            scripted,
            icap,
            categorizer,
        } = InProcessServers::start(&pki).await.map_err(failed)?;

        let at = |port: u16| SocketAddr::from((options.expose, port));
        let ports = options.ports;
        let mut relay = PortRelay::default();
        for (port, to, what) in [
            (ports.http, origin.http_port(), "the update origin (HTTP)"),
            (ports.tls, origin.tls_port(), "the update origin (TLS)"),
            (ports.icap, icap.port(), "the ICAP recorder"),
            (
                ports.categorizer,
                categorizer.port(),
                "the categorisation service",
            ),
        ] {
            relay
                .forward(at(port), to)
                .await
                .map_err(|e| cannot_listen(at(port), what, &e))?;
        }
        let dns = LabDns::start(
            at(ports.dns),
            options.expose,
            served_names.iter(),
            hosts.wildcard_suffixes(),
        )
        .await
        .map_err(|e| match e {
            mock_servers::DnsError::Bind { addr, source, .. } => {
                cannot_listen(addr, "the DNS server", &source)
            }
            other => LabError::CouldNotStart(other.to_string()),
        })?;
        let names_file = options.state_dir.join("lab-names.txt");
        std::fs::write(&names_file, served_names.join("\n") + "\n").map_err(|e| {
            LabError::CouldNotStart(format!("cannot write {}: {e}", names_file.display()))
        })?;
        let setup = Setup {
            expose: options.expose,
            ports,
            origin_ca: options.state_dir.join(ORIGIN_CA_FILE),
            names_file,
            seed: hosts.seed(),
            example_names: hosts.for_pattern("*.dl.delivery.mp.microsoft.com").to_vec(),
        };
        Ok(Self {
            pki,
            origin,
            scripted,
            icap,
            categorizer,
            dns,
            hosts,
            served_names,
            setup,
            _relay: relay,
        })
    }

    /// What to point the proxy at.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The DNS server's journal: which names the proxy asked for.
    pub fn dns(&self) -> &LabDns {
        &self.dns
    }

    /// The services, for a lab that judges with them, and what keeps them reachable.
    pub(crate) fn into_parts(self) -> (SideServices, SideRest) {
        (
            SideServices {
                pki: self.pki,
                origin: self.origin,
                scripted: self.scripted,
                icap: self.icap,
                categorizer: self.categorizer,
                hosts: self.hosts,
                served_names: self.served_names,
            },
            SideRest {
                dns: self.dns,
                setup: self.setup,
                _relay: self._relay,
            },
        )
    }
}

/// The services a lab's steps use.
pub(crate) struct SideServices {
    pub(crate) pki: LabPki,
    pub(crate) origin: UpdateOrigin,
    pub(crate) scripted: ScriptedEndpoints,
    pub(crate) icap: IcapRecorder,
    pub(crate) categorizer: Categorizer,
    pub(crate) hosts: DrawnHosts,
    pub(crate) served_names: Vec<String>,
}

/// The DNS server, the set-up and the relayed ports, kept for the length of the run.
pub(crate) struct SideRest {
    pub(crate) dns: LabDns,
    pub(crate) setup: Setup,
    _relay: PortRelay,
}

/// The origin CA's certificate in the state directory (what the proxy must trust).
pub const ORIGIN_CA_FILE: &str = "origin-ca.pem";
const ORIGIN_CA_KEY_FILE: &str = "origin-ca.key";

/// The origin CA kept in `dir`, or a new one written there.
fn kept_origin_ca(dir: &Path) -> Result<CertificateAuthority, LabError> {
    let fail = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        LabError::CouldNotStart(format!("cannot {what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create the state directory", dir, &e))?;
    let cert = dir.join(ORIGIN_CA_FILE);
    let key = dir.join(ORIGIN_CA_KEY_FILE);
    if cert.exists() && key.exists() {
        let cert_pem = std::fs::read_to_string(&cert).map_err(|e| fail("read", &cert, &e))?;
        let key_pem = std::fs::read_to_string(&key).map_err(|e| fail("read", &key, &e))?;
        return CertificateAuthority::from_pem(&cert_pem, &key_pem)
            .map_err(|e| fail("use the origin CA in", &cert, &format!("{e:#}")));
    }
    let ca = LabPki::new_origin_ca().map_err(|e| LabError::CouldNotStart(format!("{e:#}")))?;
    write_private(&key, ca.key_pem()).map_err(|e| fail("write", &key, &e))?;
    std::fs::write(&cert, ca.cert_pem()).map_err(|e| fail("write", &cert, &e))?;
    Ok(ca)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

/// One sentence naming the address a service could not listen on, and the usual fix.
fn cannot_listen(addr: SocketAddr, what: &str, error: &std::io::Error) -> LabError {
    let hint = match error.kind() {
        std::io::ErrorKind::AddrInUse => "something else listens there (another `serve`?)",
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need root or CAP_NET_BIND_SERVICE"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "that address is not one of this machine's (give --expose an address of an interface here)"
        }
        _ => "",
    };
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(": {hint}")
    };
    LabError::CouldNotStart(format!(
        "cannot listen on {addr} for {what} ({error}){hint}"
    ))
}
