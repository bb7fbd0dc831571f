//! The fleet view of several load workers (`load --merge a.json b.json …`): runs of the same
//! policy (and proxy) from different workers are added up — counts, bytes, failures, CPU, the
//! latency histograms merged exactly — and their timelines are laid on one wall clock.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hdrhistogram::Histogram;

use crate::error::LoadError;
use crate::model::{
    amplification, encode_histogram, LoadReport, Percentiles, Policing, PolicyRun, ResourceCost,
    Second, REPORT_FORMAT,
};

/// Reads worker results from `paths` and adds them up per policy.
pub fn merge_files(paths: &[PathBuf]) -> Result<LoadReport, LoadError> {
    if paths.len() < 2 {
        return Err(LoadError::Usage(
            "--merge needs at least two result files".into(),
        ));
    }
    let mut reports = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LoadError::Environment(format!("cannot read {}: {e}", path.display())))?;
        let report: LoadReport = serde_json::from_str(&text).map_err(|e| {
            LoadError::Rejected(format!(
                "{} is not a load result (format {REPORT_FORMAT}): {e}",
                path.display()
            ))
        })?;
        reports.push(report);
    }
    Ok(merge(reports))
}

/// Adds up runs of the same policy and proxy, keeping the order in which policies first appear.
pub fn merge(reports: Vec<LoadReport>) -> LoadReport {
    let mut groups: Vec<Vec<PolicyRun>> = Vec::new();
    for run in reports.into_iter().flat_map(|r| r.runs) {
        match groups
            .iter_mut()
            .find(|g| g[0].policy == run.policy && g[0].proxy == run.proxy)
        {
            Some(group) => group.push(run),
            None => groups.push(vec![run]),
        }
    }
    LoadReport {
        format: REPORT_FORMAT,
        runs: groups.into_iter().map(merge_runs).collect(),
    }
}

/// Sets every figure the workers' runs add up to zero, before they are summed.
fn zero_the_sums(merged: &mut PolicyRun) {
    merged.workers = 0;
    merged.clients = Default::default();
    merged.fleet.clients = 0;
    merged.fleet.delivery_optimization_clients = 0;
    merged.fleet.bits_clients = 0;
    merged.bytes_delivered = 0;
    merged.origin_bytes = 0;
    merged.client_requests = 0;
    merged.origin_requests = 0;
    merged.per_client_files = Default::default();
    merged.shared_files = Default::default();
    merged.harness_cost = ResourceCost::default();
    merged.policing = Policing::default();
}

fn merge_runs(runs: Vec<PolicyRun>) -> PolicyRun {
    let mut merged = runs[0].clone();
    if runs.len() == 1 {
        return merged;
    }
    let start = runs.iter().map(|r| r.started_unix_ms).min().unwrap_or(0);
    let end_ms = runs
        .iter()
        .map(|r| r.started_unix_ms + (r.duration_s * 1000.0) as u64)
        .max()
        .unwrap_or(start);
    let mut histogram: Option<Histogram<u64>> = None;
    let mut failures = BTreeMap::new();
    zero_the_sums(&mut merged);
    let mut proxy_cost: Option<ResourceCost> = None;
    for run in &runs {
        merged.workers += run.workers;
        merged.fleet.clients += run.fleet.clients;
        merged.fleet.delivery_optimization_clients += run.fleet.delivery_optimization_clients;
        merged.fleet.bits_clients += run.fleet.bits_clients;
        merged.clients.done += run.clients.done;
        merged.clients.failed += run.clients.failed;
        merged.clients.unfinished += run.clients.unfinished;
        for (kind, count) in &run.failures {
            *failures.entry(kind.clone()).or_insert(0) += count;
        }
        merged.bytes_delivered += run.bytes_delivered;
        merged.origin_bytes += run.origin_bytes;
        merged.client_requests += run.client_requests;
        merged.origin_requests += run.origin_requests;
        merged.per_client_files = merged.per_client_files.plus(run.per_client_files);
        merged.shared_files = merged.shared_files.plus(run.shared_files);
        merged.policing = merged.policing.plus(run.policing);
        merged.harness_cost.cpu_seconds += run.harness_cost.cpu_seconds;
        merged.harness_cost.peak_memory_bytes += run.harness_cost.peak_memory_bytes;
        // Workers against one proxy each saw all of it: keep the largest figure.
        if let Some(cost) = run.proxy_cost {
            let kept = proxy_cost.get_or_insert(cost);
            kept.cpu_seconds = kept.cpu_seconds.max(cost.cpu_seconds);
            kept.peak_memory_bytes = kept.peak_memory_bytes.max(cost.peak_memory_bytes);
        }
        if let Some(h) = run.histogram() {
            match &mut histogram {
                Some(total) => {
                    let _ = total.add(&h);
                }
                None => histogram = Some(h),
            }
        }
    }
    merged.failures = failures;
    merged.proxy_cost_unobservable = match proxy_cost {
        Some(_) => None,
        None => runs.iter().find_map(|r| r.proxy_cost_unobservable.clone()),
    };
    merged.proxy_cost = proxy_cost;
    merged.started_unix_ms = start;
    merged.duration_s = (end_ms - start) as f64 / 1000.0;
    merged.amplification = amplification(merged.origin_bytes, merged.bytes_delivered);
    merged.throughput_mib_s = if merged.duration_s > 0.0 {
        merged.bytes_delivered as f64 / (1 << 20) as f64 / merged.duration_s
    } else {
        0.0
    };
    if let Some(histogram) = &histogram {
        merged.download_ms = Percentiles::of(histogram);
        merged.download_histogram = encode_histogram(histogram);
    }
    merged.timeline = merge_timelines(&runs, start);
    merged
}

/// Sums the workers' seconds on one wall clock; cumulative counts carry forward past a
/// worker's last second.
fn merge_timelines(runs: &[PolicyRun], start_ms: u64) -> Vec<Second> {
    let offset = |run: &PolicyRun| (run.started_unix_ms - start_ms) / 1000;
    let length = runs
        .iter()
        .map(|r| offset(r) + r.timeline.last().map_or(0, |s| s.t))
        .max()
        .unwrap_or(0);
    let mut seconds: Vec<Second> = (1..=length)
        .map(|t| Second {
            t,
            ..Second::default()
        })
        .collect();
    for run in runs {
        let shift = offset(run);
        let mut last = Second::default();
        for slot in seconds.iter_mut() {
            let own_t = slot.t.checked_sub(shift);
            let own = own_t.and_then(|t| run.timeline.iter().find(|s| s.t == t));
            match own {
                Some(own) => {
                    slot.active += own.active;
                    slot.done += own.done;
                    slot.failed += own.failed;
                    slot.delivered_bytes += own.delivered_bytes;
                    slot.origin_bytes += own.origin_bytes;
                    slot.origin_requests += own.origin_requests;
                    slot.harness_cpu_percent += own.harness_cpu_percent;
                    slot.harness_memory_bytes += own.harness_memory_bytes;
                    slot.proxy_cpu_percent =
                        max_option(slot.proxy_cpu_percent, own.proxy_cpu_percent);
                    slot.proxy_memory_bytes =
                        max_option(slot.proxy_memory_bytes, own.proxy_memory_bytes);
                    last = *own;
                }
                None if own_t.is_some() => {
                    slot.done += last.done;
                    slot.failed += last.failed;
                }
                None => {}
            }
        }
    }
    seconds
}

fn max_option<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientCounts, FleetSummary, Flow};

    fn worker(
        started_unix_ms: u64,
        done: u64,
        delivered: u64,
        origin: u64,
        ms: &[u64],
    ) -> PolicyRun {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).unwrap();
        for v in ms {
            histogram.record(*v).unwrap();
        }
        PolicyRun {
            policy: "policies/squid/windows-update-bypass.conf".into(),
            proxy: "http://staging:3128".into(),
            workers: 1,
            started_unix_ms,
            duration_s: 3.0,
            fleet: FleetSummary {
                clients: done,
                delivery_optimization_clients: done / 2,
                bits_clients: done - done / 2,
                update_size_min: 1,
                update_size_max: 2,
                shared_files: 1,
                shared_size: 8,
                piece_size: 1,
                do_connections: 4,
            },
            clients: ClientCounts {
                done,
                failed: 0,
                unfinished: 0,
            },
            failures: BTreeMap::from([("407".to_owned(), 1)]),
            download_ms: Percentiles::of(&histogram),
            download_histogram: encode_histogram(&histogram),
            bytes_delivered: delivered,
            origin_bytes: origin,
            amplification: amplification(origin, delivered),
            client_requests: 10,
            origin_requests: 10,
            per_client_files: Flow::new(delivered, origin),
            shared_files: Flow::default(),
            throughput_mib_s: 1.0,
            proxy_cost: None,
            proxy_cost_unobservable: None,
            harness_cost: ResourceCost {
                cpu_seconds: 1.0,
                peak_memory_bytes: 100,
            },
            policing: Policing {
                icap_calls: 2,
                icap_scanned_bytes: 100,
                categorisation_lookups: 1,
                bumped_connections: None,
            },
            timeline: (1..=3)
                .map(|t| Second {
                    t,
                    active: 1,
                    done: t,
                    delivered_bytes: 10,
                    ..Second::default()
                })
                .collect(),
        }
    }

    fn report(run: PolicyRun) -> LoadReport {
        LoadReport {
            format: REPORT_FORMAT,
            runs: vec![run],
        }
    }

    #[test]
    fn workers_add_up_and_their_latencies_merge() {
        let merged = merge(vec![
            report(worker(10_000, 3, 100, 100, &[100, 200, 300])),
            report(worker(11_000, 2, 300, 500, &[1000, 2000])),
        ]);
        assert_eq!(merged.runs.len(), 1);
        let run = &merged.runs[0];
        assert_eq!(run.workers, 2);
        assert_eq!(run.clients.done, 5);
        assert_eq!(run.fleet.clients, 5);
        assert_eq!(run.failures["407"], 2);
        assert_eq!(run.amplification, Some(1.5));
        assert_eq!(run.per_client_files.amplification, Some(1.5));
        assert_eq!(run.histogram().unwrap().len(), 5);
        assert!(run.download_ms.max >= 2000);
        assert_eq!(run.duration_s, 4.0);
        assert_eq!(
            (run.policing.icap_calls, run.policing.icap_scanned_bytes),
            (4, 200)
        );
        assert_eq!(run.policing.categorisation_lookups, 2);
        assert_eq!(run.policing.bumped_connections, None);
        // One wall clock: second 1 has only the first worker, 2 and 3 both, 4 the second
        // worker (the first worker's done count carried forward).
        let t: Vec<(u64, u64, u64)> = run
            .timeline
            .iter()
            .map(|s| (s.t, s.active, s.done))
            .collect();
        assert_eq!(t, vec![(1, 1, 1), (2, 2, 3), (3, 2, 5), (4, 1, 6)]);
    }

    #[test]
    fn different_policies_stay_apart() {
        let mut other = worker(10_000, 1, 1, 1, &[1]);
        other.policy = "mutant.conf".into();
        let merged = merge(vec![report(worker(10_000, 1, 1, 1, &[1])), report(other)]);
        assert_eq!(merged.runs.len(), 2);
    }
}
