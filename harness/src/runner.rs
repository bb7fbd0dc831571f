//! The suite runner: checks the features before anything starts (syntax, unknown steps, what
//! the tag expression selects), starts one lab for the run, measures the client's own TLS
//! fingerprint, runs the features concurrently against the lab and reports every scenario —
//! to the console, Cucumber JSON, JUnit XML and HTML. Ctrl-C stops the run and removes the lab.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use conformance_lab::external::ExternalOptions;
use conformance_lab::{
    default_backend, Lab, LabError, LabHealth, LabMode, LabOptions, Policy, ProxyBackend, Vantage,
    WholeOptions,
};
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::writer::{Coloring, Verbosity};
use cucumber::{writer, World as _, WriterExt as _};

use conformance_lab::display_path;
use conformance_model::{Property, HOST_SEED_ENV};
use conformance_steps::{with_lab, ConformanceWorld};

use crate::bundle::Bundle;
use crate::error::SuiteError;
use crate::feature_set::FeatureSet;
use crate::interrupt::Interrupt;
use crate::invariants::{RunEvidence, ScenarioRecord};
use crate::model::{LabHealthReport, SuiteReport, VantagePoints};
use crate::outcome::Caveat;
use crate::preflight::{check_features, SelectedFeatures, Selection};
use crate::recorder::{Progress, Recorded, Recorder};
use crate::report::{self, report_file, write_report};

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
    /// Where the controls of the properties `features` checks come from when `features` is
    /// another place (a user's own directory): the bundled suite by default.
    pub controls_from: Option<PathBuf>,
    /// Feature files or directories run beside `features` (a user's own, with the bundled suite).
    pub also_features: Vec<PathBuf>,
    /// A Cucumber tag expression, e.g. `@auth and not @control`.
    pub tags: Option<String>,
    pub concurrency: usize,
    pub console: Console,
    /// Standard Cucumber JSON (features → elements → steps).
    pub cucumber_json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    /// One self-contained page: property × host matrix and the evidence of every failure.
    pub html: Option<PathBuf>,
    /// The run's own JSON report: verdict, exit code, reason, properties, failures.
    pub json: Option<PathBuf>,
    /// Print the console report on stdout (and the report files written on stderr) as soon as
    /// the verdict is known: before a kept lab is held.
    pub print_report: bool,
    /// After the run and its reports, keep the lab up (and print how to reach it) until Ctrl-C.
    pub keep_lab: bool,
    /// The policy as the user named it when `policy` is a translation of it (a `.cpl` file):
    /// the name every report shows.
    pub policy_as_given: Option<PathBuf>,
    /// What the lab's evidence cannot see: a pass becomes inconclusive with the caveat as the
    /// reason (`run --cpl`: constructs to-squid could not carry over that may change how
    /// update hosts are treated).
    pub caveats: Vec<Caveat>,
    /// A look-alike under a domain Microsoft owns that the policy lets through fails the run
    /// (by default it is a scope warning).
    pub strict_scope: bool,
    /// External mode: put this proxy (one the harness did not start) under test instead of
    /// the bundled lab's Squid; `policy` is then unused.
    pub external: Option<ExternalOptions>,
    /// `policy` is a whole `squid.conf`, mapped onto the lab (not a fragment under the lab
    /// contract).
    pub whole: Option<WholeOptions>,
    /// The bundled proxy the policy runs on (unused in external mode).
    pub backend: &'static dyn ProxyBackend,
    /// Draw the lab's host names from this seed (two runs compared on the same names).
    pub host_seed: Option<u64>,
}

impl Default for SuiteOptions {
    /// The bundled suite and reference policy (where the bundle cannot be written, the run
    /// reports the folder it could not read).
    fn default() -> Self {
        let bundle = Bundle::get();
        let from_bundle = |pick: fn(&Bundle) -> PathBuf, fallback: &str| {
            bundle
                .as_ref()
                .map_or_else(|_| PathBuf::from(fallback), pick)
        };
        Self {
            policy: from_bundle(Bundle::reference_policy, "windows-update-bypass.conf"),
            features: from_bundle(Bundle::features, "features"),
            controls_from: Some(from_bundle(Bundle::features, "features")),
            also_features: Vec::new(),
            tags: None,
            concurrency: 24,
            console: Console::Steps,
            cucumber_json: None,
            junit: None,
            html: None,
            json: None,
            print_report: false,
            keep_lab: false,
            policy_as_given: None,
            caveats: Vec::new(),
            strict_scope: false,
            external: None,
            whole: None,
            backend: default_backend(),
            host_seed: None,
        }
    }
}

/// The properties `backend` cannot police at all (it lacks the feature a policy would turn on).
fn not_applicable(backend: &dyn ProxyBackend) -> Vec<Property> {
    Property::ALL
        .into_iter()
        .filter(|p| !backend.polices().contains(p))
        .collect()
}

/// The user's tag expression with the scenarios of `left_out` properties excluded.
fn without_properties(tags: Option<&str>, left_out: &[Property]) -> Option<String> {
    let exclusions: Vec<String> = left_out
        .iter()
        .map(|p| format!("not {}", p.tag()))
        .collect();
    match (tags, exclusions.is_empty()) {
        (tags, true) => tags.map(str::to_owned),
        (Some(tags), false) => Some(format!("({tags}) and {}", exclusions.join(" and "))),
        (None, false) => Some(exclusions.join(" and ")),
    }
}

/// Checks the features, starts a lab with the options' policy, runs the features against it,
/// writes the reports and removes the lab.
pub async fn run_suite(options: SuiteOptions) -> Result<SuiteReport, SuiteError> {
    let started = Instant::now();
    let interrupt = Interrupt::listen();
    let (feature_set, selection, selected) = select_features(&options)?;
    let lab = tokio::select! {
        lab = start_lab(&options, &selected) => lab.map_err(|error| match error {
            LabError::PolicyRejected(message) => SuiteError::Rejected(message),
            LabError::CouldNotStart(message) => SuiteError::Lab(format!("the lab could not start: {message}")),
            LabError::Usage(message) => SuiteError::Usage(message),
            LabError::ProxyUnreachable(message) | LabError::ProxyCannotReachHarness(message) => {
                SuiteError::Lab(message)
            }
        })?,
        signal = interrupt.wait() => return Err(SuiteError::Interrupted(signal)),
    };
    let lab_start = started.elapsed();
    announce_ready(&options, &lab, lab_start);
    let drawn_hosts = drawn_hosts_of(&lab);
    let host_seed = lab.hosts().seed();
    let lab = Arc::new(lab);
    let health = lab.health();
    let ready_at = SystemTime::now();
    let announce = announce_faults(&options, &health);
    let outcome = tokio::select! {
        outcome = run_scenarios(&options, &lab, &feature_set, selection, &selected, &health) => outcome,
        signal = interrupt.wait() => Err(SuiteError::Interrupted(signal)),
    };
    if let Some(announce) = announce {
        announce.abort();
    }
    // A probe still in flight may find the lab broke before the scenarios ended.
    lab.stop_watching().await;
    let faults = health.faults();
    let report = outcome.and_then(|(recorded, evidence)| {
        let facts = RunFacts {
            started,
            lab_start,
            ready_at,
            host_seed,
            drawn_hosts,
            selected: selected.scenarios,
            faults,
            retries: health.retries(),
        };
        let report = build_report(&options, &lab, recorded, &evidence, facts);
        publish(&options, &report).map(|()| report)
    });
    // The verdict and the reports come first; what is done by hand on a kept lab is not the
    // run's traffic (its evidence was taken when the last scenario ended).
    if options.keep_lab && report.is_ok() {
        eprintln!("{}\nlab: kept until Ctrl-C", lab.describe());
        interrupt.wait().await;
    }
    lab.shutdown().await;
    report
}

/// The features to run and what they select: the user's tag expression (without the
/// properties the backend cannot police), then the controls of every property it selects.
/// Every problem is found here, before any lab starts.
fn select_features(
    options: &SuiteOptions,
) -> Result<(FeatureSet, Selection, SelectedFeatures), SuiteError> {
    let parse = |expression: &str| {
        expression
            .parse::<TagOperation>()
            .map_err(|e| SuiteError::Usage(format!("invalid tag expression {expression:?}: {e}")))
    };
    if let Some(expression) = &options.tags {
        parse(expression)?;
    }
    let unpoliceable = match options.external {
        Some(_) => Vec::new(),
        None => not_applicable(options.backend),
    };
    if !unpoliceable.is_empty() && options.console != Console::Silent {
        eprintln!(
            "lab: {} cannot police {}: not applicable, their scenarios are not run",
            options.backend.name(),
            unpoliceable
                .iter()
                .map(|p| p.tag())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let user_selection = Selection {
        filter: without_properties(options.tags.as_deref(), &unpoliceable)
            .map(|expression| parse(&expression))
            .transpose()?,
        controls_of: Default::default(),
    };
    let feature_set = FeatureSet::new(
        &options.features,
        &options.also_features,
        options.controls_from.as_deref(),
    )?;
    let chosen = check_features(&feature_set, &user_selection)?;
    if chosen.scenarios == 0 {
        return Err(SuiteError::Usage(match &options.tags {
            Some(tags) => format!(
                "the tag expression {tags:?} selects none of the {} scenarios in {}",
                chosen.all_scenarios,
                display_path(&options.features)
            ),
            None => format!("no scenarios in {}", display_path(&options.features)),
        }));
    }
    let selection = Selection {
        controls_of: chosen.properties.clone(),
        ..user_selection
    };
    let selected = check_features(&feature_set, &selection)?;
    Ok((feature_set, selection, selected))
}

/// Starts the lab the options ask for: a proxy the harness did not start (external mode), or
/// the backend with the policy (a fragment, or a whole configuration mapped onto the lab).
async fn start_lab(options: &SuiteOptions, selected: &SelectedFeatures) -> Result<Lab, LabError> {
    if let Some(mut external) = options.external.clone() {
        external.side.extra_hosts = selected.extra_hosts.clone();
        if options.console != Console::Silent {
            eprintln!(
                "lab: external mode: proxy under test at {} ({} scenarios selected)",
                external.proxy_url, selected.scenarios
            );
        }
        let console = options.console;
        return Lab::start_external(external, move |setup| {
            if console != Console::Silent {
                eprintln!("{setup}");
            }
        })
        .await;
    }
    let policy = match &options.whole {
        Some(whole) => Policy::load_whole(&options.policy, whole).map_err(|e| {
            LabError::PolicyRejected(format!(
                "the configuration cannot be mapped onto the lab: {e}"
            ))
        })?,
        None => options
            .backend
            .load_policy(&options.policy)
            .map_err(|e| LabError::PolicyRejected(format!("{e:#}")))?,
    };
    if let (Some(whole), true) = (policy.whole(), options.console != Console::Silent) {
        eprint!("{}", whole.table());
    }
    if options.console == Console::Progress {
        eprintln!(
            "lab: starting {} (policy {}, {} scenarios selected)",
            options.backend.name(),
            display_path(&options.policy),
            selected.scenarios
        );
    }
    Lab::start(LabOptions {
        backend: options.backend,
        policy,
        host_seed: options.host_seed,
        extra_hosts: selected.extra_hosts.clone(),
    })
    .await
}

/// Says the lab is ready, where the proxy is and how to replay the names drawn.
fn announce_ready(options: &SuiteOptions, lab: &Lab, lab_start: std::time::Duration) {
    if options.console != Console::Progress {
        return;
    }
    eprintln!(
        "lab: ready in {:.1} s, proxy under test at {}",
        lab_start.as_secs_f64(),
        lab.proxy_url()
    );
    eprintln!(
        "lab: host names drawn with seed {seed:#x} (replay: {HOST_SEED_ENV}={seed:#x}), e.g. {}",
        lab.hosts()
            .for_pattern("*.dl.delivery.mp.microsoft.com")
            .join(", "),
        seed = lab.hosts().seed()
    );
}

/// Each wildcard pattern with the names drawn under it, then the look-alikes.
fn drawn_hosts_of(lab: &Lab) -> Vec<(String, Vec<String>)> {
    let mut drawn_hosts: Vec<(String, Vec<String>)> = lab
        .hosts()
        .patterns()
        .filter(|(pattern, _)| pattern.starts_with("*."))
        .map(|(pattern, names)| (pattern.to_owned(), names.to_vec()))
        .collect();
    drawn_hosts.push(("look-alikes".to_owned(), lab.hosts().look_alikes().to_vec()));
    drawn_hosts
}

/// Says so the moment the lab breaks: the run goes on only to let running scenarios end.
fn announce_faults(
    options: &SuiteOptions,
    health: &Arc<LabHealth>,
) -> Option<tokio::task::JoinHandle<()>> {
    (options.console != Console::Silent).then(|| {
        let health = health.clone();
        tokio::spawn(async move {
            health.broken().await;
            if let Some(fault) = health.first_fault() {
                eprintln!(
                    "lab: FAULT: {fault} — scenarios running now or later are not judged; \
                     none is started any more"
                );
            }
        })
    })
}

/// Measures the client's own TLS fingerprint, runs the selected scenarios against the lab and
/// takes the run's evidence (what the journals gained since the scenarios began).
async fn run_scenarios(
    options: &SuiteOptions,
    lab: &Arc<Lab>,
    feature_set: &FeatureSet,
    selection: Selection,
    selected: &SelectedFeatures,
    health: &Arc<LabHealth>,
) -> Result<(Recorded, RunEvidence), SuiteError> {
    let roots = lab.proxy_endpoint().trusted_roots;
    let baseline = conformance_client::measure_own_ja4(lab.origin(), &roots)
        .await
        .map_err(|e| {
            SuiteError::Lab(format!("measuring the client's own TLS fingerprint: {e:#}"))
        })?;
    let start = RunStart::now(lab);
    let records = Arc::new(Mutex::new(Vec::new()));
    let recorded = with_lab(
        lab.clone(),
        Some(baseline),
        execute(
            options,
            feature_set,
            selection,
            selected,
            records.clone(),
            health.clone(),
        ),
    )
    .await?;
    let records = std::mem::take(&mut *records.lock().unwrap_or_else(|p| p.into_inner()));
    Ok((recorded, start.evidence(lab, records)))
}

/// What the runner knows about the run besides the scenarios' outcomes and evidence.
struct RunFacts {
    started: Instant,
    lab_start: std::time::Duration,
    ready_at: SystemTime,
    host_seed: u64,
    drawn_hosts: Vec<(String, Vec<String>)>,
    selected: usize,
    faults: Vec<conformance_lab::LabFault>,
    retries: Vec<String>,
}

/// The run model: the outcomes judged by the run-wide invariants, set aside where the lab
/// broke, attributed to properties; with the caveats the caller passed in.
fn build_report(
    options: &SuiteOptions,
    lab: &Lab,
    recorded: Recorded,
    evidence: &RunEvidence,
    facts: RunFacts,
) -> SuiteReport {
    let mut findings = crate::invariants::judge(evidence);
    let mut scenarios = recorded.outcomes;
    crate::lab_faults::set_aside(
        &mut scenarios,
        &evidence.scenarios,
        &mut findings,
        &facts.faults,
    );
    crate::attribution::attribute(
        &mut scenarios,
        &evidence.scenarios,
        &findings,
        options.strict_scope,
    );
    SuiteReport {
        proxy: lab.proxy_name().to_owned(),
        mapping_limits: lab
            .policy()
            .whole()
            .map(|whole| whole.limits().to_vec())
            .unwrap_or_default(),
        policy: match lab.mode() {
            LabMode::Bundled => options
                .policy_as_given
                .clone()
                .unwrap_or_else(|| options.policy.clone()),
            LabMode::External => lab.policy().path().to_owned(),
        },
        caveats: options.caveats.clone(),
        vantage_points: vantage_points(lab),
        scenarios,
        update_exchanges: evidence.update_exchange_count(),
        findings,
        parse_errors: recorded.parse_errors,
        selected: facts.selected,
        host_seed: facts.host_seed,
        drawn_hosts: facts.drawn_hosts,
        lab_start: facts.lab_start,
        duration: facts.started.elapsed(),
        lab: LabHealthReport {
            ready_at: facts.ready_at,
            faults: facts.faults,
            retries: facts.retries.into_iter().chain(recorded.retries).collect(),
        },
        outcome: Default::default(),
    }
    .judged()
}

/// Writes the report files the options ask for and, when asked, prints the console report.
fn publish(options: &SuiteOptions, report: &SuiteReport) -> Result<(), SuiteError> {
    if let Some(path) = &options.cucumber_json {
        report::json::rewrite(path, report)?;
    }
    if let Some(path) = &options.junit {
        write_report(path, &report::junit::render(report)?)?;
    }
    if let Some(path) = &options.html {
        write_report(path, &report::html::render(report))?;
    }
    if let Some(path) = &options.json {
        write_report(path, &report::run_json::render(report))?;
    }
    if options.print_report {
        let written: Vec<String> = [&options.junit, &options.cucumber_json, &options.html]
            .into_iter()
            .chain([&options.json])
            .flatten()
            .map(|p| display_path(p))
            .collect();
        if !written.is_empty() {
            eprintln!("reports: {}", written.join(", "));
        }
        print!("{}", report::console::render(report));
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

/// The recorder's progress lines, and where cucumber's own step output goes.
fn console_outputs(console: Console) -> (Progress, Box<dyn Write>) {
    match console {
        Console::Progress => (Progress::Lines, Box::new(std::io::sink())),
        Console::Steps => (Progress::Silent, Box::new(std::io::stdout())),
        Console::Silent => (Progress::Silent, Box::new(std::io::sink())),
    }
}

/// What the run-wide invariants keep of a finished scenario: where it is, its token, what its
/// clients did and how it was judged.
fn scenario_record(
    feature: &cucumber::gherkin::Feature,
    scenario: &cucumber::gherkin::Scenario,
    world: &ConformanceWorld,
    passed: bool,
) -> ScenarioRecord {
    ScenarioRecord {
        feature: feature.path.as_ref().map_or_else(
            || feature.name.clone(),
            |p| conformance_lab::display_path(p),
        ),
        line: scenario.position.line,
        token: world.token().to_owned(),
        exchanges: world.exchanges().to_vec(),
        raw_tunnel: world.raw_tunnel().cloned(),
        judging: world.judging(),
        blinded: (!passed).then(|| world.blinded()).flatten(),
        kinds_policed: world.kinds_policed().cloned(),
    }
}

async fn execute(
    options: &SuiteOptions,
    feature_set: &FeatureSet,
    selection: Selection,
    selected: &SelectedFeatures,
    scenario_records: Arc<Mutex<Vec<ScenarioRecord>>>,
    health: Arc<LabHealth>,
) -> Result<Recorded, SuiteError> {
    let recorded = Arc::new(Mutex::new(Recorded::default()));
    let records = scenario_records.clone();
    let (progress, console) = console_outputs(options.console);
    let json = report_file(options.cucumber_json.as_ref())?;
    let recorder = Recorder::new(recorded.clone(), progress, selected.scenarios);
    let drawn_for_controls = feature_set.clone();
    ConformanceWorld::cucumber::<PathBuf>()
        .with_parser(feature_set.clone())
        .with_writer(
            writer::Basic::raw(console, Coloring::Auto, Verbosity::Default)
                .summarized()
                .tee::<ConformanceWorld, _>(writer::Json::for_tee(json))
                .tee::<ConformanceWorld, _>(
                    recorder.discard_stats_writes().discard_arbitrary_writes(),
                )
                .normalized(),
        )
        .fail_on_skipped()
        .before(move |_, _, _, _| {
            // A scenario is never started on a broken lab (resume_unwind: the hook fails
            // without a panic message on the console); the report says it was not judged.
            let fault = health.first_fault();
            Box::pin(async move {
                if let Some(fault) = fault {
                    std::panic::resume_unwind(Box::new(format!(
                        "not run: the lab broke before it started ({fault})"
                    )));
                }
            })
        })
        .after(move |feature, _, scenario, finished, world| {
            // A scenario whose steps passed but whose property rests on a vantage point this
            // mode cannot see is not observable: raised as a typed payload the recorder
            // downcasts (resume_unwind: no panic message on the console). What its clients
            // did is kept for the run-wide invariants.
            let passed = matches!(finished, cucumber::event::ScenarioFinished::StepPassed);
            let unjudged = passed
                .then(|| world.as_ref().and_then(|w| w.unjudged().cloned()))
                .flatten();
            if let Some(world) = world.as_ref() {
                records
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(scenario_record(feature, scenario, world, passed));
            }
            Box::pin(async move {
                if let Some(unjudged) = unjudged {
                    std::panic::resume_unwind(Box::new(unjudged));
                }
            })
        })
        .with_default_cli()
        .max_concurrent_scenarios(options.concurrency)
        .filter_run((), move |feature, rule, scenario| {
            let tags = feature
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| &r.tags))
                .chain(&scenario.tags);
            selection.selects(
                tags,
                drawn_for_controls.controls_only(feature.path.as_deref()),
            )
        })
        .await;
    let recorded = std::mem::take(&mut *recorded.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(recorded)
}

/// The report's "vantage points" section: how each vantage point was used by this run.
/// How the run used the proxy's log.
fn proxy_log_use(lab: &Lab) -> String {
    let ledger = lab.vantages();
    if lab.proxy_log().is_some() {
        format!(
            "judged: {} check(s) read the {} log as neutral facts",
            ledger.judged_count(Vantage::ProxyLog),
            lab.proxy_name()
        )
    } else {
        let skipped = ledger.unobservable_count(Vantage::ProxyLog);
        format!(
            "never read (the proxy is external, its log is its own): {skipped} check(s) judged \
             without their proxy-log part; steps that need only the proxy log are not observable \
             and their scenarios are judged by their client and origin steps"
        )
    }
}

/// Which CA an intercepted certificate is recognised by.
fn interception_ca_words(lab: &Lab) -> String {
    match (lab.mode(), lab.interception_ca_name()) {
        (LabMode::Bundled, _) => "the lab's interception CA".to_owned(),
        (LabMode::External, Some(name)) => {
            format!("the proxy's CA given with --proxy-ca (CN={name})")
        }
        (LabMode::External, None) => {
            "no --proxy-ca: an intercepted certificate cannot be told from any other".to_owned()
        }
    }
}

fn vantage_points(lab: &Lab) -> VantagePoints {
    let ledger = lab.vantages();
    let external = lab.mode() == LabMode::External;
    let mode = if external {
        format!(
            "external proxy at {} (not started by the harness): judged from the client and the \
             origin; the ICAP recorder and the categoriser only if the proxy called them; its log never",
            lab.proxy_url()
        )
    } else {
        format!(
            "bundled lab: {} started by the harness with the policy under test; every vantage point observed",
            lab.proxy_name()
        )
    };
    let reasons = |vantage: Vantage| ledger.reasons(vantage).join("; ");
    let instrument = |vantage: Vantage, calls: usize, what: &str| {
        let unobservable = ledger.unobservable_count(vantage);
        if unobservable > 0 {
            format!(
                "not observable: {unobservable} check(s) could not be judged — {}",
                reasons(vantage)
            )
        } else if external && calls > 0 {
            format!("judged: the proxy made {calls} {what} in the run")
        } else if external {
            "not used by the selected scenarios".to_owned()
        } else {
            format!("judged ({calls} {what} in the run)")
        }
    };
    let proxy_log = proxy_log_use(lab);
    let interception = interception_ca_words(lab);
    VantagePoints {
        mode,
        points: vec![
            (
                Vantage::Client.name().to_owned(),
                format!(
                    "judged in every scenario (status, headers, bytes, certificate issuer; trusted roots: the origin CA and {interception})"
                ),
            ),
            (
                Vantage::Origin.name().to_owned(),
                "judged in every scenario (requests, Range headers, bytes sent, ClientHello JA4)"
                    .to_owned(),
            ),
            (
                Vantage::Icap.name().to_owned(),
                instrument(Vantage::Icap, lab.icap().call_count(), "REQMOD/RESPMOD call(s)"),
            ),
            (
                Vantage::Categorizer.name().to_owned(),
                instrument(
                    Vantage::Categorizer,
                    lab.categorizer().lookup_count(),
                    "lookup(s)",
                ),
            ),
            (Vantage::ProxyLog.name().to_owned(), proxy_log),
        ],
    }
}

/// How much each journal held when the first scenario started: the lab's own probes before it
/// are not the run's traffic.
struct RunStart {
    origin: usize,
    icap: usize,
    lookups: usize,
    proxy_facts: usize,
}

impl RunStart {
    fn now(lab: &Lab) -> Self {
        Self {
            origin: lab.origin().journal().request_count(),
            icap: lab.icap().call_count(),
            lookups: lab.categorizer().lookup_count(),
            proxy_facts: lab.proxy_log().map_or(0, |log| log.facts().len()),
        }
    }

    /// Everything the journals gained since, with what each scenario's clients did.
    fn evidence(&self, lab: &Lab, scenarios: Vec<ScenarioRecord>) -> RunEvidence {
        RunEvidence {
            scenarios,
            origin: skip(lab.origin().journal().exchanges(), self.origin),
            icap: skip(lab.icap().calls(), self.icap),
            lookups: skip(lab.categorizer().lookups(), self.lookups),
            proxy_facts: lab
                .proxy_log()
                .map(|log| skip(log.facts(), self.proxy_facts)),
            origin_leaf: lab.pki().origin_leaf.cert_der().to_vec(),
        }
    }
}

fn skip<T>(mut all: Vec<T>, first: usize) -> Vec<T> {
    all.split_off(first.min(all.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conformance_lab::{Policy, ProxySetup, StartFailure, StartedProxy, SQUID_5_7};

    /// A proxy without an ICAP client or TLS interception.
    #[derive(Debug)]
    struct PlainProxy;

    impl ProxyBackend for PlainProxy {
        fn id(&self) -> &'static str {
            "plain"
        }
        fn name(&self) -> &'static str {
            "a plain proxy"
        }
        fn image(&self) -> &'static conformance_lab::DebianImage {
            SQUID_5_7.image()
        }
        fn polices(&self) -> &'static [Property] {
            &[Property::Auth, Property::Cache, Property::Range]
        }
        fn load_policy(&self, path: &std::path::Path) -> anyhow::Result<Policy> {
            Policy::load(path)
        }
        fn start<'a>(
            &'a self,
            _setup: ProxySetup<'a>,
        ) -> futures::future::BoxFuture<'a, Result<StartedProxy, StartFailure>> {
            Box::pin(async {
                Err(StartFailure::Failed(anyhow::anyhow!(
                    "not started in tests"
                )))
            })
        }
        fn parse_log_line(&self, _line: &str) -> Option<conformance_lab::ProxyFact> {
            None
        }
    }

    #[test]
    fn the_scenarios_of_properties_a_backend_cannot_police_are_left_out() {
        let left_out = not_applicable(&PlainProxy);
        assert!(left_out.contains(&Property::Icap) && left_out.contains(&Property::Tls));
        assert!(!left_out.contains(&Property::Auth));
        let expression = without_properties(Some("@auth or @icap"), &left_out).unwrap();
        assert!(
            expression.starts_with("(@auth or @icap) and not @tls and not @icap"),
            "{expression}"
        );
        assert!(expression.parse::<TagOperation>().is_ok(), "{expression}");
        assert!(without_properties(None, &left_out)
            .unwrap()
            .parse::<TagOperation>()
            .is_ok());
    }

    #[test]
    fn squid_polices_every_property_so_the_users_expression_is_kept() {
        assert!(not_applicable(&SQUID_5_7).is_empty());
        assert_eq!(
            without_properties(Some("@tls"), &not_applicable(&SQUID_5_7)).as_deref(),
            Some("@tls")
        );
        assert_eq!(without_properties(None, &[]), None);
    }
}
