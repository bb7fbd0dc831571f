//! The proxy's cost, from Docker's stats API for the lab's proxy container (found by the host
//! port it publishes): cumulative CPU time and memory in use (less reclaimable page cache, as
//! `docker stats` shows it), streamed about once a second into a shared latest sample.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use testcontainers::bollard::query_parameters::{ListContainersOptionsBuilder, StatsOptions};
use testcontainers::bollard::Docker;

/// One reading of the container's counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerSample {
    pub at: Instant,
    pub cpu_seconds: f64,
    pub memory_bytes: u64,
}

/// A running stats stream; it stops when dropped.
pub(crate) struct ContainerStats {
    latest: Arc<Mutex<Option<ContainerSample>>>,
    peak_memory: Arc<Mutex<u64>>,
    task: tokio::task::JoinHandle<()>,
}

impl ContainerStats {
    /// Follows the container that publishes `host_port`, if Docker knows one.
    pub(crate) async fn follow_publisher_of(host_port: u16) -> Option<Self> {
        let docker = Docker::connect_with_defaults().ok()?;
        let filters = HashMap::from([("publish".to_owned(), vec![host_port.to_string()])]);
        let containers = docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .filters(&filters)
                    .build(),
            ))
            .await
            .ok()?;
        let id = containers.into_iter().find_map(|c| c.id)?;
        let latest = Arc::new(Mutex::new(None));
        let peak_memory = Arc::new(Mutex::new(0));
        let (into_latest, into_peak) = (latest.clone(), peak_memory.clone());
        let task = tokio::spawn(async move {
            let mut stream = docker.stats(
                &id,
                Some(StatsOptions {
                    stream: true,
                    one_shot: false,
                }),
            );
            while let Some(Ok(stats)) = stream.next().await {
                let cpu_ns = stats
                    .cpu_stats
                    .as_ref()
                    .and_then(|c| c.cpu_usage.as_ref())
                    .and_then(|u| u.total_usage);
                let Some(cpu_ns) = cpu_ns else { continue };
                let memory = stats.memory_stats.as_ref().map_or(0, |m| {
                    let inactive = m
                        .stats
                        .as_ref()
                        .and_then(|s| {
                            s.get("inactive_file")
                                .or_else(|| s.get("total_inactive_file"))
                        })
                        .copied()
                        .unwrap_or(0);
                    m.usage.unwrap_or(0).saturating_sub(inactive)
                });
                let sample = ContainerSample {
                    at: Instant::now(),
                    cpu_seconds: cpu_ns as f64 / 1e9,
                    memory_bytes: memory,
                };
                *into_latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(sample);
                let mut peak = into_peak.lock().unwrap_or_else(|p| p.into_inner());
                *peak = (*peak).max(memory);
            }
        });
        Some(Self {
            latest,
            peak_memory,
            task,
        })
    }

    pub(crate) fn latest(&self) -> Option<ContainerSample> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn peak_memory(&self) -> u64 {
        *self.peak_memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The first sample taken after `after` (waits up to `limit` for it).
    pub(crate) async fn sample_after(
        &self,
        after: Instant,
        limit: Duration,
    ) -> Option<ContainerSample> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(sample) = self.latest().filter(|s| s.at > after) {
                return Some(sample);
            }
            if Instant::now() >= deadline {
                return self.latest();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ContainerStats {
    fn drop(&mut self) {
        self.task.abort();
    }
}
