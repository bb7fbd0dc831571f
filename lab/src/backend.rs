//! The proxy-backend seam: everything the lab needs to know about one kind of proxy it starts
//! itself — its image, how a policy becomes its configuration (refusing the directives the lab
//! keeps for itself), how it is started and known to be ready, how its log becomes neutral
//! [`ProxyFact`]s, and which properties it can police at all. A backend lives in one folder
//! (Squid: `lab/src/squid/`) and is registered once in `lab/src/backends.rs`; nothing else in
//! the lab names it. The remedy words of each property (Squid's beside CPL's) are in the
//! property's record (`model/src/property.rs`).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use futures::future::BoxFuture;
use lab_certs::LabPki;
use testcontainers::{ContainerAsync, GenericImage};

use conformance_model::Property;

use crate::facts::ProxyFact;
use crate::image::DebianImage;
use crate::squid::Policy;

/// One kind of proxy the lab can put under test.
pub trait ProxyBackend: Send + Sync + std::fmt::Debug {
    /// How the command line names it (`squid-5.7`).
    fn id(&self) -> &'static str;

    /// The proxy's name and version, as reports show it (`Squid 5.7`).
    fn name(&self) -> &'static str;

    /// The image the proxy runs in, built from Debian packages on first use.
    fn image(&self) -> &'static DebianImage;

    /// The properties this proxy can police at all (it has the feature a policy could turn on
    /// for update traffic). A property outside this list is *not applicable* to the backend:
    /// its control could never hold, so it is neither judged nor failed.
    fn polices(&self) -> &'static [Property] {
        &Property::ALL
    }

    /// Reads a policy the user wrote for this proxy, refusing what breaks the lab contract (a
    /// directive the lab owns, which would unplug its instruments, named at its line).
    fn load_policy(&self, path: &Path) -> anyhow::Result<Policy>;

    /// Writes the configuration (lab preamble + policy), starts the proxy on the lab's network
    /// and waits until it accepts connections (its ready line); a configuration the proxy refuses is
    /// [`StartFailure::PolicyRejected`] in the proxy's own words, at the user's line.
    fn start<'a>(
        &'a self,
        setup: ProxySetup<'a>,
    ) -> BoxFuture<'a, Result<StartedProxy, StartFailure>>;

    /// The facts of one line of the proxy's access log, `None` for a line that is not a
    /// request (a header, a blank line).
    fn parse_log_line(&self, line: &str) -> Option<ProxyFact>;
}

/// What the lab hands a backend to start its proxy with: the lab's network, PKI, relay, the
/// ports of its instruments, where the log goes and the lab credentials.
pub struct ProxySetup<'a> {
    pub network: &'a str,
    pub pki: &'a LabPki,
    pub policy: &'a Policy,
    /// Where every lab host name resolves (the relay to the in-process origin).
    pub relay: IpAddr,
    pub icap_port: u16,
    pub categorizer_port: u16,
    /// A directory shared with the harness; the proxy writes its access log there.
    pub log_dir: &'a Path,
    /// Every name the proxy must resolve to the relay.
    pub host_names: &'a [String],
    pub user: &'a str,
    pub password: &'a str,
}

/// A proxy that accepts connections.
pub struct StartedProxy {
    pub container: ContainerAsync<GenericImage>,
    /// Its listening port as published on this host.
    pub host_port: u16,
    /// Its listening address on the lab's network, which a Linux host reaches without
    /// Docker's port forwarding.
    pub network_address: Option<SocketAddr>,
    /// The access log file inside `log_dir`.
    pub access_log: &'static str,
}

/// Why the proxy did not start: it refused the policy (in its own words, with the user's
/// line), or anything else went wrong.
#[derive(Debug)]
pub enum StartFailure {
    PolicyRejected(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for StartFailure {
    fn from(error: anyhow::Error) -> Self {
        Self::Failed(error)
    }
}
