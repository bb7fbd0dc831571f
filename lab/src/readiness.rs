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
