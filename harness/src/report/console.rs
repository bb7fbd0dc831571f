//! The console report: each failed scenario with its location, the failed step and its
//! evidence, then the run's summary line.

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
            out.push_str(&format!(
                "  step (line {}): {}\n",
                step.line,
                step.text.trim()
            ));
            for line in step.message.lines() {
                out.push_str(&format!("  {line}\n"));
            }
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
    out.push_str(&format!(
        "\nvantage points: {}\n",
        report.vantage_points.mode
    ));
    for (point, how) in &report.vantage_points.points {
        out.push_str(&format!("  {point:<23} {how}\n"));
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
