//! The command line end to end: exit codes and where output goes.

use std::path::Path;

use cpl::{run_cli_with, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cpl");

fn run(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_cli_with(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn policy_path(file: &str) -> String {
    Path::new(POLICIES).join(file).display().to_string()
}

#[test]
fn lint_exits_non_zero_on_errors_only() {
    let (code, out, _) = run(&["lint", &policy_path("kb166719-as-published.cpl")]);
    assert_eq!(code, EXIT_FAILED);
    assert!(out.contains("error: 5 rules outside any layer"), "{out}");
    assert!(out.contains("kb166719-as-published.cpl:2:1"), "{out}");
    let (code, out, _) = run(&["lint", &policy_path("windows-update-corrected.cpl")]);
    assert_eq!(code, EXIT_OK, "{out}");
    assert!(out.ends_with(": 0 errors, 0 warnings\n"), "{out}");
}

#[test]
fn explain_prints_the_decisions_and_rejects_a_relative_url() {
    let file = policy_path("windows-update-corrected.cpl");
    let (code, out, _) = run(&[
        "explain",
        &file,
        "--url",
        "http://au.download.windowsupdate.com/x",
    ]);
    assert_eq!(code, EXIT_OK);
    assert!(out.contains("bypass_cache              yes"), "{out}");
    let (code, _, err) = run(&["explain", &file, "--url", "au.download.windowsupdate.com"]);
    assert_eq!(code, EXIT_USAGE);
    assert!(err.contains("not an absolute URL"), "{err}");
}

#[test]
fn to_squid_writes_the_fragment_and_lists_what_it_left_out() {
    let directory = std::env::temp_dir().join(format!("cpl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let output = directory.join("wu.conf");
    let (code, out, err) = run(&[
        "to-squid",
        &policy_path("windows-update-corrected.cpl"),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, EXIT_OK, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("note: not translated: pipeline(no)"), "{err}");
    let fragment = std::fs::read_to_string(&output).unwrap();
    assert!(fragment.contains("ssl_bump splice windows_update\n"));
    let (code, _, err) = run(&["to-squid", &policy_path("kb166719-as-published.cpl")]);
    assert_eq!(code, EXIT_OK);
    assert!(err.contains("warning: `lint` reports 6 errors"), "{err}");
    let unwritable = directory.join("missing-dir").join("x.conf");
    let (code, _, _) = run(&[
        "to-squid",
        &policy_path("windows-update-corrected.cpl"),
        "-o",
        unwritable.to_str().unwrap(),
    ]);
    assert_eq!(code, EXIT_FAILED);
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn usage_errors_exit_one_and_help_exits_zero() {
    assert_eq!(run(&[]).0, EXIT_USAGE);
    assert_eq!(run(&["lint"]).0, EXIT_USAGE);
    assert_eq!(run(&["translate", "x"]).0, EXIT_USAGE);
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, EXIT_OK);
    assert!(out.starts_with("usage: cpl lint FILE"));
}
