//! Two runs side by side: a candidate policy beside the baseline (production), or one policy
//! on two proxy versions. Both runs draw the same host names; the comparison says, per
//! property and per scenario, what is newly failing, newly passing and unchanged, and which
//! scope warnings were gained or lost. The later run (the candidate, or the second version)
//! decides the exit code: the question before a change window is what the change breaks.

use std::collections::{BTreeMap, BTreeSet};

use conformance_model::Property;

use crate::invariants::Finding;
use crate::model::{ScenarioOutcome, ScenarioState, SuiteReport};
use crate::verdict::Verdict;

/// What is compared with what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonKind {
    /// The same proxy, a baseline policy and a candidate.
    Policies,
    /// The same policy on two proxies (versions).
    Backends,
}

/// One of the two runs, with the words that name it in the report.
#[derive(Debug, Clone)]
pub struct ComparedRun {
    /// `baseline`, `candidate`, or the proxy's name (`Squid 6.13`).
    pub role: String,
    pub report: SuiteReport,
}

/// How one property or scenario moved from the first run to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Movement {
    /// Worse in the second run: it passed (or was inconclusive) and now fails, or passed and
    /// is now inconclusive.
    NewlyFailing,
    /// Better in the second run.
    NewlyPassing,
    /// Only one run has it (another selection or feature set).
    OnlyInOne,
    Unchanged,
}

/// A property's verdict in both runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyChange {
    pub property: Property,
    pub before: Option<Verdict>,
    pub after: Option<Verdict>,
    pub movement: Movement,
}

/// A scenario's outcome in both runs, keyed by its feature, line and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioChange {
    pub feature: String,
    pub line: usize,
    pub scenario: String,
    pub before: Option<Outcome>,
    pub after: Option<Outcome>,
    pub movement: Movement,
    /// Why it fails in the second run, when it does: the failed step's message's first line.
    pub why: Option<String>,
}

/// A scenario's outcome reduced to what a comparison needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Passed,
    ScopeWarning,
    NotObservable,
    LabFault,
    Failed,
}

impl Outcome {
    fn of(state: &ScenarioState) -> Self {
        match state {
            ScenarioState::Passed => Self::Passed,
            ScenarioState::Failed => Self::Failed,
            ScenarioState::NotObservable(_) => Self::NotObservable,
            ScenarioState::ScopeWarning(_) => Self::ScopeWarning,
            ScenarioState::LabFault(_) => Self::LabFault,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::ScopeWarning => "scope warning",
            Self::NotObservable => "not observable",
            Self::LabFault => "not judged (lab)",
            Self::Failed => "failed",
        }
    }

    /// Higher is worse.
    fn badness(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::ScopeWarning => 1,
            Self::NotObservable | Self::LabFault => 2,
            Self::Failed => 3,
        }
    }
}

/// Two runs and what changed between them.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub kind: ComparisonKind,
    pub first: ComparedRun,
    pub second: ComparedRun,
}

impl Comparison {
    pub fn new(kind: ComparisonKind, first: ComparedRun, second: ComparedRun) -> Self {
        Self {
            kind,
            first,
            second,
        }
    }

    /// The verdict that decides the exit code: the second run's (the candidate's, or the
    /// second version's), unless the first run's lab broke (then nothing can be compared).
    pub fn verdict(&self) -> Verdict {
        match (self.first.report.verdict(), self.second.report.verdict()) {
            (Verdict::LabFault, _) | (_, Verdict::LabFault) => Verdict::LabFault,
            (_, second) => second,
        }
    }

    /// Every property either run judged, in report order, changes first.
    pub fn properties(&self) -> Vec<PropertyChange> {
        let (before, after) = (
            property_verdicts(&self.first.report),
            property_verdicts(&self.second.report),
        );
        let mut changes: Vec<PropertyChange> = Property::ALL
            .into_iter()
            .filter(|p| before.contains_key(p) || after.contains_key(p))
            .map(|property| {
                let (before, after) = (
                    before.get(&property).copied(),
                    after.get(&property).copied(),
                );
                PropertyChange {
                    property,
                    before,
                    after,
                    movement: verdict_movement(before, after),
                }
            })
            .collect();
        changes.sort_by_key(|c| c.movement);
        changes
    }

    /// Every scenario that moved, newly failing first; unchanged ones are only counted
    /// ([`Comparison::unchanged_scenarios`]).
    pub fn scenario_changes(&self) -> Vec<ScenarioChange> {
        let key = |s: &ScenarioOutcome| (s.feature.clone(), s.line, s.scenario.clone());
        let before: BTreeMap<_, &ScenarioOutcome> = self
            .first
            .report
            .scenarios
            .iter()
            .map(|s| (key(s), s))
            .collect();
        let after: BTreeMap<_, &ScenarioOutcome> = self
            .second
            .report
            .scenarios
            .iter()
            .map(|s| (key(s), s))
            .collect();
        let keys: BTreeSet<_> = before.keys().chain(after.keys()).cloned().collect();
        let mut changes: Vec<ScenarioChange> = keys
            .into_iter()
            .filter_map(|k| {
                let was = before.get(&k).map(|s| Outcome::of(&s.state));
                let is = after.get(&k).map(|s| Outcome::of(&s.state));
                let movement = outcome_movement(was, is);
                (movement != Movement::Unchanged).then(|| ScenarioChange {
                    why: after.get(&k).and_then(|s| first_line_of_failure(s)),
                    feature: k.0,
                    line: k.1,
                    scenario: k.2,
                    before: was,
                    after: is,
                    movement,
                })
            })
            .collect();
        changes.sort_by(|a, b| {
            (a.movement, &a.feature, a.line).cmp(&(b.movement, &b.feature, b.line))
        });
        changes
    }

    /// Scenarios with the same outcome in both runs.
    pub fn unchanged_scenarios(&self) -> usize {
        let moved = self.scenario_changes().len();
        let all: BTreeSet<_> = self
            .first
            .report
            .scenarios
            .iter()
            .chain(&self.second.report.scenarios)
            .map(|s| (&s.feature, s.line, &s.scenario))
            .collect();
        all.len() - moved
    }

    /// Scope warnings (hosts under Microsoft's domains let through) the second run has and
    /// the first has not, and those it lost.
    pub fn scope_warnings(&self) -> (Vec<String>, Vec<String>) {
        let warned = |report: &SuiteReport| -> BTreeSet<String> {
            report
                .scope_warnings()
                .map(|(scenario, host)| format!("{host} ({})", scenario.scenario))
                .collect()
        };
        let (before, after) = (warned(&self.first.report), warned(&self.second.report));
        (
            after.difference(&before).cloned().collect(),
            before.difference(&after).cloned().collect(),
        )
    }

    /// Run-wide violations (judged on all the update traffic, whatever scenario made it) on a
    /// property and host the other run has none on: those the second run gained, those it
    /// lost.
    pub fn violations(&self) -> (Vec<&Finding>, Vec<&Finding>) {
        let (before, after) = (
            violations(&self.first.report),
            violations(&self.second.report),
        );
        let (before_keys, after_keys) = (finding_keys(&before), finding_keys(&after));
        (
            one_per_key_outside(after, &before_keys),
            one_per_key_outside(before, &after_keys),
        )
    }

    /// Whether the second run changes nothing: same verdict per property and per scenario,
    /// same scope warnings, no run-wide violation gained or lost.
    pub fn changes_nothing(&self) -> bool {
        let (gained, lost) = self.scope_warnings();
        let (violations_gained, violations_lost) = self.violations();
        violations_gained.is_empty()
            && violations_lost.is_empty()
            && self.scenario_changes().is_empty()
            && gained.is_empty()
            && lost.is_empty()
            && self
                .properties()
                .iter()
                .all(|p| p.movement == Movement::Unchanged)
    }

    /// One sentence: what the second run changes, by the numbers.
    pub fn headline(&self) -> String {
        let (first, second) = (&self.first.role, &self.second.role);
        if self.changes_nothing() {
            return format!(
                "{second} changes nothing against {first}: every property and all {} scenarios \
                 have the same verdict ({}).",
                self.second.report.scenarios.len(),
                self.second.report.verdict()
            );
        }
        let count = |m: Movement| {
            self.scenario_changes()
                .iter()
                .filter(|c| c.movement == m)
                .count()
        };
        let properties = |m: Movement| {
            self.properties()
                .iter()
                .filter(|p| p.movement == m)
                .map(|p| p.property.tag())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let worse = properties(Movement::NewlyFailing);
        let better = properties(Movement::NewlyPassing);
        let (gained, lost) = self.violations();
        format!(
            "{second} against {first}: {} scenario(s) newly failing, {} newly passing, {} \
             unchanged; {} run-wide violation(s) gained, {} lost; properties newly failing: {}; \
             newly passing: {}.",
            count(Movement::NewlyFailing),
            count(Movement::NewlyPassing),
            self.unchanged_scenarios(),
            gained.len(),
            lost.len(),
            if worse.is_empty() { "none" } else { &worse },
            if better.is_empty() { "none" } else { &better },
        )
    }
}

fn property_verdicts(report: &SuiteReport) -> BTreeMap<Property, Verdict> {
    report
        .properties()
        .iter()
        .map(|p| (p.property, p.verdict))
        .collect()
}

fn violations(report: &SuiteReport) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.is_violation())
        .collect()
}

fn finding_key(finding: &Finding) -> (Property, String) {
    (finding.property, finding.host.to_ascii_lowercase())
}

fn finding_keys(findings: &[&Finding]) -> BTreeSet<(Property, String)> {
    findings.iter().map(|f| finding_key(f)).collect()
}

/// The first finding of each property and host that `other` does not have.
fn one_per_key_outside<'a>(
    findings: Vec<&'a Finding>,
    other: &BTreeSet<(Property, String)>,
) -> Vec<&'a Finding> {
    let mut seen = BTreeSet::new();
    findings
        .into_iter()
        .filter(|f| {
            let key = finding_key(f);
            !other.contains(&key) && seen.insert(key)
        })
        .collect()
}

fn verdict_movement(before: Option<Verdict>, after: Option<Verdict>) -> Movement {
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Inconclusive | Verdict::LabFault => 1,
        Verdict::Fail => 2,
    };
    match (before, after) {
        (Some(b), Some(a)) if rank(a) > rank(b) => Movement::NewlyFailing,
        (Some(b), Some(a)) if rank(a) < rank(b) => Movement::NewlyPassing,
        (Some(_), Some(_)) => Movement::Unchanged,
        _ => Movement::OnlyInOne,
    }
}

fn outcome_movement(before: Option<Outcome>, after: Option<Outcome>) -> Movement {
    match (before, after) {
        (Some(b), Some(a)) if a.badness() > b.badness() => Movement::NewlyFailing,
        (Some(b), Some(a)) if a.badness() < b.badness() => Movement::NewlyPassing,
        (Some(_), Some(_)) => Movement::Unchanged,
        _ => Movement::OnlyInOne,
    }
}

fn first_line_of_failure(scenario: &ScenarioOutcome) -> Option<String> {
    let step = scenario.failed_step.as_ref()?;
    let first = step.message.lines().find(|l| !l.trim().is_empty())?;
    Some(format!("{}: {}", step.text, first.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::report_with;
    use crate::model::FailedStep;

    fn scenario(line: usize, tags: &[&str], state: ScenarioState) -> ScenarioOutcome {
        let failed = state == ScenarioState::Failed;
        ScenarioOutcome {
            feature: "features/auth.feature".into(),
            scenario: format!("scenario {line}"),
            line,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            hosts: vec![],
            state,
            failed_step: failed.then(|| FailedStep {
                text: "Then the proxy did not ask for credentials".into(),
                line: line + 2,
                message: "expected no 407, got 407\nmore".into(),
                definition: None,
            }),
            token: None,
            claimed_by: if failed { vec![Property::Auth] } else { vec![] },
            started_at: None,
            finished_at: None,
            kinds_policed: None,
        }
    }

    fn run(role: &str, scenarios: Vec<ScenarioOutcome>) -> ComparedRun {
        let mut report = report_with(scenarios);
        report.update_exchanges = 3;
        report.lab.faults.clear();
        ComparedRun {
            role: role.into(),
            report: report.judged(),
        }
    }

    fn baseline() -> Vec<ScenarioOutcome> {
        vec![
            scenario(10, &["@auth"], ScenarioState::Passed),
            scenario(20, &["@auth", "@control"], ScenarioState::Passed),
            scenario(30, &["@cache"], ScenarioState::Passed),
            scenario(35, &["@cache", "@control"], ScenarioState::Passed),
        ]
    }

    #[test]
    fn a_candidate_that_breaks_auth_shows_the_scenario_and_the_property_newly_failing() {
        let mut candidate = baseline();
        candidate[0] = scenario(10, &["@auth"], ScenarioState::Failed);
        let comparison = Comparison::new(
            ComparisonKind::Policies,
            run("baseline", baseline()),
            run("candidate", candidate),
        );
        let scenarios = comparison.scenario_changes();
        assert_eq!(scenarios.len(), 1);
        assert_eq!(scenarios[0].movement, Movement::NewlyFailing);
        assert_eq!(scenarios[0].line, 10);
        assert_eq!(
            scenarios[0].why.as_deref(),
            Some("Then the proxy did not ask for credentials: expected no 407, got 407")
        );
        let properties = comparison.properties();
        assert_eq!(properties[0].property, Property::Auth);
        assert_eq!(properties[0].movement, Movement::NewlyFailing);
        assert!(properties[1..]
            .iter()
            .all(|p| p.movement == Movement::Unchanged));
        assert_eq!(comparison.verdict(), Verdict::Fail);
        assert_eq!(comparison.unchanged_scenarios(), 3);
        assert!(!comparison.changes_nothing());
        let headline = comparison.headline();
        assert!(
            headline.contains(
                "1 scenario(s) newly failing, 0 newly passing, 3 unchanged; 0 run-wide violation(s) gained"
            ),
            "{headline}"
        );
        assert!(
            headline.contains("properties newly failing: @auth"),
            "{headline}"
        );
    }

    #[test]
    fn a_candidate_that_fixes_a_fault_is_newly_passing_and_decides_the_exit() {
        let mut broken = baseline();
        broken[2] = scenario(30, &["@cache"], ScenarioState::Failed);
        let comparison = Comparison::new(
            ComparisonKind::Policies,
            run("baseline", broken),
            run("candidate", baseline()),
        );
        assert_eq!(
            comparison.scenario_changes()[0].movement,
            Movement::NewlyPassing
        );
        assert_eq!(comparison.properties()[0].movement, Movement::NewlyPassing);
        assert_eq!(comparison.verdict(), Verdict::Pass);
    }

    #[test]
    fn the_same_outcomes_change_nothing_in_one_line() {
        let comparison = Comparison::new(
            ComparisonKind::Backends,
            run("Squid 5.7", baseline()),
            run("Squid 6.13", baseline()),
        );
        assert!(comparison.changes_nothing());
        assert!(comparison.scenario_changes().is_empty());
        assert_eq!(comparison.unchanged_scenarios(), 4);
        assert!(comparison
            .headline()
            .starts_with("Squid 6.13 changes nothing against Squid 5.7"));
    }

    #[test]
    fn scope_warnings_gained_and_lost_are_told_apart() {
        let mut first = baseline();
        first.push(scenario(
            40,
            &["@auth", "@look-alike"],
            ScenarioState::ScopeWarning("a.dsp.mp.microsoft.com".into()),
        ));
        let mut second = baseline();
        second.push(scenario(
            50,
            &["@auth", "@look-alike"],
            ScenarioState::ScopeWarning("b.dsp.mp.microsoft.com".into()),
        ));
        let comparison = Comparison::new(
            ComparisonKind::Policies,
            run("baseline", first),
            run("candidate", second),
        );
        let (gained, lost) = comparison.scope_warnings();
        assert_eq!(gained.len(), 1);
        assert!(gained[0].starts_with("b.dsp"), "{gained:?}");
        assert!(lost[0].starts_with("a.dsp"), "{lost:?}");
        assert!(!comparison.changes_nothing());
    }

    #[test]
    fn a_run_wide_violation_the_candidate_gained_fails_it_without_any_failed_scenario() {
        let icap_call = |host: &str| Finding {
            property: Property::Icap,
            severity: crate::invariants::Severity::Violation,
            host: host.into(),
            vantage: conformance_lab::Vantage::Icap,
            what: "RESPMOD of GET http://download.microsoft.com/x.exe".into(),
            scenario: None,
            refusal: false,
        };
        let with_icap = || {
            let mut scenarios = baseline();
            scenarios.push(scenario(60, &["@icap"], ScenarioState::Passed));
            scenarios.push(scenario(70, &["@icap", "@control"], ScenarioState::Passed));
            scenarios
        };
        let mut candidate = run("candidate", with_icap());
        candidate.report.findings = vec![
            icap_call("download.microsoft.com"),
            icap_call("download.microsoft.com"),
        ];
        candidate.report = candidate.report.judged();
        let comparison = Comparison::new(
            ComparisonKind::Policies,
            run("baseline", with_icap()),
            candidate,
        );
        let (gained, lost) = comparison.violations();
        assert_eq!(gained.len(), 1, "one per property and host");
        assert!(lost.is_empty());
        assert!(comparison.scenario_changes().is_empty());
        assert_eq!(comparison.properties()[0].property, Property::Icap);
        assert_eq!(comparison.properties()[0].movement, Movement::NewlyFailing);
        assert_eq!(comparison.verdict(), Verdict::Fail);
        assert!(!comparison.changes_nothing());
        assert!(comparison
            .headline()
            .contains("1 run-wide violation(s) gained"));
    }

    #[test]
    fn a_lab_fault_in_either_run_is_the_comparisons_verdict() {
        let broken = ComparedRun {
            role: "baseline".into(),
            report: report_with(baseline()).judged(),
        };
        let comparison = Comparison::new(
            ComparisonKind::Policies,
            broken,
            run("candidate", baseline()),
        );
        assert_eq!(comparison.verdict(), Verdict::LabFault);
    }
}
