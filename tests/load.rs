//! `proxy-conformance load` end to end, small and bounded (50 machines, 10 s per policy): the
//! reference policy delivers every byte once (WAN amplification 1.00 ± 0.01) with no client
//! error, the range-widening mutant multiplies WAN bytes (> 2), and a policy that caches the
//! shared files divides them (< 1). Plus the parts that need no lab: external mode not yet
//! available, and `--merge` of workers' results.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn load(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("load")
        .args(args)
        .env("CI", "true")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON result")).expect("JSON")
}

fn amplification(run: &serde_json::Value) -> f64 {
    run["amplification"].as_f64().expect("an amplification")
}

#[test]
fn policies_side_by_side_show_what_each_costs_on_the_wan() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let html = dir.path().join("load.html");
    let output = load(&[
        "--clients",
        "50",
        "--duration",
        "10",
        "--ramp",
        "1",
        "--plain",
        "--policy",
        &format!("{ROOT}/policies/squid/windows-update-bypass.conf"),
        "--policy",
        &format!("{ROOT}/policies/squid/mutants/range-offset-limit.conf"),
        "--policy",
        &format!("{ROOT}/policies/squid/examples/cache-shared-files.conf"),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let text = stderr(&output);
    // 0, or 4 when the mutant's machines could not all finish within the 10 s.
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "exit {:?}:\n{text}",
        output.status.code()
    );
    let result = read_json(&json);
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{text}");
    let (reference, mutant, caching) = (&runs[0], &runs[1], &runs[2]);

    assert_eq!(
        reference["clients"]["done"], 50,
        "reference: every machine done\n{text}"
    );
    assert_eq!(reference["clients"]["failed"], 0, "{text}");
    assert!(
        (amplification(reference) - 1.0).abs() <= 0.01,
        "reference amplification {} is not 1.00 ± 0.01\n{text}",
        amplification(reference)
    );
    assert!(
        amplification(mutant) > 2.0,
        "range widening: amplification {} is not above 2\n{text}",
        amplification(mutant)
    );
    assert_eq!(caching["clients"]["failed"], 0, "{text}");
    assert!(
        amplification(caching) < 1.0,
        "caching the shared files: amplification {} is not below 1\n{text}",
        amplification(caching)
    );
    assert!(reference["timeline"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert!(
        reference["proxy_cost"]["cpu_seconds"]
            .as_f64()
            .is_some_and(|s| s > 0.0),
        "{text}"
    );
    assert!(reference["harness_cost"]["cpu_seconds"]
        .as_f64()
        .is_some_and(|s| s > 0.0));

    let page = std::fs::read_to_string(&html).expect("the HTML page");
    assert!(page.matches("<svg").count() >= 5, "five plots");
    assert!(page.contains("range-offset-limit.conf"));

    // Two workers' results add up.
    let merged = dir.path().join("merged.json");
    let output = load(&[
        "--merge",
        json.to_str().unwrap(),
        json.to_str().unwrap(),
        "--json",
        merged.to_str().unwrap(),
    ]);
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "{}",
        stderr(&output)
    );
    let merged = read_json(&merged);
    let first = &merged["runs"][0];
    assert_eq!(first["workers"], 2);
    assert_eq!(first["clients"]["done"], 100);
    assert!((amplification(first) - amplification(reference)).abs() < 1e-9);
}

#[test]
fn an_external_proxy_is_refused_with_a_clear_message_until_external_mode_exists() {
    let output = load(&["--proxy", "http://127.0.0.1:3128", "--clients", "1"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("external mode is not available yet"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn merge_needs_result_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = load(&[
        "--merge",
        missing.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
}
