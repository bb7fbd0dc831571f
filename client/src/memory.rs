//! The harness's own resident memory while a large download streams: sampled from
//! `/proc/self/status` on a thread of its own, so a step can show memory stays flat.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Samples resident memory until stopped.
pub struct MemoryWatch {
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<MemoryReport>,
}

/// Resident memory before and at its peak during a download.
#[derive(Debug, Clone, Copy)]
pub struct MemoryReport {
    pub before: u64,
    pub peak: u64,
    pub samples: u64,
}

impl MemoryReport {
    pub fn growth(&self) -> u64 {
        self.peak.saturating_sub(self.before)
    }
}

impl fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        write!(
            f,
            "resident {:.1} MiB before, peak {:.1} MiB (+{:.1} MiB, {} samples)",
            mib(self.before),
            mib(self.peak),
            mib(self.growth()),
            self.samples
        )
    }
}

impl MemoryWatch {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let before = resident_bytes().unwrap_or(0);
        let sampler = std::thread::spawn(move || {
            let mut report = MemoryReport {
                before,
                peak: before,
                samples: 0,
            };
            while !flag.load(Ordering::Relaxed) {
                if let Some(now) = resident_bytes() {
                    report.peak = report.peak.max(now);
                    report.samples += 1;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            report
        });
        Self { stop, sampler }
    }

    pub fn stop(self) -> MemoryReport {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap_or(MemoryReport {
            before: 0,
            peak: 0,
            samples: 0,
        })
    }
}

/// `VmRSS` of this process, in bytes.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}
