//! Why one simulated machine did not finish its downloads, in the words an admin uses: the
//! proxy asked for credentials (407), refused (403), answered another error status, the
//! connection was reset, a request timed out, the bytes were wrong — or the run ended first.

use std::fmt;

/// The first thing that went wrong for a machine (it stops there, as an update client that
/// gives up on the job and retries later would).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// 407: the update client runs as SYSTEM and cannot answer it.
    ProxyAuthRequired,
    /// 403 from the proxy.
    Forbidden,
    /// Any other unexpected status (a 200 where a 206 was asked for counts as wrong bytes).
    Status(u16),
    /// The connection failed, was reset or closed before the response was complete.
    Reset,
    /// A request took longer than the request timeout.
    Timeout,
    /// Wrong length, wrong `Content-Range` or bytes that differ from the generated file.
    WrongBytes,
}

impl FailureKind {
    /// The key in reports: `407`, `403`, `http-502`, `reset`, `timeout`, `wrong-bytes`.
    pub fn label(self) -> String {
        match self {
            Self::ProxyAuthRequired => "407".into(),
            Self::Forbidden => "403".into(),
            Self::Status(status) => format!("http-{status}"),
            Self::Reset => "reset".into(),
            Self::Timeout => "timeout".into(),
            Self::WrongBytes => "wrong-bytes".into(),
        }
    }

    /// The kind of an unexpected status.
    pub fn of_status(status: u16) -> Self {
        match status {
            407 => Self::ProxyAuthRequired,
            403 => Self::Forbidden,
            other => Self::Status(other),
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// How a machine's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineEnd {
    /// Every file downloaded and verified.
    Done,
    Failed(FailureKind),
    /// The run's duration or byte budget ended first.
    Unfinished,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_get_their_kind_and_label() {
        assert_eq!(FailureKind::of_status(407).label(), "407");
        assert_eq!(FailureKind::of_status(403).label(), "403");
        assert_eq!(FailureKind::of_status(502).label(), "http-502");
        assert_eq!(FailureKind::WrongBytes.to_string(), "wrong-bytes");
    }
}
