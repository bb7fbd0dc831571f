//! Host sets of one's own (`run --host-set FILE`): the example sets of `examples/host-sets/`
//! pass in one lab with the example policy that bypasses them, a policy that forgets one set
//! fails on exactly that set's declared properties, one that bypasses a set's parent domain
//! fails on its look-alikes, and a set the lab cannot serve is rejected before it starts.

use std::process::{Command, Output};

use crate::common::{assert_exit, file_with, lab_turn, printed, run, BIN};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SETS: &[&str] = &["chrome", "acrobat", "zoom", "mozilla"];

fn run_with_sets(policy: &str) -> Output {
    let _turn = lab_turn();
    let mut command = Command::new(BIN);
    command.current_dir(ROOT).args(["run", "--policy", policy]);
    for set in SETS {
        command.args(["--host-set", &format!("examples/host-sets/{set}.toml")]);
    }
    command.env("CI", "true").output().expect("the binary runs")
}

/// The verdict line of `property` in the console report.
fn verdict_of<'a>(text: &'a str, property: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{property} ")))
        .unwrap_or_else(|| panic!("no verdict for {property}:\n{text}"))
}

/// The example policy with `edit` applied to its text.
fn example_policy_with(dir: &tempfile::TempDir, edit: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(format!("{ROOT}/examples/host-sets-bypass.conf")).unwrap();
    let path = dir.path().join("policy.conf");
    std::fs::write(&path, edit(&text)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn the_example_sets_pass_in_one_lab_with_the_example_policy() {
    let output = run_with_sets("examples/host-sets-bypass.conf");
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    for needle in [
        "host set \"Google Chrome updates\" (examples/host-sets/chrome.toml): 3 properties (@auth @tls @range)",
        "host set \"Zoom\"",
        "Zoom: *.zoom.us, deep carries non-TLS bytes through a CONNECT tunnel verbatim",
        "Mozilla Firefox updates: *.cdn.mozilla.net is never answered from the cache",
        "is challenged for credentials",
    ] {
        assert!(text.contains(needle), "the output lacks {needle:?}:\n{text}");
    }
}

#[test]
fn a_policy_forgetting_one_set_fails_on_that_sets_properties_only() {
    let dir = tempfile::tempdir().unwrap();
    let policy = example_policy_with(&dir, |text| {
        text.lines()
            .filter(|l| !l.contains(".zoom.us"))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    let output = run_with_sets(&policy);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    for property in ["@auth", "@tls", "@protocol"] {
        assert!(
            verdict_of(&text, property).contains("FAIL"),
            "{property} should fail:\n{text}"
        );
    }
    for property in ["@cache", "@range"] {
        assert!(
            verdict_of(&text, property).contains("PASS"),
            "{property} should pass:\n{text}"
        );
    }
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAILED ")).collect();
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|l| l.contains("zoom.feature")),
        "{failed:#?}"
    );
}

#[test]
fn a_bypass_of_a_sets_parent_domain_fails_on_its_look_alikes() {
    let dir = tempfile::tempdir().unwrap();
    let policy = example_policy_with(&dir, |text| {
        text.replace(
            "aus5.mozilla.org download.mozilla.org .cdn.mozilla.net",
            "aus5.mozilla.org download.mozilla.org .mozilla.net",
        )
    });
    let output = run_with_sets(&policy);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(
        verdict_of(&text, "@auth").contains("look-alike host(s) were let through"),
        "{text}"
    );
    assert!(
        text.contains("mozilla-firefox-updates-look-alikes.feature"),
        "{text}"
    );
}

#[test]
fn a_set_the_lab_cannot_serve_is_rejected_before_the_lab_starts() {
    let dir = tempfile::tempdir().unwrap();
    let set = file_with(
        dir.path(),
        "bad.toml",
        b"name = \"bad\"\nhosts = [\"*.com\"]\nschemes = [\"HTTPS\"]\nproperties = [\"@cache\"]\n",
    );
    let output = run(&["run", "--host-set", set.to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            "bad.toml:2: \"*.com\" covers a whole top-level domain",
            "bad.toml:4: @cache is checked over HTTP",
        ],
    );
    assert!(!printed(&output).contains("lab: starting"));
}
