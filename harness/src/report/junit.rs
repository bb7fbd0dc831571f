//! JUnit XML built from the run model, for CI test views that keep history: one test suite per
//! feature file, named as the repository names it (`features/auth.feature`, never the folder
//! the bundled suite was written to), one test case per scenario, and a suite `verdicts` with
//! a test case per property and one for the run. A failed check is a `<failure
//! type="assertion">` whose message is the failure's file and line and the step, and whose
//! body is the check's own message with its evidence; a scenario or property that is
//! inconclusive or not observable is a `<failure type="inconclusive">` with the reason, never a
//! pass; a scenario the lab's fault left unjudged is `<skipped>` with the reason, and the run's
//! test case is then an `<error type="lab-fault">` (JUnit's word for a harness error, apart
//! from test failures) naming what failed and when, with the proxy's last log lines.

use std::collections::BTreeMap;

use junit_report::{Duration, Report, TestCase, TestResult, TestSuite};

use crate::error::SuiteError;
use crate::model::{ScenarioOutcome, ScenarioState, SuiteReport};
use crate::verdict::Verdict;

/// JUnit's `type` of a failed check.
const ASSERTION: &str = "assertion";
/// JUnit's `type` of a result that is neither a pass nor a failure.
const INCONCLUSIVE: &str = "inconclusive";
/// JUnit's `type` of the lab breaking.
const LAB_FAULT: &str = "lab-fault";

/// The document.
pub(crate) fn render(report: &SuiteReport) -> Result<String, SuiteError> {
    let mut junit = Report::new();
    let mut by_feature: BTreeMap<&str, Vec<&ScenarioOutcome>> = BTreeMap::new();
    for scenario in &report.scenarios {
        by_feature
            .entry(&scenario.feature)
            .or_default()
            .push(scenario);
    }
    for (feature, scenarios) in by_feature {
        let mut suite = TestSuite::new(feature);
        suite.add_testcases(
            scenarios
                .iter()
                .map(|scenario| scenario_case(scenario, &scenarios)),
        );
        junit.add_testsuite(suite);
    }
    junit.add_testsuite(verdicts(report));
    let mut xml = Vec::new();
    junit
        .write_xml(&mut xml)
        .map_err(|e| SuiteError::Environment(format!("cannot render JUnit XML: {e}")))?;
    Ok(String::from_utf8_lossy(&xml).into_owned())
}

/// A scenario's test case, named by the scenario (and its line, when the feature has another
/// scenario of the same name: the rows of an outline).
fn scenario_case(scenario: &ScenarioOutcome, in_feature: &[&ScenarioOutcome]) -> TestCase {
    let twins = in_feature
        .iter()
        .filter(|s| s.scenario == scenario.scenario)
        .count();
    let name = if twins > 1 {
        format!("{} (line {})", scenario.scenario, scenario.line)
    } else {
        scenario.scenario.clone()
    };
    let time = match (scenario.started_at, scenario.finished_at) {
        (Some(start), Some(end)) => end.duration_since(start).unwrap_or_default(),
        _ => std::time::Duration::ZERO,
    };
    let time = Duration::try_from(time).unwrap_or_default();
    let mut case = match &scenario.state {
        ScenarioState::Passed => TestCase::success(&name, time),
        ScenarioState::ScopeWarning(why) => {
            let mut case = TestCase::success(&name, time);
            case.set_system_out(&format!("scope warning: {why}"));
            case
        }
        ScenarioState::Failed => failure(&name, time, ASSERTION, failed(scenario)),
        ScenarioState::NotObservable(why) => failure(
            &name,
            time,
            INCONCLUSIVE,
            (
                format!("{}: not observable: {why}", scenario.failure_location()),
                why.to_string(),
            ),
        ),
        ScenarioState::LabFault(why) => TestCase::skipped_with_cause(&name, LAB_FAULT, why),
    };
    case.set_classname(&scenario.feature);
    case.set_filepath(&scenario.feature);
    case
}

/// The message (`features/auth.feature:12: Then …`) and body (the check's own message with its
/// evidence, then which properties the failure counts for) of a failed scenario.
fn failed(scenario: &ScenarioOutcome) -> (String, String) {
    let counts_for = if scenario.claimed_by.is_empty() {
        "no property claims this failure: it fails the run on its own".to_owned()
    } else {
        let tags: Vec<&str> = scenario.claimed_by.iter().map(|p| p.tag()).collect();
        format!("counts for: {}", tags.join(" "))
    };
    match &scenario.failed_step {
        Some(step) => (
            format!("{}: {}", scenario.failure_location(), step.text.trim()),
            format!("{}\n{counts_for}", step.message),
        ),
        None => (
            format!("{}: failed", scenario.failure_location()),
            counts_for,
        ),
    }
}

fn failure(name: &str, time: Duration, kind: &str, (message, body): (String, String)) -> TestCase {
    let mut case = TestCase::failure(name, time, kind, &message);
    case.result = TestResult::Failure {
        type_: kind.to_owned(),
        message,
        cause: Some(body),
    };
    case
}

/// The suite `verdicts`: a test case per property, then one for the run, each as the run's
/// verdict has it.
fn verdicts(report: &SuiteReport) -> TestSuite {
    let lab_broke = !report.lab.faults.is_empty();
    let mut suite = TestSuite::new("verdicts");
    for property in report.properties() {
        let name = format!(
            "{}: {}",
            property.property.tag(),
            property.property.meaning()
        );
        let why = &property.why;
        let body = match &property.diagnosis {
            Some(diagnosis) => format!("{why}\nwhat to change: {diagnosis}"),
            None => why.clone(),
        };
        let mut case = match property.verdict {
            Verdict::Pass => {
                // Why it passed (which kinds its controls held on) is said here as elsewhere.
                let mut case = TestCase::success(&name, Duration::ZERO);
                case.set_system_out(why);
                case
            }
            Verdict::Fail => failure(
                &name,
                Duration::ZERO,
                ASSERTION,
                (format!("FAIL: {why}"), body),
            ),
            _ if lab_broke => TestCase::skipped_with_cause(&name, LAB_FAULT, why),
            Verdict::Inconclusive | Verdict::LabFault => failure(
                &name,
                Duration::ZERO,
                INCONCLUSIVE,
                (format!("INCONCLUSIVE: {why}"), body),
            ),
        };
        case.set_classname("verdicts");
        suite.add_testcase(case);
    }
    suite.add_testcase(run_case(report));
    suite
}

/// The run's own test case: its verdict, with the summary line as the message.
fn run_case(report: &SuiteReport) -> TestCase {
    const NAME: &str = "the run";
    let outcome = &report.outcome;
    let summary = report.summary();
    let mut details = outcome.reason.clone();
    for caveat in &report.caveats {
        details.push_str(&format!("\ncaveat: {caveat}"));
    }
    let mut case = match outcome.verdict {
        Verdict::Pass => TestCase::success(NAME, Duration::ZERO),
        Verdict::Fail => failure(NAME, Duration::ZERO, ASSERTION, (summary, details)),
        Verdict::Inconclusive => failure(NAME, Duration::ZERO, INCONCLUSIVE, (summary, details)),
        Verdict::LabFault => {
            let mut case = TestCase::error(NAME, Duration::ZERO, LAB_FAULT, &summary);
            case.result = TestResult::Error {
                type_: LAB_FAULT.to_owned(),
                message: summary,
                cause: Some(lab_details(report)),
            };
            case
        }
    };
    case.set_classname("verdicts");
    case
}

/// Each fault with its time, the proxy's last log lines and the retries.
fn lab_details(report: &SuiteReport) -> String {
    let mut details = String::new();
    for fault in &report.lab.faults {
        details.push_str(&format!(
            "{:.1} s after the lab was ready ({} UTC): {fault}{}\n",
            report.lab.seconds_after_ready(fault.at),
            crate::model::time_of_day(fault.at),
            report.lab.last_seen_healthy(fault)
        ));
    }
    if let Some(log) = report.lab.proxy_log_lines() {
        details.push_str("the proxy's last log lines:\n");
        for line in log {
            details.push_str(&format!("  {line}\n"));
        }
    }
    for retry in &report.lab.retries {
        details.push_str(&format!("retry: {retry}\n"));
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{
        cpl_caveat, failed, failed_run, passing_run, report_with, unjudged, unobservable_run,
    };

    fn xml(report: &SuiteReport) -> String {
        render(report).unwrap()
    }

    #[test]
    fn a_passing_run_has_no_failure_and_a_passing_run_case() {
        let xml = xml(&passing_run());
        assert!(
            !xml.contains("<failure") && !xml.contains("<error"),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite id=\"1\" name=\"verdicts\""),
            "{xml}"
        );
        assert!(xml.contains("<testcase name=\"the run\""), "{xml}");
    }

    #[test]
    fn a_failed_check_is_an_assertion_at_the_failed_steps_line_with_its_own_message() {
        let xml = xml(&failed_run());
        assert!(
            xml.contains(
                "<failure type=\"assertion\" message=\"features/auth.feature:12: Then the proxy \
                 did not ask for credentials\"><![CDATA[expected: no 407"
            ),
            "{xml}"
        );
        assert!(!xml.contains("Step Panicked") && !xml.contains("Step panicked"));
        assert!(
            xml.contains("<failure type=\"assertion\" message=\"FAIL: "),
            "{xml}"
        );
        // Failed scenario, @auth, the run.
        assert_eq!(xml.matches("<failure ").count(), 3, "{xml}");
    }

    #[test]
    fn an_inconclusive_run_is_a_failure_of_type_inconclusive_with_its_reason_never_a_pass() {
        let mut run = passing_run();
        run.caveats.push(cpl_caveat());
        let xml = xml(&run.judged());
        assert!(
            xml.contains("<failure type=\"inconclusive\" message=\"INCONCLUSIVE: "),
            "{xml}"
        );
        assert!(xml.contains("caveat: cpl to-squid: group=staff"), "{xml}");
        let xml = super::render(&unobservable_run()).unwrap();
        assert!(
            xml.contains(
                "<failure type=\"inconclusive\" message=\"features/icap.feature:5: not observable"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure type=\"inconclusive\" message=\"INCONCLUSIVE: not observable"),
            "{xml}"
        );
    }

    #[test]
    fn test_names_carry_the_feature_path_as_the_repository_names_it_never_a_temporary_folder() {
        let xml = xml(&failed_run());
        assert!(
            xml.contains("<testsuite id=\"0\" name=\"features/auth.feature\""),
            "{xml}"
        );
        assert!(
            xml.contains("classname=\"features/auth.feature\" file=\"features/auth.feature\""),
            "{xml}"
        );
        let temp = std::env::temp_dir().display().to_string();
        for forbidden in [temp.as_str(), "proxy-conformance-bundle-", "tmp/"] {
            assert!(!xml.contains(forbidden), "{forbidden} in {xml}");
        }
    }

    #[test]
    fn unjudged_scenarios_are_skipped_the_lab_is_an_error_and_judged_failures_stand() {
        let report = report_with(vec![
            unjudged("features/x.feature", 10),
            failed("features/x.feature", 11),
            unjudged("features/x.feature", 12),
        ]);
        let xml = xml(&report);
        assert_eq!(
            xml.matches("<skipped type=\"lab-fault\" message=\"not judged because of the lab")
                .count(),
            2,
            "{xml}"
        );
        assert!(
            xml.contains("<failure type=\"assertion\" message=\"features/x.feature:11: failed\""),
            "{xml}"
        );
        assert!(
            xml.contains("<error type=\"lab-fault\" message=\"LAB FAULT: "),
            "{xml}"
        );
        assert!(xml.contains("Squid Cache (Version 5.7): running"), "{xml}");
    }
}
