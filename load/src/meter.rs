//! The fleet's live counters, updated by every machine as bytes arrive and as it ends, and read
//! once a second for the timeline and the progress bar: active / done / failed machines,
//! bytes delivered to clients, requests sent, failures by kind, download times.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::failure::{FailureKind, MachineEnd};

/// Download times are kept from 1 ms to 1 hour with 3 significant digits.
const LATENCY_MAX_MS: u64 = 3_600_000;

#[derive(Debug)]
pub(crate) struct Meter {
    pub(crate) delivered: AtomicU64,
    /// Of which shared files.
    pub(crate) delivered_shared: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) started: AtomicU64,
    pub(crate) done: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) unfinished: AtomicU64,
    failures: Mutex<BTreeMap<FailureKind, u64>>,
    latencies: Mutex<Histogram<u64>>,
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reading {
    pub delivered: u64,
    pub delivered_shared: u64,
    pub requests: u64,
    pub started: u64,
    pub done: u64,
    pub failed: u64,
    pub unfinished: u64,
}

impl Reading {
    pub(crate) fn active(&self) -> u64 {
        self.started
            .saturating_sub(self.done + self.failed + self.unfinished)
    }
}

impl Meter {
    pub(crate) fn new() -> Self {
        Self {
            delivered: AtomicU64::new(0),
            delivered_shared: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            started: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            unfinished: AtomicU64::new(0),
            failures: Mutex::new(BTreeMap::new()),
            latencies: Mutex::new(
                Histogram::new_with_bounds(1, LATENCY_MAX_MS, 3).expect("valid histogram bounds"),
            ),
        }
    }

    pub(crate) fn delivered(&self, bytes: u64, shared: bool) {
        self.delivered.fetch_add(bytes, Ordering::Relaxed);
        if shared {
            self.delivered_shared.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how a machine ended; a finished machine's download time goes to the histogram.
    pub(crate) fn ended(&self, end: MachineEnd, took: Duration) {
        match end {
            MachineEnd::Done => {
                self.done.fetch_add(1, Ordering::Relaxed);
                let ms = (took.as_millis() as u64).clamp(1, LATENCY_MAX_MS);
                let mut latencies = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
                let _ = latencies.record(ms);
            }
            MachineEnd::Failed(kind) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                *self
                    .failures
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(kind)
                    .or_default() += 1;
            }
            MachineEnd::Unfinished => {
                self.unfinished.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn read(&self) -> Reading {
        Reading {
            delivered: self.delivered.load(Ordering::Relaxed),
            delivered_shared: self.delivered_shared.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            started: self.started.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            unfinished: self.unfinished.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn failures(&self) -> BTreeMap<String, u64> {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(kind, count)| (kind.label(), *count))
            .collect()
    }

    pub(crate) fn latencies(&self) -> Histogram<u64> {
        self.latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
