//! The lab: everything a conformance run needs besides the scenarios. It generates the PKI,
//! starts the in-process mock servers, builds the proxy image when it is missing, and starts
//! one private Docker network with a relay (the Microsoft host names on :80/:443) and the
//! proxy under test running the lab contract plus a policy. A [`ProxyBackend`] says how one
//! kind of proxy is put under test and turns its log into neutral [`ProxyFact`]s; the bundled
//! ones are listed in `backends.rs` (Squid 5.7 and 6, `squid/`). In external mode (`external/`) the proxy is one the harness did not start:
//! the lab is then only the harness's side, and judges from the [`Vantage`] points that exist.
//! Dropping the [`Lab`] removes every container and the network.

mod backend;
mod backends;
mod docker;
mod error;
pub mod external;
mod facts;
mod fault_injection;
mod health;
mod image;
mod lab;
mod paths;
mod proxy_log;
mod readiness;
mod relay;
mod run_hosts;
mod servers;
mod squid;
mod vantage;
mod watch;

pub use backend::{ProxyBackend, ProxySetup, StartFailure, StartedProxy};
pub use backends::{backend_named, default_backend, every_image, BUNDLED_BACKENDS};
pub use docker::DockerEngine;
pub use facts::{CacheUse, ProxyFact};
pub use fault_injection::INJECT_FAULT_ENV;
pub use health::{LabComponent, LabFault, LabHealth};
pub use image::{
    DebianImage, DebianRecipe, LogStream, ReadyLine, EXTERNAL_SQUID_BUMPED_CONF,
    EXTERNAL_SQUID_BYPASS_CONF, EXTERNAL_SQUID_COMMAND, EXTERNAL_SQUID_DIR,
    EXTERNAL_SQUID_PLACEHOLDERS, EXTERNAL_SQUID_PORT, EXTERNAL_SQUID_READY_LINE, MITMPROXY_CA_FILE,
    MITMPROXY_COMMAND, MITMPROXY_CONFDIR, MITMPROXY_IMAGE, MITMPROXY_PORT, MITMPROXY_READY_LINE,
    MITMPROXY_UPSTREAM_CA_FILE, TINYPROXY_CONF, TINYPROXY_CONF_FILE, TINYPROXY_IMAGE,
    TINYPROXY_PORT, TINYPROXY_READY_LINE,
};
pub use lab::{Lab, LabError, LabMode, LabOptions};
pub use paths::{display_path, show_relative_to};
pub use proxy_log::ProxyLog;
pub use squid::{
    AccessLogLine, Change, MappingLimit, Policy, PolicyViolation, Squid, WholeConfError,
    WholeConfig, WholeOptions, REFERENCE_POLICY, SQUID_5_7, SQUID_5_7_IMAGE, SQUID_6,
    SQUID_6_IMAGE,
};
pub use vantage::{Blinded, NotObservable, Vantage, VantageLedger};
