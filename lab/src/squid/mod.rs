//! Squid as the proxy under test: the lab preamble it runs with, the policy contract, its
//! container and readiness, its access log turned into neutral facts, and the versions the lab
//! bundles (`versions.rs`), each one [`Squid`] backend.

mod container;
mod log;
mod policy;
mod preamble;
mod versions;
mod whole;

pub use log::AccessLogLine;
pub use policy::{Policy, PolicyViolation, REFERENCE_POLICY};
pub use versions::{SQUID_5_7, SQUID_5_7_IMAGE, SQUID_6, SQUID_6_IMAGE};
pub use whole::{Change, MappingLimit, WholeConfError, WholeConfig, WholeOptions};

use std::path::Path;

use futures::future::BoxFuture;
use futures::FutureExt as _;

use crate::backend::{ProxyBackend, ProxySetup, StartFailure, StartedProxy};
use crate::facts::ProxyFact;
use crate::image::DebianImage;

/// One bundled Squid version: the same preamble, contract and log format, its own image.
#[derive(Debug, Clone, Copy)]
pub struct Squid {
    id: &'static str,
    name: &'static str,
    image: &'static DebianImage,
}

impl ProxyBackend for Squid {
    fn id(&self) -> &'static str {
        self.id
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn image(&self) -> &'static DebianImage {
        self.image
    }

    fn load_policy(&self, path: &Path) -> anyhow::Result<Policy> {
        Policy::load(path)
    }

    fn start<'a>(
        &'a self,
        setup: ProxySetup<'a>,
    ) -> BoxFuture<'a, Result<StartedProxy, StartFailure>> {
        container::start(self, setup).boxed()
    }

    fn parse_log_line(&self, line: &str) -> Option<ProxyFact> {
        let line = AccessLogLine::parse(line)?;
        Some(line.facts())
    }
}
