//! Fault injection: a fault of the lab is never a verdict about the policy. Each run below
//! breaks one part of the lab while the reference policy's scenarios run — the proxy's
//! container killed or restarted with Docker (as an operator or a loaded CI machine would), the
//! ICAP recorder or the categoriser made unresponsive, the origin resetting connections
//! (through `PROXY_CONFORMANCE_INJECT_FAULT`, the lab's test-only seam) — and must end with
//! exit 3 and one last line naming what failed and when, never exit 4 or property advice, with
//! every report saying so; the same run on a healthy lab passes. In external mode, the proxy
//! under test (an ordinary Squid) killed mid-run ends the same way. Every run leaves no
//! container, network or process behind. The runs are small (a few seconds each) and run
//! concurrently.

#[path = "lab/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");
/// A subset that runs for a few seconds at this concurrency on a healthy lab and that uses
/// every in-process server.
const TAGS: &str = "@icap or @categorize";
const CONCURRENCY: &str = "2";
const LAB_LABEL: &str = "io.proxy-conformance.lab-pid";

/// How the lab is broken in one run.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    /// `docker kill` of the proxy's container, this long after the lab is ready.
    KillProxy(Duration),
    /// `docker restart` of the proxy's container.
    RestartProxy(Duration),
    /// The lab's own seam: `KIND@SECONDS` after the lab is ready.
    Injected(&'static str),
}

struct Run {
    fault: Fault,
    code: Option<i32>,
    /// The report (stdout): its last line is the verdict.
    report: String,
    /// Progress and notes (stderr).
    stderr: String,
    pid: u32,
    reports: tempfile::TempDir,
}

fn run_with(fault: Fault) -> Run {
    let reports = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| reports.path().join(name).to_string_lossy().into_owned();
    let mut command = Command::new(BIN);
    command
        .args(["run", "--tags", TAGS, "--concurrency", CONCURRENCY])
        .args(["--junit", &path("junit.xml")])
        .args(["--cucumber-json", &path("cucumber.json")])
        .args(["--html", &path("report.html")])
        .env("CI", "true")
        .env_remove(conformance_lab::INJECT_FAULT_ENV)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Fault::Injected(kind) = fault {
        command.env(conformance_lab::INJECT_FAULT_ENV, kind);
    }
    let mut child = command.spawn().expect("the binary runs");
    let pid = child.id();
    let report = read_all(child.stdout.take().expect("piped stdout"));
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        seen.push_str(&line);
        let ready = line.contains("lab: ready");
        line.clear();
        if ready {
            break;
        }
    }
    // The command's own outcome is not checked: once the lab's watch sees the container go
    // down the run ends and removes the lab, which may be before `docker restart` is done.
    let docker = |args: &[&str], after: Duration| {
        std::thread::sleep(after);
        let name = proxy_container(pid).expect("the lab's proxy container is running");
        let _ = Command::new("docker")
            .args(args)
            .arg(&name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    match fault {
        Fault::KillProxy(after) => docker(&["kill"], after),
        Fault::RestartProxy(after) => docker(&["restart", "-t", "1"], after),
        Fault::None | Fault::Injected(_) => {}
    }
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    let status = child.wait().expect("the binary exits");
    Run {
        fault,
        code: status.code(),
        report: report.join().expect("the report is read"),
        stderr: seen + &rest,
        pid,
        reports,
    }
}

/// Reads a pipe to its end on a thread of its own (a full pipe must not stall the run).
fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The name of the proxy container of the lab that process `pid` started.
fn proxy_container(pid: u32) -> Option<String> {
    let output = Command::new("docker")
        .args(["ps", "--format", "{{.Names}}", "--filter"])
        .arg(format!("label={LAB_LABEL}={pid}"))
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|name| name.ends_with("-proxy"))
        .map(str::to_owned)
}

/// What the run left behind: containers and networks labelled with its pid, or the process.
fn left_behind(pid: u32) -> Vec<String> {
    let mut left = Vec::new();
    for what in [&["ps", "-aq"][..], &["network", "ls", "-q"][..]] {
        let output = Command::new("docker")
            .args(what)
            .arg("--filter")
            .arg(format!("label={LAB_LABEL}={pid}"))
            .output()
            .expect("docker runs");
        if !output.stdout.is_empty() {
            left.push(format!(
                "docker {what:?}: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            ));
        }
    }
    if Path::new(&format!("/proc/{pid}")).exists() {
        left.push(format!("process {pid}"));
    }
    left
}

/// Checks one run ended as its fault should; returns what is wrong.
fn problems(run: &Run, expected_first_fault: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let last = run.report.lines().last().unwrap_or_default();
    let read = |name: &str| std::fs::read_to_string(run.reports.path().join(name));
    match expected_first_fault {
        None => {
            if run.code != Some(0) {
                problems.push(format!("a healthy lab must pass: exit {:?}", run.code));
            }
            if !last.starts_with("PASS: ") || run.report.contains("LAB FAULT") {
                problems.push(format!("a healthy lab must judge as before: {last}"));
            }
        }
        Some(first) => {
            if run.code != Some(3) {
                problems.push(format!("expected exit 3 (lab fault), got {:?}", run.code));
            }
            let expected = format!("LAB FAULT: {first}");
            if !last.starts_with(&expected) || !last.contains(" s after the lab was ready (") {
                problems.push(format!(
                    "the last line must name what failed and when ({expected:?}…): {last}"
                ));
            }
            for policy_words in ["FAILED ", "RUN-WIDE ", "→ ", "FAIL: "] {
                if run.report.contains(policy_words) {
                    problems.push(format!(
                        "a lab fault read as a policy verdict ({policy_words:?} in the output)"
                    ));
                }
            }
            if !run.report.contains("not judged because of the lab") {
                problems.push("no scenario is reported as not judged because of the lab".into());
            }
            match read("junit.xml") {
                Ok(xml) if xml.contains("<error type=\"lab-fault\" message=\"LAB FAULT: ") => {
                    if xml.contains("<failure") {
                        problems.push("JUnit still holds a test failure".into());
                    }
                }
                other => problems.push(format!("JUnit does not show the lab fault: {other:?}")),
            }
            match read("cucumber.json") {
                Ok(json) if json.contains("\"name\": \"lab health\"") => {}
                other => problems.push(format!(
                    "Cucumber JSON does not show the lab fault: {:?}",
                    other.map(|j| j.len())
                )),
            }
            match read("report.html") {
                Ok(html) if html.contains("Lab fault: no verdict about the policy") => {}
                _ => problems.push("the HTML report does not show the lab fault".into()),
            }
        }
    }
    let left = left_behind(run.pid);
    if !left.is_empty() {
        problems.push(format!("left behind: {left:?}"));
    }
    problems
        .into_iter()
        .map(|p| format!("{:?}: {p}", run.fault))
        .collect()
}

#[test]
fn an_external_proxy_that_stops_answering_is_a_lab_fault() {
    use common::external_proxy::{external_squid, PASSWORD, USER};
    let proxy = external_squid("lab-fault", conformance_lab::EXTERNAL_SQUID_BYPASS_CONF);
    let mut args = vec![
        "run".to_owned(),
        "--proxy".into(),
        format!("http://127.0.0.1:{}", proxy.port),
        "--expose".into(),
        proxy.gateway.clone(),
        "--state-dir".into(),
        proxy.state.path().display().to_string(),
        "--tags".into(),
        "@tls or @auth".into(),
        "--concurrency".into(),
        CONCURRENCY.into(),
        "--proxy-user".into(),
        format!("{USER}:{PASSWORD}"),
    ];
    if let Some(ca) = &proxy.interception_ca {
        args.extend(["--proxy-ca".into(), ca.display().to_string()]);
    }
    let mut child = Command::new(BIN)
        .args(&args)
        .env("CI", "true")
        .env_remove(conformance_lab::INJECT_FAULT_ENV)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let report = read_all(child.stdout.take().expect("piped stdout"));
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut seen = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        seen.push_str(&line);
        let ready = line.contains("lab: ready");
        line.clear();
        if ready {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("docker")
        .args(["kill", &proxy.container])
        .stdout(Stdio::null())
        .status()
        .expect("docker runs");
    assert!(killed.success(), "docker kill {}", proxy.container);
    let _ = stderr.read_to_string(&mut seen);
    let status = child.wait().expect("the binary exits");
    let report = report.join().expect("the report is read");
    let last = report.lines().last().unwrap_or_default();
    assert_eq!(status.code(), Some(3), "{seen}{report}");
    assert!(
        last.starts_with("LAB FAULT: the proxy under test failed a health probe"),
        "{seen}{report}"
    );
    assert!(!report.contains("FAILED "), "{seen}{report}");
    assert_eq!(left_behind(pid), Vec::<String>::new());
}

#[test]
fn every_lab_fault_ends_as_a_lab_fault_and_leaves_nothing_behind() {
    let cases: [(Fault, Option<&str>); 6] = [
        (Fault::None, None),
        (
            Fault::KillProxy(Duration::from_millis(300)),
            Some("the proxy under test's container was killed (signal 9)"),
        ),
        (
            Fault::RestartProxy(Duration::from_millis(300)),
            Some("the proxy under test's container was killed (signal 15)"),
        ),
        (
            Fault::Injected("icap-unresponsive@0.3"),
            Some("the ICAP recorder did not answer a health probe"),
        ),
        (
            Fault::Injected("categorizer-unresponsive@0.3"),
            Some("the categorisation service did not answer a health probe"),
        ),
        (
            Fault::Injected("origin-reset@0.3"),
            Some("the update origin failed a health probe"),
        ),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|(fault, expected)| {
            let fault = *fault;
            let expected = expected.map(str::to_owned);
            std::thread::spawn(move || {
                let run = run_with(fault);
                let problems = problems(&run, expected.as_deref());
                (run, problems)
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in runs {
        let (run, problems) = handle.join().expect("a run thread");
        if !problems.is_empty() {
            all.extend(problems);
            all.push(format!("its output:\n{}{}", run.stderr, run.report));
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}
