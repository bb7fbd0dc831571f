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
//! The images are built from Debian packages on first use (the lab's own `ensure`). The harness
//! listens on the network's gateway address (CI runs as root: ports 53, 80, 443). Every
//! container and network is removed whatever happens (a guard's `Drop`; `DEBUG_KEEP=1` keeps
//! them for a person to inspect, and then they must be removed by hand).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use conformance_lab::{
    DebianImage, DockerEngine, LogStream, ReadyLine, EXTERNAL_SQUID_BUMPED_CONF,
    EXTERNAL_SQUID_BYPASS_CONF, EXTERNAL_SQUID_COMMAND, EXTERNAL_SQUID_DIR, EXTERNAL_SQUID_PORT,
    EXTERNAL_SQUID_READY_LINE, MITMPROXY_CA_FILE, MITMPROXY_IMAGE, MITMPROXY_PORT,
    MITMPROXY_READY_LINE, MITMPROXY_UPSTREAM_CA_FILE, SQUID_IMAGE, TINYPROXY_CONF,
    TINYPROXY_CONF_FILE, TINYPROXY_IMAGE, TINYPROXY_PORT, TINYPROXY_READY_LINE,
};
use lab_certs::{CertificateAuthority, LabPki};

const BIN: &str = env!("CARGO_BIN_EXE_proxy-conformance");
const CATEGORIZE_HELPER: &str = include_str!("../lab/helpers/lab_categorize.pl");
/// Label of every lab container and network; its value is the owning process (CI checks that
/// none outlives its process).
const LAB_LABEL: &str = "io.proxy-conformance.lab-pid";
const USER: &str = "wu-admin";
/// Eight characters at most: basic_ncsa_auth with DES crypt accepts no longer password.
const PASSWORD: &str = "stg-pass";
/// What each run selects: small enough for CI, and every @tls and @auth check with controls.
const TAGS: &str = "@tls or @auth";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// One proxy at a time: each runs the harness on a 2-core machine.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker command runs")
}

fn docker_ok(args: &[&str]) -> String {
    let output = docker(args);
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn ensure(image: DebianImage) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let engine = DockerEngine::connect().await.expect("Docker is reachable");
            image.ensure(&engine).await.expect("the image builds");
        });
}

/// A Docker network and the proxy container on it; both removed on drop.
struct ProxyUnderTest {
    network: String,
    container: String,
    gateway: String,
    port: u16,
    state: tempfile::TempDir,
    interception_ca: Option<PathBuf>,
}

impl Drop for ProxyUnderTest {
    fn drop(&mut self) {
        if std::env::var_os("DEBUG_KEEP").is_some() {
            return;
        }
        if !self.container.is_empty() {
            let _ = docker(&["rm", "-f", "-v", &self.container]);
        }
        let _ = docker(&["network", "rm", &self.network]);
    }
}

/// A file to copy into the container before it starts.
struct Put {
    path: String,
    bytes: Vec<u8>,
}

impl ProxyUnderTest {
    /// Creates the network, the origin CA the harness will serve with (kept in its state
    /// directory, so the proxy can trust it before the harness starts) and the container.
    fn start(
        name: &str,
        image: DebianImage,
        port: u16,
        command: &[&str],
        files: impl FnOnce(&Self, &CertificateAuthority) -> Vec<Put>,
        ready: ReadyLine,
    ) -> Self {
        let pid = std::process::id().to_string();
        let network = format!("proxy-conformance-ext-{name}-{pid}");
        let _ = docker(&["network", "rm", &network]);
        docker_ok(&[
            "network",
            "create",
            "--label",
            &format!("{LAB_LABEL}={pid}"),
            &network,
        ]);
        let mut proxy = Self {
            gateway: String::new(),
            network,
            container: String::new(),
            port: 0,
            state: tempfile::Builder::new()
                .prefix("proxy-conformance-ext-")
                .tempdir()
                .expect("a temporary directory"),
            interception_ca: None,
        };
        proxy.gateway = docker_ok(&[
            "network",
            "inspect",
            "-f",
            "{{(index .IPAM.Config 0).Gateway}}",
            &proxy.network,
        ]);
        let origin_ca = LabPki::new_origin_ca().expect("an origin CA");
        std::fs::write(
            proxy.state.path().join("origin-ca.pem"),
            origin_ca.cert_pem(),
        )
        .unwrap();
        std::fs::write(
            proxy.state.path().join("origin-ca.key"),
            origin_ca.key_pem(),
        )
        .unwrap();
        let container = format!("{}-proxy", proxy.network);
        let mut create = vec![
            "create".to_owned(),
            "--name".into(),
            container.clone(),
            "--network".into(),
            proxy.network.clone(),
            "--dns".into(),
            proxy.gateway.clone(),
            "--label".into(),
            format!("{LAB_LABEL}={pid}"),
            "-p".into(),
            format!("127.0.0.1::{port}"),
            image.reference(),
        ];
        create.extend(command.iter().map(|s| (*s).to_owned()));
        let create: Vec<&str> = create.iter().map(String::as_str).collect();
        docker_ok(&create);
        proxy.container = container;
        // Each file's folder is staged whole and copied into its parent, so a folder the
        // image does not have (Squid's `external/`) is created.
        let mut folders: Vec<(PathBuf, PathBuf)> = Vec::new();
        for (index, put) in files(&proxy, &origin_ca).into_iter().enumerate() {
            let target = Path::new(&put.path);
            let folder = target.parent().expect("an absolute path").to_owned();
            let staged = match folders.iter().find(|(f, _)| *f == folder) {
                Some((_, staged)) => staged.clone(),
                None => {
                    let staged = proxy
                        .state
                        .path()
                        .join(format!("stage-{index}"))
                        .join(folder.file_name().expect("a folder name"));
                    std::fs::create_dir_all(&staged).unwrap();
                    folders.push((folder, staged.clone()));
                    staged
                }
            };
            std::fs::write(staged.join(target.file_name().unwrap()), &put.bytes).unwrap();
        }
        for (folder, staged) in &folders {
            docker_ok(&[
                "cp",
                staged.to_str().unwrap(),
                &format!(
                    "{}:{}/",
                    proxy.container,
                    folder.parent().expect("a parent").display()
                ),
            ]);
        }
        docker_ok(&["start", &proxy.container]);
        proxy.wait_for(ready);
        let published = docker_ok(&["port", &proxy.container, &format!("{port}/tcp")]);
        proxy.port = published
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no published port in {published:?}"));
        proxy
    }

    /// Follows the container's output until the ready line, bounded by [`READY_TIMEOUT`].
    fn wait_for(&self, ready: ReadyLine) {
        let mut logs = Command::new("docker")
            .args(["logs", "-f", &self.container])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker logs runs");
        let stream: Box<dyn std::io::Read + Send> = match ready.stream {
            LogStream::Stdout => Box::new(logs.stdout.take().unwrap()),
            LogStream::Stderr => Box::new(logs.stderr.take().unwrap()),
        };
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = Vec::new();
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) if line.contains(ready.text) => break Ok(()),
                Ok(line) => seen.push(line),
                Err(_) => break Err(()),
            }
        };
        let _ = logs.kill();
        let _ = logs.wait();
        if outcome.is_err() {
            let all = docker(&["logs", &self.container]);
            panic!(
                "{} did not print {:?} within {READY_TIMEOUT:?}:\n{}{}",
                self.container,
                ready.text,
                String::from_utf8_lossy(&all.stdout),
                String::from_utf8_lossy(&all.stderr)
            );
        }
    }

    /// Writes a PEM file into the state directory and hands it to the harness as the
    /// proxy's interception CA.
    fn with_interception_ca(&mut self, ca: &CertificateAuthority) {
        let path = self.state.path().join("proxy-ca.pem");
        std::fs::write(&path, ca.cert_pem()).unwrap();
        self.interception_ca = Some(path);
    }

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
        let mut child = Command::new(BIN)
            .args(&args)
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let deadline = Instant::now() + RUN_TIMEOUT;
        while child.try_wait().expect("waiting for the run").is_none() {
            if Instant::now() > deadline {
                // SIGTERM: the harness removes its side and exits 143.
                let _ = Command::new("kill").arg(child.id().to_string()).status();
                break;
            }
            // Polls the child's exit (bounded by RUN_TIMEOUT), not a readiness wait.
            std::thread::sleep(Duration::from_millis(100));
        }
        child.wait_with_output().expect("the run's output")
    }
}

/// The run's stderr, and the verdict line of `property` (e.g. `@tls`).
fn verdict_of(output: &Output, property: &str) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{property} ")))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_owned())
        .unwrap_or_else(|| panic!("no verdict line for {property}:\n{text}"))
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}; stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Failed scenarios that are controls, from the console's `FAILED location tags` lines.
fn failed_controls(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.starts_with("FAILED ") && l.contains("@control"))
        .map(str::to_owned)
        .collect()
}

/// The files of an ordinary Squid configuration (see `policies/external/README.md`).
fn squid_files<'a>(
    conf: &'static str,
    interception: &'a CertificateAuthority,
) -> impl FnOnce(&ProxyUnderTest, &CertificateAuthority) -> Vec<Put> + 'a {
    move |proxy, origin_ca| {
        let conf = conf
            .replace("@ICAP_HOST@", &proxy.gateway)
            .replace("@ICAP_PORT@", "1344")
            .replace("@CATEGORIZER_HOST@", &proxy.gateway)
            .replace("@CATEGORIZER_PORT@", "8344")
            .replace("@DNS_ADDR@", &proxy.gateway);
        let file = |name: &str| format!("{EXTERNAL_SQUID_DIR}/{name}");
        vec![
            Put {
                path: file("squid.conf"),
                bytes: conf.into_bytes(),
            },
            Put {
                path: file("proxy-ca.pem"),
                bytes: interception.cert_pem().into(),
            },
            Put {
                path: file("proxy-ca.key"),
                bytes: interception.key_pem().into(),
            },
            Put {
                path: file("upstream-ca.pem"),
                bytes: origin_ca.cert_pem().into(),
            },
            Put {
                path: file("categorize"),
                bytes: CATEGORIZE_HELPER.into(),
            },
        ]
    }
}

/// The Squid image's command for an ordinary configuration: the htpasswd file (crypt, with
/// the image's perl) and the files' modes, then `EXTERNAL_SQUID_COMMAND`'s script.
fn squid_command() -> Vec<String> {
    let start = EXTERNAL_SQUID_COMMAND[2];
    vec![
        "sh".into(),
        "-c".into(),
        format!(
            "mkdir -p {d} && perl -e 'print \"$ARGV[0]:\" . crypt($ARGV[1], \"pc\") . \"\\n\"' {USER} {PASSWORD} > {d}/htpasswd \
             && chown root:proxy {d}/* && chmod 0640 {d}/* && chmod 0750 {d}/categorize && {start}",
            d = EXTERNAL_SQUID_DIR
        ),
    ]
}

/// Squid 5.7 with a complete configuration, under test from outside.
fn external_squid(name: &str, conf: &'static str) -> ProxyUnderTest {
    ensure(SQUID_IMAGE);
    // Squid's certificate generator mimics origins with RSA keys: an RSA interception CA.
    let interception = LabPki::generate(&["unused.example".to_owned()])
        .expect("a PKI")
        .interception_ca;
    let command = squid_command();
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let mut proxy = ProxyUnderTest::start(
        name,
        SQUID_IMAGE,
        EXTERNAL_SQUID_PORT,
        &command,
        squid_files(conf, &interception),
        EXTERNAL_SQUID_READY_LINE,
    );
    proxy.with_interception_ca(&interception);
    proxy
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
        String::from_utf8_lossy(&output.stderr)
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
        String::from_utf8_lossy(&output.stderr)
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
    let text = String::from_utf8_lossy(&output.stderr);
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
    let text = String::from_utf8_lossy(&output.stderr);
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
