//! The run's own JSON report (`run --json`), for scripts: the verdict with its exit code and
//! reason first, the policy as the user named it, the caveats, each property's verdict, and
//! every scenario that did not pass with the file and line every other report names for it.

use serde::Serialize;

use crate::model::{ScenarioOutcome, ScenarioState, SuiteReport};

/// The document, fields in the order a reader wants them.
#[derive(Serialize)]
struct RunDocument<'a> {
    verdict: String,
    exit_code: u8,
    reason: &'a str,
    summary: String,
    policy: String,
    caveats: Vec<String>,
    properties: Vec<PropertyEntry<'a>>,
    scenarios: Counts,
    not_passed: Vec<NotPassed<'a>>,
    lab_faults: Vec<String>,
    host_seed: String,
}

#[derive(Serialize)]
struct PropertyEntry<'a> {
    property: &'static str,
    verdict: String,
    why: &'a str,
    what_to_change: Option<&'a str>,
}

#[derive(Serialize)]
struct Counts {
    selected: usize,
    recorded: usize,
    passed: usize,
    failed: usize,
    not_observable: usize,
    not_judged_because_of_the_lab: usize,
}

/// A scenario that did not pass: where, what, why.
#[derive(Serialize)]
struct NotPassed<'a> {
    location: String,
    scenario: &'a str,
    state: &'static str,
    why: Option<String>,
    step: Option<&'a str>,
    message: Option<&'a str>,
    counts_for: Vec<&'static str>,
    tags: &'a [String],
}

/// The document, pretty-printed.
pub(crate) fn render(report: &SuiteReport) -> String {
    let outcome = &report.outcome;
    let document = RunDocument {
        verdict: outcome.verdict.to_string(),
        exit_code: outcome.exit_code,
        reason: &outcome.reason,
        summary: report.summary(),
        policy: conformance_lab::display_path(&report.policy),
        caveats: report.caveats.iter().map(ToString::to_string).collect(),
        properties: report
            .properties()
            .iter()
            .map(|p| PropertyEntry {
                property: p.property.tag(),
                verdict: p.verdict.to_string(),
                why: &p.why,
                what_to_change: p.diagnosis.as_deref(),
            })
            .collect(),
        scenarios: Counts {
            selected: report.selected,
            recorded: report.scenarios.len(),
            passed: report.scenarios.iter().filter(|s| s.passed()).count(),
            failed: report.failed().count(),
            not_observable: report.unobservable().count(),
            not_judged_because_of_the_lab: report.unjudged_by_lab().count(),
        },
        not_passed: report
            .scenarios
            .iter()
            .filter(|s| !s.passed())
            .map(not_passed)
            .collect(),
        lab_faults: report.lab.faults.iter().map(ToString::to_string).collect(),
        host_seed: format!("{:#x}", report.host_seed),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

fn not_passed(outcome: &ScenarioOutcome) -> NotPassed<'_> {
    let (state, why) = match &outcome.state {
        ScenarioState::Passed => ("passed", None),
        ScenarioState::Failed => ("failed", None),
        ScenarioState::NotObservable(why) => ("not observable", Some(why.to_string())),
        ScenarioState::ScopeWarning(why) => ("scope warning", Some(why.clone())),
        ScenarioState::LabFault(why) => ("not judged because of the lab", Some(why.clone())),
    };
    NotPassed {
        location: outcome.failure_location(),
        scenario: &outcome.scenario,
        state,
        why,
        step: outcome.failed_step.as_ref().map(|s| s.text.trim()),
        message: outcome.failed_step.as_ref().map(|s| s.message.as_str()),
        counts_for: outcome.claimed_by.iter().map(|p| p.tag()).collect(),
        tags: &outcome.tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::failed_run;

    #[test]
    fn the_verdict_exit_code_and_reason_come_first_and_a_failure_has_its_step_and_message() {
        let text = render(&failed_run());
        assert!(
            text.starts_with(
                "{\n  \"verdict\": \"fail\",\n  \"exit_code\": 4,\n  \"reason\": \"@auth failed"
            ),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let failure = &json["not_passed"][0];
        assert_eq!(failure["location"], "features/auth.feature:12");
        assert_eq!(
            failure["step"],
            "Then the proxy did not ask for credentials"
        );
        assert_eq!(failure["counts_for"][0], "@auth");
    }
}
