//! The lab contract's names: the instrument headers every exchange carries, the ICAP services
//! and categorisation helper a policy may select, and the lab's proxy credentials.

/// Request header carrying the per-request token the origin echoes back; a response that
/// echoes another token came out of a cache.
pub const REQUEST_TOKEN_HEADER: &str = "x-conformance-request";
/// Response header echoing [`REQUEST_TOKEN_HEADER`].
pub const ECHO_TOKEN_HEADER: &str = "x-conformance-echo";
/// Request header naming the scenario, so every journal can be filtered per scenario (it is
/// also sent on CONNECT, where the URL carries no path).
pub const SCENARIO_HEADER: &str = "x-conformance-scenario";

/// The request-modification ICAP service a policy selects with `adaptation_access`.
pub const ICAP_REQMOD_SERVICE: &str = "lab_reqmod";
/// The response-modification ICAP service a policy selects with `adaptation_access`.
pub const ICAP_RESPMOD_SERVICE: &str = "lab_respmod";
/// The external ACL helper that asks the harness's categorisation service about a host.
pub const CATEGORIZE_HELPER_NAME: &str = "lab_categorize";

/// The proxy user the lab's Basic authentication accepts (control scenarios log in as it).
pub const LAB_USER: &str = "conformance";
/// [`LAB_USER`]'s password; eight characters at most (the lab hashes it with crypt(3)).
pub const LAB_PASSWORD: &str = "wu-lab-1";
