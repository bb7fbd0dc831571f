//! The one evaluation of a policy against the Windows Update traffic model
//! ([`crate::update_traffic`]): every request of the model evaluated once with everything the
//! model knows (URL, method, headers, response type) — over TLS, the `CONNECT` of its tunnel
//! instead when the policy does not intercept it, since the proxy then sees nothing inside —
//! once by destination host alone (what the Squid fragment decides by), and with each rule it
//! cannot decide (users, groups, time, categories) taken in turn as matching. Lint's Windows
//! Update coverage and to-squid's update-host risks both read this; `explain` traces one
//! request through the same evaluator; `tests/agreement.rs` holds the three to one answer.

use std::collections::HashMap;

use crate::ast::{ConditionKind, Policy, Rule};
use crate::decision::Decision;
use crate::evaluate::{evaluate, evaluate_in, settings_with_alternative, Evaluation, Mode};
use crate::request::{Request, UrlPattern};
use crate::trigger_test::{Component, Matcher, Test};
use crate::update_traffic::{windows_update_traffic, UpdateRequest};

/// An undecided rule that, if it matched, would change whether `decision` is bypassed.
#[derive(Debug, Clone)]
pub(crate) struct Alternative<'p> {
    pub rule: &'p Rule,
    /// Why the rule cannot be decided.
    pub why: String,
    pub decision: Decision,
    /// The value `decision` would end with.
    pub value: String,
}

/// One request of the model and how the policy treats it.
#[derive(Debug, Clone)]
pub(crate) struct Assessed<'p> {
    pub traffic: UpdateRequest,
    /// The CPL's decisions for the request.
    pub evaluation: Evaluation<'p>,
    /// Index into [`Assessment::by_host`]: the decisions by destination host alone.
    carried: usize,
    pub alternatives: Vec<Alternative<'p>>,
}

impl Assessed<'_> {
    /// Whether `decision` exists for this request (TLS interception only over TLS).
    pub(crate) fn applies(&self, decision: Decision) -> bool {
        !decision.is_tls_only() || self.traffic.request.is_tls()
    }

    pub(crate) fn host(&self) -> &str {
        &self.traffic.request.host
    }
}

/// Every request of the model, assessed.
#[derive(Debug, Clone)]
pub(crate) struct Assessment<'p> {
    pub items: Vec<Assessed<'p>>,
    /// Per (host, TLS): the decisions by destination host alone.
    by_host: Vec<Evaluation<'p>>,
}

impl<'p> Assessment<'p> {
    /// What a decision by destination host alone (the fragment) gives `item`.
    pub(crate) fn carried(&self, item: &Assessed<'p>) -> &Evaluation<'p> {
        &self.by_host[item.carried]
    }
}

/// Evaluates `policy` for every request of the Windows Update traffic model.
pub(crate) fn assess(policy: &Policy) -> Assessment<'_> {
    let host_only = Mode {
        host_only: true,
        ..Mode::default()
    };
    let mut by_host = Vec::new();
    let mut host_index: HashMap<(String, bool), usize> = HashMap::new();
    // A policy that tests nothing of a request but its host and scheme treats every kind of
    // request to one host alike: evaluated once per host and scheme.
    let by_host_alone = decides_by_host_alone(policy);
    let mut done: HashMap<(String, bool), (Evaluation<'_>, Vec<Alternative<'_>>)> = HashMap::new();
    let items = windows_update_traffic()
        .into_iter()
        .map(|traffic| {
            let request = &traffic.request;
            let key = (request.host.clone(), request.is_tls());
            let carried = *host_index.entry(key.clone()).or_insert_with(|| {
                let bare = Request::to_host(&request.host, request.is_tls());
                by_host.push(evaluate_in(policy, &bare, host_only));
                by_host.len() - 1
            });
            let judge = || {
                let tunnel = traffic.tunnel().map(|connect| evaluate(policy, &connect));
                let evaluation = match tunnel {
                    Some(tunnel) if tunnel.bypasses(Decision::SslForwardProxy) => tunnel,
                    _ => evaluate(policy, request),
                };
                let alternatives = alternatives(&evaluation, request.is_tls());
                (evaluation, alternatives)
            };
            let (evaluation, alternatives) = if by_host_alone {
                done.entry(key).or_insert_with(judge).clone()
            } else {
                judge()
            };
            Assessed {
                traffic,
                evaluation,
                carried,
                alternatives,
            }
        })
        .collect();
    Assessment { items, by_host }
}

/// Whether no trigger of the policy (in rules, guards or definitions) tests more of a request
/// than its host and scheme: no path, extension, query, URL text, method or header.
fn decides_by_host_alone(policy: &Policy) -> bool {
    let triggers_ok = policy.triggers().iter().all(|trigger| match trigger.test {
        Test::Condition | Test::CertificateHost(_) | Test::Undecidable | Test::Unmodelled => true,
        Test::Url(Component::Host | Component::Scheme | Component::Port, _) => true,
        Test::Url(Component::Whole, Matcher::Default | Matcher::Domain) => trigger
            .atoms()
            .iter()
            .all(|(atom, _)| UrlPattern::parse(&atom.text).path.is_none()),
        _ => false,
    });
    let definitions_ok = policy.conditions.iter().all(|definition| {
        definition.kind != ConditionKind::UrlRegex
            && definition.entries.iter().all(|entry| {
                entry
                    .pattern
                    .as_ref()
                    .is_none_or(|pattern| UrlPattern::parse(&pattern.text).path.is_none())
            })
    });
    triggers_ok && definitions_ok
}

/// Each undecided rule taken in turn as the one its layer matches: the decisions it would
/// turn from bypassed to not bypassed, or the reverse.
fn alternatives<'p>(evaluation: &Evaluation<'p>, tls: bool) -> Vec<Alternative<'p>> {
    let mut found = Vec::new();
    for (layer_index, result) in evaluation.layers.iter().enumerate() {
        for (rule, why) in &result.undetermined {
            let settings = settings_with_alternative(evaluation, layer_index, rule);
            for decision in Decision::ALL {
                if decision.is_tls_only() && !tls {
                    continue;
                }
                let value = settings
                    .get(&decision)
                    .map_or(decision.baseline(), |s| s.value.as_str());
                if decision.is_bypass(value) != evaluation.bypasses(decision) {
                    found.push(Alternative {
                        rule,
                        why: why.clone(),
                        decision,
                        value: value.to_owned(),
                    });
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    #[test]
    fn an_extension_rule_meets_the_update_files_it_names_and_only_those() {
        let policy = parse(
            "define url.domain condition WU\nwindowsupdate.com\nend\n<Cache>\ncondition=WU response.icap_service(no)\n<Cache>\nurl.extension=cab response.icap_service(av)\n",
            "t.cpl",
        )
        .unwrap();
        let assessment = assess(&policy);
        let scanned: Vec<&str> = assessment
            .items
            .iter()
            .filter(|i| i.host() == "download.windowsupdate.com")
            .filter(|i| !i.evaluation.bypasses(Decision::ResponseIcap))
            .map(|i| i.traffic.family.name)
            .collect();
        assert!(!scanned.is_empty());
        assert!(
            scanned
                .iter()
                .all(|name| name.contains(".cab") || name.contains("trust list")),
            "{scanned:?}"
        );
        let item = assessment
            .items
            .iter()
            .find(|i| {
                i.host() == "download.windowsupdate.com"
                    && !i.evaluation.bypasses(Decision::ResponseIcap)
            })
            .unwrap();
        assert!(assessment.carried(item).bypasses(Decision::ResponseIcap));
    }

    #[test]
    fn a_group_rule_before_the_bypass_is_an_alternative() {
        let policy = parse(
            "define url.domain condition WU\nwindowsupdate.com\nend\n<Proxy>\ngroup=contractors authenticate(corp)\ncondition=WU authenticate(no)\n",
            "t.cpl",
        )
        .unwrap();
        let assessment = assess(&policy);
        let item = assessment
            .items
            .iter()
            .find(|i| i.host() == "download.windowsupdate.com")
            .unwrap();
        assert!(item.evaluation.bypasses(Decision::Authenticate));
        assert!(item
            .alternatives
            .iter()
            .any(|a| a.decision == Decision::Authenticate && a.value == "corp"));
    }
}
