//! The bundled backends and the comparisons as a user runs them: Squid 6 refuses a policy in
//! its own words at the user's line; the reference (as production) beside a candidate with one
//! policy fault shows exactly the fault's properties newly failing and exits with the
//! candidate's verdict; the reference on both bundled Squid versions changes nothing.

use crate::common::{self, assert_exit, file_with, run, BIN};

use std::process::Command;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn reference() -> std::path::PathBuf {
    std::path::Path::new(ROOT).join("policies/squid/windows-update-bypass.conf")
}

/// Runs `proxy-conformance run ARGS --json FILE`; the exit code and the comparison.
fn compare(args: &[&str], dir: &std::path::Path) -> (i32, Value, String) {
    let json = dir.join("comparison.json");
    let html = dir.join("comparison.html");
    let output = Command::new(BIN)
        .arg("run")
        .args(args)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let document = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no comparison JSON ({e}):\n{stdout}\n{stderr}"));
    let page = std::fs::read_to_string(&html).expect("the comparison HTML is written");
    assert_eq!(
        page.matches("<iframe").count(),
        2,
        "both runs' reports are on the page"
    );
    (
        output.status.code().unwrap_or(-1),
        serde_json::from_str(&document).expect("the comparison is JSON"),
        stdout,
    )
}

fn properties_that(document: &Value, change: &str) -> Vec<String> {
    document["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter(|p| p["change"] == change)
        .map(|p| p["property"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_candidate_with_one_fault_shows_exactly_its_properties_newly_failing() {
    let dir = tempfile::tempdir().unwrap();
    let candidate = common::mutant_policy(dir.path(), "splice-removed");
    let (code, document, stdout) = compare(
        &[
            "--baseline",
            reference().to_str().unwrap(),
            "--policy",
            candidate.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 4, "the candidate's verdict decides:\n{stdout}");
    assert_eq!(document["verdict"], "fail");
    assert_eq!(document["first"]["verdict"], "pass", "{stdout}");
    assert_eq!(
        properties_that(&document, "newly failing"),
        ["@tls", "@protocol"],
        "{stdout}"
    );
    assert!(properties_that(&document, "newly passing").is_empty());
    let scenarios = document["scenarios"].as_array().unwrap();
    assert!(!scenarios.is_empty(), "{stdout}");
    assert!(
        scenarios.iter().all(|s| s["change"] == "newly failing"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("FAIL: candidate against baseline"),
        "{stdout}"
    );
}

#[test]
fn the_reference_on_both_squid_versions_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (code, document, stdout) = compare(
        &["--backend", "squid-5.7", "--backend", "squid-6"],
        dir.path(),
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(document["changes_nothing"], true, "{stdout}");
    assert_eq!(document["first"]["proxy"], "Squid 5.7");
    assert_eq!(document["second"]["proxy"], "Squid 6.13");
    assert!(
        stdout.contains("Squid 6.13 changes nothing against Squid 5.7"),
        "{stdout}"
    );
}

#[test]
fn squid_6_refuses_a_policy_in_its_words_at_the_users_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file_with(
        dir.path(),
        "typo.conf",
        b"acl windows_update dstdomain .windowsupdate.com\nhttp_acess allow windows_update\n",
    );
    let output = run(&[
        "run",
        "--backend",
        "squid-6",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_exit(
        &output,
        2,
        &[
            "Squid 6.13 rejected the policy",
            "typo.conf(2): unrecognized: 'http_acess'",
            "   2 | http_acess allow windows_update",
        ],
    );
}

#[test]
fn an_unknown_backend_is_a_usage_error_naming_the_bundled_ones() {
    let output = run(&["run", "--backend", "squid-4"]);
    assert_exit(&output, 1, &["squid-5.7, squid-6"]);
}
