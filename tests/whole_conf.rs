//! Whole configurations as admins have them (`policies/squid/whole/`), run as
//! `run --squid-conf` runs them: Debian's stock squid.conf with the site's rules in conf.d, a
//! split configuration with includes and ACL files, one file with an ICAP service set and a
//! URL-filter helper. Each correct one (`# correct:`) must PASS the whole suite; each faulty
//! variant (`# fails: @tag …`, in any file the configuration reads) must FAIL exactly the
//! properties it declares — judged as the self-test judges mutants, by what the user sees —
//! and one behind a parent proxy the lab cannot map (`# inconclusive: @tag …`) must be
//! inconclusive there, never pass. A variant runs only the declared properties' scenarios (and
//! their controls), to keep the test short.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conformance_harness::{judge, run_suite, Console, Mutant, MutantKind, SuiteOptions};
use conformance_lab::{Policy, WholeOptions};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A configuration: its folder under `policies/squid/whole/`, its main file there, and
/// whether absolute paths are read under the folder (a copy of the proxy's `/`).
const CONFIGURATIONS: &[(&str, &str, bool)] = &[
    ("debian-default", "etc/squid/squid.conf", true),
    ("debian-default-faulty", "etc/squid/squid.conf", true),
    ("split", "squid.conf", false),
    ("split-faulty", "squid.conf", false),
    ("icap-url-filter", "squid.conf", false),
    ("icap-url-filter-faulty", "squid.conf", false),
    ("icap-url-filter-parent", "squid.conf", false),
    ("squidguard", "squid.conf", false),
    ("squidguard-faulty", "squid.conf", false),
];

/// The first `# fails:`, `# inconclusive:` or `# correct:` declaration in the files the
/// configuration reads. `# inconclusive: @tag …` is a configuration with something the lab
/// cannot map: the declared properties must be inconclusive, none may fail (judged as the
/// self-test judges a blinding fault).
fn declaration(policy: &Policy) -> Option<(MutantKind, BTreeSet<String>)> {
    let whole = policy.whole()?;
    let files = whole
        .files()
        .iter()
        .cloned()
        .chain(whole.carried().iter().map(|c| c.read_from.clone()));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines() {
            if let Some(tags) = line.strip_prefix("# fails:") {
                return Some((
                    MutantKind::Policy,
                    tags.split_whitespace().map(str::to_owned).collect(),
                ));
            }
            if let Some(tags) = line.strip_prefix("# inconclusive:") {
                return Some((
                    MutantKind::Blinding,
                    tags.split_whitespace().map(str::to_owned).collect(),
                ));
            }
            if line.starts_with("# correct:") {
                return Some((MutantKind::Correct, BTreeSet::new()));
            }
        }
    }
    None
}

#[tokio::main]
async fn main() -> ExitCode {
    let dir = Path::new(ROOT).join("policies/squid/whole");
    let mut failures = Vec::new();
    for (name, main, rooted) in CONFIGURATIONS {
        let folder = dir.join(name);
        let whole = WholeOptions {
            root: rooted.then(|| folder.clone()),
            url_filters: None,
            client_acls: None,
        };
        let path: PathBuf = folder.join(main);
        let policy = match Policy::load_whole(&path, &whole) {
            Ok(policy) => policy,
            Err(error) => {
                failures.push(format!("{name}: cannot be mapped: {error}"));
                continue;
            }
        };
        let Some((kind, expected)) = declaration(&policy) else {
            failures.push(format!("{name}: no `# correct:` or `# fails:` declaration"));
            continue;
        };
        let tags = (kind != MutantKind::Correct)
            .then(|| expected.iter().cloned().collect::<Vec<_>>().join(" or "));
        let options = SuiteOptions {
            policy: path.clone(),
            whole: Some(whole),
            tags,
            console: Console::Silent,
            ..SuiteOptions::default()
        };
        let report = match run_suite(options).await {
            Ok(report) => report,
            Err(error) => {
                failures.push(format!("{name}: the run did not finish: {error}"));
                continue;
            }
        };
        let mutant = Mutant::declared(path, *name, expected, kind);
        let verdict = judge(&mutant, &report);
        println!(
            "whole_conf: {name}: {} — {}",
            if verdict.detected() {
                "as declared"
            } else {
                "NOT as declared"
            },
            report.summary()
        );
        for problem in &verdict.problems {
            println!("  {problem}");
        }
        if !verdict.detected() {
            failures.push(format!("{name}: {}", verdict.problems.join("; ")));
        }
    }
    if failures.is_empty() {
        println!(
            "whole_conf: {} configurations as declared",
            CONFIGURATIONS.len()
        );
        ExitCode::SUCCESS
    } else {
        for failure in &failures {
            eprintln!("whole_conf: {failure}");
        }
        ExitCode::FAILURE
    }
}
