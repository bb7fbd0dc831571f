//! `proxy-conformance`: validates a proxy policy against the Windows Update conformance suite
//! in the bundled lab, or any proxy the harness did not start (`run --proxy`, with `serve`
//! for setting the proxy up first), loads either with a fleet (`load`), proves the suite catches policy faults (`selftest`), and
//! lints, explains and translates ProxySG CPL (`cpl`).
//!
//! Exit codes: see [`exit::Exit`].

mod authoring;
mod compare;
mod exit;
mod external_args;
mod units;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use conformance_harness::{
    run_selftest, run_suite, Caveat, Console, Interrupt, SelftestOptions, SuiteError, SuiteOptions,
};
use conformance_lab::display_path;
use conformance_lab::external::HarnessSide;

use crate::exit::Exit;
use crate::external_args::{ExternalArgs, SideArgs};

#[derive(Debug, Parser)]
#[command(
    name = "proxy-conformance",
    version,
    about = "Proves a forward proxy's policy lets Windows Update through untouched",
    after_help = Exit::TABLE
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite against the lab with a Squid policy fragment, or against a
    /// proxy the harness did not start (--proxy).
    Run(Box<RunArgs>),
    /// Start only the harness's side for an external proxy (origins, DNS, ICAP, categoriser),
    /// print what to point the proxy at, and keep it up until Ctrl-C.
    Serve(ServeArgs),
    /// Run the suite against every faulty policy and show that each fault is caught.
    Selftest(SelftestArgs),
    /// Patch Tuesday: a fleet of update clients through the proxy, per policy side by side.
    Load(Box<LoadArgs>),
    /// Print every step a feature can use, with its parameters and an example.
    Steps,
    /// Check features without a lab (syntax, step definitions, hosts): exit 0, or 2 with each
    /// problem's file and line.
    Check(authoring::CheckArgs),
    /// ProxySG CPL: `cpl lint FILE`, `cpl explain FILE --url URL`, `cpl to-squid FILE [-o OUT]`.
    Cpl {
        #[command(subcommand)]
        command: cpl::CplCommand,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Squid policy fragment under the lab contract (default: the bundled reference policy).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// ProxySG CPL policy: translated with `cpl to-squid`, then run like --policy.
    #[arg(long, value_name = "FILE", conflicts_with = "policy")]
    cpl: Option<PathBuf>,
    /// A whole squid.conf as the proxy runs it (includes and ACL files read from this
    /// machine): the lab maps its ports, auth, ICAP, URL filter, cache_dir and logs onto its
    /// own, prints what it changed, and runs every other rule as written.
    #[arg(long = "squid-conf", value_name = "FILE", conflicts_with_all = ["policy", "cpl", "proxy"])]
    squid_conf: Option<PathBuf>,
    /// With --squid-conf: the folder that stands for `/` when the configuration names absolute
    /// paths (a copy of the proxy's files); default `/`.
    #[arg(long = "conf-root", value_name = "DIR", requires = "squid_conf")]
    conf_root: Option<PathBuf>,
    /// With --squid-conf: the external_acl_type helper the lab's categoriser answers for, or
    /// `url_rewrite_program` (repeatable); default: every helper whose lookup names the
    /// destination (%DST, %URI …) and squidGuard / ufdbGuard as URL rewriters.
    #[arg(long = "url-filter", value_name = "HELPER", requires = "squid_conf")]
    url_filter: Vec<String>,
    /// With --squid-conf: a `src` ACL naming the proxy's clients, to which the lab adds the
    /// networks its clients connect from (repeatable); default: localnet.
    #[arg(long = "client-acl", value_name = "ACL", requires = "squid_conf")]
    client_acl: Vec<String>,
    /// The policy in production: run it first, then the candidate (--policy or --cpl) on the
    /// same host names and proxy, and report what the candidate changes; the candidate's
    /// verdict decides the exit code.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["baseline_cpl", "squid_conf", "proxy"])]
    baseline: Option<PathBuf>,
    /// The policy in production as ProxySG CPL (translated like --cpl), for the comparison
    /// --baseline makes.
    #[arg(long = "baseline-cpl", value_name = "FILE", conflicts_with_all = ["squid_conf", "proxy"])]
    baseline_cpl: Option<PathBuf>,
    /// The bundled proxy the policy runs on: `squid-5.7` (default) or `squid-6`. Give it twice
    /// (`--backend squid-5.7 --backend squid-6`) to judge the policy on both, on the same host
    /// names, and see where the verdicts differ.
    #[arg(long, value_name = "NAME", value_parser = conformance_lab::backend_named)]
    backend: Vec<&'static dyn conformance_lab::ProxyBackend>,
    /// Cucumber tag expression, e.g. '@tls or @auth', 'not @large'.
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    /// Feature file or directory instead of the bundled suite (the bundled controls of the
    /// properties it checks still run).
    #[arg(long, value_name = "PATH")]
    features: Option<PathBuf>,
    /// Feature file or directory run beside the bundled suite (or beside --features); repeatable.
    #[arg(long = "add-features", value_name = "PATH")]
    add_features: Vec<PathBuf>,
    /// A host set of your own (TOML: name, hosts, schemes, properties): its hosts get the
    /// same host-coverage and look-alike checks as Windows Update, for the properties it
    /// declares; repeatable (examples/host-sets/).
    #[arg(long = "host-set", value_name = "FILE")]
    host_set: Vec<PathBuf>,
    /// Write JUnit XML for CI.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write standard Cucumber JSON.
    #[arg(long = "cucumber-json", value_name = "FILE")]
    cucumber_json: Option<PathBuf>,
    /// Write one self-contained HTML page: property × host matrix and failure evidence.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the run's verdict, exit code, reason, properties and failures as JSON (with
    /// --baseline or two --backend: the comparison).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Keep the lab up after the run and its reports (prints how to reach it) until Ctrl-C;
    /// requests made by hand meanwhile are not counted in the run's figures.
    #[arg(long)]
    keep_lab: bool,
    /// Fail the run when the policy lets through a host under a domain Microsoft owns but
    /// outside the update set (`<label>.dsp.mp.microsoft.com`); by default a scope warning.
    #[arg(long)]
    strict_scope: bool,
    /// Print every step of every scenario instead of progress lines.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    external: ExternalArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    side: SideArgs,
    /// Feature files or directories whose own hosts the harness's side answers for too (those
    /// a later `run --proxy … --add-features` names); repeatable.
    #[arg(long = "add-features", value_name = "PATH")]
    add_features: Vec<PathBuf>,
    /// Host sets whose hosts (and look-alikes) the harness's side answers for too; repeatable.
    #[arg(long = "host-set", value_name = "FILE")]
    host_set: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct SelftestArgs {
    /// Directory of policies to run instead of the bundled mutants and correct policies: each
    /// declares `# fails: @tag …`, `# controls-fail: …`, `# blinds: …` or `# correct: …`.
    #[arg(long, value_name = "DIR")]
    mutants: Option<PathBuf>,
    /// Feature file or directory (default: the bundled suite).
    #[arg(long, value_name = "PATH")]
    features: Option<PathBuf>,
    /// The bundled proxy every policy runs on: `squid-5.7` (default) or `squid-6`.
    #[arg(long, value_name = "NAME", value_parser = conformance_lab::backend_named)]
    backend: Option<&'static dyn conformance_lab::ProxyBackend>,
    /// Only the faulty policies (and the reference): skip the correct policies of other styles.
    #[arg(long = "faults-only")]
    faults_only: bool,
    /// Policies judged at once, each on its own lab (2 suits a 2-core machine).
    #[arg(long = "labs-at-once", value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    labs_at_once: u16,
}

#[derive(Debug, Args)]
struct LoadArgs {
    /// Squid policy to load the lab's proxy with; repeat to compare policies side by side
    /// (default: the bundled reference policy).
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// ProxySG CPL policy (translated with `cpl to-squid`); repeatable, after any --policy.
    #[arg(long, value_name = "FILE")]
    cpl: Vec<PathBuf>,
    #[command(flatten)]
    external: ExternalArgs,
    /// Simulated machines.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    clients: usize,
    /// How long a policy's run lasts at most (e.g. 10s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = units::duration)]
    duration: Duration,
    /// Stop requesting once clients received this much (e.g. 20GiB).
    #[arg(long, value_name = "SIZE", value_parser = units::size)]
    max_bytes: Option<u64>,
    /// Each machine's cumulative update, tailored: MIN-MAX.
    #[arg(long, value_name = "RANGE", default_value = "2MiB-4MiB", value_parser = units::size_range)]
    update_size: (u64, u64),
    /// Size of each file every machine downloads under the same URL.
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = units::size)]
    shared_size: u64,
    #[arg(long, value_name = "N", default_value_t = 1)]
    shared_files: usize,
    /// Percentage of machines using Delivery Optimization (the rest BITS).
    #[arg(long, value_name = "PCT", default_value_t = 50)]
    do_percent: u8,
    /// Connections a Delivery Optimization machine fetches pieces over in parallel.
    #[arg(long, value_name = "N", default_value_t = 4)]
    do_connections: usize,
    /// How long the machines take to start, all of them (e.g. 5s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = units::duration)]
    ramp: Duration,
    /// A request fails as a timeout after this long without a byte (e.g. 60s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = units::duration)]
    request_timeout: Duration,
    /// Write the result as JSON (for --merge).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write an HTML page with the policies side by side and plots.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    plain: bool,
    /// Add up load workers' JSON results (no load is run).
    #[arg(long, value_name = "FILE", num_args = 2.., conflicts_with_all = ["policy", "cpl", "proxy"])]
    merge: Vec<PathBuf>,
}

async fn load(args: LoadArgs) -> Result<Exit, conformance_load::LoadError> {
    use conformance_load::{LoadError, LoadOptions, PolicySource, ProgressStyle, Target};
    let report = if args.merge.is_empty() {
        let external = args.external.options().map_err(LoadError::Usage)?;
        let sources = (args.policy.into_iter().map(PolicySource::Squid))
            .chain(args.cpl.into_iter().map(PolicySource::Cpl));
        let fleet = conformance_load::FleetOptions {
            clients: args.clients,
            update_size: args.update_size,
            shared_size: args.shared_size,
            shared_files: args.shared_files,
            do_percent: args.do_percent,
            do_connections: args.do_connections,
            ramp: args.ramp,
            request_timeout: args.request_timeout.max(Duration::from_secs(1)),
            ..Default::default()
        };
        conformance_load::run_load(LoadOptions {
            fleet,
            target: external.map_or_else(|| Target::Lab(sources.collect()), Target::External),
            duration: args.duration,
            max_bytes: args.max_bytes,
            json: args.json.clone(),
            html: args.html.clone(),
            progress: if args.plain {
                ProgressStyle::Lines
            } else {
                ProgressStyle::Auto
            },
        })
        .await?
    } else {
        let merged = conformance_load::merge_files(&args.merge)?;
        conformance_load::write_reports(&merged, args.json.as_deref(), args.html.as_deref())?;
        merged
            .runs
            .iter()
            .for_each(|run| println!("{}", conformance_load::summary_line(run)));
        merged
    };
    for path in [&args.json, &args.html].into_iter().flatten() {
        eprintln!("report: {}", display_path(path));
    }
    Ok(if report.runs.iter().all(|run| run.clean()) {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

async fn run(args: RunArgs) -> Result<Exit, SuiteError> {
    let mut options = SuiteOptions {
        tags: args.tags,
        concurrency: args.concurrency.into(),
        console: if args.verbose {
            Console::Steps
        } else {
            Console::Progress
        },
        junit: args.junit,
        cucumber_json: args.cucumber_json,
        html: args.html,
        json: args.json,
        print_report: true,
        keep_lab: args.keep_lab,
        strict_scope: args.strict_scope,
        ..SuiteOptions::default()
    };
    options.external = args.external.options().map_err(SuiteError::Usage)?;
    let comparing = compare::plan(
        &args.backend,
        args.baseline.is_some() || args.baseline_cpl.is_some(),
    )?;
    if let Some(backend) = args.backend.first() {
        options.backend = *backend;
    }
    if let Some(policy) = args.policy {
        options.policy = policy;
    }
    if let Some(conf) = args.squid_conf {
        options.policy = conf;
        options.whole = Some(conformance_lab::WholeOptions {
            root: args.conf_root,
            url_filters: (!args.url_filter.is_empty()).then_some(args.url_filter),
            client_acls: (!args.client_acl.is_empty()).then_some(args.client_acl),
        });
    }
    // Holds the translated fragment for the length of the run.
    let translated = match &args.cpl {
        Some(cpl) => Some(translate_cpl(cpl)?),
        None => None,
    };
    if let (Some(translated), Some(cpl)) = (&translated, &args.cpl) {
        options.policy = translated.fragment.clone();
        options.policy_as_given = Some(cpl.clone());
        options.caveats = translated.caveats.clone();
    }
    if let Some(features) = args.features {
        options.features = features;
    }
    options.also_features = args.add_features;
    // Holds the host sets' generated features for the length of the run.
    let _host_sets = with_host_sets(&args.host_set, &mut options.also_features)?;
    if let Some(plan) = comparing {
        let baseline_cpl = match &args.baseline_cpl {
            Some(cpl) => Some(translate_cpl(cpl)?),
            None => None,
        };
        let baseline = match (args.baseline, &args.baseline_cpl, &baseline_cpl) {
            (Some(path), _, _) => Some(compare::Baseline {
                policy: path,
                as_given: None,
                caveats: Vec::new(),
            }),
            (None, Some(cpl), Some(translated)) => Some(compare::Baseline {
                policy: translated.fragment.clone(),
                as_given: Some(cpl.clone()),
                caveats: translated.caveats.clone(),
            }),
            _ => None,
        };
        return compare::run(plan, options, baseline).await;
    }
    // The harness prints the report (stdout, the verdict its last line) and writes the report
    // files as soon as the verdict is known, before a kept lab is held.
    let report = run_suite(options).await?;
    Ok(Exit::from(report.outcome.verdict))
}

/// Writes the checks of the host sets at `paths` (none: nothing) and adds their folder to
/// `features`.
fn with_host_sets(
    paths: &[PathBuf],
    features: &mut Vec<PathBuf>,
) -> Result<Option<conformance_harness::HostSetFeatures>, SuiteError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let generated = conformance_harness::host_set_features(paths)?;
    for line in &generated.summary {
        eprintln!("{line}");
    }
    features.push(generated.dir().to_path_buf());
    Ok(Some(generated))
}

/// A CPL policy translated for the lab, kept on disk for the length of the run.
struct TranslatedCpl {
    _dir: tempfile::TempDir,
    fragment: PathBuf,
    /// Untranslated constructs that could change an update host's treatment: a pass of the
    /// translation is inconclusive about the CPL.
    caveats: Vec<Caveat>,
}

/// Translates a CPL policy into a Squid fragment in a temporary directory and says what the
/// translation left out.
fn translate_cpl(path: &Path) -> Result<TranslatedCpl, SuiteError> {
    let shown = display_path(path);
    let policy = cpl::load(path).map_err(|error| SuiteError::Rejected(error.to_string()))?;
    let translation = cpl::to_squid(&policy);
    let dir = tempfile::Builder::new()
        .prefix("proxy-conformance-cpl-")
        .tempdir()
        .map_err(|e| {
            SuiteError::Environment(format!("cannot create a temporary directory: {e}"))
        })?;
    let stem = path
        .file_stem()
        .map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
    let fragment = dir.path().join(format!("{stem}.squid.conf"));
    std::fs::write(&fragment, &translation.fragment).map_err(|e| {
        SuiteError::Environment(format!("cannot write {}: {e}", fragment.display()))
    })?;
    eprintln!(
        "cpl: {shown} translated to a Squid fragment ({})",
        fragment.display()
    );
    for left_out in &translation.untranslated {
        eprintln!("cpl: not translated: {left_out}");
    }
    for risk in &translation.update_host_risks {
        eprintln!("cpl: update-host risk: {risk}");
    }
    Ok(TranslatedCpl {
        _dir: dir,
        fragment,
        caveats: translation
            .update_host_risks
            .iter()
            .map(|risk| Caveat {
                source: "cpl to-squid".to_owned(),
                what: risk.to_string(),
                consequence: "not carried over, and it may change how update hosts are treated: \
                              the lab judged the translation, not the policy"
                    .to_owned(),
            })
            .collect(),
    })
}

/// The harness's side alone, until Ctrl-C: for setting a proxy up before running the suite
/// with `run --proxy … --expose` (same address, same state directory: same set-up).
async fn serve(args: ServeArgs) -> Result<Exit, SuiteError> {
    let interrupt = Interrupt::listen();
    let mut side = args
        .side
        .options()
        .ok_or_else(|| SuiteError::Usage("serve needs --expose ADDR".to_owned()))?;
    let mut features = args.add_features;
    let _host_sets = with_host_sets(&args.host_set, &mut features)?;
    if !features.is_empty() {
        side.extra_hosts = conformance_harness::check_features_at(&features, None)?.extra_hosts;
    }
    let running = HarnessSide::start(&side)
        .await
        .map_err(|e| SuiteError::Lab(e.to_string()))?;
    println!("{}", running.setup());
    eprintln!(
        "serve: up until Ctrl-C; then run the suite with the same set-up:\n  \
         proxy-conformance run --proxy http://PROXY:PORT --expose {} --state-dir {} [--proxy-user USER:PASSWORD] [--proxy-ca FILE]",
        side.expose,
        side.state_dir.display()
    );
    let signal = interrupt.wait().await;
    let asked = running.dns().queries().len();
    drop(running);
    eprintln!("serve: stopped by {signal:?} ({asked} DNS queries answered or refused)");
    // Ctrl-C is how `serve` is meant to end: a normal exit.
    Ok(Exit::Passed)
}

async fn selftest(args: SelftestArgs) -> Result<Exit, SuiteError> {
    let mut options = SelftestOptions {
        progress: true,
        ..SelftestOptions::default()
    };
    if let Some(mutants) = args.mutants {
        options.mutants = mutants;
        options.correct = None;
    }
    if let Some(features) = args.features {
        options.features = features;
    }
    if let Some(backend) = args.backend {
        options.backend = backend;
    }
    if args.faults_only {
        options.correct = None;
    }
    options.labs_at_once = usize::from(args.labs_at_once);
    let report = run_selftest(options).await?;
    println!("{}", report.render());
    Ok(if report.passed() {
        Exit::Passed
    } else {
        Exit::Failed
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Passed.into()
            };
        }
    };
    let outcome = match cli.command {
        Command::Run(args) => run(*args).await,
        Command::Serve(args) => serve(args).await,
        Command::Selftest(args) => selftest(args).await,
        Command::Steps => authoring::steps(),
        Command::Check(args) => authoring::check(&args),
        Command::Load(args) => {
            return load(*args)
                .await
                .unwrap_or_else(|error| {
                    eprintln!("proxy-conformance load: {error}");
                    Exit::from(&error)
                })
                .into();
        }
        Command::Cpl { command } => {
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            return match cpl::run_command(&command, &mut out, &mut err) {
                Ok(cpl::CplStatus::Clean) => Exit::Passed,
                Ok(cpl::CplStatus::Findings) => Exit::Rejected,
                Err(error) => {
                    eprintln!("proxy-conformance cpl: {error}");
                    Exit::Rejected
                }
            }
            .into();
        }
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(error) => {
            eprintln!("proxy-conformance: {error}");
            Exit::from(&error).into()
        }
    }
}
