//! Windows Update coverage: evaluates the policy for every concrete name of every pattern in
//! the Windows Update host set (`conformance_spec::WINDOWS_UPDATE_HOSTS`), over `http://` and
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

/// Whether some Windows Update host gets a bypass value from the policy itself (not from a
/// default): the policy is evidently a Windows Update bypass, so its coverage is checked.
pub(crate) fn bypasses_update_hosts(policy: &Policy) -> bool {
    !intended_bypass(policy).is_empty()
}

/// The bypass properties the policy itself gives some Windows Update host: the bypass it
/// evidently intends. Without `--require windows-update`, coverage checks only these.
pub(crate) fn intended_bypass(policy: &Policy) -> Vec<Decision> {
    let mut intended = Vec::new();
    for host in WINDOWS_UPDATE_HOSTS {
        for name in host.names {
            for tls in [false, true] {
                let evaluation = evaluate(policy, &Request::to_host(name, tls));
                for (decision, setting) in &evaluation.settings {
                    if *decision != Decision::Access
                        && decision.is_bypass(&setting.value)
                        && !intended.contains(decision)
                    {
                        intended.push(*decision);
                    }
                }
            }
        }
    }
    intended.sort();
    intended
}

/// One short finding naming the host patterns the bypass misses, or `None`.
pub(crate) fn check(policy: &Policy, required: bool) -> Option<Diagnostic> {
    let checked: Vec<Decision> = if required {
        Decision::BYPASS.to_vec()
    } else {
        intended_bypass(policy)
    };
    let mut gaps = Vec::new();
    for host in WINDOWS_UPDATE_HOSTS {
        for name in host.names {
            let http = evaluate(policy, &Request::to_host(name, false));
            let https = evaluate(policy, &Request::to_host(name, true));
            let not_bypassed: Vec<Decision> = checked
                .iter()
                .copied()
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
    let total = WINDOWS_UPDATE_HOSTS.len();
    let mut patterns: Vec<&str> = gaps.iter().map(|g| g.pattern).collect();
    patterns.dedup();
    let blocking = !bypasses_update_hosts(policy);
    let message = if blocking {
        format!(
            "Windows Update is required, but the policy bypasses none of its {total} host patterns"
        )
    } else {
        format!(
            "the Windows Update bypass misses {} of {total} host patterns",
            patterns.len()
        )
    };
    let mut diagnostic =
        Diagnostic::error(&policy.file_name, message).code("windows-update-coverage");
    let bypass_list = bypass_list(policy);
    match bypass_list {
        Some(definition) => diagnostic = diagnostic.at(definition.name.span, "the bypass list"),
        None => {
            if let Some(rule) = first_bypass_rule(policy) {
                diagnostic = diagnostic.at(rule.span, "the first bypass rule");
            }
        }
    }
    // One line per distinct shortfall, naming the patterns that share it.
    let mut shortfalls: Vec<(String, Vec<&str>)> = Vec::new();
    for gap in &gaps {
        let what = describe(gap);
        match shortfalls.iter_mut().find(|(w, _)| *w == what) {
            Some((_, list)) => {
                if !list.contains(&gap.pattern) {
                    list.push(gap.pattern);
                }
            }
            None => shortfalls.push((what, vec![gap.pattern])),
        }
    }
    for (what, list) in &shortfalls {
        diagnostic = diagnostic.note(format!("{what}: {}", list.join(", ")));
    }
    if blocking {
        let note = if required {
            "`--require windows-update` asked for this check; drop it for a policy meant to block or not to touch Windows Update"
        } else {
            "the policy does not bypass update hosts"
        };
        return Some(diagnostic.note(note));
    }
    if gaps.iter().any(|g| g.denied) {
        diagnostic = diagnostic.note("a denied update host cannot be bypassed: remove the rule that denies it if Windows Update must work");
    }
    let on_list = |gap: &Gap| {
        bypass_list.is_some_and(|definition| {
            [false, true]
                .into_iter()
                .any(|tls| condition_holds(policy, definition, &Request::to_host(gap.name, tls)))
        })
    };
    let (listed, unlisted): (Vec<&Gap>, Vec<&Gap>) = gaps
        .iter()
        .filter(|g| !g.not_bypassed.is_empty())
        .partition(|gap| on_list(gap));
    let list_name = bypass_list.map_or("the bypass".to_owned(), |d| format!("`{}`", d.name.text));
    let domains = domains_for(&unlisted);
    if !domains.is_empty() {
        let kind_change = match bypass_list {
            Some(definition) if definition.kind != ConditionKind::UrlDomain => format!(
                " (as a `define url.domain condition`: it is a `define {}`, whose entries do not match subdomains)",
                definition.kind.keywords()
            ),
            _ => String::new(),
        };
        diagnostic = diagnostic.help(format!(
            "add {} to {list_name}{kind_change}",
            domains.join(", ")
        ));
    }
    if let (false, Some(definition)) = (listed.is_empty(), bypass_list) {
        diagnostic = diagnostic.help(format!(
            "{list_name} already lists the others: give each missing property a rule testing `condition={}` in its layer",
            definition.name.text
        ));
    }
    Some(diagnostic)
}

fn describe(gap: &Gap) -> String {
    let mut what = if gap.not_bypassed.len() == Decision::BYPASS.len() {
        "nothing bypassed".to_owned()
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
        what.push_str("denied");
    }
    what
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
            if trigger.test != Test::Condition {
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
