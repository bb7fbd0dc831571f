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

use futures::StreamExt;

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

/// Runs one configuration as declared: a line for the log, or what went wrong.
async fn check(dir: &Path, name: &str, main: &str, rooted: bool) -> Result<String, String> {
    let folder = dir.join(name);
    let whole = WholeOptions {
        root: rooted.then(|| folder.clone()),
        url_filters: None,
        client_acls: None,
    };
    let path: PathBuf = folder.join(main);
    let policy = Policy::load_whole(&path, &whole)
        .map_err(|error| format!("{name}: cannot be mapped: {error}"))?;
    let (kind, expected) = declaration(&policy)
        .ok_or_else(|| format!("{name}: no `# correct:` or `# fails:` declaration"))?;
    let tags = (kind != MutantKind::Correct)
        .then(|| expected.iter().cloned().collect::<Vec<_>>().join(" or "));
    let options = SuiteOptions {
        policy: path.clone(),
        whole: Some(whole),
        tags,
        console: Console::Silent,
        ..SuiteOptions::default()
    };
    let report = run_suite(options)
        .await
        .map_err(|error| format!("{name}: the run did not finish: {error}"))?;
    let verdict = judge(&Mutant::declared(path, name, expected, kind), &report);
    if verdict.detected() {
        Ok(format!(
            "whole_conf: {name}: as declared — {}",
            report.summary()
        ))
    } else {
        Err(format!(
            "{name}: NOT as declared — {}: {}",
            report.summary(),
            verdict.problems.join("; ")
        ))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_configuration_is_judged_as_declared() {
    let dir = Path::new(ROOT).join("policies/squid/whole");
    // Two labs at once, as the self-test runs its policies: the runs wait on the network as
    // much as they use the CPU.
    let mut runs = futures::stream::iter(
        CONFIGURATIONS
            .iter()
            .map(|(name, main, rooted)| check(&dir, name, main, *rooted)),
    )
    .buffered(2);
    let mut failures = Vec::new();
    while let Some(result) = runs.next().await {
        match result {
            Ok(line) => println!("{line}"),
            Err(failure) => {
                println!("whole_conf: {failure}");
                failures.push(failure);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "configurations not as declared:\n{}",
        failures.join("\n")
    );
    println!(
        "whole_conf: {} configurations as declared",
        CONFIGURATIONS.len()
    );
}
