//! The suite runner: starts one lab for the run, measures the client's own TLS fingerprint,
//! runs the features concurrently against the lab and reports every scenario's outcome with
//! its tags. Ctrl-C stops the run and removes the lab.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use conformance_lab::{Lab, LabError, LabOptions, Policy};
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::Stats as _;
use cucumber::writer::{Coloring, Verbosity};
use cucumber::{event, writer, World as _, WriterExt as _};
use futures::FutureExt as _;

use crate::world::{install_lab, ConformanceWorld};

/// The bundled features.
pub const FEATURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");

/// What to run.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    pub policy: PathBuf,
    pub features: PathBuf,
    /// A Cucumber tag expression, e.g. `@auth and not @control`.
    pub tags: Option<String>,
    pub concurrency: usize,
    /// Print nothing per scenario (the mutation self-test reads only the report).
    pub quiet: bool,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        Self {
            policy: PathBuf::from(conformance_lab::REFERENCE_POLICY),
            features: PathBuf::from(FEATURES_DIR),
            tags: None,
            concurrency: 8,
            quiet: false,
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    pub feature: String,
    pub scenario: String,
    pub line: usize,
    /// Feature and scenario tags, with their `@`.
    pub tags: Vec<String>,
    pub passed: bool,
    /// The failed step's message (expected, actual, evidence) when it failed.
    pub failure: Option<String>,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    pub scenarios: Vec<ScenarioOutcome>,
    pub parse_errors: usize,
    pub execution_failed: bool,
}

impl SuiteReport {
    pub fn passed(&self) -> bool {
        !self.execution_failed && self.parse_errors == 0 && self.scenarios.iter().all(|s| s.passed)
    }

    pub fn failed(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios.iter().filter(|s| !s.passed)
    }
}

/// Why a run did not produce a report; each maps to a documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Lab(String),
    #[error("interrupted: the lab was removed")]
    Interrupted,
}

impl SuiteError {
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 1,
            Self::Rejected(_) => 2,
            Self::Lab(_) => 3,
            Self::Interrupted => 130,
        }
    }
}

/// Starts a lab with the options' policy, runs the features against it and removes the lab.
pub async fn run_suite(options: SuiteOptions) -> Result<SuiteReport, SuiteError> {
    let filter = match &options.tags {
        Some(expression) => Some(expression.parse::<TagOperation>().map_err(|e| {
            SuiteError::Usage(format!("invalid tag expression {expression:?}: {e}"))
        })?),
        None => None,
    };
    if !options.features.exists() {
        return Err(SuiteError::Usage(format!(
            "no features at {}",
            options.features.display()
        )));
    }
    let policy =
        Policy::load(&options.policy).map_err(|e| SuiteError::Rejected(format!("{e:#}")))?;
    let lab = tokio::select! {
        lab = Lab::start(LabOptions { policy }) => lab.map_err(|error| match error {
            LabError::PolicyRejected(message) => SuiteError::Rejected(message),
            LabError::CouldNotStart(message) => SuiteError::Lab(format!("the lab could not start: {message}")),
        })?,
        _ = tokio::signal::ctrl_c() => return Err(SuiteError::Interrupted),
    };
    let lab = Arc::new(lab);
    let baseline = crate::tls_baseline::measure(&lab)
        .await
        .map_err(|e| SuiteError::Lab(format!("measuring the client's own TLS fingerprint: {e:#}")));
    let outcome = match baseline {
        Ok(baseline) => {
            install_lab(Some(lab.clone()), Some(baseline));
            let run = execute(&options, filter);
            tokio::select! {
                report = run => Ok(report),
                _ = tokio::signal::ctrl_c() => Err(SuiteError::Interrupted),
            }
        }
        Err(error) => Err(error),
    };
    install_lab(None, None);
    lab.shutdown().await;
    outcome
}

type Outcomes = Arc<Mutex<Vec<ScenarioOutcome>>>;

async fn execute(options: &SuiteOptions, filter: Option<TagOperation>) -> SuiteReport {
    if options.quiet {
        execute_with(std::io::sink(), Coloring::Never, options, filter).await
    } else {
        execute_with(std::io::stdout(), Coloring::Auto, options, filter).await
    }
}

async fn execute_with<Out>(
    out: Out,
    coloring: Coloring,
    options: &SuiteOptions,
    filter: Option<TagOperation>,
) -> SuiteReport
where
    Out: std::io::Write + 'static,
{
    let outcomes: Outcomes = Arc::default();
    let recorder = outcomes.clone();
    let summary = ConformanceWorld::cucumber()
        .with_writer(writer::Basic::new(out, coloring, Verbosity::Default).summarized())
        .fail_on_skipped()
        .with_default_cli()
        .max_concurrent_scenarios(options.concurrency)
        .after(move |feature, _rule, scenario, finished, _world| {
            let passed = matches!(finished, event::ScenarioFinished::StepPassed);
            let failure = match finished {
                event::ScenarioFinished::StepPassed => None,
                event::ScenarioFinished::StepSkipped => {
                    Some("a step was skipped (no step definition matched)".to_owned())
                }
                event::ScenarioFinished::BeforeHookFailed(info) => {
                    Some(format!("before hook failed: {info:?}"))
                }
                event::ScenarioFinished::StepFailed(_, _, error) => Some(error.to_string()),
            };
            let outcome = ScenarioOutcome {
                feature: feature
                    .path
                    .as_ref()
                    .map_or_else(|| feature.name.clone(), |p| p.display().to_string()),
                scenario: scenario.name.clone(),
                line: scenario.position.line,
                tags: feature
                    .tags
                    .iter()
                    .chain(&scenario.tags)
                    .map(|t| format!("@{t}"))
                    .collect(),
                passed,
                failure,
            };
            recorder
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(outcome);
            async {}.boxed_local()
        })
        .filter_run(options.features.clone(), move |feature, rule, scenario| {
            filter.as_ref().is_none_or(|filter| {
                let tags = feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| &r.tags))
                    .chain(&scenario.tags);
                filter.eval(tags)
            })
        })
        .await;
    let scenarios = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|p| p.into_inner()));
    SuiteReport {
        scenarios,
        parse_errors: summary.parsing_errors(),
        execution_failed: summary.execution_has_failed(),
    }
}
