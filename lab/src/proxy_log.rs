//! The access log of the proxy under test, read per scenario and turned into neutral facts by
//! its backend. The log only grows during a run and every check polls it, so it is read
//! incrementally: each read parses only the complete lines appended since the last one.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::backend::ProxyBackend;
use crate::facts::ProxyFact;

/// The log a running proxy writes into a directory the harness shares with it.
#[derive(Debug, Clone)]
pub struct ProxyLog {
    path: PathBuf,
    backend: &'static dyn ProxyBackend,
    parsed: Arc<Mutex<ParsedLog>>,
}

/// What has been read of the log so far: the byte offset just past the last complete line,
/// and the facts of the lines before it.
#[derive(Debug, Default)]
struct ParsedLog {
    offset: u64,
    facts: Vec<ProxyFact>,
}

impl ProxyLog {
    pub(crate) fn new(path: PathBuf, backend: &'static dyn ProxyBackend) -> Self {
        Self {
            path,
            backend,
            parsed: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The facts of every request the proxy logged so far, in order.
    pub fn facts(&self) -> Vec<ProxyFact> {
        self.with_facts(|facts| facts.to_vec())
    }

    /// The facts of every request of `scenario`: its header value, or a URL containing it.
    pub fn facts_for(&self, scenario: &str) -> Vec<ProxyFact> {
        self.with_facts(|facts| {
            facts
                .iter()
                .filter(|fact| {
                    fact.scenario.as_deref() == Some(scenario) || fact.url.contains(scenario)
                })
                .cloned()
                .collect()
        })
    }

    /// Reads what was appended since the last read, then hands every fact so far to `view`.
    fn with_facts<T>(&self, view: impl FnOnce(&[ProxyFact]) -> T) -> T {
        let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        self.read_appended(&mut parsed);
        view(&parsed.facts)
    }

    /// Parses the complete lines written after `parsed.offset`; a line still being written
    /// waits for the next read. A log that shrank (rewritten) is read again from the start.
    fn read_appended(&self, parsed: &mut ParsedLog) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        let length = file.metadata().map_or(0, |m| m.len());
        if length < parsed.offset {
            *parsed = ParsedLog::default();
        }
        if length == parsed.offset || file.seek(SeekFrom::Start(parsed.offset)).is_err() {
            return;
        }
        let mut appended = Vec::new();
        if file.read_to_end(&mut appended).is_err() {
            return;
        }
        let Some(end) = appended.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete = String::from_utf8_lossy(&appended[..=end]);
        parsed.facts.extend(
            complete
                .lines()
                .filter_map(|line| self.backend.parse_log_line(line)),
        );
        parsed.offset += end as u64 + 1;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::squid::SQUID_5_7;

    const LINE: &str = "1700000000.123 5 172.18.0.1 TCP_MISS/200 4521 GET http://a.example/x - HIER_DIRECT/1.2.3.4 - bump=- sni=- range=\"-\" content_range=\"-\" adapt=\"-\" err=-/- scenario=s-1";

    #[test]
    fn reads_only_complete_lines_and_then_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = ProxyLog::new(path.clone(), &SQUID_5_7);
        assert!(log.facts().is_empty(), "a log not yet written has no facts");
        let mut file = std::fs::File::create(&path).unwrap();
        write!(file, "{LINE}\n{}", &LINE[..40]).unwrap();
        assert_eq!(log.facts().len(), 1, "the half-written line waits");
        writeln!(file, "{}", &LINE[40..]).unwrap();
        assert_eq!(log.facts().len(), 2);
        assert_eq!(log.facts_for("s-1").len(), 2);
        assert!(log.facts_for("s-2").is_empty());
    }

    #[test]
    fn a_rewritten_log_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let log = ProxyLog::new(path.clone(), &SQUID_5_7);
        std::fs::write(&path, format!("{LINE}\n{LINE}\n")).unwrap();
        assert_eq!(log.facts().len(), 2);
        std::fs::write(&path, format!("{LINE}\n")).unwrap();
        assert_eq!(log.facts().len(), 1);
    }
}
