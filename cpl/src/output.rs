//! Machine-readable lint output: JSON (one object per finding) and SARIF 2.1.0, which code
//! scanning views (GitHub, GitLab, Azure DevOps) show inline on the policy's lines.

use serde_json::{json, Value};

use crate::diagnostic::{Diagnostic, Severity};

fn level(diagnostic: &Diagnostic) -> &'static str {
    match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn finding(diagnostic: &Diagnostic) -> Value {
    let location = diagnostic.primary.as_ref().map(|label| {
        json!({ "line": label.span.line, "column": label.span.column, "label": label.text })
    });
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .map(|l| json!({ "line": l.span.line, "column": l.span.column, "label": l.text }))
        .collect();
    json!({
        "severity": level(diagnostic),
        "code": diagnostic.code,
        "message": diagnostic.message,
        "file": diagnostic.file,
        "location": location,
        "related": related,
        "notes": diagnostic.notes,
        "help": diagnostic.help,
    })
}

/// `{"findings": [...], "errors": n, "warnings": n}`, pretty-printed, with a final newline.
pub fn to_json(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let value = json!({
        "findings": diagnostics.iter().map(finding).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": diagnostics.len() - errors,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

/// A SARIF 2.1.0 log with one run of the `cpl` tool.
pub fn to_sarif(diagnostics: &[Diagnostic]) -> String {
    let mut rules: Vec<&'static str> = diagnostics.iter().map(|d| d.code).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let mut text = diagnostic.message.clone();
            for note in &diagnostic.notes {
                text.push_str(&format!("\nnote: {note}"));
            }
            for help in &diagnostic.help {
                text.push_str(&format!("\nhelp: {help}"));
            }
            let region = diagnostic.primary.as_ref().map_or_else(
                || json!({ "startLine": 1 }),
                |label| json!({ "startLine": label.span.line, "startColumn": label.span.column }),
            );
            json!({
                "ruleId": diagnostic.code,
                "level": level(diagnostic),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": diagnostic.file },
                        "region": region,
                    }
                }],
            })
        })
        .collect();
    let value = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cpl",
                "rules": rules.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}
