//! One lab per run: PKI, mock servers, private network, relay and proxy under test, shared by
//! every scenario, and torn down when dropped (pass, fail, panic or interrupt).

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

use crate::backend::ProxyBackend;
use crate::docker::{DockerEngine, LAB_LABEL};
use crate::image::SquidImage;
use crate::proxy_log::ProxyLog;
use crate::readiness::probe_through_proxy;
use crate::relay::Relay;
use crate::squid::{Policy, ProxySetup, ProxyUnderTest, Squid, StartFailure};
use conformance_spec::{
    all_lab_host_names, parse_seed, DrawnHosts, HOST_SEED_ENV, LAB_PASSWORD, LAB_USER,
    WINDOWS_UPDATE_HOSTS,
};

/// Why a lab did not start; each kind maps to its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    PolicyRejected(String),
    #[error("{0}")]
    CouldNotStart(String),
}

/// How to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub policy: Policy,
}

/// A running lab.
pub struct Lab {
    pki: LabPki,
    origin: UpdateOrigin,
    scripted: ScriptedEndpoints,
    icap: IcapRecorder,
    categorizer: Categorizer,
    proxy_log: ProxyLog,
    backend: Arc<dyn ProxyBackend>,
    hosts: DrawnHosts,
    served_names: Vec<String>,
    proxy_port: u16,
    policy: Policy,
    resources: std::sync::Mutex<Resources>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("policy", &self.policy.path())
            .field("proxy_port", &self.proxy_port)
            .field("network", &self.network_name())
            .finish_non_exhaustive()
    }
}

impl Lab {
    pub async fn start(options: LabOptions) -> Result<Self, LabError> {
        let could_not_start = |e: anyhow::Error| LabError::CouldNotStart(format!("{e:#}"));
        let engine = DockerEngine::connect().await.map_err(could_not_start)?;
        engine
            .remove_orphaned_labs()
            .await
            .map_err(could_not_start)?;
        SquidImage::ensure(&engine).await.map_err(could_not_start)?;

        let hosts = draw_hosts().map_err(LabError::CouldNotStart)?;
        let served_names = served_names(&hosts);
        let pki = LabPki::generate(&served_names).map_err(could_not_start)?;
        let scripted = ScriptedEndpoints::start().await.map_err(could_not_start)?;
        let origin = UpdateOrigin::start(&pki.origin_leaf, scripted.clone())
            .await
            .map_err(could_not_start)?;
        let icap = IcapRecorder::start().await.map_err(could_not_start)?;
        let categorizer = Categorizer::start().await.map_err(could_not_start)?;

        let mut resources = Resources::create_network(engine.client())
            .await
            .map_err(could_not_start)?;
        let relay = Relay::start(&resources.network, origin.http_port(), origin.tls_port())
            .await
            .map_err(could_not_start)?;
        let relay_address = relay.address;
        resources.adopt(relay.container);

        let log_dir = tempfile::Builder::new()
            .prefix("proxy-conformance-log-")
            .tempdir()
            .map_err(|e| could_not_start(e.into()))?;
        let proxy = ProxyUnderTest::start(ProxySetup {
            network: &resources.network,
            pki: &pki,
            policy: &options.policy,
            relay: relay_address,
            icap_port: icap.port(),
            categorizer_port: categorizer.port(),
            log_dir: log_dir.path(),
            host_names: &served_names,
            user: LAB_USER,
            password: LAB_PASSWORD,
        })
        .await;
        let proxy = match proxy {
            Ok(proxy) => proxy,
            Err(StartFailure::PolicyRejected(message)) => {
                return Err(LabError::PolicyRejected(message))
            }
            Err(StartFailure::Failed(error)) => return Err(could_not_start(error)),
        };
        let proxy_port = proxy.host_port;
        resources.adopt(proxy.container);
        let probe_host = WINDOWS_UPDATE_HOSTS[0].names[0];
        let attempts = probe_through_proxy(
            ([127, 0, 0, 1], proxy_port).into(),
            probe_host,
            Duration::from_secs(20),
        )
        .await
        .map_err(could_not_start)?;
        if attempts > 1 && std::env::var_os("PROXY_CONFORMANCE_DEBUG").is_some() {
            eprintln!("lab: the proxy answered the readiness probe after {attempts} attempts");
        }
        let backend: Arc<dyn ProxyBackend> = Arc::new(Squid);
        let proxy_log = ProxyLog::new(log_dir.path().join("access.log"), backend.clone());
        if std::env::var_os("PROXY_CONFORMANCE_KEEP_LOGS").is_some() {
            eprintln!(
                "lab: keeping the proxy's logs in {}",
                log_dir.keep().display()
            );
        } else {
            resources.log_dir = Some(log_dir);
        }
        Ok(Self {
            pki,
            origin,
            scripted,
            icap,
            categorizer,
            proxy_log,
            backend,
            hosts,
            served_names,
            proxy_port,
            policy: options.policy,
            resources: std::sync::Mutex::new(resources),
        })
    }

    /// `http://127.0.0.1:<port>`: the proxy under test as clients on this host reach it.
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
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

    /// The proxy's log, read as neutral facts.
    pub fn proxy_log(&self) -> &ProxyLog {
        &self.proxy_log
    }

    /// The kind of proxy under test.
    pub fn backend(&self) -> &dyn ProxyBackend {
        self.backend.as_ref()
    }

    /// How the scenario clients reach the proxy: its URL, the lab credentials, and the roots
    /// they trust (origin CA, then the lab's interception CA).
    pub fn proxy_endpoint(&self) -> ProxyEndpoint {
        ProxyEndpoint {
            url: self.proxy_url(),
            user: Some((LAB_USER.to_owned(), LAB_PASSWORD.to_owned())),
            trusted_roots: vec![
                self.pki.origin_ca.cert_der().clone(),
                self.pki.interception_ca.cert_der().clone(),
            ],
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Removes the lab's containers and network now, even while scenarios still hold the lab
    /// (dropping the lab does the same).
    pub async fn shutdown(&self) {
        let taken = self
            .resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take_for_removal();
        if let Some(removal) = taken {
            removal.run().await;
        }
    }

    /// How a person reaches this lab (for `--keep-lab`).
    pub fn describe(&self) -> String {
        let network = self.network_name();
        format!(
            "lab: proxy under test at {} (user {LAB_USER}, password {LAB_PASSWORD}); \
             containers {network}-proxy and {network}-relay on network {network}; \
             access log {}\n\
             lab: try  curl -x {} http://download.windowsupdate.com/updates/1024/try/kb.psf -o /dev/null -w '%{{http_code}}\\n'",
            self.proxy_url(),
            self.proxy_log.path().display(),
            self.proxy_url()
        )
    }

    fn network_name(&self) -> String {
        self.resources
            .lock()
            .map(|r| r.network.clone())
            .unwrap_or_default()
    }
}

/// This run's drawn host names: seeded by [`HOST_SEED_ENV`] when it is set (to replay a run),
/// randomly otherwise.
fn draw_hosts() -> Result<DrawnHosts, String> {
    let seed = match std::env::var(HOST_SEED_ENV) {
        Ok(text) => parse_seed(&text).ok_or_else(|| {
            format!("{HOST_SEED_ENV}={text:?} is not a seed (decimal, or hexadecimal with 0x)")
        })?,
        Err(_) => rand::random(),
    };
    Ok(DrawnHosts::draw(seed))
}

/// Every name the lab resolves and its origin certificate covers: the fixed names, then the
/// drawn ones.
fn served_names(hosts: &DrawnHosts) -> Vec<String> {
    let mut names = all_lab_host_names();
    for name in hosts.certificate_names() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
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
