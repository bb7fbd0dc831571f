//! One `load` invocation: for each policy, a lab with that policy, the same fleet through its
//! proxy, the measurements of every second, then the lab's removal — side by side in one
//! report. Machines start over the ramp and each downloads its files with its profile; the run
//! of a policy ends when every machine ended or at the duration, whichever is first. Ctrl-C or
//! SIGTERM stops the run and removes the lab, as `run` does.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conformance_harness::{Bundle, Interrupt};
use conformance_lab::external::ExternalOptions;
use conformance_lab::{display_path, Lab, LabError, LabOptions, Policy};
use mock_servers::OriginJournal;
use tokio::task::JoinSet;

use crate::connection::ProxyConnection;
use crate::docker_stats::ContainerStats;
use crate::error::LoadError;
use crate::failure::MachineEnd;
use crate::fleet::{self, FleetPlan, MachinePlan};
use crate::meter::{Meter, Reading};
use crate::model::{
    amplification, encode_histogram, ClientCounts, FleetSummary, Flow, LoadReport, Percentiles,
    PolicyRun, ResourceCost, Second, REPORT_FORMAT,
};
use crate::options::{LoadOptions, PolicySource, ProgressStyle, Target, MIB};
use crate::policing::PolicingStart;
use crate::process_stats::{self, ProcessSample};
use crate::profile::{self, FleetContext};
use crate::progress::{Progress, Tick};
use crate::proxy_target::{CostSource, ProxyTarget};
use crate::report::write_reports;

/// How long the run waits, after the last machine, for the origins to stop sending (a proxy
/// that widened ranges may still be fetching whole objects).
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// Runs the fleet against every policy (or says why it cannot), writes the reports asked for
/// and returns the result.
pub async fn run_load(options: LoadOptions) -> Result<LoadReport, LoadError> {
    options.validate()?;
    let runs = match &options.target {
        Target::External(external) => vec![load_external(external, &options).await?],
        Target::Lab(sources) if sources.is_empty() => {
            let bundle = Bundle::get().map_err(LoadError::Environment)?;
            load_labs(&[PolicySource::Squid(bundle.reference_policy())], &options).await?
        }
        Target::Lab(sources) => load_labs(sources, &options).await?,
    };
    let report = LoadReport {
        format: REPORT_FORMAT,
        runs,
    };
    write_reports(&report, options.json.as_deref(), options.html.as_deref())?;
    Ok(report)
}

/// The lab's Squid under each policy in turn, the same fleet through each.
async fn load_labs(
    sources: &[PolicySource],
    options: &LoadOptions,
) -> Result<Vec<PolicyRun>, LoadError> {
    let interrupt = Interrupt::listen();
    raise_open_file_limit(options);
    // Every policy is read before the first lab starts: a bad one fails fast.
    let mut policies = Vec::new();
    for source in sources {
        policies.push(load_policy(
            source,
            options.progress != ProgressStyle::Silent,
        )?);
    }
    let mut runs = Vec::new();
    for (source, (policy, _translation)) in sources.iter().zip(policies) {
        let label = display_path(source.path());
        say(options, format!("load: starting the lab (policy {label})"));
        let lab = tokio::select! {
            lab = Lab::start(LabOptions::new(policy)) => lab.map_err(lab_error)?,
            signal = interrupt.wait() => return Err(LoadError::Interrupted(signal)),
        };
        let target = ProxyTarget::of_lab(&lab).await?;
        say(
            options,
            format!(
                "load: proxy under test at http://{}; {} machines for up to {} s",
                target.address,
                options.fleet.clients,
                options.duration.as_secs()
            ),
        );
        let outcome = tokio::select! {
            run = run_fleet(&lab, &target, options, &label, "lab squid") => run,
            signal = interrupt.wait() => Err(LoadError::Interrupted(signal)),
        };
        lab.shutdown().await;
        let run = outcome?;
        result(options, summary_line(&run));
        runs.push(run);
    }
    Ok(runs)
}

/// External mode: the harness's side only (origins under the Microsoft names, DNS, origin
/// CA), checked reachable through the proxy as `run --proxy` does, then the fleet through
/// that proxy. Its CPU and memory are not the harness's to see.
async fn load_external(
    external: &ExternalOptions,
    options: &LoadOptions,
) -> Result<PolicyRun, LoadError> {
    let interrupt = Interrupt::listen();
    raise_open_file_limit(options);
    let url = external.proxy_url.trim_end_matches('/').to_owned();
    say(
        options,
        format!("load: starting the harness's side for the external proxy at {url}"),
    );
    let lab = tokio::select! {
        lab = Lab::start_external(external.clone(), |setup| say(options, setup.to_string())) => {
            lab.map_err(lab_error)?
        }
        signal = interrupt.wait() => return Err(LoadError::Interrupted(signal)),
    };
    let target = ProxyTarget::external(&url).await?;
    say(
        options,
        format!(
            "load: external proxy under test at {url}; {} machines for up to {} s",
            options.fleet.clients,
            options.duration.as_secs()
        ),
    );
    let outcome = tokio::select! {
        run = run_fleet(&lab, &target, options, &url, &url) => run,
        signal = interrupt.wait() => Err(LoadError::Interrupted(signal)),
    };
    drop(lab);
    let run = outcome?;
    result(options, summary_line(&run));
    Ok(run)
}

fn lab_error(error: LabError) -> LoadError {
    match error {
        LabError::PolicyRejected(message) => LoadError::Rejected(message),
        LabError::CouldNotStart(message) => {
            LoadError::Lab(format!("the lab could not start: {message}"))
        }
        LabError::Usage(message) => LoadError::Usage(message),
        LabError::ProxyUnreachable(message) | LabError::ProxyCannotReachHarness(message) => {
            LoadError::Lab(message)
        }
    }
}

/// One line per run for the console.
pub fn summary_line(run: &PolicyRun) -> String {
    let failures = if run.failures.is_empty() {
        String::new()
    } else {
        let kinds: Vec<String> = run
            .failures
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        format!(" ({})", kinds.join(", "))
    };
    let amp = format!(
        "{} (own updates {}, shared files {})",
        ratio(run.amplification),
        ratio(run.per_client_files.amplification),
        ratio(run.shared_files.amplification)
    );
    format!(
        "load: {policy}: {done}/{clients} done, {failed} failed{failures}, {unfinished} unfinished; \
         download p50 {p50} ms p95 {p95} ms p99 {p99} ms; {mib:.0} MiB/s; amplification {amp}; \
         {policing}; proxy CPU {proxy}, harness CPU {harness:.1} s",
        policing = run.policing.sentence(),
        policy = run.policy,
        done = run.clients.done,
        clients = run.fleet.clients,
        failed = run.clients.failed,
        unfinished = run.clients.unfinished,
        p50 = run.download_ms.p50,
        p95 = run.download_ms.p95,
        p99 = run.download_ms.p99,
        mib = run.throughput_mib_s,
        proxy = run.proxy_cost.map_or_else(
            || "not observable".to_owned(),
            |c| format!("{:.1} s", c.cpu_seconds)
        ),
        harness = run.harness_cost.cpu_seconds,
    )
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |a| format!("{a:.2}"))
}

/// A result (a policy's summary): standard output, where reports go.
fn result(options: &LoadOptions, line: String) {
    if options.progress != ProgressStyle::Silent {
        println!("{line}");
    }
}

/// Progress: standard error.
fn say(options: &LoadOptions, line: String) {
    if options.progress != ProgressStyle::Silent {
        eprintln!("{line}");
    }
}

/// A policy read and checked; a CPL policy is translated into a fragment kept in the returned
/// directory for the length of the run.
fn load_policy(
    source: &PolicySource,
    verbose: bool,
) -> Result<(Policy, Option<tempfile::TempDir>), LoadError> {
    match source {
        PolicySource::Squid(path) => Ok((
            Policy::load(path).map_err(|e| LoadError::Rejected(format!("{e:#}")))?,
            None,
        )),
        PolicySource::Cpl(path) => {
            let cpl = cpl::load(path).map_err(|e| LoadError::Rejected(e.to_string()))?;
            let translation = cpl::to_squid(&cpl);
            if verbose {
                for left_out in &translation.untranslated {
                    eprintln!("cpl: not translated: {left_out}");
                }
            }
            let dir = tempfile::Builder::new()
                .prefix("proxy-conformance-load-cpl-")
                .tempdir()
                .map_err(|e| {
                    LoadError::Environment(format!("cannot create a temporary directory: {e}"))
                })?;
            let fragment = dir.path().join(fragment_name(path));
            std::fs::write(&fragment, &translation.fragment).map_err(|e| {
                LoadError::Environment(format!("cannot write {}: {e}", fragment.display()))
            })?;
            let policy =
                Policy::load(&fragment).map_err(|e| LoadError::Rejected(format!("{e:#}")))?;
            Ok((policy, Some(dir)))
        }
    }
}

fn fragment_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "policy".into(), |s| s.to_string_lossy().into_owned());
    format!("{stem}.squid.conf")
}

/// Each machine holds up to `do_connections` connections to the proxy, and the origin one per
/// proxy connection: raise the soft open-file limit to the hard one when that is not enough.
fn raise_open_file_limit(options: &LoadOptions) {
    let needed = (options.fleet.clients * (options.fleet.do_connections + 1) * 2 + 1024) as u64;
    match rlimit::increase_nofile_limit(needed.max(65_536)) {
        Ok(limit) if limit < needed => eprintln!(
            "load: the open-file limit is {limit}, below the {needed} this fleet may need; \
             raise the hard limit (ulimit -Hn) or lower --clients"
        ),
        Ok(_) => {}
        Err(error) => eprintln!("load: cannot raise the open-file limit: {error}"),
    }
}

/// What the origin sent for the fleet's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct OriginTotals {
    bytes: u64,
    requests: u64,
    shared_bytes: u64,
}

fn origin_totals(journal: &OriginJournal, plan: &FleetPlan) -> OriginTotals {
    let mut totals = OriginTotals::default();
    for exchange in journal.exchanges() {
        let Some(file) = exchange.file.as_ref().filter(|f| plan.paths.contains(*f)) else {
            continue;
        };
        totals.bytes += exchange.request.bytes_sent;
        totals.requests += 1;
        if plan.shared_paths.contains(file) {
            totals.shared_bytes += exchange.request.bytes_sent;
        }
    }
    totals
}

/// What every machine of the fleet shares.
fn fleet_context(target: &ProxyTarget, options: &LoadOptions, meter: Arc<Meter>) -> FleetContext {
    FleetContext {
        proxy: target.address,
        meter,
        request_timeout: options.fleet.request_timeout,
        max_bytes: options.max_bytes,
        piece_size: options.fleet.piece_size,
        do_connections: options.fleet.do_connections,
    }
}

/// The proxy's CPU and peak memory over the fleet, or why it could not be observed.
fn proxy_cost(
    before: Option<crate::docker_stats::ContainerSample>,
    after: Option<crate::docker_stats::ContainerSample>,
    stats: Option<&ContainerStats>,
    unobservable: &mut Option<String>,
) -> Option<ResourceCost> {
    let cost = match (before, after, stats) {
        (Some(before), Some(after), Some(stats)) => Some(ResourceCost {
            cpu_seconds: after.cpu_seconds - before.cpu_seconds,
            peak_memory_bytes: stats.peak_memory(),
        }),
        _ => None,
    };
    if cost.is_none() {
        unobservable.get_or_insert_with(|| {
            "not observable: Docker's stats gave no sample of the proxy container".to_owned()
        });
    }
    cost
}

async fn run_fleet(
    lab: &Lab,
    target: &ProxyTarget,
    options: &LoadOptions,
    label: &str,
    proxy_name: &str,
) -> Result<PolicyRun, LoadError> {
    let plan = fleet::plan(&options.fleet, lab.origin().files())
        .map_err(|e| LoadError::Environment(format!("cannot register the fleet's files: {e}")))?;
    let (stats, mut cost_unobservable) = proxy_stats(target).await;
    let proxy_before = sample_proxy(stats.as_ref(), Instant::now()).await;
    let harness_before = process_stats::sample();
    let meter = Arc::new(Meter::new());
    let context = Arc::new(fleet_context(target, options, meter.clone()));
    let started_unix_ms = unix_ms_now();
    let policing = PolicingStart::now(lab);
    let start = Instant::now();
    let machines = spawn_machines(&plan, &context, options, start);
    let progress = Progress::start(options.progress, label, plan.machines.len() as u64);
    let mut sampler = Sampler::new(
        lab.origin().journal(),
        &plan,
        stats.as_ref(),
        start,
        proxy_before.map(|s| s.cpu_seconds),
        harness_before,
    );
    sample_until_done(machines, &mut sampler, &meter, &progress, start).await;
    let fleet_ended = Instant::now();
    let origin = settled_origin_totals(lab, &plan).await;
    let policing = policing.since(lab);
    let second = sampler.sample(&meter);
    progress.tick(&tick_of(&second, &sampler));
    progress.finish();
    let harness_after = process_stats::sample();
    let proxy_after = sample_proxy(stats.as_ref(), fleet_ended).await;
    let proxy_cost = proxy_cost(
        proxy_before,
        proxy_after,
        stats.as_ref(),
        &mut cost_unobservable,
    );
    let duration = fleet_ended.duration_since(start);
    let reading = meter.read();
    let histogram = meter.latencies();
    let (per_client_files, shared_files) = flows(&reading, &origin);
    Ok(PolicyRun {
        policy: label.to_owned(),
        proxy: proxy_name.to_owned(),
        workers: 1,
        started_unix_ms,
        duration_s: duration.as_secs_f64(),
        fleet: summary(options, &plan),
        clients: ClientCounts {
            done: reading.done,
            failed: reading.failed,
            unfinished: reading.unfinished,
        },
        failures: meter.failures(),
        download_ms: Percentiles::of(&histogram),
        download_histogram: encode_histogram(&histogram),
        bytes_delivered: reading.delivered,
        origin_bytes: origin.bytes,
        amplification: amplification(origin.bytes, reading.delivered),
        client_requests: reading.requests,
        origin_requests: origin.requests,
        per_client_files,
        shared_files,
        throughput_mib_s: reading.delivered as f64 / MIB as f64 / duration.as_secs_f64().max(1e-3),
        proxy_cost,
        proxy_cost_unobservable: cost_unobservable,
        policing,
        harness_cost: ResourceCost {
            cpu_seconds: harness_after.cpu_seconds - harness_before.cpu_seconds,
            peak_memory_bytes: sampler.peak_harness_memory.max(harness_after.rss_bytes),
        },
        timeline: sampler.timeline,
    })
}

/// A sample of the proxy container's CPU and memory taken after `at` (none without stats).
async fn sample_proxy(
    stats: Option<&ContainerStats>,
    at: Instant,
) -> Option<crate::docker_stats::ContainerSample> {
    stats?.sample_after(at, Duration::from_secs(3)).await
}

/// Where the proxy's CPU and memory are read from, or why they cannot be.
async fn proxy_stats(target: &ProxyTarget) -> (Option<ContainerStats>, Option<String>) {
    match target.cost {
        CostSource::Container { host_port } => {
            let stats = ContainerStats::follow_publisher_of(host_port).await;
            let why = stats.is_none().then(|| {
                "not observable: Docker's stats for the proxy container could not be read"
                    .to_owned()
            });
            (stats, why)
        }
        CostSource::NotObservable(why) => (None, Some(why.to_owned())),
    }
}

/// Starts every machine of the plan at its place on the ramp; a machine still running at the
/// run's deadline is stopped and counted unfinished.
fn spawn_machines(
    plan: &FleetPlan,
    context: &Arc<FleetContext>,
    options: &LoadOptions,
    start: Instant,
) -> JoinSet<()> {
    let deadline = tokio::time::Instant::from_std(start + options.duration);
    let clients = plan.machines.len();
    let mut machines = JoinSet::new();
    for machine in plan.machines.iter().cloned() {
        let offset = options
            .fleet
            .ramp
            .mul_f64(machine.index as f64 / clients as f64);
        let begin = tokio::time::Instant::from_std(start + offset);
        let context = context.clone();
        machines.spawn(async move {
            if begin >= deadline {
                context.meter.started();
                context.meter.ended(MachineEnd::Unfinished, Duration::ZERO);
                return;
            }
            tokio::time::sleep_until(begin).await;
            context.meter.started();
            let began = Instant::now();
            let end = tokio::time::timeout_at(deadline, run_machine(&context, &machine))
                .await
                .unwrap_or(MachineEnd::Unfinished);
            context.meter.ended(end, began.elapsed());
        });
    }
    machines
}

/// Samples the run once a second until every machine has ended.
async fn sample_until_done(
    mut machines: JoinSet<()>,
    sampler: &mut Sampler<'_>,
    meter: &Meter,
    progress: &Progress,
    start: Instant,
) {
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::from_std(start) + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    loop {
        tokio::select! {
            biased;
            joined = machines.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
            _ = ticks.tick() => {
                let second = sampler.sample(meter);
                progress.tick(&tick_of(&second, sampler));
            }
        }
    }
}

/// The origins' totals once they stop growing (bounded by `SETTLE_LIMIT`): they may still be
/// sending what a widening proxy asked for after the last machine ended.
/// Milliseconds since the Unix epoch, now.
fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What the clients received and the origins sent, for per-client files and shared ones.
fn flows(reading: &crate::meter::Reading, origin: &OriginTotals) -> (Flow, Flow) {
    (
        Flow::new(
            reading.delivered - reading.delivered_shared,
            origin.bytes - origin.shared_bytes,
        ),
        Flow::new(reading.delivered_shared, origin.shared_bytes),
    )
}

async fn settled_origin_totals(lab: &Lab, plan: &FleetPlan) -> OriginTotals {
    let mut origin = origin_totals(lab.origin().journal(), plan);
    let settle_deadline = Instant::now() + SETTLE_LIMIT;
    while Instant::now() < settle_deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = origin_totals(lab.origin().journal(), plan);
        if now == origin {
            break;
        }
        origin = now;
    }
    origin
}

/// One machine: its connections, then each of its files with its update client.
async fn run_machine(context: &FleetContext, machine: &MachinePlan) -> MachineEnd {
    let connections = profile::connections_for(machine.profile, context);
    let mut pool: Vec<ProxyConnection> = (0..connections)
        .map(|_| ProxyConnection::default())
        .collect();
    for file in &machine.files {
        if let Err(end) = profile::download(
            context,
            machine.profile,
            &mut pool,
            file,
            &machine.correlation,
        )
        .await
        {
            return end;
        }
    }
    MachineEnd::Done
}

fn summary(options: &LoadOptions, plan: &FleetPlan) -> FleetSummary {
    let clients = plan.machines.len() as u64;
    FleetSummary {
        clients,
        delivery_optimization_clients: plan.do_clients as u64,
        bits_clients: clients - plan.do_clients as u64,
        update_size_min: options.fleet.update_size.0,
        update_size_max: options.fleet.update_size.1,
        shared_files: options.fleet.shared_files as u64,
        shared_size: options.fleet.shared_size,
        piece_size: options.fleet.piece_size,
        do_connections: options.fleet.do_connections as u64,
    }
}

struct Previous {
    at: Instant,
    reading: Reading,
    origin: OriginTotals,
    proxy_cpu: Option<f64>,
    harness: ProcessSample,
}

/// Turns the counters into one [`Second`] of the timeline.
struct Sampler<'a> {
    journal: &'a OriginJournal,
    plan: &'a FleetPlan,
    stats: Option<&'a ContainerStats>,
    previous: Previous,
    start: Instant,
    timeline: Vec<Second>,
    peak_harness_memory: u64,
}

impl<'a> Sampler<'a> {
    /// A sampler from `start`, the proxy's and the harness's readings then as its baseline.
    fn new(
        journal: &'a OriginJournal,
        plan: &'a FleetPlan,
        stats: Option<&'a ContainerStats>,
        start: Instant,
        proxy_cpu: Option<f64>,
        harness: ProcessSample,
    ) -> Self {
        Self {
            journal,
            plan,
            stats,
            previous: Previous {
                at: start,
                reading: Reading::default(),
                origin: OriginTotals::default(),
                proxy_cpu,
                harness,
            },
            start,
            timeline: Vec::new(),
            peak_harness_memory: harness.rss_bytes,
        }
    }

    fn sample(&mut self, meter: &Meter) -> Second {
        let now = Instant::now();
        let elapsed = now.duration_since(self.previous.at).as_secs_f64().max(1e-3);
        let reading = meter.read();
        let origin = origin_totals(self.journal, self.plan);
        let harness = process_stats::sample();
        let proxy = self.stats.and_then(ContainerStats::latest);
        let proxy_cpu_percent = match (proxy, self.previous.proxy_cpu) {
            (Some(p), Some(before)) => Some(((p.cpu_seconds - before) / elapsed * 100.0).max(0.0)),
            _ => None,
        };
        let second = Second {
            t: now.duration_since(self.start).as_secs_f64().round() as u64,
            active: reading.active(),
            done: reading.done,
            failed: reading.failed,
            delivered_bytes: reading.delivered - self.previous.reading.delivered,
            origin_bytes: origin.bytes.saturating_sub(self.previous.origin.bytes),
            origin_requests: origin
                .requests
                .saturating_sub(self.previous.origin.requests),
            proxy_cpu_percent,
            proxy_memory_bytes: proxy.map(|p| p.memory_bytes),
            harness_cpu_percent: (harness.cpu_seconds - self.previous.harness.cpu_seconds)
                / elapsed
                * 100.0,
            harness_memory_bytes: harness.rss_bytes,
        };
        self.peak_harness_memory = self.peak_harness_memory.max(harness.rss_bytes);
        self.previous = Previous {
            at: now,
            reading,
            origin,
            proxy_cpu: proxy.map(|p| p.cpu_seconds).or(self.previous.proxy_cpu),
            harness,
        };
        self.timeline.push(second);
        second
    }

    fn totals(&self) -> (u64, u64) {
        (self.previous.reading.delivered, self.previous.origin.bytes)
    }
}

fn tick_of(second: &Second, sampler: &Sampler<'_>) -> Tick {
    let (delivered, origin) = sampler.totals();
    Tick {
        t: second.t,
        finished: sampler.previous.reading.done
            + sampler.previous.reading.failed
            + sampler.previous.reading.unfinished,
        active: second.active,
        failed: second.failed,
        mib_s: second.delivered_bytes as f64 / MIB as f64,
        amplification: amplification(origin, delivered),
    }
}
