//! CPL evaluation of one request. Layers run in order and are skipped when their guard does
//! not hold (`<SSL-Intercept>` and `<SSL>` only for TLS); within a layer the first matching
//! rule wins and sets its properties over the layer's and section's guard properties; a later
//! layer overrides an earlier one property by property. Triggers the URL alone cannot decide
//! (users, groups, time, categories) are undetermined: treated as not matching, with the reason
//! kept. A rule written outside any layer is evaluated as if it stood in a layer of its own.

use std::collections::BTreeMap;

use regex::RegexBuilder;

use crate::ast::{
    ActionKind, Atom, ConditionDefinition, ConditionEntry, ConditionKind, Item, Layer, Policy,
    Rule, Section, Trigger, ValueExpr,
};
use crate::decision::Decision;
use crate::request::{domain_matches, HostRule, Request, UrlPattern};
use crate::span::Span;
pub(crate) use crate::trigger_test::{Component, Matcher, Test};

/// Conditions referring to conditions deeper than this are taken for a cycle.
const MAX_CONDITION_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    Unknown(String),
}

impl Truth {
    fn all(truths: impl IntoIterator<Item = Truth>) -> Truth {
        let mut unknown = None;
        for truth in truths {
            match truth {
                Truth::False => return Truth::False,
                Truth::Unknown(why) => {
                    unknown.get_or_insert(why);
                }
                Truth::True => {}
            }
        }
        unknown.map_or(Truth::True, Truth::Unknown)
    }

    fn any(truths: impl IntoIterator<Item = Truth>) -> Truth {
        let mut unknown = None;
        for truth in truths {
            match truth {
                Truth::True => return Truth::True,
                Truth::Unknown(why) => {
                    unknown.get_or_insert(why);
                }
                Truth::False => {}
            }
        }
        unknown.map_or(Truth::False, Truth::Unknown)
    }

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown => unknown,
        }
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A decision and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    pub value: String,
    /// The property or action that set it.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum Outcome<'p> {
    Matched(&'p Section, &'p Rule),
    NoMatch,
    GuardFalse,
    GuardUndetermined(String),
    TlsOnly,
}

/// What became of one rule, as the appliance's policy trace shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleStatus {
    Matched,
    Missed,
    /// A trigger could not be decided from the request; taken as not matching (as matching
    /// under [`Mode::assume_unknown`]).
    Undecided(String),
    /// An earlier rule of the layer matched first.
    NotReached,
}

#[derive(Debug, Clone)]
pub(crate) struct LayerResult<'p> {
    pub layer: &'p Layer,
    pub outcome: Outcome<'p>,
    /// Rules that could not be decided, with why; they were taken as not matching.
    pub undetermined: Vec<(&'p Rule, String)>,
    /// Every rule of the layer in order with its status (empty when the layer was skipped).
    pub trace: Vec<(&'p Rule, RuleStatus)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Evaluation<'p> {
    pub layers: Vec<LayerResult<'p>>,
    pub settings: BTreeMap<Decision, Setting>,
    /// Every property that ends up set (lower-cased name → its arguments as written), the
    /// access properties (`allow`, `deny`, `exception()` …) excepted.
    pub properties: BTreeMap<String, Setting>,
    /// Set by `force_deny` / `force_exception()`: a later `allow` cannot undo it.
    pub forced: bool,
}

/// How triggers that cannot be decided are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Mode {
    /// Decide by destination host (and scheme) only: tests of the path, query, extension,
    /// port or whole URL text are undecided, as they are for the Squid fragment.
    pub host_only: bool,
    /// Take undecided rules as matching instead of not matching.
    pub assume_unknown: bool,
    /// Record every rule's status in [`LayerResult::trace`] (for `explain`; it costs time
    /// proportional to the whole policy per request).
    pub trace: bool,
}

impl Evaluation<'_> {
    pub(crate) fn value(&self, decision: Decision) -> &str {
        self.settings
            .get(&decision)
            .map_or(decision.baseline(), |setting| setting.value.as_str())
    }

    pub(crate) fn bypasses(&self, decision: Decision) -> bool {
        decision.is_bypass(self.value(decision))
    }

    /// Kept out of the cache: `bypass_cache(yes)`, or `cache(no)`.
    pub(crate) fn uncached(&self) -> bool {
        self.bypasses(Decision::BypassCache) || self.cache_off().is_some()
    }

    /// `cache(no)`: the response is not stored, so no later request is served from the cache
    /// (for the lab's observations and Squid's `cache deny`, as good as `bypass_cache(yes)`).
    pub(crate) fn cache_off(&self) -> Option<&Setting> {
        self.properties
            .get("cache")
            .filter(|setting| setting.value.eq_ignore_ascii_case("no"))
    }
}

pub(crate) fn evaluate<'p>(policy: &'p Policy, request: &Request) -> Evaluation<'p> {
    evaluate_in(policy, request, Mode::default())
}

pub(crate) fn evaluate_in<'p>(policy: &'p Policy, request: &Request, mode: Mode) -> Evaluation<'p> {
    let evaluator = Evaluator {
        policy,
        request,
        mode,
    };
    let mut evaluation = Evaluation {
        layers: Vec::new(),
        settings: BTreeMap::new(),
        properties: BTreeMap::new(),
        forced: false,
    };
    for (layer_index, layer) in policy.layers.iter().enumerate() {
        let mut undetermined = Vec::new();
        let mut trace = Vec::new();
        let outcome = if layer.kind.is_tls_only() && !request.is_tls() {
            Outcome::TlsOnly
        } else {
            match evaluator.items(&layer.guard, 0) {
                Truth::False => Outcome::GuardFalse,
                Truth::Unknown(why) if !mode.assume_unknown => {
                    if !mode.trace {
                        // The rules that would apply if the guard held: alternatives for
                        // analyses of what undecided triggers could change.
                        let mut ignored = Vec::new();
                        if let Outcome::Matched(_, rule) = evaluator.first_match(
                            layer_index,
                            layer,
                            &mut undetermined,
                            &mut ignored,
                        ) {
                            undetermined.push((rule, format!("layer guard: {why}")));
                        }
                    }
                    Outcome::GuardUndetermined(why)
                }
                _ => evaluator.first_match(layer_index, layer, &mut undetermined, &mut trace),
            }
        };
        if let Outcome::Matched(section, rule) = outcome {
            for items in [&layer.guard, &section.guard, &rule.items] {
                apply(&mut evaluation, items);
            }
        }
        evaluation.layers.push(LayerResult {
            layer,
            outcome,
            undetermined,
            trace,
        });
    }
    evaluation
}

/// The decisions `evaluation` would end with if, in layer `layer_index`, `rule` (an
/// undecided rule of that layer) were the one that matched.
pub(crate) fn settings_with_alternative<'p>(
    evaluation: &Evaluation<'p>,
    layer_index: usize,
    rule: &'p Rule,
) -> BTreeMap<Decision, Setting> {
    let mut alternative = Evaluation {
        layers: Vec::new(),
        settings: BTreeMap::new(),
        properties: BTreeMap::new(),
        forced: false,
    };
    for (index, result) in evaluation.layers.iter().enumerate() {
        let layer = result.layer;
        if index == layer_index {
            let section = layer
                .sections
                .iter()
                .find(|s| s.rules.iter().any(|r| std::ptr::eq(r, rule)));
            if let Some(section) = section {
                for items in [&layer.guard, &section.guard, &rule.items] {
                    apply(&mut alternative, items);
                }
            }
        } else if let Outcome::Matched(section, matched) = result.outcome {
            for items in [&layer.guard, &section.guard, &matched.items] {
                apply(&mut alternative, items);
            }
        }
    }
    alternative.settings
}

/// Whether `definition` holds for `request` on its own.
pub(crate) fn condition_holds(
    policy: &Policy,
    definition: &ConditionDefinition,
    request: &Request,
) -> bool {
    Evaluator {
        policy,
        request,
        mode: Mode::default(),
    }
    .condition(definition, 1)
        == Truth::True
}

/// The access value an access property or action sets, and whether it is forced.
fn access_value(name: &str, args: &[Atom]) -> Option<(String, bool)> {
    let first = args.first().map(|a| a.text.as_str()).unwrap_or_default();
    Some(match name.to_ascii_lowercase().as_str() {
        "allow" => ("allow".to_owned(), false),
        "deny" => ("deny".to_owned(), false),
        "force_deny" => (
            "deny (force_deny: no later allow undoes it)".to_owned(),
            true,
        ),
        "deny.unauthorized" => (
            "deny (deny.unauthorized: the client is challenged for credentials)".to_owned(),
            false,
        ),
        "exception" => (format!("deny (exception {first})"), false),
        "force_exception" => (format!("deny (force_exception {first})"), true),
        _ => return None,
    })
}

fn set_access(evaluation: &mut Evaluation<'_>, value: String, forced: bool, span: Span) {
    if evaluation.forced && !forced {
        return;
    }
    evaluation.forced |= forced;
    evaluation
        .settings
        .insert(Decision::Access, Setting { value, span });
}

fn apply(evaluation: &mut Evaluation<'_>, items: &[Item]) {
    for item in items {
        match item {
            Item::Property(property) => {
                if let Some((value, forced)) = access_value(&property.name.text, &property.args) {
                    set_access(evaluation, value, forced, property.span);
                    continue;
                }
                let setting = Setting {
                    value: property
                        .args
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    span: property.span,
                };
                evaluation.properties.insert(property.name.key(), setting);
                if let Some(decision) = Decision::of_property(&property.name.text) {
                    let setting = Setting {
                        value: property.value(),
                        span: property.span,
                    };
                    evaluation.settings.insert(decision, setting);
                }
            }
            Item::Action(action) => {
                let (value, forced) = match action.kind {
                    ActionKind::Allow => ("allow".to_owned(), false),
                    ActionKind::Deny => {
                        access_value(&action.text, &[]).unwrap_or(("deny".to_owned(), false))
                    }
                };
                set_access(evaluation, value, forced, action.span);
            }
            Item::Trigger(_) | Item::Malformed(_) => {}
        }
    }
}

struct Evaluator<'p, 'r> {
    policy: &'p Policy,
    request: &'r Request,
    mode: Mode,
}

impl<'p> Evaluator<'p, '_> {
    /// The first rule of `layer` that matches the request (sections whose guard fails are
    /// skipped), recording undecided rules and, when tracing, every rule's status.
    fn first_match(
        &self,
        layer_index: usize,
        layer: &'p Layer,
        undetermined: &mut Vec<(&'p Rule, String)>,
        trace: &mut Vec<(&'p Rule, RuleStatus)>,
    ) -> Outcome<'p> {
        let mut matched = None;
        for (section_index, section) in layer.sections.iter().enumerate() {
            if matched.is_some() {
                if self.mode.trace {
                    trace.extend(section.rules.iter().map(|r| (r, RuleStatus::NotReached)));
                }
                continue;
            }
            if !self.guard_admits(section, undetermined, trace) {
                continue;
            }
            let candidates =
                self.policy
                    .index
                    .candidate_rules(layer_index, section_index, &self.request.host);
            matched = match (&candidates, self.mode.trace) {
                // Only the candidates can match: test them alone.
                (Some(candidates), false) => {
                    self.first_candidate_match(section, candidates, undetermined)
                }
                _ => self.scan_rules(section, candidates.as_deref(), undetermined, trace),
            };
        }
        matched.unwrap_or(Outcome::NoMatch)
    }

    /// Whether `section`'s guard lets its rules be tried; a guard that fails or cannot be
    /// decided marks them (as missed, or undecided).
    fn guard_admits(
        &self,
        section: &'p Section,
        undetermined: &mut Vec<(&'p Rule, String)>,
        trace: &mut Vec<(&'p Rule, RuleStatus)>,
    ) -> bool {
        match self.items(&section.guard, 0) {
            Truth::False => {
                if self.mode.trace {
                    trace.extend(section.rules.iter().map(|r| (r, RuleStatus::Missed)));
                }
                false
            }
            Truth::Unknown(why) if !self.mode.assume_unknown => {
                let why = format!("section guard: {why}");
                undetermined.extend(section.rules.iter().map(|rule| (rule, why.clone())));
                if self.mode.trace {
                    trace.extend(
                        section
                            .rules
                            .iter()
                            .map(|r| (r, RuleStatus::Undecided(why.clone()))),
                    );
                }
                false
            }
            _ => true,
        }
    }

    /// The first of the index's candidate rules of `section` that matches (no trace).
    fn first_candidate_match(
        &self,
        section: &'p Section,
        candidates: &[usize],
        undetermined: &mut Vec<(&'p Rule, String)>,
    ) -> Option<Outcome<'p>> {
        for &rule_index in candidates {
            let rule = &section.rules[rule_index];
            match self.items(&rule.items, 0) {
                Truth::True => return Some(Outcome::Matched(section, rule)),
                Truth::False => {}
                Truth::Unknown(why) => {
                    undetermined.push((rule, why));
                    if self.mode.assume_unknown {
                        return Some(Outcome::Matched(section, rule));
                    }
                }
            }
        }
        None
    }

    /// Every rule of `section` in order until one matches (those the index rules out are
    /// missed without a test), each rule's status recorded when tracing.
    fn scan_rules(
        &self,
        section: &'p Section,
        candidates: Option<&[usize]>,
        undetermined: &mut Vec<(&'p Rule, String)>,
        trace: &mut Vec<(&'p Rule, RuleStatus)>,
    ) -> Option<Outcome<'p>> {
        let mut matched = None;
        let mut next_candidate = candidates.map(|c| c.iter().peekable());
        let mut record = |rule, status| {
            if self.mode.trace {
                trace.push((rule, status));
            }
        };
        for (rule_index, rule) in section.rules.iter().enumerate() {
            if matched.is_some() {
                if !self.mode.trace {
                    break;
                }
                record(rule, RuleStatus::NotReached);
                continue;
            }
            if let Some(iter) = next_candidate.as_mut() {
                if iter.peek().is_none_or(|&&next| next != rule_index) {
                    record(rule, RuleStatus::Missed);
                    continue;
                }
                iter.next();
            }
            match self.items(&rule.items, 0) {
                Truth::True => {
                    record(rule, RuleStatus::Matched);
                    matched = Some(Outcome::Matched(section, rule));
                }
                Truth::False => record(rule, RuleStatus::Missed),
                Truth::Unknown(why) => {
                    undetermined.push((rule, why.clone()));
                    if self.mode.assume_unknown {
                        record(rule, RuleStatus::Matched);
                        matched = Some(Outcome::Matched(section, rule));
                    } else {
                        record(rule, RuleStatus::Undecided(why));
                    }
                }
            }
        }
        matched
    }

    fn items(&self, items: &[Item], depth: usize) -> Truth {
        Truth::all(items.iter().map(|item| match item {
            Item::Trigger(trigger) => self.trigger(trigger, depth),
            Item::Malformed(malformed) => {
                Truth::Unknown(format!("malformed token `{}`", malformed.text))
            }
            Item::Property(_) | Item::Action(_) => Truth::True,
        }))
    }

    fn trigger(&self, trigger: &Trigger, depth: usize) -> Truth {
        let test = trigger.test;
        let truth = self.value(&trigger.value, &|atom| {
            self.atom(test, trigger, atom, depth)
        });
        if trigger.negated {
            truth.not()
        } else {
            truth
        }
    }

    fn value(&self, value: &ValueExpr, atom: &dyn Fn(&Atom) -> Truth) -> Truth {
        match value {
            ValueExpr::Atom(a) => atom(a),
            ValueExpr::Not(inner) => self.value(inner, atom).not(),
            ValueExpr::Any(list) => Truth::any(list.iter().map(|v| self.value(v, atom))),
            ValueExpr::All(list) => Truth::all(list.iter().map(|v| self.value(v, atom))),
        }
    }

    fn atom(&self, test: Test, trigger: &Trigger, atom: &Atom, depth: usize) -> Truth {
        let request = self.request;
        match test {
            Test::Condition => match self.policy.condition(&atom.text) {
                Some(definition) => self.condition(definition, depth + 1),
                None => Truth::Unknown(format!("condition `{}` is not defined", atom.text)),
            },
            Test::Url(component, matcher) => self.url(component, matcher, atom),
            Test::CertificateHost(_) if !request.is_tls() => Truth::False,
            Test::CertificateHost(Matcher::Default) => {
                domain_matches(&request.host, &atom.text).into()
            }
            Test::CertificateHost(matcher) => string_test(&request.host, &atom.text, matcher),
            Test::Method | Test::Header { .. } if self.mode.host_only => Truth::Unknown(format!(
                "`{}=` tests the request's method or headers, which a decision by destination host does not see",
                trigger.name.text
            )),
            Test::Method => match &request.method {
                Some(method) => method.eq_ignore_ascii_case(&atom.text).into(),
                None => not_given(trigger),
            },
            Test::Header { response, matcher } => {
                let headers = if response {
                    &request.response_headers
                } else {
                    &request.headers
                };
                let Some(headers) = headers else {
                    return not_given(trigger);
                };
                let wanted = trigger.name.text.split('.').nth(2).unwrap_or_default();
                let mut values = headers
                    .iter()
                    .filter(|(name, _)| name.eq_ignore_ascii_case(wanted))
                    .map(|(_, value)| value.as_str())
                    .peekable();
                let Some(matcher) = matcher else {
                    let present = values.peek().is_some();
                    return match atom.text.to_ascii_lowercase().as_str() {
                        "yes" | "true" => present.into(),
                        "no" | "false" => (!present).into(),
                        _ => Truth::Unknown(format!("`{}` is not yes or no", atom.text)),
                    };
                };
                Truth::any(values.map(|value| string_test(value, &atom.text, matcher)))
            }
            Test::Undecidable => Truth::Unknown(format!(
                "`{}=` depends on the user, client, time or content, not on the URL",
                trigger.name.text
            )),
            Test::Unmodelled => Truth::Unknown(format!(
                "`{}=` is not modelled by this tool",
                trigger.name.text
            )),
        }
    }

    fn url(&self, component: Component, matcher: Matcher, atom: &Atom) -> Truth {
        let request = self.request;
        let value = atom.text.as_str();
        if self.mode.host_only {
            let host_decidable = match (component, matcher) {
                (Component::Whole, Matcher::Default | Matcher::Domain) => {
                    let pattern = UrlPattern::parse(value);
                    pattern.path.is_none() && pattern.port.is_none()
                }
                (Component::Host | Component::Scheme, _) => true,
                _ => false,
            };
            if !host_decidable {
                return Truth::Unknown(format!(
                    "`{value}` is tested against the URL's path, port or text, which a decision by destination host does not see"
                ));
            }
        }
        match (component, matcher) {
            (Component::Whole, Matcher::Default) => UrlPattern::parse(value)
                .matches(request, HostRule::Exact)
                .into(),
            (Component::Whole, Matcher::Domain) => UrlPattern::parse(value)
                .matches(request, HostRule::Domain)
                .into(),
            (Component::Whole, matcher) => string_test(&request.url, value, matcher),
            (Component::Host, Matcher::Default) => {
                string_test(&request.host, value, Matcher::Exact)
            }
            (Component::Host, matcher) => string_test(&request.host, value, matcher),
            (Component::Path, Matcher::Default) => {
                string_test(&request.path, value, Matcher::Prefix)
            }
            (Component::Path, Matcher::Domain) => {
                Truth::Unknown(format!("`.domain` does not apply to a path (`{value}`)"))
            }
            (Component::Path, matcher) => string_test(&request.path, value, matcher),
            (Component::Extension, _) => {
                let segment = request.path.rsplit('/').next().unwrap_or_default();
                let extension = segment.rsplit_once('.').map_or("", |(_, e)| e);
                extension
                    .eq_ignore_ascii_case(value.trim_start_matches('.'))
                    .into()
            }
            (Component::Scheme, _) => request.scheme.eq_ignore_ascii_case(value).into(),
            (Component::Port, _) => port_matches(request.port, value),
        }
    }

    fn condition(&self, definition: &ConditionDefinition, depth: usize) -> Truth {
        if depth > MAX_CONDITION_DEPTH {
            return Truth::Unknown(format!(
                "conditions nest too deeply at `{}` (does it refer to itself?)",
                definition.name.text
            ));
        }
        let request = self.request;
        let candidates = self
            .policy
            .index
            .candidate_entries(definition, &request.host);
        let entries: Box<dyn Iterator<Item = &ConditionEntry>> = match candidates {
            Some(indices) => Box::new(indices.into_iter().map(|i| &definition.entries[i])),
            None => Box::new(definition.entries.iter()),
        };
        Truth::any(entries.map(|entry| {
            let pattern = match (&entry.pattern, definition.kind) {
                (Some(pattern), ConditionKind::Url) => UrlPattern::parse(&pattern.text)
                    .matches(request, HostRule::Exact)
                    .into(),
                (Some(_), ConditionKind::UrlRegex) if self.mode.host_only => Truth::Unknown(
                    "a `define url.regex condition` tests the whole URL, which a decision by destination host does not see".to_owned(),
                ),
                (Some(pattern), ConditionKind::UrlRegex) => {
                    string_test(&request.url, &pattern.text, Matcher::Regex)
                }
                (Some(pattern), ConditionKind::UrlDomain | ConditionKind::ServerUrlDomain) => {
                    UrlPattern::parse(&pattern.text)
                        .matches(request, HostRule::Domain)
                        .into()
                }
                _ => Truth::True,
            };
            Truth::all([pattern, self.items(&entry.items, depth)])
        }))
    }
}

/// A method or header trigger for a request known by its URL alone: undecided, in the words
/// used for every trigger the URL cannot decide.
fn not_given(trigger: &Trigger) -> Truth {
    Truth::Unknown(format!(
        "`{}=` depends on the user, client, time or content, not on the URL",
        trigger.name.text
    ))
}

/// `subject` against `pattern`, case-insensitively.
fn string_test(subject: &str, pattern: &str, matcher: Matcher) -> Truth {
    let subject = subject.to_ascii_lowercase();
    let lowered = pattern.to_ascii_lowercase();
    match matcher {
        Matcher::Default | Matcher::Exact => (subject == lowered).into(),
        Matcher::Prefix => subject.starts_with(&lowered).into(),
        Matcher::Suffix => subject.ends_with(&lowered).into(),
        Matcher::Substring => subject.contains(&lowered).into(),
        Matcher::Domain => domain_matches(&subject, &lowered).into(),
        Matcher::Regex => match RegexBuilder::new(pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            Ok(regex) => regex.is_match(&subject).into(),
            Err(_) => Truth::Unknown(format!("`{pattern}` is not a valid regular expression")),
        },
    }
}

/// `443` or a range `8000..8100`.
fn port_matches(port: Option<u16>, value: &str) -> Truth {
    let Some(port) = port else {
        return Truth::False;
    };
    let bounds = match value.split_once("..") {
        Some((low, high)) => low.parse::<u16>().ok().zip(high.parse::<u16>().ok()),
        None => value.parse::<u16>().ok().map(|p| (p, p)),
    };
    match bounds {
        Some((low, high)) => (low <= port && port <= high).into(),
        None => Truth::Unknown(format!("`{value}` is not a port or port range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn evaluate_url(source: &str, url: &str) -> (Policy, Request) {
        (
            parse(source, "t.cpl").unwrap(),
            Request::parse(url).unwrap(),
        )
    }

    #[test]
    fn the_first_matching_rule_of_a_layer_wins_and_later_layers_override() {
        let (policy, request) = evaluate_url(
            "<Proxy>\nurl.domain=example.com authenticate(no)\nauthenticate(realm)\n<Proxy>\nurl.host=www.example.com authenticate(other)\n",
            "http://www.example.com/",
        );
        let evaluation = evaluate(&policy, &request);
        assert_eq!(evaluation.value(Decision::Authenticate), "other");
        assert_eq!(evaluation.settings[&Decision::Authenticate].span.line, 5);
        let (policy, request) = evaluate_url(
            "<Proxy>\nurl.domain=example.com authenticate(no)\nauthenticate(realm)\n",
            "http://example.com/",
        );
        assert_eq!(
            evaluate(&policy, &request).value(Decision::Authenticate),
            "no"
        );
    }

    #[test]
    fn guards_gate_the_layer_and_their_properties_are_defaults() {
        let source = "<Proxy> condition=WU bypass_cache(yes)\nurl.path=/a pipeline(no)\nallow\ndefine url.domain condition WU\nupdate.microsoft.com\nend\n";
        let (policy, request) = evaluate_url(source, "http://fe2.update.microsoft.com/b");
        let evaluation = evaluate(&policy, &request);
        assert_eq!(evaluation.value(Decision::BypassCache), "yes");
        assert_eq!(evaluation.value(Decision::Pipeline), "yes");
        assert_eq!(evaluation.value(Decision::Access), "allow");
        let (policy, request) = evaluate_url(source, "http://www.example.com/a");
        let evaluation = evaluate(&policy, &request);
        assert!(matches!(evaluation.layers[0].outcome, Outcome::GuardFalse));
        assert_eq!(evaluation.value(Decision::BypassCache), "no");
    }

    #[test]
    fn tls_layers_are_skipped_for_plain_http() {
        let source = "<SSL-Intercept>\nssl.forward_proxy(no)\n";
        let (policy, request) = evaluate_url(source, "http://a.example/");
        assert!(matches!(
            evaluate(&policy, &request).layers[0].outcome,
            Outcome::TlsOnly
        ));
        let (policy, request) = evaluate_url(source, "https://a.example/");
        assert_eq!(
            evaluate(&policy, &request).value(Decision::SslForwardProxy),
            "no"
        );
    }

    #[test]
    fn undecidable_and_malformed_rules_do_not_match_but_are_recorded() {
        let (policy, request) = evaluate_url(
            "<Proxy>\ngroup=staff authenticate(no)\nAllow\"x\" bypass_cache(yes)\n",
            "http://a.example/",
        );
        let evaluation = evaluate(&policy, &request);
        assert!(matches!(evaluation.layers[0].outcome, Outcome::NoMatch));
        assert_eq!(evaluation.layers[0].undetermined.len(), 2);
        assert_eq!(evaluation.value(Decision::Authenticate), "required");
    }

    #[test]
    fn trigger_families_and_modifiers() {
        for (trigger, url, expected) in [
            (
                "server.certificate.hostname.substring=\"microsoft\"",
                "https://microsoft.evil.example/",
                true,
            ),
            (
                "server.certificate.hostname=microsoft.com",
                "http://www.microsoft.com/",
                false,
            ),
            (
                "server.certificate.hostname=microsoft.com",
                "https://www.microsoft.com/",
                true,
            ),
            ("url.host.suffix=soft.com", "http://microsoft.com/", true),
            ("url.host=microsoft.com", "http://www.microsoft.com/", false),
            (
                "url.host.regex=\"^(www|fe2)\\.\"",
                "http://FE2.update.microsoft.com/",
                true,
            ),
            ("url.port=8000..8100", "http://a.example:8080/", true),
            ("url.scheme=https", "http://a.example/", false),
            ("url=//a.example/dir", "http://a.example/dir/file", true),
            ("url.domain=!example.com", "http://a.example/", true),
            ("condition=(A, B)", "http://b.example/", true),
        ] {
            let source = format!(
                "define url.domain condition A\na.example\nend\ndefine condition B\nurl.host=b.example\nend\n<Proxy>\n{trigger} pipeline(no)\n"
            );
            let (policy, request) = evaluate_url(&source, url);
            let matched = evaluate(&policy, &request).value(Decision::Pipeline) == "no";
            assert_eq!(matched, expected, "{trigger} on {url}");
        }
    }

    #[test]
    fn method_and_header_triggers_are_decided_when_the_request_says_them() {
        let source = "<Proxy>\nhttp.method=POST pipeline(no)\n<Proxy>\nrequest.header.User-Agent=\"^Microsoft BITS\" bypass_cache(yes)\n<Cache>\nresponse.header.Content-Type.exists=yes response.icap_service(no)\n";
        let policy = parse(source, "t.cpl").unwrap();
        let bare = Request::parse("http://a.example/x.cab").unwrap();
        let evaluation = evaluate(&policy, &bare);
        assert_eq!(
            evaluation
                .layers
                .iter()
                .map(|l| l.undetermined.len())
                .sum::<usize>(),
            3
        );
        let post_bits = bare
            .clone()
            .with_method("post")
            .with_header("user-agent", "Microsoft BITS/7.8")
            .with_response_header("Content-Type", "application/octet-stream");
        let evaluation = evaluate(&policy, &post_bits);
        assert_eq!(evaluation.value(Decision::Pipeline), "no");
        assert_eq!(evaluation.value(Decision::BypassCache), "yes");
        assert_eq!(evaluation.value(Decision::ResponseIcap), "no");
        let get_browser = bare
            .with_method("GET")
            .with_header("User-Agent", "Mozilla/5.0 Microsoft BITS")
            .with_known_headers();
        let evaluation = evaluate(&policy, &get_browser);
        assert_eq!(evaluation.value(Decision::Pipeline), "yes");
        assert_eq!(evaluation.value(Decision::BypassCache), "no");
        assert_eq!(evaluation.value(Decision::ResponseIcap), "on");
        assert!(evaluation.layers.iter().all(|l| l.undetermined.is_empty()));
    }

    #[test]
    fn a_condition_that_refers_to_itself_is_undetermined() {
        let (policy, request) = evaluate_url(
            "define condition Loop\ncondition=Loop\nend\n<Proxy>\ncondition=Loop deny\n",
            "http://a.example/",
        );
        let evaluation = evaluate(&policy, &request);
        assert_eq!(evaluation.layers[0].undetermined.len(), 1);
    }
}
