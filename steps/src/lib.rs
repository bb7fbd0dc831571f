//! The conformance suite's World, its step definitions (one module per domain concept) and
//! the runner that starts a lab, runs the features against it and reports per scenario.

mod client;
mod dynamic_names;
mod evidence;
mod files;
mod icap;
mod memory;
mod parameters;
mod proxy;
mod ranges;
mod runner;
mod tls;
mod tls_baseline;
mod tls_capture;
mod tunnel;
mod world;

pub use runner::{run_suite, ScenarioOutcome, SuiteError, SuiteOptions, SuiteReport, FEATURES_DIR};
pub use world::ConformanceWorld;
