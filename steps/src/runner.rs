//! The suite runner: checks the features before anything starts (syntax, unknown steps, what
//! the tag expression selects), starts one lab for the run, measures the client's own TLS
//! fingerprint, runs the features concurrently against the lab and reports every scenario —
//! to the console, Cucumber JSON, JUnit XML and HTML. Ctrl-C stops the run and removes the lab.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance_lab::{Lab, LabError, LabOptions, Policy};
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use cucumber::writer::{Coloring, Verbosity};
use cucumber::{writer, World as _, WriterExt as _};

use crate::preflight::{check_features, SelectedFeatures};
use crate::recorder::{Progress, Recorded, Recorder, ScenarioOutcome};
use crate::world::{install_lab, ConformanceWorld};

/// The bundled features.
pub const FEATURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../features");

/// What the console shows while the suite runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Cucumber's own output: every step of every scenario.
    Steps,
    /// A progress line per scenario (or one updating line on a terminal).
    Progress,
    /// Nothing (the caller prints its own summary).
    Silent,
}

/// What to run, and where to write reports.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    pub policy: PathBuf,
    pub features: PathBuf,
    /// A Cucumber tag expression, e.g. `@auth and not @control`.
    pub tags: Option<String>,
    pub concurrency: usize,
    pub console: Console,
    /// Standard Cucumber JSON (features → elements → steps).
    pub cucumber_json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    /// One self-contained page: property × host matrix and the evidence of every failure.
    pub html: Option<PathBuf>,
    /// After the run, keep the lab up (and print how to reach it) until Ctrl-C.
    pub keep_lab: bool,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        Self {
            policy: PathBuf::from(conformance_lab::REFERENCE_POLICY),
            features: PathBuf::from(FEATURES_DIR),
            tags: None,
            concurrency: 8,
            console: Console::Steps,
            cucumber_json: None,
            junit: None,
            html: None,
            keep_lab: false,
        }
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    pub policy: PathBuf,
    pub scenarios: Vec<ScenarioOutcome>,
    pub parse_errors: Vec<String>,
    pub lab_start: Duration,
    pub duration: Duration,
}

impl SuiteReport {
    pub fn passed(&self) -> bool {
        self.parse_errors.is_empty()
            && !self.scenarios.is_empty()
            && self.scenarios.iter().all(|s| s.passed)
    }

    pub fn failed(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios.iter().filter(|s| !s.passed)
    }

    /// `N scenarios: P passed, F failed (lab Xs, run Ys)`.
    pub fn summary(&self) -> String {
        let failed = self.failed().count();
        format!(
            "{} scenarios: {} passed, {failed} failed (lab start {:.1} s, whole run {:.1} s, policy {})",
            self.scenarios.len(),
            self.scenarios.len() - failed,
            self.lab_start.as_secs_f64(),
            self.duration.as_secs_f64(),
            display_path(&self.policy)
        )
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

/// A path relative to the working directory when it is below it.
pub fn display_path(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// cucumber-rs writes tag names without their `@`; the Cucumber JSON schema and the tools
/// that read it expect `{"name": "@auth"}`.
fn add_at_to_json_tags(path: &Path) -> Result<(), SuiteError> {
    fn fix(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Array(tags)) = map.get_mut("tags") {
                    for tag in tags.iter_mut() {
                        if let Some(serde_json::Value::String(name)) = tag.get_mut("name") {
                            if !name.starts_with('@') {
                                name.insert(0, '@');
                            }
                        }
                    }
                }
                map.values_mut().for_each(fix);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(fix),
            _ => {}
        }
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        SuiteError::Usage(format!("cannot rewrite {}: {e}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
    let mut json: serde_json::Value = serde_json::from_str(&text).map_err(|e| unreadable(&e))?;
    fix(&mut json);
    let text = serde_json::to_string_pretty(&json).map_err(|e| unreadable(&e))?;
    write_report(path, &text)
}

/// Checks the features, starts a lab with the options' policy, runs the features against it,
/// writes the reports and removes the lab.
pub async fn run_suite(options: SuiteOptions) -> Result<SuiteReport, SuiteError> {
    let started = Instant::now();
    let interrupt = Interrupt::listen();
    let filter = match &options.tags {
        Some(expression) => Some(expression.parse::<TagOperation>().map_err(|e| {
            SuiteError::Usage(format!("invalid tag expression {expression:?}: {e}"))
        })?),
        None => None,
    };
    let selected = check_features(&options.features, filter.as_ref())?;
    if selected.scenarios == 0 {
        return Err(SuiteError::Usage(match &options.tags {
            Some(tags) => format!(
                "the tag expression {tags:?} selects none of the {} scenarios in {}",
                selected.all_scenarios,
                display_path(&options.features)
            ),
            None => format!("no scenarios in {}", display_path(&options.features)),
        }));
    }
    let policy =
        Policy::load(&options.policy).map_err(|e| SuiteError::Rejected(format!("{e:#}")))?;
    if options.console == Console::Progress {
        eprintln!(
            "lab: starting (policy {}, {} scenarios selected)",
            display_path(&options.policy),
            selected.scenarios
        );
    }
    let lab = tokio::select! {
        lab = Lab::start(LabOptions { policy }) => lab.map_err(|error| match error {
            LabError::PolicyRejected(message) => SuiteError::Rejected(message),
            LabError::CouldNotStart(message) => SuiteError::Lab(format!("the lab could not start: {message}")),
        })?,
        () = interrupt.wait() => return Err(SuiteError::Interrupted),
    };
    let lab_start = started.elapsed();
    if options.console == Console::Progress {
        eprintln!(
            "lab: ready in {:.1} s, proxy under test at {}",
            lab_start.as_secs_f64(),
            lab.proxy_url()
        );
    }
    let lab = Arc::new(lab);
    let outcome = tokio::select! {
        outcome = async {
            let baseline = crate::tls_baseline::measure(&lab).await.map_err(|e| {
                SuiteError::Lab(format!("measuring the client's own TLS fingerprint: {e:#}"))
            })?;
            install_lab(Some(lab.clone()), Some(baseline));
            execute(&options, filter, &selected).await
        } => outcome,
        () = interrupt.wait() => Err(SuiteError::Interrupted),
    };
    install_lab(None, None);
    if options.keep_lab && !matches!(outcome, Err(SuiteError::Interrupted)) {
        eprintln!("{}\nlab: kept until Ctrl-C", lab.describe());
        interrupt.wait().await;
    }
    lab.shutdown().await;
    let recorded = outcome?;
    let report = SuiteReport {
        policy: options.policy.clone(),
        scenarios: recorded.outcomes,
        parse_errors: recorded.parse_errors,
        lab_start,
        duration: started.elapsed(),
    };
    if let Some(path) = &options.cucumber_json {
        add_at_to_json_tags(path)?;
    }
    if let Some(path) = &options.html {
        write_report(path, &crate::html_report::render(&report))?;
    }
    Ok(report)
}

fn write_report(path: &Path, text: &str) -> Result<(), SuiteError> {
    create_parent(path)?;
    std::fs::write(path, text)
        .map_err(|e| SuiteError::Usage(format!("cannot write {}: {e}", path.display())))
}

fn create_parent(path: &Path) -> Result<(), SuiteError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| SuiteError::Usage(format!("cannot create {}: {e}", parent.display()))),
        None => Ok(()),
    }
}

fn report_file(path: Option<&PathBuf>) -> Result<Box<dyn Write>, SuiteError> {
    match path {
        Some(path) => create_parent(path)
            .and_then(|()| {
                File::create(path)
                    .map_err(|e| SuiteError::Usage(format!("cannot write {}: {e}", path.display())))
            })
            .map(|f| Box::new(f) as Box<dyn Write>),
        None => Ok(Box::new(std::io::sink())),
    }
}

async fn execute(
    options: &SuiteOptions,
    filter: Option<TagOperation>,
    selected: &SelectedFeatures,
) -> Result<Recorded, SuiteError> {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let progress = match options.console {
        Console::Progress => Progress::Lines,
        Console::Steps | Console::Silent => Progress::Silent,
    };
    let console: Box<dyn Write> = match options.console {
        Console::Steps => Box::new(std::io::stdout()),
        Console::Progress | Console::Silent => Box::new(std::io::sink()),
    };
    let json = report_file(options.cucumber_json.as_ref())?;
    let junit = report_file(options.junit.as_ref())?;
    let recorder = Recorder::new(recorded.clone(), progress, selected.scenarios);
    ConformanceWorld::cucumber()
        .with_writer(
            writer::Basic::raw(console, Coloring::Auto, Verbosity::Default)
                .summarized()
                .tee::<ConformanceWorld, _>(writer::Json::for_tee(json))
                .tee::<ConformanceWorld, _>(writer::JUnit::for_tee(junit, Verbosity::Default))
                .tee::<ConformanceWorld, _>(
                    recorder.discard_stats_writes().discard_arbitrary_writes(),
                )
                .normalized(),
        )
        .fail_on_skipped()
        .with_default_cli()
        .max_concurrent_scenarios(options.concurrency)
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
    let recorded = std::mem::take(&mut *recorded.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(recorded)
}

/// Ctrl-C, listened for from the start of a run: a signal that arrives between two stages
/// (lab start, fingerprint, scenarios) still interrupts the next one. The listener ends with
/// the run.
struct Interrupt {
    received: tokio::sync::watch::Receiver<bool>,
    listener: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    fn listen() -> Self {
        let (sender, received) = tokio::sync::watch::channel(false);
        let listener = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(true);
            }
            // Keep the sender alive so receivers never see a closed channel as a signal.
            std::future::pending::<()>().await;
        });
        Self { received, listener }
    }

    async fn wait(&self) {
        let mut received = self.received.clone();
        let _ = received.wait_for(|interrupted| *interrupted).await;
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.listener.abort();
    }
}
