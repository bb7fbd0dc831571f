//! Readiness by log line: follows a container's output (the lab's entrypoints send stderr to
//! stdout) until a line decides, never by sleeping.

use std::time::Duration;

use anyhow::{bail, Result};
use testcontainers::{ContainerAsync, GenericImage};
use tokio::io::AsyncBufReadExt;

/// What a log line means for readiness.
pub(crate) enum Verdict {
    Continue,
    Ready,
    Failed,
}

/// Reads the container's output until `judge` says ready or failed; returns all lines read.
/// A failure, an early exit or the timeout is an error carrying those lines.
pub(crate) async fn follow_until(
    container: &ContainerAsync<GenericImage>,
    what: &str,
    timeout: Duration,
    mut judge: impl FnMut(&str) -> Verdict,
) -> Result<Vec<String>> {
    let mut lines = container.stdout(true).lines();
    let mut seen = Vec::new();
    let outcome = tokio::time::timeout(timeout, async {
        while let Some(line) = lines.next_line().await? {
            let verdict = judge(&line);
            seen.push(line);
            match verdict {
                Verdict::Continue => {}
                Verdict::Ready => return Ok(true),
                Verdict::Failed => return Ok(false),
            }
        }
        Ok::<bool, anyhow::Error>(false)
    })
    .await;
    match outcome {
        Ok(Ok(true)) => Ok(seen),
        Ok(Ok(false)) => bail!("{what} did not start:\n{}", seen.join("\n")),
        Ok(Err(error)) => bail!(
            "{what}: reading its output failed: {error:#}\n{}",
            seen.join("\n")
        ),
        Err(_) => bail!(
            "{what} was not ready within {timeout:?}; its output:\n{}",
            seen.join("\n")
        ),
    }
}

/// Probes the proxy through its published port until it answers an HTTP request through to
/// the origin with a whole status line, for at most `timeout`. Squid's ready line is not
/// enough: right after it, connections through Docker's published port were seen closed
/// without an answer (the first requests of the second lab started in one process).
/// Returns the number of attempts it took.
pub(crate) async fn probe_through_proxy(
    proxy: std::net::SocketAddr,
    origin_host: &str,
    timeout: Duration,
) -> Result<u32> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET http://{origin_host}/lab-readiness-probe HTTP/1.1\r\nHost: {origin_host}\r\n\
         User-Agent: {}\r\nConnection: close\r\n\r\n",
        // As every request the harness sends: a policy may refuse requests without one.
        conformance_client::ClientProfile::Bits.user_agent()
    );
    let attempt = || async {
        let mut stream = tokio::net::TcpStream::connect(proxy).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut attempts = 0;
    let mut last = String::new();
    let mut backoff = Duration::from_millis(10);
    while tokio::time::Instant::now() < deadline {
        attempts += 1;
        match tokio::time::timeout(Duration::from_secs(5), attempt()).await {
            Ok(Ok(answer)) if answer.starts_with(b"HTTP/1.1 ") => return Ok(attempts),
            Ok(Ok(answer)) => {
                last = format!(
                    "answered {:?}",
                    String::from_utf8_lossy(&answer[..answer.len().min(80)])
                )
            }
            Ok(Err(error)) => last = error.to_string(),
            Err(_) => last = "no answer within 5 s".into(),
        }
        // Bounded retry of a probe, not a wait for time to pass.
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_millis(250));
    }
    bail!("the proxy at {proxy} did not answer an HTTP request within {timeout:?} ({attempts} attempts; last: {last})")
}
