//! Helpers shared by the integration tests: running the command and reading what it printed,
//! and the bundled mutants as policy files. Two test binaries include this module and each
//! uses a part of it.
#![allow(dead_code)]

pub mod external_proxy;

use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");

/// Tests that start a lab through the command take turns: on a 2-core machine several
/// concurrent labs would judge the machine's load, not the command.
static ONE_LAB_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn lab_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_LAB_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A file of these bytes in `dir` (a policy, a feature, a host set a test writes).
pub fn file_with(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

/// `proxy-conformance ARGS`, as CI runs it.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("CI", "true")
        .output()
        .expect("the binary runs")
}

/// Everything the command printed: results (stdout), then progress and diagnostics (stderr).
pub fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The command exited `code` and printed every needle.
pub fn assert_exit(output: &Output, code: i32, needles: &[&str]) {
    let text = printed(output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}; output:\n{text}"
    );
    for needle in needles {
        assert!(
            text.contains(needle),
            "the output lacks {needle:?}:\n{text}"
        );
    }
}

/// A bundled mutant (`policies/squid/mutants/<name>.patch`) applied to the reference policy and
/// written into `dir`, for a test that runs it as an ordinary policy file.
pub fn mutant_policy(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = conformance_harness::apply_mutant(
        &root.join(format!("policies/squid/mutants/{name}.patch")),
        &root.join("policies/squid/windows-update-bypass.conf"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, text).expect("the mutant is written");
    path
}
