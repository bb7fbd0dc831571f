//! The relay container: answers on :80 and :443 under every lab host name (the proxy's hosts
//! file points them here) and forwards at TCP level to the in-process update origin, so TLS
//! and SNI pass through untouched. It runs in an image of its own (socat from Debian), so that
//! no proxy backend has to carry the lab's plumbing.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use testcontainers::core::Host;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::docker::LAB_LABEL;
use crate::image::{debian_image, DebianImage, DebianRecipe};
use crate::readiness::{follow_until, Verdict};

/// The relay's image: socat and a shell.
pub(crate) const RELAY_IMAGE: DebianImage = debian_image!(
    "proxy-conformance/relay",
    "socat-bookworm",
    DebianRecipe {
        suite: "bookworm",
        packages: &["socat"],
        post_install: "",
        env: &[],
        entrypoint: &[],
        cmd: &["/bin/bash"],
    },
);

/// Connections waiting to be accepted by the relay (the kernel caps it at `somaxconn`, 4096).
const RELAY_BACKLOG: u32 = 4096;

pub(crate) struct Relay {
    pub(crate) container: ContainerAsync<GenericImage>,
    pub(crate) address: IpAddr,
}

impl Relay {
    pub(crate) async fn start(
        network: &str,
        origin_http_port: u16,
        origin_tls_port: u16,
    ) -> Result<Self> {
        // socat listens with a backlog of 5 unless told otherwise: a burst of the proxy's
        // connections overflows it, and a connection whose handshake is dropped there stalls
        // the request on it for up to a minute.
        let script = format!(
            "exec 2>&1; \
             socat -d -d -b 262144 TCP-LISTEN:80,fork,reuseaddr,backlog={RELAY_BACKLOG} TCP:host.docker.internal:{origin_http_port} & \
             socat -d -d -b 262144 TCP-LISTEN:443,fork,reuseaddr,backlog={RELAY_BACKLOG} TCP:host.docker.internal:{origin_tls_port} & \
             wait"
        );
        let container = GenericImage::new(RELAY_IMAGE.name(), RELAY_IMAGE.tag())
            .with_network(network)
            .with_container_name(format!("{network}-relay"))
            .with_label(LAB_LABEL, std::process::id().to_string())
            .with_host("host.docker.internal", Host::HostGateway)
            .with_cmd(["bash", "-c", &script])
            .start()
            .await
            .context("starting the relay container")?;
        let mut listening = 0;
        follow_until(&container, "the relay", Duration::from_secs(20), |line| {
            if line.contains("listening on") {
                listening += 1;
            }
            if listening == 2 {
                Verdict::Ready
            } else {
                Verdict::Continue
            }
        })
        .await?;
        let address = container
            .get_bridge_ip_address()
            .await
            .context("reading the relay's address")?;
        Ok(Self { container, address })
    }
}
