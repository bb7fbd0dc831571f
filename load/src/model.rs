//! The result of a load run, as written to JSON and read back by `load --merge`: one
//! [`PolicyRun`] per policy (or per proxy), each with its totals, failures by kind, download
//! time percentiles (and the full latency histogram, so workers' results merge exactly), WAN
//! amplification, the proxy's and the harness's cost, and a per-second timeline.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Version of the JSON layout.
pub const REPORT_FORMAT: u32 = 1;

/// Everything one `load` invocation (or a merge of several) measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    pub format: u32,
    pub runs: Vec<PolicyRun>,
}

/// One fleet against one proxy configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyRun {
    /// The policy file (or the external proxy's URL).
    pub policy: String,
    /// `lab squid` or the external proxy's URL.
    pub proxy: String,
    /// How many load workers' results this run adds up (1 unless merged).
    pub workers: u32,
    /// Wall-clock start, milliseconds since the Unix epoch (aligns merged timelines).
    pub started_unix_ms: u64,
    pub duration_s: f64,
    pub fleet: FleetSummary,
    pub clients: ClientCounts,
    /// Failed machines by the first thing that went wrong: `407`, `403`, `http-NNN`,
    /// `reset`, `timeout`, `wrong-bytes`.
    pub failures: BTreeMap<String, u64>,
    /// Download time of the machines that finished (all their files), milliseconds.
    pub download_ms: Percentiles,
    /// The same, as an HdrHistogram V2 (deflate) serialisation in base64.
    pub download_histogram: String,
    /// Body bytes the clients received.
    pub bytes_delivered: u64,
    /// Body bytes the origins sent for the fleet's files.
    pub origin_bytes: u64,
    /// `origin_bytes / bytes_delivered`: 1.00 when every byte a client got crossed the WAN
    /// once; above 1 when the proxy fetched more than it delivered; below 1 when a cache served
    /// some of it.
    pub amplification: Option<f64>,
    pub client_requests: u64,
    pub origin_requests: u64,
    /// The same bytes for the machines' own updates and for the shared files: a bypass is
    /// 1.00 for both, a range-widening rule raises both, a cache lowers the shared files'.
    pub per_client_files: Flow,
    pub shared_files: Flow,
    /// Mean throughput to clients, MiB/s.
    pub throughput_mib_s: f64,
    /// The proxy's CPU and memory (lab container only; `None` for an external proxy).
    pub proxy_cost: Option<ResourceCost>,
    /// Why `proxy_cost` is absent (`not observable: …`), so no reader takes it for zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_cost_unobservable: Option<String>,
    /// This harness process (clients and origins together).
    pub harness_cost: ResourceCost,
    /// What the proxy did to the fleet's traffic that a bypass turns off: ICAP calls and the
    /// bytes they put before the service, categorisation lookups, bumped connections.
    #[serde(default)]
    pub policing: Policing,
    pub timeline: Vec<Second>,
}

/// What the proxy did to the fleet's traffic besides forwarding it, as the lab's ICAP recorder,
/// its categoriser and the proxy's own log saw it during the fleet's run: for a policy that lets
/// Windows Update through untouched, all zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policing {
    /// REQMOD and RESPMOD calls the proxy made.
    pub icap_calls: u64,
    /// Body bytes those calls put before the ICAP service (what a service that scans whole
    /// bodies reads).
    pub icap_scanned_bytes: u64,
    /// Lookups the proxy's URL-filter helper made to the categoriser.
    pub categorisation_lookups: u64,
    /// CONNECT tunnels the proxy's log shows it decrypted with its own certificate; `None` when
    /// its log is not read (an external proxy).
    pub bumped_connections: Option<u64>,
}

impl Policing {
    /// Two workers' figures added up.
    pub fn plus(self, other: Policing) -> Self {
        Self {
            icap_calls: self.icap_calls + other.icap_calls,
            icap_scanned_bytes: self.icap_scanned_bytes + other.icap_scanned_bytes,
            categorisation_lookups: self.categorisation_lookups + other.categorisation_lookups,
            bumped_connections: match (self.bumped_connections, other.bumped_connections) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            },
        }
    }

    /// `ICAP 12 call(s) (40.0 MiB scanned), 3 categorisation lookup(s), 0 bumped
    /// connection(s)`.
    pub fn sentence(&self) -> String {
        let bumped = self.bumped_connections.map_or_else(
            || "bumped connections not observable (the proxy's log is not read)".to_owned(),
            |n| format!("{n} bumped connection(s)"),
        );
        format!(
            "ICAP {} call(s) ({:.1} MiB scanned), {} categorisation lookup(s), {bumped}",
            self.icap_calls,
            self.icap_scanned_bytes as f64 / (1u64 << 20) as f64,
            self.categorisation_lookups,
        )
    }
}

/// Bytes of one kind of file: to the clients, from the origins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub delivered: u64,
    pub origin: u64,
    pub amplification: Option<f64>,
}

impl Flow {
    pub fn new(delivered: u64, origin: u64) -> Self {
        Self {
            delivered,
            origin,
            amplification: amplification(origin, delivered),
        }
    }

    pub fn plus(self, other: Flow) -> Self {
        Self::new(self.delivered + other.delivered, self.origin + other.origin)
    }
}

/// What the fleet was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    pub clients: u64,
    pub delivery_optimization_clients: u64,
    pub bits_clients: u64,
    pub update_size_min: u64,
    pub update_size_max: u64,
    pub shared_files: u64,
    pub shared_size: u64,
    pub piece_size: u64,
    pub do_connections: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCounts {
    pub done: u64,
    pub failed: u64,
    /// Still downloading when the duration or byte budget ran out.
    pub unfinished: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            p50: histogram.value_at_quantile(0.50),
            p95: histogram.value_at_quantile(0.95),
            p99: histogram.value_at_quantile(0.99),
            max: histogram.max(),
            mean: histogram.mean(),
        }
    }
}

/// CPU time over the run and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceCost {
    pub cpu_seconds: f64,
    pub peak_memory_bytes: u64,
}

/// One second of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the run started (the end of the interval).
    pub t: u64,
    /// Machines downloading at that instant.
    pub active: u64,
    /// Machines done / failed so far.
    pub done: u64,
    pub failed: u64,
    /// Bytes clients received during this second.
    pub delivered_bytes: u64,
    /// Bytes the origins sent during this second (WAN).
    pub origin_bytes: u64,
    pub origin_requests: u64,
    pub proxy_cpu_percent: Option<f64>,
    pub proxy_memory_bytes: Option<u64>,
    pub harness_cpu_percent: f64,
    pub harness_memory_bytes: u64,
}

impl PolicyRun {
    pub fn histogram(&self) -> Option<Histogram<u64>> {
        decode_histogram(&self.download_histogram)
    }

    /// Whether every machine finished with the right bytes.
    pub fn clean(&self) -> bool {
        self.clients.failed == 0 && self.clients.unfinished == 0 && self.clients.done > 0
    }
}

pub(crate) fn amplification(origin_bytes: u64, delivered: u64) -> Option<f64> {
    (delivered > 0).then(|| origin_bytes as f64 / delivered as f64)
}

pub(crate) fn encode_histogram(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(histogram, &mut bytes) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

pub(crate) fn decode_histogram(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_survives_the_json() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).unwrap();
        for ms in [10, 20, 30, 4000] {
            histogram.record(ms).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&histogram)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(Percentiles::of(&back).max, Percentiles::of(&histogram).max);
    }

    #[test]
    fn amplification_is_origin_over_delivered() {
        assert_eq!(amplification(300, 100), Some(3.0));
        assert_eq!(amplification(1, 0), None);
    }
}
