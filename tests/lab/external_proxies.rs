//! External mode proven on proxies configured the way their users configure them: each is
//! started here as an ordinary container on a Docker network of its own, resolving through
//! the harness's DNS server, and put under test with `run --proxy … --expose GATEWAY`:
//!
//! - Squid with a complete, ordinary `squid.conf` implementing the Windows Update bypass
//!   (`policies/external/squid-wu-bypass.conf`): passes;
//! - the same with one fault, TLS bumped for update hosts (`squid-wu-bumped.conf`): fails @tls;
//! - mitmproxy (intercepts every TLS connection): fails @tls, its @tls controls pass;
//! - tinyproxy (no authentication, cache, ICAP or interception): the bypass checks hold, their
//!   controls fail: inconclusive per property, never a pass.
//!
//! The proxies are started by `common::external_proxy`. The harness listens on the network's
//! gateway address (CI runs as root: ports 53, 80, 443).

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::external_proxy::{ensure, external_squid, ProxyUnderTest, Put, PASSWORD, USER};
use conformance_lab::{
    EXTERNAL_SQUID_BUMPED_CONF, EXTERNAL_SQUID_BYPASS_CONF, MITMPROXY_CA_FILE, MITMPROXY_IMAGE,
    MITMPROXY_PORT, MITMPROXY_READY_LINE, MITMPROXY_UPSTREAM_CA_FILE, TINYPROXY_CONF,
    TINYPROXY_CONF_FILE, TINYPROXY_IMAGE, TINYPROXY_PORT, TINYPROXY_READY_LINE,
};
use lab_certs::LabPki;

const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");
/// What each run selects: small enough for CI, and every @tls and @auth check with controls.
const TAGS: &str = "@tls or @auth";
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// One proxy at a time: each runs the harness on a 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

impl ProxyUnderTest {
    /// `run --proxy http://127.0.0.1:PORT --expose GATEWAY …`, bounded by [`RUN_TIMEOUT`].
    fn run_suite(&self, tags: &str, credentials: bool, html: &Path) -> Output {
        let mut args = vec![
            "run".to_owned(),
            "--proxy".into(),
            format!("http://127.0.0.1:{}", self.port),
            "--expose".into(),
            self.gateway.clone(),
            "--state-dir".into(),
            self.state.path().display().to_string(),
            "--tags".into(),
            tags.into(),
            "--html".into(),
            html.display().to_string(),
        ];
        if credentials {
            args.extend(["--proxy-user".into(), format!("{USER}:{PASSWORD}")]);
        }
        if let Some(ca) = &self.interception_ca {
            args.extend(["--proxy-ca".into(), ca.display().to_string()]);
        }
        let child = Command::new(BIN)
            .args(&args)
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // Reading both pipes while it runs (wait_with_output) keeps a verbose run from
        // blocking on a full pipe; a watchdog bounds it by RUN_TIMEOUT (SIGTERM: the harness
        // removes its side and exits 143).
        let (finished, watched) = std::sync::mpsc::channel::<()>();
        let pid = child.id().to_string();
        let watchdog = std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                watched.recv_timeout(RUN_TIMEOUT)
            {
                let _ = Command::new("kill").arg(pid).status();
            }
        });
        let output = child.wait_with_output().expect("the run's output");
        let _ = finished.send(());
        let _ = watchdog.join();
        output
    }
}

/// Everything the run printed: its report (stdout), then progress and diagnostics (stderr).
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The verdict line of `property` (e.g. `@tls`) in the run's report.
fn verdict_of(output: &Output, property: &str) -> String {
    let text = printed(output);
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{property} ")))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned())
        .unwrap_or_else(|| panic!("no verdict line for {property}:\n{text}"))
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}; output:\n{}",
        printed(output)
    );
}

/// Failed scenarios that are controls, from the console's `FAILED location tags` lines.
fn failed_controls(output: &Output) -> Vec<String> {
    printed(output)
        .lines()
        .filter(|l| l.starts_with("FAILED ") && l.contains("@control"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_ordinary_squid_with_the_windows_update_bypass_passes() {
    let _turn = turn();
    let proxy = external_squid("squid-bypass", EXTERNAL_SQUID_BYPASS_CONF);
    let html = proxy.state.path().join("report.html");
    let output = proxy.run_suite(TAGS, true, &html);
    assert_exit(&output, 0);
    assert_eq!(verdict_of(&output, "@tls"), "PASS");
    assert_eq!(verdict_of(&output, "@auth"), "PASS");
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(page.contains("Vantage points"), "no vantage section");
    assert!(page.contains("external proxy at http://127.0.0.1:"));
}

#[test]
fn the_same_squid_bumping_update_hosts_fails_tls() {
    let _turn = turn();
    let proxy = external_squid("squid-bumped", EXTERNAL_SQUID_BUMPED_CONF);
    let html = proxy.state.path().join("report.html");
    let output = proxy.run_suite(TAGS, true, &html);
    assert_exit(&output, 4);
    assert_eq!(verdict_of(&output, "@tls"), "FAIL");
    assert_eq!(verdict_of(&output, "@auth"), "PASS");
    assert!(
        failed_controls(&output).is_empty(),
        "a control failed:\n{}",
        printed(&output)
    );
}

#[test]
fn mitmproxy_intercepting_everything_fails_tls_and_its_controls_pass() {
    let _turn = turn();
    ensure(MITMPROXY_IMAGE);
    let interception = LabPki::generate(&["unused.example".to_owned()])
        .expect("a PKI")
        .interception_ca;
    let key_and_cert = format!("{}{}", interception.key_pem(), interception.cert_pem());
    let mut proxy = ProxyUnderTest::start(
        "mitmproxy",
        MITMPROXY_IMAGE,
        MITMPROXY_PORT,
        &[],
        |_, origin_ca| {
            vec![
                Put {
                    path: MITMPROXY_CA_FILE.into(),
                    bytes: key_and_cert.into_bytes(),
                },
                Put {
                    path: MITMPROXY_UPSTREAM_CA_FILE.into(),
                    bytes: origin_ca.cert_pem().into(),
                },
            ]
        },
        MITMPROXY_READY_LINE,
    );
    proxy.with_interception_ca(&interception);
    let html = proxy.state.path().join("report.html");
    // mitmproxy asks for no credentials and ignores them: the control that sends them is
    // judged on its certificate.
    let output = proxy.run_suite("@tls", true, &html);
    assert_exit(&output, 4);
    assert_eq!(verdict_of(&output, "@tls"), "FAIL");
    // Scenarios that check @tls and @auth together pull in the @auth controls too; mitmproxy
    // asks nobody for credentials, so those fail: only the @tls controls must pass.
    let tls_controls: Vec<String> = failed_controls(&output)
        .into_iter()
        .filter(|line| line.contains("@tls"))
        .collect();
    assert!(
        tls_controls.is_empty(),
        "a control failed:\n{}",
        printed(&output)
    );
}

#[test]
fn tinyproxy_holds_the_bypass_but_fails_its_controls_inconclusive() {
    let _turn = turn();
    ensure(TINYPROXY_IMAGE);
    let proxy = ProxyUnderTest::start(
        "tinyproxy",
        TINYPROXY_IMAGE,
        TINYPROXY_PORT,
        &[],
        |_, _| {
            vec![Put {
                path: TINYPROXY_CONF_FILE.into(),
                bytes: TINYPROXY_CONF.into(),
            }]
        },
        TINYPROXY_READY_LINE,
    );
    let html = proxy.state.path().join("report.html");
    let output = proxy.run_suite(TAGS, true, &html);
    assert_exit(&output, 5);
    for property in ["@tls", "@auth"] {
        assert_eq!(verdict_of(&output, property), "INCONCLUSIVE");
    }
    // Every update-host check held; only what must be policed (controls, look-alikes) failed.
    let text = printed(&output);
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAILED ")).collect();
    assert!(!failed.is_empty(), "{text}");
    assert!(
        failed
            .iter()
            .all(|l| l.contains("@control") || l.contains("@look-alike")),
        "an update-host check failed:\n{text}"
    );
}

#[test]
fn nothing_listening_fails_in_seconds_with_one_sentence() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let started = Instant::now();
    let output = Command::new(BIN)
        .args([
            "run",
            "--proxy",
            &format!("http://127.0.0.1:{port}"),
            "--expose",
            "127.0.0.1",
        ])
        .env("CI", "true")
        .output()
        .expect("the binary runs");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&output, 3);
    let text = printed(&output);
    let error: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("proxy-conformance: "))
        .collect();
    assert_eq!(error.len(), 1, "{text}");
    assert!(
        error[0].contains(&format!("127.0.0.1:{port} cannot be reached")),
        "{text}"
    );
}
