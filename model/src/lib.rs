//! What the conformance suite is about, as plain data with no I/O: Microsoft's Windows Update
//! host set and its patterns, the properties a bypass must hold (one record each: tag, wording,
//! control, vantage points, remedy, the CPL properties of the vendor article), the vantage
//! points judgements are made from, the kinds of object a control offers the proxy, and the
//! names the lab contract gives to its instruments.
//! Every other crate (the CPL tools included) takes these from here.

mod contract;
mod control_object;
mod draw;
mod extra_hosts;
mod host_reference;
mod hosts;
mod property;
mod vantage;

pub use contract::{
    CATEGORIZE_HELPER_NAME, ECHO_TOKEN_HEADER, ICAP_REQMOD_SERVICE, ICAP_RESPMOD_SERVICE,
    LAB_PASSWORD, LAB_USER, REQUEST_TOKEN_HEADER, SCENARIO_HEADER,
};
pub use control_object::{KindsPoliced, ObjectKind};
pub use draw::{
    is_valid_host_name, look_alike_is_microsoft_owned, parse_seed, pattern_matches, DrawnHosts,
    HOST_SEED_ENV,
};
pub use extra_hosts::ExtraHosts;
pub use host_reference::{parse_host_reference, HostReference, DEEP_SUFFIX};
pub use hosts::{
    all_lab_host_names, is_lab_host, is_update_host, is_windows_update_host, HostPattern,
    CONTROL_HOSTS, WINDOWS_UPDATE_HOSTS,
};
pub use property::{
    ControlKind, Property, PropertyRecord, Remedy, CONTROL_TAG, LOOK_ALIKE_TAG, PROPERTIES,
    PROPERTY_TAGS,
};
pub use vantage::Vantage;
