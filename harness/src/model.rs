//! The run model every report is rendered from: each scenario's outcome (its failed step with
//! line, expected vs actual and evidence) and the run as a whole.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use conformance_lab::{display_path, LabFault, MappingLimit, NotObservable};
use conformance_model::{KindsPoliced, Property, PROPERTY_TAGS};

use crate::invariants::Finding;
use crate::outcome::{Caveat, RunOutcome};

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
    pub state: ScenarioState,
    /// The step that failed, when one did.
    pub failed_step: Option<FailedStep>,
    /// The scenario's token (its requests' scenario header), once the run has joined it.
    pub token: Option<String>,
    /// For a failed scenario: the properties its failure counts for, from the run's evidence
    /// (a 407 is @auth wherever it shows) or from the property the failing check declares in
    /// code; empty when nothing claims it (the run then fails on it all the same).
    pub claimed_by: Vec<Property>,
    /// When the scenario started and finished (to tell it from a fault of the lab).
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    /// For a control over objects of each kind: which kinds the proxy policed (the property's
    /// verdict says which held), once the run has joined it.
    pub kinds_policed: Option<KindsPoliced>,
}

/// How a scenario ended. Besides passed and failed, a scenario may have been *not
/// observable*: every step that could be judged passed, but a check its property rests on
/// needed a vantage point this mode cannot see (external mode: an ICAP recorder the proxy never
/// called, an interception CA not given). It counts neither as a pass nor as a failure. (A
/// selected scenario that recorded no outcome at all is the fourth case, counted by
/// [`SuiteReport::missing_outcomes`].)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioState {
    Passed,
    Failed,
    NotObservable(NotObservable),
    /// A look-alike under a domain Microsoft owns (`<label>.dsp.mp.microsoft.com`) was let
    /// through: no one else can register it, so the bypass is wider than the update set but
    /// not open to an attacker. Reported with the host; a failure only with `--strict-scope`.
    ScopeWarning(String),
    /// Not judged because of the lab: the scenario ran while the lab was broken, or failed
    /// with a transport error the lab's fault explains. Neither a pass nor a failure of any
    /// property; the run ends as a lab fault. Holds why, in one sentence.
    LabFault(String),
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
    /// `file:line (scenario)`, the line of the failed step when there is one: where every
    /// report points for this scenario.
    pub fn location(&self) -> String {
        format!("{} ({})", self.failure_location(), self.scenario)
    }

    /// `file:line` of the failed step, or of the scenario when no step failed: the one place
    /// the console, JUnit, the JSON report and HTML name for a failure.
    pub fn failure_location(&self) -> String {
        let line = self
            .failed_step
            .as_ref()
            .map_or(self.line, |step| step.line);
        format!("{}:{line}", self.feature)
    }
}

impl ScenarioOutcome {
    pub fn passed(&self) -> bool {
        self.state == ScenarioState::Passed
    }

    pub fn failed(&self) -> bool {
        self.state == ScenarioState::Failed
    }

    /// The scope warning this scenario raised, if it did.
    pub fn scope_warning(&self) -> Option<&str> {
        match &self.state {
            ScenarioState::ScopeWarning(why) => Some(why),
            _ => None,
        }
    }

    /// Why a fault of the lab left the scenario unjudged, when one did.
    pub fn lab_fault(&self) -> Option<&str> {
        match &self.state {
            ScenarioState::LabFault(why) => Some(why),
            _ => None,
        }
    }

    /// Why the scenario could not be judged, when it could not.
    pub fn not_observable(&self) -> Option<&NotObservable> {
        match &self.state {
            ScenarioState::NotObservable(why) => Some(why),
            _ => None,
        }
    }

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

    pub fn is_look_alike(&self) -> bool {
        self.tags
            .iter()
            .any(|t| t == conformance_model::LOOK_ALIKE_TAG)
    }

    /// A failed scenario whose failure no property claims.
    pub fn unclaimed(&self) -> bool {
        self.failed() && self.claimed_by.is_empty()
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    /// The policy as the user named it (a `.cpl` file, not its translation).
    pub policy: PathBuf,
    /// The proxy under test as reports name it: the bundled backend's name and version
    /// (`Squid 5.7`), or `external proxy`.
    pub proxy: String,
    /// What the lab's evidence cannot see (see [`crate::Caveat`]): a pass is inconclusive.
    pub caveats: Vec<Caveat>,
    /// The run's verdict, exit code and reason, and each property's verdict, decided once by
    /// [`SuiteReport::judged`]: every report states this.
    pub outcome: RunOutcome,
    pub scenarios: Vec<ScenarioOutcome>,
    pub parse_errors: Vec<String>,
    /// What the run-wide invariants found in the update traffic (violations and notes).
    pub findings: Vec<Finding>,
    /// Requests the run's clients sent to update hosts: what the invariants judged.
    pub update_exchanges: usize,
    /// Scenarios the run selected (the user's and the controls pulled in with them).
    pub selected: usize,
    /// The seed the run's host names were drawn from.
    pub host_seed: u64,
    /// Each wildcard pattern with the names drawn under it, then the look-alikes.
    pub drawn_hosts: Vec<(String, Vec<String>)>,
    /// What was judged from where (client, origin, ICAP, categoriser, proxy log).
    pub vantage_points: VantagePoints,
    pub lab_start: Duration,
    pub duration: Duration,
    /// What a whole configuration's mapping could not carry into the lab: a pass of a property
    /// named there is inconclusive.
    pub mapping_limits: Vec<MappingLimit>,
    /// What the lab's watch saw while the scenarios ran.
    pub lab: LabHealthReport,
}

/// The lab's health over the run: its faults (none in a run that can be judged) and every
/// retry the harness made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabHealthReport {
    /// When the lab was ready and the scenarios could start.
    pub ready_at: SystemTime,
    /// Earliest first.
    pub faults: Vec<LabFault>,
    pub retries: Vec<String>,
}

impl Default for LabHealthReport {
    fn default() -> Self {
        Self {
            ready_at: SystemTime::UNIX_EPOCH,
            faults: Vec::new(),
            retries: Vec::new(),
        }
    }
}

impl LabHealthReport {
    /// The lab's first fault, if it broke.
    pub fn first_fault(&self) -> Option<&LabFault> {
        self.faults.first()
    }

    /// The proxy's last log lines, from the first fault that kept them.
    pub fn proxy_log_lines(&self) -> Option<&[String]> {
        self.faults
            .iter()
            .find(|f| !f.proxy_log.is_empty())
            .map(|f| f.proxy_log.as_slice())
    }

    /// Seconds from the lab being ready to `at` (negative when before).
    pub fn seconds_after_ready(&self, at: SystemTime) -> f64 {
        match at.duration_since(self.ready_at) {
            Ok(after) => after.as_secs_f64(),
            Err(before) => -before.duration().as_secs_f64(),
        }
    }

    /// ` (last seen healthy 3.0 s after the lab was ready)` for a fault a probe found.
    pub fn last_seen_healthy(&self, fault: &LabFault) -> String {
        fault.healthy_until.map_or_else(String::new, |healthy| {
            format!(
                " (last seen healthy {:.1} s after the lab was ready)",
                self.seconds_after_ready(healthy)
            )
        })
    }

    /// `the proxy under test's container was killed (signal 9), 3.5 s after the lab was ready
    /// (18:20:31 UTC)`: what failed first and when.
    pub fn what_failed(&self) -> Option<String> {
        let first = self.first_fault()?;
        Some(format!(
            "{first}, {:.1} s after the lab was ready ({} UTC)",
            self.seconds_after_ready(first.at),
            time_of_day(first.at)
        ))
    }
}

/// `HH:MM:SS` (UTC) of `at`.
pub fn time_of_day(at: SystemTime) -> String {
    let seconds = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

impl SuiteReport {
    /// Whether every selected scenario ran and passed (the self-test judges mutants by this).
    pub fn passed(&self) -> bool {
        self.parse_errors.is_empty()
            && !self.scenarios.is_empty()
            && self.scenarios.len() >= self.selected
            && self.scenarios.iter().all(ScenarioOutcome::passed)
    }

    /// Selected scenarios that recorded no outcome.
    pub fn missing_outcomes(&self) -> usize {
        self.selected.saturating_sub(self.scenarios.len())
    }

    pub fn failed(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios.iter().filter(|s| s.failed())
    }

    /// The scenario whose token is `token` (the run-wide findings name scenarios by token).
    pub fn scenario_of(&self, token: &Option<String>) -> Option<&ScenarioOutcome> {
        let token = token.as_ref()?;
        self.scenarios
            .iter()
            .find(|s| s.token.as_ref() == Some(token))
    }

    /// Each scenario that raised a scope warning, with the warning.
    pub fn scope_warnings(&self) -> impl Iterator<Item = (&ScenarioOutcome, &str)> {
        self.scenarios
            .iter()
            .filter_map(|s| Some((s, s.scope_warning()?)))
    }

    /// Scenarios a fault of the lab left unjudged.
    pub fn unjudged_by_lab(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios.iter().filter(|s| s.lab_fault().is_some())
    }

    /// Scenarios that could not be judged in this mode.
    pub fn unobservable(&self) -> impl Iterator<Item = &ScenarioOutcome> {
        self.scenarios
            .iter()
            .filter(|s| s.not_observable().is_some())
    }

    /// `VERDICT: N scenarios: P passed, F failed (lab Xs, run Ys)`, then `; why: …` unless it
    /// passed; for a run whose lab broke,
    /// `LAB FAULT: what failed and when: …`, one sentence.
    pub fn summary(&self) -> String {
        if let Some(what) = self.lab.what_failed() {
            let unjudged = self.unjudged_by_lab().count() + self.missing_outcomes();
            return format!(
                "LAB FAULT: {what}; {unjudged} of the {} selected scenarios not judged because of \
                 the lab, {} judged before it; no verdict about the policy (lab start {:.1} s, \
                 whole run {:.1} s, policy {} on {})",
                self.selected,
                self.scenarios.len() - self.unjudged_by_lab().count(),
                self.lab_start.as_secs_f64(),
                self.duration.as_secs_f64(),
                display_path(&self.policy),
                self.proxy
            );
        }
        let failed = self.failed().count();
        let unobservable = self.unobservable().count();
        let warned = self
            .scenarios
            .iter()
            .filter(|s| s.scope_warning().is_some())
            .count();
        let mut unobservable_text = if unobservable > 0 {
            format!(", {unobservable} not observable")
        } else {
            String::new()
        };
        if warned > 0 {
            unobservable_text.push_str(&format!(", {warned} scope warning(s)"));
        }
        let outcome = &self.outcome;
        let why = match outcome.verdict {
            crate::Verdict::Pass => String::new(),
            _ => format!("; why: {}", outcome.reason),
        };
        format!(
            "{}: {} scenarios: {} passed, {failed} failed{unobservable_text} (lab start {:.1} s, whole run {:.1} s, policy {} on {}){why}",
            outcome.verdict.to_string().to_uppercase(),
            self.scenarios.len(),
            self.scenarios.len() - failed - unobservable - warned,
            self.lab_start.as_secs_f64(),
            self.duration.as_secs_f64(),
            display_path(&self.policy),
            self.proxy
        )
    }
}

/// The report's "vantage points" section: the mode, and for each vantage point how the run
/// used it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VantagePoints {
    /// "bundled lab (Squid 5.7, started by the harness)" or "external proxy at http://…".
    pub mode: String,
    /// Vantage point name, then how it was judged in one sentence.
    pub points: Vec<(String, String)>,
}

/// Run models for the reports' unit tests: a run that passed, failed, was inconclusive, or
/// whose lab broke.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::time::{Duration, SystemTime};

    use conformance_lab::{LabComponent, LabFault};

    use super::*;

    fn scenario(feature: &str, line: usize, state: ScenarioState) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: feature.into(),
            scenario: format!("scenario {line}"),
            line,
            tags: vec!["@auth".into()],
            hosts: Vec::new(),
            state,
            failed_step: None,
            token: None,
            claimed_by: vec![Property::Auth],
            started_at: None,
            finished_at: None,
            kinds_policed: None,
        }
    }

    pub(crate) fn unjudged(feature: &str, line: usize) -> ScenarioOutcome {
        let why = "not judged because of the lab: it was running when the proxy died".into();
        ScenarioOutcome {
            claimed_by: Vec::new(),
            ..scenario(feature, line, ScenarioState::LabFault(why))
        }
    }

    pub(crate) fn failed(feature: &str, line: usize) -> ScenarioOutcome {
        scenario(feature, line, ScenarioState::Failed)
    }

    /// A run of `scenarios` whose proxy container was killed 3.5 s after the lab was ready.
    pub(crate) fn report_with(scenarios: Vec<ScenarioOutcome>) -> SuiteReport {
        let ready_at = SystemTime::UNIX_EPOCH + Duration::from_secs(3600);
        SuiteReport {
            proxy: "Squid 5.7".to_owned(),
            policy: "policy.conf".into(),
            caveats: Vec::new(),
            outcome: RunOutcome::default(),
            selected: scenarios.len(),
            scenarios,
            parse_errors: Vec::new(),
            findings: Vec::new(),
            update_exchanges: 1,
            host_seed: 1,
            drawn_hosts: Vec::new(),
            vantage_points: VantagePoints::default(),
            lab_start: Duration::from_secs(3),
            duration: Duration::from_secs(9),
            mapping_limits: Vec::new(),
            lab: LabHealthReport {
                ready_at,
                faults: vec![LabFault {
                    at: ready_at + Duration::from_millis(3500),
                    healthy_until: None,
                    component: LabComponent::ProxyContainer,
                    what: "was killed (signal 9)".into(),
                    proxy_log: vec!["Squid Cache (Version 5.7): running".into()],
                }],
                retries: vec!["lab start: 2 attempts".into()],
            },
        }
        .judged()
    }

    fn with_tags(mut outcome: ScenarioOutcome, tags: &[&str]) -> ScenarioOutcome {
        outcome.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        outcome.hosts = vec!["download.windowsupdate.com".into()];
        outcome
    }

    fn healthy(scenarios: Vec<ScenarioOutcome>) -> SuiteReport {
        let mut report = report_with(scenarios);
        report.lab.faults.clear();
        report.policy = "policies/cpl/windows-update.cpl".into();
        report.judged()
    }

    /// @auth and its control passed.
    pub(crate) fn passing_run() -> SuiteReport {
        healthy(vec![
            with_tags(
                scenario("features/auth.feature", 8, ScenarioState::Passed),
                &["@auth"],
            ),
            with_tags(
                scenario("features/auth.feature", 20, ScenarioState::Passed),
                &["@auth", "@control"],
            ),
        ])
    }

    /// @auth's update-host scenario failed at line 12 (scenario at line 8).
    pub(crate) fn failed_run() -> SuiteReport {
        let mut run = passing_run();
        run.scenarios[0].state = ScenarioState::Failed;
        run.scenarios[0].failed_step = Some(FailedStep {
            text: "Then the proxy did not ask for credentials".into(),
            line: 12,
            message: "expected: no 407\nactual: 407 Proxy Authentication Required".into(),
            definition: Some("steps/src/proxy.rs:40".into()),
        });
        run.judged()
    }

    /// @auth passed; @icap's update-host scenario could not be observed.
    pub(crate) fn unobservable_run() -> SuiteReport {
        let mut run = passing_run();
        let why = conformance_lab::NotObservable {
            vantage: conformance_lab::Vantage::Icap,
            check: "the ICAP service saw no request".into(),
            why: "the proxy made no ICAP call during the run".into(),
        };
        run.scenarios.push(with_tags(
            scenario(
                "features/icap.feature",
                5,
                ScenarioState::NotObservable(why),
            ),
            &["@icap"],
        ));
        run.selected += 1;
        run.judged()
    }

    /// What `run --cpl` passes in for a construct to-squid could not carry over.
    pub(crate) fn cpl_caveat() -> Caveat {
        Caveat {
            source: "cpl to-squid".into(),
            what: "group=staff (windows-update.cpl:12): a user group; not translated".into(),
            consequence: "may change how update hosts are treated: the lab judged the \
                          translation, not the policy"
                .into(),
        }
    }
}
