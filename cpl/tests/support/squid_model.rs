//! A small evaluator of exactly the subset of Squid `to-squid` emits — `acl` types
//! `dstdomain`, `dstdom_regex -i`, `proxy_auth`, `external`, `port`, `method`, `at_step`, and
//! the first-match directive lists `http_access`, `cache`, `adaptation_access`, `ssl_bump` and
//! `on_unsupported_protocol` — written from Squid's documented semantics (ACLs on a line are
//! ANDed left to right and short-circuit; the first line whose ACLs all match decides; an ACL
//! name lists values ORed; `dstdomain .d` matches `d` and its subdomains). Kept in the tests,
//! not in the crate, so that fragments are judged by an independent reading of Squid.

use std::collections::HashMap;

use regex::RegexBuilder;

/// A parsed fragment.
pub struct Squid {
    acls: HashMap<String, Vec<(String, Vec<String>)>>,
    directives: Vec<(String, Vec<String>)>,
    /// Whether `at_step SslBump1` holds: the bump decision is evaluated at step 1 first.
    step1: std::cell::Cell<bool>,
}

/// What the fragment decides for one request without credentials.
#[derive(Debug, Default)]
pub struct SquidDecision {
    pub denied: bool,
    pub asks_credentials: bool,
    pub categorized: bool,
    pub cache_bypassed: bool,
    pub reqmod_off: bool,
    pub respmod_off: bool,
    pub spliced: bool,
    /// Spliced by the first `ssl_bump` line matching at step 1: before any peek, so even
    /// non-TLS bytes tunnel untouched.
    pub spliced_at_step1: bool,
    pub tunnel_unsupported: bool,
}

impl Squid {
    pub fn parse(fragment: &str) -> Squid {
        let mut acls: HashMap<String, Vec<(String, Vec<String>)>> = HashMap::new();
        let mut directives = Vec::new();
        for line in fragment.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            if words[0] == "acl" {
                acls.entry(words[1].clone())
                    .or_default()
                    .push((words[2].clone(), words[3..].to_vec()));
            } else {
                directives.push((words[0].clone(), words[1..].to_vec()));
            }
        }
        Squid {
            acls,
            directives,
            step1: std::cell::Cell::new(false),
        }
    }

    /// One ACL for the request; `None` for the authentication ACL (a challenge).
    fn acl(&self, name: &str, host: &str, tls: bool, decision: &mut SquidDecision) -> Option<bool> {
        let (negated, name) = match name.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        if name == "all" {
            return Some(!negated);
        }
        let entries = self
            .acls
            .get(name)
            .unwrap_or_else(|| panic!("undefined acl {name}"));
        let mut result = false;
        for (kind, values) in entries {
            let matched = match kind.as_str() {
                "dstdomain" => values.iter().any(|v| match v.strip_prefix('.') {
                    Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
                    None => host == v,
                }),
                "dstdom_regex" => values.iter().filter(|v| *v != "-i").any(|pattern| {
                    RegexBuilder::new(pattern)
                        .case_insensitive(true)
                        .build()
                        .unwrap()
                        .is_match(host)
                }),
                "proxy_auth" => {
                    decision.asks_credentials = true;
                    return None;
                }
                "external" => {
                    decision.categorized = true;
                    false // the categoriser blocks nothing in these requests
                }
                "port" => tls && values.iter().any(|v| v == "443"),
                "method" => tls && values.iter().any(|v| v == "CONNECT"),
                "at_step" => self.step1.get() && values.iter().any(|v| v == "SslBump1"),
                other => panic!("acl type {other} is outside the evaluated subset"),
            };
            result |= matched;
        }
        Some(result != negated)
    }

    /// The first line of `directive` (with `prefix` words, e.g. the ICAP service) whose ACLs all
    /// match: its action.
    fn first_match(
        &self,
        directive: &str,
        prefix: &[&str],
        host: &str,
        tls: bool,
        decision: &mut SquidDecision,
    ) -> Option<String> {
        for (name, words) in &self.directives {
            if name != directive || words.len() < prefix.len() + 1 {
                continue;
            }
            if words[..prefix.len()] != *prefix {
                continue;
            }
            let action = &words[prefix.len()];
            let mut all = true;
            for acl in &words[prefix.len() + 1..] {
                match self.acl(acl, host, tls, decision) {
                    Some(true) => {}
                    Some(false) => {
                        all = false;
                        break;
                    }
                    None => return Some("challenge".to_owned()),
                }
            }
            if all {
                return Some(action.clone());
            }
        }
        None
    }

    pub fn decide(&self, host: &str, tls: bool) -> SquidDecision {
        let mut decision = SquidDecision::default();
        let access = self.first_match("http_access", &[], host, tls, &mut decision);
        decision.denied = access.as_deref() == Some("deny");
        let mut scratch = SquidDecision::default();
        decision.cache_bypassed = self
            .first_match("cache", &[], host, tls, &mut scratch)
            .as_deref()
            == Some("deny");
        decision.reqmod_off = self
            .first_match(
                "adaptation_access",
                &["lab_reqmod"],
                host,
                tls,
                &mut scratch,
            )
            .as_deref()
            == Some("deny");
        decision.respmod_off = self
            .first_match(
                "adaptation_access",
                &["lab_respmod"],
                host,
                tls,
                &mut scratch,
            )
            .as_deref()
            == Some("deny");
        if tls {
            // At step 1 the first matching line decides unless it is a peek, which defers the
            // decision to step 2, where `at_step SslBump1` is false.
            self.step1.set(true);
            let at_step1 = self.first_match("ssl_bump", &[], host, tls, &mut scratch);
            self.step1.set(false);
            decision.spliced_at_step1 = at_step1.as_deref() == Some("splice");
            let bump = self.first_match("ssl_bump", &[], host, tls, &mut scratch);
            decision.spliced = bump.as_deref() == Some("splice");
            decision.tunnel_unsupported = self
                .first_match("on_unsupported_protocol", &[], host, tls, &mut scratch)
                .as_deref()
                == Some("tunnel");
        }
        decision
    }
}
