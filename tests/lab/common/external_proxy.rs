//! External proxies as their users run them, for the tests that put one under test: an
//! ordinary container on a Docker network of its own, resolving through the harness's DNS
//! server at the network's gateway, its port published on loopback, with the origin CA the
//! harness will serve with already in a state directory. The images are built from Debian
//! packages on first use (the lab's own `ensure`). The network and container are removed on
//! drop (`DEBUG_KEEP=1` keeps them for a person to inspect, and then they must be removed by
//! hand).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use conformance_lab::{
    DebianImage, DockerEngine, LogStream, ReadyLine, EXTERNAL_SQUID_COMMAND, EXTERNAL_SQUID_DIR,
    EXTERNAL_SQUID_PORT, EXTERNAL_SQUID_READY_LINE, SQUID_5_7_IMAGE as SQUID_IMAGE,
};
use lab_certs::{CertificateAuthority, LabPki};

pub const CATEGORIZE_HELPER: &str = include_str!("../../../lab/helpers/lab_categorize.pl");
/// Label of every lab container and network; its value is the owning process (CI checks that
/// none outlives its process).
pub const LAB_LABEL: &str = "io.proxy-conformance.lab-pid";
pub const USER: &str = "wu-admin";
/// Eight characters at most: basic_ncsa_auth with DES crypt accepts no longer password.
pub const PASSWORD: &str = "stg-pass";
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker command runs")
}

pub fn docker_ok(args: &[&str]) -> String {
    let output = docker(args);
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub fn ensure(image: DebianImage) {
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
pub struct ProxyUnderTest {
    pub network: String,
    pub container: String,
    pub gateway: String,
    pub port: u16,
    pub state: tempfile::TempDir,
    pub interception_ca: Option<PathBuf>,
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
pub struct Put {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl ProxyUnderTest {
    /// Creates the network, the origin CA the harness will serve with (kept in its state
    /// directory, so the proxy can trust it before the harness starts) and the container.
    pub fn start(
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
    pub fn wait_for(&self, ready: ReadyLine) {
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
    pub fn with_interception_ca(&mut self, ca: &CertificateAuthority) {
        let path = self.state.path().join("proxy-ca.pem");
        std::fs::write(&path, ca.cert_pem()).unwrap();
        self.interception_ca = Some(path);
    }
}

/// The files of an ordinary Squid configuration (see `policies/external/README.md`).
pub fn squid_files<'a>(
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
pub fn squid_command() -> Vec<String> {
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
pub fn external_squid(name: &str, conf: &'static str) -> ProxyUnderTest {
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
