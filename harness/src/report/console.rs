//! The console report: each failed scenario with its location, the failed step and its
//! evidence, the caveats, each property's verdict, then the run's summary line — the verdict
//! with its reason, once, as the last line.

use crate::model::SuiteReport;

/// The failures and the summary, as printed on stderr after a run.
pub fn render(report: &SuiteReport) -> String {
    let mut out = String::new();
    for scenario in report.failed() {
        out.push_str(&format!(
            "\nFAILED {} {}\n",
            scenario.location(),
            scenario.tags.join(" ")
        ));
        if let Some(step) = &scenario.failed_step {
            out.push_str(&format!("  step: {}\n", step.text.trim()));
            for line in step.message.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        if scenario.claimed_by.is_empty() {
            out.push_str(
                "  no property claims this failure (no finding in its traffic, and its check \
                 judges delivery itself): it fails the run on its own\n",
            );
        } else {
            let claimed: Vec<&str> = scenario.claimed_by.iter().map(|p| p.tag()).collect();
            out.push_str(&format!("  counts for: {}\n", claimed.join(" ")));
        }
    }
    out.push_str(&render_findings(report));
    let warned: Vec<_> = report.scope_warnings().collect();
    if !warned.is_empty() {
        out.push_str("\nscope warnings (not failures; --strict-scope makes them so):\n");
        for (scenario, why) in warned {
            out.push_str(&format!("  {} — {why}\n", scenario.location()));
        }
    }
    for error in &report.parse_errors {
        out.push_str(&format!("parse error: {error}\n"));
    }
    if report.missing_outcomes() > 0 {
        out.push_str(&format!(
            "\n{} of the {} selected scenarios recorded no outcome: the verdict cannot be trusted\n",
            report.missing_outcomes(),
            report.selected
        ));
    }
    let unobservable: Vec<_> = report.unobservable().collect();
    if !unobservable.is_empty() {
        out.push_str("\nnot observable in this mode (neither passed nor failed):\n");
        for scenario in unobservable {
            if let Some(why) = scenario.not_observable() {
                out.push_str(&format!("  {} — {why}\n", scenario.location()));
            }
        }
    }
    out.push_str(&render_lab_health(report));
    out.push_str(&format!(
        "\nvantage points: {}\n",
        report.vantage_points.mode
    ));
    for (point, how) in &report.vantage_points.points {
        out.push_str(&format!("  {point:<23} {how}\n"));
    }
    if !report.caveats.is_empty() {
        out.push_str("\ncaveats (what the lab's evidence cannot see: a pass is inconclusive):\n");
        for caveat in &report.caveats {
            out.push_str(&format!("  {caveat}\n"));
        }
    }
    out.push_str("\nproperties:\n");
    for property in report.properties() {
        out.push_str(&format!(
            "  {:<13} {:<12} {}\n",
            property.property.tag(),
            property.verdict.to_string().to_uppercase(),
            property.why
        ));
        if let Some(diagnosis) = &property.diagnosis {
            out.push_str(&format!("  {:<13} → {diagnosis}\n", ""));
        }
    }
    out.push_str(&format!("\n{}\n", report.summary()));
    out
}

/// The lab's faults, each with when it happened and the proxy's last log lines, the scenarios
/// they left unjudged, and every retry the harness made.
fn render_lab_health(report: &SuiteReport) -> String {
    const SHOWN: usize = 10;
    let mut out = String::new();
    if !report.lab.faults.is_empty() {
        out.push_str(
            "\nLAB FAULT: the lab broke during the run; what ran on it after that says nothing \
             about the policy:\n",
        );
        for fault in &report.lab.faults {
            out.push_str(&format!(
                "  {:>6.1} s ({} UTC)  {fault}{}\n",
                report.lab.seconds_after_ready(fault.at),
                crate::model::time_of_day(fault.at),
                report.lab.last_seen_healthy(fault)
            ));
        }
        if let Some(log) = report.lab.proxy_log_lines() {
            out.push_str("  the proxy's last log lines:\n");
            for line in log {
                out.push_str(&format!("    | {line}\n"));
            }
        }
        let unjudged: Vec<_> = report.unjudged_by_lab().collect();
        out.push_str(&format!(
            "  {} scenario(s) not judged because of the lab:\n",
            unjudged.len()
        ));
        for scenario in unjudged.iter().take(SHOWN) {
            if let Some(why) = scenario.lab_fault() {
                out.push_str(&format!("    {} — {why}\n", scenario.location()));
            }
        }
        if unjudged.len() > SHOWN {
            out.push_str(&format!("    … and {} more\n", unjudged.len() - SHOWN));
        }
    }
    if !report.lab.retries.is_empty() {
        out.push_str("\nretries (nothing is retried silently):\n");
        for retry in &report.lab.retries {
            out.push_str(&format!("  {retry}\n"));
        }
    }
    out
}

/// What the run-wide invariants found, grouped by property: each violation with the scenario
/// whose traffic it was, at most a few per property (the count says how many), then notes.
fn render_findings(report: &SuiteReport) -> String {
    const SHOWN: usize = 5;
    let mut out = String::new();
    let location = |token: &Option<String>| {
        report
            .scenario_of(token)
            .map_or_else(|| "no scenario".to_owned(), |s| s.failure_location())
    };
    for property in conformance_model::Property::ALL {
        let violations: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.property == property && f.is_violation())
            .collect();
        if violations.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\nRUN-WIDE {}: {} update exchange(s) {} ({})\n",
            property.tag(),
            violations.len(),
            property.violation(),
            property.meaning()
        ));
        for finding in violations.iter().take(SHOWN) {
            out.push_str(&format!(
                "  [{}] {} — traffic of {}\n",
                finding.vantage,
                finding.what,
                location(&finding.scenario)
            ));
        }
        if violations.len() > SHOWN {
            out.push_str(&format!("  … and {} more\n", violations.len() - SHOWN));
        }
    }
    let notes: Vec<_> = report
        .findings
        .iter()
        .filter(|f| !f.is_violation())
        .collect();
    if !notes.is_empty() {
        out.push_str(&format!(
            "\nnotes ({} exchange(s), not failures: informational headers changed):\n",
            notes.len()
        ));
        for finding in notes.iter().take(SHOWN) {
            out.push_str(&format!("  [{}] {}\n", finding.vantage, finding.what));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{failed, report_with, unjudged};
    use crate::Verdict;

    #[test]
    fn a_lab_fault_is_the_last_line_with_what_failed_and_when_and_no_property_advice() {
        let mut report = report_with(vec![
            unjudged("features/x.feature", 10),
            unjudged("features/x.feature", 11),
        ]);
        assert_eq!(report.verdict(), Verdict::LabFault);
        let text = render(&report);
        let last = text.lines().last().unwrap();
        assert!(
            last.starts_with(
                "LAB FAULT: the proxy under test's container was killed (signal 9), 3.5 s after \
                 the lab was ready (01:00:03 UTC); 2 of the 2 selected scenarios not judged"
            ),
            "{last}"
        );
        assert!(
            text.contains("    | Squid Cache (Version 5.7): running"),
            "{text}"
        );
        assert!(
            text.contains("retries (nothing is retried silently):"),
            "{text}"
        );
        assert!(!text.contains("FAILED"), "{text}");
        assert!(!text.contains('→'), "{text}");
        // A failure proven on the healthy lab before the fault is still shown as one.
        report.scenarios.push(failed("features/x.feature", 12));
        report.selected += 1;
        let mut report = report.judged();
        assert!(render(&report).contains("FAILED features/x.feature:12"));
        assert_eq!(report.verdict(), Verdict::LabFault);
        // The same run on a lab that stayed healthy is a policy verdict.
        report.lab.faults.clear();
        let report = report.judged();
        assert_eq!(report.verdict(), Verdict::Fail);
        assert!(render(&report)
            .lines()
            .last()
            .unwrap()
            .starts_with("FAIL: "));
    }
}
