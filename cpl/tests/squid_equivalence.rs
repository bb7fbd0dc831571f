//! Fast pre-check, not the proof: `to-squid` never changes meaning silently, judged by a
//! model of Squid written in Rust. The proof runs the fragments in the lab's real Squid
//! (`tests/lab/cpl_in_squid.rs` at the workspace root, which needs Docker); this file needs
//! nothing, runs in about a second over every corpus policy, and catches most regressions first.
//!
//! It carries a small evaluator of exactly the
//! subset of Squid the translator emits — `acl` types `dstdomain`, `dstdom_regex -i`,
//! `proxy_auth`, `external`, `port`, `method`, `at_step`, and the first-match directive lists
//! `http_access`, `cache`, `adaptation_access`, `ssl_bump` and `on_unsupported_protocol` —
//! written from Squid's documented semantics (ACLs on a line are ANDed left to right and
//! short-circuit; the first line whose ACLs all match decides; an ACL name lists values ORed;
//! `dstdomain .d` matches `d` and its subdomains). Keeping it in the test, not in the crate,
//! keeps the crate's claim honest: the fragment is judged by an independent reading of Squid.
//!
//! For generated requests (every Windows Update pattern with random labels under its
//! wildcards, look-alikes such as `windowsupdate.com.example.net` and
//! `notwindowsupdate.com`, hosts the policy names, random paths and extensions, over http and
//! https), the decisions `explain` gives for the CPL are compared with what the fragment's
//! ACLs decide. Where they differ, the translation must say it could not carry something
//! (`Translation::untranslated` non-empty, and for update hosts
//! `may_change_update_properties()`): that is the "skip decisions marked as not carried" rule.
//! `pipeline` is never compared (Squid does not prefetch; to-squid lists it).

#[path = "support/squid_model.rs"]
mod squid_model;

use cpl::{
    explain, parse, to_squid, Decision, Explanation, Policy, RuleReport, TraceStatus, Translation,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use squid_model::Squid;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cpl");

/// The decisions that differ between the CPL (as `explain` traces it) and the fragment.
fn differences(explanation: &Explanation, squid: &Squid, tls: bool) -> Vec<String> {
    let set_bypass = |d: Decision| explanation.is_set(d) && d.is_bypass(explanation.value(d));
    let decided = squid.decide(&explanation.host, tls);
    let cpl_denied = explanation.is_set(Decision::Access)
        && !Decision::Access.is_bypass(explanation.value(Decision::Access));
    let mut differ = Vec::new();
    let mut compare = |name: &str, cpl: bool, squid: bool| {
        if cpl != squid {
            differ.push(format!("{name}: CPL {cpl}, Squid {squid}"));
        }
    };
    compare("denied", cpl_denied, decided.denied);
    if !cpl_denied {
        compare(
            "authenticate(no)",
            set_bypass(Decision::Authenticate),
            !decided.asks_credentials,
        );
        compare(
            "webpulse.categorize.mode(none)",
            set_bypass(Decision::Categorize),
            !decided.categorized,
        );
    }
    let cache_off = explanation
        .properties
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("cache") && p.value.eq_ignore_ascii_case("no"));
    compare(
        "bypass_cache(yes) or cache(no)",
        set_bypass(Decision::BypassCache) || cache_off,
        decided.cache_bypassed,
    );
    compare(
        "request.icap_service(no)",
        set_bypass(Decision::RequestIcap),
        decided.reqmod_off,
    );
    compare(
        "response.icap_service(no)",
        set_bypass(Decision::ResponseIcap),
        decided.respmod_off,
    );
    if tls {
        compare(
            "ssl.forward_proxy(no)",
            set_bypass(Decision::SslForwardProxy),
            decided.spliced,
        );
        compare(
            "detect_protocol(none)",
            set_bypass(Decision::DetectProtocol),
            decided.spliced_at_step1 || decided.tunnel_unsupported,
        );
    }
    differ
}

fn policies() -> Vec<Policy> {
    let mut files = Vec::new();
    for dir in [CORPUS, POLICIES] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cpl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|path| {
            let source = std::fs::read_to_string(path).unwrap();
            parse(&source, &path.display().to_string()).unwrap()
        })
        .collect()
}

/// Host names the policy writes (condition entries and trigger values), for generation.
fn named_hosts(policy: &Policy) -> Vec<String> {
    let mut hosts: Vec<String> = policy
        .conditions
        .iter()
        .flat_map(|d| d.entries.iter().filter_map(|e| e.pattern.as_ref()))
        .map(|atom| atom.text.to_ascii_lowercase())
        .chain(policy.triggers().iter().flat_map(|t| {
            t.atoms()
                .into_iter()
                .map(|(a, _)| a.text.to_ascii_lowercase())
        }))
        .filter_map(|text| {
            let text = text.split("://").last().unwrap_or_default().to_owned();
            let host = text
                .split('/')
                .next()
                .unwrap_or_default()
                .trim_start_matches('.')
                .to_owned();
            (host.contains('.')
                && host.chars().any(|c| c.is_ascii_alphabetic())
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .then_some(host)
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn update_names() -> Vec<String> {
    conformance_model::WINDOWS_UPDATE_HOSTS
        .iter()
        .flat_map(|p| {
            let mut names: Vec<String> = p.names.iter().map(|n| (*n).to_owned()).collect();
            names.push(p.pattern.to_owned());
            names
        })
        .collect()
}

fn host_strategy(named: Vec<String>) -> impl Strategy<Value = String> {
    let mut bases = update_names();
    bases.extend(named);
    bases.push("www.example.com".to_owned());
    (proptest::sample::select(bases), "[a-z0-9]{1,8}", 0..6u8).prop_map(|(base, label, shape)| {
        let base = base.replace("*.", &format!("{label}."));
        match shape {
            0 => format!("{base}.example.net"),
            1 => format!("not{base}"),
            2 => format!("{label}.{base}"),
            _ => base,
        }
    })
}

fn url_strategy(named: Vec<String>) -> impl Strategy<Value = (String, bool)> {
    (
        host_strategy(named),
        any::<bool>(),
        proptest::collection::vec("[a-z0-9_-]{1,6}", 0..3),
        proptest::sample::select(vec!["", ".cab", ".exe", ".psf", ".html", ".gif", ".txt"]),
    )
        .prop_map(|(host, tls, segments, extension)| {
            let scheme = if tls { "https" } else { "http" };
            let path = segments.join("/");
            let file = if path.is_empty() {
                String::new()
            } else {
                format!("{path}{extension}")
            };
            (format!("{scheme}://{host}/{file}"), tls)
        })
}

fn check(
    policy: &Policy,
    translation: &Translation,
    squid: &Squid,
    url: &str,
    tls: bool,
) -> Result<(), TestCaseError> {
    let explanation = explain(policy, url).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let differ = differences(&explanation, squid, tls);
    if differ.is_empty() {
        return Ok(());
    }
    // Allowed only where to-squid said it could not carry over something this request
    // depends on: an undecided rule, or a matching rule (or a condition it tests) with an
    // untranslated construct on its lines.
    let untranslated: Vec<usize> = translation
        .untranslated
        .iter()
        .filter_map(|u| u.location.as_ref().map(|l| l.line))
        .collect();
    let matched: Vec<&RuleReport> = explanation
        .layers
        .iter()
        .flat_map(|l| l.rules.iter())
        .filter(|(_, status)| *status == TraceStatus::Matched)
        .map(|(rule, _)| rule)
        .collect();
    let condition_untranslated = policy.conditions.iter().any(|d| {
        let last = d.end.map_or(usize::MAX, |e| e.line);
        untranslated
            .iter()
            .any(|l| (d.span.line..=last).contains(l))
            && matched.iter().any(|r| {
                r.text
                    .to_ascii_lowercase()
                    .contains(&format!("condition={}", d.name.key()))
            })
    });
    let explained = explanation.has_undecided()
        || matched
            .iter()
            .any(|r| untranslated.contains(&r.location.line))
        || condition_untranslated;
    prop_assert!(
        explained,
        "{}: {url}: {differ:?} with nothing this request depends on listed as untranslated\n{}",
        policy.file_name,
        translation.fragment
    );
    let host = explanation.host.clone();
    let update_host = conformance_model::WINDOWS_UPDATE_HOSTS
        .iter()
        .any(|p| p.names.contains(&host.as_str()));
    if update_host {
        prop_assert!(
            translation.may_change_update_properties(),
            "{}: {url}: {differ:?} on an update host, but may_change_update_properties() is false",
            policy.file_name
        );
    }
    Ok(())
}

#[test]
fn the_fragment_decides_like_the_cpl_or_says_what_it_did_not_carry() {
    for policy in policies() {
        let translation = to_squid(&policy);
        let squid = Squid::parse(&translation.fragment);
        // Every concrete update name, over both schemes, first.
        for name in conformance_model::WINDOWS_UPDATE_HOSTS
            .iter()
            .flat_map(|p| p.names.iter())
        {
            for tls in [false, true] {
                let url = format!("{}://{name}/", if tls { "https" } else { "http" });
                check(&policy, &translation, &squid, &url, tls).unwrap();
            }
        }
        let mut runner = TestRunner::new(Config {
            cases: std::env::var("CPL_PROPTEST_CASES")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(48),
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&url_strategy(named_hosts(&policy)), |(url, tls)| {
                check(&policy, &translation, &squid, &url, tls)
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_evaluator_reads_squid_as_documented() {
    let squid = Squid::parse(
        "acl wu dstdomain .windowsupdate.com\nacl wu_except dstdomain login.windowsupdate.com\nacl lab_users proxy_auth REQUIRED\nhttp_access allow !wu_except wu\nhttp_access allow lab_users\ncache deny wu\ncache allow all\n",
    );
    let d = squid.decide("download.windowsupdate.com", false);
    assert!(!d.asks_credentials && d.cache_bypassed && !d.denied);
    let d = squid.decide("login.windowsupdate.com", false);
    assert!(d.asks_credentials);
    let d = squid.decide("notwindowsupdate.com", false);
    assert!(d.asks_credentials && !d.cache_bypassed);
}
