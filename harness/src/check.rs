//! `proxy-conformance check`: the preflight of a run without a lab, for editors and CI. Every
//! file parses, every step has one definition, every host can be served; a feature problem is
//! reported with its file and line (exit 2). It also tells `serve` which hosts of a user's
//! features the harness's side must answer for.

use std::path::PathBuf;

use cucumber::gherkin::tagexpr::TagOperation;

use conformance_model::ExtraHosts;

use crate::error::SuiteError;
use crate::feature_set::FeatureSet;
use crate::preflight::{check_features, Selection};

/// What the checked features hold.
#[derive(Debug, Clone)]
pub struct CheckSummary {
    pub files: usize,
    /// The scenarios the tag expression selects (every one without it).
    pub scenarios: usize,
    /// The hosts the selected scenarios name beyond the lab's own, which a run serves too.
    pub extra_hosts: ExtraHosts,
}

/// Checks the features at `paths` (files or directories; the bundled suite when empty) as a
/// run would before starting its lab.
pub fn check_features_at(
    paths: &[PathBuf],
    tags: Option<&str>,
) -> Result<CheckSummary, SuiteError> {
    let filter = tags
        .map(|expression| {
            expression.parse::<TagOperation>().map_err(|e| {
                SuiteError::Usage(format!("invalid tag expression {expression:?}: {e}"))
            })
        })
        .transpose()?;
    let bundled = crate::runner::SuiteOptions::default().features;
    let (first, rest) = paths.split_first().unwrap_or((&bundled, &[]));
    let set = FeatureSet::new(first, rest, None)?;
    let selected = check_features(
        &set,
        &Selection {
            filter,
            controls_of: Default::default(),
        },
    )?;
    Ok(CheckSummary {
        files: set.files().len(),
        scenarios: selected.scenarios,
        extra_hosts: selected.extra_hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_hosts_are_collected_and_a_bad_step_is_rejected_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.feature"),
            "Feature: mine\n  Scenario: portal\n    Given \"portal.corp.example\" serves a cacheable page\n",
        )
        .unwrap();
        let summary = check_features_at(&[dir.path().to_path_buf()], None).unwrap();
        assert_eq!((summary.files, summary.scenarios), (1, 1));
        assert_eq!(
            summary.extra_hosts.names().collect::<Vec<_>>(),
            ["portal.corp.example"]
        );
        std::fs::write(
            dir.path().join("bad.feature"),
            "Feature: bad\n  Scenario: s\n    Given nothing defines this\n",
        )
        .unwrap();
        let error = check_features_at(&[dir.path().to_path_buf()], None).unwrap_err();
        assert!(
            matches!(&error, SuiteError::Rejected(m) if m.contains("bad.feature:3")),
            "{error}"
        );
    }

    #[test]
    fn the_bundled_suite_checks_clean() {
        let summary = check_features_at(&[], None).unwrap();
        assert!(summary.scenarios > 100, "{}", summary.scenarios);
        assert!(summary.extra_hosts.is_empty());
    }
}
