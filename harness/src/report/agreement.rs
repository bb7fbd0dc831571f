//! Every format states the run's one outcome: for a passing, a failed and an inconclusive run,
//! the console's last line, the HTML headline, JUnit's run test case, the Cucumber JSON
//! `verdicts` feature and the JSON report agree with [`SuiteReport::outcome`], and a failure
//! is named at the same file and line in each.

use crate::model::tests_support::{cpl_caveat, failed_run, passing_run, unobservable_run};
use crate::model::SuiteReport;
use crate::Verdict;

/// What each format says the verdict is.
struct Stated {
    console_last_line: String,
    html_headline: bool,
    junit_run_case: String,
    cucumber_run_status: String,
    json_verdict: String,
    json_exit_code: u64,
}

fn stated(report: &SuiteReport) -> Stated {
    let verdict = report.outcome.verdict.to_string().to_uppercase();
    let console = super::console::render(report);
    let html = super::html::render(report);
    let junit = super::junit::render(report).unwrap();
    let junit_run_case = junit
        .split("<testcase name=\"the run\"")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let mut cucumber = serde_json::json!([]);
    super::json::add_verdicts(&mut cucumber, report);
    let run = &cucumber[0]["elements"].as_array().unwrap().last().unwrap()["steps"][0]["result"];
    let json: serde_json::Value = serde_json::from_str(&super::run_json::render(report)).unwrap();
    Stated {
        console_last_line: console.lines().last().unwrap_or_default().to_owned(),
        html_headline: html.contains(&format!(
            "<h1 class=\"{}\">proxy-conformance: {verdict}</h1>",
            report.outcome.verdict
        )),
        junit_run_case,
        cucumber_run_status: format!(
            "{} {}",
            run["status"].as_str().unwrap_or_default(),
            run["error_message"].as_str().unwrap_or_default()
        ),
        json_verdict: json["verdict"].as_str().unwrap_or_default().to_owned(),
        json_exit_code: json["exit_code"].as_u64().unwrap_or(99),
    }
}

#[test]
fn a_passing_run_is_a_pass_in_every_format() {
    let run = passing_run();
    assert_eq!(run.outcome.verdict, Verdict::Pass);
    let said = stated(&run);
    assert!(
        said.console_last_line.starts_with("PASS: "),
        "{}",
        said.console_last_line
    );
    assert!(said.html_headline);
    assert!(
        said.junit_run_case
            .starts_with(" time=\"0\" classname=\"verdicts\"/>"),
        "{}",
        said.junit_run_case
    );
    assert_eq!(said.cucumber_run_status, "passed ");
    assert_eq!(
        (said.json_verdict.as_str(), said.json_exit_code),
        ("pass", 0)
    );
}

#[test]
fn a_failed_run_is_a_failure_in_every_format_at_one_file_and_line() {
    let run = failed_run();
    let said = stated(&run);
    assert!(
        said.console_last_line.starts_with("FAIL: "),
        "{}",
        said.console_last_line
    );
    assert!(
        said.console_last_line.contains("why: @auth failed"),
        "{}",
        said.console_last_line
    );
    assert!(said.html_headline);
    assert!(
        said.junit_run_case
            .contains("<failure type=\"assertion\" message=\"FAIL: "),
        "{}",
        said.junit_run_case
    );
    assert!(
        said.cucumber_run_status.starts_with("failed FAIL: "),
        "{}",
        said.cucumber_run_status
    );
    assert_eq!(
        (said.json_verdict.as_str(), said.json_exit_code),
        ("fail", 4)
    );
    // The failed step's line, and no other, wherever the failure is named.
    let at = "features/auth.feature:12";
    let console = super::console::render(&run);
    let html = super::html::render(&run);
    let junit = super::junit::render(&run).unwrap();
    let json = super::run_json::render(&run);
    for (format, text) in [
        ("console", &console),
        ("html", &html),
        ("junit", &junit),
        ("json", &json),
    ] {
        assert!(text.contains(at), "{format}: {text}");
        assert!(
            !text.contains("features/auth.feature:8"),
            "{format}: {text}"
        );
    }
}

#[test]
fn an_inconclusive_run_is_inconclusive_in_every_format_with_its_reason_and_the_policy_as_given() {
    let mut caveated = passing_run();
    caveated.caveats.push(cpl_caveat());
    for run in [caveated.judged(), unobservable_run()] {
        assert_eq!(run.outcome.verdict, Verdict::Inconclusive);
        let said = stated(&run);
        assert!(
            said.console_last_line.starts_with("INCONCLUSIVE: "),
            "{}",
            said.console_last_line
        );
        assert!(said
            .console_last_line
            .contains("policy policies/cpl/windows-update.cpl"));
        assert!(said.html_headline);
        assert!(
            said.junit_run_case
                .contains("<failure type=\"inconclusive\" message=\"INCONCLUSIVE: "),
            "{}",
            said.junit_run_case
        );
        assert!(
            said.cucumber_run_status
                .starts_with("failed INCONCLUSIVE: "),
            "{}",
            said.cucumber_run_status
        );
        assert_eq!(
            (said.json_verdict.as_str(), said.json_exit_code),
            ("inconclusive", 5)
        );
        let console = super::console::render(&run);
        assert_eq!(
            console.matches("INCONCLUSIVE: ").count(),
            1,
            "the verdict once: {console}"
        );
        let html = super::html::render(&run);
        assert!(
            html.contains("<code>policies/cpl/windows-update.cpl</code>"),
            "{html}"
        );
        assert!(html.contains(&run.outcome.reason[..20]), "{html}");
    }
}

#[test]
fn the_kinds_a_control_held_on_are_named_alike_in_every_format() {
    use conformance_model::{KindsPoliced, ObjectKind, Property};
    let mut run = passing_run();
    run.scenarios[1].kinds_policed = Some(KindsPoliced {
        property: Property::Auth,
        offered: ObjectKind::ALL.into_iter().collect(),
        policed: [ObjectKind::Executable, ObjectKind::Archive]
            .into_iter()
            .collect(),
    });
    let run = run.judged();
    assert_eq!(run.outcome.verdict, Verdict::Pass);
    let held = "control held on: executable, archive (not policed: page, update-like file)";
    let mut cucumber = serde_json::json!([]);
    super::json::add_verdicts(&mut cucumber, &run);
    for (format, text) in [
        ("console", super::console::render(&run)),
        ("html", super::html::render(&run)),
        ("junit", super::junit::render(&run).unwrap()),
        ("cucumber json", cucumber.to_string()),
        ("json", super::run_json::render(&run)),
    ] {
        assert!(text.contains(held), "{format}: {text}");
    }
}
