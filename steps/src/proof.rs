//! The proof that each `Then` step can fail. A step that no single-fault policy (a mutant of
//! `policies/squid/mutants/`) trips first declares, right after its function, the unit test
//! that feeds its predicate observations that make it fail:
//! `proven_by!(step_function, "unit_test_name")` — the macro checks that the function exists.
//! [`then_steps`] lists every `Then` step from cucumber's own step inventory (the registry the
//! runner matches steps against, so an attribute rustfmt wraps over several lines is never
//! missed) with its declared unit proof; `tests/lab/self_test.rs` adds the mutants seen failing at
//! each step and prints the README's table.

use std::path::{Path, PathBuf};

use cucumber::codegen::{StepConstructor, WorldInventory};

use crate::world::ConformanceWorld;

/// A unit test that proves a `Then` step can fail, as `proven_by!` declares it.
#[derive(Debug)]
pub struct UnitProof {
    /// The file of the step, as `file!()` names it (from the workspace root).
    pub file: &'static str,
    /// The step's function.
    pub step: &'static str,
    /// The unit test's function.
    pub test: &'static str,
}

cucumber::codegen::collect!(UnitProof);

/// Declares the unit test that proves the `Then` step `$step` (a function of this module) can
/// fail. Place it right after the step.
macro_rules! proven_by {
    ($step:ident, $test:literal) => {
        const _: () = {
            // Names the step's function, so a renamed or removed step does not compile.
            let _ = $step;
        };
        ::cucumber::codegen::submit! {
            $crate::proof::UnitProof { file: file!(), step: stringify!($step), test: $test }
        }
    };
}

/// One `Then` step definition as cucumber registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThenStep {
    /// From the workspace root, as cucumber locates the step (`steps/src/tls.rs`).
    pub file: &'static str,
    /// The line cucumber reports for the step (failed steps name the same `file:line`).
    pub line: u32,
    pub function: String,
    /// The step's expression or regex, as written in its attribute.
    pub expression: String,
    /// The unit test declared with `proven_by!`, if any.
    pub unit_proof: Option<&'static str>,
}

/// Why the step registry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("cannot read the step definitions in {path}: {source}")]
    UnreadableSource {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no `#[then(…)]` step definition found at {file}:{line}")]
    NoDefinitionAt { file: String, line: u32 },
}

/// Every `Then` step of the suite, in file and line order, from cucumber's step inventory;
/// `root` is the workspace root (the steps' source is read for their expression and function).
pub fn then_steps(root: &Path) -> Result<Vec<ThenStep>, ProofError> {
    let mut steps = Vec::new();
    for then in cucumber::codegen::inventory::iter::<<ConformanceWorld as WorldInventory>::Then> {
        let (location, _, _) = then.inner();
        let path = root.join(location.path);
        let source = std::fs::read_to_string(&path)
            .map_err(|source| ProofError::UnreadableSource { path, source })?;
        let (expression, function) =
            definition_at(&source, location.line).ok_or_else(|| ProofError::NoDefinitionAt {
                file: location.path.to_owned(),
                line: location.line,
            })?;
        let unit_proof = cucumber::codegen::inventory::iter::<UnitProof>
            .into_iter()
            .find(|proof| proof.file == location.path && proof.step == function)
            .map(|proof| proof.test);
        steps.push(ThenStep {
            file: location.path,
            line: location.line,
            function,
            expression,
            unit_proof,
        });
    }
    steps.sort_by(|a, b| (a.file, a.line).cmp(&(b.file, b.line)));
    Ok(steps)
}

/// Every `proven_by!` declaration.
pub fn unit_proofs() -> impl Iterator<Item = &'static UnitProof> {
    cucumber::codegen::inventory::iter::<UnitProof>.into_iter()
}

/// The expression and the function of the `#[then(…)]` definition that cucumber locates at
/// `line` (1-based) of `source`: its attribute, however many lines rustfmt spread it over, and
/// the first function after it.
fn definition_at(source: &str, line: u32) -> Option<(String, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let located = usize::try_from(line).ok()?.checked_sub(1)?;
    let start = (located.saturating_sub(8)..=located.min(lines.len().saturating_sub(1)))
        .rev()
        .find(|&index| lines[index].trim_start().starts_with("#[then("))?;
    let end = (start..lines.len()).find(|&index| lines[index].trim_end().ends_with(")]"))?;
    let attribute: String = lines[start..=end].iter().map(|l| l.trim()).collect();
    let function = lines[end + 1..]
        .iter()
        .find_map(|l| l.split_once("fn ").map(|(_, rest)| rest))?
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?
        .to_owned();
    Some((expression_of(&attribute), function))
}

/// The expression or regex of a `#[then(…)]` attribute written on one line.
fn expression_of(attribute: &str) -> String {
    attribute
        .trim_start_matches("#[then(")
        .trim_end_matches(")]")
        .trim_end_matches(',')
        .trim_start_matches("expr = ")
        .trim_start_matches("regex = ")
        .trim_start_matches('r')
        .trim_matches('#')
        .trim_matches('"')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace root")
            .to_owned()
    }

    /// Whether a test function of that name is in the sources that hold the steps' predicates.
    fn unit_test_exists(root: &Path, name: &str) -> bool {
        let needle = format!("fn {name}(");
        let dirs = [
            "steps/src",
            "harness/src",
            "lab/src/squid",
            "client/src",
            "mock-servers/src",
        ];
        dirs.iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).into_iter().flatten())
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains(&needle))
            })
    }

    #[test]
    fn every_then_step_declares_the_property_it_speaks_for() {
        for step in then_steps(&root()).expect("the step registry") {
            let source = std::fs::read_to_string(root().join(step.file)).expect("its source");
            let body: Vec<&str> = source
                .lines()
                .skip(step.line as usize)
                .skip_while(|l| !l.contains(&format!("fn {}(", step.function)))
                .take_while(|l| *l != "}")
                .collect();
            assert!(
                body.iter().any(|l| l.contains(".checks(")),
                "{}:{} `{}` must call world.checks(…) first: its failure counts for the \
                 property it declares",
                step.file,
                step.line,
                step.expression
            );
        }
    }

    #[test]
    fn an_attribute_rustfmt_wrapped_is_read_like_one_on_one_line() {
        let source = "\
/// Doc.
#[then(\n    expr = \"the origin sent at most {size} for that request\"\n)]\n\
async fn the_origin_sent_at_most(\n    world: &mut ConformanceWorld,\n) -> Result<(), String> {\n}\n\
#[then(regex = r\"^the proxy logged (a tunnel|a decrypted request) to that host$\")]\n\
async fn the_proxy_logged(world: &mut ConformanceWorld, what: String) {}\n";
        for line in 2..=4 {
            assert_eq!(
                definition_at(source, line),
                Some((
                    "the origin sent at most {size} for that request".to_owned(),
                    "the_origin_sent_at_most".to_owned()
                )),
                "located at line {line}"
            );
        }
        assert_eq!(
            definition_at(source, 9),
            Some((
                "^the proxy logged (a tunnel|a decrypted request) to that host$".to_owned(),
                "the_proxy_logged".to_owned()
            ))
        );
        assert_eq!(definition_at("fn x() {}\n", 1), None);
    }

    #[test]
    fn every_then_step_is_listed_once_and_every_unit_proof_names_one() {
        let steps = then_steps(&root()).expect("the step registry");
        let written = std::fs::read_dir(root().join("steps/src"))
            .expect("steps/src")
            .flatten()
            // This file's own test source writes attributes too.
            .filter(|entry| entry.file_name() != "proof.rs")
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
            .map(|text| {
                text.lines()
                    .filter(|l| l.trim_start().starts_with("#[then("))
                    .count()
            })
            .sum::<usize>();
        assert_eq!(steps.len(), written, "{steps:#?}");
        for proof in unit_proofs() {
            assert!(
                unit_test_exists(&root(), proof.test),
                "proven_by!({}, \"{}\"): no such unit test in the workspace",
                proof.step,
                proof.test
            );
            assert!(
                steps
                    .iter()
                    .any(|s| s.file == proof.file && s.function == proof.step),
                "proven_by!({}, …) in {} does not name a Then step",
                proof.step,
                proof.file
            );
        }
    }
}
