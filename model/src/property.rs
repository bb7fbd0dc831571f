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
    /// Delivered intact: not refused, and the request and reply kept their end-to-end headers
    /// and bytes (what no other property names: a User-Agent stripped, a download refused).
    Integrity,
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
    "@integrity",
];

impl Property {
    pub const ALL: [Property; 10] = [
        Property::Auth,
        Property::Cache,
        Property::Range,
        Property::Tls,
        Property::Icap,
        Property::Categorize,
        Property::Protocol,
        Property::Prefetch,
        Property::DynamicNames,
        Property::Integrity,
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
            Property::Range | Property::DynamicNames | Property::Integrity => &[],
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
            Property::Range | Property::DynamicNames | Property::Prefetch | Property::Integrity
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
            Property::Integrity => "delivered intact (not refused, headers and bytes kept)",
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
            Property::Integrity => {
                "was refused, or had its request or reply altered on the way (headers or bytes)"
            }
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
