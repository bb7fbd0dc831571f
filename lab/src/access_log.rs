//! The proxy's access log, written by Squid in the lab's evidence format into a directory
//! the harness shares with the container, read per scenario.

use std::fmt;
use std::path::PathBuf;

/// The access log of one lab.
#[derive(Debug, Clone)]
pub struct AccessLog {
    path: PathBuf,
}

/// One access-log line in the evidence format (see the preamble's `logformat`).
#[derive(Debug, Clone)]
pub struct AccessLogLine {
    pub raw: String,
}

impl AccessLogLine {
    /// `%Ss`, e.g. `TCP_MISS`, `TCP_TUNNEL`, `TCP_MEM_HIT`, `TCP_DENIED`.
    pub fn squid_status(&self) -> &str {
        self.field(3).split('/').next().unwrap_or("")
    }

    /// The HTTP status sent to the client.
    pub fn http_status(&self) -> &str {
        self.field(3).split('/').nth(1).unwrap_or("")
    }

    pub fn method(&self) -> &str {
        self.field(5)
    }

    pub fn url(&self) -> &str {
        self.field(6)
    }

    /// The authenticated user, `-` when none.
    pub fn user(&self) -> &str {
        self.field(7)
    }

    /// A `key=value` field of the evidence format (`bump`, `sni`, `scenario`, `adapt` …).
    pub fn value(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}=");
        self.raw
            .split_whitespace()
            .find_map(|f| f.strip_prefix(&prefix))
            .map(|v| v.trim_matches('"'))
    }

    pub fn is_hit(&self) -> bool {
        self.squid_status().contains("HIT")
    }

    fn field(&self, index: usize) -> &str {
        self.raw.split_whitespace().nth(index).unwrap_or("")
    }
}

impl fmt::Display for AccessLogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl AccessLog {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Lines of `scenario` (its header value) or whose URL contains it.
    pub fn lines_for(&self, scenario: &str) -> Vec<AccessLogLine> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines()
            .map(|raw| AccessLogLine {
                raw: raw.to_owned(),
            })
            .filter(|line| {
                line.value("scenario") == Some(scenario) || line.url().contains(scenario)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_evidence_format() {
        let line = AccessLogLine {
            raw: "1700000000.123 5 172.18.0.1 TCP_TUNNEL/200 4521 CONNECT fe2.update.microsoft.com:443 - HIER_DIRECT/172.18.0.2 - bump=splice sni=fe2.update.microsoft.com range=\"-\" content_range=\"-\" adapt=\"-\" err=-/- scenario=s-1".into(),
        };
        assert_eq!(line.squid_status(), "TCP_TUNNEL");
        assert_eq!(line.http_status(), "200");
        assert_eq!(line.method(), "CONNECT");
        assert_eq!(line.user(), "-");
        assert_eq!(line.value("bump"), Some("splice"));
        assert_eq!(line.value("scenario"), Some("s-1"));
        assert!(!line.is_hit());
    }
}
