//! The lab's Squid image: pinned name and tag, built from Debian packages by
//! `image/build-squid-image.sh` when the engine does not have it (no registry is needed).

use anyhow::{bail, Context, Result};
use tokio::process::Command;

use crate::docker::DockerEngine;

pub const SQUID_IMAGE_NAME: &str = "proxy-conformance/squid";
/// Squid 5.7 from Debian bookworm; bump the suffix when the image recipe changes.
pub const SQUID_IMAGE_TAG: &str = "5.7-bookworm-1";

/// The Squid image (also used by the relay: it carries socat).
pub struct SquidImage;

impl SquidImage {
    /// Makes sure the image exists, building it on first use.
    pub async fn ensure(engine: &DockerEngine) -> Result<()> {
        let reference = format!("{SQUID_IMAGE_NAME}:{SQUID_IMAGE_TAG}");
        if engine.client().inspect_image(&reference).await.is_ok() {
            return Ok(());
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/image/build-squid-image.sh");
        eprintln!("lab: building the Squid image {reference} from Debian packages (first run only, about 2 minutes)");
        // An interrupted run stops the build too; the script clears what it left next time.
        let output = Command::new("bash")
            .arg(script)
            .arg(&reference)
            .kill_on_drop(true)
            .output()
            .await
            .with_context(|| format!("running {script}"))?;
        if !output.status.success() {
            bail!(
                "building the Squid image {reference} failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}
