//! In-process mock servers of the lab: the update origin (plain HTTP and TLS, the real URL
//! shapes of Windows Update served from a catalog of generated and streamed payloads,
//! conditional requests, redirects, the agent's SOAP endpoint, ClientHello capture), scripted
//! endpoints behind it (wiremock), the ICAP recorder, the categorisation service and the
//! lab's DNS server for external mode. Steps program them and read their journals directly.

mod accept;
mod catalog;
mod categorizer;
mod conditional;
mod dns;
mod family;
mod fault_switch;
mod icap;
mod journal;
mod origin;
mod payload;
mod range;
mod scripted;
mod soap;
mod wiremock_server;

pub use catalog::{Catalog, CatalogError, CatalogFile, HostScope, Redirect};
pub use categorizer::{Categorizer, CategoryVerdict, Lookup, HEALTH_PATH, LOOKUP_PATH};
pub use dns::{DnsError, DnsOutcome, DnsQuery, DnsTransport, LabDns, LAB_DNS_TTL};
pub use family::{
    content_type_for_path, UrlFamily, CLIENT_WEB_SERVICE_PATH, CTL_PATH, MCC_PROBE_PATH,
};
pub use fault_switch::FaultSwitch;
pub use icap::{IcapCall, IcapRecorder};
pub use journal::{
    ConditionalHeader, ConditionalKind, ListenerFailure, OriginExchange, OriginJournal,
    OriginRequest, RawTunnel, Scheme, TlsFailure, TlsFailureStage, TlsHandshake,
};
pub use origin::{UpdateOrigin, SERVER_FIRST_AFTER, SERVER_GREETING, UPDATES_PREFIX};
pub use payload::Payload;
pub use range::{ByteRange, RangeRequest};
pub use scripted::ScriptedEndpoints;

pub use conformance_model::{ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER, SCENARIO_HEADER};
