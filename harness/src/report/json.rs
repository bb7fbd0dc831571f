//! Cucumber JSON, as cucumber-rs writes it, with the tag names the schema expects, each
//! feature's `uri` as the repository names it (`features/auth.feature`, not the temporary
//! folder the bundled suite is written to), a run whose lab broke marked as such, and a
//! feature `verdicts` whose scenarios are each property's verdict and the run's: failed for a
//! fail or an inconclusive result (with the reason), so no tool reads those as a pass.

use std::path::Path;

use crate::error::SuiteError;
use crate::model::SuiteReport;
use crate::report::file::write_report;
use crate::verdict::Verdict;

/// The file as cucumber-rs wrote it, rewritten as the module header says.
pub(crate) fn rewrite(path: &Path, report: &SuiteReport) -> Result<(), SuiteError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        SuiteError::Usage(format!("cannot rewrite {}: {e}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| unreadable(&e))?;
    add_at_to_tags(&mut json);
    stable_uris(&mut json);
    if !report.lab.faults.is_empty() {
        mark(&mut json, report);
    }
    add_verdicts(&mut json, report);
    let text = serde_json::to_string_pretty(&json).map_err(|e| unreadable(&e))?;
    write_report(path, &text)
}

/// cucumber-rs writes tag names without their `@`; the Cucumber JSON schema and the tools
/// that read it expect `{"name": "@auth"}`.
fn add_at_to_tags(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(tags)) = map.get_mut("tags") {
                for tag in tags.iter_mut() {
                    if let Some(serde_json::Value::String(name)) = tag.get_mut("name") {
                        if !name.starts_with('@') {
                            name.insert(0, '@');
                        }
                    }
                }
            }
            map.values_mut().for_each(add_at_to_tags);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(add_at_to_tags),
        _ => {}
    }
}

/// Each feature's `uri` as the reports name the file (`display_path`: relative to the bundled
/// suite's folder or to the working directory).
fn stable_uris(json: &mut serde_json::Value) {
    for feature in json.as_array_mut().into_iter().flatten() {
        if let Some(serde_json::Value::String(uri)) = feature.get_mut("uri") {
            let written = Path::new(uri.as_str());
            // cucumber-rs may drop the leading `/` of an absolute path.
            let rooted = Path::new("/").join(written);
            let path = if written.exists() || !rooted.exists() {
                written
            } else {
                rooted.as_path()
            };
            *uri = conformance_lab::display_path(path);
        }
    }
}

/// The feature `verdicts`: a scenario per property and one for the run.
pub(super) fn add_verdicts(json: &mut serde_json::Value, report: &SuiteReport) {
    let Some(features) = json.as_array_mut() else {
        return;
    };
    // A verdict as a scenario of one step: passed with `message` as the step's output for a
    // pass, failed with `message` otherwise.
    let element = |id: String, name: String, verdict: Verdict, message: String| {
        let mut step = serde_json::json!({
            "keyword": "Then ",
            "name": format!("{name} is {}", verdict.to_string().to_uppercase()),
            "line": 0,
        });
        if verdict == Verdict::Pass {
            step["result"] = serde_json::json!({"status": "passed"});
            step["output"] = serde_json::json!([message]);
        } else {
            step["result"] = serde_json::json!({"status": "failed", "error_message": message});
        }
        serde_json::json!({
            "id": id,
            "keyword": "Verdict",
            "type": "scenario",
            "name": name,
            "line": 0,
            "tags": [],
            "steps": [step]
        })
    };
    let mut elements: Vec<serde_json::Value> = report
        .properties()
        .iter()
        .map(|p| {
            element(
                format!("verdict-{}", p.property.tag().trim_start_matches('@')),
                p.property.tag().to_owned(),
                p.verdict,
                format!("{}: {}", p.verdict.to_string().to_uppercase(), p.why),
            )
        })
        .collect();
    elements.push(element(
        "verdict-run".into(),
        "the run".into(),
        report.verdict(),
        report.summary(),
    ));
    features.push(serde_json::json!({
        "uri": "verdicts",
        "keyword": "Verdicts",
        "name": "verdicts",
        "tags": [],
        "elements": elements
    }));
}

/// A run whose lab broke: each step that failed in a scenario the lab's fault left unjudged
/// becomes `skipped` with the reason first in its message (the failure is the lab's, not the
/// policy's), and a feature "lab health" is added whose one step failed with the sentence that
/// names what failed and when.
fn mark(json: &mut serde_json::Value, report: &SuiteReport) {
    fn skip_failed(value: &mut serde_json::Value, why: &str) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(result)) = map.get_mut("result") {
                    if result.get("status").and_then(|s| s.as_str()) == Some("failed") {
                        let was = result
                            .get("error_message")
                            .and_then(|m| m.as_str())
                            .unwrap_or_default()
                            .to_owned();
                        result.insert("status".into(), "skipped".into());
                        result.insert("error_message".into(), format!("{why}\n{was}").into());
                    }
                }
                map.values_mut().for_each(|v| skip_failed(v, why));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| skip_failed(v, why)),
            _ => {}
        }
    }
    let Some(features) = json.as_array_mut() else {
        return;
    };
    for feature in features.iter_mut() {
        let uri = feature["uri"].as_str().unwrap_or_default().to_owned();
        let Some(elements) = feature["elements"].as_array_mut() else {
            continue;
        };
        for element in elements {
            let line = element["line"].as_u64().unwrap_or_default();
            let why = report
                .unjudged_by_lab()
                .find(|s| s.line as u64 == line && uri.ends_with(&s.feature))
                .and_then(|s| s.lab_fault());
            if let Some(why) = why {
                skip_failed(element, why);
            }
        }
    }
    let mut details = report.summary();
    for fault in &report.lab.faults {
        details.push_str(&format!(
            "\n{:.1} s after the lab was ready: {fault}",
            report.lab.seconds_after_ready(fault.at)
        ));
        for line in &fault.proxy_log {
            details.push_str(&format!("\n  | {line}"));
        }
    }
    features.push(serde_json::json!({
        "uri": "lab",
        "keyword": "Lab",
        "name": "lab health",
        "tags": [],
        "elements": [{
            "id": "lab-health",
            "keyword": "Check",
            "type": "scenario",
            "name": "the lab stayed healthy during the run",
            "line": 0,
            "tags": [],
            "steps": [{
                "keyword": "Then ",
                "name": "the lab stayed healthy during the run",
                "line": 0,
                "result": {"status": "failed", "error_message": details}
            }]
        }]
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{failed, report_with, unjudged};

    #[test]
    fn unjudged_failures_are_skipped_and_the_lab_is_a_failed_feature_of_its_own() {
        let mut json = serde_json::json!([{
            "uri": "tmp/b/features/x.feature",
            "elements": [
                {"line": 10, "steps": [{"result": {"status": "failed", "error_message": "refused"}}]},
                {"line": 11, "steps": [{"result": {"status": "failed", "error_message": "407"}}]}
            ]
        }]);
        let report = report_with(vec![
            unjudged("features/x.feature", 10),
            failed("features/x.feature", 11),
        ]);
        mark(&mut json, &report);
        let result = |feature: usize, element: usize| {
            json[feature]["elements"][element]["steps"][0]["result"].clone()
        };
        assert_eq!(result(0, 0)["status"], "skipped");
        assert!(result(0, 0)["error_message"]
            .as_str()
            .unwrap()
            .starts_with("not judged because of the lab"));
        assert_eq!(result(0, 1)["status"], "failed");
        assert_eq!(json[1]["name"], "lab health");
        assert!(result(1, 0)["error_message"].as_str().unwrap().starts_with(
            "LAB FAULT: the proxy under test's container was killed (signal 9), 3.5 s"
        ));
    }

    #[test]
    fn feature_uris_are_named_as_the_repository_names_them_not_by_the_bundles_folder() {
        let bundle = tempfile::tempdir().unwrap();
        let feature = bundle.path().join("features/auth.feature");
        std::fs::create_dir_all(feature.parent().unwrap()).unwrap();
        std::fs::write(&feature, "Feature: f").unwrap();
        conformance_lab::show_relative_to(bundle.path());
        let absolute = feature.display().to_string();
        let without_root = absolute.trim_start_matches('/').to_owned();
        let mut json = serde_json::json!([{"uri": absolute}, {"uri": without_root}]);
        stable_uris(&mut json);
        assert_eq!(json[0]["uri"], "features/auth.feature");
        assert_eq!(json[1]["uri"], "features/auth.feature");
    }
}
