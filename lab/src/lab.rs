//! One lab per run: PKI, mock servers, private network, relay and proxy under test, shared by
//! every scenario, and torn down when dropped (pass, fail, panic or interrupt). In external
//! mode ([`Lab::start_external`]) the lab is only the harness's side around a proxy the
//! harness did not start: no container, no network, no proxy log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use lab_certs::LabPki;
use mock_servers::{Categorizer, IcapRecorder, ScriptedEndpoints, UpdateOrigin};
use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::RemoveContainerOptionsBuilder;
use testcontainers::bollard::Docker;
use testcontainers::{ContainerAsync, GenericImage};

use conformance_client::ProxyEndpoint;
use rustls::pki_types::CertificateDer;

use crate::backend::{ProxyBackend, ProxySetup, StartFailure};
use crate::docker::{DockerEngine, LAB_LABEL};
pub use crate::error::LabError;
use crate::external::{
    probe, ExternalOptions, HarnessSide, InterceptionCa, Setup, SideRest, INSTRUMENT_GRACE,
};
use crate::fault_injection::{self, InjectedFault};
use crate::health::{LabComponent, LabHealth};
use crate::proxy_log::ProxyLog;
use crate::readiness::probe_through_proxy;
use crate::relay::{Relay, RELAY_IMAGE};
use crate::run_hosts::{draw_hosts, served_names};
use crate::servers::InProcessServers;
use crate::squid::Policy;
use crate::vantage::{NotObservable, Vantage, VantageLedger};
use crate::watch::{LabWatch, Watched};
use conformance_model::{DrawnHosts, LAB_PASSWORD, LAB_USER, WINDOWS_UPDATE_HOSTS};

/// Whether the harness started the proxy under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabMode {
    /// The bundled lab: the harness started the proxy and reads its log.
    Bundled,
    /// A proxy the harness did not start: judged as a client and from its own services.
    External,
}

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The proxy to put under test (one of [`crate::BUNDLED_BACKENDS`]).
    pub backend: &'static dyn ProxyBackend,
    pub policy: Policy,
    /// Hosts the run's features name beyond the lab's own: resolved and served too.
    pub extra_hosts: conformance_model::ExtraHosts,
    /// Draw the host names from this seed (to compare two runs on the same names, or replay
    /// one); `None`: `PROXY_CONFORMANCE_HOST_SEED` when set, else a fresh seed.
    pub host_seed: Option<u64>,
}

impl LabOptions {
    /// The default backend running `policy`, on freshly drawn names.
    pub fn new(policy: Policy) -> Self {
        Self {
            backend: crate::default_backend(),
            policy,
            host_seed: None,
            extra_hosts: Default::default(),
        }
    }
}

/// A running lab.
pub struct Lab {
    pki: LabPki,
    origin: UpdateOrigin,
    scripted: ScriptedEndpoints,
    icap: IcapRecorder,
    categorizer: Categorizer,
    proxy_log: Option<ProxyLog>,
    /// The bundled proxy's backend; `None` in external mode.
    backend: Option<&'static dyn ProxyBackend>,
    hosts: DrawnHosts,
    served_names: Vec<String>,
    endpoint: ProxyEndpoint,
    /// The CA the proxy signs intercepted connections with, when known.
    interception_ca: Option<InterceptionCa>,
    policy: Policy,
    vantages: VantageLedger,
    /// External mode: the harness side's DNS server and set-up (the rest is moved out).
    external: Option<SideRest>,
    /// The proxy as a person on this host reaches it (the published port in the bundled lab).
    proxy_url: String,
    /// What the watch saw while the lab ran.
    health: Arc<LabHealth>,
    /// Stopped before the resources are removed (the lab's own teardown is no fault).
    watch: std::sync::Mutex<Option<LabWatch>>,
    resources: std::sync::Mutex<Option<Resources>>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("policy", &self.policy.path())
            .field("proxy", &self.endpoint.url)
            .field("network", &self.network_name())
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// Starts the bundled lab around `options.backend` running `options.policy`: builds the
    /// images when missing, draws the host names, starts the in-process servers, the network,
    /// the relay and the proxy, and waits until a request through the proxy is answered.
    pub async fn start(options: LabOptions) -> Result<Self, LabError> {
        let injected = fault_injection::requested()?;
        let backend = options.backend;
        let engine = DockerEngine::connect().await.map_err(could_not_start)?;
        engine
            .remove_orphaned_labs()
            .await
            .map_err(could_not_start)?;
        RELAY_IMAGE.ensure(&engine).await.map_err(could_not_start)?;
        backend
            .image()
            .ensure(&engine)
            .await
            .map_err(could_not_start)?;

        let hosts =
            draw_hosts(options.host_seed, &options.extra_hosts).map_err(LabError::CouldNotStart)?;
        let served_names = served_names(&hosts);
        let pki = LabPki::generate(&served_names).map_err(could_not_start)?;
        let servers = InProcessServers::start(&pki)
            .await
            .map_err(could_not_start)?;
        let mut resources = Resources::create_network(engine.client())
            .await
            .map_err(could_not_start)?;
        let started = start_proxy(&options, &mut resources, &servers, &pki, &served_names).await?;
        let StartedInLab {
            proxy_port,
            network_address,
            log_dir,
            access_log,
            watched_containers,
        } = started;
        let health = Arc::new(LabHealth::default());
        let endpoint = ready_endpoint(&pki, proxy_port, network_address, &health).await?;
        let proxy_log = ProxyLog::new(log_dir.path().join(access_log), backend);
        keep_or_adopt_logs(log_dir, &mut resources);
        let containers = (engine.client().clone(), watched_containers);
        let watch = watch_bundled(containers, &servers, &health, injected);
        let interception_ca = Some(InterceptionCa {
            certificates: vec![pki.interception_ca.cert_der().clone()],
            common_name: pki.interception_ca.common_name().to_owned(),
        });
        let InProcessServers {
            origin,
            scripted,
            icap,
            categorizer,
        } = servers;
        Ok(Self {
            pki,
            origin,
            scripted,
            icap,
            categorizer,
            proxy_log: Some(proxy_log),
            backend: Some(backend),
            hosts,
            served_names,
            endpoint,
            interception_ca,
            policy: options.policy,
            vantages: VantageLedger::default(),
            external: None,
            proxy_url: format!("http://127.0.0.1:{proxy_port}"),
            health,
            watch: std::sync::Mutex::new(Some(watch)),
            resources: std::sync::Mutex::new(Some(resources)),
        })
    }

    /// Puts a proxy the harness did not start under test: checks it accepts connections
    /// (within [`crate::external::CONNECT_TIMEOUT`]) before anything else starts, starts the
    /// harness's side, calls `announce` with what to point the proxy at, then checks a first
    /// request through the proxy reaches the harness's origin. Nothing is left running when
    /// it fails.
    pub async fn start_external(
        options: ExternalOptions,
        announce: impl FnOnce(&Setup),
    ) -> Result<Self, LabError> {
        let injected = fault_injection::requested()?;
        let proxy_addr = probe::proxy_accepts_connections(&options.proxy_url).await?;
        let interception = options
            .proxy_ca
            .as_deref()
            .map(InterceptionCa::load)
            .transpose()?;
        let side = HarnessSide::start(&options.side).await?;
        announce(side.setup());
        probe::first_request_reaches_origin(
            proxy_addr,
            &options.proxy_url,
            options.user.as_ref(),
            &side,
        )
        .await?;
        let (services, rest) = side.into_parts();
        let mut trusted_roots = vec![services.pki.origin_ca.cert_der().clone()];
        if let Some(ca) = &interception {
            trusted_roots.extend(ca.certificates.iter().cloned());
        }
        let endpoint = ProxyEndpoint {
            url: options.proxy_url.trim_end_matches('/').to_owned(),
            user: options.user,
            trusted_roots,
        };
        let health = Arc::new(LabHealth::default());
        let watched = Watched {
            containers: None,
            origin_http: local(services.origin.http_port()),
            icap: local(services.icap.port()),
            categorizer: local(services.categorizer.port()),
            external_proxy: Some(proxy_addr),
            dns: Some(rest.dns.local_addr()),
        };
        let watch = watch_with_injection(
            watched,
            &health,
            injected,
            &services.origin,
            &services.icap,
            &services.categorizer,
        );
        Ok(Self {
            pki: services.pki,
            origin: services.origin,
            scripted: services.scripted,
            icap: services.icap,
            categorizer: services.categorizer,
            proxy_log: None,
            backend: None,
            hosts: services.hosts,
            served_names: services.served_names,
            policy: Policy::of_external_proxy(&endpoint.url),
            proxy_url: endpoint.url.clone(),
            endpoint,
            interception_ca: interception,
            vantages: VantageLedger::default(),
            external: Some(rest),
            health,
            watch: std::sync::Mutex::new(Some(watch)),
            resources: std::sync::Mutex::new(None),
        })
    }

    /// The proxy under test as a person on this host reaches it (`http://HOST:PORT`); the
    /// scenarios' clients may take a shorter way ([`Lab::proxy_endpoint`]).
    pub fn proxy_url(&self) -> String {
        self.proxy_url.clone()
    }

    /// Whether the harness started the proxy under test.
    pub fn mode(&self) -> LabMode {
        if self.external.is_some() {
            LabMode::External
        } else {
            LabMode::Bundled
        }
    }

    /// External mode: what the proxy was pointed at.
    pub fn external_setup(&self) -> Option<&Setup> {
        self.external.as_ref().map(|rest| &rest.setup)
    }

    /// External mode: the harness's DNS server (which names the proxy asked for).
    pub fn dns(&self) -> Option<&mock_servers::LabDns> {
        self.external.as_ref().map(|rest| &rest.dns)
    }

    /// What the run judged from where.
    pub fn vantages(&self) -> &VantageLedger {
        &self.vantages
    }

    /// The common name of the CA the proxy signs intercepted connections with: the lab's in
    /// the bundled lab, `--proxy-ca`'s in external mode (`None` when it was not given).
    pub fn interception_ca_name(&self) -> Option<&str> {
        self.interception_ca
            .as_ref()
            .map(|ca| ca.common_name.as_str())
    }

    /// The certificates of the CA the proxy signs intercepted connections with, when known
    /// (the lab's own, or `--proxy-ca`).
    pub fn interception_ca_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.interception_ca
            .as_ref()
            .map(|ca| ca.certificates.as_slice())
    }

    /// Whether `vantage` can be observed in this run. The client and the origin always can;
    /// the proxy's log only in the bundled lab; in external mode the ICAP recorder and the
    /// categoriser only once the proxy has called them in this run (waiting up to
    /// [`INSTRUMENT_GRACE`] for the first call, which the controls running alongside make).
    pub async fn observe(&self, vantage: Vantage) -> Result<(), NotObservable> {
        let unobservable = |why: String| NotObservable {
            vantage,
            check: String::new(),
            why,
        };
        let Some(rest) = &self.external else {
            return Ok(());
        };
        let called = || match vantage {
            Vantage::Icap => self.icap.call_count() > 0,
            Vantage::Categorizer => self.categorizer.lookup_count() > 0,
            _ => true,
        };
        match vantage {
            Vantage::Client | Vantage::Origin => Ok(()),
            Vantage::ProxyLog => Err(unobservable(
                "the proxy under test is external: the harness cannot read its log".to_owned(),
            )),
            Vantage::Icap | Vantage::Categorizer => {
                let deadline = tokio::time::Instant::now() + INSTRUMENT_GRACE;
                while !called() && tokio::time::Instant::now() < deadline {
                    // Polls a journal (bounded): the first call comes from a control.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                if called() {
                    return Ok(());
                }
                Err(unobservable(if vantage == Vantage::Icap {
                    format!(
                        "the proxy made no ICAP call to {} or {} during the run (it is not pointed at the harness's ICAP recorder)",
                        rest.setup.icap_reqmod_url(),
                        rest.setup.icap_respmod_url()
                    )
                } else {
                    format!(
                        "the proxy made no lookup at {} during the run (it is not pointed at the harness's categorisation service)",
                        rest.setup.categorizer_url()
                    )
                }))
            }
        }
    }

    pub fn pki(&self) -> &LabPki {
        &self.pki
    }

    pub fn origin(&self) -> &UpdateOrigin {
        &self.origin
    }

    pub fn scripted(&self) -> &ScriptedEndpoints {
        &self.scripted
    }

    pub fn icap(&self) -> &IcapRecorder {
        &self.icap
    }

    /// The categorisation service the proxy's `lab_categorize` helper asks.
    pub fn categorizer(&self) -> &Categorizer {
        &self.categorizer
    }

    /// The host names drawn for this run: fresh labels under every wildcard pattern, and the
    /// look-alike control hosts.
    pub fn hosts(&self) -> &DrawnHosts {
        &self.hosts
    }

    /// Whether the lab resolves and serves `host` (a fixed lab name or a drawn one).
    pub fn serves(&self, host: &str) -> bool {
        self.served_names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(host))
    }

    /// The proxy's log, read as neutral facts; `None` when the harness cannot read it
    /// (external mode): judge from the other vantage points, or report *not observable*.
    pub fn proxy_log(&self) -> Option<&ProxyLog> {
        self.proxy_log.as_ref()
    }

    /// The bundled proxy's backend; `None` for a proxy the harness did not start.
    pub fn backend(&self) -> Option<&'static dyn ProxyBackend> {
        self.backend
    }

    /// The proxy under test as reports name it (`Squid 5.7`, `external proxy`).
    pub fn proxy_name(&self) -> &'static str {
        self.backend
            .map_or("external proxy", |backend| backend.name())
    }

    /// How the scenario clients reach the proxy: its URL, the lab credentials, and the roots
    /// they trust (origin CA, then the lab's interception CA).
    pub fn proxy_endpoint(&self) -> ProxyEndpoint {
        self.endpoint.clone()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What the lab's watch saw so far: faults (with their time and the proxy's last log
    /// lines) and retries.
    pub fn health(&self) -> Arc<LabHealth> {
        self.health.clone()
    }

    /// Ends the watch: probes in flight finish (a fault they find is still recorded), then
    /// nothing more is recorded. Call it when the scenarios are done, before reading
    /// [`Lab::health`] for the run's verdict; [`Lab::shutdown`] calls it too.
    pub async fn stop_watching(&self) {
        let watch = self.watch.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut watch) = watch {
            watch.stop().await;
        }
        self.health.disarm();
    }

    /// Removes the lab's containers and network now, even while scenarios still hold the lab
    /// (dropping the lab does the same). The watch stops first: the teardown is no fault.
    pub async fn shutdown(&self) {
        self.stop_watching().await;
        let taken = self
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .and_then(Resources::take_for_removal);
        if let Some(removal) = taken {
            removal.run().await;
        }
    }

    /// How a person reaches this lab (for `--keep-lab`).
    pub fn describe(&self) -> String {
        if let Some(rest) = &self.external {
            return format!(
                "{}\nlab: proxy under test at {} (external)",
                rest.setup,
                self.proxy_url()
            );
        }
        let network = self.network_name();
        format!(
            "lab: proxy under test at {} (user {LAB_USER}, password {LAB_PASSWORD}); \
             containers {network}-proxy and {network}-relay on network {network}; \
             access log {}\n\
             lab: try  curl -x {} http://download.windowsupdate.com/updates/1024/try/kb.psf -o /dev/null -w '%{{http_code}}\\n'",
            self.proxy_url(),
            self.proxy_log
                .as_ref()
                .map_or_else(String::new, |log| log.path().display().to_string()),
            self.proxy_url()
        )
    }

    fn network_name(&self) -> String {
        self.resources
            .lock()
            .ok()
            .and_then(|r| r.as_ref().map(|r| r.network.clone()))
            .unwrap_or_default()
    }
}

/// Containers and the network of one lab, removed in `Drop` if not before.
struct Resources {
    network: String,
    containers: Vec<ContainerAsync<GenericImage>>,
    log_dir: Option<tempfile::TempDir>,
    removed: bool,
}

impl Resources {
    async fn create_network(docker: &Docker) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let network = format!("proxy-conformance-{}-{nanos:x}", std::process::id());
        docker
            .create_network(NetworkCreateRequest {
                name: network.clone(),
                driver: Some("bridge".into()),
                labels: Some(HashMap::from([(
                    LAB_LABEL.to_owned(),
                    std::process::id().to_string(),
                )])),
                ..Default::default()
            })
            .await?;
        Ok(Self {
            network,
            containers: Vec::new(),
            log_dir: None,
            removed: false,
        })
    }

    fn adopt(&mut self, container: ContainerAsync<GenericImage>) {
        self.containers.push(container);
    }

    /// Hands over what must be removed, once.
    fn take_for_removal(&mut self) -> Option<Removal> {
        if self.removed {
            return None;
        }
        self.removed = true;
        Some(Removal {
            containers: std::mem::take(&mut self.containers),
            network: self.network.clone(),
        })
    }
}

impl Drop for Resources {
    fn drop(&mut self) {
        let Some(removal) = self.take_for_removal() else {
            return;
        };
        // A fresh thread and runtime: Drop may run inside or outside a Tokio runtime, during
        // a panic or after an interrupt, and the removal must finish before the process ends.
        let cleanup = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(removal.run());
            }
        });
        let _ = cleanup.join();
    }
}

/// The one teardown of a lab, used by [`Lab::shutdown`] and by `Drop`.
///
/// It removes the containers by id with a client of its own, because it may run on a fresh
/// runtime after the lab's runtime is gone (panic, interrupt). The testcontainers handles are
/// then forgotten: their own `Drop` would remove the same containers a second time through a
/// client bound to the lab's runtime, and needs a current Tokio runtime to do so.
struct Removal {
    containers: Vec<ContainerAsync<GenericImage>>,
    network: String,
}

impl Removal {
    async fn run(self) {
        if let Ok(docker) = Docker::connect_with_defaults() {
            for container in &self.containers {
                let options = RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                let _ = docker.remove_container(container.id(), Some(options)).await;
            }
            let _ = docker.remove_network(&self.network).await;
        }
        self.containers.into_iter().for_each(std::mem::forget);
    }
}

/// Watches the bundled lab's containers and in-process servers while the run lasts.
fn watch_bundled(
    containers: (Docker, Vec<(String, LabComponent)>),
    servers: &InProcessServers,
    health: &Arc<LabHealth>,
    injected: Option<(InjectedFault, Duration)>,
) -> LabWatch {
    let watched = Watched {
        containers: Some(containers),
        origin_http: local(servers.origin.http_port()),
        icap: local(servers.icap.port()),
        categorizer: local(servers.categorizer.port()),
        external_proxy: None,
        dns: None,
    };
    watch_with_injection(
        watched,
        health,
        injected,
        &servers.origin,
        &servers.icap,
        &servers.categorizer,
    )
}

/// What starting the relay and the proxy left in the lab.
struct StartedInLab {
    proxy_port: u16,
    network_address: Option<std::net::SocketAddr>,
    log_dir: tempfile::TempDir,
    access_log: &'static str,
    watched_containers: Vec<(String, LabComponent)>,
}

/// Starts the relay, then the backend's proxy on the lab's network; both join `resources`.
async fn start_proxy(
    options: &LabOptions,
    resources: &mut Resources,
    servers: &InProcessServers,
    pki: &LabPki,
    served_names: &[String],
) -> Result<StartedInLab, LabError> {
    let relay = Relay::start(
        &resources.network,
        servers.origin.http_port(),
        servers.origin.tls_port(),
    )
    .await
    .map_err(could_not_start)?;
    let relay_address = relay.address;
    let relay_id = relay.container.id().to_owned();
    resources.adopt(relay.container);
    let log_dir = tempfile::Builder::new()
        .prefix("proxy-conformance-log-")
        .tempdir()
        .map_err(|e| could_not_start(e.into()))?;
    let started = options
        .backend
        .start(ProxySetup {
            network: &resources.network,
            pki,
            policy: &options.policy,
            relay: relay_address,
            icap_port: servers.icap.port(),
            categorizer_port: servers.categorizer.port(),
            log_dir: log_dir.path(),
            host_names: served_names,
            user: LAB_USER,
            password: LAB_PASSWORD,
        })
        .await
        .map_err(|failure| match failure {
            StartFailure::PolicyRejected(message) => LabError::PolicyRejected(message),
            StartFailure::Failed(error) => could_not_start(error),
        })?;
    let proxy_id = started.container.id().to_owned();
    resources.adopt(started.container);
    Ok(StartedInLab {
        proxy_port: started.host_port,
        network_address: started.network_address,
        log_dir,
        access_log: started.access_log,
        watched_containers: vec![
            (proxy_id, LabComponent::ProxyContainer),
            (relay_id, LabComponent::RelayContainer),
        ],
    })
}

/// Waits until a request through the proxy's published port is answered, then says how the
/// scenario clients reach it: on the lab's network when this host can (Linux), because
/// Docker's port forwarding copies every byte in a userland process that competes with the
/// proxy for CPU, which the multi-GiB downloads feel.
async fn ready_endpoint(
    pki: &LabPki,
    proxy_port: u16,
    network_address: Option<std::net::SocketAddr>,
    health: &LabHealth,
) -> Result<ProxyEndpoint, LabError> {
    let probe_host = WINDOWS_UPDATE_HOSTS[0].names[0];
    let attempts = probe_through_proxy(
        ([127, 0, 0, 1], proxy_port).into(),
        probe_host,
        Duration::from_secs(20),
    )
    .await
    .map_err(could_not_start)?;
    if attempts > 1 {
        health.record_retry(format!(
            "lab start: the proxy answered the readiness probe through its published port \
             after {attempts} attempts (a proxy can log it is ready before that port forwards)"
        ));
    }
    let address = reachable(network_address)
        .await
        .unwrap_or_else(|| ([127, 0, 0, 1], proxy_port).into());
    Ok(ProxyEndpoint {
        url: format!("http://{address}"),
        user: Some((LAB_USER.to_owned(), LAB_PASSWORD.to_owned())),
        trusted_roots: vec![
            pki.origin_ca.cert_der().clone(),
            pki.interception_ca.cert_der().clone(),
        ],
    })
}

/// Keeps the proxy's logs for a person when `PROXY_CONFORMANCE_KEEP_LOGS` is set; otherwise
/// they go with the lab.
fn keep_or_adopt_logs(log_dir: tempfile::TempDir, resources: &mut Resources) {
    if std::env::var_os("PROXY_CONFORMANCE_KEEP_LOGS").is_some() {
        eprintln!(
            "lab: keeping the proxy's logs in {}",
            log_dir.keep().display()
        );
    } else {
        resources.log_dir = Some(log_dir);
    }
}

fn could_not_start(error: anyhow::Error) -> LabError {
    LabError::CouldNotStart(format!("{error:#}"))
}

fn local(port: u16) -> std::net::SocketAddr {
    ([127, 0, 0, 1], port).into()
}

/// Starts the watch, with the fault the environment asks to inject (tests only).
fn watch_with_injection(
    watched: Watched,
    health: &Arc<LabHealth>,
    injected: Option<(InjectedFault, Duration)>,
    origin: &UpdateOrigin,
    icap: &IcapRecorder,
    categorizer: &Categorizer,
) -> LabWatch {
    let mut watch = LabWatch::start(watched, health.clone());
    if let Some((kind, after)) = injected {
        let switch = match kind {
            InjectedFault::IcapUnresponsive => icap.unresponsive_switch(),
            InjectedFault::CategorizerUnresponsive => categorizer.unresponsive_switch(),
            InjectedFault::OriginReset => origin.reset_switch(),
        };
        watch.spawn(fault_injection::inject(kind, after, switch));
    }
    watch
}

/// `address` if this host can open a TCP connection to it within a second.
async fn reachable(address: Option<std::net::SocketAddr>) -> Option<std::net::SocketAddr> {
    let address = address?;
    tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(address),
    )
    .await
    .is_ok_and(|connected| connected.is_ok())
    .then_some(address)
}
