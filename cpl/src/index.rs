//! Indexes that keep evaluation linear on real-size lists: for every large pattern section and
//! large condition definition, the rules (entries) keyed by the host name they require, so a
//! request is tested only against the few whose host can match (by walking the labels of its
//! host), plus those that need no particular host. The result is the same as testing every
//! rule in order; the trace marks the others as missed.

use crate::ast::{ConditionDefinition, ConditionKind, Item, Layer, ValueExpr};
use crate::policy_index::{KeyIndex, PolicyIndex};
use crate::request::UrlPattern;
use crate::trigger_test::{Component, Matcher, Test};

/// Below this many rules a section is simply tested rule by rule.
const INDEX_FROM: usize = 16;

fn host_key(pattern: &str, domain: bool) -> Option<String> {
    let host = UrlPattern::parse(pattern).host?;
    let host = host.trim_start_matches('.');
    if host.is_empty() {
        return None;
    }
    Some(if domain {
        format!("d:{host}")
    } else {
        format!("e:{host}")
    })
}

/// The host a rule cannot match without: from its first positive single-valued host trigger.
fn rule_key(items: &[Item]) -> Option<String> {
    items.iter().find_map(|item| {
        let Item::Trigger(trigger) = item else {
            return None;
        };
        let ValueExpr::Atom(atom) = &trigger.value else {
            return None;
        };
        if trigger.negated {
            return None;
        }
        match trigger.test {
            Test::Url(Component::Whole, Matcher::Default) => host_key(&atom.text, false),
            Test::Url(Component::Whole, Matcher::Domain) => host_key(&atom.text, true),
            Test::Url(Component::Host, Matcher::Default | Matcher::Exact) => {
                Some(format!("e:{}", atom.text.to_ascii_lowercase()))
            }
            Test::Url(Component::Host, Matcher::Domain) => Some(format!(
                "d:{}",
                atom.text.trim_start_matches('.').to_ascii_lowercase()
            ))
            .filter(|key| key.len() > 2),
            _ => None,
        }
    })
}

impl PolicyIndex {
    pub(crate) fn build(layers: &[Layer], conditions: &[ConditionDefinition]) -> Self {
        let mut index = PolicyIndex::default();
        for (layer_index, layer) in layers.iter().enumerate() {
            for (section_index, section) in layer.sections.iter().enumerate() {
                if section.rules.len() < INDEX_FROM {
                    continue;
                }
                let mut keys = KeyIndex::default();
                for (position, rule) in section.rules.iter().enumerate() {
                    match rule_key(&rule.items) {
                        Some(key) => keys.keys.entry(key).or_default().push(position),
                        None => keys.unkeyed.push(position),
                    }
                }
                index.sections.insert((layer_index, section_index), keys);
            }
        }
        for definition in conditions {
            if definition.entries.len() < INDEX_FROM
                || matches!(
                    definition.kind,
                    ConditionKind::Condition | ConditionKind::UrlRegex
                )
            {
                continue;
            }
            let domain = definition.kind != ConditionKind::Url;
            let mut keys = KeyIndex::default();
            for (position, entry) in definition.entries.iter().enumerate() {
                match entry
                    .pattern
                    .as_ref()
                    .and_then(|p| host_key(&p.text, domain))
                {
                    Some(key) => keys.keys.entry(key).or_default().push(position),
                    None => keys.unkeyed.push(position),
                }
            }
            index.conditions.insert(definition.span.start, keys);
        }
        index
    }

    /// The rules of a section that can match `host`, in order; `None` when not indexed.
    pub(crate) fn candidate_rules(
        &self,
        layer: usize,
        section: usize,
        host: &str,
    ) -> Option<Vec<usize>> {
        self.sections
            .get(&(layer, section))
            .map(|keys| keys.candidates(host))
    }

    /// The entries of a definition that can match `host`, in order; `None` when not indexed.
    pub(crate) fn candidate_entries(
        &self,
        definition: &ConditionDefinition,
        host: &str,
    ) -> Option<Vec<usize>> {
        self.conditions
            .get(&definition.span.start)
            .map(|keys| keys.candidates(host))
    }
}
