//! Three outcomes, per property and for the run: **pass**, **fail**, **inconclusive**. A bypass
//! check that passes proves something only if its control — the same check against a host the
//! proxy must police — shows the proxy really authenticates, caches, adapts, categorises or
//! intercepts there. A failed or missing control, or scenarios that recorded no outcome, make
//! the verdict inconclusive: never a pass. So does a scenario that was not observable in this
//! mode (external mode: a vantage point its property rests on cannot be seen). A control that
//! offers objects of each kind a policy keys on (a page, an executable, an archive, an
//! update-like file) holds when the proxy policed any of them, and the property's reason names
//! the kinds that held; its look-alikes are offered the same kinds and judged the same way, so
//! a policy that polices only some kinds passes both or neither.
//!
//! A fourth outcome belongs to the run only: **lab fault**. When the lab broke during the run,
//! the run says so and judges no policy: a property whose scenarios the fault left unjudged is
//! inconclusive at best, and the run's verdict is the lab's fault.

use std::fmt;

use conformance_model::{KindsPoliced, Property, CONTROL_TAG, LOOK_ALIKE_TAG};

use conformance_lab::{MappingLimit, NotObservable};

use crate::invariants::Finding;
use crate::model::{ScenarioOutcome, SuiteReport};

/// The outcome of a property or a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Pass,
    Inconclusive,
    Fail,
    /// The lab broke during the run: no verdict about the policy (a run's verdict only).
    LabFault,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Inconclusive => "inconclusive",
            Self::Fail => "fail",
            Self::LabFault => "lab fault",
        })
    }
}

/// How one property fared, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyVerdict {
    pub property: Property,
    pub verdict: Verdict,
    /// Update-host (bypass) scenarios: passed, failed.
    pub bypass: (usize, usize),
    /// Control scenarios: passed, failed.
    pub controls: (usize, usize),
    /// Look-alike hosts (`@look-alike`) that must be policed like controls: passed, failed.
    pub look_alikes: (usize, usize),
    /// Scenarios of any kind that could not be observed in this mode.
    pub unobservable: usize,
    /// Scenarios a fault of the lab left unjudged.
    pub unjudged_by_lab: usize,
    /// Violations the run-wide invariants found in update traffic for this property.
    pub findings: usize,
    /// Look-alikes under Microsoft's own domains let through (scope warnings, not failures).
    pub scope_warnings: usize,
    /// One sentence saying why, in the report's words.
    pub why: String,
    /// For a failed or inconclusive property: what to change, from its first failed scenario.
    pub diagnosis: Option<String>,
}

/// What the run-wide invariants saw: their violations and how many update requests they
/// judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Invariants<'a> {
    pub findings: &'a [Finding],
    pub update_exchanges: usize,
    /// What a whole configuration's mapping could not carry into the lab: a property whose
    /// evidence depends on it is inconclusive when it would have passed.
    pub mapping_limits: &'a [MappingLimit],
    /// The lab broke during the run: what the invariants saw after that is not judged.
    pub lab_broke: bool,
}

/// The verdict of every property the scenarios carry or the invariants judged, in report
/// order.
pub fn property_verdicts(
    scenarios: &[ScenarioOutcome],
    invariants: Invariants<'_>,
) -> Vec<PropertyVerdict> {
    Property::ALL
        .into_iter()
        .filter_map(|property| judge_property(property, scenarios, invariants))
        .collect()
}

/// How a property's scenarios fared, by kind.
#[derive(Debug, Default)]
struct Tally<'a> {
    /// Update-host scenarios: passed, failed.
    bypass: (usize, usize),
    controls: (usize, usize),
    look_alikes: (usize, usize),
    /// Update-host scenarios that failed at another property's check first.
    unreached: usize,
    scope_warnings: usize,
    unjudged_by_lab: usize,
    unobservable: Vec<&'a NotObservable>,
}

impl Tally<'_> {
    /// No scenario speaks for the property: only the run-wide invariants judge it.
    fn is_empty(&self) -> bool {
        self.bypass == (0, 0)
            && self.controls == (0, 0)
            && self.look_alikes == (0, 0)
            && self.unreached == 0
            && self.unjudged_by_lab == 0
            && self.unobservable.is_empty()
    }
}

/// Counts the scenarios that carry `property`'s tag or were claimed for it.
fn tally(property: Property, scenarios: &[ScenarioOutcome]) -> Tally<'_> {
    let mut tally = Tally::default();
    for scenario in scenarios
        .iter()
        .filter(|s| s.tags.iter().any(|t| t == property.tag()) || s.claimed_by.contains(&property))
    {
        if scenario.scope_warning().is_some() {
            tally.scope_warnings += 1;
            continue;
        }
        if scenario.lab_fault().is_some() {
            tally.unjudged_by_lab += 1;
            continue;
        }
        if scenario.failed() && !scenario.claimed_by.contains(&property) {
            // It failed at another property's check before this one was judged.
            tally.unreached += 1;
            continue;
        }
        let count = if scenario.tags.iter().any(|t| t == CONTROL_TAG) {
            &mut tally.controls
        } else if scenario.tags.iter().any(|t| t == LOOK_ALIKE_TAG) {
            &mut tally.look_alikes
        } else {
            &mut tally.bypass
        };
        if let Some(why) = scenario.not_observable() {
            tally.unobservable.push(why);
        } else if scenario.passed() {
            count.0 += 1;
        } else {
            count.1 += 1;
        }
    }
    tally
}

fn judge_property(
    property: Property,
    scenarios: &[ScenarioOutcome],
    invariants: Invariants<'_>,
) -> Option<PropertyVerdict> {
    let violations: Vec<&Finding> = invariants
        .findings
        .iter()
        .filter(|f| f.property == property && f.is_violation())
        .collect();
    let tally = tally(property, scenarios);
    if tally.is_empty() && violations.is_empty() && property != Property::Integrity {
        return None;
    }
    let (verdict, why) = if let Some(first) = violations.first() {
        (
            Verdict::Fail,
            format!(
                "{} violation(s) in the run's update traffic: update traffic {} (first: {} on {})",
                violations.len(),
                property.violation(),
                first.what,
                first.host
            ),
        )
    } else if tally.unjudged_by_lab > 0 && tally.bypass.1 == 0 {
        // Only a failure proven on a healthy lab stands; anything else is incomplete.
        (
            Verdict::Inconclusive,
            format!(
                "not judged: {} of its scenario(s) ran while the lab was broken (see the lab \
                 fault)",
                tally.unjudged_by_lab
            ),
        )
    } else if tally.is_empty() {
        invariants_only_verdict(invariants)
    } else {
        failed_scenarios_verdict(property, &tally)
            .unwrap_or_else(|| passed_scenarios_verdict(property, &tally))
    };
    let (verdict, why) = limited_by_mapping(property, invariants, verdict, why);
    let why = match control_kinds(property, scenarios) {
        Some(kinds) => format!("{why}; {kinds}"),
        None => why,
    };
    let why = if tally.scope_warnings > 0 {
        format!(
            "{why}; scope warning: {} host(s) under Microsoft's own domains but outside the update set were let through too (--strict-scope fails them)",
            tally.scope_warnings
        )
    } else {
        why
    };
    let diagnosis = (verdict != Verdict::Pass
        && (tally.unjudged_by_lab == 0 || verdict == Verdict::Fail))
        .then(|| diagnosis(property, scenarios, &violations))
        .flatten();
    Some(PropertyVerdict {
        property,
        verdict,
        diagnosis,
        bypass: tally.bypass,
        controls: tally.controls,
        look_alikes: tally.look_alikes,
        unobservable: tally.unobservable.len(),
        unjudged_by_lab: tally.unjudged_by_lab,
        findings: violations.len(),
        scope_warnings: tally.scope_warnings,
        why,
    })
}

/// Which kinds of object the property's controls saw the proxy police, when they offered
/// objects of each kind: `control held on: executable, archive (not policed: page, update-like
/// file)`, the kinds of all its controls together (a kind held when any control held it).
fn control_kinds(property: Property, scenarios: &[ScenarioOutcome]) -> Option<KindsPoliced> {
    let notes = scenarios
        .iter()
        .filter(|s| s.is_control() && s.lab_fault().is_none())
        .filter(|s| s.tags.iter().any(|t| t == property.tag()))
        .filter_map(|s| s.kinds_policed.as_ref());
    KindsPoliced::merged(property, notes)
}

/// The verdict of a property no scenario speaks for: what the run-wide invariants saw.
fn invariants_only_verdict(invariants: Invariants<'_>) -> (Verdict, String) {
    if invariants.lab_broke {
        (
            Verdict::Inconclusive,
            "not judged: the lab broke during the run, so its update traffic after that \
             proves nothing"
                .to_owned(),
        )
    } else if invariants.update_exchanges == 0 {
        (
            Verdict::Inconclusive,
            "no update request was made: nothing to judge".to_owned(),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "{} update request(s) of the run judged end to end: none refused or altered",
                invariants.update_exchanges
            ),
        )
    }
}

/// The verdict when some of the property's scenarios failed or could not be observed.
fn failed_scenarios_verdict(property: Property, tally: &Tally<'_>) -> Option<(Verdict, String)> {
    let (bypass, controls, look_alikes) = (tally.bypass, tally.controls, tally.look_alikes);
    Some(if bypass.1 > 0 {
        (
            Verdict::Fail,
            format!(
                "{} update-host scenario(s) failed: update traffic {}",
                bypass.1,
                property.violation()
            ),
        )
    } else if look_alikes.1 > 0 && controls.1 == 0 && controls.0 > 0 {
        (
            Verdict::Fail,
            format!(
                "{} look-alike host(s) were let through like update hosts: the bypass is over-broad",
                look_alikes.1
            ),
        )
    } else if let Some(first) = tally.unobservable.first() {
        (
            Verdict::Inconclusive,
            format!(
                "not observable: {} ({} scenario(s) could not be judged: {})",
                first.why,
                tally.unobservable.len(),
                first.check
            ),
        )
    } else if look_alikes.1 > 0 && controls.1 > 0 {
        (
            Verdict::Inconclusive,
            format!(
                "{} control(s) failed and {} look-alike host(s) were not policed: nothing shows the proxy polices any host",
                controls.1, look_alikes.1
            ),
        )
    } else if look_alikes.1 > 0 {
        (
            Verdict::Inconclusive,
            format!(
                "{} look-alike host(s) were not policed, and no passing control shows the proxy polices any host",
                look_alikes.1
            ),
        )
    } else {
        return None;
    })
}

/// The verdict when none of the property's update-host or look-alike scenarios failed: it
/// rests on what ran and on the controls.
fn passed_scenarios_verdict(property: Property, tally: &Tally<'_>) -> (Verdict, String) {
    let (bypass, controls) = (tally.bypass, tally.controls);
    if bypass.0 == 0 && tally.unreached > 0 {
        (
            Verdict::Inconclusive,
            format!(
                "not judged: its {} update-host scenario(s) failed at another property's check first",
                tally.unreached
            ),
        )
    } else if bypass.0 == 0 {
        if controls.1 > 0 {
            (
                Verdict::Inconclusive,
                format!("only controls ran, and {} failed", controls.1),
            )
        } else {
            (Verdict::Pass, "only controls ran; they passed".to_owned())
        }
    } else if !property.has_control() {
        (
            Verdict::Pass,
            format!(
                "{} update-host scenario(s) passed; no control is possible for this property",
                bypass.0
            ),
        )
    } else if controls == (0, 0) {
        (
            Verdict::Inconclusive,
            "no control ran: nothing shows the proxy does this to other hosts".to_owned(),
        )
    } else if controls.1 > 0 {
        (
            Verdict::Inconclusive,
            format!(
                "{} control(s) failed: the proxy does not do this to other hosts either, so the passing update-host checks prove nothing",
                controls.1
            ),
        )
    } else {
        (
            Verdict::Pass,
            format!(
                "{} update-host scenario(s) and {} control(s) passed",
                bypass.0, controls.0
            ),
        )
    }
}

/// A pass the lab's mapping of a whole configuration could not fully test is inconclusive.
fn limited_by_mapping(
    property: Property,
    invariants: Invariants<'_>,
    verdict: Verdict,
    why: String,
) -> (Verdict, String) {
    let limit = invariants
        .mapping_limits
        .iter()
        .find(|limit| limit.properties.contains(&property));
    match limit {
        Some(limit) if verdict == Verdict::Pass => (
            Verdict::Inconclusive,
            format!(
                "the lab could not map `{}` ({}): {} — without it, {why}",
                limit.directive, limit.at, limit.consequence
            ),
        ),
        _ => (verdict, why),
    }
}

/// What to change, from the first run-wide violation or else the first failed scenario.
fn diagnosis(
    property: Property,
    scenarios: &[ScenarioOutcome],
    violations: &[&Finding],
) -> Option<String> {
    violations
        .first()
        .map(|finding| crate::diagnosis::diagnose_finding(finding))
        .or_else(|| {
            scenarios
                .iter()
                .find_map(|scenario| crate::diagnosis::diagnose(property, scenario))
        })
}

/// The run's verdict: fail if any property failed or a failed scenario is claimed by none,
/// inconclusive if any property is or if fewer outcomes were recorded than scenarios selected,
/// pass otherwise — and never pass while a scenario failed.
pub fn run_verdict(
    scenarios: &[ScenarioOutcome],
    selected: usize,
    invariants: Invariants<'_>,
) -> Verdict {
    let properties = property_verdicts(scenarios, invariants);
    let untagged_failed = scenarios.iter().any(ScenarioOutcome::unclaimed);
    let untagged_unobservable = scenarios
        .iter()
        .any(|s| s.not_observable().is_some() && s.properties().next().is_none());
    let worst = properties
        .iter()
        .map(|p| p.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive);
    if untagged_failed || worst == Verdict::Fail {
        Verdict::Fail
    } else if worst == Verdict::Pass && scenarios.iter().any(ScenarioOutcome::failed) {
        // Whatever the accounting above: a run with a failed scenario never passes.
        Verdict::Fail
    } else if scenarios.is_empty() || scenarios.len() < selected || untagged_unobservable {
        Verdict::Inconclusive
    } else {
        worst
    }
}

impl SuiteReport {
    /// The run's verdict, as [`SuiteReport::judged`] decided it.
    pub fn verdict(&self) -> Verdict {
        self.outcome.verdict
    }

    /// Each property's verdict with the reason, as [`SuiteReport::judged`] decided it.
    pub fn properties(&self) -> &[PropertyVerdict] {
        &self.outcome.properties
    }

    /// The run's verdict from the model: a lab fault when the lab broke during the run,
    /// otherwise pass, fail or inconclusive (a pass with a caveat is inconclusive).
    pub(crate) fn decide_verdict(&self) -> Verdict {
        if !self.lab.faults.is_empty() {
            return Verdict::LabFault;
        }
        if !self.parse_errors.is_empty() {
            return Verdict::Fail;
        }
        match run_verdict(&self.scenarios, self.selected, self.invariants()) {
            Verdict::Pass if !self.caveats.is_empty() => Verdict::Inconclusive,
            verdict => verdict,
        }
    }

    /// What the run-wide invariants saw.
    pub fn invariants(&self) -> Invariants<'_> {
        Invariants {
            findings: &self.findings,
            update_exchanges: self.update_exchanges,
            mapping_limits: &self.mapping_limits,
            lab_broke: !self.lab.faults.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScenarioState;
    use conformance_lab::{NotObservable, Vantage};
    use conformance_model::ObjectKind;

    /// The verdicts of scenarios alone (no update exchange judged run-wide).
    fn property_verdicts_of(scenarios: &[ScenarioOutcome]) -> Vec<PropertyVerdict> {
        property_verdicts(scenarios, Invariants::default())
            .into_iter()
            .filter(|v| v.property != Property::Integrity)
            .collect()
    }

    fn run_verdict_of(scenarios: &[ScenarioOutcome], selected: usize) -> Verdict {
        let with_traffic = Invariants {
            findings: &[],
            update_exchanges: 1,
            ..Invariants::default()
        };
        run_verdict(scenarios, selected, with_traffic)
    }

    fn scenario(tags: &[&str], passed: bool) -> ScenarioOutcome {
        let state = if passed {
            ScenarioState::Passed
        } else {
            ScenarioState::Failed
        };
        ScenarioOutcome {
            feature: "features/x.feature".into(),
            scenario: "s".into(),
            line: 1,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            hosts: Vec::new(),
            state,
            failed_step: None,
            token: None,
            claimed_by: if passed {
                Vec::new()
            } else {
                tags.iter().filter_map(|t| Property::from_tag(t)).collect()
            },
            started_at: None,
            finished_at: None,
            kinds_policed: None,
        }
    }

    fn unjudged_by_lab(tags: &[&str]) -> ScenarioOutcome {
        ScenarioOutcome {
            state: ScenarioState::LabFault("not judged because of the lab".into()),
            ..scenario(tags, true)
        }
    }

    #[test]
    fn scenarios_the_lab_left_unjudged_never_pass_a_property_and_a_healthy_failure_stands() {
        let run = [
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
            unjudged_by_lab(&["@auth"]),
        ];
        let verdict = &property_verdicts_of(&run)[0];
        assert_eq!(verdict.verdict, Verdict::Inconclusive);
        assert_eq!(verdict.unjudged_by_lab, 1);
        assert!(verdict.why.contains("lab was broken"), "{}", verdict.why);
        assert_eq!(verdict.diagnosis, None);
        let proven_before = [scenario(&["@cache"], false), unjudged_by_lab(&["@cache"])];
        assert_eq!(
            property_verdicts_of(&proven_before)[0].verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn a_bypass_with_its_control_passing_passes() {
        let run = [
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
        ];
        assert_eq!(property_verdicts_of(&run)[0].verdict, Verdict::Pass);
        assert_eq!(run_verdict_of(&run, 2), Verdict::Pass);
    }

    #[test]
    fn a_failed_control_makes_a_passing_bypass_inconclusive() {
        let run = [
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], false),
        ];
        let verdict = &property_verdicts_of(&run)[0];
        assert_eq!(verdict.verdict, Verdict::Inconclusive);
        assert!(verdict.why.contains("control(s) failed"), "{}", verdict.why);
        assert_eq!(run_verdict_of(&run, 2), Verdict::Inconclusive);
    }

    fn with_kinds(
        mut outcome: ScenarioOutcome,
        property: Property,
        held: &[ObjectKind],
    ) -> ScenarioOutcome {
        outcome.kinds_policed = Some(KindsPoliced {
            property,
            offered: ObjectKind::ALL.into_iter().collect(),
            policed: held.iter().copied().collect(),
        });
        outcome
    }

    #[test]
    fn the_reason_names_the_kinds_the_controls_held_on() {
        use ObjectKind::{Archive, Executable, Page};
        // An antivirus for programs and archives: its control and its look-alikes hold on those.
        let run = [
            scenario(&["@icap"], true),
            with_kinds(
                scenario(&["@icap", "@control"], true),
                Property::Icap,
                &[Executable],
            ),
            with_kinds(
                scenario(&["@icap", "@control"], true),
                Property::Icap,
                &[Archive],
            ),
            with_kinds(
                scenario(&["@icap", "@look-alike"], true),
                Property::Icap,
                &[Page],
            ),
        ];
        let verdict = &property_verdicts_of(&run)[0];
        assert_eq!(verdict.verdict, Verdict::Pass);
        assert!(
            verdict.why.ends_with(
                "; control held on: executable, archive (not policed: page, update-like file)"
            ),
            "{}",
            verdict.why
        );
        // A look-alike none of whose kinds was policed, beside a control that held: over-broad.
        let mut over_broad = run.to_vec();
        over_broad[3] = with_kinds(
            scenario(&["@icap", "@look-alike"], false),
            Property::Icap,
            &[],
        );
        assert_eq!(property_verdicts_of(&over_broad)[0].verdict, Verdict::Fail);
        // A proxy that polices no kind: the control fails, the reason says so.
        let polices_none = [
            scenario(&["@icap"], true),
            with_kinds(scenario(&["@icap", "@control"], false), Property::Icap, &[]),
        ];
        let verdict = &property_verdicts_of(&polices_none)[0];
        assert_eq!(verdict.verdict, Verdict::Inconclusive);
        assert!(
            verdict.why.contains("control held on no kind"),
            "{}",
            verdict.why
        );
        // A control of another property, or without objects, adds nothing.
        let other = [
            scenario(&["@auth"], true),
            with_kinds(
                scenario(&["@auth", "@control"], true),
                Property::Icap,
                &[Archive],
            ),
        ];
        assert!(!property_verdicts_of(&other)[0].why.contains("held on"));
    }

    #[test]
    fn a_missing_control_is_inconclusive_unless_none_is_possible() {
        let tls = [scenario(&["@tls"], true)];
        assert_eq!(property_verdicts_of(&tls)[0].verdict, Verdict::Inconclusive);
        let range = [scenario(&["@range"], true)];
        let verdict = &property_verdicts_of(&range)[0];
        assert_eq!(verdict.verdict, Verdict::Pass);
        assert!(verdict.why.contains("no control is possible"));
    }

    #[test]
    fn a_failed_bypass_fails_whatever_its_control_did() {
        let run = [
            scenario(&["@cache"], false),
            scenario(&["@cache", "@control"], false),
        ];
        assert_eq!(property_verdicts_of(&run)[0].verdict, Verdict::Fail);
        assert_eq!(run_verdict_of(&run, 2), Verdict::Fail);
    }

    #[test]
    fn missing_outcomes_or_none_at_all_are_never_a_pass() {
        let run = [scenario(&["@range"], true)];
        assert_eq!(run_verdict_of(&run, 2), Verdict::Inconclusive);
        assert_eq!(run_verdict_of(&[], 0), Verdict::Inconclusive);
    }

    #[test]
    fn a_look_alike_let_through_fails_only_when_the_control_shows_policing_works() {
        let over_broad = [
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
            scenario(&["@auth", "@look-alike"], false),
        ];
        let verdict = &property_verdicts_of(&over_broad)[0];
        assert_eq!(verdict.verdict, Verdict::Fail);
        assert!(verdict.why.contains("over-broad"), "{}", verdict.why);
        let polices_nothing = [
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], false),
            scenario(&["@auth", "@look-alike"], false),
        ];
        assert_eq!(
            property_verdicts_of(&polices_nothing)[0].verdict,
            Verdict::Inconclusive
        );
    }

    fn unobservable(tags: &[&str]) -> ScenarioOutcome {
        ScenarioOutcome {
            state: ScenarioState::NotObservable(NotObservable {
                vantage: Vantage::Icap,
                check: "the ICAP service saw no request".into(),
                why: "the proxy made no ICAP call during the run".into(),
            }),
            ..scenario(tags, true)
        }
    }

    #[test]
    fn a_property_not_observable_is_inconclusive_with_the_reason_never_a_pass() {
        let run = [
            unobservable(&["@icap"]),
            unobservable(&["@icap", "@control"]),
        ];
        let verdict = &property_verdicts_of(&run)[0];
        assert_eq!(verdict.verdict, Verdict::Inconclusive);
        assert!(
            verdict
                .why
                .starts_with("not observable: the proxy made no ICAP call"),
            "{}",
            verdict.why
        );
        assert_eq!(verdict.unobservable, 2);
        assert_eq!(run_verdict_of(&run, 2), Verdict::Inconclusive);
        // One observable bypass passing beside it does not make a pass either.
        let mixed = [
            scenario(&["@icap"], true),
            scenario(&["@icap", "@control"], true),
            unobservable(&["@icap"]),
        ];
        assert_eq!(
            property_verdicts_of(&mixed)[0].verdict,
            Verdict::Inconclusive
        );
        // A failing bypass still fails.
        let failing = [
            scenario(&["@icap"], false),
            unobservable(&["@icap", "@control"]),
        ];
        assert_eq!(property_verdicts_of(&failing)[0].verdict, Verdict::Fail);
    }

    #[test]
    fn the_worst_property_decides_the_run() {
        let run = [
            scenario(&["@tls"], true),
            scenario(&["@tls", "@control"], true),
            scenario(&["@icap"], true),
            scenario(&["@icap", "@control"], false),
            scenario(&["@range"], false),
        ];
        assert_eq!(run_verdict_of(&run, 5), Verdict::Fail);
        assert_eq!(run_verdict_of(&run[..4], 4), Verdict::Inconclusive);
    }

    #[test]
    fn a_run_with_a_failed_scenario_never_passes() {
        // A failure no property claims fails the run on its own.
        let mut unclaimed = scenario(&["@range"], false);
        unclaimed.claimed_by.clear();
        let run = [
            scenario(&["@range"], true),
            unclaimed,
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
        ];
        assert_eq!(run_verdict_of(&run, 4), Verdict::Fail);
        // A failure claimed by a property the scenario is not tagged with fails that property.
        let mut elsewhere = scenario(&["@range"], false);
        elsewhere.claimed_by = vec![Property::Auth];
        let run = [
            elsewhere,
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
        ];
        let verdicts = property_verdicts_of(&run);
        let auth = verdicts
            .iter()
            .find(|v| v.property == Property::Auth)
            .unwrap();
        assert_eq!(auth.verdict, Verdict::Fail);
        assert_eq!(run_verdict_of(&run, 3), Verdict::Fail);
    }

    #[test]
    fn a_run_wide_violation_fails_its_property_whatever_the_scenarios_said() {
        let run = [
            scenario(&["@icap"], true),
            scenario(&["@icap", "@control"], true),
        ];
        let finding = Finding {
            property: Property::Icap,
            severity: crate::invariants::Severity::Violation,
            host: "download.microsoft.com".into(),
            vantage: Vantage::Icap,
            what: "the ICAP service received RESPMOD for GET http://download.microsoft.com/x.exe"
                .into(),
            scenario: None,
            refusal: false,
        };
        let invariants = Invariants {
            findings: std::slice::from_ref(&finding),
            update_exchanges: 10,
            ..Invariants::default()
        };
        let verdicts = property_verdicts(&run, invariants);
        assert_eq!(verdicts[0].verdict, Verdict::Fail);
        assert!(verdicts[0].why.contains("x.exe"), "{}", verdicts[0].why);
        assert_eq!(run_verdict(&run, 2, invariants), Verdict::Fail);
        // Integrity is judged by the invariants alone: over no update request, never a pass.
        let integrity = |update_exchanges, lab_broke| {
            property_verdicts(
                &run,
                Invariants {
                    findings: &[],
                    update_exchanges,
                    lab_broke,
                    ..Invariants::default()
                },
            )
            .into_iter()
            .find(|v| v.property == Property::Integrity)
            .unwrap()
            .verdict
        };
        assert_eq!(integrity(0, false), Verdict::Inconclusive);
        assert_eq!(integrity(5, false), Verdict::Pass);
        // Over a lab that broke, the invariants alone prove nothing.
        assert_eq!(integrity(5, true), Verdict::Inconclusive);
    }

    #[test]
    fn what_a_mapping_could_not_carry_makes_a_pass_inconclusive_never_a_fail_a_pass() {
        let limit = MappingLimit {
            at: "squid.conf:40".into(),
            directive: "cache_peer parent.corp parent 3128 0".into(),
            consequence: "removed: the parent proxy is not in the lab".into(),
            properties: vec![Property::Cache],
        };
        let limits = [limit];
        let invariants = Invariants {
            findings: &[],
            update_exchanges: 4,
            mapping_limits: &limits,
            lab_broke: false,
        };
        let passing = [
            scenario(&["@cache"], true),
            scenario(&["@cache", "@control"], true),
            scenario(&["@auth"], true),
            scenario(&["@auth", "@control"], true),
        ];
        let verdicts = property_verdicts(&passing, invariants);
        let of = |property| {
            verdicts
                .iter()
                .find(|v| v.property == property)
                .unwrap()
                .clone()
        };
        assert_eq!(of(Property::Cache).verdict, Verdict::Inconclusive);
        assert!(
            of(Property::Cache).why.contains("cache_peer parent.corp"),
            "{}",
            of(Property::Cache).why
        );
        assert_eq!(of(Property::Auth).verdict, Verdict::Pass);
        assert_eq!(run_verdict(&passing, 4, invariants), Verdict::Inconclusive);
        // A failure proven by evidence stands.
        let failing = [
            scenario(&["@cache"], false),
            scenario(&["@cache", "@control"], true),
        ];
        let verdicts = property_verdicts(&failing, invariants);
        assert_eq!(verdicts[0].verdict, Verdict::Fail);
        assert_eq!(run_verdict(&failing, 2, invariants), Verdict::Fail);
    }
}
