//! What a trigger tests, decided from its name alone: which part of the URL (or the server
//! certificate's host) and how it compares, or that the URL cannot decide it. Shared by the
//! parser, the evaluator, the host index and lint, and depending on none of them.

/// Which part of the request a trigger tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Component {
    Whole,
    Host,
    Path,
    Scheme,
    Port,
    /// The file extension of the path's last segment (`url.extension=`).
    Extension,
}

/// How a trigger compares (`.exact`, `.substring`, … ; `Default` when no modifier is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matcher {
    Default,
    Exact,
    Prefix,
    Suffix,
    Substring,
    Regex,
    Domain,
}

impl Matcher {
    /// Matches that do not respect host-name label boundaries.
    pub(crate) fn is_partial(self) -> bool {
        matches!(
            self,
            Matcher::Prefix | Matcher::Suffix | Matcher::Substring | Matcher::Regex
        )
    }
}

/// What a trigger name tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Test {
    Condition,
    Url(Component, Matcher),
    CertificateHost(Matcher),
    /// `method=` / `http.method=`: the request's method.
    Method,
    /// `request.header.NAME=` (a regular expression over the header's values, or the
    /// `.exact`, `.prefix`, `.substring`, `.suffix` forms) or `request.header.NAME.exists=yes|no`
    /// (`matcher` `None`); `response.header.…` for the response's headers.
    Header {
        response: bool,
        matcher: Option<Matcher>,
    },
    /// Depends on the user, client, time or content: not decidable from the URL.
    Undecidable,
    Unmodelled,
}

const UNDECIDABLE_FAMILIES: &[&str] = &[
    "admin",
    "attribute",
    "authenticated",
    "bitrate",
    "category",
    "client",
    "content_admin",
    "date",
    "day",
    "dns",
    "exception",
    "ftp",
    "group",
    "has_attribute",
    "hour",
    "http",
    "im",
    "live",
    "method",
    "minute",
    "month",
    "proxy",
    "realm",
    "release_id",
    "request",
    "response",
    "server",
    "service",
    "socks",
    "streaming",
    "time",
    "tunneled",
    "user",
    "user_agent",
    "virus_detected",
    "weekday",
    "year",
];

fn matcher_of(word: &str) -> Option<Matcher> {
    Some(match word {
        "exact" => Matcher::Exact,
        "prefix" => Matcher::Prefix,
        "suffix" => Matcher::Suffix,
        "substring" => Matcher::Substring,
        "regex" => Matcher::Regex,
        "domain" => Matcher::Domain,
        _ => return None,
    })
}

impl Test {
    pub(crate) fn of(name: &str) -> Test {
        let name = name.to_ascii_lowercase();
        if name == "condition" {
            return Test::Condition;
        }
        let url_rest = ["server_url", "url"].iter().find_map(|prefix| {
            name.strip_prefix(prefix)
                .filter(|rest| rest.is_empty() || rest.starts_with('.'))
        });
        if let Some(rest) = url_rest {
            let mut component = Component::Whole;
            let mut matcher = Matcher::Default;
            for part in rest.split('.').filter(|part| !part.is_empty()) {
                match part {
                    "host" => component = Component::Host,
                    "path" => component = Component::Path,
                    "extension" => component = Component::Extension,
                    "scheme" => component = Component::Scheme,
                    "port" => component = Component::Port,
                    "case_sensitive" | "no_lookup" => {}
                    other => match matcher_of(other) {
                        Some(found) => matcher = found,
                        None => return Test::Unmodelled,
                    },
                }
            }
            return Test::Url(component, matcher);
        }
        if let Some(rest) = name.strip_prefix("server.certificate.hostname") {
            return match rest.strip_prefix('.') {
                None if rest.is_empty() => Test::CertificateHost(Matcher::Default),
                Some(modifier) => {
                    matcher_of(modifier).map_or(Test::Undecidable, Test::CertificateHost)
                }
                None => Test::Unmodelled,
            };
        }
        if name == "method" || name == "http.method" {
            return Test::Method;
        }
        for (prefix, response) in [("request.header.", false), ("response.header.", true)] {
            let Some(rest) = name.strip_prefix(prefix) else {
                continue;
            };
            match rest.split('.').collect::<Vec<_>>()[..] {
                [header] if !header.is_empty() => {
                    return Test::Header {
                        response,
                        matcher: Some(Matcher::Regex),
                    }
                }
                [header, "exists"] if !header.is_empty() => {
                    return Test::Header {
                        response,
                        matcher: None,
                    }
                }
                [header, modifier] if !header.is_empty() => {
                    if let Some(matcher) = matcher_of(modifier).filter(|m| *m != Matcher::Domain) {
                        return Test::Header {
                            response,
                            matcher: Some(matcher),
                        };
                    }
                }
                _ => {}
            }
        }
        let family = name.split('.').next().unwrap_or_default();
        if UNDECIDABLE_FAMILIES.contains(&family) {
            Test::Undecidable
        } else {
            Test::Unmodelled
        }
    }

    /// Whether the trigger tests the request itself beyond its URL (method, headers): decided
    /// for a request that says them, undecided for one known by its URL alone.
    pub(crate) fn needs_more_than_the_url(self) -> bool {
        matches!(self, Test::Method | Test::Header { .. })
    }

    /// Whether the trigger tests the destination host name (the request's or the
    /// certificate's) or the whole URL, and how.
    pub(crate) fn host_matcher(self) -> Option<Matcher> {
        match self {
            Test::Url(Component::Host | Component::Whole, matcher)
            | Test::CertificateHost(matcher) => Some(matcher),
            _ => None,
        }
    }
}
