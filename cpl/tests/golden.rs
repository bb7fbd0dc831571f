//! Golden outputs of `lint`, `explain` and `to-squid` for the policies in `policies/cpl/`,
//! compared exactly. `UPDATE_GOLDEN=1 cargo test -p cpl` rewrites them; review the diff.

use std::path::Path;

use cpl::{explain, lint, parse, render_report, to_squid, Decision, Policy};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cpl");
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

const AS_PUBLISHED: &str = "kb166719-as-published.cpl";
const CORRECTED: &str = "windows-update-corrected.cpl";
const ONE_PATTERN_MISSING: &str = "one-pattern-missing.cpl";

/// The policy, named as a user at the workspace root would name it.
fn policy(file: &str) -> Policy {
    let source = std::fs::read_to_string(Path::new(POLICIES).join(file))
        .unwrap_or_else(|error| panic!("cannot read {file}: {error}"));
    parse(&source, &format!("policies/cpl/{file}"))
        .unwrap_or_else(|errors| panic!("{file} does not parse: {errors:?}"))
}

fn lint_report(policy: &Policy) -> String {
    render_report(&lint(policy), &policy.source, &policy.file_name)
}

fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(GOLDEN).join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {}: run UPDATE_GOLDEN=1 cargo test -p cpl",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 cargo test -p cpl rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn lint_of_the_article_as_published() {
    let policy = policy(AS_PUBLISHED);
    assert_golden("lint-kb166719-as-published.txt", &lint_report(&policy));
}

#[test]
fn lint_of_the_article_reports_each_fault_the_issue_names() {
    let diagnostics = lint(&policy(AS_PUBLISHED));
    let error_at = |fragment: &str, line: usize| {
        diagnostics.iter().any(|d| {
            d.is_error()
                && d.message.contains(fragment)
                && d.location().is_some_and(|l| l.line == line)
        })
    };
    assert!(error_at("rules outside any layer", 2));
    assert!(error_at(
        "`server.certificate.hostname` is compared with the string `ByPassWindowsUpdate`",
        2
    ));
    assert!(error_at(
        "over-broad TLS bypass: every host name that contains \"microsoft\"",
        3
    ));
    assert!(error_at(
        "condition `ByPassWindowsUpdate` is defined empty",
        12
    ));
    assert!(error_at("malformed token `Allow\"Microsoft Update\"`", 9));
    let coverage = diagnostics.last().unwrap();
    assert!(
        coverage.message.contains("misses 5 of 15 host patterns"),
        "{coverage:?}"
    );
    for pattern in [
        "*.windowsupdate.com",
        "ctldl.windowsupdate.com",
        "wustat.windows.com",
    ] {
        assert!(
            coverage.notes.iter().any(|n| n.contains(pattern)),
            "{pattern}: {:?}",
            coverage.notes
        );
    }
    assert!(
        coverage.notes.len() <= 4,
        "one short diagnostic: {coverage:?}"
    );
}

#[test]
fn explain_of_the_article_for_an_update_service_over_tls() {
    let explanation = explain(
        &policy(AS_PUBLISHED),
        "https://fe2.update.microsoft.com/v6/ClientWebService/client.asmx",
    )
    .unwrap();
    assert_eq!(explanation.value(Decision::SslForwardProxy), "no");
    assert_eq!(explanation.value(Decision::Authenticate), "no");
    assert!(!explanation.is_set(Decision::Authenticate));
    assert_golden(
        "explain-kb166719-as-published-fe2.update.microsoft.com.txt",
        &explanation.to_string(),
    );
}

#[test]
fn explain_of_the_article_for_a_download_over_http() {
    let explanation = explain(
        &policy(AS_PUBLISHED),
        "http://download.windowsupdate.com/d/msdownload/update/software/secu/kb5034441.cab",
    )
    .unwrap();
    assert_eq!(explanation.matched_rules().count(), 0);
    assert_golden(
        "explain-kb166719-as-published-download.windowsupdate.com.txt",
        &explanation.to_string(),
    );
}

#[test]
fn lint_of_the_corrected_policy_is_clean() {
    let policy = policy(CORRECTED);
    let diagnostics = lint(&policy);
    assert!(diagnostics.is_empty(), "{}", lint_report(&policy));
    assert_golden("lint-windows-update-corrected.txt", &lint_report(&policy));
}

#[test]
fn explain_of_the_corrected_policy_for_a_deep_delivery_name() {
    let explanation = explain(
        &policy(CORRECTED),
        "https://7.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/0a1b2c3d?P1=1700000000",
    )
    .unwrap();
    for decision in Decision::BYPASS {
        assert!(
            decision.is_bypass(explanation.value(decision)),
            "{decision} = {}",
            explanation.value(decision)
        );
    }
    assert_eq!(explanation.matched_rules().count(), 3);
    assert_golden(
        "explain-windows-update-corrected-7.tlu.dl.delivery.mp.microsoft.com.txt",
        &explanation.to_string(),
    );
}

#[test]
fn explain_of_the_corrected_policy_for_a_control_host() {
    let explanation = explain(&policy(CORRECTED), "https://www.example.com/").unwrap();
    for decision in Decision::BYPASS {
        assert!(!explanation.is_set(decision), "{decision}");
        assert_eq!(
            explanation.value(decision),
            decision.cpl_default(),
            "{decision}"
        );
    }
    assert_golden(
        "explain-windows-update-corrected-www.example.com.txt",
        &explanation.to_string(),
    );
}

#[test]
fn lint_of_a_policy_missing_one_pattern_names_its_hosts() {
    let policy = policy(ONE_PATTERN_MISSING);
    let diagnostics = lint(&policy);
    assert_eq!(diagnostics.len(), 1, "{}", lint_report(&policy));
    let coverage = &diagnostics[0];
    assert!(coverage.is_error());
    assert!(
        coverage.message.contains("misses 1 of 15 host patterns"),
        "{}",
        coverage.message
    );
    assert_eq!(
        coverage.notes[0],
        "nothing bypassed: *.update.microsoft.com"
    );
    assert!(coverage.help[0].starts_with("add update.microsoft.com to `WindowsUpdate`"));
    assert_golden("lint-one-pattern-missing.txt", &lint_report(&policy));
}

#[test]
fn to_squid_of_the_corrected_policy_makes_the_reference_decisions() {
    let translation = to_squid(&policy(CORRECTED));
    let fragment = &translation.fragment;
    for expected in [
        "acl windows_update dstdomain .windowsupdate.microsoft.com\n",
        "acl windows_update dstdomain .update.microsoft.com\n",
        "acl windows_update dstdomain .windowsupdate.com\n",
        "acl windows_update dstdomain .delivery.mp.microsoft.com\n",
        "acl windows_update dstdomain .emdl.ws.microsoft.com\n",
        "acl lab_users proxy_auth REQUIRED\n",
        "acl blocked_category external lab_categorize\n",
        "http_access allow windows_update\n",
        "http_access deny blocked_category\nhttp_access deny CONNECT !tls_ports\nhttp_access allow lab_users\nhttp_access deny all\n",
        "cache deny windows_update\ncache allow all\n",
        "adaptation_access lab_reqmod deny windows_update\nadaptation_access lab_reqmod allow all\n",
        "adaptation_access lab_respmod deny windows_update\nadaptation_access lab_respmod allow all\n",
        "ssl_bump splice windows_update\nssl_bump bump all\n",
    ] {
        assert!(fragment.contains(expected), "missing {expected:?} in\n{fragment}");
    }
    assert!(
        !fragment.contains("peek"),
        "Windows Update must be spliced at step 1:\n{fragment}"
    );
    let subjects: Vec<&str> = translation
        .untranslated
        .iter()
        .map(|u| u.subject.as_str())
        .collect();
    assert_eq!(subjects, ["pipeline(no)"]);
    let allow = fragment.find("http_access allow windows_update").unwrap();
    let categorise = fragment.find("http_access deny blocked_category").unwrap();
    assert!(
        allow < categorise,
        "Windows Update must pass before the categoriser"
    );
    assert!(fragment.contains("# not translated: pipeline(no)"));
    assert_golden("to-squid-windows-update-corrected.conf", fragment);
}

#[test]
fn to_squid_of_the_article_reproduces_its_faults() {
    let translation = to_squid(&policy(AS_PUBLISHED));
    let fragment = &translation.fragment;
    assert!(fragment.contains("acl tls_bypass_after_peek_regex dstdom_regex -i microsoft\n"));
    assert!(fragment.contains("ssl_bump peek step1\n"));
    assert!(!fragment.contains("http_access allow windows_update"));
    assert!(!fragment.contains("cache deny"));
    assert!(fragment.contains(
        "# webpulse.categorize.mode: no host is exempt\nhttp_access deny blocked_category\n"
    ));
    assert_golden("to-squid-kb166719-as-published.conf", fragment);
}
