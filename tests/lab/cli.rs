//! The `proxy-conformance` command on bad input and on an independently written policy: each
//! case gets a clear message and its documented exit code (1 usage, 2 rejected before running,
//! 3 lab could not start, 4 failed, 0 passed, 128 + the signal's number when interrupted).

use std::process::{Command, Output};

use crate::common::{self, assert_exit, file_with, lab_turn, printed, run, BIN};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn reference_with(extra: &str) -> String {
    let reference =
        std::fs::read_to_string(format!("{ROOT}/policies/squid/windows-update-bypass.conf"))
            .expect("reference policy");
    format!("{reference}{extra}")
}

#[test]
fn an_unknown_option_is_a_usage_error() {
    let output = run(&["run", "--polcy", "x.conf"]);
    assert_exit(&output, 1, &["--polcy"]);
}

#[test]
fn a_missing_policy_file_is_rejected() {
    let output = run(&["run", "--policy", "/nonexistent/policy.conf"]);
    assert_exit(&output, 2, &["/nonexistent/policy.conf"]);
}

#[test]
fn an_empty_policy_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file_with(dir.path(), "empty.conf", b"\n# nothing\n");
    let output = run(&["run", "--policy", policy.to_str().unwrap()]);
    assert_exit(&output, 2, &["empty.conf", "empty"]);
}

#[test]
fn binary_garbage_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file_with(
        dir.path(),
        "garbage.conf",
        &[0xff, 0xfe, 0x00, 0x81, 0x13, 0x37],
    );
    let output = run(&["run", "--policy", policy.to_str().unwrap()]);
    assert_exit(&output, 2, &["garbage.conf"]);
}

#[test]
fn a_policy_redefining_the_lab_port_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = reference_with("http_port 8080\n");
    let line = text.lines().count();
    let policy = file_with(dir.path(), "port.conf", text.as_bytes());
    let output = run(&["run", "--policy", policy.to_str().unwrap()]);
    assert_exit(&output, 2, &[&format!("port.conf:{line}"), "http_port"]);
}

#[test]
fn a_policy_squid_cannot_parse_is_reported_in_squids_words_at_the_users_line() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let text = reference_with("http_acess allow all\n");
    let line = text.lines().count();
    let policy = file_with(dir.path(), "typo.conf", text.as_bytes());
    let output = run(&["run", "--policy", policy.to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            &format!("typo.conf({line}): unrecognized: 'http_acess'"),
            &format!("{line} | http_acess allow all"),
        ],
    );
}

#[test]
fn a_whole_configuration_squid_refuses_is_reported_at_the_line_of_the_included_file() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    let main = file_with(
        dir.path(),
        "squid.conf",
        b"http_port 3128\ninclude conf.d/*.conf\n",
    );
    file_with(
        &dir.path().join("conf.d"),
        "rules.conf",
        b"acl wu dstdomain .update.microsoft.com\nhttp_acess allow wu\n",
    );
    let output = run(&["run", "--squid-conf", main.to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            "squid-conf: ",
            "rules.conf(2): unrecognized: 'http_acess'",
            "2 | http_acess allow wu",
        ],
    );
    // What Squid only complains about, the proxy runs with: so does the lab, and says so.
    file_with(
        &dir.path().join("conf.d"),
        "rules.conf",
        b"acl wu dstdomain .update.microsoft.com\ndns_v4_first on\nhttp_access allow all\n",
    );
    let output = run(&[
        "run",
        "--squid-conf",
        main.to_str().unwrap(),
        "--tags",
        "@prefetch",
    ]);
    assert_exit(
        &output,
        0,
        &[
            "Squid accepted the configuration with complaints",
            "'dns_v4_first' is obsolete. (at ",
            "rules.conf(2))",
        ],
    );
}

#[test]
fn a_whole_configuration_naming_a_missing_acl_file_or_helper_is_rejected_before_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let main = file_with(
        dir.path(),
        "squid.conf",
        b"http_port 3128\nacl wu dstdomain \"/etc/squid/wu-domains.txt\"\n",
    );
    let root = dir.path().to_str().unwrap();
    let output = run(&[
        "run",
        "--squid-conf",
        main.to_str().unwrap(),
        "--conf-root",
        root,
    ]);
    assert_exit(
        &output,
        2,
        &[
            "squid.conf:2",
            "\"/etc/squid/wu-domains.txt\"",
            "wu-domains.txt",
        ],
    );
    std::fs::create_dir_all(dir.path().join("etc/squid")).unwrap();
    file_with(
        &dir.path().join("etc/squid"),
        "wu-domains.txt",
        b".update.microsoft.com\n",
    );
    let output = run(&[
        "run",
        "--squid-conf",
        main.to_str().unwrap(),
        "--conf-root",
        root,
        "--url-filter",
        "webfilter",
    ]);
    assert_exit(
        &output,
        2,
        &["--url-filter webfilter", "no external_acl_type webfilter"],
    );
    let output = run(&["run", "--conf-root", root]);
    assert_exit(&output, 1, &["--squid-conf"]);
}

#[test]
fn a_feature_with_a_syntax_error_is_rejected_before_the_lab_starts() {
    let dir = tempfile::tempdir().unwrap();
    file_with(
        dir.path(),
        "broken.feature",
        b"Feature: broken\n  Scenario: x\n    Given the lab proxy enforces the policy under test\n  Examples without outline\n    | a |\n",
    );
    let output = run(&["run", "--features", dir.path().to_str().unwrap()]);
    assert_exit(&output, 2, &["broken.feature", "not valid Gherkin"]);
    assert!(!stderr(&output).contains("lab: starting"));
}

#[test]
fn an_undefined_step_is_rejected_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    file_with(
        dir.path(),
        "undefined.feature",
        b"@auth\nFeature: undefined\n  Scenario: x\n    Given the lab proxy enforces the policy under test\n    Then the moon is made of cheese\n",
    );
    let output = run(&["run", "--features", dir.path().to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            "undefined.feature:5",
            "no step definition matches `Then the moon is made of cheese`",
        ],
    );
}

#[test]
fn a_tag_expression_that_selects_nothing_is_a_usage_error() {
    let output = run(&["run", "--tags", "@no-such-property"]);
    assert_exit(&output, 1, &["@no-such-property", "selects none"]);
}

#[test]
fn an_unreachable_docker_engine_is_one_sentence_with_the_fix() {
    let output = Command::new(BIN)
        .args(["run", "--tags", "@auth"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("the binary runs");
    assert_exit(
        &output,
        3,
        &[
            "Docker engine at unix:///nonexistent/docker.sock is not reachable",
            "start it",
        ],
    );
}

#[test]
fn an_independently_written_policy_passes_the_whole_suite() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    let output = run(&[
        "run",
        "--policy",
        &format!("{ROOT}/policies/squid/examples/independent-wu-bypass.conf"),
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--cucumber-json",
        json.to_str().unwrap(),
    ]);
    assert_exit(&output, 0, &["0 failed"]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let features = json.as_array().expect("a list of features");
    assert!(features.iter().any(|f| f["tags"]
        .as_array()
        .is_some_and(|tags| tags.iter().any(|t| t["name"] == "@auth"))));
    assert!(features.iter().all(
        |f| f["elements"]
            .as_array()
            .is_some_and(
                |scenarios| scenarios
                    .iter()
                    .all(|s| s["steps"].as_array().is_some_and(|steps| steps
                        .iter()
                        .all(|step| step["result"]["status"] == "passed")))
            )
    ));
    assert!(std::fs::read_to_string(junit)
        .unwrap()
        .contains("<testsuites>"));
    let page = std::fs::read_to_string(html).unwrap();
    assert!(
        page.contains("Property × host") && page.contains("7.tlu.dl.delivery.mp.microsoft.com")
    );
}

#[test]
fn a_failing_policy_exits_4_and_names_the_step_with_evidence() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let mutant = common::mutant_policy(dir.path(), "splice-removed");
    let output = run(&[
        "run",
        "--policy",
        mutant.to_str().unwrap(),
        "--tags",
        "@tls and not @hosts",
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_exit(
        &output,
        4,
        &[
            "FAILED features/tls-interception.feature:",
            "expected: the origin's own leaf, a certificate issued by CN=proxy-conformance Origin CA",
            "origin journal:",
            "proxy log (Squid 5.7):",
        ],
    );
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("class=\"fail\"") && page.contains("evidence for scenario"));
}

#[test]
fn a_corrected_cpl_translated_to_squid_passes_the_whole_suite() {
    let _turn = lab_turn();
    let output = run(&[
        "run",
        "--cpl",
        &format!("{ROOT}/policies/cpl/windows-update-corrected.cpl"),
    ]);
    assert_exit(&output, 0, &["translated to a Squid fragment", "0 failed"]);
}

#[test]
fn a_cpl_whose_untranslated_rule_touches_update_hosts_is_inconclusive_in_every_report() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let corrected =
        std::fs::read_to_string(format!("{ROOT}/policies/cpl/windows-update-corrected.cpl"))
            .unwrap();
    // A user-group rule to-squid cannot carry over, and that would deny update hosts.
    let cpl = file_with(
        dir.path(),
        "risky.cpl",
        format!("{corrected}\n<Proxy>\ngroup=contractors condition=WindowsUpdate DENY\n")
            .as_bytes(),
    );
    let path = |name: &str| dir.path().join(name).display().to_string();
    let output = run(&[
        "run",
        "--cpl",
        cpl.to_str().unwrap(),
        "--tags",
        "@auth",
        "--junit",
        &path("r.xml"),
        "--html",
        &path("r.html"),
        "--json",
        &path("r.json"),
        "--cucumber-json",
        &path("r.cucumber.json"),
    ]);
    assert_exit(&output, 5, &["group=contractors"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("INCONCLUSIVE: "), "{last}");
    assert!(
        last.contains("risky.cpl") && !last.contains(".squid.conf"),
        "{last}"
    );
    assert_eq!(stdout.matches("INCONCLUSIVE: ").count(), 1, "{stdout}");
    let read = |name: &str| std::fs::read_to_string(path(name)).unwrap();
    let html = read("r.html");
    assert!(
        html.contains("proxy-conformance: INCONCLUSIVE</h1>") && html.contains("risky.cpl</code>")
    );
    let junit = read("r.xml");
    assert!(junit.contains("<failure type=\"inconclusive\" message=\"INCONCLUSIVE: "));
    assert!(
        junit.contains("name=\"features/authentication.feature\""),
        "{junit}"
    );
    assert!(!junit.contains("proxy-conformance-bundle-"), "{junit}");
    let json: serde_json::Value = serde_json::from_str(&read("r.json")).unwrap();
    assert_eq!(
        (json["verdict"].as_str(), json["exit_code"].as_u64()),
        (Some("inconclusive"), Some(5))
    );
    let cucumber = read("r.cucumber.json");
    assert!(
        cucumber.contains("\"error_message\": \"INCONCLUSIVE: "),
        "{cucumber}"
    );
    assert!(!cucumber.contains("proxy-conformance-bundle-"));
}

#[test]
fn a_cpl_missing_one_host_pattern_fails_on_exactly_those_hosts() {
    let _turn = lab_turn();
    let output = run(&[
        "run",
        "--cpl",
        &format!("{ROOT}/policies/cpl/one-pattern-missing.cpl"),
    ]);
    assert_exit(&output, 4, &["FAILED"]);
    let text = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAILED")).collect();
    assert!(failed
        .iter()
        .any(|l| l.contains("fe2.update.microsoft.com") || l.contains("sls.update.microsoft.com")));
    for line in failed.iter().filter(|l| l.contains("host-coverage")) {
        assert!(
            line.contains(".update.microsoft.com"),
            "a host the CPL still covers failed: {line}"
        );
    }
}

#[test]
fn cpl_lint_of_the_article_as_published_fails_with_located_errors() {
    let output = run(&[
        "cpl",
        "lint",
        &format!("{ROOT}/policies/cpl/kb166719-as-published.cpl"),
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("kb166719-as-published.cpl:2:29"), "{text}");
    assert!(text.contains("condition=ByPassWindowsUpdate"), "{text}");
}

/// Sends `signal` to a run once its lab is up and checks it exits with `code`, says it was
/// interrupted, and leaves no container or network of its own behind.
fn a_signal_after_lab_start_removes_the_lab(signal: &str, code: i32) {
    let _turn = lab_turn();
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = Command::new(BIN)
        .args(["run", "--tags", "@range"])
        .env("CI", "true")
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        seen.push_str(&line);
        if line.contains("lab: ready") {
            break;
        }
        line.clear();
    }
    assert!(
        seen.contains("lab: ready"),
        "the lab never became ready:\n{seen}"
    );
    let interrupted = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = child.wait().expect("the binary exits");
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    assert_eq!(status.code(), Some(code), "SIG{signal}: {seen}{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    for what in [&["ps", "-aq"][..], &["network", "ls", "-q"][..]] {
        let left = Command::new("docker")
            .args(what)
            .args([
                "--filter",
                &format!("label=io.proxy-conformance.lab-pid={pid}"),
            ])
            .output()
            .expect("docker runs");
        assert!(
            left.stdout.is_empty(),
            "SIG{signal}: docker {what:?} left behind: {left:?}"
        );
    }
}

#[test]
fn ctrl_c_during_a_run_removes_the_lab_and_exits_130() {
    a_signal_after_lab_start_removes_the_lab("INT", 130);
}

#[test]
fn sigterm_during_a_run_removes_the_lab_and_exits_143() {
    a_signal_after_lab_start_removes_the_lab("TERM", 143);
}

#[test]
fn sighup_during_a_run_removes_the_lab_and_exits_129() {
    a_signal_after_lab_start_removes_the_lab("HUP", 129);
}

#[test]
fn keep_lab_gives_the_verdict_and_the_reports_before_holding_the_lab_and_counts_no_hand_request() {
    let _turn = lab_turn();
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let stdout = dir.path().join("stdout.txt");
    let mut child = Command::new(BIN)
        .args(["run", "--tags", "@auth", "--keep-lab", "--json"])
        .arg(&json)
        .env("CI", "true")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        seen.push_str(&line);
        if line.contains("lab: kept until Ctrl-C") {
            break;
        }
        line.clear();
    }
    let printed = std::fs::read_to_string(&stdout).unwrap();
    let last = printed.lines().last().unwrap_or_default().to_owned();
    let written = std::fs::read_to_string(&json).unwrap_or_default();
    // A request by hand through the kept lab's proxy.
    let proxy = seen
        .split("proxy under test at http://")
        .nth(1)
        .and_then(|rest| rest.split([' ', '\n']).next())
        .unwrap_or_default()
        .to_owned();
    if let Ok(mut stream) = std::net::TcpStream::connect(&proxy) {
        let _ = stream.write_all(
            b"GET http://download.windowsupdate.com/by-hand.cab HTTP/1.1\r\nHost: download.windowsupdate.com\r\nConnection: close\r\n\r\n",
        );
        let _ = stream.read_to_end(&mut Vec::new());
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("the binary exits");
    assert!(seen.contains("lab: kept until Ctrl-C"), "{seen}");
    assert!(!proxy.is_empty(), "{seen}");
    assert!(
        last.starts_with("PASS: "),
        "before the hold, stdout ended {last:?}"
    );
    assert!(written.contains("\"verdict\": \"pass\""), "{written}");
    assert_eq!(status.code(), Some(0));
    // Written once, before the hold: the request by hand is in no figure of the run.
    assert_eq!(std::fs::read_to_string(&json).unwrap(), written);
    assert_eq!(std::fs::read_to_string(&stdout).unwrap(), printed);
}

#[test]
fn controls_run_alongside_the_properties_selected_without_them() {
    let _turn = lab_turn();
    let output = run(&["run", "--tags", "@tls and not @control and not @hosts"]);
    assert_exit(
        &output,
        0,
        &[
            "a control host is intercepted with the proxy's CA",
            "@tls          PASS",
        ],
    );
}

#[test]
fn a_policy_that_authenticates_nobody_is_inconclusive_for_auth() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let reference =
        std::fs::read_to_string(format!("{ROOT}/policies/squid/windows-update-bypass.conf"))
            .expect("reference policy");
    let nobody = reference.replace("http_access allow lab_users", "http_access allow all");
    assert_ne!(
        nobody, reference,
        "the reference policy changed its auth rule"
    );
    let policy = file_with(dir.path(), "authenticates-nobody.conf", nobody.as_bytes());
    let output = run(&[
        "run",
        "--policy",
        policy.to_str().unwrap(),
        "--tags",
        "@auth and not @hosts",
    ]);
    assert_exit(
        &output,
        5,
        &[
            "INCONCLUSIVE",
            "@auth         INCONCLUSIVE",
            "control(s) failed",
        ],
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The subcommands a `--help` page lists under `Commands:` (clap's own `help` left out).
fn subcommands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        // Wrapped descriptions continue under deeper indentation.
        .filter(|line| !line[2..].starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_subcommand_answers_help_and_h_on_stdout() {
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let output = run(&args);
            assert_eq!(
                output.status.code(),
                Some(0),
                "`{}` failed:\n{}",
                args.join(" "),
                printed(&output)
            );
            assert!(
                stdout(&output).contains("Usage: proxy-conformance"),
                "`{}` printed no usage on stdout:\n{}",
                args.join(" "),
                printed(&output)
            );
            assert!(
                output.stderr.is_empty(),
                "`{}` wrote to stderr:\n{}",
                args.join(" "),
                stderr(&output)
            );
            if flag == "--help" {
                for child in subcommands_in(&stdout(&output)) {
                    let mut child_path = path.clone();
                    child_path.push(child);
                    pending.push(child_path);
                }
            }
        }
        seen.push(path.join(" "));
    }
    for expected in [
        "",
        "run",
        "serve",
        "selftest",
        "load",
        "steps",
        "check",
        "cpl",
        "cpl lint",
        "cpl explain",
        "cpl to-squid",
    ] {
        assert!(
            seen.iter().any(|s| s == expected),
            "`{expected} --help` was never reached: {seen:?}"
        );
    }
}

#[test]
fn cpl_results_go_to_stdout_and_diagnostics_to_stderr() {
    let corrected = format!("{ROOT}/policies/cpl/windows-update-corrected.cpl");
    let lint = run(&["cpl", "lint", &corrected]);
    assert_eq!(lint.status.code(), Some(0), "{}", printed(&lint));
    assert!(stdout(&lint).contains("0 errors"), "{}", printed(&lint));
    assert!(lint.stderr.is_empty(), "{}", stderr(&lint));

    let explain = run(&[
        "cpl",
        "explain",
        &corrected,
        "--url",
        "http://download.windowsupdate.com/a.cab",
    ]);
    assert_eq!(explain.status.code(), Some(0), "{}", printed(&explain));
    assert!(
        stdout(&explain).contains("decisions:"),
        "{}",
        printed(&explain)
    );
    assert!(explain.stderr.is_empty(), "{}", stderr(&explain));

    let translated = run(&["cpl", "to-squid", &corrected]);
    assert_eq!(
        translated.status.code(),
        Some(0),
        "{}",
        printed(&translated)
    );
    assert!(
        stdout(&translated).contains("acl windows_update dstdomain"),
        "{}",
        printed(&translated)
    );
    assert!(
        stderr(&translated).contains("note: not translated: pipeline(no)"),
        "{}",
        printed(&translated)
    );
    assert!(!stdout(&translated).contains("note: not translated"));

    let missing = run(&["cpl", "lint", "/nonexistent/policy.cpl"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(missing.stdout.is_empty(), "{}", stdout(&missing));
    assert!(stderr(&missing).contains("/nonexistent/policy.cpl"));

    let usage = run(&["cpl", "lint"]);
    assert_eq!(usage.status.code(), Some(1));
    assert!(usage.stdout.is_empty(), "{}", stdout(&usage));
    assert!(stderr(&usage).contains("Usage:"), "{}", stderr(&usage));
}

#[test]
fn durations_and_sizes_take_units_on_every_option() {
    // `--merge` of files that do not exist: the values are parsed, then the files are missing
    // (exit 6); a value the parser refuses is a usage error (exit 1) naming the option.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().unwrap();
    let accepted = |option: &str, value: &str| {
        let output = run(&["load", option, value, "--merge", missing, missing]);
        assert_eq!(
            output.status.code(),
            Some(6),
            "`{option} {value}` was refused:\n{}",
            printed(&output)
        );
    };
    for (option, value) in [
        ("--duration", "10s"),
        ("--duration", "5m"),
        ("--duration", "300"),
        ("--ramp", "500ms"),
        ("--ramp", "2.5"),
        ("--request-timeout", "2m"),
        ("--max-bytes", "20GiB"),
        ("--shared-size", "10MiB"),
        ("--update-size", "2MiB-4MiB"),
    ] {
        accepted(option, value);
    }
    for (option, value) in [
        ("--duration", "10x"),
        ("--ramp", "soon"),
        ("--request-timeout", "1 fortnight"),
        ("--max-bytes", "20 parsecs"),
    ] {
        let output = run(&["load", option, value, "--merge", missing, missing]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "`{option} {value}` was accepted:\n{}",
            printed(&output)
        );
        let text = stderr(&output);
        assert!(
            text.contains(option) && text.contains(value),
            "the refusal names neither {option} nor {value}:\n{text}"
        );
    }
}

#[test]
fn a_users_own_feature_directory_runs_with_the_bundled_controls() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.feature"),
        "Feature: our update downloads\n  @auth\n  Scenario: a cumulative update is not challenged\n    Given the lab proxy enforces the policy under test\n    And \"download.microsoft.com\" serves a 1 MiB update file under a per-client name\n    When a client without credentials requests that file over HTTP\n    Then the proxy did not ask for credentials\n",
    )
    .unwrap();
    let output = run(&["run", "--features", dir.path().to_str().unwrap()]);
    assert_exit(
        &output,
        0,
        &[
            "mine.feature:3",
            "features/authentication.feature",
            "1 update-host scenario(s) and 2 control(s) passed",
        ],
    );
}

/// A feature of one's own: an update download, the intranet portal and any host of the corporate
/// domain, the last two challenged for credentials (controls of `@auth`).
const PORTAL_FEATURE: &str = "Feature: our own hosts
  @auth
  Scenario: a cumulative update is not challenged
    Given the lab proxy enforces the policy under test
    And \"download.microsoft.com\" serves a 1 MiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    Then the proxy did not ask for credentials

  @auth @control
  Scenario: the intranet portal is challenged
    Given \"portal.corp.example\" serves a cacheable page
    When a client without credentials requests that page over HTTP
    Then the proxy asked for credentials

  @auth @control
  Scenario: any host of the corporate domain is challenged on CONNECT
    Given \"*.corp.example, deep\" serves a cacheable page
    When a client without credentials requests that page over HTTPS
    Then the proxy asked for credentials
";

#[test]
fn hosts_a_users_feature_names_are_served_by_the_lab() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portal.feature"), PORTAL_FEATURE).unwrap();
    let html = dir.path().join("report.html");
    let output = run(&[
        "run",
        "--features",
        dir.path().to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_exit(
        &output,
        0,
        &[
            "portal.feature:10 the intranet portal is challenged",
            "portal.feature:16 any host of the corporate domain",
            "1 update-host scenario(s) and 4 control(s) passed",
        ],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    for host in ["portal.corp.example", "*.corp.example, deep"] {
        assert!(page.contains(host), "the matrix lacks {host}");
    }
}

#[test]
/// The portal's checks are controls: a policy that lets it through proves nothing about the
/// update hosts (inconclusive, exit 5), and the report names the user's host.
fn a_policy_letting_a_users_own_host_through_fails_its_control_on_that_host() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portal.feature"), PORTAL_FEATURE).unwrap();
    let policy = file_with(
        dir.path(),
        "policy.conf",
        reference_with("").replacen(
            "http_access allow windows_update",
            "acl corp dstdomain .corp.example\nhttp_access allow corp\nhttp_access allow windows_update",
            1,
        )
        .as_bytes(),
    );
    let output = run(&[
        "run",
        "--features",
        dir.path().to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_exit(
        &output,
        5,
        &[
            "FAILED",
            "portal.feature:13",
            "portal.feature:19",
            "the control on \"portal.corp.example\" failed",
        ],
    );
}

#[test]
fn check_validates_features_without_a_lab_and_steps_prints_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portal.feature"), PORTAL_FEATURE).unwrap();
    let output = run(&["check", dir.path().to_str().unwrap()]);
    assert_exit(
        &output,
        0,
        &[
            "3 scenario(s) in 1 feature file(s)",
            "served beside the lab's own hosts: *.corp.example, portal.corp.example",
        ],
    );
    assert_exit(&run(&["check"]), 0, &["every step has one definition"]);
    std::fs::write(
        dir.path().join("bad.feature"),
        "Feature: bad\n  Scenario: s\n    Given \"portal_corp.example\" serves a cacheable page\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ranges.feature"),
        "Feature: ranges\n  Scenario: backwards\n    Given \"download.windowsupdate.com\" serves a 1 MiB update file under a per-client name\n    When a BITS client asks for bytes 10-5 of that file over HTTP\n",
    )
    .unwrap();
    let output = run(&["check", dir.path().to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            "bad.feature:3",
            "not a valid host name",
            "ranges.feature:4: bytes 10-5: the first byte comes after the last",
        ],
    );
    let output = run(&["steps"]);
    assert_exit(
        &output,
        0,
        &[
            "Given {string} serves a cacheable page\n    e.g. ",
            "Parameters:",
            "{scheme}  HTTPS|HTTP",
        ],
    );
}

#[test]
fn a_feature_naming_a_host_the_lab_cannot_serve_is_rejected_before_the_lab_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("portal.feature"),
        "Feature: portal\n  @auth\n  Scenario: our portal is challenged\n    Given \"portal_corp.example\" serves a cacheable page\n    When a client without credentials requests that page over HTTP\n    Then the proxy asked for credentials\n\n  @auth\n  Scenario: a whole top-level domain\n    Given \"*.com\" serves a cacheable page\n    When a client without credentials requests that page over HTTP\n    Then the proxy asked for credentials\n",
    )
    .unwrap();
    let output = run(&["run", "--features", dir.path().to_str().unwrap()]);
    assert_exit(
        &output,
        2,
        &[
            "portal.feature:4",
            "\"portal_corp.example\": not a valid host name",
            "write a DNS name",
            "portal.feature:10",
            "covers a whole top-level domain",
        ],
    );
    assert!(!stderr(&output).contains("lab: starting"));
}

#[test]
fn the_evidence_of_a_real_url_shape_failure_shows_the_origins_requests() {
    let _turn = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let mutant = common::mutant_policy(dir.path(), "cache-deny-removed");
    let output = run(&[
        "run",
        "--policy",
        mutant.to_str().unwrap(),
        "--features",
        &format!("{ROOT}/features/update-agents.feature"),
        "--tags",
        "@cache",
    ]);
    assert_exit(&output, 4, &["authrootstl.cab"]);
    let text = printed(&output);
    let journal = text
        .split("origin journal:\n")
        .nth(1)
        .expect("the failure's evidence has an origin journal");
    assert!(
        journal.trim_start().starts_with('#') && journal.contains("authrootstl.cab"),
        "the trust list's URL carries no token, yet the origin served it:\n{text}"
    );
}
