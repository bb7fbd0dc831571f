//! The properties a Windows Update bypass must hold, each described once by its
//! [`PropertyRecord`] in [`PROPERTIES`]: its scenario tag, its wording in reports, its control,
//! the vantage points it is judged from, the remedy in Squid and CPL words and the ProxySG CPL
//! properties (vendor article KB 166719) that turn the proxy's feature off. Everything else —
//! diagnosis, verdicts, reports, the CPL tools, the self-test, the README's tables (checked by
//! `tests/docs.rs`) — reads the record.

use std::fmt;

use crate::vantage::Vantage;

/// One property of the conformance suite. Scenarios carry its tag; reports and the self-test
/// group verdicts by it. What it means is its [`PropertyRecord`].
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

/// Whether a control scenario can show the proxy really does this to other hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// An `@control` scenario on a host the proxy polices must see the feature at work.
    PolicedHost,
    /// None is possible: what the bypass keeps (intact ranges, per-client files kept apart,
    /// nothing prefetched, delivery intact) is what every host should get, so the property's
    /// checks stand on their own (and reports say so).
    NonePossible,
}

/// What to change in a policy that breaks the property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remedy {
    /// What to do, in plain words ("allow it before authentication").
    pub action: &'static str,
    /// How, in Squid's words (`None`: Squid cannot commit the fault).
    pub squid: Option<&'static str>,
    /// How, in ProxySG CPL words.
    pub cpl: &'static str,
}

impl Remedy {
    /// The remedy in one line: the action, then Squid's and CPL's words in parentheses.
    pub fn line(&self) -> String {
        match self.squid {
            Some(squid) => format!("{} (Squid: {squid}; CPL: {})", self.action, self.cpl),
            None => format!("{} (CPL: {})", self.action, self.cpl),
        }
    }
}

/// Everything the suite knows about one property, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyRecord {
    pub property: Property,
    /// The scenario tag, with its `@`.
    pub tag: &'static str,
    /// What the property means for an update host, in the report's words.
    pub meaning: &'static str,
    /// What happened to update traffic when the property is broken ("update traffic … ").
    pub violation: &'static str,
    pub control: ControlKind,
    /// The vantage points that judge it (the proxy log corroborates every property besides).
    pub vantages: &'static [Vantage],
    pub remedy: Remedy,
    /// The CPL properties of the vendor article that turn this proxy feature off for a host
    /// (empty where the article has none: ranges and dynamic names follow from the others).
    pub cpl_properties: &'static [&'static str],
    /// Whether a single Squid policy fault can break it: the self-test then requires a mutant
    /// that declares it. Prefetch cannot be broken so (Squid fetches only what a client asked
    /// for); its run-wide rule is proven by unit tests on synthetic journals instead.
    pub squid_fault: bool,
}

const CLIENT_AND_ORIGIN: &[Vantage] = &[Vantage::Client, Vantage::Origin];

/// Every property, in report order (the order of [`Property`]'s variants).
pub const PROPERTIES: [PropertyRecord; 10] = [
    PropertyRecord {
        property: Property::Auth,
        tag: "@auth",
        meaning: "not asked for credentials",
        violation: "was asked for credentials",
        control: ControlKind::PolicedHost,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "allow it before authentication",
            squid: Some("`http_access allow` the update hosts above any proxy_auth rule"),
            cpl: "authenticate(no)",
        },
        cpl_properties: &["authenticate"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Cache,
        tag: "@cache",
        meaning: "not served from cache",
        violation: "was answered from or revalidated in the proxy's cache",
        control: ControlKind::PolicedHost,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "exempt it from caching, revalidation included",
            squid: Some("`cache deny` for the update hosts, no Store-ID or refresh rule for them"),
            cpl: "bypass_cache(yes)",
        },
        cpl_properties: &["bypass_cache"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Range,
        tag: "@range",
        meaning: "byte ranges intact",
        violation: "had its byte ranges altered or widened",
        control: ControlKind::NonePossible,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "pass Range requests through unchanged",
            squid: Some("no range_offset_limit or Range header rules for update hosts"),
            cpl: "no range-widening or header rewrite",
        },
        cpl_properties: &[],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Tls,
        tag: "@tls",
        meaning: "TLS not intercepted",
        violation: "was TLS-intercepted (bumped)",
        control: ControlKind::PolicedHost,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "splice its tunnel instead of intercepting it",
            squid: Some("`ssl_bump splice` for the update hosts at step 1, before any bump"),
            cpl: "ssl.forward_proxy(no)",
        },
        cpl_properties: &["ssl.forward_proxy"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Icap,
        tag: "@icap",
        meaning: "not sent to ICAP",
        violation: "was sent to ICAP",
        control: ControlKind::PolicedHost,
        vantages: &[Vantage::Icap],
        remedy: Remedy {
            action: "exempt it from adaptation",
            squid: Some("`adaptation_access … deny` for the update hosts"),
            cpl: "request.icap_service(no) response.icap_service(no)",
        },
        cpl_properties: &["request.icap_service", "response.icap_service"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Categorize,
        tag: "@categorize",
        meaning: "not categorised",
        violation: "was sent for categorisation",
        control: ControlKind::PolicedHost,
        vantages: &[Vantage::Categorizer],
        remedy: Remedy {
            action: "let it through before any category lookup",
            squid: Some("`http_access allow` the update hosts above the external category ACL"),
            cpl: "webpulse.categorize.mode(none)",
        },
        cpl_properties: &["webpulse.categorize.mode"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Protocol,
        tag: "@protocol",
        meaning: "protocol not inspected",
        violation: "had its tunnel inspected",
        control: ControlKind::PolicedHost,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "do not inspect its tunnel",
            squid: Some("splice at step 1 without peeking"),
            cpl: "detect_protocol(none)",
        },
        cpl_properties: &["detect_protocol"],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Prefetch,
        tag: "@prefetch",
        meaning: "nothing prefetched",
        violation: "had objects fetched that no client asked for",
        control: ControlKind::NonePossible,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "do not fetch what the client did not ask for",
            squid: None,
            cpl: "pipeline(no)",
        },
        cpl_properties: &["pipeline"],
        squid_fault: false,
    },
    PropertyRecord {
        property: Property::DynamicNames,
        tag: "@dynamic-names",
        meaning: "per-client files kept apart",
        violation: "had per-client files mixed up",
        control: ControlKind::NonePossible,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "keep per-client URLs apart",
            squid: Some("no Store-ID or URL normalisation for update hosts"),
            cpl: "bypass_cache(yes)",
        },
        cpl_properties: &[],
        squid_fault: true,
    },
    PropertyRecord {
        property: Property::Integrity,
        tag: "@integrity",
        meaning: "delivered intact (not refused, headers and bytes kept)",
        violation: "was refused, or had its request or reply altered on the way (headers or \
                    bytes)",
        control: ControlKind::NonePossible,
        vantages: CLIENT_AND_ORIGIN,
        remedy: Remedy {
            action: "let it through unchanged",
            squid: Some(
                "no deny, size cap, deny_info redirect or request_header_access/\
                 reply_header_access rule may reach the update hosts before their allow",
            ),
            cpl: "no DENY, header rewrite or size limit for them",
        },
        cpl_properties: &[],
        squid_fault: true,
    },
];

/// Every property's tag, in report order (read from [`PROPERTIES`]).
pub const PROPERTY_TAGS: &[&str] = &{
    let mut tags = [""; PROPERTIES.len()];
    let mut index = 0;
    while index < PROPERTIES.len() {
        tags[index] = PROPERTIES[index].tag;
        index += 1;
    }
    tags
};

impl Property {
    pub const ALL: [Property; 10] = {
        let mut all = [Property::Auth; 10];
        let mut index = 0;
        while index < PROPERTIES.len() {
            all[index] = PROPERTIES[index].property;
            index += 1;
        }
        all
    };

    /// The property's record.
    pub fn record(self) -> &'static PropertyRecord {
        &PROPERTIES[self as usize]
    }

    /// The scenario tag, with its `@`.
    pub fn tag(self) -> &'static str {
        self.record().tag
    }

    /// The property a tag names (with or without its `@`).
    pub fn from_tag(tag: &str) -> Option<Property> {
        let tag = tag.strip_prefix('@').unwrap_or(tag);
        Property::ALL
            .into_iter()
            .find(|property| &property.tag()[1..] == tag)
    }

    /// The properties a CPL property (any case) serves: `bypass_cache` serves @cache.
    pub fn of_cpl_property(name: &str) -> impl Iterator<Item = Property> + '_ {
        PROPERTIES
            .iter()
            .filter(move |record| {
                record
                    .cpl_properties
                    .iter()
                    .any(|cpl| cpl.eq_ignore_ascii_case(name))
            })
            .map(|record| record.property)
    }

    /// Whether a control scenario can show the proxy really does this to other hosts.
    pub fn has_control(self) -> bool {
        self.record().control == ControlKind::PolicedHost
    }

    /// What the property means for an update host, in the report's words.
    pub fn meaning(self) -> &'static str {
        self.record().meaning
    }

    /// What happened to update traffic when the property is broken, in the report's words
    /// ("update traffic … ").
    pub fn violation(self) -> &'static str {
        self.record().violation
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
    fn each_record_sits_at_its_propertys_place_and_tags_round_trip() {
        for (index, record) in PROPERTIES.iter().enumerate() {
            assert_eq!(record.property as usize, index, "{}", record.tag);
            assert_eq!(Property::from_tag(record.tag), Some(record.property));
            assert!(record.tag.starts_with('@'), "{}", record.tag);
        }
        assert_eq!(
            Property::from_tag("dynamic-names"),
            Some(Property::DynamicNames)
        );
        assert_eq!(Property::from_tag("@control"), None);
        assert_eq!(PROPERTY_TAGS.len(), PROPERTIES.len());
    }

    #[test]
    fn a_cpl_property_names_the_properties_it_serves() {
        let icap: Vec<_> = Property::of_cpl_property("Response.ICAP_Service").collect();
        assert_eq!(icap, [Property::Icap]);
        assert_eq!(Property::of_cpl_property("access").count(), 0);
    }

    #[test]
    fn a_remedy_reads_as_one_line_with_or_without_squid_words() {
        assert_eq!(
            Property::Auth.record().remedy.line(),
            "allow it before authentication (Squid: `http_access allow` the update hosts \
             above any proxy_auth rule; CPL: authenticate(no))"
        );
        assert_eq!(
            Property::Prefetch.record().remedy.line(),
            "do not fetch what the client did not ask for (CPL: pipeline(no))"
        );
    }
}
