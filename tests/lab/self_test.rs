//! The mutation self-test as `cargo test`: the reference policy passes and every faulty policy
//! in `policies/squid/mutants/` is caught by exactly the properties it declares (the same check
//! as `proxy-conformance selftest`). Then every `Then` step (listed from cucumber's step
//! inventory by `then_steps`, `steps/src/proof.rs`) must have a proof that it can fail: a mutant
//! seen failing at it, or the unit test of its predicate that the step declares with
//! `proven_by!` beside its function. The per-step table it prints is the README's. The faulty
//! policies run again on Squid 6: each must be caught on both bundled versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use conformance_harness::{run_selftest, SelftestOptions, SelftestReport};
use conformance_lab::{ProxyBackend as _, SQUID_6};
use conformance_steps::then_steps;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Then steps with no proof yet: listed so the debt is visible in every run (the table says
/// "**none yet**"), and so a new step cannot join them unnoticed. Each needs its predicate
/// extracted into a pure function with a failing unit test, or a mutant that trips it first.
const KNOWN_UNPROVEN: &[&str] = &[];

/// Whether a unit test of that name exists in the workspace's sources.
fn unit_test_exists(name: &str) -> bool {
    let needle = format!("fn {name}(");
    [
        "steps/src",
        "harness/src",
        "lab/src/squid",
        "client/src",
        "mock-servers/src",
    ]
    .iter()
    .flat_map(|dir| {
        std::fs::read_dir(Path::new(ROOT).join(dir))
            .into_iter()
            .flatten()
    })
    .flatten()
    .any(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains(&needle)))
}

/// The per-step proof table; the steps without any proof.
fn step_proofs(report: &SelftestReport) -> (String, Vec<String>) {
    let mut by_definition: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for verdict in &report.verdicts {
        for definition in &verdict.failed_steps {
            by_definition
                .entry(definition.as_str())
                .or_default()
                .insert(verdict.mutant.name.as_str());
        }
    }
    let mut table = String::from("| Then step | proof that it can fail |\n|---|---|\n");
    let mut unproven = Vec::new();
    let steps = match then_steps(Path::new(ROOT)) {
        Ok(steps) => steps,
        Err(error) => return (table, vec![error.to_string()]),
    };
    for step in steps {
        // Failed steps are recorded at the `file:line` cucumber locates their definition at.
        let mutants: BTreeSet<&str> = by_definition
            .get(format!("{}:{}", step.file, step.line).as_str())
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let unit = step.unit_proof.filter(|test| unit_test_exists(test));
        let proof = match (mutants.is_empty(), unit) {
            (false, Some(test)) => format!(
                "mutants: {}; unit test `{test}`",
                mutants.into_iter().collect::<Vec<_>>().join(", ")
            ),
            (false, None) => format!(
                "mutants: {}",
                mutants.into_iter().collect::<Vec<_>>().join(", ")
            ),
            (true, Some(test)) => format!("unit test `{test}`"),
            (true, None) if KNOWN_UNPROVEN.contains(&step.expression.as_str()) => {
                "**none yet** (known debt)".to_owned()
            }
            (true, None) => {
                unproven.push(format!("{}:{} {}", step.file, step.line, step.expression));
                "**none**".to_owned()
            }
        };
        table.push_str(&format!("| `{}` | {proof} |\n", step.expression));
    }
    (table, unproven)
}

/// The whole self-test: panics with what went wrong (libtest shows the output of a failed test;
/// `cargo test --test lab mutation_self_test -- --nocapture` shows it always).
pub(crate) async fn every_fault_is_caught_and_every_then_step_is_proven() {
    let options = SelftestOptions {
        progress: true,
        ..SelftestOptions::default()
    };
    let report = run_selftest(options)
        .await
        .unwrap_or_else(|error| panic!("mutants: {error}"));
    println!("{}", report.render());
    let (table, unproven) = step_proofs(&report);
    println!("\nEvery Then step and its proof:\n\n{table}");
    for step in &unproven {
        println!("no proof that this step can fail: {step}");
    }
    // The policy faults again on the second bundled version: a fault must be caught whatever
    // Squid runs it (the correct policies' styles are version-independent Squid syntax and
    // run on the default version only, to keep CI within its time).
    let on_squid_6 = SelftestOptions {
        progress: true,
        correct: None,
        backend: &SQUID_6,
        ..SelftestOptions::default()
    };
    let squid_6 = run_selftest(on_squid_6)
        .await
        .unwrap_or_else(|error| panic!("mutants on Squid 6: {error}"));
    println!(
        "\nThe policy faults on {}:\n{}",
        SQUID_6.name(),
        squid_6.render()
    );
    assert!(
        report.passed(),
        "the self-test on the default Squid failed (above)"
    );
    assert!(
        squid_6.passed(),
        "the policy faults on {} were not all caught (above)",
        SQUID_6.name()
    );
    assert!(
        unproven.is_empty(),
        "Then steps without a proof: {unproven:?}"
    );
}
