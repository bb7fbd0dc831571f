//! The properties a Windows Update bypass must hold, each with its scenario tag and the ProxySG
//! CPL properties (vendor article KB 166719) that turn the proxy's feature off.

use std::fmt;

/// One property of the conformance suite. Scenarios carry its tag; reports and the self-test
/// group verdicts by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Property {
    Auth,
    Cache,
    Range,
    Tls,
    Icap,
    Categorize,
    Protocol,
    Prefetch,
    DynamicNames,
}

/// The tag that marks a scenario as the control of its property.
pub const CONTROL_TAG: &str = "@control";

/// The tag of scenarios that check a look-alike host is still policed (an over-broad bypass
/// lets it through).
pub const LOOK_ALIKE_TAG: &str = "@look-alike";

/// Every property's tag, in report order.
pub const PROPERTY_TAGS: &[&str] = &[
    "@auth",
    "@cache",
    "@range",
    "@tls",
    "@icap",
    "@categorize",
    "@protocol",
    "@prefetch",
    "@dynamic-names",
];

impl Property {
    pub const ALL: [Property; 9] = [
        Property::Auth,
        Property::Cache,
        Property::Range,
        Property::Tls,
        Property::Icap,
        Property::Categorize,
        Property::Protocol,
        Property::Prefetch,
        Property::DynamicNames,
    ];

    /// The scenario tag, with its `@`.
    pub fn tag(self) -> &'static str {
        PROPERTY_TAGS[self as usize]
    }

    /// The property a tag names (with or without its `@`).
    pub fn from_tag(tag: &str) -> Option<Property> {
        let tag = tag.strip_prefix('@').unwrap_or(tag);
        Property::ALL
            .into_iter()
            .find(|property| &property.tag()[1..] == tag)
    }

    /// The CPL properties of the vendor article that turn this proxy feature off for a host
    /// (empty where the article has none: ranges and dynamic names follow from the others).
    pub fn cpl_properties(self) -> &'static [&'static str] {
        match self {
            Property::Auth => &["authenticate"],
            Property::Cache => &["bypass_cache"],
            Property::Range | Property::DynamicNames => &[],
            Property::Tls => &["ssl.forward_proxy"],
            Property::Icap => &["request.icap_service", "response.icap_service"],
            Property::Categorize => &["webpulse.categorize.mode"],
            Property::Protocol => &["detect_protocol"],
            Property::Prefetch => &["pipeline"],
        }
    }

    /// Whether a control scenario can show the proxy really does this to other hosts. Ranges,
    /// per-client names and prefetch have none: a proxy that keeps ranges intact, keeps
    /// per-client files apart and never prefetches is what every host should get, so their
    /// checks stand on their own (and reports say so).
    pub fn has_control(self) -> bool {
        !matches!(
            self,
            Property::Range | Property::DynamicNames | Property::Prefetch
        )
    }

    /// What the property means for an update host, in the report's words.
    pub fn meaning(self) -> &'static str {
        match self {
            Property::Auth => "not asked for credentials",
            Property::Cache => "not served from cache",
            Property::Range => "byte ranges intact",
            Property::Tls => "TLS not intercepted",
            Property::Icap => "not sent to ICAP",
            Property::Categorize => "not categorised",
            Property::Protocol => "protocol not inspected",
            Property::Prefetch => "nothing prefetched",
            Property::DynamicNames => "per-client files kept apart",
        }
    }
}

impl Property {
    /// What happened to update traffic when the property is broken, in the report's words
    /// ("update traffic … ").
    pub fn violation(self) -> &'static str {
        match self {
            Property::Auth => "was asked for credentials",
            Property::Cache => "was answered from or revalidated in the proxy's cache",
            Property::Range => "had its byte ranges altered or widened",
            Property::Tls => "was TLS-intercepted (bumped)",
            Property::Icap => "was sent to ICAP",
            Property::Categorize => "was sent for categorisation",
            Property::Protocol => "had its tunnel inspected",
            Property::Prefetch => "had objects fetched that no client asked for",
            Property::DynamicNames => "had per-client files mixed up",
        }
    }

    /// Words of the checks that judge this property, to tell which property a failed step
    /// speaks for when a scenario carries several.
    pub fn check_words(self) -> &'static [&'static str] {
        match self {
            Property::Auth => &["credentials"],
            Property::Cache => &[
                "cache",
                "request(s) for that",
                "requests for that",
                "conditional",
            ],
            Property::Range => &[
                "range",
                "head first",
                "memory",
                "sent at most",
                "no more bytes",
            ],
            Property::Tls => &[
                "certificate",
                "tls handshake",
                "logged a tunnel",
                "decrypted",
            ],
            Property::Icap => &["icap"],
            Property::Categorize => &["categorisation", "denied the request"],
            Property::Protocol => &[
                "verbatim",
                "clienthello",
                "non-tls",
                "never received those bytes",
            ],
            Property::Prefetch => &["only the requests"],
            Property::DynamicNames => &["client's url", "another client", "its own bytes"],
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for property in Property::ALL {
            assert_eq!(Property::from_tag(property.tag()), Some(property));
        }
        assert_eq!(
            Property::from_tag("dynamic-names"),
            Some(Property::DynamicNames)
        );
        assert_eq!(Property::from_tag("@control"), None);
    }
}
