//! The in-process servers a lab judges with — the update origin with its scripted endpoints,
//! the ICAP recorder and the categorisation service — started the same way for the bundled lab
//! and for the harness side of external mode.

use anyhow::Result;
use lab_certs::LabPki;
use mock_servers::{Categorizer, IcapRecorder, ScriptedEndpoints, UpdateOrigin};

pub(crate) struct InProcessServers {
    pub(crate) origin: UpdateOrigin,
    pub(crate) scripted: ScriptedEndpoints,
    pub(crate) icap: IcapRecorder,
    pub(crate) categorizer: Categorizer,
}

impl InProcessServers {
    /// Starts them all; the origin serves TLS with `pki`'s leaf.
    pub(crate) async fn start(pki: &LabPki) -> Result<Self> {
        let scripted = ScriptedEndpoints::start().await?;
        let origin = UpdateOrigin::start(&pki.origin_leaf, scripted.clone()).await?;
        Ok(Self {
            origin,
            scripted,
            icap: IcapRecorder::start().await?,
            categorizer: Categorizer::start().await?,
        })
    }
}
