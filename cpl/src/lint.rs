//! Lint: the parser's findings plus checks of what a Windows Update bypass policy means —
//! rules outside layers; conditions that are undefined, defined twice, empty, unused, or
//! compared as strings by another trigger; over-broad (substring, prefix, suffix, regex) host
//! matches in a bypass; properties in layers that do not take them; properties written with a
//! blank before their value; unreachable rules; `*` in domain patterns; and the Windows Update
//! requests the bypass does not cover, from the one evaluation `explain` and `to-squid` read
//! too ([`crate::update_assessment`]). Errors make `lint` exit non-zero.

use std::collections::BTreeMap;

use crate::ast::{Atom, ConditionKind, Item, LayerKind, Policy, Rule, Trigger};
use crate::coverage;
use crate::decision::Decision;
use crate::diagnostic::Diagnostic;
use crate::names;
use crate::trigger_test::{Component, Matcher, Test};
use crate::update_assessment;

/// What `lint` checks beyond the language itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// Check that every Windows Update host gets every bypass property, even when the policy
    /// does not evidently bypass update hosts (`lint --require windows-update`).
    pub require_windows_update: bool,
}

/// [`lint_with`] under the default options: the Windows Update coverage check runs only when
/// the policy evidently bypasses update hosts.
pub fn lint(policy: &Policy) -> Vec<Diagnostic> {
    lint_with(policy, &LintOptions::default())
}

/// Every finding about `policy`, in source order, with the host-coverage finding last.
pub fn lint_with(policy: &Policy, options: &LintOptions) -> Vec<Diagnostic> {
    let mut diagnostics = policy.parse_diagnostics.clone();
    diagnostics.extend(names::check(policy));
    diagnostics.extend(empty_layers_and_sections(policy));
    diagnostics.extend(rules_outside_layers(policy));
    diagnostics.extend(undefined_conditions(policy));
    diagnostics.extend(condition_names_as_strings(policy));
    diagnostics.extend(duplicate_conditions(policy));
    diagnostics.extend(empty_conditions(policy));
    diagnostics.extend(unused_conditions(policy));
    diagnostics.extend(broad_bypass_matches(policy));
    diagnostics.extend(spaced_properties(policy));
    diagnostics.extend(unreachable_rules(policy));
    diagnostics.extend(wildcard_patterns(policy));
    diagnostics.sort_by_key(|d| d.primary.as_ref().map_or(usize::MAX, |l| l.span.start));
    let assessment = update_assessment::assess(policy);
    if options.require_windows_update || coverage::bypasses_update_hosts(&assessment) {
        let required = options.require_windows_update;
        diagnostics.extend(coverage::undecided(policy, &assessment, required));
        diagnostics.extend(coverage::check(policy, &assessment, required));
    }
    diagnostics
}

/// The Guide: a layer (or section) without rules has no effect.
fn empty_layers_and_sections(policy: &Policy) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for layer in &policy.layers {
        if layer.kind == LayerKind::Outside {
            continue;
        }
        if layer.rules().next().is_none() {
            diagnostics.push(
                Diagnostic::warning(&policy.file_name, format!("{} layer has no rule", layer.kind))
                    .code("empty-layer")
                    .at(layer.span, "no rule follows before the next layer or the end")
                    .note("the CPL Guide: a layer without rules has no effect, its guard's properties included"),
            );
            continue;
        }
        for section in &layer.sections {
            if let (Some(span), true) = (section.span, section.rules.is_empty()) {
                diagnostics.push(
                    Diagnostic::error(&policy.file_name, "section has no rule")
                        .code("empty-section")
                        .at(span, "no rule follows before the next section or layer")
                        .note("the CPL Guide: a section must contain at least one rule"),
                );
            }
        }
    }
    diagnostics
}

fn condition_uses(policy: &Policy) -> Vec<(&Trigger, &Atom)> {
    policy
        .triggers()
        .into_iter()
        .filter(|t| t.test == Test::Condition)
        .flat_map(|t| t.atoms().into_iter().map(move |(atom, _)| (t, atom)))
        .collect()
}

fn rules_outside_layers(policy: &Policy) -> Option<Diagnostic> {
    let stray: Vec<&Rule> = policy
        .layers
        .iter()
        .filter(|layer| layer.kind == LayerKind::Outside)
        .flat_map(|layer| layer.rules())
        .collect();
    let (first, rest) = stray.split_first()?;
    let message = match stray.len() {
        1 => "rule outside any layer".to_owned(),
        n => format!("{n} rules outside any layer"),
    };
    let mut diagnostic =
        Diagnostic::error(&policy.file_name, message).at(first.span, "not in a layer");
    for rule in rest {
        diagnostic = diagnostic.also_at(rule.span, "not in a layer");
    }
    diagnostic = diagnostic
        .note("CPL evaluates rules inside layers: the CPL Guide asks for a layer header (`<Proxy>`, `<Cache>`, `<SSL-Intercept>` …) before any rule, with only definitions and comments before the first one")
        .note("`explain` and `to-squid` evaluate each of these rules as if it stood in a layer of its own");
    let mut homes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in &stray {
        for item in &rule.items {
            let (decision, written) = match item {
                Item::Property(property) => match Decision::of_property(&property.name.text) {
                    Some(decision) => (decision, decision.cpl_name().to_owned()),
                    None => continue,
                },
                Item::Action(action) => (Decision::Access, action.text.to_ascii_uppercase()),
                _ => continue,
            };
            let names = homes.entry(decision.home_layer().to_string()).or_default();
            if !names.contains(&written) {
                names.push(written);
            }
        }
    }
    if !homes.is_empty() {
        let placements: Vec<String> = homes
            .iter()
            .map(|(layer, names)| format!("{} under {layer}", names.join(", ")))
            .collect();
        diagnostic = diagnostic.help(format!(
            "put each setting under the layer it belongs to: {}",
            placements.join("; ")
        ));
    }
    Some(diagnostic)
}

fn undefined_conditions(policy: &Policy) -> Vec<Diagnostic> {
    condition_uses(policy)
        .into_iter()
        .filter(|(_, atom)| {
            policy.condition(&atom.text).is_none()
                && !policy.other_definitions.iter().any(|d| {
                    d.keywords.to_ascii_lowercase().ends_with("condition")
                        && d.name.as_ref().is_some_and(|n| n.is(&atom.text))
                })
        })
        .map(|(_, atom)| {
            Diagnostic::error(
                &policy.file_name,
                format!("condition `{}` is not defined", atom.text),
            )
            .at(atom.span, format!("no `define … condition {}`", atom.text))
        })
        .collect()
}

fn condition_names_as_strings(policy: &Policy) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for trigger in policy.triggers() {
        let test = trigger.test;
        if test == Test::Condition {
            continue;
        }
        for (atom, _) in trigger.atoms() {
            let Some(definition) = policy.condition(&atom.text) else {
                continue;
            };
            let name = &trigger.name.text;
            let mut diagnostic = Diagnostic::error(
                &policy.file_name,
                format!(
                    "`{name}` is compared with the string `{}`, which names a condition",
                    atom.text
                ),
            )
            .at(atom.span, "a string, not the condition")
            .also_at(definition.name.span, "the condition it names");
            diagnostic = if test.host_matcher().is_some() {
                diagnostic.note(format!(
                    "`{name}=` compares the host name with the literal text `{}`: no real host is called that, so the rule never matches",
                    atom.text
                ))
            } else {
                diagnostic.note(format!(
                    "`{name}=` compares with the literal text; it never evaluates the condition"
                ))
            };
            diagnostics.push(diagnostic.help(format!(
                "write `condition={}` to test the condition",
                atom.text
            )));
        }
    }
    diagnostics
}

fn duplicate_conditions(policy: &Policy) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (index, definition) in policy.conditions.iter().enumerate() {
        let earlier = policy
            .condition_index
            .get(&definition.name.key())
            .filter(|&&first| first != index)
            .map(|&first| &policy.conditions[first]);
        if let Some(earlier) = earlier {
            diagnostics.push(
                Diagnostic::error(
                    &policy.file_name,
                    format!("condition `{}` is defined twice", definition.name.text),
                )
                .at(definition.name.span, "defined again here")
                .also_at(earlier.name.span, "first defined here"),
            );
        }
    }
    diagnostics
}

fn empty_conditions(policy: &Policy) -> Vec<Diagnostic> {
    let empty: Vec<&crate::ast::ConditionDefinition> = policy
        .conditions
        .iter()
        .filter(|definition| definition.entries.is_empty())
        .collect();
    if empty.is_empty() {
        return Vec::new();
    }
    let uses = condition_uses(policy);
    empty
        .into_iter()
        .map(|definition| {
            let name = &definition.name.text;
            let mut diagnostic = Diagnostic::error(
                &policy.file_name,
                format!("condition `{name}` is defined empty, so it matches nothing"),
            )
            .at(definition.name.span, "no entries before its `end`");
            let mut used = false;
            for (_, atom) in uses.iter().filter(|(_, atom)| definition.name.is(&atom.text)) {
                diagnostic = diagnostic.also_at(atom.span, "never true");
                used = true;
            }
            if used {
                diagnostic = diagnostic.note(
                    "every rule that tests it never matches: the bypass those rules carry applies to no request",
                );
            }
            diagnostic.help(format!(
                "list the hosts between `define {} {name}` and `end`",
                definition.kind.keywords()
            ))
        })
        .collect()
}

fn unused_conditions(policy: &Policy) -> Vec<Diagnostic> {
    let uses: std::collections::HashSet<String> = condition_uses(policy)
        .into_iter()
        .map(|(_, atom)| atom.text.to_ascii_lowercase())
        .collect();
    policy
        .conditions
        .iter()
        .filter(|definition| !uses.contains(&definition.name.key()))
        .map(|definition| {
            Diagnostic::warning(
                &policy.file_name,
                format!("condition `{}` is never used", definition.name.text),
            )
            .at(definition.name.span, "no `condition=` tests it")
        })
        .collect()
}

/// The settings a rule and its guards give bypass values to.
fn bypass_settings(items: &[&Item]) -> Vec<Decision> {
    let mut decisions = Vec::new();
    for item in items {
        if let Item::Property(property) = item {
            if let Some(decision) = Decision::of_property(&property.name.text) {
                if decision.is_bypass(&property.value()) && !decisions.contains(&decision) {
                    decisions.push(decision);
                }
            }
        }
    }
    decisions
}

/// Triggers that decide whether `items` match, following `condition=` into definitions.
fn deciding_triggers<'p>(policy: &'p Policy, items: &[&'p Item]) -> Vec<&'p Trigger> {
    let mut found = Vec::new();
    let mut pending: Vec<&'p Trigger> = items.iter().filter_map(|i| i.as_trigger()).collect();
    let mut visited: Vec<String> = Vec::new();
    while let Some(trigger) = pending.pop() {
        if trigger.test != Test::Condition {
            found.push(trigger);
            continue;
        }
        for (atom, _) in trigger.atoms() {
            let key = atom.text.to_ascii_lowercase();
            if visited.contains(&key) {
                continue;
            }
            visited.push(key);
            if let Some(definition) = policy.condition(&atom.text) {
                pending.extend(
                    definition
                        .entries
                        .iter()
                        .flat_map(|entry| entry.items.iter().filter_map(Item::as_trigger)),
                );
            }
        }
    }
    found.sort_by_key(|trigger| trigger.span.start);
    found.dedup_by_key(|trigger| trigger.span.start);
    found
}

fn broad_bypass_matches(policy: &Policy) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut reported = Vec::new();
    for (items, _) in policy.guarded_rules() {
        let bypassed = bypass_settings(&items);
        if bypassed.is_empty() {
            continue;
        }
        for trigger in deciding_triggers(policy, &items) {
            let test = trigger.test;
            let Some(matcher) = test.host_matcher().filter(|m| m.is_partial()) else {
                continue;
            };
            for (atom, negated) in trigger.atoms() {
                let text = atom.text.to_ascii_lowercase();
                let boundary_suffix = matcher == Matcher::Suffix && text.starts_with('.');
                if negated || boundary_suffix || reported.contains(&atom.span) {
                    continue;
                }
                reported.push(atom.span);
                diagnostics.push(broad_match(
                    policy, trigger, test, matcher, &text, &bypassed,
                ));
            }
        }
    }
    diagnostics
}

fn broad_match(
    policy: &Policy,
    trigger: &Trigger,
    test: Test,
    matcher: Matcher,
    text: &str,
    bypassed: &[Decision],
) -> Diagnostic {
    let subject = match test {
        Test::Url(Component::Whole, _) => "URL",
        _ => "host name",
    };
    let (verb, examples) = match matcher {
        Matcher::Substring => (
            "contains",
            vec![
                format!("{text}.attacker.example"),
                format!("not{text}.example"),
            ],
        ),
        Matcher::Prefix => ("starts with", vec![format!("{text}.attacker.example")]),
        Matcher::Suffix => ("ends with", vec![format!("attacker{text}")]),
        _ => ("matches", Vec::new()),
    };
    let settings: Vec<String> = bypassed.iter().map(|d| d.bypass_setting()).collect();
    let what = if bypassed == [Decision::SslForwardProxy] {
        "TLS bypass"
    } else {
        "bypass"
    };
    let mut diagnostic = Diagnostic::error(
        &policy.file_name,
        format!(
            "over-broad {what}: every {subject} that {verb} \"{text}\" gets {}",
            settings.join(" ")
        ),
    )
    .code("over-broad-bypass")
    .at(
        trigger.span,
        format!("a {} match, not a domain", matcher_name(matcher)),
    );
    diagnostic = if examples.is_empty() {
        diagnostic.note("any look-alike host the expression matches escapes inspection too")
    } else {
        let examples: Vec<String> = examples.iter().map(|e| format!("`{e}`")).collect();
        diagnostic.note(format!(
            "look-alike hosts such as {} escape inspection too",
            examples.join(" and ")
        ))
    };
    diagnostic.help(
        "match the Windows Update domains on label boundaries: `condition=` with a `define url.domain condition` list",
    )
}

fn matcher_name(matcher: Matcher) -> &'static str {
    match matcher {
        Matcher::Substring => "substring",
        Matcher::Prefix => "prefix",
        Matcher::Suffix => "suffix",
        Matcher::Regex => "regular-expression",
        _ => "string",
    }
}

fn spaced_properties(policy: &Policy) -> Vec<Diagnostic> {
    let properties = policy
        .layers
        .iter()
        .flat_map(|layer| {
            layer
                .guard
                .iter()
                .chain(layer.sections.iter().flat_map(|s| s.guard.iter()))
                .chain(layer.rules().flat_map(|r| r.items.iter()))
        })
        .filter_map(|item| match item {
            Item::Property(property) if property.spaced => Some(property),
            _ => None,
        });
    properties
        .map(|property| {
            let args: Vec<&str> = property.args.iter().map(|a| a.text.as_str()).collect();
            Diagnostic::warning(
                &policy.file_name,
                format!("blank between `{}` and its value", property.name.text),
            )
            .at(property.span, "")
            .note("the CPL Guide writes properties as `name(value)`, without a blank before `(`")
            .help(format!(
                "write `{}({})`",
                property.name.text,
                args.join(", ")
            ))
        })
        .collect()
}

fn unreachable_rules(policy: &Policy) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let unconditional = |items: &[Item]| {
        !items
            .iter()
            .any(|i| matches!(i, Item::Trigger(_) | Item::Malformed(_)))
    };
    for layer in &policy.layers {
        if layer.kind == LayerKind::Outside {
            continue;
        }
        let mut layer_shadow: Option<&Rule> = None;
        let mut unreachable: Vec<(&Rule, &Rule)> = Vec::new();
        for section in &layer.sections {
            let guarded = section.guard.iter().any(|i| matches!(i, Item::Trigger(_)));
            let mut section_shadow = None;
            for rule in &section.rules {
                if let Some(shadow) = layer_shadow.or(section_shadow) {
                    unreachable.push((rule, shadow));
                    continue;
                }
                if unconditional(&rule.items) {
                    section_shadow = Some(rule);
                    if !guarded {
                        layer_shadow = Some(rule);
                    }
                }
            }
        }
        if let Some(((first, shadow), rest)) = unreachable.split_first() {
            let message = match unreachable.len() {
                1 => "this rule can never match".to_owned(),
                n => format!("{n} rules can never match"),
            };
            let mut diagnostic = Diagnostic::warning(&policy.file_name, message)
                .at(first.span, "unreachable")
                .also_at(shadow.span, "this earlier rule matches every request");
            for (rule, _) in rest {
                diagnostic = diagnostic.also_at(rule.span, "unreachable");
            }
            diagnostics
                .push(diagnostic.note("within a layer only the first matching rule applies"));
        }
    }
    diagnostics
}

fn wildcard_patterns(policy: &Policy) -> Vec<Diagnostic> {
    let entry_patterns = policy.conditions.iter().flat_map(|definition| {
        let domain = !matches!(
            definition.kind,
            ConditionKind::Condition | ConditionKind::UrlRegex
        );
        definition
            .entries
            .iter()
            .filter_map(move |entry| entry.pattern.as_ref().filter(|_| domain))
    });
    let trigger_values = policy
        .triggers()
        .into_iter()
        .filter(|t| t.test.host_matcher().is_some_and(|m| !m.is_partial()))
        .flat_map(|t| t.atoms().into_iter().map(|(atom, _)| atom));
    entry_patterns
        .chain(trigger_values)
        .filter(|atom| atom.text.contains('*'))
        .map(|atom| {
            let domain = atom.text.replace("*.", "");
            Diagnostic::warning(
                &policy.file_name,
                format!("`{}` is not a wildcard in CPL", atom.text),
            )
            .at(atom.span, "matches only a host literally named so")
            .help(format!(
                "write `{domain}` in a `define url.domain condition` (or `url.domain={domain}`): it matches the domain and its subdomains"
            ))
        })
        .collect()
}
