//! The run's own writer: turns cucumber's event stream into [`ScenarioOutcome`]s (the failed
//! step with its line, expected vs actual and evidence; the lab hosts each scenario names) and
//! reports progress — one updating line on a terminal, plain lines otherwise. Every report
//! (console summary, HTML, the self-test table) is rendered from what it records.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use cucumber::{event, gherkin, parser, Event};

use conformance_steps::ConformanceWorld;

use conformance_lab::NotObservable;

use crate::model::{FailedStep, ScenarioOutcome, ScenarioState};

/// How progress is shown while the run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (the console writer or the caller reports).
    Silent,
    /// On stderr: an updating line on a terminal, a line per scenario otherwise (CI).
    Lines,
}

#[derive(Debug, Default)]
pub(crate) struct Recorded {
    pub outcomes: Vec<ScenarioOutcome>,
    pub parse_errors: Vec<String>,
    /// Scenarios cucumber ran again (the runner asks for no retry; a report says so if one
    /// ever happens).
    pub retries: Vec<String>,
}

/// The recording writer.
pub(crate) struct Recorder {
    shared: Arc<Mutex<Recorded>>,
    /// Scenarios started and not finished, by file and line (outline rows have their own).
    running: HashMap<(Option<PathBuf>, usize), ScenarioOutcome>,
    progress: Progress,
    interactive: bool,
    total: Option<usize>,
    done: usize,
    failed: usize,
    started: Instant,
}

impl Recorder {
    pub(crate) fn new(shared: Arc<Mutex<Recorded>>, progress: Progress, total: usize) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Self {
            shared,
            running: HashMap::new(),
            progress,
            interactive,
            total: Some(total),
            done: 0,
            failed: 0,
            started: Instant::now(),
        }
    }

    fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> (Option<PathBuf>, usize) {
        (feature.path.clone(), scenario.position.line)
    }

    fn on_scenario(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        event: event::Scenario<ConformanceWorld>,
        at: SystemTime,
    ) {
        let key = Self::key(feature, scenario);
        match event {
            event::Scenario::Started => {
                let mut outcome = new_outcome(feature, rule, scenario);
                outcome.started_at = Some(at);
                self.running.insert(key, outcome);
            }
            event::Scenario::Step(step, result) | event::Scenario::Background(step, result) => {
                let failure = match result {
                    event::Step::Failed(_, location, _, error) => Some((
                        error_message(&error),
                        location.map(|l| format!("{}:{}", l.path, l.line)),
                    )),
                    event::Step::Skipped => Some((
                        "no step definition matches this step (unknown steps fail, they never \
                         skip)"
                            .to_owned(),
                        None,
                    )),
                    _ => None,
                };
                if let (Some((message, definition)), Some(outcome)) =
                    (failure, self.running.get_mut(&key))
                {
                    outcome.state = ScenarioState::Failed;
                    outcome.failed_step.get_or_insert(FailedStep {
                        text: format!("{}{}", step.keyword, step.value),
                        line: step.position.line,
                        message,
                        definition,
                    });
                }
            }
            event::Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                // The runner's after hook raises a typed payload for a scenario whose steps
                // passed but whose property could not be observed in this mode.
                if let Some(unseen) = info.downcast_ref::<NotObservable>() {
                    if let Some(outcome) = self
                        .running
                        .get_mut(&key)
                        .filter(|o| o.state == ScenarioState::Passed)
                    {
                        outcome.state = ScenarioState::NotObservable(unseen.clone());
                    }
                    return;
                }
                if let Some(outcome) = self.running.get_mut(&key) {
                    outcome.state = ScenarioState::Failed;
                    outcome.failed_step.get_or_insert(FailedStep {
                        text: "(hook)".to_owned(),
                        line: scenario.position.line,
                        message: panic_message(&info),
                        definition: None,
                    });
                }
            }
            event::Scenario::Finished => {
                if let Some(mut outcome) = self.running.remove(&key) {
                    outcome.finished_at = Some(at);
                    self.finished(&outcome);
                    self.shared
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .outcomes
                        .push(outcome);
                }
            }
            _ => {}
        }
    }

    fn note_retry(
        &self,
        feature: &gherkin::Feature,
        scenario: &gherkin::Scenario,
        retryable: &event::RetryableScenario<ConformanceWorld>,
    ) {
        let Some(retries) = retryable.retries.filter(|r| r.current > 0) else {
            return;
        };
        if matches!(retryable.event, event::Scenario::Started) {
            self.shared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retries
                .push(format!(
                    "scenario {}:{} ({}) was run again (attempt {})",
                    feature.path.as_ref().map_or_else(
                        || feature.name.clone(),
                        |p| conformance_lab::display_path(p)
                    ),
                    scenario.position.line,
                    scenario.name,
                    retries.current + 1
                ));
        }
    }

    fn finished(&mut self, outcome: &ScenarioOutcome) {
        self.done += 1;
        if outcome.failed() {
            self.failed += 1;
        }
        if self.progress == Progress::Silent {
            return;
        }
        let total = self.total.map_or_else(|| "?".to_owned(), |t| t.to_string());
        let mark = match outcome.state {
            ScenarioState::Passed => "ok  ",
            ScenarioState::Failed => "FAIL",
            ScenarioState::NotObservable(_) => "n/o ",
            ScenarioState::ScopeWarning(_) => "warn",
            ScenarioState::LabFault(_) => "lab ",
        };
        let mut err = std::io::stderr().lock();
        if self.interactive {
            let _ = write!(
                err,
                "\r\x1b[2K[{}/{total}] {} failed, {:.1} s — {}",
                self.done,
                self.failed,
                self.started.elapsed().as_secs_f64(),
                outcome.scenario
            );
            if outcome.failed() {
                let _ = writeln!(err, "\r\x1b[2KFAIL {}", outcome.location());
            }
        } else {
            let _ = writeln!(
                err,
                "[{}/{total}] {mark} {}:{} {}",
                self.done, outcome.feature, outcome.line, outcome.scenario
            );
        }
    }
}

fn new_outcome(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> ScenarioOutcome {
    let hosts = feature
        .background
        .iter()
        .flat_map(|b| &b.steps)
        .chain(&scenario.steps)
        .flat_map(|step| conformance_steps::host_references(&step.value))
        .map(str::to_owned)
        .fold(Vec::new(), |mut hosts, host| {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
            hosts
        });
    ScenarioOutcome {
        feature: feature.path.as_ref().map_or_else(
            || feature.name.clone(),
            |p| conformance_lab::display_path(p),
        ),
        scenario: scenario.name.clone(),
        line: scenario.position.line,
        tags: feature
            .tags
            .iter()
            .chain(rule.iter().flat_map(|r| &r.tags))
            .chain(&scenario.tags)
            .map(|t| format!("@{t}"))
            .collect(),
        hosts,
        state: ScenarioState::Passed,
        failed_step: None,
        token: None,
        claimed_by: Vec::new(),
        started_at: None,
        finished_at: None,
        kinds_policed: None,
    }
}

/// The `"…"` strings in a step's text.
fn error_message(error: &event::StepError) -> String {
    match error {
        event::StepError::Panic(info) => panic_message(info),
        other => other.to_string(),
    }
}

fn panic_message(info: &event::Info) -> String {
    if let Some(text) = info.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = info.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        "the step panicked".to_owned()
    }
}

impl cucumber::Writer<ConformanceWorld> for Recorder {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        event: parser::Result<Event<event::Cucumber<ConformanceWorld>>>,
        _cli: &Self::Cli,
    ) {
        let (event, at) = match event {
            Ok(event) => (event.value, event.at),
            Err(error) => {
                self.shared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .parse_errors
                    .push(error.to_string());
                return;
            }
        };
        match event {
            event::Cucumber::Feature(feature, event::Feature::Scenario(scenario, retryable)) => {
                self.note_retry(&feature, &scenario, &retryable);
                self.on_scenario(&feature, None, &scenario, retryable.event, at);
            }
            event::Cucumber::Feature(
                feature,
                event::Feature::Rule(rule, event::Rule::Scenario(scenario, retryable)),
            ) => {
                self.note_retry(&feature, &scenario, &retryable);
                self.on_scenario(&feature, Some(&rule), &scenario, retryable.event, at);
            }
            event::Cucumber::Finished if self.progress == Progress::Lines && self.interactive => {
                let _ = writeln!(std::io::stderr());
            }
            _ => {}
        }
    }
}
