//! The proxy the fleet connects to, and where its cost comes from: Docker's stats for the
//! lab's container, nowhere for an external proxy (reported as not observable, never as zero).

use std::net::SocketAddr;

use conformance_lab::external::probe::proxy_authority;
use conformance_lab::Lab;

use crate::error::LoadError;

/// Why an external proxy's CPU and memory are not in the report.
pub(crate) const EXTERNAL_COST_NOT_OBSERVABLE: &str =
    "not observable: the proxy under test is external, the harness cannot read its CPU or memory";

/// Where the fleet sends its requests.
#[derive(Debug, Clone)]
pub(crate) struct ProxyTarget {
    pub address: SocketAddr,
    pub cost: CostSource,
}

/// How the proxy's CPU and memory are known.
#[derive(Debug, Clone)]
pub(crate) enum CostSource {
    /// The container that publishes this host port.
    Container { host_port: u16 },
    /// Not at all, and why.
    NotObservable(&'static str),
}

impl ProxyTarget {
    /// The lab's Squid where the lab's own clients reach it (its address on the lab's network
    /// when this host reaches it there, else its published loopback port: the lab probes
    /// that at start); its cost from the container that publishes the port.
    pub(crate) async fn of_lab(lab: &Lab) -> Result<Self, LoadError> {
        let published = resolve(&lab.proxy_url()).await?;
        Ok(Self {
            address: resolve(&lab.proxy_endpoint().url).await?,
            cost: CostSource::Container {
                host_port: published.port(),
            },
        })
    }

    /// A proxy the harness did not start, at `http://HOST:PORT` (resolved once).
    pub(crate) async fn external(url: &str) -> Result<Self, LoadError> {
        Ok(Self {
            address: resolve(url).await?,
            cost: CostSource::NotObservable(EXTERNAL_COST_NOT_OBSERVABLE),
        })
    }
}

async fn resolve(url: &str) -> Result<SocketAddr, LoadError> {
    let (host, port) = proxy_authority(url).map_err(|e| LoadError::Usage(e.to_string()))?;
    tokio::net::lookup_host((host.as_str(), port))
        .await
        .ok()
        .and_then(|mut found| found.next())
        .ok_or_else(|| LoadError::Lab(format!("the proxy's name {host} does not resolve")))
}
