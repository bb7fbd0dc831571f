//! Mutation self-test: every policy in `policies/squid/mutants/` carries one fault and
//! declares (`# fails: @tag …`) the properties it breaks. The suite must catch each one:
//! every declared tag has a failing scenario, every failing scenario carries a declared tag,
//! and no control scenario fails (the lab itself stayed sound).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conformance_steps::{run_suite, SuiteOptions};

const MUTANTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/squid/mutants");

fn declared_failures(path: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# fails:"))
        .ok_or_else(|| format!("{}: no `# fails: @tag …` line", path.display()))?;
    Ok(line.split_whitespace().map(str::to_owned).collect())
}

async fn check(path: PathBuf) -> Result<String, String> {
    let expected = declared_failures(&path)?;
    let options = SuiteOptions {
        policy: path.clone(),
        quiet: std::env::var_os("MUTANTS_VERBOSE").is_none(),
        ..SuiteOptions::default()
    };
    let report = run_suite(options)
        .await
        .map_err(|e| format!("{}: the run did not complete: {e}", path.display()))?;
    let failed: Vec<_> = report.failed().collect();
    let failed_tags: BTreeSet<String> = failed
        .iter()
        .flat_map(|s| s.tags.iter().cloned())
        .filter(|t| t != "@control")
        .collect();
    let mut problems = Vec::new();
    for tag in &expected {
        if !failed.iter().any(|s| s.tags.contains(tag)) {
            problems.push(format!(
                "no {tag} scenario failed: the fault went undetected"
            ));
        }
    }
    for scenario in &failed {
        if scenario.tags.iter().any(|t| t == "@control") {
            problems.push(format!(
                "control scenario failed: {}:{} {}\n{}",
                scenario.feature,
                scenario.line,
                scenario.scenario,
                scenario.failure.as_deref().unwrap_or_default()
            ));
        } else if !scenario.tags.iter().any(|t| expected.contains(t)) {
            problems.push(format!(
                "unexpected failure: {}:{} {} {:?}",
                scenario.feature, scenario.line, scenario.scenario, scenario.tags
            ));
        }
    }
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let row = format!(
        "{name:<28} expected {:<32} failed {:<32} {}",
        expected.iter().cloned().collect::<Vec<_>>().join(" "),
        failed_tags.iter().cloned().collect::<Vec<_>>().join(" "),
        if problems.is_empty() {
            "detected"
        } else {
            "NOT DETECTED"
        }
    );
    if problems.is_empty() {
        Ok(row)
    } else {
        Err(format!("{row}\n    {}", problems.join("\n    ")))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut mutants: Vec<PathBuf> = match std::fs::read_dir(MUTANTS_DIR) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect(),
        Err(error) => {
            eprintln!("mutants: cannot read {MUTANTS_DIR}: {error}");
            return ExitCode::FAILURE;
        }
    };
    mutants.sort();
    let (mut passed, mut failed) = (0, 0);
    for mutant in mutants {
        match check(mutant).await {
            Ok(row) => {
                passed += 1;
                println!("{row}");
            }
            Err(row) => {
                failed += 1;
                println!("{row}");
            }
        }
    }
    println!("mutants: {passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
