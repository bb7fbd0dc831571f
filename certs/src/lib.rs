//! The lab PKI, generated fresh for every run with rcgen: the origin CA that signs the mock
//! Microsoft servers' leaf, and the interception CA the proxy under test signs bumped
//! connections with. Nothing here is ever written into the repository.

mod authority;
mod pki;

pub use authority::{CertificateAuthority, LeafCertificate};
pub use pki::LabPki;
