//! The update clients of the conformance suite, free of Gherkin: requests through the proxy
//! under test made the way Windows update clients make them (plain, ranged, multi-range, over
//! HTTP and through CONNECT), raw CONNECT tunnels, the client's own TLS fingerprint, and the
//! harness's memory while a download streams. Every result is kept as what the client saw.

mod endpoint;
mod exchange;
mod fetch;
mod fingerprint;
mod memory;
mod profile;
mod tls_capture;
mod tunnel;

pub use endpoint::{NoCredentials, ProxyEndpoint};
pub use exchange::{
    requested_ranges, ClientResponse, Credentials, Exchange, Outcome, ReceivedPart, Scheme,
};
pub use fetch::Fetch;
pub use fingerprint::measure_own_ja4;
pub use memory::{MemoryReport, MemoryWatch};
pub use profile::{ClientProfile, TransferPattern};
pub use tls_capture::{chains_to, client_tls, issuer_of, SeenLeaf};
pub use tunnel::{raw_tunnel, RawTunnelExchange};
