//! The runner of the conformance suite: checks the features before anything starts, starts one
//! lab per run, runs the features against it, records every scenario's outcome with its
//! evidence, decides the run's outcome once, renders the reports (console, Cucumber JSON, JUnit
//! XML, the run's JSON, HTML) from that one run model, and proves with the mutation self-test
//! that the suite catches policy faults. The suite itself (features, reference policy,
//! mutants) is bundled in the binary.

mod attribution;
mod bundle;
mod check;
mod compare_runs;
mod comparison;
mod diagnosis;
mod error;
mod feature_set;
mod host_set;
mod host_set_feature;
mod interrupt;
pub mod invariants;
mod lab_faults;
mod model;
mod outcome;
mod preflight;
mod recorder;
pub mod report;
mod runner;
mod selftest;
mod step_catalogue;
mod verdict;

pub use bundle::Bundle;
pub use check::{check_features_at, CheckSummary};
pub use compare_runs::{run_comparison, ComparisonSide};
pub use comparison::{
    ComparedRun, Comparison, ComparisonKind, Movement, Outcome, PropertyChange, ScenarioChange,
};
pub use diagnosis::diagnose;
pub use error::SuiteError;
pub use host_set_feature::{host_set_features, HostSetFeatures};
pub use interrupt::{Interrupt, Signal};
pub use model::{
    FailedStep, LabHealthReport, ScenarioOutcome, ScenarioState, SuiteReport, VantagePoints,
};
pub use outcome::{Caveat, RunOutcome};
pub use runner::{run_suite, Console, SuiteOptions};
pub use selftest::{
    apply_mutant, judge, load_mutants, run_selftest, Mutant, MutantKind, MutantVerdict,
    SelftestOptions, SelftestReport,
};
pub use step_catalogue::render_step_catalogue;
pub use verdict::{property_verdicts, run_verdict, PropertyVerdict, Verdict};
