//! The conformance suite's World, its step definitions (one module per domain concept) and
//! the runner that starts a lab, runs the features against it and reports per scenario.

mod categorize;
mod client;
mod dynamic_names;
mod evidence;
mod files;
mod html_report;
mod icap;
mod memory;
mod parameters;
mod preflight;
mod proxy;
mod ranges;
mod recorder;
mod runner;
mod selftest;
mod tls;
mod tls_baseline;
mod tls_capture;
mod tunnel;
mod world;

pub use conformance_spec::PROPERTY_TAGS;
pub use recorder::{FailedStep, ScenarioOutcome};
pub use runner::{
    display_path, run_suite, Console, SuiteError, SuiteOptions, SuiteReport, FEATURES_DIR,
};
pub use selftest::{
    judge, load_mutants, run_selftest, Mutant, MutantVerdict, SelftestOptions, SelftestReport,
    MUTANTS_DIR,
};
pub use world::ConformanceWorld;
