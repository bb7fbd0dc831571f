//! Patch Tuesday load: a fleet of simulated Windows machines (Delivery Optimization pieces in
//! parallel, BITS ranges over keep-alive) downloads per-client cumulative updates and shared
//! files through the proxy under test, once per policy, and the run shows what each policy
//! costs: clients done and failed by kind, download time percentiles, throughput, WAN
//! amplification (bytes the origins sent over bytes the clients got), origin requests, what the
//! proxy did that a bypass turns off (ICAP calls and bytes scanned, categorisation lookups,
//! bumped connections), the proxy's and the harness's CPU and memory — per run and per second, as JSON (mergeable
//! across load workers) and as an HTML page with plots.

mod connection;
mod docker_stats;
mod error;
mod failure;
mod fleet;
mod html;
mod merge;
mod meter;
mod model;
mod options;
mod policing;
mod process_stats;
mod profile;
mod progress;
mod proxy_target;
mod report;
mod run;
mod size;

pub use error::LoadError;
pub use failure::FailureKind;
pub use merge::{merge, merge_files};
pub use model::{
    ClientCounts, FleetSummary, Flow, LoadReport, Percentiles, Policing, PolicyRun, ResourceCost,
    Second, REPORT_FORMAT,
};
pub use options::{FleetOptions, LoadOptions, PolicySource, ProgressStyle, Target, MIB};
pub use profile::ClientProfile;
pub use report::write_reports;
pub use run::{run_load, summary_line};
pub use size::{parse_size, parse_size_range};
