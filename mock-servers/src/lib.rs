//! In-process mock servers of the lab: the update origin (plain HTTP and TLS, generated and
//! streamed payloads, ClientHello capture), scripted endpoints behind it (wiremock), the
//! ICAP recorder and the categorisation service. Steps program them and read their journals
//! directly.

mod categorizer;
mod icap;
mod journal;
mod origin;
mod payload;
mod range;
mod scripted;

pub use categorizer::{Categorizer, CategoryVerdict, Lookup, LOOKUP_PATH};
pub use icap::{IcapCall, IcapRecorder};
pub use journal::{OriginJournal, OriginRequest, RawTunnel, Scheme, TlsHandshake};
pub use origin::{UpdateOrigin, UPDATES_PREFIX};
pub use payload::Payload;
pub use range::{ByteRange, RangeRequest};
pub use scripted::ScriptedEndpoints;

/// Request header carrying the per-request token the origin echoes back; a response that
/// echoes another token came out of a cache.
pub const REQUEST_TOKEN_HEADER: &str = "x-conformance-request";
/// Response header echoing [`REQUEST_TOKEN_HEADER`].
pub const ECHO_TOKEN_HEADER: &str = "x-conformance-echo";
/// Request header naming the scenario, so every journal can be filtered per scenario (it is
/// also sent on CONNECT, where the URL carries no path).
pub const SCENARIO_HEADER: &str = "x-conformance-scenario";
