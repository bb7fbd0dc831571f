//! Squid's access log in the lab's evidence format (see the preamble's `logformat`), written
//! into a directory the harness shares with the container, and how each line becomes a
//! neutral [`ProxyFact`].

use std::fmt;

use crate::facts::{CacheUse, ProxyFact};

/// One access-log line in the evidence format (see the preamble's `logformat`).
#[derive(Debug, Clone)]
pub struct AccessLogLine {
    pub raw: String,
}

impl AccessLogLine {
    /// A line of the evidence format; `None` for a blank or truncated line.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.split_whitespace().count() > 7).then(|| Self {
            raw: raw.to_owned(),
        })
    }

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

impl AccessLogLine {
    /// The neutral facts of this line.
    pub fn facts(&self) -> ProxyFact {
        let status = self.squid_status();
        let err = self.value("err").unwrap_or("-");
        let bump = self.value("bump").unwrap_or("-");
        let http_status = self.http_status().parse::<u16>().ok().filter(|s| *s != 0);
        let challenged = http_status == Some(407);
        let cache = if status.contains("HIT") {
            CacheUse::Hit
        } else if status.contains("REFRESH") || status.contains("REVALIDATED") {
            CacheUse::Revalidated
        } else {
            CacheUse::Miss
        };
        let dash_is_none = |value: Option<&str>| {
            value
                .filter(|v| !v.is_empty() && *v != "-")
                .map(str::to_owned)
        };
        ProxyFact {
            raw: self.raw.clone(),
            method: self.method().to_owned(),
            url: self.url().to_owned(),
            status: http_status,
            denied: !challenged && (status == "TCP_DENIED" || err.starts_with("ERR_ACCESS_DENIED")),
            challenged,
            cache,
            // Spliced without a peek: TCP_TUNNEL; spliced after a peek at the ClientHello:
            // NONE_NONE with bump=splice. Either way the proxy did not decrypt.
            tunnelled: self.method() == "CONNECT" && (status == "TCP_TUNNEL" || bump == "splice"),
            client_hello_inspected: self.value("sni").is_some_and(|sni| sni != "-"),
            bumped: matches!(bump, "bump" | "client-first" | "server-first"),
            adapted: self
                .value("adapt")
                .is_some_and(|a| !a.is_empty() && a != "-"),
            user: dash_is_none(Some(self.user())),
            scenario: dash_is_none(self.value("scenario")),
        }
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
        let facts = line.facts();
        assert!(facts.tunnelled && facts.client_hello_inspected && !facts.bumped);
        assert!(!facts.denied && !facts.challenged && facts.user.is_none());
        assert_eq!(facts.cache, CacheUse::Miss);
        assert_eq!(facts.scenario.as_deref(), Some("s-1"));
    }

    fn facts_of(middle: &str, tail: &str) -> ProxyFact {
        AccessLogLine {
            raw: format!("1700000000.123 5 172.18.0.1 {middle} {tail}"),
        }
        .facts()
    }

    #[test]
    fn neutral_facts_of_squid_statuses() {
        let tail = "bump=- sni=- range=\"-\" content_range=\"-\" adapt=\"-\" err=-/- scenario=s-2";
        let challenge = facts_of(
            "TCP_DENIED/407 3900 GET http://www.example.com/x - HIER_NONE/- text/html",
            tail,
        );
        assert!(challenge.challenged && !challenge.denied);
        let denied = facts_of(
            "TCP_DENIED/403 3900 GET http://www.example.com/x - HIER_NONE/- text/html",
            tail,
        );
        assert!(denied.denied && !denied.challenged);
        let hit = facts_of(
            "TCP_MEM_HIT/200 100 GET http://www.example.com/x conformance HIER_NONE/- text/html",
            tail,
        );
        assert_eq!(hit.cache, CacheUse::Hit);
        assert_eq!(hit.user.as_deref(), Some("conformance"));
        let refreshed = facts_of("TCP_REFRESH_UNMODIFIED/200 100 GET http://www.example.com/x - HIER_DIRECT/1.2.3.4 text/html", tail);
        assert_eq!(refreshed.cache, CacheUse::Revalidated);
        let adapted = facts_of(
            "TCP_MISS/200 100 GET http://www.example.com/x - HIER_DIRECT/1.2.3.4 text/html",
            "bump=- sni=- range=\"-\" content_range=\"-\" adapt=\"lab_respmod\" err=-/- scenario=s-2",
        );
        assert!(adapted.adapted);
        let bumped = facts_of(
            "TCP_MISS/200 100 GET https://fe2.update.microsoft.com/x - HIER_DIRECT/1.2.3.4 text/html",
            "bump=bump sni=fe2.update.microsoft.com range=\"-\" content_range=\"-\" adapt=\"-\" err=-/- scenario=s-2",
        );
        assert!(bumped.bumped && bumped.is_decrypted_request() && !bumped.tunnelled);
        assert!(bumped.concerns_host("fe2.update.microsoft.com"));
        assert!(!bumped.concerns_host("update.microsoft.com"));
    }
}
