//! `run --baseline FILE` (the candidate beside the policy in production) and `run --backend A
//! --backend B` (one policy on two proxy versions): which comparison the options ask for, the
//! two runs, and the comparison's reports. The second run's verdict is the exit code.

use std::path::PathBuf;

use conformance_harness::report::comparison;
use conformance_harness::{
    run_comparison, Caveat, ComparisonKind, ComparisonSide, SuiteError, SuiteOptions,
};
use conformance_lab::{display_path, ProxyBackend};

use crate::exit::Exit;

/// What the command line asks to compare.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Plan {
    /// The baseline policy, then the candidate, on one backend.
    Policies,
    /// The policy on the first backend, then on the second.
    Backends(&'static dyn ProxyBackend, &'static dyn ProxyBackend),
}

/// The policy in production, as the baseline run takes it.
pub(crate) struct Baseline {
    /// What the lab runs (a CPL baseline's translation).
    pub(crate) policy: PathBuf,
    /// The file as the user named it, when it is not `policy` (a `.cpl`).
    pub(crate) as_given: Option<PathBuf>,
    /// What the translation could not carry over.
    pub(crate) caveats: Vec<Caveat>,
}

/// The comparison the options ask for, if any: a baseline, or two backends (not both).
pub(crate) fn plan(
    backends: &[&'static dyn ProxyBackend],
    baseline: bool,
) -> Result<Option<Plan>, SuiteError> {
    match (backends, baseline) {
        ([_, _, _, ..], _) => Err(SuiteError::Usage(
            "--backend compares at most two proxies at once".to_owned(),
        )),
        ([_, _], true) => Err(SuiteError::Usage(
            "compare a candidate with a baseline on one backend, or one policy on two \
             backends: not both in one run"
                .to_owned(),
        )),
        ([first, second], false) if first.id() == second.id() => Err(SuiteError::Usage(format!(
            "--backend {} is given twice: name two different backends to compare",
            first.id()
        ))),
        ([first, second], false) => Ok(Some(Plan::Backends(*first, *second))),
        (_, true) => Ok(Some(Plan::Policies)),
        (_, false) => Ok(None),
    }
}

/// Runs both sides, prints the comparison (stdout), writes its reports (the options' `--html`
/// and `--json` are the comparison's) and says the exit code: the second run's verdict (a
/// candidate CPL translation with update-host risks cannot pass).
pub(crate) async fn run(
    plan: Plan,
    mut candidate: SuiteOptions,
    baseline: Option<Baseline>,
) -> Result<Exit, SuiteError> {
    let html = candidate.html.take();
    let json = candidate.json.take();
    candidate.print_report = false;
    let (kind, first, second) = match plan {
        Plan::Policies => {
            let baseline = match baseline {
                Some(baseline) => SuiteOptions {
                    policy: baseline.policy,
                    policy_as_given: baseline.as_given,
                    caveats: baseline.caveats,
                    ..candidate.clone()
                },
                None => candidate.clone(),
            };
            (
                ComparisonKind::Policies,
                side("baseline", baseline),
                side("candidate", candidate),
            )
        }
        Plan::Backends(first, second) => (
            ComparisonKind::Backends,
            side(
                first.name(),
                SuiteOptions {
                    backend: first,
                    ..candidate.clone()
                },
            ),
            side(
                second.name(),
                SuiteOptions {
                    backend: second,
                    ..candidate
                },
            ),
        ),
    };
    let comparison = run_comparison(kind, first, second).await?;
    if let Some(path) = &html {
        write(path, &comparison::html(&comparison))?;
    }
    if let Some(path) = &json {
        write(path, &comparison::json_text(&comparison))?;
    }
    let written: Vec<String> = [&html, &json]
        .into_iter()
        .flatten()
        .map(|p| display_path(p))
        .collect();
    if !written.is_empty() {
        eprintln!("reports: {}", written.join(", "));
    }
    print!("{}", comparison::console(&comparison));
    Ok(Exit::from(comparison.verdict()))
}

fn side(role: &str, options: SuiteOptions) -> ComparisonSide {
    ComparisonSide {
        role: role.to_owned(),
        options,
    }
}

fn write(path: &std::path::Path, text: &str) -> Result<(), SuiteError> {
    std::fs::write(path, text)
        .map_err(|e| SuiteError::Environment(format!("cannot write {}: {e}", display_path(path))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conformance_lab::{SQUID_5_7, SQUID_6};

    const OLD: &dyn ProxyBackend = &SQUID_5_7;
    const NEW: &dyn ProxyBackend = &SQUID_6;

    #[test]
    fn the_options_ask_for_one_comparison_at_most() {
        assert!(matches!(plan(&[], false), Ok(None)));
        assert!(matches!(plan(&[NEW], false), Ok(None)));
        assert!(matches!(plan(&[NEW], true), Ok(Some(Plan::Policies))));
        assert!(matches!(
            plan(&[OLD, NEW], false),
            Ok(Some(Plan::Backends(..)))
        ));
        for (backends, baseline) in [
            (&[OLD, NEW][..], true),
            (&[NEW, NEW][..], false),
            (&[OLD, NEW, OLD][..], false),
        ] {
            assert!(matches!(
                plan(backends, baseline),
                Err(SuiteError::Usage(_))
            ));
        }
    }
}
