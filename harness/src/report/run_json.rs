//! The run's own JSON report (`run --json`), for scripts: the verdict with its exit code and
//! reason, the policy as the user named it, the caveats, each property's verdict, and every
//! scenario that did not pass with the file and line every other report names for it.

use serde_json::{json, Value};

use crate::model::{ScenarioOutcome, ScenarioState, SuiteReport};

/// The document, pretty-printed.
pub(crate) fn render(report: &SuiteReport) -> String {
    let outcome = &report.outcome;
    let properties: Vec<Value> = report
        .properties()
        .iter()
        .map(|p| {
            json!({
                "property": p.property.tag(),
                "verdict": p.verdict.to_string(),
                "why": &p.why,
                "what_to_change": &p.diagnosis,
            })
        })
        .collect();
    let not_passed: Vec<Value> = report
        .scenarios
        .iter()
        .filter(|s| !s.passed())
        .map(scenario)
        .collect();
    let document = json!({
        "verdict": outcome.verdict.to_string(),
        "exit_code": outcome.exit_code,
        "reason": outcome.reason,
        "summary": report.summary(),
        "policy": conformance_lab::display_path(&report.policy),
        "caveats": report.caveats.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "properties": properties,
        "scenarios": {
            "selected": report.selected,
            "recorded": report.scenarios.len(),
            "passed": report.scenarios.iter().filter(|s| s.passed()).count(),
            "failed": report.failed().count(),
            "not_observable": report.unobservable().count(),
            "not_judged_because_of_the_lab": report.unjudged_by_lab().count(),
        },
        "not_passed": not_passed,
        "lab_faults": report.lab.faults.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "host_seed": format!("{:#x}", report.host_seed),
    });
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

/// A scenario that did not pass: where, what, why.
fn scenario(outcome: &ScenarioOutcome) -> Value {
    let (state, why) = match &outcome.state {
        ScenarioState::Passed => ("passed", None),
        ScenarioState::Failed => ("failed", None),
        ScenarioState::NotObservable(why) => ("not observable", Some(why.to_string())),
        ScenarioState::ScopeWarning(why) => ("scope warning", Some(why.clone())),
        ScenarioState::LabFault(why) => ("not judged because of the lab", Some(why.clone())),
    };
    json!({
        "location": outcome.failure_location(),
        "scenario": outcome.scenario,
        "state": state,
        "why": why,
        "step": outcome.failed_step.as_ref().map(|s| s.text.trim().to_owned()),
        "message": outcome.failed_step.as_ref().map(|s| s.message.clone()),
        "counts_for": outcome.claimed_by.iter().map(|p| p.tag()).collect::<Vec<_>>(),
        "tags": outcome.tags,
    })
}
