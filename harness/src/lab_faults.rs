//! A fault of the lab is never a verdict about the policy. Once the lab's watch saw a fault
//! (a container killed, stopped or restarted, a server that stopped answering), every scenario
//! still running when the lab may have broken — for a fault a probe found, from the last probe
//! that passed — or started after it is *not judged because of the lab*, whatever it ended
//! with; so is one that failed just before with a transport error (refused, reset, timed out)
//! the fault explains (a container's death can show to a client a moment before the engine
//! reports it). Their run-wide findings go with them. Scenarios that ended on a healthy lab keep
//! their verdicts, and the run ends as a lab fault (exit 3), never as a policy failure. A run
//! whose lab stayed healthy is left exactly as it was.

use std::time::Duration;

use conformance_client::Outcome;
use conformance_lab::{LabFault, LabHealth};

use crate::invariants::{Finding, ScenarioRecord};
use crate::model::{ScenarioOutcome, ScenarioState};

/// How long before a fault was seen a transport error is still taken for the fault's: twice
/// the watch's probe interval.
pub(crate) const TRANSPORT_MARGIN: Duration = Duration::from_secs(1);

/// Marks the scenarios `faults` leave unjudged, and drops the run-wide findings of their
/// traffic. Does nothing when there is no fault.
pub(crate) fn set_aside(
    outcomes: &mut [ScenarioOutcome],
    records: &[ScenarioRecord],
    findings: &mut Vec<Finding>,
    faults: &[LabFault],
) {
    let (Some(first), Some(broken_since)) = (
        faults.iter().min_by_key(|f| f.at),
        LabHealth::broken_since(faults),
    ) else {
        return;
    };
    let mut unjudged_tokens = Vec::new();
    for outcome in outcomes.iter_mut() {
        let record = records
            .iter()
            .find(|r| r.feature == outcome.feature && r.line == outcome.line);
        let why = match (outcome.started_at, outcome.finished_at) {
            (Some(started), _) if started >= broken_since => Some(format!(
                "not judged because of the lab: it started after {first}"
            )),
            (_, Some(finished)) if finished >= broken_since => Some(format!(
                "not judged because of the lab: it was running when {first}"
            )),
            (_, None) => Some(format!(
                "not judged because of the lab: it did not finish before {first}"
            )),
            (_, Some(finished))
                if outcome.failed()
                    && finished + TRANSPORT_MARGIN >= broken_since
                    && record.is_some_and(had_transport_error) =>
            {
                Some(format!(
                    "not judged because of the lab: it failed with a transport error just before \
                     {first} was seen"
                ))
            }
            _ => None,
        };
        if let Some(why) = why {
            outcome.state = ScenarioState::LabFault(why);
            outcome.claimed_by.clear();
            if let Some(record) = record {
                unjudged_tokens.push(record.token.clone());
            }
        }
    }
    findings.retain(|finding| {
        finding
            .scenario
            .as_ref()
            .is_none_or(|token| !unjudged_tokens.contains(token))
    });
}

/// Whether the scenario's clients met a transport error: no response at all (refused, reset,
/// closed, timed out), or a tunnel whose reply stopped short.
fn had_transport_error(record: &ScenarioRecord) -> bool {
    record
        .exchanges
        .iter()
        .any(|e| matches!(e.outcome, Outcome::Closed(_) | Outcome::Failed(_)))
        || record
            .raw_tunnel
            .as_ref()
            .is_some_and(|t| t.stopped.is_some())
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use conformance_client::{Credentials, Exchange, Scheme};
    use conformance_lab::{LabComponent, Vantage};
    use conformance_model::Property;

    use super::*;
    use crate::invariants::Severity;

    fn at(millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(millis)
    }

    fn outcome(line: usize, started: u64, finished: Option<u64>, failed: bool) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: "features/x.feature".into(),
            scenario: "s".into(),
            line,
            tags: vec!["@auth".into()],
            hosts: Vec::new(),
            state: if failed {
                ScenarioState::Failed
            } else {
                ScenarioState::Passed
            },
            failed_step: None,
            token: None,
            claimed_by: if failed {
                vec![Property::Auth]
            } else {
                Vec::new()
            },
            started_at: Some(at(started)),
            finished_at: finished.map(at),
            kinds_policed: None,
        }
    }

    fn record(line: usize, transport_error: bool) -> ScenarioRecord {
        let outcome = if transport_error {
            Outcome::Failed("error sending request: connection refused".into())
        } else {
            Outcome::Closed(String::new())
        };
        ScenarioRecord {
            feature: "features/x.feature".into(),
            line,
            token: format!("s{line}-t"),
            exchanges: if transport_error {
                vec![Exchange {
                    method: "GET".into(),
                    url: "http://download.windowsupdate.com/x".into(),
                    scheme: Scheme::Http,
                    credentials: Credentials::Without,
                    range: None,
                    extra_headers: Vec::new(),
                    request_token: "r".into(),
                    outcome,
                }]
            } else {
                Vec::new()
            },
            raw_tunnel: None,
            judging: None,
            blinded: None,
            kinds_policed: None,
        }
    }

    fn fault(millis: u64) -> LabFault {
        LabFault {
            at: at(millis),
            healthy_until: None,
            component: LabComponent::ProxyContainer,
            what: "was killed (signal 9)".into(),
            proxy_log: Vec::new(),
        }
    }

    fn finding(token: &str) -> Finding {
        Finding {
            property: Property::Auth,
            severity: Severity::Violation,
            host: "download.windowsupdate.com".into(),
            vantage: Vantage::Client,
            what: "407".into(),
            scenario: Some(token.into()),
            refusal: false,
        }
    }

    #[test]
    fn scenarios_around_the_fault_are_set_aside_and_those_before_it_keep_their_verdicts() {
        let mut outcomes = vec![
            outcome(1, 0, Some(1_000), true),      // failed long before: stands
            outcome(2, 0, Some(4_800), true),      // transport error just before: set aside
            outcome(3, 0, Some(4_800), true),      // failed just before, not transport: stands
            outcome(4, 4_000, Some(6_000), false), // running at the fault, passed: set aside
            outcome(5, 5_500, Some(5_501), true),  // started after it: set aside
            outcome(6, 0, Some(2_000), false),     // passed before: stands
        ];
        let records = [
            record(1, true),
            record(2, true),
            record(3, false),
            record(4, false),
            record(5, true),
            record(6, false),
        ];
        let mut findings = vec![finding("s1-t"), finding("s2-t"), finding("s4-t")];
        set_aside(&mut outcomes, &records, &mut findings, &[fault(5_000)]);
        let unjudged: Vec<usize> = outcomes
            .iter()
            .filter(|o| o.lab_fault().is_some())
            .map(|o| o.line)
            .collect();
        assert_eq!(unjudged, [2, 4, 5]);
        assert!(outcomes[0].failed() && outcomes[0].claimed_by == [Property::Auth]);
        assert!(outcomes[2].failed());
        assert!(outcomes[5].passed());
        assert!(outcomes[3].lab_fault().unwrap().contains("running when"));
        assert!(outcomes[4].lab_fault().unwrap().contains("started after"));
        assert!(outcomes[1].claimed_by.is_empty());
        let kept: Vec<_> = findings.iter().filter_map(|f| f.scenario.clone()).collect();
        assert_eq!(kept, ["s1-t"]);
    }

    #[test]
    fn a_fault_a_probe_found_counts_from_the_last_probe_that_passed() {
        // The origin reset at some point after it was last seen healthy at 4 s; a scenario
        // that failed at 4.5 s (its proxy answered 502, no transport error) is not judged.
        let mut outcomes = vec![
            outcome(1, 0, Some(3_900), false),
            outcome(2, 0, Some(4_500), true),
        ];
        let records = [record(1, false), record(2, false)];
        let mut probed = fault(5_000);
        probed.healthy_until = Some(at(4_000));
        set_aside(&mut outcomes, &records, &mut Vec::new(), &[probed.clone()]);
        assert!(outcomes[0].passed());
        assert!(outcomes[1].lab_fault().is_some());
        // The same failure against a fault seen at its very time stands.
        let mut outcomes = vec![outcome(2, 0, Some(4_500), true)];
        set_aside(&mut outcomes, &records, &mut Vec::new(), &[fault(5_000)]);
        assert!(outcomes[0].failed());
    }

    #[test]
    fn a_healthy_lab_changes_nothing() {
        let mut outcomes = vec![outcome(1, 0, Some(1_000), true), outcome(2, 0, None, false)];
        let records = [record(1, true), record(2, false)];
        let mut findings = vec![finding("s1-t")];
        set_aside(&mut outcomes, &records, &mut findings, &[]);
        assert!(outcomes[0].failed() && outcomes[1].passed());
        assert_eq!(findings.len(), 1);
    }
}
