//! The commands for writing scenarios, neither of which starts a lab: `steps` prints the step
//! catalogue read from the step definitions, and `check` runs a run's preflight on features
//! (syntax, step definitions, servable hosts) for editors and CI.

use std::path::PathBuf;

use clap::Args;
use conformance_harness::{check_features_at, render_step_catalogue, Bundle, SuiteError};

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Feature files or directories (default: the bundled suite).
    #[arg(value_name = "FEATURES")]
    features: Vec<PathBuf>,
    /// Cucumber tag expression: check only the scenarios it selects, as `run --tags` would.
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    /// Host sets to check, with the features the harness would generate for them; repeatable.
    #[arg(long = "host-set", value_name = "FILE")]
    host_set: Vec<PathBuf>,
}

/// Prints every step with an example from the bundled features, and the parameters.
pub fn steps() -> Result<Exit, SuiteError> {
    let bundle = Bundle::get().map_err(SuiteError::Environment)?;
    print!("{}", render_step_catalogue(&bundle.features()));
    Ok(Exit::Passed)
}

/// Checks features without a lab: exit 0 when a run would start, 2 with every problem's file
/// and line otherwise.
pub fn check(args: &CheckArgs) -> Result<Exit, SuiteError> {
    let mut features = args.features.clone();
    if features.is_empty() && !args.host_set.is_empty() {
        features.push(Bundle::get().map_err(SuiteError::Environment)?.features());
    }
    let _host_sets = crate::with_host_sets(&args.host_set, &mut features)?;
    let summary = check_features_at(&features, args.tags.as_deref())?;
    println!(
        "check: {} scenario(s) in {} feature file(s): every step has one definition and every host can be served",
        summary.scenarios, summary.files
    );
    let extra: Vec<&str> = summary
        .extra_hosts
        .patterns()
        .chain(summary.extra_hosts.names())
        .collect();
    if !extra.is_empty() {
        println!(
            "check: served beside the lab's own hosts: {}",
            extra.join(", ")
        );
    }
    Ok(Exit::Passed)
}
