//! JUnit XML, as cucumber-rs writes it, with a run whose lab broke marked as such: each
//! scenario the lab's fault left unjudged becomes `<skipped>` with the reason (its failure, if
//! it had one, is the lab's, not the policy's), and a test suite "lab health" holds one
//! `<error>` — JUnit's word for a harness error, apart from test failures — naming what failed
//! and when, with the proxy's last log lines. A run whose lab stayed healthy is left as written.

use std::path::Path;

use crate::error::SuiteError;
use crate::model::SuiteReport;
use crate::report::file::write_report;

pub(crate) fn mark_lab_fault(path: &Path, report: &SuiteReport) -> Result<(), SuiteError> {
    if report.lab.faults.is_empty() {
        return Ok(());
    }
    let xml = std::fs::read_to_string(path)
        .map_err(|e| SuiteError::Usage(format!("cannot rewrite {}: {e}", path.display())))?;
    write_report(path, &rewrite(&xml, report))
}

/// The rewritten document.
pub(crate) fn rewrite(xml: &str, report: &SuiteReport) -> String {
    let unjudged = |name: &str| -> Option<&str> {
        let (head, _column) = name.rsplit_once(':')?;
        let (head, line) = head.rsplit_once(':')?;
        let path = head.rsplit_once(": ").map_or(head, |(_, path)| path);
        let line: usize = line.parse().ok()?;
        report
            .unjudged_by_lab()
            .find(|s| s.line == line && path.ends_with(&s.feature))
            .and_then(|s| s.lab_fault())
    };
    let mut out = String::with_capacity(xml.len() + 1024);
    let mut rest = xml;
    while let Some(start) = rest.find("<testcase ") {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(open_end) = rest.find('>').map(|i| i + 1) else {
            break;
        };
        let open = &rest[..open_end];
        let end = if open.ends_with("/>") {
            open_end
        } else {
            rest.find("</testcase>")
                .map_or(rest.len(), |i| i + "</testcase>".len())
        };
        let case = &rest[..end];
        match attribute(open, "name").and_then(|name| unjudged(&unescape(&name))) {
            Some(why) => out.push_str(&skipped(case, open, why)),
            None => out.push_str(case),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    let out = recount(&out);
    let suite = lab_suite(report);
    match out.rfind("</testsuites>") {
        Some(at) => format!("{}{suite}{}", &out[..at], &out[at..]),
        None => format!("{out}{suite}"),
    }
}

/// The test case with its failure or error removed and a `<skipped>` saying why.
fn skipped(case: &str, open: &str, why: &str) -> String {
    let body = if open.ends_with("/>") {
        ""
    } else {
        &case[open.len()..case.len() - "</testcase>".len()]
    };
    let body = remove_element(&remove_element(body, "failure"), "error");
    format!(
        "{}><skipped message=\"{}\"/>{body}</testcase>",
        open.trim_end_matches("/>").trim_end_matches('>'),
        escape(why)
    )
}

/// `text` without its `<name …>…</name>` or `<name …/>` elements.
fn remove_element(text: &str, name: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let opening = format!("<{name}");
    let closing = format!("</{name}>");
    while let Some(start) = rest.find(&opening) {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let open_end = after.find('>').map_or(after.len(), |i| i + 1);
        let end = if after[..open_end].ends_with("/>") {
            open_end
        } else {
            after
                .find(&closing)
                .map_or(after.len(), |i| i + closing.len())
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Each test suite's `failures`, `errors` and `skipped` counts, as its test cases now say.
fn recount(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<testsuite ") {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let open_end = rest.find('>').map_or(rest.len(), |i| i + 1);
        let end = rest.find("</testsuite>").unwrap_or(rest.len());
        let body = &rest[open_end.min(end)..end];
        let mut open = rest[..open_end].to_owned();
        for (name, element) in [
            ("failures", "<failure"),
            ("errors", "<error"),
            ("skipped", "<skipped"),
        ] {
            open = set_attribute(&open, name, body.matches(element).count());
        }
        out.push_str(&open);
        out.push_str(body);
        rest = &rest[end..];
        if let Some(close) = rest.strip_prefix("</testsuite>") {
            out.push_str("</testsuite>");
            rest = close;
        }
    }
    out.push_str(rest);
    out
}

fn set_attribute(open: &str, name: &str, value: usize) -> String {
    let key = format!(" {name}=\"");
    match open.find(&key) {
        Some(at) => {
            let value_start = at + key.len();
            let value_end = open[value_start..]
                .find('"')
                .map_or(open.len(), |i| value_start + i);
            format!("{}{value}{}", &open[..value_start], &open[value_end..])
        }
        None => {
            let insert = open.trim_end_matches('>').len();
            format!("{} {name}=\"{value}\"{}", &open[..insert], &open[insert..])
        }
    }
}

/// The suite that carries the lab's fault as an error.
fn lab_suite(report: &SuiteReport) -> String {
    let sentence = report.summary();
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
    format!(
        "<testsuite name=\"lab health\" tests=\"1\" errors=\"1\" failures=\"0\" skipped=\"0\">\
         <testcase name=\"the lab stayed healthy during the run\" classname=\"lab\">\
         <error type=\"LabFault\" message=\"{}\">{}</error></testcase></testsuite>",
        escape(&sentence),
        escape(&details)
    )
}

/// The value of `name="…"` in an opening tag, still escaped.
fn attribute(open: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = open.find(&key)? + key.len();
    let end = open[start..].find('"')? + start;
    Some(open[start..end].to_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{report_with, unjudged};

    const WRITTEN: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites>\
<testsuite id=\"0\" name=\"Feature: f\" tests=\"3\" errors=\"0\" failures=\"2\">\
<testcase name=\"Scenario: a: tmp/b/features/x.feature:10:5\" time=\"0.1\"><failure type=\"Step Panicked\" message=\"refused\">boom</failure><system-out>a</system-out></testcase>\
<testcase name=\"Scenario: b: tmp/b/features/x.feature:11:5\" time=\"0.1\"><failure type=\"Step Panicked\" message=\"407\"/></testcase>\
<testcase name=\"Scenario: c: tmp/b/features/x.feature:12:5\" time=\"0.1\"/>\
</testsuite></testsuites>";

    #[test]
    fn unjudged_scenarios_are_skipped_the_lab_is_an_error_and_judged_failures_stand() {
        let report = report_with(vec![
            unjudged("features/x.feature", 10),
            crate::model::tests_support::failed("features/x.feature", 11),
            unjudged("features/x.feature", 12),
        ]);
        let xml = rewrite(WRITTEN, &report);
        assert_eq!(
            xml.matches("<skipped message=\"not judged").count(),
            2,
            "{xml}"
        );
        assert!(!xml.contains("boom"), "{xml}");
        assert!(xml.contains("message=\"407\""), "{xml}");
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("skipped=\"2\""), "{xml}");
        assert!(
            xml.contains("<error type=\"LabFault\" message=\"LAB FAULT: "),
            "{xml}"
        );
        assert!(xml.ends_with("</testsuite></testsuites>"), "{xml}");
    }
}
