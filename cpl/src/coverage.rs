//! Windows Update coverage: reads the one evaluation of the policy against the Windows Update
//! traffic model ([`crate::update_assessment`]: every concrete name of every pattern of the
//! Windows Update host set (`conformance_model::WINDOWS_UPDATE_HOSTS`), over `http://` and
//! `https://`, with every kind of request the update components make) and reports the names
//! for which some bypass property does not end with its bypass value — for every request or
//! for some kinds only (an extension, a MIME type, a method) — pointing at the policy's bypass
//! list, the condition its bypass rules test; and the rules the request cannot decide (users,
//! groups, time, categories) that would undo the bypass if they matched.

use std::collections::BTreeMap;

use conformance_model::WINDOWS_UPDATE_HOSTS;

use crate::ast::{ConditionDefinition, ConditionKind, Item, Policy, Rule};
use crate::decision::Decision;
use crate::diagnostic::Diagnostic;
use crate::evaluate::{condition_holds, Test};
use crate::request::{domain_matches, Request};
use crate::update_assessment::{Assessed, Assessment};
use crate::update_traffic::UPDATE_FAMILIES;

/// One Windows Update name the bypass misses, and how.
struct Gap {
    pattern: &'static str,
    name: &'static str,
    not_bypassed: Vec<Decision>,
    denied: bool,
    /// The kinds of request concerned, when not all of them.
    families: Option<Vec<&'static str>>,
    /// The lines of the settings that decided the shortfall, for a partial one.
    lines: Vec<usize>,
}

/// Whether some Windows Update request gets a bypass value from the policy itself (not from a
/// default): the policy is evidently a Windows Update bypass, so its coverage is checked.
pub(crate) fn bypasses_update_hosts(assessment: &Assessment<'_>) -> bool {
    !intended_bypass(assessment).is_empty()
}

/// The bypass properties the policy itself gives some Windows Update request: the bypass it
/// evidently intends. Without `--require windows-update`, coverage checks only these.
pub(crate) fn intended_bypass(assessment: &Assessment<'_>) -> Vec<Decision> {
    let mut intended = Vec::new();
    for item in &assessment.items {
        for (decision, setting) in &item.evaluation.settings {
            if *decision != Decision::Access
                && decision.is_bypass(&setting.value)
                && !intended.contains(decision)
            {
                intended.push(*decision);
            }
        }
    }
    intended.sort();
    intended
}

fn checked(assessment: &Assessment<'_>, required: bool) -> Vec<Decision> {
    if required {
        Decision::BYPASS.to_vec()
    } else {
        intended_bypass(assessment)
    }
}

/// One short finding naming the host patterns (and kinds of request) the bypass misses, or
/// `None`.
pub(crate) fn check(
    policy: &Policy,
    assessment: &Assessment<'_>,
    required: bool,
) -> Option<Diagnostic> {
    let checked = checked(assessment, required);
    let gaps: Vec<Gap> = WINDOWS_UPDATE_HOSTS
        .iter()
        .flat_map(|host| host.names.iter().map(move |name| (host.pattern, *name)))
        .filter_map(|(pattern, name)| gap_of(pattern, name, assessment, &checked))
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let blocking = !bypasses_update_hosts(assessment);
    let mut diagnostic = Diagnostic::error(&policy.file_name, headline(&gaps, blocking))
        .code("windows-update-coverage");
    let bypass_list = bypass_list(policy);
    match bypass_list {
        Some(definition) => diagnostic = diagnostic.at(definition.name.span, "the bypass list"),
        None => {
            if let Some(rule) = first_bypass_rule(policy) {
                diagnostic = diagnostic.at(rule.span, "the first bypass rule");
            }
        }
    }
    for (what, list) in &shortfalls(&gaps) {
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
    Some(with_fixes(diagnostic, policy, &gaps, bypass_list))
}

/// What the bypass misses on one update host name, if anything.
fn gap_of(
    pattern: &'static str,
    name: &'static str,
    assessment: &Assessment<'_>,
    checked: &[Decision],
) -> Option<Gap> {
    let items: Vec<&Assessed> = assessment
        .items
        .iter()
        .filter(|item| item.host() == name)
        .collect();
    let fails = |item: &Assessed, decision: Decision| {
        item.applies(decision) && !item.evaluation.bypasses(decision)
    };
    let not_bypassed: Vec<Decision> = checked
        .iter()
        .copied()
        .filter(|decision| items.iter().any(|item| fails(item, *decision)))
        .collect();
    let denied = items
        .iter()
        .any(|item| !item.evaluation.bypasses(Decision::Access));
    if not_bypassed.is_empty() && !denied {
        return None;
    }
    let mut failing: Vec<&'static str> = Vec::new();
    let mut lines = Vec::new();
    for item in &items {
        let failed: Vec<Decision> = not_bypassed
            .iter()
            .copied()
            .chain(denied.then_some(Decision::Access))
            .filter(|decision| fails(item, *decision))
            .collect();
        if failed.is_empty() {
            continue;
        }
        if !failing.contains(&item.traffic.family.name) {
            failing.push(item.traffic.family.name);
        }
        lines.extend(
            failed
                .iter()
                .filter_map(|d| item.evaluation.settings.get(d))
                .map(|setting| setting.span.line),
        );
    }
    let partial = failing.len() < UPDATE_FAMILIES.len();
    lines.sort_unstable();
    lines.dedup();
    Some(Gap {
        pattern,
        name,
        not_bypassed,
        denied,
        families: partial.then_some(failing),
        lines: if partial { lines } else { Vec::new() },
    })
}

/// The finding's first line: nothing bypassed, some kinds of request missed, or some patterns.
fn headline(gaps: &[Gap], blocking: bool) -> String {
    let total = WINDOWS_UPDATE_HOSTS.len();
    let mut patterns: Vec<&str> = gaps.iter().map(|g| g.pattern).collect();
    patterns.dedup();
    if blocking {
        format!(
            "Windows Update is required, but the policy bypasses none of its {total} host patterns"
        )
    } else if gaps.iter().all(|gap| gap.families.is_some()) {
        format!(
            "the Windows Update bypass misses some kinds of update request on {} of {total} host patterns",
            patterns.len()
        )
    } else {
        format!(
            "the Windows Update bypass misses {} of {total} host patterns",
            patterns.len()
        )
    }
}

/// One line per distinct shortfall, naming the patterns that share it.
fn shortfalls(gaps: &[Gap]) -> Vec<(String, Vec<&'static str>)> {
    let mut shortfalls: Vec<(String, Vec<&'static str>)> = Vec::new();
    for gap in gaps {
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
    shortfalls
}

/// The help lines: decide by host, add the missing domains to the bypass list, or give the
/// listed hosts the missing properties.
fn with_fixes(
    mut diagnostic: Diagnostic,
    policy: &Policy,
    gaps: &[Gap],
    bypass_list: Option<&ConditionDefinition>,
) -> Diagnostic {
    let on_list = |gap: &Gap| {
        bypass_list.is_some_and(|definition| {
            [false, true]
                .into_iter()
                .any(|tls| condition_holds(policy, definition, &Request::to_host(gap.name, tls)))
        })
    };
    let (listed, unlisted): (Vec<&Gap>, Vec<&Gap>) = gaps
        .iter()
        .filter(|g| !g.not_bypassed.is_empty() && g.families.is_none())
        .partition(|gap| on_list(gap));
    if gaps.iter().any(|g| g.families.is_some()) {
        diagnostic = diagnostic.help(
            "some update requests miss the bypass because of what they are (extension, MIME type, method or User-Agent): decide the bypass by host (`condition=` with a `define url.domain condition`), in a layer after the rules that treat such requests differently",
        );
    }
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
    diagnostic
}

fn describe(gap: &Gap) -> String {
    let mut what = if gap.not_bypassed.len() == Decision::BYPASS.len() && gap.families.is_none() {
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
    if let Some(families) = &gap.families {
        what.push_str(&format!(" for {}", families.join(", ")));
        match gap.lines[..] {
            [] => {}
            [line] => what.push_str(&format!(" (decided at line {line})")),
            _ => {
                let lines: Vec<String> = gap.lines.iter().map(ToString::to_string).collect();
                what.push_str(&format!(" (decided at lines {})", lines.join(", ")));
            }
        }
    }
    what
}

/// Rules the requests cannot decide (users, groups, time, categories …) that would take a
/// bypass away from Windows Update requests if they matched: an error under
/// `--require windows-update` (the bypass cannot be proven), else a warning.
pub(crate) fn undecided(
    policy: &Policy,
    assessment: &Assessment<'_>,
    required: bool,
) -> Option<Diagnostic> {
    /// One undecided rule that would undo the bypass.
    struct Undoing<'p> {
        rule: &'p Rule,
        why: &'p str,
        /// `decision `value`` for each decision it would undo.
        values: Vec<String>,
        decisions: Vec<Decision>,
        /// One update request it concerns.
        example: String,
    }
    let checked = checked(assessment, required);
    let mut by_rule: BTreeMap<usize, Undoing> = BTreeMap::new();
    for item in &assessment.items {
        for alternative in &item.alternatives {
            let decision = alternative.decision;
            let undoes = (checked.contains(&decision) || decision == Decision::Access)
                && item.evaluation.bypasses(decision)
                && !decision.is_bypass(&alternative.value);
            if !undoes {
                continue;
            }
            let undoing = by_rule
                .entry(alternative.rule.span.start)
                .or_insert_with(|| Undoing {
                    rule: alternative.rule,
                    why: &alternative.why,
                    values: Vec::new(),
                    decisions: Vec::new(),
                    example: item.traffic.describe(),
                });
            if !undoing.decisions.contains(&decision) {
                undoing.decisions.push(decision);
                undoing
                    .values
                    .push(format!("{decision} `{}`", alternative.value));
            }
        }
    }
    let rules: Vec<Undoing> = by_rule.into_values().collect();
    let first = rules.first()?;
    let message = "whether Windows Update is bypassed depends on what a request alone cannot tell (users, groups, time, categories …)";
    let mut diagnostic = if required {
        Diagnostic::error(&policy.file_name, message)
    } else {
        Diagnostic::warning(&policy.file_name, message)
    }
    .code("windows-update-undecided")
    .at(first.rule.span, "if this matches, the bypass is undone");
    for (index, undoing) in rules.iter().enumerate() {
        if index > 0 {
            diagnostic = diagnostic.also_at(undoing.rule.span, "this too");
        }
        diagnostic = diagnostic.note(format!(
            "line {}: when it matches, {} for update requests such as {} ({})",
            undoing.rule.span.line,
            undoing.values.join(", "),
            undoing.example,
            undoing.why
        ));
    }
    Some(diagnostic.help(
        "put the Windows Update bypass in a later layer than rules keyed on users, groups, time or categories, so that it overrides them",
    ))
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
