//! What to change, in one line per failed property: derived from the failed scenario's
//! property, its kind (update host, look-alike) and the check that failed, in the spirit of
//! the CPL lint's `help:` lines. It names the fix in Squid and in ProxySG CPL words, because the
//! policy under test may be either.

use conformance_model::{Property, CONTROL_TAG, LOOK_ALIKE_TAG};

use crate::invariants::Finding;
use crate::model::ScenarioOutcome;

/// The one-line diagnosis of a failed scenario for `property`, if it failed.
pub fn diagnose(property: Property, scenario: &ScenarioOutcome) -> Option<String> {
    if !scenario.failed() || !scenario.tags.iter().any(|t| t == property.tag()) {
        return None;
    }
    let host = scenario
        .hosts
        .first()
        .map_or_else(|| "an update host".to_owned(), |h| format!("\"{h}\""));
    let step = scenario
        .failed_step
        .as_ref()
        .map(|s| s.text.to_ascii_lowercase())
        .unwrap_or_default();
    if !scenario.claimed_by.contains(&property) {
        return None;
    }
    if scenario.tags.iter().any(|t| t == CONTROL_TAG) {
        return Some(format!(
            "the control on {host} failed: the proxy does not do this to other hosts, so passing \
             update-host checks prove nothing — check that the proxy polices other hosts ({})",
            property.meaning()
        ));
    }
    if scenario.tags.iter().any(|t| t == LOOK_ALIKE_TAG) {
        return Some(format!(
            "{host} only looks like an update host but was let through: the bypass is over-broad \
             — anchor it to Microsoft's patterns (Squid: dstdomain .windowsupdate.com, not a \
             substring or unanchored regex; CPL: url.domain=, not url.substring=)"
        ));
    }
    if step.contains("exact bytes") || step.contains("receives status") {
        return Some(format!(
            "{host} did not get its file: the proxy refused or altered it before any {} check \
             — look for a deny rule (extension, size, category) ahead of the update exemption",
            property.tag()
        ));
    }
    Some(format!(
        "{host} {}: {}",
        property.violation(),
        fix(property)
    ))
}

/// The one-line diagnosis of a run-wide invariant's violation: the exchange, then the fix.
pub(crate) fn diagnose_finding(finding: &Finding) -> String {
    format!("\"{}\": {}", finding.host, fix(finding.property))
}

/// What to change in the policy for `property`, in Squid and ProxySG CPL words (its record's
/// remedy).
fn fix(property: Property) -> String {
    property.record().remedy.line()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FailedStep;

    fn failed(tags: &[&str], step: &str) -> ScenarioOutcome {
        ScenarioOutcome {
            feature: "features/x.feature".into(),
            scenario: "s".into(),
            line: 1,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            hosts: vec!["*.update.microsoft.com".into()],
            state: crate::model::ScenarioState::Failed,
            failed_step: Some(FailedStep {
                text: step.into(),
                line: 3,
                message: String::new(),
                definition: None,
            }),
            token: None,
            claimed_by: tags.iter().filter_map(|t| Property::from_tag(t)).collect(),
            started_at: None,
            finished_at: None,
            kinds_policed: None,
        }
    }

    #[test]
    fn each_kind_of_failure_says_what_to_change() {
        let tls = diagnose(
            Property::Tls,
            &failed(
                &["@tls"],
                "Then the certificate the client saw was issued by the origin CA",
            ),
        )
        .unwrap();
        assert!(
            tls.contains("ssl_bump splice") && tls.contains("ssl.forward_proxy(no)"),
            "{tls}"
        );
        assert!(tls.contains("\"*.update.microsoft.com\""), "{tls}");
        let look_alike = diagnose(
            Property::Auth,
            &failed(
                &["@auth", "@look-alike"],
                "Then the proxy asked for credentials",
            ),
        )
        .unwrap();
        assert!(look_alike.contains("over-broad"), "{look_alike}");
        let control = diagnose(
            Property::Cache,
            &failed(
                &["@cache", "@control"],
                "Then at least one of them came from the proxy's cache the second time",
            ),
        )
        .unwrap();
        assert!(control.contains("prove nothing"), "{control}");
        assert!(diagnose(Property::Icap, &failed(&["@tls"], "Then x")).is_none());
        // A scenario tagged @auth @tls that failed at the certificate speaks for @tls only.
        let mut both = failed(
            &["@auth", "@tls"],
            "Then the certificate the client saw was issued by the origin CA",
        );
        both.claimed_by = vec![Property::Tls];
        assert!(diagnose(Property::Auth, &both).is_none());
        assert!(diagnose(Property::Tls, &both).is_some());
    }
}
