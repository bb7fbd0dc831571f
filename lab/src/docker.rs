//! The Docker engine as the lab sees it: reachability with a one-sentence fix, and the
//! removal of labs left behind by runs that were killed before they could clean up.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};
use testcontainers::bollard::Docker;

/// Label put on every container and network of a lab; its value is the owning process id.
pub const LAB_LABEL: &str = "io.proxy-conformance.lab-pid";

/// A connection to the Docker engine (honours `DOCKER_HOST`).
pub struct DockerEngine {
    docker: Docker,
}

impl DockerEngine {
    /// Connects and pings the engine; the error is one plain sentence with the fix.
    pub async fn connect() -> Result<Self> {
        let where_ =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let unreachable = |e: &dyn std::fmt::Display| {
            anyhow!(
                "the Docker engine at {where_} is not reachable ({e}); start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at a running engine"
            )
        };
        let docker = Docker::connect_with_defaults().map_err(|e| unreachable(&e))?;
        tokio::time::timeout(std::time::Duration::from_secs(10), docker.ping())
            .await
            .map_err(|e| unreachable(&e))?
            .map_err(|e| unreachable(&e))?;
        Ok(Self { docker })
    }

    pub(crate) fn client(&self) -> &Docker {
        &self.docker
    }

    /// Removes containers and networks of labs whose owning process no longer runs (a run
    /// killed with SIGKILL cannot clean up after itself).
    pub async fn remove_orphaned_labs(&self) -> Result<()> {
        self.remove_labs(process_is_gone).await
    }

    /// Removes this process's own labs: the last resort of a run whose teardown cannot finish.
    pub async fn remove_own_labs(&self) -> Result<()> {
        let me = std::process::id().to_string();
        self.remove_labs(|owner| owner == me).await
    }

    /// Removes the containers and networks of labs whose owning process id `owned` accepts.
    async fn remove_labs(&self, owned: impl Fn(&str) -> bool) -> Result<()> {
        let filters = HashMap::from([("label".to_owned(), vec![LAB_LABEL.to_owned()])]);
        let containers = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        for container in containers {
            let owner = container
                .labels
                .as_ref()
                .and_then(|l| l.get(LAB_LABEL))
                .cloned();
            if owner.as_deref().is_some_and(&owned) {
                if let Some(id) = container.id {
                    let options = RemoveContainerOptionsBuilder::new().force(true).build();
                    let _ = self.docker.remove_container(&id, Some(options)).await;
                }
            }
        }
        let networks = self
            .docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::new().filters(&filters).build(),
            ))
            .await?;
        for network in networks {
            let owner = network
                .labels
                .as_ref()
                .and_then(|l| l.get(LAB_LABEL))
                .cloned();
            if owner.as_deref().is_some_and(&owned) {
                if let Some(name) = network.name {
                    let _ = self.docker.remove_network(&name).await;
                }
            }
        }
        Ok(())
    }
}

fn process_is_gone(pid: &str) -> bool {
    pid.parse::<u32>().is_ok_and(|pid| {
        pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    })
}
