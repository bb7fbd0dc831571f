//! Host coverage self-test: dropping any one Windows Update entry from the reference policy
//! must make the host-coverage scenarios fail, and only for names that entry covers. Also
//! checks that the host-coverage feature names every concrete lab name of every pattern.

use std::path::Path;
use std::process::ExitCode;

use conformance_harness::{run_suite, Console, SuiteOptions};
use conformance_lab::REFERENCE_POLICY;
use conformance_model::WINDOWS_UPDATE_HOSTS;

const FEATURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/features");

const HOST_ACL_PREFIX: &str = "acl windows_update dstdomain ";

/// Whether Squid's `dstdomain` entry (`.example.com` covers the domain and its subdomains)
/// matches `host`.
fn dstdomain_matches(entry: &str, host: &str) -> bool {
    match entry.strip_prefix('.') {
        Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
        None => host == entry,
    }
}

/// A concrete name standing for a scenario's host reference (`*.x` and `*.x, deep` stand for
/// a name under `x`), so Squid's matching rules can be applied to it.
fn representative(reference: &str) -> String {
    let pattern = reference.strip_suffix(", deep").unwrap_or(reference);
    match pattern.strip_prefix("*.") {
        Some(suffix) => format!("drawn.{suffix}"),
        None => pattern.to_owned(),
    }
}

fn feature_names_every_host() -> Result<(), String> {
    let path = Path::new(FEATURES_DIR).join("host-coverage.feature");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let missing: Vec<&str> = WINDOWS_UPDATE_HOSTS
        .iter()
        .map(|p| p.pattern)
        .filter(|pattern| !text.contains(&format!("| {pattern} ")))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("{} lacks examples for {missing:?}", path.display()))
    }
}

async fn dropping_is_detected(reference: &str, entry: &str) -> Result<String, String> {
    let without: String = reference
        .lines()
        .filter(|line| line.trim() != format!("{HOST_ACL_PREFIX}{entry}"))
        .map(|line| format!("{line}\n"))
        .collect();
    let file = tempfile::Builder::new()
        .prefix("without-")
        .suffix(".conf")
        .tempfile()
        .map_err(|e| e.to_string())?;
    std::fs::write(file.path(), without).map_err(|e| e.to_string())?;
    let report = run_suite(SuiteOptions {
        policy: file.path().to_path_buf(),
        tags: Some("@hosts".to_owned()),
        console: Console::Silent,
        ..SuiteOptions::default()
    })
    .await
    .map_err(|e| format!("without {entry}: the run did not complete: {e}"))?;
    let failed_hosts: Vec<String> = report
        .failed()
        .filter(|s| s.tags.iter().any(|t| t == "@hosts"))
        .filter_map(|s| s.hosts.first().map(|reference| representative(reference)))
        .collect();
    if failed_hosts.is_empty() {
        return Err(format!("without {entry}: no scenario failed"));
    }
    if let Some(stray) = failed_hosts.iter().find(|h| !dstdomain_matches(entry, h)) {
        return Err(format!(
            "without {entry}: {stray} failed although the entry does not cover it"
        ));
    }
    let mut hosts = failed_hosts;
    hosts.sort();
    hosts.dedup();
    Ok(format!("without {entry:<42} fails on {}", hosts.join(" ")))
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut failures = 0;
    if let Err(problem) = feature_names_every_host() {
        println!("{problem}");
        failures += 1;
    }
    let reference = match std::fs::read_to_string(REFERENCE_POLICY) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("host_patterns: {REFERENCE_POLICY}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let entries: Vec<String> = reference
        .lines()
        .filter_map(|l| l.trim().strip_prefix(HOST_ACL_PREFIX))
        .map(str::to_owned)
        .collect();
    if entries.is_empty() {
        println!("host_patterns: no `{HOST_ACL_PREFIX}…` lines in the reference policy");
        return ExitCode::FAILURE;
    }
    for entry in &entries {
        match dropping_is_detected(&reference, entry).await {
            Ok(row) => println!("{row}"),
            Err(problem) => {
                println!("{problem}");
                failures += 1;
            }
        }
    }
    println!(
        "host_patterns: {} entries, {failures} problem(s)",
        entries.len()
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
