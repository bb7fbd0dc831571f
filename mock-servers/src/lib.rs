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

pub use conformance_spec::{ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER, SCENARIO_HEADER};
