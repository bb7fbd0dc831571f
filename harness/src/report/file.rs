//! Where reports go: files whose folders are created on demand, or nowhere.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::SuiteError;

pub(crate) fn write_report(path: &Path, text: &str) -> Result<(), SuiteError> {
    create_parent(path)?;
    std::fs::write(path, text)
        .map_err(|e| SuiteError::Usage(format!("cannot write {}: {e}", path.display())))
}

fn create_parent(path: &Path) -> Result<(), SuiteError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| SuiteError::Usage(format!("cannot create {}: {e}", parent.display()))),
        None => Ok(()),
    }
}

pub(crate) fn report_file(path: Option<&PathBuf>) -> Result<Box<dyn Write>, SuiteError> {
    match path {
        Some(path) => create_parent(path)
            .and_then(|()| {
                File::create(path)
                    .map_err(|e| SuiteError::Usage(format!("cannot write {}: {e}", path.display())))
            })
            .map(|f| Box::new(f) as Box<dyn Write>),
        None => Ok(Box::new(std::io::sink())),
    }
}
