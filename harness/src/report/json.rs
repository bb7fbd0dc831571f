//! Cucumber JSON, as cucumber-rs writes it, with the tag names the schema expects.

use std::path::Path;

use crate::error::SuiteError;
use crate::report::file::write_report;

/// cucumber-rs writes tag names without their `@`; the Cucumber JSON schema and the tools
/// that read it expect `{"name": "@auth"}`.
pub(crate) fn add_at_to_tags(path: &Path) -> Result<(), SuiteError> {
    fn fix(value: &mut serde_json::Value) {
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
                map.values_mut().for_each(fix);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(fix),
            _ => {}
        }
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        SuiteError::Usage(format!("cannot rewrite {}: {e}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| unreadable(&e))?;
    fix(&mut json);
    let text = serde_json::to_string_pretty(&json).map_err(|e| unreadable(&e))?;
    write_report(path, &text)
}
