//! The subcommands end to end through clap parsing: statuses, typed errors and outputs.

use std::path::Path;

use clap::Parser;
use cpl::{run_command, CplCommand, CplError, CplStatus};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cpl");

/// The binary embeds `CplCommand` the same way.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: CplCommand,
}

fn run(args: &[&str]) -> (Result<CplStatus, CplError>, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("cpl").chain(args.iter().copied()))
        .expect("arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run_command(&cli.command, &mut out, &mut err);
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn policy_path(file: &str) -> String {
    Path::new(POLICIES).join(file).display().to_string()
}

#[test]
fn lint_reports_findings_on_errors_only() {
    let (status, out, _) = run(&["lint", &policy_path("kb166719-as-published.cpl")]);
    assert_eq!(status.unwrap(), CplStatus::Findings);
    assert!(out.contains("error: 5 rules outside any layer"), "{out}");
    assert!(out.contains("kb166719-as-published.cpl:2:1"), "{out}");
    let (status, out, _) = run(&["lint", &policy_path("windows-update-corrected.cpl")]);
    assert_eq!(status.unwrap(), CplStatus::Clean, "{out}");
    assert!(out.ends_with(": 0 errors, 0 warnings\n"), "{out}");
}

#[test]
fn json_and_sarif_output() {
    let file = policy_path("one-pattern-missing.cpl");
    let (status, out, _) = run(&["lint", &file, "--format", "json"]);
    assert_eq!(status.unwrap(), CplStatus::Findings);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["findings"][0]["code"], "windows-update-coverage");
    let (_, out, _) = run(&["lint", &file, "--format", "sarif"]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["version"], "2.1.0");
    let result = &value["runs"][0]["results"][0];
    assert_eq!(result["level"], "error");
    assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64());
}

#[test]
fn deny_warnings_turns_warnings_into_findings() {
    let dir = std::env::temp_dir().join(format!("cpl-cli-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("w.cpl");
    std::fs::write(&file, "<Proxy>\nurl.domain=example.com authenticate (no)\n").unwrap();
    let file = file.to_str().unwrap();
    assert_eq!(run(&["lint", file]).0.unwrap(), CplStatus::Clean);
    assert_eq!(
        run(&["lint", file, "--deny-warnings"]).0.unwrap(),
        CplStatus::Findings
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_prints_the_trace_and_rejects_a_relative_url() {
    let file = policy_path("windows-update-corrected.cpl");
    let (status, out, _) = run(&[
        "explain",
        &file,
        "--url",
        "http://au.download.windowsupdate.com/x",
    ]);
    assert_eq!(status.unwrap(), CplStatus::Clean);
    assert!(out.contains("bypass_cache              yes"), "{out}");
    assert!(out.contains("MATCH"), "{out}");
    let (status, _, _) = run(&["explain", &file, "--url", "au.download.windowsupdate.com"]);
    let error = status.unwrap_err();
    assert!(matches!(error, CplError::BadUrl(_)));
    assert!(error.to_string().contains("not an absolute URL"), "{error}");
}

#[test]
fn to_squid_writes_the_fragment_and_lists_what_it_left_out() {
    let directory = std::env::temp_dir().join(format!("cpl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let output = directory.join("wu.conf");
    let (status, out, err) = run(&[
        "to-squid",
        &policy_path("windows-update-corrected.cpl"),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert_eq!(status.unwrap(), CplStatus::Clean, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("note: not translated: pipeline(no)"), "{err}");
    let fragment = std::fs::read_to_string(&output).unwrap();
    assert!(fragment.contains("ssl_bump splice windows_update\n"));
    let (status, _, err) = run(&["to-squid", &policy_path("kb166719-as-published.cpl")]);
    assert_eq!(status.unwrap(), CplStatus::Clean);
    assert!(err.contains("warning: `lint` reports"), "{err}");
    let unwritable = directory.join("missing-dir").join("x.conf");
    let (status, _, _) = run(&[
        "to-squid",
        &policy_path("windows-update-corrected.cpl"),
        "-o",
        unwritable.to_str().unwrap(),
    ]);
    assert!(matches!(status, Err(CplError::Write { .. })));
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn explain_decides_method_and_header_triggers_only_when_the_request_says_them() {
    let traffic = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/traffic");
    let method_first = traffic.join("method-keyed-auth-first.cpl");
    let method_first = method_first.to_str().unwrap();
    let url = "https://fe2.update.microsoft.com/ClientWebService/client.asmx";
    let (status, out, _) = run(&["explain", method_first, "--url", url, "--method", "POST"]);
    assert_eq!(status.unwrap(), CplStatus::Clean);
    assert!(out.contains("request: POST https://"), "{out}");
    assert!(
        out.contains("authenticate              corp_realm"),
        "{out}"
    );
    let (_, out, _) = run(&["explain", method_first, "--url", url, "--method", "GET"]);
    assert!(out.contains("authenticate              no"), "{out}");
    let (_, out, _) = run(&["explain", method_first, "--url", url]);
    assert!(out.contains("undecided"), "{out}");

    let mime = traffic.join("mime-icap-after-bypass.cpl");
    let mime = mime.to_str().unwrap();
    let url = "http://download.windowsupdate.com/d/a.msu";
    let (_, out, _) = run(&[
        "explain",
        mime,
        "--url",
        url,
        "--response-header",
        "Content-Type: application/octet-stream",
    ]);
    assert!(out.contains("response.icap_service     av_scan"), "{out}");
    let (_, out, _) = run(&[
        "explain",
        mime,
        "--url",
        url,
        "--response-header",
        "Content-Type: text/html",
    ]);
    assert!(out.contains("response.icap_service     no"), "{out}");
}

/// The report that started it: a later `<Cache>` layer sends `.cab` files to ICAP by
/// extension. `explain` shows it, `to-squid` warns about it, and `lint --require
/// windows-update` now fails on it too, naming the property, the kinds of request and the line.
#[test]
fn the_three_commands_agree_on_an_extension_keyed_icap_rule() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/traffic/extension-icap-after-bypass.cpl");
    let file = file.to_str().unwrap();
    let (status, out, _) = run(&["lint", file, "--require", "windows-update"]);
    assert_eq!(status.unwrap(), CplStatus::Findings, "{out}");
    assert!(
        out.contains("not bypassed: response.icap_service for cumulative update (.cab)")
            && out.contains("(decided at line 24)"),
        "{out}"
    );
    let (_, out, _) = run(&[
        "explain",
        file,
        "--url",
        "http://download.windowsupdate.com/c/msdownload/update/software/updt/2024/05/kb.cab",
    ]);
    assert!(out.contains("response.icap_service     av_scan"), "{out}");
    let (_, _, err) = run(&["to-squid", file]);
    assert!(
        err.contains("a lab run of this fragment is inconclusive")
            && err.contains("response.icap_service for "),
        "{err}"
    );
}

#[test]
fn explain_says_when_the_proxy_sees_only_the_connect() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/traffic/correct-scan-intercepted-https-only.cpl");
    let file = file.to_str().unwrap();
    let url = "https://download.windowsupdate.com/d/mpam-fe.exe";
    let (_, out, _) = run(&["explain", file, "--url", url]);
    assert!(out.contains("response.icap_service     av_scan"), "{out}");
    assert!(out.contains("the proxy sees only its CONNECT"), "{out}");
    let (_, out, _) = run(&["explain", file, "--url", url, "--method", "CONNECT"]);
    assert!(out.contains("response.icap_service     no"), "{out}");
    assert!(!out.contains("the proxy sees only its CONNECT"), "{out}");
    let (_, out, _) = run(&[
        "explain",
        file,
        "--url",
        "https://www.example.com/setup.exe",
    ]);
    assert!(!out.contains("the proxy sees only its CONNECT"), "{out}");
}
