//! Which property a failed scenario's failure counts for, from evidence typed in code, never
//! from the words of a step: first what the run-wide invariants found in the scenario's own
//! traffic (a 407 is @auth wherever it shows, a bump @tls, an ICAP call @icap), then the
//! property the failing `Then` step declares it judges (or, when the scenario is tagged with
//! other properties only, those: the check then serves the scenario's property). A control or look-alike that failed at
//! a check of delivery counts for its own tags (its property's policing is what failed); an
//! update-host failure nothing claims stays unclaimed, and fails the run on its own.
//!
//! A look-alike under a domain Microsoft owns that was let through is a *scope warning*, not a
//! failure (unless the run asks for strict scope): no one else can register it.
//!
//! A scenario whose instrument headers the proxy stripped is blind only where it is: its
//! failure stands when the invariants (which pair requests by what any proxy forwards) prove
//! it, and is *not observable* otherwise.

use conformance_model::Property;

use crate::invariants::{Finding, ScenarioRecord};
use crate::model::{ScenarioOutcome, ScenarioState};

pub(crate) fn attribute(
    outcomes: &mut [ScenarioOutcome],
    records: &[ScenarioRecord],
    findings: &[Finding],
    strict_scope: bool,
) {
    for outcome in outcomes.iter_mut() {
        let record = records
            .iter()
            .find(|r| r.feature == outcome.feature && r.line == outcome.line);
        outcome.token = record.map(|r| r.token.clone());
        outcome.kinds_policed = record.and_then(|r| r.kinds_policed.clone());
        if !outcome.failed() {
            continue;
        }
        let mut claimed: Vec<Property> = Vec::new();
        if let Some(token) = &outcome.token {
            for finding in findings
                .iter()
                .filter(|f| f.is_violation() && f.scenario.as_ref() == Some(token))
            {
                if !claimed.contains(&finding.property) {
                    claimed.push(finding.property);
                }
            }
        }
        if claimed.is_empty() {
            if let Some(blinded) = record.and_then(|r| r.blinded.clone()) {
                outcome.state = ScenarioState::NotObservable(blinded);
                continue;
            }
            let tagged: Vec<Property> = outcome
                .properties()
                .filter_map(Property::from_tag)
                .collect();
            if let Some(property) = record.and_then(|r| r.judging) {
                // A check serves the property of the scenario it is in: "the proxy logged a
                // tunnel" is @tls evidence in a @tls scenario and @protocol evidence in a
                // @protocol one.
                if tagged.contains(&property) || tagged.is_empty() {
                    claimed.push(property);
                } else {
                    claimed.extend(tagged);
                }
            } else if outcome.is_control() || outcome.is_look_alike() {
                claimed.extend(outcome.properties().filter_map(Property::from_tag));
            }
        }
        claimed.sort();
        if !strict_scope && outcome.is_look_alike() && outcome.claimed_by.is_empty() {
            if let Some(host) = microsoft_owned_look_alike(outcome) {
                outcome.state = ScenarioState::ScopeWarning(format!(
                    "{host} (a host under a domain Microsoft owns, outside the update set) was let \
                     through like an update host ({}): the bypass is wider than Windows Update \
                     needs; narrow the entry that covers it to Microsoft's documented patterns",
                    claimed
                        .iter()
                        .map(|p| p.tag())
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
                continue;
            }
        }
        outcome.claimed_by = claimed;
    }
}

/// The Microsoft-owned look-alike a scenario names, if it names one (`"look-alike 15"`).
fn microsoft_owned_look_alike(outcome: &ScenarioOutcome) -> Option<&str> {
    outcome.hosts.iter().map(String::as_str).find(|host| {
        host.strip_prefix("look-alike ")
            .and_then(|n| n.trim().parse::<usize>().ok())
            .is_some_and(conformance_model::look_alike_is_microsoft_owned)
    })
}

#[cfg(test)]
mod tests {
    use conformance_lab::{NotObservable, Vantage};

    use super::*;
    use crate::invariants::Severity;

    fn failed(tags: &[&str], line: usize, hosts: &[&str]) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: "features/x.feature".into(),
            scenario: "s".into(),
            line,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            state: ScenarioState::Failed,
            failed_step: None,
            token: None,
            claimed_by: Vec::new(),
            started_at: None,
            finished_at: None,
            kinds_policed: None,
        }
    }

    fn record(line: usize, judging: Option<Property>, blinded: bool) -> ScenarioRecord {
        ScenarioRecord {
            feature: "features/x.feature".into(),
            line,
            token: format!("s{line}-t"),
            exchanges: Vec::new(),
            raw_tunnel: None,
            judging,
            blinded: blinded.then(|| NotObservable {
                vantage: Vantage::Client,
                check: "every check".into(),
                why: "instrument headers stripped".into(),
            }),
            kinds_policed: None,
        }
    }

    fn finding(property: Property, token: &str) -> Finding {
        Finding {
            property,
            severity: Severity::Violation,
            host: "download.microsoft.com".into(),
            vantage: Vantage::Client,
            what: "407".into(),
            scenario: Some(token.into()),
            refusal: false,
        }
    }

    #[test]
    fn evidence_claims_first_then_the_declared_check_and_blinding_only_where_nothing_proves() {
        let mut outcomes = vec![
            failed(&["@range"], 1, &[]),
            failed(&["@range"], 2, &[]),
            failed(&["@range"], 3, &[]),
            failed(&["@cache"], 4, &[]),
            failed(&["@cache"], 5, &[]),
        ];
        let records = [
            record(1, Some(Property::Range), false),
            record(2, Some(Property::Range), false),
            record(3, None, false),
            record(4, Some(Property::Cache), true),
            record(5, Some(Property::Cache), true),
        ];
        // A 407 in scenario 1's traffic is @auth, whatever check of its failed; scenario 4's
        // failure is proven by evidence although its instruments were stripped.
        let findings = [
            finding(Property::Auth, "s1-t"),
            finding(Property::Cache, "s4-t"),
        ];
        attribute(&mut outcomes, &records, &findings, false);
        assert_eq!(outcomes[0].claimed_by, [Property::Auth]);
        assert_eq!(outcomes[1].claimed_by, [Property::Range]);
        assert!(outcomes[2].unclaimed());
        assert_eq!(outcomes[3].claimed_by, [Property::Cache]);
        assert!(outcomes[3].failed());
        assert!(outcomes[4].not_observable().is_some());
    }

    #[test]
    fn a_microsoft_owned_look_alike_let_through_is_a_scope_warning_unless_strict() {
        let outcome = || failed(&["@auth", "@look-alike"], 1, &["look-alike 15"]);
        let registrable = failed(&["@auth", "@look-alike"], 2, &["look-alike 1"]);
        let records = [
            record(1, Some(Property::Auth), false),
            record(2, Some(Property::Auth), false),
        ];
        let mut outcomes = vec![outcome(), registrable];
        attribute(&mut outcomes, &records, &[], false);
        assert!(outcomes[0].scope_warning().is_some());
        assert!(outcomes[1].failed());
        let mut strict = vec![outcome()];
        attribute(&mut strict, &records, &[], true);
        assert!(strict[0].failed());
        assert_eq!(strict[0].claimed_by, [Property::Auth]);
    }
}
