//! Windows Update coverage: evaluates the policy for every concrete name of every pattern in
//! DESIGN.md's host set (`conformance_spec::WINDOWS_UPDATE_HOSTS`), over `http://` and
//! `https://`, and reports the names for which some bypass property does not end with its
//! bypass value — pointing at the policy's bypass list, the condition its bypass rules test.

use std::collections::BTreeMap;

use conformance_spec::WINDOWS_UPDATE_HOSTS;

use crate::ast::{ConditionDefinition, ConditionKind, Item, Policy, Rule};
use crate::decision::Decision;
use crate::diagnostic::Diagnostic;
use crate::evaluate::{condition_holds, evaluate, Test};
use crate::request::{domain_matches, Request};

/// One Windows Update name the bypass misses, and how.
struct Gap {
    pattern: &'static str,
    name: &'static str,
    not_bypassed: Vec<Decision>,
    denied: bool,
}

pub(crate) fn check(policy: &Policy) -> Option<Diagnostic> {
    let mut gaps = Vec::new();
    let mut total = 0;
    for host in WINDOWS_UPDATE_HOSTS {
        for name in host.names {
            total += 1;
            let http = evaluate(policy, &Request::to_host(name, false));
            let https = evaluate(policy, &Request::to_host(name, true));
            let not_bypassed: Vec<Decision> = Decision::BYPASS
                .into_iter()
                .filter(|decision| {
                    !https.bypasses(*decision)
                        || (!decision.is_tls_only() && !http.bypasses(*decision))
                })
                .collect();
            let denied = !http.bypasses(Decision::Access) || !https.bypasses(Decision::Access);
            if !not_bypassed.is_empty() || denied {
                gaps.push(Gap {
                    pattern: host.pattern,
                    name,
                    not_bypassed,
                    denied,
                });
            }
        }
    }
    if gaps.is_empty() {
        return None;
    }
    let mut diagnostic = Diagnostic::error(
        &policy.file_name,
        format!(
            "the bypass does not cover {} of the {total} Windows Update host names",
            gaps.len()
        ),
    );
    let bypass_list = bypass_list(policy);
    match bypass_list {
        Some(definition) => {
            diagnostic = diagnostic.at(definition.name.span, "the bypass list");
        }
        None => {
            if let Some(rule) = first_bypass_rule(policy) {
                diagnostic = diagnostic.at(rule.span, "the first bypass rule");
            }
        }
    }
    for gap in &gaps {
        diagnostic = diagnostic.note(describe(gap));
    }
    diagnostic = diagnostic.note(format!(
        "covered means that over http:// and https:// every one of {} ends with that value (ssl.forward_proxy over https:// only), and the request is not denied; the names are DESIGN.md's Windows Update host set",
        Decision::BYPASS.map(Decision::bypass_setting).join(" ")
    ));
    let on_list = |gap: &Gap| {
        bypass_list.is_some_and(|definition| {
            [false, true]
                .into_iter()
                .any(|tls| condition_holds(policy, definition, &Request::to_host(gap.name, tls)))
        })
    };
    let (listed, unlisted): (Vec<&Gap>, Vec<&Gap>) = gaps.iter().partition(|gap| on_list(gap));
    let list_name = bypass_list.map_or("the bypass".to_owned(), |d| format!("`{}`", d.name.text));
    let domains = domains_for(&unlisted);
    if !domains.is_empty() {
        let kind_change = match bypass_list {
            Some(definition) if definition.kind != ConditionKind::UrlDomain => format!(
                "; make it a `define url.domain condition` (it is a `define {}`), whose entries also match their subdomains",
                definition.kind.keywords()
            ),
            _ => "; in a `define url.domain condition` each entry also matches its subdomains".to_owned(),
        };
        diagnostic = diagnostic.help(format!(
            "add {} to {list_name}{kind_change}",
            domains.join(", ")
        ));
    }
    if let (false, Some(definition)) = (listed.is_empty(), bypass_list) {
        diagnostic = diagnostic.help(format!(
            "{} already holds {}: give each property named above a rule that tests `condition={}` and sets its bypass value, in the layer the property belongs to",
            list_name,
            listed.iter().map(|gap| gap.name).collect::<Vec<_>>().join(", "),
            definition.name.text
        ));
    }
    Some(diagnostic)
}

fn describe(gap: &Gap) -> String {
    let mut what = if gap.not_bypassed.len() == Decision::BYPASS.len() {
        "nothing is bypassed".to_owned()
    } else if gap.not_bypassed.is_empty() {
        String::new()
    } else {
        format!(
            "not bypassed: {}",
            gap.not_bypassed
                .iter()
                .map(|d| d.cpl_name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if gap.denied {
        if !what.is_empty() {
            what.push_str("; ");
        }
        what.push_str("the request is denied");
    }
    if gap.pattern == gap.name {
        format!("{}: {what}", gap.name)
    } else {
        format!("{} ({}): {what}", gap.name, gap.pattern)
    }
}

/// The domains to add for `gaps`: each pattern without `*.`, leaving out those another one
/// already covers.
fn domains_for(gaps: &[&Gap]) -> Vec<String> {
    let mut domains: Vec<String> = Vec::new();
    for gap in gaps {
        let domain = gap.pattern.trim_start_matches("*.").to_owned();
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    let all = domains.clone();
    domains.retain(|domain| {
        !all.iter()
            .any(|other| other != domain && domain_matches(domain, other))
    });
    domains
}

/// Whether the rule (with its layer's and section's guards) sets any bypass value.
fn sets_bypass(items: &[&Item]) -> bool {
    items.iter().any(|item| match item {
        Item::Property(property) => Decision::of_property(&property.name.text)
            .is_some_and(|decision| decision.is_bypass(&property.value())),
        _ => false,
    })
}

fn bypass_rules(policy: &Policy) -> impl Iterator<Item = (Vec<&Item>, &Rule)> {
    policy
        .guarded_rules()
        .filter(|(items, _)| sets_bypass(items))
}

fn first_bypass_rule(policy: &Policy) -> Option<&Rule> {
    bypass_rules(policy).map(|(_, rule)| rule).next()
}

/// The condition the bypass rules test most often (the earliest defined on a tie).
pub(crate) fn bypass_list(policy: &Policy) -> Option<&ConditionDefinition> {
    let mut uses: BTreeMap<usize, usize> = BTreeMap::new();
    for (items, _) in bypass_rules(policy) {
        for item in items {
            let Item::Trigger(trigger) = item else {
                continue;
            };
            if Test::of(&trigger.name.text) != Test::Condition {
                continue;
            }
            for (atom, negated) in trigger.atoms() {
                let position = policy
                    .conditions
                    .iter()
                    .position(|definition| definition.name.is(&atom.text));
                if let (Some(position), false) = (position, negated) {
                    *uses.entry(position).or_default() += 1;
                }
            }
        }
    }
    let most = uses.values().copied().max()?;
    let position = uses.iter().find(|(_, count)| **count == most)?.0;
    policy.conditions.get(*position)
}
