//! The run model every report is rendered from: each scenario's outcome (its failed step with
//! line, expected vs actual and evidence) and the run as a whole.

use std::path::PathBuf;
use std::time::Duration;

use conformance_lab::display_path;
use conformance_spec::PROPERTY_TAGS;

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    /// The feature file (or the feature's name when it has no file).
    pub feature: String,
    pub scenario: String,
    /// Line of the scenario (of the example row, for outlines).
    pub line: usize,
    /// Feature, rule and scenario tags, with their `@`.
    pub tags: Vec<String>,
    /// Lab host names the scenario's steps name.
    pub hosts: Vec<String>,
    pub passed: bool,
    /// The step that failed, when one did.
    pub failed_step: Option<FailedStep>,
}

/// The failing step of a scenario.
#[derive(Debug, Clone)]
pub struct FailedStep {
    /// Keyword and text, e.g. `Then the client receives status 200`.
    pub text: String,
    pub line: usize,
    /// Expected vs actual and the evidence, as the step reported it.
    pub message: String,
    /// Where the step's definition is (`steps/src/ranges.rs:385`), so the self-test can tell
    /// which check failed, whatever the step's wording in the feature.
    pub definition: Option<String>,
}

impl ScenarioOutcome {
    /// `file:line: scenario`, and the failed step's line when there is one.
    pub fn location(&self) -> String {
        match &self.failed_step {
            Some(step) => format!("{}:{} ({})", self.feature, step.line, self.scenario),
            None => format!("{}:{} ({})", self.feature, self.line, self.scenario),
        }
    }
}

impl ScenarioOutcome {
    /// The property tags this scenario carries.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| PROPERTY_TAGS.contains(t))
    }

    pub fn is_control(&self) -> bool {
        self.tags.iter().any(|t| t == "@control")
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    pub policy: PathBuf,
    pub scenarios: Vec<ScenarioOutcome>,
    pub parse_errors: Vec<String>,
    /// Scenarios the run selected (the user's and the controls pulled in with them).
    pub selected: usize,
    /// The seed the run's host names were drawn from.
    pub host_seed: u64,
    /// Each wildcard pattern with the names drawn under it, then the look-alikes.
    pub drawn_hosts: Vec<(String, Vec<String>)>,
    pub lab_start: Duration,
    pub duration: Duration,
}

impl SuiteReport {
    /// Whether every selected scenario ran and passed (the self-test judges mutants by this).
    pub fn passed(&self) -> bool {
        self.parse_errors.is_empty()
            && !self.scenarios.is_empty()
            && self.scenarios.len() >= self.selected
            && self.scenarios.iter().all(|s| s.passed)
    }

    /// Selected scenarios that recorded no outcome.
    pub fn missing_outcomes(&self) -> usize {
        self.selected.saturating_sub(self.scenarios.len())
    }

    pub fn failed(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios.iter().filter(|s| !s.passed)
    }

    /// `VERDICT: N scenarios: P passed, F failed (lab Xs, run Ys)`.
    pub fn summary(&self) -> String {
        let failed = self.failed().count();
        format!(
            "{}: {} scenarios: {} passed, {failed} failed (lab start {:.1} s, whole run {:.1} s, policy {})",
            self.verdict().to_string().to_uppercase(),
            self.scenarios.len(),
            self.scenarios.len() - failed,
            self.lab_start.as_secs_f64(),
            self.duration.as_secs_f64(),
            display_path(&self.policy)
        )
    }
}
