//! Is the harness's origin the bottleneck of a load run? The same ranged workload — keep-alive
//! connections each fetching 1 MiB-aligned pieces of a set of update files, as Delivery
//! Optimization does — served by the harness's `UpdateOrigin` (payloads generated while
//! streamed) and by nginx (the same bytes from disk, sendfile), side by side in one run, on
//! loopback only.
//!
//! `cargo bench -p conformance-load --bench origin_vs_nginx` (nginx from Debian: `apt-get
//! install nginx-light`; without it only the origin is measured). `BENCH_SECONDS` (default 5)
//! and `BENCH_CONNECTIONS` (default 32) tune it.
//!
//! Hand-written rather than criterion: this measures the aggregate throughput of many
//! concurrent connections for a fixed time, not the latency of one call in a loop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use mock_servers::{HostScope, Payload, ScriptedEndpoints, UpdateOrigin};

const FILES: usize = 16;
const FILE_SIZE: u64 = 4 << 20;
const PIECE: u64 = 1 << 20;
/// Every connection stops after this many requests even if time remains.
const MAX_REQUESTS_PER_CONNECTION: u64 = 100_000;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn path_of(index: usize) -> String {
    format!("/bench/windows10.0-kb50{index:05}-x64.cab")
}

struct Measured {
    requests: u64,
    bytes: u64,
    seconds: f64,
    errors: u64,
}

impl Measured {
    fn mib_s(&self) -> f64 {
        self.bytes as f64 / (1 << 20) as f64 / self.seconds
    }
}

/// `connections` keep-alive connections to `server`, each asking for pieces in turn.
async fn drive(server: SocketAddr, connections: u64, seconds: u64) -> Measured {
    let bytes = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for connection in 0..connections {
        let (bytes, requests, errors) = (bytes.clone(), requests.clone(), errors.clone());
        tasks.spawn(async move {
            let Ok(stream) = tokio::net::TcpStream::connect(server).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut sender, conn)) =
                hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
                    .await
            else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            tokio::spawn(conn);
            let pieces = FILE_SIZE / PIECE;
            for n in 0..MAX_REQUESTS_PER_CONNECTION {
                if Instant::now() >= deadline {
                    break;
                }
                let file = (connection + n / pieces) as usize % FILES;
                let first = (n % pieces) * PIECE;
                let request = Request::get(path_of(file))
                    .header("host", "download.windowsupdate.com")
                    .header("range", format!("bytes={first}-{}", first + PIECE - 1))
                    .header("user-agent", "Microsoft-Delivery-Optimization/10.0")
                    .body(Empty::new())
                    .expect("a valid request");
                let Ok(response) = sender.send_request(request).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                if response.status() != 206 {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                let mut body = response.into_body();
                while let Some(Ok(frame)) = body.frame().await {
                    if let Ok(data) = frame.into_data() {
                        bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                    }
                }
                requests.fetch_add(1, Ordering::Relaxed);
                if sender.ready().await.is_err() {
                    break;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Measured {
        requests: requests.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// nginx serving `root` on a free loopback port; killed when dropped.
struct Nginx {
    child: Child,
    address: SocketAddr,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

async fn start_nginx(binary: &Path, dir: &Path) -> Result<Nginx, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nworker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;\n\
           client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;\n\
           uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;\n\
           server {{ listen 127.0.0.1:{port}; root {d}/www; }} }}\n"
    );
    std::fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
    let child = Command::new(binary)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let address: SocketAddr = ([127, 0, 0, 1], port).into();
    let nginx = Nginx { child, address };
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(nginx);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "nginx did not listen on {address} within 5 s (see {d}/error.log)"
    ))
}

fn write_files(www: &Path, payloads: &[Payload]) -> std::io::Result<()> {
    use std::io::Write as _;
    for (index, payload) in payloads.iter().enumerate() {
        let path = www.join(path_of(index).trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0;
        while offset < payload.size() {
            let take = (payload.size() - offset).min(buf.len() as u64) as usize;
            payload.fill(offset, &mut buf[..take]);
            file.write_all(&buf[..take])?;
            offset += take as u64;
        }
    }
    Ok(())
}

fn report(name: &str, m: &Measured) {
    println!(
        "{name:<22} {:>8} requests {:>9.1} MiB/s {:>4} errors ({:.1} s)",
        m.requests,
        m.mib_s(),
        m.errors,
        m.seconds
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let seconds = env_number("BENCH_SECONDS", 5).clamp(1, 120);
    let connections = env_number("BENCH_CONNECTIONS", 32).clamp(1, 1024);
    let pki =
        lab_certs::LabPki::generate(&["download.windowsupdate.com".to_owned()]).expect("lab PKI");
    let scripted = ScriptedEndpoints::start()
        .await
        .expect("scripted endpoints");
    let origin = UpdateOrigin::start(&pki.origin_leaf, scripted)
        .await
        .expect("the origin");
    let payloads: Vec<Payload> = (0..FILES)
        .map(|i| {
            origin
                .files()
                .add(HostScope::AnyHost, &path_of(i), FILE_SIZE)
                .expect("a catalogued file")
                .payload()
        })
        .collect();
    println!(
        "ranged workload: {connections} keep-alive connections, 1 MiB pieces of {FILES} files of \
         {} MiB, {seconds} s per server, loopback",
        FILE_SIZE >> 20
    );
    let harness = drive(
        ([127, 0, 0, 1], origin.http_port()).into(),
        connections,
        seconds,
    )
    .await;
    report("harness UpdateOrigin", &harness);

    let Some(binary) = nginx_binary() else {
        println!("nginx: not installed (apt-get install nginx-light); origin measured alone");
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("load-bench-nginx-")
        .tempdir()
        .expect("a temporary folder");
    let www = dir.path().join("www");
    write_files(&www, &payloads).expect("the files on disk");
    // nginx's workers may run as another user: let them read the files.
    for path in [dir.path(), www.as_path()] {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
    let _ = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&www)
        .status();
    let nginx = match start_nginx(&binary, dir.path()).await {
        Ok(nginx) => nginx,
        Err(error) => {
            println!("nginx: {error}");
            return;
        }
    };
    let reference = drive(nginx.address, connections, seconds).await;
    report("nginx (sendfile)", &reference);
    drop(nginx);
    if reference.bytes > 0 {
        println!(
            "ratio harness/nginx: {:.2} (throughput of the same ranged workload)",
            harness.mib_s() / reference.mib_s()
        );
    }
}
