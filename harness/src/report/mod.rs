//! The reports of a run, each rendered from the run model: the console summary with every
//! failure's evidence, Cucumber JSON, JUnit XML and one HTML page. The command line chooses
//! which to write.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::SuiteError;

pub mod console;
pub mod html;
pub(crate) mod json;

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
