//! Why a run produced no verdict. Each variant is one outcome for the command line, which maps
//! it to its exit code; callers decide by variant, never by an error's text.

use crate::interrupt::Signal;

/// Why a run did not produce a report; each maps to a documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Lab(String),
    /// The harness's own environment failed it (a temporary folder, a bundled file).
    #[error("{0}")]
    Environment(String),
    #[error("interrupted by {0}: the lab was removed")]
    Interrupted(Signal),
}

impl SuiteError {
    /// The same error, its message prefixed with which run of a comparison it came from
    /// (`the baseline: …`).
    pub fn in_run(self, run: &str) -> Self {
        match self {
            Self::Usage(m) => Self::Usage(format!("{run}: {m}")),
            Self::Rejected(m) => Self::Rejected(format!("{run}: {m}")),
            Self::Lab(m) => Self::Lab(format!("{run}: {m}")),
            Self::Environment(m) => Self::Environment(format!("{run}: {m}")),
            interrupted @ Self::Interrupted(_) => interrupted,
        }
    }
}
