//! Runs the two sides of a comparison one after the other (two labs at once would halve each
//! run's share of the CPU and make the waits of one run the other's noise): the first draws
//! the host names, the second reuses its seed, so both judge the same names.

use crate::comparison::{ComparedRun, Comparison, ComparisonKind};
use crate::error::SuiteError;
use crate::runner::{run_suite, Console, SuiteOptions};

/// One side of a comparison: the words that name it and how to run it.
#[derive(Debug, Clone)]
pub struct ComparisonSide {
    /// `baseline`, `candidate`, or the proxy's name.
    pub role: String,
    pub options: SuiteOptions,
}

/// Runs `first`, then `second` on the same host names, and compares them. Reports the runs
/// write themselves (JUnit, Cucumber JSON) are the second run's; the comparison's own reports
/// are written by the caller.
pub async fn run_comparison(
    kind: ComparisonKind,
    first: ComparisonSide,
    mut second: ComparisonSide,
) -> Result<Comparison, SuiteError> {
    let mut first_options = first.options;
    first_options.junit = None;
    first_options.cucumber_json = None;
    first_options.html = None;
    first_options.json = None;
    first_options.keep_lab = false;
    first_options.print_report = false;
    second.options.html = None;
    second.options.json = None;
    second.options.print_report = false;
    let say = first_options.console != Console::Silent;
    if say {
        eprintln!("comparison: running the {} first", first.role);
    }
    let first_report = run_suite(first_options)
        .await
        .map_err(|e| e.in_run(&first.role))?;
    if say {
        eprintln!("comparison: {}: {}", first.role, first_report.summary());
        eprintln!(
            "comparison: running the {} on the same host names (seed {:#x})",
            second.role, first_report.host_seed
        );
    }
    second.options.host_seed = Some(first_report.host_seed);
    let second_report = run_suite(second.options)
        .await
        .map_err(|e| e.in_run(&second.role))?;
    Ok(Comparison::new(
        kind,
        ComparedRun {
            role: first.role,
            report: first_report,
        },
        ComparedRun {
            role: second.role,
            report: second_report,
        },
    ))
}
