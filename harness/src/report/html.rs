//! The HTML report: one self-contained page a person can read — the run's summary, a
//! pass/fail matrix of property × host, and for every failed scenario the failed step with
//! expected vs actual and the evidence each side saw.

use std::collections::BTreeMap;
use std::fmt::Write;

use conformance_model::PROPERTY_TAGS;

use conformance_lab::display_path;

use crate::model::{ScenarioOutcome, ScenarioState, SuiteReport};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;\
text-align:center}th.host{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;\
padding:4px 2px;max-height:22em}th.host small{color:#666}\
div.matrix{overflow:auto;max-width:100%;max-height:90vh;border:1px solid #ccc}\
div.matrix table{margin:0}div.matrix thead th{position:sticky;top:0;background:#fff;z-index:1}\
div.matrix th.property{position:sticky;left:0;background:#fff;z-index:2;text-align:left}\
div.matrix td{padding:2px 4px;white-space:nowrap}p.reason{font-size:1.15em}\
td.pass{background:#dfd}td.fail{background:#fbb;font-weight:bold}td.none{color:#bbb}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto;white-space:pre-wrap}\
.failed h3{color:#a00}.control{font-style:italic}\
h1.pass{color:#080}h1.fail{color:#a00}h1.inconclusive{color:#b60}\
td.inconclusive{background:#fe9;font-weight:bold}h1.lab{color:#fff;background:#555;padding:.2em}\
td.lab{background:#ddd}";

/// The names drawn this run, so a failure on a drawn name can be read and replayed.
fn drawn_hosts(report: &SuiteReport) -> String {
    let mut html = format!(
        "<h2>Host names drawn this run</h2><p>Seed <code>{:#x}</code> (replay with \
         <code>CONFORMANCE_HOST_SEED={:#x}</code>).</p><table><tr><th>pattern</th><th>names</th></tr>",
        report.host_seed, report.host_seed
    );
    for (pattern, names) in &report.drawn_hosts {
        let _ = write!(
            html,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            escape(pattern),
            escape(&names.join(", "))
        );
    }
    html.push_str("</table>");
    html
}

/// What was judged from where: the mode, then each vantage point and how it was used.
fn vantage_points(report: &SuiteReport) -> String {
    let mut html = format!(
        "<h2>Vantage points</h2><p>{}</p><table><tr><th>vantage point</th><th>how it was judged</th></tr>",
        escape(&report.vantage_points.mode)
    );
    for (point, how) in &report.vantage_points.points {
        let _ = write!(
            html,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            escape(point),
            escape(how)
        );
    }
    html.push_str("</table>");
    html
}

/// The lab's faults (each with its time and the proxy's last log lines) and the retries the
/// harness made; nothing when the lab stayed healthy and nothing was retried.
fn lab_health(report: &SuiteReport) -> String {
    let mut html = String::new();
    if let Some(what) = report.lab.what_failed() {
        let _ = write!(
            html,
            "<h2>Lab fault: no verdict about the policy</h2><p>{}: {} scenario(s) not judged \
             because of the lab. The run exits 3.</p><table><tr><th>after the lab was ready</th>\
             <th>what failed</th><th>the proxy's last log lines</th></tr>",
            escape(&what),
            report.unjudged_by_lab().count() + report.missing_outcomes()
        );
        for fault in &report.lab.faults {
            let _ = write!(
                html,
                "<tr><td>{:.1} s ({} UTC)</td><td style=\"text-align:left\">{}</td>\
                 <td style=\"text-align:left\"><pre>{}</pre></td></tr>",
                report.lab.seconds_after_ready(fault.at),
                crate::model::time_of_day(fault.at),
                escape(&format!("{fault}{}", report.lab.last_seen_healthy(fault))),
                escape(&fault.proxy_log.join("\n"))
            );
        }
        html.push_str("</table>");
    }
    if !report.lab.retries.is_empty() {
        html.push_str("<h3>Retries</h3><ul>");
        for retry in &report.lab.retries {
            let _ = write!(html, "<li>{}</li>", escape(retry));
        }
        html.push_str("</ul>");
    }
    html
}

/// What the lab's evidence cannot see, each caveat on its line; nothing when there is none.
fn caveats(report: &SuiteReport) -> String {
    if report.caveats.is_empty() {
        return String::new();
    }
    let mut html =
        String::from("<h2>Caveats: a pass here is inconclusive</h2><ul class=\"caveats\">");
    for caveat in &report.caveats {
        let _ = write!(html, "<li>{}</li>", escape(&caveat.to_string()));
    }
    html.push_str("</ul>");
    html
}

/// One row per property: its verdict (pass, fail, inconclusive in its own colour) and why.
fn properties(report: &SuiteReport) -> String {
    let mut html = String::from(
        "<h2>Properties</h2><table><tr><th>property</th><th>verdict</th><th>why</th></tr>",
    );
    for property in report.properties() {
        let _ = write!(
            html,
            "<tr><td>{} ({})</td><td class=\"{}\">{}</td><td style=\"text-align:left\">{}</td></tr>",
            property.property.tag(),
            escape(property.property.meaning()),
            property.verdict,
            property.verdict.to_string().to_uppercase(),
            escape(&match &property.diagnosis {
                Some(diagnosis) => format!("{} — {diagnosis}", property.why),
                None => property.why.clone(),
            })
        );
    }
    html.push_str("</table>");
    html
}

/// The run-wide invariants: how many update requests were judged, each violation with its
/// vantage point and the scenario whose traffic it was, the notes, and the scope warnings.
fn invariants(report: &SuiteReport) -> String {
    let mut html = format!(
        "<h2>Run-wide invariants</h2><p>{} update request(s) of the run judged on every property \
         from every vantage point; {} violation(s), {} note(s).</p>",
        report.update_exchanges,
        report.findings.iter().filter(|f| f.is_violation()).count(),
        report.findings.iter().filter(|f| !f.is_violation()).count()
    );
    if !report.findings.is_empty() {
        html.push_str(
            "<table><tr><th>property</th><th>kind</th><th>vantage point</th><th>what happened</th><th>scenario</th></tr>",
        );
        for finding in &report.findings {
            let scenario = report
                .scenario_of(&finding.scenario)
                .map_or_else(String::new, |s| s.failure_location());
            let _ = write!(
                html,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if finding.is_violation() {
                    "fail"
                } else {
                    "inconclusive"
                },
                finding.property.tag(),
                if finding.is_violation() {
                    "violation"
                } else {
                    "note"
                },
                finding.vantage,
                escape(&finding.what),
                escape(&scenario)
            );
        }
        html.push_str("</table>");
    }
    let warned: Vec<_> = report.scope_warnings().collect();
    if !warned.is_empty() {
        html.push_str(
            "<h3>Scope warnings (not failures; <code>--strict-scope</code> makes them so)</h3><ul>",
        );
        for (scenario, why) in warned {
            let _ = write!(
                html,
                "<li>{} — {}</li>",
                escape(&scenario.location()),
                escape(why)
            );
        }
        html.push_str("</ul>");
    }
    html
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Failure anchors: one per failed scenario, in report order.
fn anchor(index: usize) -> String {
    format!("failure-{index}")
}

/// The page's head and headline: the run's verdict, its reason and exit code, the policy as the
/// user named it, and the summary line.
fn headline(report: &SuiteReport) -> String {
    let outcome = &report.outcome;
    let verdict = outcome.verdict.to_string().to_uppercase();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>proxy-conformance: {verdict}\
         </title><style>{STYLE}</style></head><body><h1 class=\"{}\">proxy-conformance: {verdict}</h1>\
         <p class=\"reason\">{} (exit {})</p><p>Policy <code>{}</code> on {}. {}</p>",
        match outcome.verdict {
            crate::Verdict::LabFault => "lab".to_owned(),
            verdict => verdict.to_string(),
        },
        escape(&outcome.reason),
        outcome.exit_code,
        escape(&display_path(&report.policy)),
        escape(&report.proxy),
        escape(&report.summary())
    )
}

pub fn render(report: &SuiteReport) -> String {
    let failed: Vec<&ScenarioOutcome> = report.failed().collect();
    let mut page = headline(report);
    page.push_str(&caveats(report));
    page.push_str(&lab_health(report));
    for error in &report.parse_errors {
        let _ = write!(
            page,
            "<p class=\"failed\">Parse error: {}</p>",
            escape(error)
        );
    }
    page.push_str(&properties(report));
    page.push_str(&invariants(report));
    page.push_str(&vantage_points(report));
    page.push_str(&drawn_hosts(report));
    page.push_str(&matrix(report, &failed));
    if !failed.is_empty() {
        page.push_str("<h2>Failures</h2>");
    }
    for (index, outcome) in failed.iter().enumerate() {
        let _ = write!(
            page,
            "<div class=\"failed\" id=\"{}\"><h3>{}</h3><p>{} {}</p>",
            anchor(index),
            escape(&outcome.location()),
            escape(&outcome.tags.join(" ")),
            escape(&outcome.hosts.join(", "))
        );
        if let Some(step) = &outcome.failed_step {
            let _ = write!(
                page,
                "<p>Failed step, line {}: <code>{}</code></p><pre>{}</pre>",
                step.line,
                escape(&step.text),
                escape(&step.message)
            );
        }
        page.push_str("</div>");
    }
    page.push_str(
        "<h2>All scenarios</h2><table><tr><th>result</th><th>scenario</th><th>tags</th></tr>",
    );
    for outcome in &report.scenarios {
        let _ = write!(
            page,
            "<tr><td class=\"{}\">{}</td><td style=\"text-align:left\">{} ({})</td><td>{}</td></tr>",
            match outcome.state {
                ScenarioState::Passed => "pass",
                ScenarioState::Failed => "fail",
                ScenarioState::NotObservable(_) => "inconclusive",
                ScenarioState::ScopeWarning(_) => "inconclusive",
                ScenarioState::LabFault(_) => "lab",
            },
            match &outcome.state {
                ScenarioState::Passed => "passed".to_owned(),
                ScenarioState::Failed => "FAILED".to_owned(),
                ScenarioState::NotObservable(why) => escape(&why.to_string()),
                ScenarioState::ScopeWarning(why) => escape(&format!("scope warning: {why}")),
                ScenarioState::LabFault(why) => escape(why),
            },
            escape(&outcome.failure_location()),
            escape(&outcome.scenario),
            escape(&outcome.tags.join(" "))
        );
    }
    page.push_str("</table></body></html>\n");
    page
}

/// Property × host: how many scenarios passed and failed in each cell; a failed cell links to
/// its first failure. Control hosts are marked; scenarios naming no host go under "other".
fn matrix(report: &SuiteReport, failed: &[&ScenarioOutcome]) -> String {
    let mut hosts: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(&str, String), (usize, usize, Option<usize>)> = BTreeMap::new();
    for outcome in &report.scenarios {
        let names = if outcome.hosts.is_empty() {
            vec!["other".to_owned()]
        } else {
            outcome.hosts.clone()
        };
        for host in names {
            if !hosts.contains(&host) {
                hosts.push(host.clone());
            }
            for property in outcome.properties() {
                let cell = cells.entry((property, host.clone())).or_default();
                if outcome.passed() {
                    cell.0 += 1;
                } else if outcome.failed() {
                    cell.1 += 1;
                    if cell.2.is_none() {
                        cell.2 = failed.iter().position(|f| std::ptr::eq(*f, outcome));
                    }
                }
            }
        }
    }
    let is_control = |h: &str| conformance_model::CONTROL_HOSTS.contains(&h);
    hosts.sort_by(|a, b| {
        is_control(a)
            .cmp(&is_control(b))
            .then_with(|| natural_order(a, b))
    });
    let mut html = String::from(
        "<h2>Property × host</h2><div class=\"matrix\"><table><thead><tr><th class=\"property\"></th>",
    );
    for host in &hosts {
        let control = is_control(host);
        let drawn = drawn_name(report, host).map_or_else(String::new, |name| {
            format!(" <small>{}</small>", escape(name))
        });
        let _ = write!(
            html,
            "<th class=\"host{}\" title=\"{}\">{}{drawn}{}</th>",
            if control { " control" } else { "" },
            escape(host),
            escape(host),
            if control { " (control)" } else { "" }
        );
    }
    html.push_str("</tr></thead><tbody>");
    for property in PROPERTY_TAGS {
        let _ = write!(html, "<tr><th class=\"property\">{property}</th>");
        for host in &hosts {
            match cells.get(&(*property, host.clone())) {
                None => html.push_str("<td class=\"none\">·</td>"),
                Some((passed, 0, _)) => {
                    let _ = write!(html, "<td class=\"pass\">✔ {passed}</td>");
                }
                Some((passed, failed, first)) => {
                    let link = first.map_or_else(String::new, anchor);
                    let _ = write!(
                        html,
                        "<td class=\"fail\"><a href=\"#{link}\">✘ {failed}</a> / {}</td>",
                        passed + failed
                    );
                }
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

/// The name this run drew for a host as scenarios write it (`look-alike 3`,
/// `*.dl.delivery.mp.microsoft.com, deep`); `None` for a name taken as written.
fn drawn_name<'a>(report: &'a SuiteReport, reference: &str) -> Option<&'a str> {
    let names_of = |pattern: &str| {
        report
            .drawn_hosts
            .iter()
            .find(|(drawn_for, _)| drawn_for == pattern)
            .map(|(_, names)| names)
    };
    let name = match conformance_model::parse_host_reference(reference).ok()? {
        conformance_model::HostReference::LookAlike(n) => names_of("look-alikes")?.get(n - 1)?,
        conformance_model::HostReference::Drawn { pattern, deep } => {
            let names = names_of(pattern)?;
            names.get(usize::from(deep).min(names.len().saturating_sub(1)))?
        }
        conformance_model::HostReference::Exact(_) => return None,
    };
    Some(name)
}

/// Text order with runs of digits compared as numbers: `look-alike 2` before `look-alike 10`.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(text: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices().skip(1) {
            let before = text[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_digit());
            if before != c.is_ascii_digit() {
                out.push((before, &text[start..i]));
                start = i;
            }
        }
        if !text.is_empty() {
            let digits = text[start..].starts_with(|c: char| c.is_ascii_digit());
            out.push((digits, &text[start..]));
        }
        out
    }
    let number = |digits: &str| digits.trim_start_matches('0').len();
    for (x, y) in chunks(a).into_iter().zip(chunks(b)) {
        let order = match (x, y) {
            ((true, x), (true, y)) => number(x)
                .cmp(&number(y))
                .then_with(|| x.trim_start_matches('0').cmp(y.trim_start_matches('0'))),
            ((_, x), (_, y)) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    chunks(a).len().cmp(&chunks(b).len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::passing_run;

    #[test]
    fn numbered_names_sort_as_numbers() {
        let mut names = vec![
            "look-alike 10",
            "look-alike 2",
            "look-alike 1",
            "a",
            "look-alike 11",
        ];
        names.sort_by(|a, b| natural_order(a, b));
        assert_eq!(
            names,
            [
                "a",
                "look-alike 1",
                "look-alike 2",
                "look-alike 10",
                "look-alike 11"
            ]
        );
    }

    #[test]
    fn the_matrix_scrolls_under_a_sticky_header_and_names_the_hosts_the_run_drew() {
        let mut run = passing_run();
        run.drawn_hosts = vec![
            (
                "*.dl.delivery.mp.microsoft.com".into(),
                vec![
                    "k3x9.dl.delivery.mp.microsoft.com".into(),
                    "a.b.dl.delivery.mp.microsoft.com".into(),
                ],
            ),
            (
                "look-alikes".into(),
                vec![
                    "update.microsoft.com.evil.example".into(),
                    "windowsupdate-com.example".into(),
                ],
            ),
        ];
        run.scenarios[0].hosts = vec![
            "look-alike 2".into(),
            "*.dl.delivery.mp.microsoft.com, deep".into(),
        ];
        let page = render(&run);
        assert!(
            page.contains("<div class=\"matrix\"><table><thead>"),
            "{page}"
        );
        assert!(page.contains("position:sticky;top:0"));
        assert!(page.contains("th.property{position:sticky;left:0"));
        assert!(
            page.contains("look-alike 2 <small>windowsupdate-com.example</small>"),
            "{page}"
        );
        assert!(
            page.contains("deep <small>a.b.dl.delivery.mp.microsoft.com</small>"),
            "{page}"
        );
    }
}
