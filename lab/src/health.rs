//! The lab's health while a run lasts: every fault the lab's watch saw (a container stopped,
//! restarted or crashed, an in-process server or an external proxy that stopped answering),
//! with when it happened and the proxy's last log lines, and every retry the lab made. A run
//! whose lab broke cannot judge the policy: the runner reads this to tell a lab fault from a
//! policy fault.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::sync::watch;

/// A part of the lab that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabComponent {
    /// The container the proxy under test runs in (bundled lab).
    ProxyContainer,
    /// The relay container (bundled lab).
    RelayContainer,
    /// The in-process update origin.
    Origin,
    /// The in-process ICAP recorder.
    IcapRecorder,
    /// The in-process categorisation service.
    Categorizer,
    /// A proxy the harness did not start (external mode).
    ExternalProxy,
    /// The harness's DNS server (external mode).
    Dns,
    /// The Docker engine the lab's containers run on.
    DockerEngine,
}

impl LabComponent {
    pub fn name(self) -> &'static str {
        match self {
            Self::ProxyContainer => "the proxy under test's container",
            Self::RelayContainer => "the relay container",
            Self::Origin => "the update origin",
            Self::IcapRecorder => "the ICAP recorder",
            Self::Categorizer => "the categorisation service",
            Self::ExternalProxy => "the proxy under test",
            Self::Dns => "the harness's DNS server",
            Self::DockerEngine => "the Docker engine",
        }
    }
}

impl fmt::Display for LabComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One fault of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabFault {
    /// When it was seen (for an unanswered probe: when the probe was sent).
    pub at: SystemTime,
    /// For a fault found by a probe: when the component was last seen healthy (the previous
    /// probe that passed, or the lab's start). It broke somewhere in between.
    pub healthy_until: Option<SystemTime>,
    pub component: LabComponent,
    /// What happened, completing "`component` …": `was killed (signal 9)`, `did not answer …`.
    pub what: String,
    /// The proxy's last log lines when the fault was seen (empty when the harness cannot read
    /// them: external mode, or the log could not be read).
    pub proxy_log: Vec<String>,
}

impl fmt::Display for LabFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.component, self.what)
    }
}

/// What the watch recorded; shared by the watch's tasks and the runner.
#[derive(Debug)]
pub struct LabHealth {
    faults: Mutex<Vec<LabFault>>,
    retries: Mutex<Vec<String>>,
    /// Faults are recorded only while armed: the lab's own teardown stops containers too.
    armed: AtomicBool,
    broke: watch::Sender<bool>,
}

impl Default for LabHealth {
    fn default() -> Self {
        Self {
            faults: Mutex::default(),
            retries: Mutex::default(),
            armed: AtomicBool::new(true),
            broke: watch::Sender::new(false),
        }
    }
}

impl LabHealth {
    /// Records a fault (ignored once the lab is being torn down).
    pub fn record(&self, fault: LabFault) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(fault);
        self.broke.send_replace(true);
    }

    /// Records that the lab tried something again, so a report can say so.
    pub fn record_retry(&self, what: String) {
        self.retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    /// Every fault so far, earliest first.
    pub fn faults(&self) -> Vec<LabFault> {
        let mut faults = self
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        faults.sort_by_key(|f| f.at);
        faults
    }

    /// The earliest time the lab may have been broken: a probe's fault counts from when the
    /// component was last seen healthy.
    pub fn broken_since(faults: &[LabFault]) -> Option<SystemTime> {
        faults.iter().map(|f| f.healthy_until.unwrap_or(f.at)).min()
    }

    /// The earliest fault, if the lab broke.
    pub fn first_fault(&self) -> Option<LabFault> {
        self.faults().into_iter().next()
    }

    /// Every retry the lab made (e.g. readiness probes at start).
    pub fn retries(&self) -> Vec<String> {
        self.retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Resolves once a fault is recorded (at once if one already was).
    pub async fn broken(&self) {
        let mut seen = self.broke.subscribe();
        let _ = seen.wait_for(|broke| *broke).await;
    }

    /// Stops recording: what follows is the lab's own teardown.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn fault(at_secs: u64, component: LabComponent) -> LabFault {
        LabFault {
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(at_secs),
            healthy_until: None,
            component,
            what: "was killed".into(),
            proxy_log: Vec::new(),
        }
    }

    #[tokio::test]
    async fn faults_are_kept_earliest_first_and_wake_the_waiter_until_disarmed() {
        let health = std::sync::Arc::new(LabHealth::default());
        let waiter = tokio::spawn({
            let health = health.clone();
            async move { health.broken().await }
        });
        health.record(fault(20, LabComponent::IcapRecorder));
        health.record(fault(10, LabComponent::ProxyContainer));
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("the waiter wakes on the first fault")
            .unwrap();
        assert_eq!(
            health.first_fault().unwrap().component,
            LabComponent::ProxyContainer
        );
        health.disarm();
        health.record(fault(30, LabComponent::RelayContainer));
        assert_eq!(health.faults().len(), 2);
    }

    #[tokio::test]
    async fn a_healthy_lab_never_wakes_the_waiter() {
        let health = LabHealth::default();
        let waited = tokio::time::timeout(Duration::from_millis(100), health.broken()).await;
        assert!(waited.is_err());
        assert!(health.first_fault().is_none());
    }
}
