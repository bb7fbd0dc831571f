//! The reports of a run, each rendered from the run model and its one outcome (verdict, exit
//! code, reason): the console summary with every failure's evidence, Cucumber JSON, JUnit XML,
//! the run's JSON report and one HTML page. The command line chooses which to write.

#[cfg(test)]
mod agreement;
pub mod comparison;
pub mod console;
mod file;
pub mod html;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod run_json;

pub(crate) use file::{report_file, write_report};
