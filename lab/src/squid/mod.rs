//! Squid as the proxy under test: the lab preamble it runs with, the policy contract, its
//! container and readiness, and its access log turned into neutral facts.

mod container;
mod log;
mod policy;
mod preamble;
mod whole;

pub(crate) use container::{ProxySetup, ProxyUnderTest, StartFailure};
pub use log::AccessLogLine;
pub use policy::{Policy, PolicyViolation, REFERENCE_POLICY};
pub use whole::{Change, MappingLimit, WholeConfError, WholeConfig, WholeOptions};

use crate::backend::ProxyBackend;
use crate::facts::ProxyFact;

/// The Squid backend (Squid 5.7 from Debian bookworm).
#[derive(Debug, Clone, Copy, Default)]
pub struct Squid;

impl ProxyBackend for Squid {
    fn name(&self) -> &'static str {
        "Squid 5.7"
    }

    fn reserved_directives(&self) -> &'static [&'static str] {
        policy::LAB_OWNED
    }

    fn ready_line(&self) -> &'static str {
        container::READY_LINE
    }

    fn parse_log_line(&self, line: &str) -> Option<ProxyFact> {
        let line = AccessLogLine::parse(line)?;
        Some(line.facts())
    }
}
