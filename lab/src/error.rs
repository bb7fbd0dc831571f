//! Why a lab (or the harness side of external mode) did not start, one variant per outcome a
//! caller maps to its own exit code.

/// Why a lab did not start; each kind maps to its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    PolicyRejected(String),
    #[error("{0}")]
    CouldNotStart(String),
    /// An option of external mode is unusable (a proxy URL, a CA file).
    #[error("{0}")]
    Usage(String),
    /// Nothing answers at the proxy's address (external mode).
    #[error("{0}")]
    ProxyUnreachable(String),
    /// The proxy answers, but its requests never reach the harness (external mode).
    #[error("{0}")]
    ProxyCannotReachHarness(String),
}
