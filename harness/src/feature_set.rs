//! The feature files a run draws its scenarios from: the user's, every scenario of which the
//! tag expression may select, and — when the user's features are not the bundled suite — the
//! bundled suite, of which only the controls of the properties the user's scenarios check run.
//! A bypass verdict without its control proves nothing, so a user's own feature directory gets
//! the bundled controls rather than an inconclusive verdict. cucumber's own parser reads one
//! path, so [`FeatureSet`] is also the parser the run hands to cucumber.

use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};

use conformance_lab::display_path;

use crate::error::SuiteError;

/// The feature files of a run, each marked with what of it may run.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeatureSet {
    files: Vec<FeatureFile>,
}

/// One feature file of a run.
#[derive(Debug, Clone)]
pub(crate) struct FeatureFile {
    pub path: PathBuf,
    /// Drawn from the bundled suite for its controls only.
    pub controls_only: bool,
}

impl FeatureSet {
    /// The files under `features` (a file or a directory), and those under `controls_from`
    /// for their controls when it is another place. A bundled file whose text is one of the
    /// user's files (the user runs a copy of a bundled feature) is not read twice.
    /// `also` are further places whose every scenario may run, beside `features`.
    pub fn new(
        features: &Path,
        also: &[PathBuf],
        controls_from: Option<&Path>,
    ) -> Result<Self, SuiteError> {
        let mut files: Vec<FeatureFile> = Vec::new();
        for place in std::iter::once(features).chain(also.iter().map(PathBuf::as_path)) {
            let found = feature_files(place)?;
            if found.is_empty() {
                return Err(SuiteError::Usage(format!(
                    "no .feature files in {}",
                    display_path(place)
                )));
            }
            files.extend(found.into_iter().map(|path| FeatureFile {
                path,
                controls_only: false,
            }));
        }
        if let Some(bundled) = controls_from.filter(|c| !same_file(features, c)) {
            let texts: Vec<String> = files
                .iter()
                .filter_map(|f| std::fs::read_to_string(&f.path).ok())
                .collect();
            for path in feature_files(bundled)? {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !texts.contains(&text) {
                    files.push(FeatureFile {
                        path,
                        controls_only: true,
                    });
                }
            }
        }
        Ok(Self { files })
    }

    pub fn files(&self) -> &[FeatureFile] {
        &self.files
    }

    /// Whether the feature at `path` (as cucumber reports it) is drawn for its controls only.
    pub fn controls_only(&self, path: Option<&Path>) -> bool {
        path.is_some_and(|path| {
            self.files
                .iter()
                .any(|f| f.controls_only && same_file(&f.path, path))
        })
    }
}

/// Whether `a` and `b` name the same file or directory.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

impl cucumber::Parser<()> for FeatureSet {
    type Cli = cucumber::cli::Empty;
    type Output = futures::stream::Iter<
        std::vec::IntoIter<Result<gherkin::Feature, cucumber::parser::Error>>,
    >;

    fn parse(self, _: (), _: Self::Cli) -> Self::Output {
        let features: Vec<_> = self
            .files
            .iter()
            .map(|file| {
                gherkin::Feature::parse_path(&file.path, GherkinEnv::default())
                    .map_err(cucumber::parser::Error::from)
                    .and_then(|f| f.expand_examples().map_err(Into::into))
            })
            .collect();
        futures::stream::iter(features)
    }
}

/// The `.feature` files at `path` (a file, or a directory searched recursively), sorted.
fn feature_files(path: &Path) -> Result<Vec<PathBuf>, SuiteError> {
    let metadata = std::fs::metadata(path)
        .map_err(|e| SuiteError::Usage(format!("no features at {}: {e}", display_path(path))))?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| SuiteError::Usage(format!("{}: {e}", display_path(&dir))))?;
        for entry in entries.flatten() {
            let entry_path = entry.path();
            if entry_path.is_dir() {
                pending.push(entry_path);
            } else if entry_path.extension().is_some_and(|x| x == "feature") {
                files.push(entry_path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEATURE: &str = "Feature: f\n  @auth @control\n  Scenario: s\n    Given x\n";

    #[test]
    fn another_place_brings_the_bundled_controls_once() {
        let user = tempfile::tempdir().unwrap();
        let bundled = tempfile::tempdir().unwrap();
        std::fs::write(user.path().join("mine.feature"), "Feature: mine\n").unwrap();
        std::fs::write(user.path().join("copy.feature"), FEATURE).unwrap();
        std::fs::write(bundled.path().join("auth.feature"), FEATURE).unwrap();
        std::fs::write(bundled.path().join("tls.feature"), "Feature: tls\n").unwrap();
        let set = FeatureSet::new(user.path(), &[], Some(bundled.path())).unwrap();
        let controls: Vec<&Path> = set
            .files()
            .iter()
            .filter(|f| f.controls_only)
            .map(|f| f.path.as_path())
            .collect();
        assert_eq!(
            controls,
            [bundled.path().join("tls.feature")],
            "the copy is read once"
        );
        assert!(set.controls_only(Some(&bundled.path().join("tls.feature"))));
        assert!(!set.controls_only(Some(&user.path().join("mine.feature"))));
        let alone = FeatureSet::new(bundled.path(), &[], Some(bundled.path())).unwrap();
        assert!(alone.files().iter().all(|f| !f.controls_only));
    }
}
