//! Which property a failed scenario's failure counts for, from evidence typed in code, never
//! from the words of a step: first what the run-wide invariants found in the scenario's own
//! traffic (a 407 is @auth wherever it shows, a bump @tls, an ICAP call @icap), then the
//! property the failing `Then` step declares it judges. A control or look-alike that failed at
//! a check of delivery counts for its own tags (its property's policing is what failed); an
//! update-host failure nothing claims stays unclaimed, and fails the run on its own.
//!
//! A look-alike under a domain Microsoft owns that was let through is a *scope warning*, not a
//! failure (unless the run asks for strict scope): no one else can register it.
//!
//! A scenario whose instrument headers the proxy stripped is blind only where it is: its
//! failure stands when the invariants (which pair requests by what any proxy forwards) prove
//! it, and is *not observable* otherwise.

use conformance_spec::Property;

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
            if let Some(property) = record.and_then(|r| r.judging) {
                claimed.push(property);
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
            .is_some_and(conformance_spec::look_alike_is_microsoft_owned)
    })
}
