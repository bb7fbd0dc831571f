//! The seam between the lab and one kind of proxy under test. A backend says what the lab
//! needs to put its proxy under test — its name, the directives a policy may not own, the log
//! line that says it is ready — and turns its own log into neutral [`ProxyFact`]s. Squid is
//! the first backend (`squid/`).

use crate::facts::ProxyFact;

/// One kind of proxy the lab can start, or read the log of.
pub trait ProxyBackend: Send + Sync + std::fmt::Debug {
    /// The proxy's name and version, as reports show it.
    fn name(&self) -> &'static str;

    /// Directives of its configuration that the lab owns: a policy that sets one would unplug
    /// the lab's instruments and is rejected, naming the line.
    fn reserved_directives(&self) -> &'static [&'static str];

    /// The log line that says the proxy accepts connections.
    fn ready_line(&self) -> &'static str;

    /// The facts of one line of the proxy's access log, `None` for a line that is not a
    /// request (a header, a blank line).
    fn parse_log_line(&self, line: &str) -> Option<ProxyFact>;
}
