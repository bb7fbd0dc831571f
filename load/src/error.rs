//! Why a load run produced no report. Each variant is one outcome for the command line, which
//! maps it to its exit code by variant, never by text.

use conformance_harness::Signal;

/// Why `load` (or `load --merge`) ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A bad option: nothing ran.
    #[error("{0}")]
    Usage(String),
    /// `--proxy` was given but this build's lab cannot put an external proxy under test yet.
    #[error(
        "external mode is not available yet: this build's lab cannot put the proxy at {0} under \
         test (no external-mode API); run against the lab's Squid with --policy or --cpl"
    )]
    ExternalModeUnavailable(String),
    /// A policy (or CPL file) that cannot be read, translated or that breaks the lab contract.
    #[error("{0}")]
    Rejected(String),
    /// The lab could not start.
    #[error("{0}")]
    Lab(String),
    /// The harness's own environment: a temporary folder, a report that cannot be written, a
    /// result file that cannot be read for `--merge`.
    #[error("{0}")]
    Environment(String),
    #[error("interrupted by {0}: the lab was removed")]
    Interrupted(Signal),
}
