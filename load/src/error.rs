//! Why a load run produced no report. Each variant is one outcome for the command line, which
//! maps it to its exit code by variant, never by text.

use conformance_harness::Signal;

/// Why `load` (or `load --merge`) ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A bad option: nothing ran.
    #[error("{0}")]
    Usage(String),
    /// A policy (or CPL file) that cannot be read, translated or that breaks the lab contract.
    #[error("{0}")]
    Rejected(String),
    /// The lab could not start; in external mode, the proxy cannot be reached or cannot reach
    /// the harness's side.
    #[error("{0}")]
    Lab(String),
    /// The harness's own environment: a temporary folder, a report that cannot be written, a
    /// result file that cannot be read for `--merge`.
    #[error("{0}")]
    Environment(String),
    #[error("interrupted by {0}: the lab was removed")]
    Interrupted(Signal),
}
