//! The lab's watch while a run lasts. The lab's containers are followed through Docker's event
//! stream (a kill, death, stop, pause, restart or out-of-memory of the proxy or the relay is
//! seen the moment the engine reports it, no polling); the in-process servers, and in external
//! mode the proxy's address and the harness's DNS server, are probed twice a second with a
//! bounded wait. Each fault goes to
//! [`LabHealth`] with its time and the proxy's last log lines. A probe is never repeated to
//! hide a fault: one unanswered probe is a fault, and the component is not probed again.
//!
//! The probes leave no trace in what the run judges: the origin gets a connection and no
//! request, the ICAP recorder an OPTIONS (not an adaptation call), the categoriser its health
//! path (not a lookup).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use testcontainers::bollard::query_parameters::{EventsOptionsBuilder, LogsOptionsBuilder};
use testcontainers::bollard::Docker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::health::{LabComponent, LabFault, LabHealth};

/// Time between two probes of one component.
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long an in-process server may take to answer a probe: generous, so a loaded 2-core
/// machine is not mistaken for a broken lab.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the origin is watched for an immediate reset or close after a connection.
const RESET_WINDOW: Duration = Duration::from_millis(300);
/// Lines of the proxy's own log kept with a fault.
const LOG_TAIL: usize = 15;

/// What the watch follows.
pub(crate) struct Watched {
    /// Bundled lab: the engine and the containers, by id.
    pub(crate) containers: Option<(Docker, Vec<(String, LabComponent)>)>,
    pub(crate) origin_http: SocketAddr,
    pub(crate) icap: SocketAddr,
    pub(crate) categorizer: SocketAddr,
    /// External mode: the proxy under test's address.
    pub(crate) external_proxy: Option<SocketAddr>,
    /// External mode: the harness's DNS server (its TCP port).
    pub(crate) dns: Option<SocketAddr>,
}

/// The running watch; it stops when dropped or [`LabWatch::stop`]ped.
pub(crate) struct LabWatch {
    tasks: JoinSet<()>,
    /// Tells the probes to finish the probe they are in and send no other.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl LabWatch {
    pub(crate) fn start(watched: Watched, health: Arc<LabHealth>) -> Self {
        let mut tasks = JoinSet::new();
        let stopping = tokio::sync::watch::Sender::new(false);
        let proxy_log = ProxyLogTail::of(&watched.containers);
        if let Some((docker, containers)) = watched.containers {
            tasks.spawn(follow_events(
                docker,
                containers,
                health.clone(),
                proxy_log.clone(),
                stopping.subscribe(),
            ));
        }
        let probes: [(LabComponent, Probe); 3] = [
            (LabComponent::Origin, Probe::Origin(watched.origin_http)),
            (LabComponent::IcapRecorder, Probe::Icap(watched.icap)),
            (
                LabComponent::Categorizer,
                Probe::Categorizer(watched.categorizer),
            ),
        ];
        for (component, probe) in probes {
            tasks.spawn(keep_probing(
                component,
                probe,
                health.clone(),
                proxy_log.clone(),
                stopping.subscribe(),
            ));
        }
        let external = [
            watched
                .external_proxy
                .map(|proxy| (LabComponent::ExternalProxy, Probe::ExternalProxy(proxy))),
            watched.dns.map(|dns| (LabComponent::Dns, Probe::Dns(dns))),
        ];
        for (component, probe) in external.into_iter().flatten() {
            tasks.spawn(keep_probing(
                component,
                probe,
                health.clone(),
                proxy_log.clone(),
                stopping.subscribe(),
            ));
        }
        Self { tasks, stopping }
    }

    /// Adds a task that lives as long as the watch (the test-only fault injection).
    pub(crate) fn spawn(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Lets every probe in flight finish (a fault it finds is recorded with the time it was
    /// sent: a server that hung just before the run ended is not missed), then stops every
    /// task and waits until none runs.
    pub(crate) async fn stop(&mut self) {
        self.stopping.send_replace(true);
        let in_flight = async {
            while let Some(done) = self.tasks.join_next().await {
                drop(done);
            }
        };
        // Probes end within their timeout; the event follower never ends by itself.
        let longest = PROBE_TIMEOUT.max(crate::external::CONNECT_TIMEOUT);
        let _ = tokio::time::timeout(longest + Duration::from_secs(1), in_flight).await;
        self.tasks.shutdown().await;
    }
}

/// Reads the last lines of the proxy container's output (Squid's cache.log goes there).
#[derive(Clone)]
struct ProxyLogTail(Option<(Docker, String)>);

impl ProxyLogTail {
    fn of(containers: &Option<(Docker, Vec<(String, LabComponent)>)>) -> Self {
        Self(containers.as_ref().and_then(|(docker, containers)| {
            containers
                .iter()
                .find(|(_, c)| *c == LabComponent::ProxyContainer)
                .map(|(id, _)| (docker.clone(), id.clone()))
        }))
    }

    async fn read(&self) -> Vec<String> {
        let Some((docker, id)) = &self.0 else {
            return Vec::new();
        };
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&LOG_TAIL.to_string())
            .build();
        let read = async {
            let mut lines = Vec::new();
            let mut stream = docker.logs(id, Some(options));
            while let Some(Ok(chunk)) = stream.next().await {
                lines.extend(
                    String::from_utf8_lossy(&chunk.into_bytes())
                        .lines()
                        .map(str::to_owned),
                );
            }
            lines
        };
        tokio::time::timeout(Duration::from_secs(2), read)
            .await
            .unwrap_or_default()
    }
}

/// Follows the engine's events for the lab's containers until the watch stops.
async fn follow_events(
    docker: Docker,
    containers: Vec<(String, LabComponent)>,
    health: Arc<LabHealth>,
    proxy_log: ProxyLogTail,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let filters = HashMap::from([
        ("type".to_owned(), vec!["container".to_owned()]),
        (
            "container".to_owned(),
            containers.iter().map(|(id, _)| id.clone()).collect(),
        ),
    ]);
    let mut events = docker.events(Some(EventsOptionsBuilder::new().filters(&filters).build()));
    loop {
        let next = tokio::select! {
            next = events.next() => Some(next),
            _ = stopping.wait_for(|stop| *stop) => None,
        };
        let Some(next) = next else {
            // An event still on its way when the run ended would be lost: ask the engine.
            closing_inspection(&docker, &containers, &health, &proxy_log).await;
            return;
        };
        let event = match next {
            Some(Ok(event)) => event,
            Some(Err(error)) => {
                record(
                    &health,
                    &proxy_log,
                    SystemTime::now(),
                    None,
                    LabComponent::DockerEngine,
                    format!("stopped reporting the lab's containers: {error}"),
                )
                .await;
                return;
            }
            None => {
                record(
                    &health,
                    &proxy_log,
                    SystemTime::now(),
                    None,
                    LabComponent::DockerEngine,
                    "closed the stream of the lab's container events".to_owned(),
                )
                .await;
                return;
            }
        };
        let actor = event.actor.unwrap_or_default();
        let attributes = actor.attributes.unwrap_or_default();
        let Some(component) = actor
            .id
            .as_ref()
            .and_then(|id| containers.iter().find(|(c, _)| c == id))
            .map(|(_, component)| *component)
        else {
            continue;
        };
        let Some(what) = describe_event(event.action.as_deref().unwrap_or_default(), &attributes)
        else {
            continue;
        };
        let at = event
            .time_nano
            .and_then(|nanos| u64::try_from(nanos).ok())
            .map_or_else(SystemTime::now, |nanos| {
                UNIX_EPOCH + Duration::from_nanos(nanos)
            });
        record(&health, &proxy_log, at, None, component, what).await;
    }
}

/// Asks the engine, once the scenarios are over, whether each container still runs.
async fn closing_inspection(
    docker: &Docker,
    containers: &[(String, LabComponent)],
    health: &LabHealth,
    proxy_log: &ProxyLogTail,
) {
    for (id, component) in containers {
        let inspected = tokio::time::timeout(PROBE_TIMEOUT, docker.inspect_container(id, None))
            .await
            .map_err(|_| {
                format!(
                    "was not described by the engine within {} s",
                    PROBE_TIMEOUT.as_secs()
                )
            })
            .and_then(|answer| answer.map_err(|error| format!("could not be inspected: {error}")));
        let what = match inspected.map(|container| container.state.unwrap_or_default()) {
            Ok(state) if state.running == Some(true) && state.paused != Some(true) => continue,
            Ok(state) => format!(
                "was found {} when the run ended",
                state
                    .status
                    .map_or_else(|| "not running".to_owned(), |s| s.to_string())
            ),
            Err(what) => what,
        };
        record(health, proxy_log, SystemTime::now(), None, *component, what).await;
    }
}

/// What a container event means for the lab, completing "the proxy's container …"; `None`
/// for events that are no fault (exec, attach, start after a restart already recorded …).
pub(crate) fn describe_event(action: &str, attributes: &HashMap<String, String>) -> Option<String> {
    let attribute = |name: &str| attributes.get(name).map(String::as_str);
    Some(match action {
        "kill" => format!(
            "was killed (signal {})",
            attribute("signal").unwrap_or("unknown")
        ),
        "die" => format!(
            "stopped (exit code {})",
            attribute("exitCode").unwrap_or("unknown")
        ),
        "oom" => "ran out of memory".to_owned(),
        "stop" => "was stopped".to_owned(),
        "pause" => "was paused".to_owned(),
        "restart" => "was restarted".to_owned(),
        _ => return None,
    })
}

async fn record(
    health: &LabHealth,
    proxy_log: &ProxyLogTail,
    at: SystemTime,
    healthy_until: Option<SystemTime>,
    component: LabComponent,
    what: String,
) {
    let proxy_log = proxy_log.read().await;
    health.record(LabFault {
        at,
        healthy_until,
        component,
        what,
        proxy_log,
    });
}

/// How one component is asked whether it still works.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// A connection the origin must keep open (it waits for a request): a reset or a close is
    /// a fault.
    Origin(SocketAddr),
    /// An ICAP OPTIONS request, which must be answered.
    Icap(SocketAddr),
    /// The categoriser's health path, which must be answered.
    Categorizer(SocketAddr),
    /// A connection a proxy the harness did not start must hold open for a request, as the
    /// origin's: a port forwarder in front of a dead proxy still accepts, then closes.
    ExternalProxy(SocketAddr),
    /// A TCP connection the DNS server must hold open for a query (no query is sent, so
    /// nothing is journaled).
    Dns(SocketAddr),
}

impl Probe {
    fn timeout(self) -> Duration {
        match self {
            Self::ExternalProxy(_) => crate::external::CONNECT_TIMEOUT,
            _ => PROBE_TIMEOUT,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Origin(_) => "a connection to its HTTP port",
            Self::Icap(_) => "an ICAP OPTIONS request",
            Self::Categorizer(_) => "a request for its health path",
            Self::ExternalProxy(_) => "a connection it must hold open for a request",
            Self::Dns(_) => "a TCP connection it must hold open for a query",
        }
    }

    /// One probe: `Err` with what went wrong.
    async fn once(self) -> std::io::Result<()> {
        match self {
            Self::Origin(address) | Self::ExternalProxy(address) | Self::Dns(address) => {
                held_open(address).await
            }
            Self::Icap(address) => {
                let request = format!(
                    "OPTIONS icap://{address}/reqmod ICAP/1.0\r\nHost: {address}\r\n\
                     Encapsulated: null-body=0\r\n\r\n"
                );
                ask(address, &request, b"ICAP/1.0 ").await
            }
            Self::Categorizer(address) => {
                let request = format!(
                    "GET {} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                    mock_servers::HEALTH_PATH
                );
                ask(address, &request, b"HTTP/1.1 200").await
            }
        }
    }
}

/// Connects and waits [`RESET_WINDOW`]: a server waiting for a request holds the connection
/// open; a reset or a close before any request is a fault.
async fn held_open(address: SocketAddr) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(RESET_WINDOW, stream.read(&mut byte)).await {
        Err(_) | Ok(Ok(1..)) => Ok(()),
        Ok(Ok(0)) => Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "it closed the connection before any request",
        )),
        Ok(Err(error)) => Err(error),
    }
}

/// Sends `request` and reads until the answer starts with `expected`.
async fn ask(address: SocketAddr, request: &str, expected: &[u8]) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while answer.len() < expected.len() {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    if answer.starts_with(expected) {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "it answered {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(40)])
        )))
    }
}

/// Probes `component` until it fails once (recorded), or the watch stops.
async fn keep_probing(
    component: LabComponent,
    probe: Probe,
    health: Arc<LabHealth>,
    proxy_log: ProxyLogTail,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    // The lab was checked ready just before the watch started.
    let mut healthy_until = SystemTime::now();
    let mut last = false;
    loop {
        // A run can end between two probes: one closing probe after the last scenario finds
        // a component that broke since the previous one (a run shorter than a probe period
        // would otherwise never be probed at all).
        if last {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stopping.wait_for(|stop| *stop) => last = true,
        }
        let sent = SystemTime::now();
        let what = match tokio::time::timeout(probe.timeout(), probe.once()).await {
            Ok(Ok(())) => {
                healthy_until = sent;
                continue;
            }
            Ok(Err(error)) => format!(
                "failed a health probe ({}): {}",
                probe.describe(),
                error.to_string().to_lowercase()
            ),
            Err(_) => format!(
                "did not answer a health probe ({}) within {} s",
                probe.describe(),
                probe.timeout().as_secs()
            ),
        };
        record(
            &health,
            &proxy_log,
            sent,
            Some(healthy_until),
            component,
            what,
        )
        .await;
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_events_that_break_the_lab_are_described_and_others_ignored() {
        let signal = HashMap::from([("signal".to_owned(), "9".to_owned())]);
        assert_eq!(
            describe_event("kill", &signal).as_deref(),
            Some("was killed (signal 9)")
        );
        let exit = HashMap::from([("exitCode".to_owned(), "137".to_owned())]);
        assert_eq!(
            describe_event("die", &exit).as_deref(),
            Some("stopped (exit code 137)")
        );
        assert!(describe_event("restart", &HashMap::new()).is_some());
        assert_eq!(describe_event("exec_start", &HashMap::new()), None);
        assert_eq!(describe_event("start", &HashMap::new()), None);
    }

    async fn probe_result(probe: Probe) -> Option<String> {
        let health = Arc::new(LabHealth::default());
        let (_stopping, stop) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(keep_probing(
            LabComponent::Origin,
            probe,
            health.clone(),
            ProxyLogTail(None),
            stop,
        ));
        let _ = tokio::time::timeout(PROBE_EVERY * 3 + PROBE_TIMEOUT, health.broken()).await;
        task.abort();
        health.first_fault().map(|f| f.what)
    }

    #[tokio::test]
    async fn a_server_that_answers_passes_and_one_that_resets_or_hangs_is_a_fault() {
        let pki = lab_certs::LabPki::generate(&["download.windowsupdate.com".to_owned()]).unwrap();
        let servers = crate::servers::InProcessServers::start(&pki).await.unwrap();
        let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let origin = Probe::Origin(local(servers.origin.http_port()));
        let icap = Probe::Icap(local(servers.icap.port()));
        let categorizer = Probe::Categorizer(local(servers.categorizer.port()));
        for probe in [origin, icap, categorizer] {
            probe.once().await.unwrap();
        }
        assert_eq!(servers.icap.call_count(), 0);
        assert_eq!(servers.categorizer.lookup_count(), 0);
        assert_eq!(servers.origin.journal().request_count(), 0);

        servers.origin.reset_switch().trip();
        servers.icap.unresponsive_switch().trip();
        servers.categorizer.unresponsive_switch().trip();
        let (origin, icap, categorizer) = tokio::join!(
            probe_result(origin),
            probe_result(icap),
            probe_result(categorizer)
        );
        assert!(
            origin
                .as_deref()
                .is_some_and(|w| w.contains("failed a health probe")),
            "{origin:?}"
        );
        for stalled in [icap, categorizer] {
            assert!(
                stalled
                    .as_deref()
                    .is_some_and(|w| w.contains("did not answer")),
                "{stalled:?}"
            );
        }
    }

    #[tokio::test]
    async fn nothing_listening_or_a_forwarder_that_closes_is_a_fault() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        assert!(probe_result(Probe::ExternalProxy(address)).await.is_some());
        // A forwarder whose proxy is gone: it accepts, then closes.
        let forwarder = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = forwarder.local_addr().unwrap();
        let closing = tokio::spawn(async move {
            while let Ok((stream, _)) = forwarder.accept().await {
                drop(stream);
            }
        });
        let closed = probe_result(Probe::ExternalProxy(address)).await;
        closing.abort();
        assert!(
            closed
                .as_deref()
                .is_some_and(|w| w.contains("closed the connection")),
            "{closed:?}"
        );
        // A proxy waiting for a request passes.
        let waiting = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = waiting.local_addr().unwrap();
        let holding = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = waiting.accept().await {
                held.push(stream);
            }
        });
        Probe::ExternalProxy(address).once().await.unwrap();
        holding.abort();
    }
}
