//! The external backend: a proxy the harness did not start, of any vendor. It has no log the
//! harness can read, no directives the harness owns and no ready line: it is ready when it
//! accepts a connection and forwards a first request to the harness's origin.

use crate::backend::ProxyBackend;
use crate::facts::ProxyFact;

/// A proxy under test that the harness reaches only as a client.
#[derive(Debug, Clone, Copy, Default)]
pub struct External;

impl ProxyBackend for External {
    fn name(&self) -> &'static str {
        "external proxy"
    }

    fn reserved_directives(&self) -> &'static [&'static str] {
        &[]
    }

    fn ready_line(&self) -> &'static str {
        ""
    }

    /// Its log is the appliance's own: never read, so no line is a fact.
    fn parse_log_line(&self, _line: &str) -> Option<ProxyFact> {
        None
    }
}
