//! `to-squid`: a Squid fragment under the lab contract (docs/policy-contract.md) making the same
//! decisions as the CPL, in the idioms of `policies/squid/windows-update-bypass.conf`.
//!
//! The translation works by destination host, the only thing both proxies decide on here:
//! every host pattern the policy names (domain conditions, `url.domain=`, `url.host…=`,
//! `server.certificate.hostname…=`) is evaluated with the CPL model over `http://` and
//! `https://`, and hosts that end with the same bypass share a `dstdomain` ACL
//! (`windows_update` when one list carries the whole bypass). What maps:
//! - `ALLOW`/`DENY` → `http_access deny` before everything else;
//! - `authenticate(no)` → `http_access allow` before the rule that asks for credentials;
//! - `webpulse.categorize.mode(none)` → the lab's categoriser (`acl blocked_category external
//!   lab_categorize`, `http_access deny blocked_category`) placed so that exempt hosts never
//!   reach it: after their allow when the same hosts skip authentication, else behind a
//!   negated host ACL, which Squid checks first;
//! - `bypass_cache(yes)`, or `cache(no)` (nothing stored, so nothing served from the cache) →
//!   `cache deny`;
//! - `request.icap_service(no)` / `response.icap_service(no)` → `adaptation_access
//!   lab_reqmod|lab_respmod deny`;
//! - `ssl.forward_proxy(no)` with `detect_protocol(none)` → `ssl_bump splice` at step 1 by the
//!   CONNECT host, so even non-TLS bytes tunnel untouched; `ssl.forward_proxy(no)` with
//!   detection left on → peek at step 1, then splice; `detect_protocol(none)` where TLS is
//!   intercepted → `on_unsupported_protocol tunnel`.
//!
//! What does not map is listed in [`Translation::untranslated`] and as `# not translated:`
//! comments: `pipeline` (Squid does not prefetch embedded objects, so there is nothing to turn
//! off), triggers that do not depend on the destination (users, groups, time), URL paths,
//! schemes and ports, regular expressions, certificate names (Squid decides by the CONNECT
//! host), properties outside KB 166719's list, and hosts whose CPL decision differs from a
//! broader pattern's.

use std::collections::BTreeMap;
use std::fmt;

use crate::ast::{ConditionKind, Item, Policy, Trigger};
use crate::decision::Decision;
use crate::evaluate::{evaluate_in, Component, Evaluation, Matcher, Mode, Test};
use crate::request::{domain_matches, Request, UrlPattern};
use crate::span::{Location, Span};
use crate::update_assessment::assess;

/// The fragment and what it could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub fragment: String,
    /// Every construct the fragment does not carry over, with where and why.
    pub untranslated: Vec<Untranslated>,
    /// Where something not carried over could change how a Windows Update host
    /// (`conformance_model::WINDOWS_UPDATE_HOSTS`) is treated: for each, the host, the
    /// decision (access or one of KB 166719's bypass properties), and the rule that would
    /// decide it differently if its untranslated triggers matched. Computed by evaluating
    /// the CPL for every update host over `http://` and `https://` twice — undecidable
    /// triggers taken as not matching (what the fragment does) and as matching — and
    /// keeping the decisions that differ.
    pub update_host_risks: Vec<Untranslated>,
}

impl Translation {
    /// Whether an untranslated construct could change one of the article's properties (or
    /// access) for an update host. A lab run of such a fragment proves nothing about the CPL:
    /// `run --cpl` reports it as inconclusive. The constructs concerned are in
    /// [`Translation::update_host_risks`].
    pub fn may_change_update_properties(&self) -> bool {
        !self.update_host_risks.is_empty()
    }
}

/// Something of the CPL the fragment does not carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Untranslated {
    /// The CPL text concerned, e.g. `pipeline(no)` or `group=staff`.
    pub subject: String,
    pub location: Option<Location>,
    pub reason: String,
}

impl fmt::Display for Untranslated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{} ({location}): {}", self.subject, self.reason),
            None => write!(f, "{}: {}", self.subject, self.reason),
        }
    }
}

/// A host name test Squid can express by destination.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum HostMatch {
    /// The domain and its subdomains.
    Domain(String),
    Exact(String),
    Substring(String),
    Prefix(String),
    Suffix(String),
    /// Every host the policy does not name.
    Others,
}

/// A host name no policy names, standing for all the others.
const OTHER_HOST: &str = "any-other-host.invalid";

/// The Squid ACL types host matches become, with the suffix of their ACL's name.
const ACL_KINDS: [(&str, &str); 2] = [("dstdomain", ""), ("dstdom_regex", "_regex")];

/// The values of `hosts` that Squid writes as an ACL of `kind`.
fn squid_values(hosts: &[&HostMatch], kind: &str) -> Vec<String> {
    hosts
        .iter()
        .filter_map(|host| host.squid())
        .filter(|(k, _)| *k == kind)
        .map(|(_, value)| value)
        .collect()
}

impl HostMatch {
    /// A host name the test matches, chosen so that no other kind of pattern for the same
    /// text matches it too (`zzmicrosoftzz.sample.invalid` for a substring `microsoft`, not
    /// `microsoft`, which a domain rule may also match).
    fn sample(&self) -> String {
        match self {
            HostMatch::Domain(text) | HostMatch::Exact(text) => text.clone(),
            HostMatch::Substring(text) => format!("zz{text}zz.sample.invalid"),
            HostMatch::Prefix(text) => format!("{text}zz.sample.invalid"),
            HostMatch::Suffix(text) => format!("zz{text}"),
            HostMatch::Others => OTHER_HOST.to_owned(),
        }
    }

    fn text(&self) -> &str {
        match self {
            HostMatch::Domain(text)
            | HostMatch::Exact(text)
            | HostMatch::Substring(text)
            | HostMatch::Prefix(text)
            | HostMatch::Suffix(text) => text,
            HostMatch::Others => OTHER_HOST,
        }
    }

    fn covers(&self, host: &str) -> bool {
        match self {
            HostMatch::Domain(domain) => domain_matches(host, domain),
            HostMatch::Exact(name) => host == name,
            HostMatch::Substring(text) => host.contains(text.as_str()),
            HostMatch::Prefix(text) => host.starts_with(text.as_str()),
            HostMatch::Suffix(text) => host.ends_with(text.as_str()),
            HostMatch::Others => true,
        }
    }

    /// Every host `other` matches, `self` matches too.
    fn includes(&self, other: &HostMatch) -> bool {
        use HostMatch::{Domain, Exact, Others, Prefix, Substring, Suffix};
        match (self, other) {
            (Others, _) => true,
            (_, Others) => false,
            (_, Exact(host)) => self.covers(host),
            (Domain(broad), Domain(narrow)) => domain_matches(narrow, broad),
            (
                Substring(text),
                Domain(narrow) | Substring(narrow) | Prefix(narrow) | Suffix(narrow),
            ) => narrow.contains(text.as_str()),
            (Prefix(text), Prefix(narrow)) => narrow.starts_with(text.as_str()),
            (Suffix(text), Domain(narrow) | Suffix(narrow)) => narrow.ends_with(text.as_str()),
            _ => false,
        }
    }

    /// `(acl type, value)` for Squid.
    fn squid(&self) -> Option<(&'static str, String)> {
        match self {
            HostMatch::Domain(domain) => Some(("dstdomain", format!(".{domain}"))),
            HostMatch::Exact(name) => Some(("dstdomain", name.clone())),
            HostMatch::Substring(text) => Some(("dstdom_regex", format!("-i {}", escape(text)))),
            HostMatch::Prefix(text) => Some(("dstdom_regex", format!("-i ^{}", escape(text)))),
            HostMatch::Suffix(text) => Some(("dstdom_regex", format!("-i {}$", escape(text)))),
            HostMatch::Others => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            HostMatch::Domain(domain) => domain.clone(),
            HostMatch::Exact(name) => format!("{name} (exact)"),
            HostMatch::Substring(text) => format!("hosts containing \"{text}\""),
            HostMatch::Prefix(text) => format!("hosts starting with \"{text}\""),
            HostMatch::Suffix(text) => format!("hosts ending with \"{text}\""),
            HostMatch::Others => "every other host".to_owned(),
        }
    }
}

/// Whether the trigger decides by destination host (and scheme) alone, as the fragment does.
fn host_decidable(trigger: &Trigger) -> bool {
    match trigger.test {
        Test::Condition | Test::CertificateHost(_) => true,
        Test::Url(Component::Host | Component::Scheme, _) => true,
        Test::Url(Component::Whole, Matcher::Default | Matcher::Domain) => {
            trigger.atoms().iter().all(|(atom, _)| {
                let pattern = UrlPattern::parse(&atom.text);
                pattern.path.is_none() && pattern.port.is_none()
            })
        }
        _ => false,
    }
}

/// Escapes the characters POSIX extended regular expressions treat specially.
fn escape(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        if ".^$*+?()[]{}|\\".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// What Squid does for a group of hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Purpose {
    Deny,
    /// Denied over TLS only (a `<SSL>` or `<SSL-Intercept>` layer's decision): `CONNECT`.
    DenyTls,
    /// Denied over plain HTTP only.
    DenyPlain,
    NoAuth,
    NoCache,
    NoReqmod,
    NoRespmod,
    SpliceAtStep1,
    SpliceAfterPeek,
    TunnelUnsupported,
    NoCategorize,
    NoPipeline,
}

impl Purpose {
    fn acl_name(self) -> &'static str {
        match self {
            Purpose::Deny => "denied_hosts",
            Purpose::DenyTls => "denied_tls_hosts",
            Purpose::DenyPlain => "denied_plain_hosts",
            Purpose::NoAuth => "no_auth",
            Purpose::NoCache => "no_cache",
            Purpose::NoReqmod => "no_reqmod",
            Purpose::NoRespmod => "no_respmod",
            Purpose::SpliceAtStep1 => "no_tls_interception",
            Purpose::SpliceAfterPeek => "tls_bypass_after_peek",
            Purpose::TunnelUnsupported => "no_protocol_detection",
            Purpose::NoCategorize => "no_categorization",
            Purpose::NoPipeline => "no_pipeline",
        }
    }

    /// The CPL decisions behind the purpose, for comments.
    fn decisions(self) -> &'static [Decision] {
        match self {
            Purpose::Deny | Purpose::DenyTls | Purpose::DenyPlain => &[Decision::Access],
            Purpose::NoAuth => &[Decision::Authenticate],
            Purpose::NoCache => &[Decision::BypassCache],
            Purpose::NoReqmod => &[Decision::RequestIcap],
            Purpose::NoRespmod => &[Decision::ResponseIcap],
            Purpose::SpliceAtStep1 => &[Decision::SslForwardProxy, Decision::DetectProtocol],
            Purpose::SpliceAfterPeek => &[Decision::SslForwardProxy],
            Purpose::TunnelUnsupported => &[Decision::DetectProtocol],
            Purpose::NoCategorize => &[Decision::Categorize],
            Purpose::NoPipeline => &[Decision::Pipeline],
        }
    }

    const ALL: [Purpose; 12] = [
        Purpose::Deny,
        Purpose::DenyTls,
        Purpose::DenyPlain,
        Purpose::NoAuth,
        Purpose::NoCache,
        Purpose::NoReqmod,
        Purpose::NoRespmod,
        Purpose::SpliceAtStep1,
        Purpose::SpliceAfterPeek,
        Purpose::TunnelUnsupported,
        Purpose::NoCategorize,
        Purpose::NoPipeline,
    ];

    /// The purposes that together are the Windows Update bypass in the reference policy.
    const CORE: [Purpose; 5] = [
        Purpose::NoAuth,
        Purpose::NoCache,
        Purpose::NoReqmod,
        Purpose::NoRespmod,
        Purpose::SpliceAtStep1,
    ];
}

struct Candidate {
    host: HostMatch,
    span: Option<Span>,
    purposes: Vec<Purpose>,
}

struct Translator<'p> {
    policy: &'p Policy,
    untranslated: Vec<Untranslated>,
    /// Where the decisions behind each purpose were set.
    sources: BTreeMap<Purpose, std::collections::BTreeSet<Span>>,
    /// The entries of `untranslated`, to keep each once.
    seen: std::collections::HashSet<Untranslated>,
    /// Some host is kept out of the cache by `cache(no)` rather than `bypass_cache(yes)`.
    cache_off_used: bool,
}

/// Translates `policy` into a Squid fragment under the lab contract.
pub fn to_squid(policy: &Policy) -> Translation {
    let mut translator = Translator {
        policy,
        untranslated: Vec::new(),
        sources: BTreeMap::new(),
        seen: std::collections::HashSet::new(),
        cache_off_used: false,
    };
    let mut candidates = translator.host_candidates();
    candidates.push(Candidate {
        host: HostMatch::Others,
        span: None,
        purposes: Vec::new(),
    });
    for candidate in &mut candidates {
        candidate.purposes = translator.purposes(&candidate.host, candidate.span);
    }
    translator.note_static_gaps();
    let fragment = translator.write_fragment(&candidates);
    let update_host_risks = translator.update_host_risks();
    Translation {
        fragment,
        untranslated: translator.untranslated,
        update_host_risks,
    }
}

/// Host tests grouped for inclusion checks in time linear in the number of tests: domains and
/// exact names by hash, partial (substring, prefix, suffix) matches one by one.
struct HostSet<'a> {
    domains: std::collections::HashSet<&'a str>,
    exact: std::collections::HashSet<&'a str>,
    partial: Vec<&'a HostMatch>,
    others: bool,
}

impl<'a> HostSet<'a> {
    fn new(hosts: impl IntoIterator<Item = &'a HostMatch>) -> Self {
        let mut set = HostSet {
            domains: Default::default(),
            exact: Default::default(),
            partial: Vec::new(),
            others: false,
        };
        for host in hosts {
            match host {
                HostMatch::Domain(d) => {
                    set.domains.insert(d.as_str());
                }
                HostMatch::Exact(h) => {
                    set.exact.insert(h.as_str());
                }
                HostMatch::Others => set.others = true,
                partial => set.partial.push(partial),
            }
        }
        set
    }

    /// Some other member matches every host `host` matches.
    fn includes_strictly(&self, host: &HostMatch) -> bool {
        if *host == HostMatch::Others {
            return false;
        }
        if self.others {
            return true;
        }
        let (name, skip_self) = match host {
            HostMatch::Domain(d) => (d.as_str(), true),
            HostMatch::Exact(h) => (h.as_str(), false),
            _ => ("", true),
        };
        if !name.is_empty() {
            let mut suffix = name;
            let mut first = true;
            loop {
                if !(first && skip_self) && self.domains.contains(suffix) {
                    return true;
                }
                first = false;
                match suffix.find('.') {
                    Some(dot) => suffix = &suffix[dot + 1..],
                    None => break,
                }
            }
        }
        self.partial
            .iter()
            .any(|other| *other != host && other.includes(host))
    }
}

impl Translator<'_> {
    fn location(&self, span: Span) -> Location {
        Location::new(&self.policy.file_name, span)
    }

    fn skip(&mut self, subject: impl Into<String>, span: Option<Span>, reason: impl Into<String>) {
        let entry = Untranslated {
            subject: subject.into(),
            location: span.map(|s| self.location(s)),
            reason: reason.into(),
        };
        if self.seen.insert(entry.clone()) {
            self.untranslated.push(entry);
        }
    }

    /// Every host test the policy names, once, in source order.
    fn host_candidates(&mut self) -> Vec<Candidate> {
        let mut found: Vec<(HostMatch, Span)> = Vec::new();
        let policy = self.policy;
        for definition in &policy.conditions {
            for entry in &definition.entries {
                let Some(pattern) = &entry.pattern else {
                    continue;
                };
                if definition.kind == ConditionKind::UrlRegex {
                    self.skip(
                        &pattern.text,
                        Some(pattern.span),
                        "a regular expression over the whole URL is not translated; rules testing this condition are translated as never matching",
                    );
                    continue;
                }
                let domain = definition.kind != ConditionKind::Url;
                if let Some(host) = self.url_pattern_host(&pattern.text, domain, pattern.span) {
                    found.push((host, pattern.span));
                }
            }
        }
        let mut triggers = policy.triggers();
        triggers.sort_by_key(|trigger| trigger.span.start);
        for trigger in triggers {
            for (host, span) in self.trigger_hosts(trigger) {
                found.push((host, span));
            }
        }
        found.sort_by_key(|(_, span)| span.start);
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (host, span) in found {
            if seen.insert(host.clone()) {
                candidates.push(Candidate {
                    host,
                    span: Some(span),
                    purposes: Vec::new(),
                });
            }
        }
        candidates
    }

    fn url_pattern_host(&mut self, text: &str, domain: bool, span: Span) -> Option<HostMatch> {
        let pattern = UrlPattern::parse(text);
        let host = pattern.host.clone()?;
        if host.contains('*') {
            self.skip(
                text,
                Some(span),
                "`*` is not a wildcard in CPL, so this matches no real host; nothing to translate",
            );
            return None;
        }
        if pattern.path.is_some() || pattern.port.is_some() || pattern.scheme.is_some() {
            self.skip(
                text,
                Some(span),
                "the fragment decides by destination host, not by scheme, port or path: translated as never matching",
            );
        }
        let host = host.trim_start_matches('.').to_owned();
        Some(if domain {
            HostMatch::Domain(host)
        } else {
            HostMatch::Exact(host)
        })
    }

    fn trigger_hosts(&mut self, trigger: &Trigger) -> Vec<(HostMatch, Span)> {
        let test = trigger.test;
        let mut hosts = Vec::new();
        for (atom, _) in trigger.atoms() {
            let text = atom.text.to_ascii_lowercase();
            let written = format!("{}={}", trigger.name.text, atom.text);
            let host = match test {
                Test::Url(Component::Whole, Matcher::Default) => {
                    self.url_pattern_host(&text, false, atom.span)
                }
                Test::Url(Component::Whole, Matcher::Domain) => {
                    self.url_pattern_host(&text, true, atom.span)
                }
                Test::Url(Component::Host, Matcher::Default | Matcher::Exact) => {
                    Some(HostMatch::Exact(text))
                }
                Test::Url(Component::Host, Matcher::Domain) => {
                    Some(HostMatch::Domain(text.trim_start_matches('.').to_owned()))
                }
                Test::Url(Component::Host, matcher) | Test::CertificateHost(matcher) => {
                    if matches!(test, Test::CertificateHost(_)) {
                        self.skip(
                            &trigger.name.text,
                            Some(trigger.span),
                            "Squid decides at step 1 by the CONNECT host, before it sees a certificate: translated as a test of the host name",
                        );
                    }
                    match matcher {
                        Matcher::Default | Matcher::Domain => {
                            Some(HostMatch::Domain(text.trim_start_matches('.').to_owned()))
                        }
                        Matcher::Exact => Some(HostMatch::Exact(text)),
                        Matcher::Substring => Some(HostMatch::Substring(text)),
                        Matcher::Prefix => Some(HostMatch::Prefix(text)),
                        Matcher::Suffix => Some(HostMatch::Suffix(text)),
                        Matcher::Regex => {
                            self.skip(
                                written,
                                Some(atom.span),
                                "regular expressions are not translated",
                            );
                            None
                        }
                    }
                }
                Test::Url(Component::Whole, _) => {
                    self.skip(
                        written,
                        Some(atom.span),
                        "a string test on the whole URL has no destination-host equivalent",
                    );
                    None
                }
                _ => None,
            };
            if let Some(host) = host.filter(|h| !h.text().is_empty()) {
                hosts.push((host, atom.span));
            }
        }
        hosts
    }

    /// The purposes the CPL gives `host`, from evaluating it over HTTP and HTTPS.
    fn purposes(&mut self, host: &HostMatch, span: Option<Span>) -> Vec<Purpose> {
        let sample = host.sample();
        let mode = Mode {
            host_only: true,
            ..Mode::default()
        };
        let http = evaluate_in(self.policy, &Request::to_host(&sample, false), mode);
        let https = evaluate_in(self.policy, &Request::to_host(&sample, true), mode);
        let mut purposes = Vec::new();
        let denied = |e: &Evaluation| !e.bypasses(Decision::Access);
        match (denied(&http), denied(&https)) {
            (true, true) => purposes.push(Purpose::Deny),
            (false, true) => purposes.push(Purpose::DenyTls),
            (true, false) => purposes.push(Purpose::DenyPlain),
            (false, false) => {}
        }
        match (http.uncached(), https.uncached()) {
            (true, true) => purposes.push(Purpose::NoCache),
            (false, false) => {}
            _ => self.skip(
                if http.cache_off().or(https.cache_off()).is_some() {
                    "cache(no)".to_owned()
                } else {
                    Decision::BypassCache.bypass_setting()
                },
                span,
                format!(
                    "set for {} over one of http:// and https:// only; the fragment keeps the baseline for both",
                    host.describe()
                ),
            ),
        }
        for (decision, purpose) in [
            (Decision::Authenticate, Purpose::NoAuth),
            (Decision::RequestIcap, Purpose::NoReqmod),
            (Decision::ResponseIcap, Purpose::NoRespmod),
            (Decision::Categorize, Purpose::NoCategorize),
            (Decision::Pipeline, Purpose::NoPipeline),
        ] {
            match (http.bypasses(decision), https.bypasses(decision)) {
                (true, true) => purposes.push(purpose),
                (false, false) => {}
                _ => self.skip(
                    decision.bypass_setting(),
                    span,
                    format!(
                        "set for {} over one of http:// and https:// only; the fragment keeps the baseline for both",
                        host.describe()
                    ),
                ),
            }
        }
        let no_interception = https.bypasses(Decision::SslForwardProxy);
        let no_detection = https.bypasses(Decision::DetectProtocol);
        match (no_interception, no_detection) {
            (true, true) => purposes.push(Purpose::SpliceAtStep1),
            (true, false) => purposes.push(Purpose::SpliceAfterPeek),
            (false, true) => purposes.push(Purpose::TunnelUnsupported),
            (false, false) => {}
        }
        for purpose in &purposes {
            let spans = self.sources.entry(*purpose).or_default();
            for decision in purpose.decisions() {
                for evaluation in [&http, &https] {
                    if let Some(setting) = evaluation.settings.get(decision) {
                        spans.insert(setting.span);
                    }
                }
            }
            if *purpose == Purpose::NoCache {
                for evaluation in [&http, &https] {
                    if let Some(setting) = evaluation.cache_off() {
                        spans.insert(setting.span);
                        self.cache_off_used = true;
                    }
                }
            }
        }
        purposes
    }

    /// Triggers that do not depend on the destination, and properties outside the list.
    fn note_static_gaps(&mut self) {
        let policy = self.policy;
        let definition_items = policy
            .conditions
            .iter()
            .flat_map(|d| d.entries.iter().flat_map(|e| e.items.iter()));
        let rule_items = policy.guarded_rules().flat_map(|(items, _)| items);
        for item in rule_items.chain(definition_items) {
            {
                match item {
                    Item::Trigger(trigger)
                        if trigger.test == Test::Undecidable
                            || trigger.test.needs_more_than_the_url() =>
                    {
                        self.skip(
                            policy.text_of(trigger.span),
                            Some(trigger.span),
                            "depends on the user, client, time or request content, not on the destination host the fragment decides by; the rule is translated as never matching",
                        );
                    }
                    Item::Trigger(trigger) if trigger.test == Test::Unmodelled => {
                        self.skip(
                            policy.text_of(trigger.span),
                            Some(trigger.span),
                            "not modelled by this tool (an address, or a URL part other than host, scheme, path and extension); the rule is translated as never matching",
                        );
                    }
                    Item::Trigger(trigger) if !host_decidable(trigger) => {
                        self.skip(
                            policy.text_of(trigger.span),
                            Some(trigger.span),
                            "tests the URL's path, query, extension, port or text, which the fragment does not decide by; the rule is translated as never matching",
                        );
                    }
                    Item::Property(property)
                        if Decision::of_property(&property.name.text).is_none()
                            && property.name.key() != "cache" =>
                    {
                        self.skip(
                            policy.text_of(property.span),
                            Some(property.span),
                            "not one of KB 166719's properties; not translated",
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// From the one evaluation against the Windows Update traffic model: every request whose
    /// CPL decision differs from the fragment's decision by destination host (a rule keyed on
    /// an extension, a MIME type, a method or a header the fragment cannot carry), and every
    /// undecided rule (users, groups, time, categories) that would change a decision if it
    /// matched.
    fn update_host_risks(&self) -> Vec<Untranslated> {
        let policy = self.policy;
        let assessment = assess(policy);
        let mut differing: Vec<Differing> = Vec::new();
        let mut risks: Vec<Untranslated> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for item in &assessment.items {
            let carried = assessment.carried(item);
            let host = item.host();
            let family = item.traffic.family.name;
            for decision in Decision::ALL {
                if !item.applies(decision) {
                    continue;
                }
                let cpl = &item.evaluation;
                if cpl.bypasses(decision) != carried.bypasses(decision) {
                    let span = cpl
                        .settings
                        .get(&decision)
                        .or(carried.settings.get(&decision))
                        .map(|setting| setting.span);
                    match differing
                        .iter_mut()
                        .find(|d| d.decision == decision && d.span == span)
                    {
                        Some(known) => {
                            if !known.families.contains(&family) {
                                known.families.push(family);
                            }
                        }
                        None => differing.push(Differing {
                            decision,
                            span,
                            host,
                            families: vec![family],
                            reason: format!(
                                "ends `{}` in the fragment, which decides by destination host, but `{}` in the CPL for {} {}",
                                carried.value(decision),
                                cpl.value(decision),
                                item.traffic.request.method.as_deref().unwrap_or("GET"),
                                item.traffic.request.url
                            ),
                        }),
                    }
                    continue;
                }
                for alternative in item.alternatives.iter().filter(|a| a.decision == decision) {
                    if !seen.insert((decision, alternative.rule.span.start)) {
                        continue;
                    }
                    risks.push(Untranslated {
                        subject: format!("{} for {host}", decision.cpl_name()),
                        location: Some(Location::new(&policy.file_name, alternative.rule.span)),
                        reason: format!(
                            "ends `{}` in the fragment, but `{}` when this rule matches ({})",
                            carried.value(decision),
                            alternative.value,
                            alternative.why
                        ),
                    });
                }
            }
        }
        let differing = differing
            .into_iter()
            .map(|d| d.into_untranslated(&policy.file_name));
        differing.chain(risks).collect()
    }

    /// `CPL line 22` / `CPL lines 22, 29`: where the decisions behind `purpose` were set.
    fn sources_of(&self, purpose: Purpose) -> String {
        let mut lines: Vec<usize> = self
            .sources
            .get(&purpose)
            .into_iter()
            .flatten()
            .map(|span| span.line)
            .collect();
        lines.sort_unstable();
        lines.dedup();
        let mut numbers: Vec<String> = lines.iter().take(8).map(ToString::to_string).collect();
        if lines.len() > 8 {
            numbers.push(format!("… ({} lines)", lines.len()));
        }
        match numbers.len() {
            0 => String::new(),
            1 => format!(" (CPL line {})", numbers[0]),
            _ => format!(" (CPL lines {})", numbers.join(", ")),
        }
    }

    fn write_fragment(&mut self, candidates: &[Candidate]) -> String {
        let excepts = self.exceptions(candidates);
        let mut acl_lines = Vec::new();
        let except_names = except_acls(&excepts, &mut acl_lines);
        let refs = purpose_acls(candidates, &mut acl_lines);
        self.note_pipeline(candidates);
        self.render(acl_lines, &refs, &except_names)
    }

    /// Hosts the CPL does not give a purpose although a broader member has it: excluded
    /// from that member's ACL, so Squid's union of ACLs does not change their decision. A
    /// host given the purpose again inside such an exception cannot be expressed: noted.
    fn exceptions<'c>(
        &mut self,
        candidates: &'c [Candidate],
    ) -> BTreeMap<Purpose, Vec<&'c HostMatch>> {
        let mut excepts: BTreeMap<Purpose, Vec<&HostMatch>> = BTreeMap::new();
        for purpose in Purpose::ALL {
            let with: Vec<&HostMatch> = members(candidates, purpose);
            if with.is_empty() {
                continue;
            }
            let set = HostSet::new(with.iter().copied());
            let without: Vec<&HostMatch> = candidates
                .iter()
                .filter(|c| !c.purposes.contains(&purpose) && set.includes_strictly(&c.host))
                .map(|c| &c.host)
                .collect();
            if without.is_empty() {
                continue;
            }
            let excluded = HostSet::new(without.iter().copied());
            for candidate in candidates {
                if candidate.purposes.contains(&purpose)
                    && candidate.host != HostMatch::Others
                    && excluded.includes_strictly(&candidate.host)
                {
                    let settings: Vec<String> = purpose
                        .decisions()
                        .iter()
                        .map(|d| d.bypass_setting())
                        .collect();
                    self.skip(
                        candidate.host.describe(),
                        candidate.span,
                        format!(
                            "the CPL gives it {} although a broader pattern around it does not get it inside a broader one that does; the fragment does not",
                            settings.join(" ")
                        ),
                    );
                }
            }
            excepts.insert(purpose, without);
        }
        excepts
    }

    /// `pipeline(no)` needs no directive: say so rather than drop it silently.
    fn note_pipeline(&mut self, candidates: &[Candidate]) {
        if candidates
            .iter()
            .any(|c| c.purposes.contains(&Purpose::NoPipeline))
        {
            let span = self
                .sources
                .get(&Purpose::NoPipeline)
                .and_then(|spans| spans.iter().next())
                .copied();
            self.skip(
                "pipeline(no)",
                span,
                "Squid does not prefetch the objects a page embeds, so there is nothing to turn off: the bypass holds without a directive",
            );
        }
    }

    /// The fragment: its header, the ACLs, then access, cache and adaptation, and TLS rules.
    fn render(
        &self,
        acl_lines: Vec<String>,
        refs: &BTreeMap<Purpose, Vec<String>>,
        excepts: &BTreeMap<Purpose, Vec<String>>,
    ) -> String {
        let rules = Rules { refs, excepts };
        let mut out = self.header_lines();
        if !acl_lines.is_empty() {
            out.extend(acl_lines);
            out.push(String::new());
        }
        out.push("acl lab_users proxy_auth REQUIRED".to_owned());
        out.push("acl tls_ports port 443".to_owned());
        out.push("acl CONNECT method CONNECT".to_owned());
        let categorization = Categorization::of(&rules);
        if categorization != Categorization::Nothing {
            out.push("acl blocked_category external lab_categorize".to_owned());
        }
        out.push(String::new());
        out.extend(self.access_lines(&rules, categorization));
        out.extend(self.cache_and_adaptation_lines(&rules));
        out.extend(self.tls_lines(&rules));
        if !self.untranslated.is_empty() {
            out.push(String::new());
            for item in &self.untranslated {
                out.push(format!("# not translated: {item}"));
            }
        }
        out.push(String::new());
        out.join("\n")
    }

    fn header_lines(&self) -> Vec<String> {
        vec![
            "# Squid policy fragment translated by the cpl crate from".to_owned(),
            format!("#   {}", self.policy.file_name),
            "# under the lab contract: the lab preamble owns the port, authentication, ICAP"
                .to_owned(),
            "# services and logs; this fragment only decides. Hosts the CPL exempts get the"
                .to_owned(),
            "# settings below; all others are authenticated, categorised, cached, adapted (ICAP)"
                .to_owned(),
            "# and bumped.".to_owned(),
            "# Regenerate it from the CPL rather than editing it.".to_owned(),
            String::new(),
        ]
    }

    /// The comment above a purpose's rules: the CPL setting and where the CPL sets it.
    fn comment(&self, purpose: Purpose, setting: &str, how: &str) -> String {
        format!("# {setting}{}{how}", self.sources_of(purpose))
    }

    /// `http_access`: denials, categorisation, the authentication exemption, then the lab's
    /// users.
    fn access_lines(&self, rules: &Rules<'_>, categorization: Categorization) -> Vec<String> {
        let mut out = Vec::new();
        for (purpose, setting, directive) in [
            (
                Purpose::DenyTls,
                "DENY over TLS only",
                "http_access deny CONNECT",
            ),
            (
                Purpose::DenyPlain,
                "DENY over plain HTTP only",
                "http_access deny !CONNECT",
            ),
            (Purpose::Deny, "DENY", "http_access deny"),
        ] {
            if rules.has(purpose) {
                out.push(self.comment(purpose, setting, ""));
                out.extend(rules.lines_for(purpose, directive));
            }
        }
        if categorization == Categorization::BeforeAllow {
            out.extend(self.categorize_before_allow(rules));
        }
        if rules.has(Purpose::NoAuth) {
            out.push(self.comment(
                Purpose::NoAuth,
                "authenticate(no)",
                ", before any rule that asks for credentials",
            ));
            out.extend(rules.lines_for(Purpose::NoAuth, "http_access allow"));
        } else {
            out.push("# authenticate: no host is exempt".to_owned());
        }
        if categorization == Categorization::AfterAllow {
            out.push(self.comment(
                Purpose::NoCategorize,
                "webpulse.categorize.mode(none)",
                ": only traffic past that allow is categorised",
            ));
            out.push("http_access deny blocked_category".to_owned());
        }
        out.push("http_access deny CONNECT !tls_ports".to_owned());
        out.push("http_access allow lab_users".to_owned());
        out.push("http_access deny all".to_owned());
        out.push(String::new());
        out
    }

    /// Categorisation ahead of the authentication exemption: every host but the exempt ones.
    fn categorize_before_allow(&self, rules: &Rules<'_>) -> Vec<String> {
        let Some(acls) = rules.refs.get(&Purpose::NoCategorize) else {
            return vec![
                "# webpulse.categorize.mode: no host is exempt".to_owned(),
                "http_access deny blocked_category".to_owned(),
            ];
        };
        let mut out = vec![self.comment(
            Purpose::NoCategorize,
            "webpulse.categorize.mode(none)",
            ": the hosts it exempts never reach the categoriser",
        )];
        for except in rules
            .excepts
            .get(&Purpose::NoCategorize)
            .into_iter()
            .flatten()
        {
            out.push(format!("http_access deny {except} blocked_category"));
        }
        let negated: Vec<String> = acls.iter().map(|acl| format!("!{acl}")).collect();
        out.push(format!(
            "http_access deny {} blocked_category",
            negated.join(" ")
        ));
        out
    }

    /// `cache` and `adaptation_access`: the exempt hosts denied, everything else allowed.
    fn cache_and_adaptation_lines(&self, rules: &Rules<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let no_cache_setting = if self.cache_off_used {
            "bypass_cache(yes) or cache(no)"
        } else {
            "bypass_cache(yes)"
        };
        for (purpose, setting, deny, allow) in [
            (
                Purpose::NoCache,
                no_cache_setting,
                "cache deny",
                "cache allow all",
            ),
            (
                Purpose::NoReqmod,
                "request.icap_service(no)",
                "adaptation_access lab_reqmod deny",
                "adaptation_access lab_reqmod allow all",
            ),
            (
                Purpose::NoRespmod,
                "response.icap_service(no)",
                "adaptation_access lab_respmod deny",
                "adaptation_access lab_respmod allow all",
            ),
        ] {
            if rules.has(purpose) {
                out.push(self.comment(purpose, setting, ""));
                out.extend(rules.lines_for(purpose, deny));
            } else {
                out.push(format!(
                    "# {}: no host is exempt",
                    setting.split('(').next().unwrap_or(setting)
                ));
            }
            out.push(allow.to_owned());
            if purpose != Purpose::NoReqmod {
                out.push(String::new());
            }
        }
        out
    }

    /// `ssl_bump` and `on_unsupported_protocol`: splice the exempt hosts, bump the rest.
    fn tls_lines(&self, rules: &Rules<'_>) -> Vec<String> {
        let mut out = Vec::new();
        if rules.has(Purpose::SpliceAtStep1) {
            out.push(self.comment(
                Purpose::SpliceAtStep1,
                "ssl.forward_proxy(no), detect_protocol(none)",
                ": splice at step 1 by the CONNECT host",
            ));
            out.extend(rules.lines_for(Purpose::SpliceAtStep1, "ssl_bump splice"));
        }
        if rules.has(Purpose::SpliceAfterPeek) {
            out.push(self.comment(
                Purpose::SpliceAfterPeek,
                "ssl.forward_proxy(no) with protocol detection on",
                ": peek at step 1, then splice",
            ));
            out.push("acl step1 at_step SslBump1".to_owned());
            out.push("ssl_bump peek step1".to_owned());
            out.extend(rules.lines_for(Purpose::SpliceAfterPeek, "ssl_bump splice"));
        }
        if !rules.has(Purpose::SpliceAtStep1) && !rules.has(Purpose::SpliceAfterPeek) {
            out.push("# ssl.forward_proxy: no host is exempt".to_owned());
        }
        out.push("ssl_bump bump all".to_owned());
        if rules.has(Purpose::TunnelUnsupported) {
            out.push(String::new());
            out.push(self.comment(
                Purpose::TunnelUnsupported,
                "detect_protocol(none) where TLS is intercepted",
                ": tunnel what is not TLS",
            ));
            out.extend(
                rules.lines_for(Purpose::TunnelUnsupported, "on_unsupported_protocol tunnel"),
            );
        }
        out
    }
}

/// The hosts given `purpose`, none of them inside another (all of them when one is "every
/// other host").
fn members(candidates: &[Candidate], purpose: Purpose) -> Vec<&HostMatch> {
    let all: Vec<&HostMatch> = candidates
        .iter()
        .filter(|c| c.purposes.contains(&purpose))
        .map(|c| &c.host)
        .collect();
    if all.contains(&&HostMatch::Others) {
        return vec![&HostMatch::Others];
    }
    let set = HostSet::new(all.iter().copied());
    all.iter()
        .copied()
        .filter(|host| !set.includes_strictly(host))
        .collect()
}

/// The ACLs of each purpose's exceptions (`<purpose>_except…`), their lines added to
/// `acl_lines`.
fn except_acls(
    excepts: &BTreeMap<Purpose, Vec<&HostMatch>>,
    acl_lines: &mut Vec<String>,
) -> BTreeMap<Purpose, Vec<String>> {
    let mut except_names: BTreeMap<Purpose, Vec<String>> = BTreeMap::new();
    for (purpose, hosts) in excepts {
        let name = format!("{}_except", purpose.acl_name());
        let mut names = Vec::new();
        for (kind, suffix) in ACL_KINDS {
            let values = squid_values(hosts, kind);
            if values.is_empty() {
                continue;
            }
            let acl = format!("{name}{suffix}");
            acl_lines.extend(values.iter().map(|v| format!("acl {acl} {kind} {v}")));
            names.push(acl);
        }
        except_names.insert(*purpose, names);
    }
    except_names
}

/// The ACLs each purpose's rules name, their lines added to `acl_lines` once: purposes with
/// the same hosts share an ACL (`windows_update` when every core purpose has the same hosts),
/// and "every other host" is `all`.
fn purpose_acls(
    candidates: &[Candidate],
    acl_lines: &mut Vec<String>,
) -> BTreeMap<Purpose, Vec<String>> {
    let core: Vec<Vec<&HostMatch>> = Purpose::CORE
        .iter()
        .map(|p| members(candidates, *p))
        .collect();
    let shared_core = !core[0].is_empty() && core.iter().all(|m| *m == core[0]);
    let mut names: Vec<(Vec<&HostMatch>, String)> = Vec::new();
    if shared_core {
        names.push((core[0].clone(), "windows_update".to_owned()));
    }
    let mut refs: BTreeMap<Purpose, Vec<String>> = BTreeMap::new();
    let mut emitted: Vec<String> = Vec::new();
    for purpose in Purpose::ALL {
        if purpose == Purpose::NoPipeline {
            continue;
        }
        let set = members(candidates, purpose);
        if set.is_empty() {
            continue;
        }
        if set == [&HostMatch::Others] {
            refs.insert(purpose, vec!["all".to_owned()]);
            continue;
        }
        let name = match names.iter().find(|(members, _)| *members == set) {
            Some((_, name)) => name.clone(),
            None => {
                let name = purpose.acl_name().to_owned();
                names.push((set.clone(), name.clone()));
                name
            }
        };
        let mut acl_refs = Vec::new();
        for (kind, suffix) in ACL_KINDS {
            let values = squid_values(&set, kind);
            if values.is_empty() {
                continue;
            }
            let acl = format!("{name}{suffix}");
            if !emitted.contains(&acl) {
                emitted.push(acl.clone());
                acl_lines.extend(values.iter().map(|v| format!("acl {acl} {kind} {v}")));
            }
            acl_refs.push(acl);
        }
        refs.insert(purpose, acl_refs);
    }
    refs
}

/// Requests the CPL decides differently from the fragment, per decision and the setting
/// behind the difference.
struct Differing<'a> {
    decision: Decision,
    span: Option<Span>,
    host: &'a str,
    families: Vec<&'static str>,
    reason: String,
}

impl Differing<'_> {
    fn into_untranslated(self, file: &str) -> Untranslated {
        Untranslated {
            subject: format!(
                "{} for {} ({})",
                self.decision.cpl_name(),
                self.host,
                self.families.join(", ")
            ),
            location: self.span.map(|span| Location::new(file, span)),
            reason: self.reason,
        }
    }
}

/// The ACLs each purpose applies to, and the ACLs excepted from it.
struct Rules<'a> {
    refs: &'a BTreeMap<Purpose, Vec<String>>,
    excepts: &'a BTreeMap<Purpose, Vec<String>>,
}

impl Rules<'_> {
    fn has(&self, purpose: Purpose) -> bool {
        self.refs.contains_key(&purpose)
    }

    /// `directive` for each ACL of `purpose`, its exceptions negated before it.
    fn lines_for(&self, purpose: Purpose, directive: &str) -> Vec<String> {
        let excluded: String = self
            .excepts
            .get(&purpose)
            .into_iter()
            .flatten()
            .map(|acl| format!("!{acl} "))
            .collect();
        self.refs
            .get(&purpose)
            .into_iter()
            .flatten()
            .map(|acl| format!("{directive} {excluded}{acl}"))
            .collect()
    }
}

/// Where the fragment puts the category check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Categorization {
    /// Every host is exempt: no category ACL at all.
    Nothing,
    /// Right after the authentication exemption's allow, which lets through exactly the hosts
    /// exempt from categorisation.
    AfterAllow,
    /// Before that allow, sparing the exempt hosts (or none).
    BeforeAllow,
}

impl Categorization {
    fn of(rules: &Rules<'_>) -> Self {
        let exempt = rules.refs.get(&Purpose::NoCategorize);
        if exempt.is_some_and(|acls| acls == &["all"]) {
            return Self::Nothing;
        }
        // Only when the allow lets through exactly the hosts exempt from categorisation: a host
        // excepted from either ACL would otherwise be categorised, or not, against the CPL.
        if exempt.is_some()
            && exempt == rules.refs.get(&Purpose::NoAuth)
            && !rules.excepts.contains_key(&Purpose::NoAuth)
            && !rules.excepts.contains_key(&Purpose::NoCategorize)
        {
            Self::AfterAllow
        } else {
            Self::BeforeAllow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn translate(source: &str) -> Translation {
        to_squid(&parse(source, "t.cpl").unwrap())
    }

    #[test]
    fn hosts_with_different_bypasses_get_their_own_acls_in_the_right_order() {
        let translation = translate(
            "define url.domain condition WU\nwindowsupdate.com\nend\n\
             define url.domain condition Cdn\ncdn.example.net\nend\n\
             <Proxy>\ncondition=WU authenticate(no) webpulse.categorize.mode(none)\n\
             condition=Cdn webpulse.categorize.mode(none) detect_protocol(none)\n\
             url.host=login.example.com DENY\n\
             group=staff bypass_cache(yes)\n",
        );
        let fragment = &translation.fragment;
        for line in [
            "acl denied_hosts dstdomain login.example.com\n",
            "acl no_auth dstdomain .windowsupdate.com\n",
            "acl no_categorization dstdomain .windowsupdate.com\nacl no_categorization dstdomain .cdn.example.net\n",
            "acl no_protocol_detection dstdomain .cdn.example.net\n",
            "on_unsupported_protocol tunnel no_protocol_detection\n",
        ] {
            assert!(fragment.contains(line), "missing {line:?} in\n{fragment}");
        }
        let position = |text: &str| fragment.find(text).unwrap_or_else(|| panic!("{text}"));
        assert!(
            position("http_access deny denied_hosts")
                < position("http_access deny !no_categorization blocked_category")
        );
        assert!(
            position("http_access deny !no_categorization blocked_category")
                < position("http_access allow no_auth")
        );
        assert!(!fragment.contains("cache deny"));
        assert!(translation.untranslated.iter().any(
            |u| u.subject == "group=staff" && u.location.as_ref().is_some_and(|l| l.line == 11)
        ));
    }

    #[test]
    fn a_narrower_host_the_cpl_treats_differently_is_excluded() {
        let translation = translate(
            "<Proxy>\nurl.host=login.microsoft.com authenticate(realm)\nurl.domain=microsoft.com authenticate(no)\n",
        );
        let fragment = &translation.fragment;
        assert!(
            fragment.contains("acl no_auth_except dstdomain login.microsoft.com\n"),
            "{fragment}"
        );
        assert!(
            fragment.contains("http_access allow !no_auth_except no_auth\n"),
            "{fragment}"
        );
    }

    #[test]
    fn ssl_layer_allow_and_deny_by_certificate_name_keep_their_meaning() {
        let translation = translate(
            "<SSL>\nserver.certificate.hostname.exact=\"www.example.com\" Allow\nserver.certificate.hostname=\".example.com\" Deny\nserver.certificate.hostname.substring=\"example.com\" Allow\n",
        );
        let fragment = &translation.fragment;
        for line in [
            "acl denied_tls_hosts dstdomain .example.com\n",
            "acl denied_tls_hosts_except dstdomain www.example.com\n",
            "http_access deny CONNECT !denied_tls_hosts_except denied_tls_hosts\n",
        ] {
            assert!(fragment.contains(line), "missing {line:?} in\n{fragment}");
        }
    }

    #[test]
    fn path_tests_and_header_tests_in_conditions_are_listed() {
        let translation = translate(
            "define condition Agents\nrequest.header.User-Agent=\"Windows-Update-Agent\"\nend\n<Proxy>\ncondition=Agents authenticate(no)\nurl.domain=windowsupdate.com url.path.prefix=/v9 bypass_cache(yes)\n",
        );
        let subjects: Vec<&str> = translation
            .untranslated
            .iter()
            .map(|u| u.subject.as_str())
            .collect();
        assert!(
            subjects
                .iter()
                .any(|s| s.starts_with("request.header.User-Agent")),
            "{subjects:?}"
        );
        assert!(
            subjects.iter().any(|s| s.starts_with("url.path.prefix")),
            "{subjects:?}"
        );
        assert!(translation.may_change_update_properties());
        assert!(translation
            .update_host_risks
            .iter()
            .any(|r| r.subject.starts_with("authenticate for")));
    }

    #[test]
    fn an_unconditional_bypass_applies_to_all() {
        let translation = translate(
            "<Cache>\nresponse.icap_service(no)\n<Proxy>\nwebpulse.categorize.mode(none) authenticate(no)\n",
        );
        let fragment = &translation.fragment;
        assert!(fragment.contains("adaptation_access lab_respmod deny all\n"));
        assert!(fragment.contains("http_access allow all\n"));
        assert!(!fragment.contains("blocked_category"), "{fragment}");
    }

    /// Found by the lab check (`tests/lab/cpl_in_squid.rs`, seed 2): the categoriser was placed
    /// after the allow of `no_auth`, so a host given back authentication still skipped by the
    /// CPL's categorisation bypass was categorised.
    #[test]
    fn a_host_excepted_from_authenticate_no_keeps_its_categorization_bypass() {
        let translation = translate(
            "define url.domain condition WU\nmicrosoft.com\nend\n\
             <Proxy>\ncondition=WU authenticate(no) webpulse.categorize.mode(none)\n\
             <Proxy>\nurl.host=7.tlu.dl.delivery.mp.microsoft.com authenticate(corp_realm)\n",
        );
        let fragment = &translation.fragment;
        let position = |text: &str| {
            fragment
                .find(text)
                .unwrap_or_else(|| panic!("{text} missing in\n{fragment}"))
        };
        assert!(
            position("http_access deny !no_auth blocked_category\n")
                < position("http_access allow !no_auth_except no_auth\n")
        );
        assert!(!fragment.contains("\nhttp_access deny blocked_category\n"));
    }

    /// Found by the lab check (`tests/lab/cpl_in_squid.rs`, seed 2): `cache(no)` was listed as
    /// not translated and Squid served update payloads from its cache.
    #[test]
    fn cache_no_keeps_responses_out_of_the_cache_like_bypass_cache() {
        let translation = translate(
            "define url.domain condition WU\nwindowsupdate.com\nend\n\
             <Proxy>\ncondition=WU authenticate(no)\n\
             <Cache>\ncondition=WU cache(no)\nurl.host=www.example.com cache(no)\n\
             <Cache>\nurl.host=ctldl.windowsupdate.com cache(yes)\n",
        );
        let fragment = &translation.fragment;
        for line in [
            "acl no_cache dstdomain .windowsupdate.com\nacl no_cache dstdomain www.example.com\n",
            "acl no_cache_except dstdomain ctldl.windowsupdate.com\n",
            "# bypass_cache(yes) or cache(no) (CPL lines 7, 8)\ncache deny !no_cache_except no_cache\n",
        ] {
            assert!(fragment.contains(line), "missing {line:?} in\n{fragment}");
        }
        assert!(
            !translation
                .untranslated
                .iter()
                .any(|u| u.subject.starts_with("cache(")),
            "{:?}",
            translation.untranslated
        );
    }

    #[test]
    fn regex_escaping_for_partial_host_matches() {
        assert_eq!(escape("a.b+c"), "a\\.b\\+c");
        let translation = translate("<SSL-Intercept>\nurl.host.prefix=\"upd.\" ssl.forward_proxy(no) detect_protocol(none)\n");
        assert!(translation
            .fragment
            .contains("acl no_tls_interception_regex dstdom_regex -i ^upd\\.\n"));
    }
}
