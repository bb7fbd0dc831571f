//! `proxy-conformance load` end to end, small and bounded (50 machines, 10 s per policy): the
//! reference policy delivers every byte once (WAN amplification 1.00 ± 0.01) with no client
//! error, the range-widening mutant multiplies WAN bytes (> 2), and a policy that caches the
//! shared files divides them (< 1). External mode against an ordinary Squid the harness did not
//! configure (20 machines, 10 s), and its usage and reachability errors; `--merge` of workers'
//! results.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::external_proxy::external_squid;
use conformance_lab::EXTERNAL_SQUID_BYPASS_CONF;

const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One lab or external proxy at a time: each test's fleet must finish within its duration on
/// a 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn load(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("load")
        .args(args)
        .env("CI", "true")
        .output()
        .expect("the binary runs")
}

/// Everything the command printed: results (stdout) then progress and diagnostics (stderr).
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON result")).expect("JSON")
}

fn amplification(run: &serde_json::Value) -> f64 {
    run["amplification"].as_f64().expect("an amplification")
}

#[test]
fn policies_side_by_side_show_what_each_costs_on_the_wan() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("load.json");
    let html = dir.path().join("load.html");
    let mutant = common::mutant_policy(dir.path(), "range-offset-limit");
    let scanning = common::mutant_policy(dir.path(), "respmod-not-bypassed");
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
        mutant.to_str().unwrap(),
        "--policy",
        &format!("{ROOT}/policies/squid/examples/cache-shared-files.conf"),
        "--policy",
        scanning.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let text = printed(&output);
    // 0, or 4 when the mutant's machines could not all finish within the 10 s.
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "exit {:?}:\n{text}",
        output.status.code()
    );
    let result = read_json(&json);
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4, "{text}");
    let (reference, mutant, caching, scanning) = (&runs[0], &runs[1], &runs[2], &runs[3]);
    // The bypass: nothing sent to ICAP, categorised or bumped; every update file through
    // RESPMOD: every one of them before the ICAP service.
    let policing = |run: &serde_json::Value, what: &str| run["policing"][what].as_u64();
    for what in [
        "icap_calls",
        "icap_scanned_bytes",
        "categorisation_lookups",
        "bumped_connections",
    ] {
        assert_eq!(
            policing(reference, what),
            Some(0),
            "reference {what}\n{text}"
        );
    }
    assert!(
        policing(scanning, "icap_calls").is_some_and(|n| n >= 50),
        "RESPMOD on update files: {:?}\n{text}",
        scanning["policing"]
    );
    assert!(
        policing(scanning, "icap_scanned_bytes")
            .is_some_and(|n| n >= scanning["bytes_delivered"].as_u64().unwrap_or(u64::MAX) / 2),
        "bytes scanned: {:?}\n{text}",
        scanning["policing"]
    );
    assert!(
        text.contains("ICAP 0 call(s) (0.0 MiB scanned), 0 categorisation lookup(s), 0 bumped"),
        "{text}"
    );

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
    assert!(
        page.contains("<td>ICAP calls / bytes scanned (MiB)</td><td>0 / 0.0</td>"),
        "{page}"
    );

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
        printed(&output)
    );
    let merged = read_json(&merged);
    let first = &merged["runs"][0];
    assert_eq!(first["workers"], 2);
    assert_eq!(first["clients"]["done"], 100);
    assert!((amplification(first) - amplification(reference)).abs() < 1e-9);
}

/// External mode: an ordinary Squid with the Windows Update bypass, started the way its users
/// run it (not configured by the harness), loaded through `--proxy` while the harness exposes
/// only its side at the network's gateway. Every byte crosses the WAN once, and the proxy's
/// CPU and memory are reported as not observable rather than as zero.
#[test]
fn an_external_squid_is_loaded_through_its_own_configuration() {
    let _turn = turn();
    let proxy = external_squid("load-squid", EXTERNAL_SQUID_BYPASS_CONF);
    let json = proxy.state.path().join("load.json");
    let html = proxy.state.path().join("load.html");
    let output = load(&[
        "--proxy",
        &format!("http://127.0.0.1:{}", proxy.port),
        "--expose",
        &proxy.gateway,
        "--state-dir",
        proxy.state.path().to_str().unwrap(),
        "--clients",
        "20",
        "--duration",
        "10",
        "--ramp",
        "1",
        "--plain",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let result = read_json(&json);
    let run = &result["runs"][0];
    assert_eq!(run["proxy"], format!("http://127.0.0.1:{}", proxy.port));
    assert_eq!(run["clients"]["done"], 20, "{text}");
    assert_eq!(run["clients"]["failed"], 0, "{text}");
    assert!(
        (amplification(run) - 1.0).abs() <= 0.01,
        "amplification {} is not 1.00 ± 0.01\n{text}",
        amplification(run)
    );
    assert!(run["proxy_cost"].is_null(), "{text}");
    assert!(
        run["proxy_cost_unobservable"]
            .as_str()
            .is_some_and(|why| why.starts_with("not observable")),
        "{run}"
    );
    assert!(run["harness_cost"]["cpu_seconds"]
        .as_f64()
        .is_some_and(|s| s > 0.0));
    assert!(text.contains("proxy CPU not observable"), "{text}");
    let page = std::fs::read_to_string(&html).expect("the HTML page");
    assert!(page.contains("not observable"));
}

#[test]
fn an_external_proxy_without_an_exposed_address_is_a_usage_error() {
    let output = load(&["--proxy", "http://127.0.0.1:3128", "--clients", "1"]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("--expose <ADDR>"), "{text}");
}

#[test]
fn an_external_proxy_nobody_answers_at_fails_in_seconds_with_one_sentence() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let started = std::time::Instant::now();
    let output = load(&[
        "--proxy",
        &format!("http://127.0.0.1:{port}"),
        "--expose",
        "127.0.0.1",
        "--clients",
        "1",
    ]);
    let text = printed(&output);
    assert!(started.elapsed().as_secs() < 5, "{text}");
    assert_eq!(output.status.code(), Some(3), "{text}");
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("proxy-conformance load: "))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].contains(&format!("127.0.0.1:{port} cannot be reached")),
        "{text}"
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
    assert_eq!(output.status.code(), Some(6), "{}", printed(&output));
    assert!(
        printed(&output).contains("cannot read"),
        "{}",
        printed(&output)
    );
}
