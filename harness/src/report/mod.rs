//! The reports of a run, each rendered from the run model: the console summary with every
//! failure's evidence, Cucumber JSON, JUnit XML and one HTML page. The command line chooses
//! which to write.

pub mod comparison;
pub mod console;
mod file;
pub mod html;
pub(crate) mod json;
pub(crate) mod junit;

pub(crate) use file::{report_file, write_report};
