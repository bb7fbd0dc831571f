//! Checks the features before a lab starts: every file parses, every step has exactly one
//! definition, every host a step names can be served, and the tag expression selects
//! something. A feature problem is reported with its file and line and costs no container. The
//! hosts the features name beyond the lab's own are collected for the lab to serve.

use cucumber::feature::Ext as _;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::gherkin::{self, GherkinEnv};
use cucumber::tag::Ext as _;
use cucumber::World as _;

use conformance_lab::display_path;
use conformance_steps::{check_scenario_steps, host_references, ConformanceWorld};

use std::collections::BTreeSet;
use std::path::Path;

use conformance_model::{parse_host_reference, ExtraHosts, CONTROL_TAG, PROPERTY_TAGS};

use crate::error::SuiteError;
use crate::feature_set::FeatureSet;

/// How many scenarios (outline rows counted one by one) the run will execute, and the property
/// tags they carry (with their `@`).
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectedFeatures {
    pub scenarios: usize,
    pub all_scenarios: usize,
    pub properties: BTreeSet<String>,
    /// The hosts the selected scenarios name beyond the lab's own, for the lab to serve.
    pub extra_hosts: ExtraHosts,
}

/// Which scenarios a run executes: those the user's tag expression selects, plus the controls
/// of every property they check — a bypass verdict without its control proves nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub filter: Option<TagOperation>,
    pub controls_of: BTreeSet<String>,
}

impl Selection {
    /// Whether a scenario with these tags (cucumber's, without `@`) runs; of a feature drawn
    /// for its controls only, only the controls of the properties checked run.
    pub fn selects<'a>(
        &self,
        tags: impl Iterator<Item = &'a String> + Clone,
        controls_only: bool,
    ) -> bool {
        let by_user = !controls_only && self.filter.as_ref().is_none_or(|f| f.eval(tags.clone()));
        by_user || {
            let tags: Vec<&String> = tags.collect();
            tags.iter().any(|t| t.as_str() == &CONTROL_TAG[1..])
                && tags
                    .iter()
                    .any(|t| self.controls_of.contains(&format!("@{t}")))
        }
    }
}

pub(crate) fn check_features(
    features: &FeatureSet,
    selection: &Selection,
) -> Result<SelectedFeatures, SuiteError> {
    let definitions = ConformanceWorld::collection();
    let mut problems = Vec::new();
    let mut selected = SelectedFeatures::default();
    for file in features.files() {
        let shown = display_path(&file.path);
        let Some(feature) = parse_feature(&file.path, &shown, &mut problems) else {
            continue;
        };
        let scenarios = feature.scenarios.iter().map(|s| (None, s)).chain(
            feature
                .rules
                .iter()
                .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
        );
        for (rule, scenario) in scenarios {
            selected.all_scenarios += usize::from(!file.controls_only);
            let tags = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| &r.tags))
                .chain(&scenario.tags);
            if !selection.selects(tags.clone(), file.controls_only) {
                continue;
            }
            selected.scenarios += 1;
            selected.properties.extend(
                tags.map(|t| format!("@{t}"))
                    .filter(|t| PROPERTY_TAGS.contains(&t.as_str())),
            );
            let background = rule
                .and_then(|r| r.background.as_ref())
                .into_iter()
                .chain(feature.background.as_ref())
                .flat_map(|b| &b.steps);
            let scenario_steps: Vec<&gherkin::Step> = background.chain(&scenario.steps).collect();
            check_steps(
                &ScenarioAt {
                    shown: &shown,
                    name: &scenario.name,
                    steps: &scenario_steps,
                },
                &definitions,
                &mut selected.extra_hosts,
                &mut problems,
            );
        }
    }
    problems.dedup();
    if problems.is_empty() {
        Ok(selected)
    } else {
        Err(SuiteError::Rejected(format!(
            "the features were rejected before the lab started:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// The feature at `path` with its outlines expanded, or `None` with the problem noted.
fn parse_feature(path: &Path, shown: &str, problems: &mut Vec<String>) -> Option<gherkin::Feature> {
    let feature = match gherkin::Feature::parse_path(path, GherkinEnv::default()) {
        Ok(feature) => feature,
        Err(error) => {
            problems.push(format!("{shown}: not valid Gherkin: {error}"));
            return None;
        }
    };
    for scenario in feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| &r.scenarios))
    {
        if scenario.keyword.contains("Outline") && scenario.examples.is_empty() {
            problems.push(format!(
                "{shown}:{}: the outline \"{}\" has no Examples: its <placeholders> would run as written",
                scenario.position.line, scenario.name
            ));
        }
    }
    match feature.expand_examples() {
        Ok(feature) => Some(feature),
        Err(error) => {
            problems.push(format!("{shown}: {error}"));
            None
        }
    }
}

/// One scenario's steps (its Background's first) and where it is, for the messages.
struct ScenarioAt<'a> {
    shown: &'a str,
    name: &'a str,
    steps: &'a [&'a gherkin::Step],
}

/// Checks the steps of one scenario: each has one definition, names hosts the lab can serve
/// (collected into `extra_hosts` when beyond the lab's own), and asks for values and an order
/// the lab can serve (`check_scenario_steps`).
fn check_steps(
    scenario: &ScenarioAt<'_>,
    definitions: &cucumber::step::Collection<ConformanceWorld>,
    extra_hosts: &mut ExtraHosts,
    problems: &mut Vec<String>,
) {
    let ScenarioAt { shown, name, steps } = scenario;
    for (index, problem) in check_scenario_steps(steps.iter().map(|s| (s.ty, s.value.as_str()))) {
        let line = steps[index].position.line;
        problems.push(format!("{shown}:{line}: {problem} (in \"{name}\")"));
    }
    for step in *steps {
        let line = step.position.line;
        let text = format!("{}{}", step.keyword, step.value);
        for reference in host_references(&step.value) {
            match parse_host_reference(reference) {
                Ok(parsed) => extra_hosts.add_reference(&parsed),
                Err(instead) => problems.push(format!("{shown}:{line}: {instead}")),
            }
        }
        match definitions.find(step) {
            Ok(Some(_)) => {}
            Ok(None) => problems.push(format!(
                "{shown}:{line}: no step definition matches `{}` (in \"{name}\"){}",
                text.trim(),
                renamed_step(&step.value)
            )),
            Err(ambiguous) => problems.push(format!(
                "{shown}:{line}: `{}` matches several step definitions: {ambiguous}",
                text.trim()
            )),
        }
    }
}

/// Steps a release replaced, and what to write instead: a user's feature written against
/// the old wording gets the new one in its error.
const RENAMED_STEPS: &[(&str, &str)] = &[
    (
        "the ICAP service adapted that ",
        "a control offers each kind of object: `Given \"HOST\" serves a control object of each kind`, `When a client with the lab credentials requests each of them over HTTP`, `Then the ICAP service adapted at least one of them`",
    ),
    (
        "the second response came from the proxy's cache",
        "a control offers each kind of object: `Given \"HOST\" serves a control object of each kind`, `When a client with the lab credentials requests each of them over HTTP`, `And the same client requests each of them again`, `Then at least one of them came from the proxy's cache the second time`",
    ),
];

/// `; …` naming the replacement of a step an earlier release had, or nothing.
fn renamed_step(text: &str) -> String {
    RENAMED_STEPS
        .iter()
        .find(|(old, _)| text.starts_with(old))
        .map(|(_, instead)| format!("; this step was replaced: {instead}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::renamed_step;

    #[test]
    fn a_replaced_step_names_its_replacement_and_others_get_nothing() {
        assert!(renamed_step("the ICAP service adapted that page")
            .contains("the ICAP service adapted at least one of them"));
        assert!(
            renamed_step("the second response came from the proxy's cache")
                .contains("requests each of them again")
        );
        assert_eq!(renamed_step("the proxy asked for credentials"), "");
    }
}
