//! Writing a load result: pretty JSON (read back by `load --merge`) and the HTML page.

use std::path::Path;

use crate::error::LoadError;
use crate::model::LoadReport;

/// Writes the JSON and HTML reports that were asked for.
pub fn write_reports(
    report: &LoadReport,
    json: Option<&Path>,
    html: Option<&Path>,
) -> Result<(), LoadError> {
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(report)
            .map_err(|e| LoadError::Environment(format!("cannot encode the result: {e}")))?;
        write(path, &text)?;
    }
    if let Some(path) = html {
        write(path, &crate::html::render(report))?;
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), LoadError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            LoadError::Environment(format!("cannot create {}: {e}", parent.display()))
        })?;
    }
    std::fs::write(path, text)
        .map_err(|e| LoadError::Environment(format!("cannot write {}: {e}", path.display())))
}
