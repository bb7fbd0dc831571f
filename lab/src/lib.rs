//! The lab: everything a conformance run needs besides the scenarios. It generates the PKI,
//! starts the in-process mock servers, builds the Squid image when it is missing, and starts
//! one private Docker network with a relay (the Microsoft host names on :80/:443) and the
//! proxy under test running the lab preamble plus a policy. Dropping the [`Lab`] removes
//! every container and the network.

mod access_log;
mod docker;
mod image;
mod lab;
mod policy;
mod preamble;
mod proxy;
mod readiness;
mod relay;

pub use access_log::{AccessLog, AccessLogLine};
pub use docker::DockerEngine;
pub use image::{SquidImage, SQUID_IMAGE_NAME, SQUID_IMAGE_TAG};
pub use lab::{Lab, LabError, LabOptions};
pub use policy::{Policy, PolicyViolation, REFERENCE_POLICY};
