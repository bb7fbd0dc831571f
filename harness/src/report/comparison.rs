//! The reports of a comparison (candidate beside baseline, or one policy on two proxy
//! versions): the console text, the JSON document and one HTML page with the changes first
//! and both runs' full reports side by side below, so the evidence is one click away.

use std::fmt::Write as _;

use serde_json::{json, Value};

use conformance_lab::display_path;

use crate::comparison::{Comparison, ComparisonKind, Movement, Outcome};
use crate::report::html::{self, escape};
use crate::verdict::Verdict;

fn movement_word(movement: Movement) -> &'static str {
    match movement {
        Movement::NewlyFailing => "newly failing",
        Movement::NewlyPassing => "newly passing",
        Movement::OnlyInOne => "in one run only",
        Movement::Unchanged => "unchanged",
    }
}

fn verdict_word(verdict: Option<Verdict>) -> String {
    verdict.map_or_else(|| "—".to_owned(), |v| v.to_string().to_uppercase())
}

fn outcome_word(outcome: Option<Outcome>) -> &'static str {
    outcome.map_or("—", Outcome::word)
}

/// What the two runs were.
fn subject(comparison: &Comparison) -> String {
    let (first, second) = (&comparison.first.report, &comparison.second.report);
    match comparison.kind {
        ComparisonKind::Policies => format!(
            "{} {} beside {} {}, on {}, host seed {:#x}",
            comparison.second.role,
            display_path(&second.policy),
            comparison.first.role,
            display_path(&first.policy),
            second.proxy,
            second.host_seed
        ),
        ComparisonKind::Backends => format!(
            "policy {} on {} beside {}, host seed {:#x}",
            display_path(&second.policy),
            second.proxy,
            first.proxy,
            second.host_seed
        ),
    }
}

/// The console report: what was compared, the properties (changes first), every scenario
/// that moved with why it fails now, scope warnings gained and lost, and the verdict line.
pub fn console(comparison: &Comparison) -> String {
    let mut out = format!("comparison: {}\n", subject(comparison));
    let (first, second) = (&comparison.first.role, &comparison.second.role);
    let _ = writeln!(out, "\nproperties ({first} → {second}):");
    for change in comparison.properties() {
        let _ = writeln!(
            out,
            "  {:<15}{:<13} → {:<13} {}",
            change.property.tag(),
            verdict_word(change.before),
            verdict_word(change.after),
            movement_word(change.movement)
        );
    }
    let changes = comparison.scenario_changes();
    if !changes.is_empty() {
        let _ = writeln!(out, "\nscenarios that changed:");
    }
    for change in &changes {
        let _ = writeln!(
            out,
            "  {:<14} {}:{} {} ({} → {})",
            movement_word(change.movement),
            change.feature,
            change.line,
            change.scenario,
            outcome_word(change.before),
            outcome_word(change.after)
        );
        if let (Movement::NewlyFailing, Some(why)) = (change.movement, &change.why) {
            let _ = writeln!(out, "                 {why}");
        }
    }
    let (gained, lost) = comparison.violations();
    for (words, findings) in [
        (
            "run-wide violations gained (one per property and host)",
            gained,
        ),
        ("run-wide violations lost", lost),
    ] {
        if !findings.is_empty() {
            let _ = writeln!(out, "\n{words}:");
        }
        for finding in findings {
            let _ = writeln!(out, "  {}: {finding}", finding.host);
        }
    }
    let (gained, lost) = comparison.scope_warnings();
    for (words, hosts) in [
        ("scope warnings gained", gained),
        ("scope warnings lost", lost),
    ] {
        if !hosts.is_empty() {
            let _ = writeln!(out, "\n{words}: {}", hosts.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "\n{}: {}",
        comparison.verdict().to_string().to_uppercase(),
        comparison.headline()
    );
    out
}

/// The comparison as one JSON document (stable keys; each run's summary line included).
pub fn json(comparison: &Comparison) -> Value {
    let run = |run: &crate::comparison::ComparedRun| {
        json!({
            "role": run.role,
            "policy": display_path(&run.report.policy),
            "proxy": run.report.proxy,
            "verdict": run.report.verdict().to_string(),
            "summary": run.report.summary(),
        })
    };
    let finding = |f: &&crate::invariants::Finding| json!({"property": f.property.tag(), "host": f.host, "what": f.what});
    let (violations_gained, violations_lost) = comparison.violations();
    let violations_gained: Vec<Value> = violations_gained.iter().map(finding).collect();
    let violations_lost: Vec<Value> = violations_lost.iter().map(finding).collect();
    let (gained, lost) = comparison.scope_warnings();
    json!({
        "kind": match comparison.kind {
            ComparisonKind::Policies => "policies",
            ComparisonKind::Backends => "backends",
        },
        "verdict": comparison.verdict().to_string(),
        "headline": comparison.headline(),
        "changes_nothing": comparison.changes_nothing(),
        "host_seed": format!("{:#x}", comparison.second.report.host_seed),
        "first": run(&comparison.first),
        "second": run(&comparison.second),
        "properties": comparison.properties().iter().map(|p| json!({
            "property": p.property.tag(),
            "before": p.before.map(|v| v.to_string()),
            "after": p.after.map(|v| v.to_string()),
            "change": movement_word(p.movement),
        })).collect::<Vec<_>>(),
        "scenarios": comparison.scenario_changes().iter().map(|s| json!({
            "feature": s.feature,
            "line": s.line,
            "scenario": s.scenario,
            "before": s.before.map(Outcome::word),
            "after": s.after.map(Outcome::word),
            "change": movement_word(s.movement),
            "why": s.why,
        })).collect::<Vec<_>>(),
        "unchanged_scenarios": comparison.unchanged_scenarios(),
        "violations_gained": violations_gained,
        "violations_lost": violations_lost,
        "scope_warnings_gained": gained,
        "scope_warnings_lost": lost,
    })
}

/// [`json`], pretty-printed.
pub fn json_text(comparison: &Comparison) -> String {
    format!("{:#}\n", json(comparison))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px}\
tr.newly-failing td{background:#fbb}tr.newly-passing td{background:#dfd}\
h1.pass{color:#080}h1.fail{color:#a00}h1.inconclusive{color:#b60}h1.lab{color:#555}\
.runs{display:flex;gap:1em}.runs section{flex:1;min-width:0}\
.runs iframe{width:100%;height:80vh;border:1px solid #ccc}";

/// One page: the verdict and headline, the properties and the scenarios that moved (changes
/// first), then both runs' own reports side by side.
pub fn html(comparison: &Comparison) -> String {
    let verdict = comparison.verdict();
    let class = match verdict {
        Verdict::LabFault => "lab".to_owned(),
        other => other.to_string(),
    };
    let (first, second) = (&comparison.first.role, &comparison.second.role);
    let mut page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>proxy-conformance \
         comparison: {verdict}</title><style>{STYLE}</style></head><body>\
         <h1 class=\"{class}\">proxy-conformance comparison: {}</h1><p>{}</p><p>{}</p>\
         <h2>Properties</h2><table><tr><th>property</th><th>{}</th><th>{}</th><th>change</th></tr>",
        verdict.to_string().to_uppercase(),
        escape(&comparison.headline()),
        escape(&subject(comparison)),
        escape(first),
        escape(second),
    );
    for change in comparison.properties() {
        let _ = write!(
            page,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            movement_word(change.movement).replace(' ', "-"),
            change.property.tag(),
            verdict_word(change.before),
            verdict_word(change.after),
            movement_word(change.movement)
        );
    }
    page.push_str("</table><h2>Scenarios that changed</h2>");
    page.push_str(&scenarios_table(comparison));
    let (gained, lost) = comparison.violations();
    for (words, findings) in [
        ("Run-wide violations gained", gained),
        ("Run-wide violations lost", lost),
    ] {
        if findings.is_empty() {
            continue;
        }
        let _ = write!(page, "<h2>{words}</h2><ul>");
        for finding in findings {
            let _ = write!(
                page,
                "<li><code>{}</code>: {}</li>",
                escape(&finding.host),
                escape(&finding.to_string())
            );
        }
        page.push_str("</ul>");
    }
    let (gained, lost) = comparison.scope_warnings();
    for (words, hosts) in [
        ("Scope warnings gained", gained),
        ("Scope warnings lost", lost),
    ] {
        if !hosts.is_empty() {
            let _ = write!(page, "<p>{words}: {}</p>", escape(&hosts.join(", ")));
        }
    }
    page.push_str("<h2>Both runs</h2><div class=\"runs\">");
    for run in [&comparison.first, &comparison.second] {
        let _ = write!(
            page,
            "<section><h3>{}: {}</h3><iframe title=\"{}\" srcdoc=\"{}\"></iframe></section>",
            escape(&run.role),
            escape(&run.report.summary()),
            escape(&run.role),
            escape(&html::render(&run.report))
        );
    }
    page.push_str("</div></body></html>");
    page
}

/// The scenarios that moved, newly failing first, or one line saying none did.
fn scenarios_table(comparison: &Comparison) -> String {
    let (first, second) = (&comparison.first.role, &comparison.second.role);
    let mut page = String::new();
    let changes = comparison.scenario_changes();
    if changes.is_empty() {
        let _ = write!(
            page,
            "<p>None: all {} scenarios have the same outcome.</p>",
            comparison.unchanged_scenarios()
        );
    } else {
        let _ = write!(
            page,
            "<table><tr><th>scenario</th><th>{}</th><th>{}</th><th>change</th><th>why it fails now</th></tr>",
            escape(first),
            escape(second)
        );
        for change in &changes {
            let _ = write!(
                page,
                "<tr class=\"{}\"><td>{}:{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                movement_word(change.movement).replace(' ', "-"),
                escape(&change.feature),
                change.line,
                escape(&change.scenario),
                outcome_word(change.before),
                outcome_word(change.after),
                movement_word(change.movement),
                escape(change.why.as_deref().unwrap_or(""))
            );
        }
        page.push_str("</table>");
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::ComparedRun;
    use crate::model::tests_support::{failed, report_with};
    use crate::model::{ScenarioOutcome, ScenarioState};

    fn passed(feature: &str, line: usize) -> ScenarioOutcome {
        ScenarioOutcome {
            state: ScenarioState::Passed,
            failed_step: None,
            claimed_by: Vec::new(),
            ..failed(feature, line)
        }
    }

    fn comparison(second_fails: bool) -> Comparison {
        let run = |role: &str, fails: bool| {
            let mut report = report_with(vec![
                passed("features/auth.feature", 4),
                if fails {
                    failed("features/auth.feature", 9)
                } else {
                    passed("features/auth.feature", 9)
                },
            ]);
            report.lab.faults.clear();
            ComparedRun {
                role: role.into(),
                report: report.judged(),
            }
        };
        Comparison::new(
            ComparisonKind::Policies,
            run("baseline", false),
            run("candidate", second_fails),
        )
    }

    #[test]
    fn every_format_carries_the_candidates_verdict_and_the_scenario_that_moved() {
        let broken = comparison(true);
        let verdict = broken.verdict().to_string().to_uppercase();
        let text = console(&broken);
        assert!(
            text.contains("newly failing  features/auth.feature:9"),
            "{text}"
        );
        assert!(
            text.trim_end()
                .lines()
                .last()
                .unwrap()
                .starts_with(&format!(
                    "{verdict}: candidate against baseline: 1 scenario(s) newly failing"
                )),
            "{text}"
        );
        let document = json(&broken);
        assert_eq!(document["verdict"], broken.verdict().to_string());
        assert_eq!(document["scenarios"][0]["change"], "newly failing");
        assert_eq!(document["scenarios"][0]["line"], 9);
        let page = html(&broken);
        assert!(
            page.contains(&format!("comparison: {verdict}</h1>")),
            "{page}"
        );
        assert!(page.contains("<tr class=\"newly-failing\"><td>features/auth.feature:9"));
        assert_eq!(page.matches("<iframe").count(), 2);
    }

    #[test]
    fn a_change_that_breaks_nothing_says_so_in_one_line() {
        let same = comparison(false);
        let text = console(&same);
        assert!(!text.contains("scenarios that changed"), "{text}");
        assert!(
            text.contains("candidate changes nothing against baseline"),
            "{text}"
        );
        assert_eq!(json(&same)["changes_nothing"], true);
        assert!(html(&same).contains("None: all 2 scenarios have the same outcome."));
    }
}
