//! What to change in a Squid policy so that update traffic keeps a property, in Squid's
//! directives: the backend's half of a remedy hint (the report adds the ProxySG CPL words).

use conformance_model::Property;

/// The Squid directives that give update traffic `property` back.
pub(crate) fn squid_remedy(property: Property) -> &'static str {
    match property {
        Property::Auth => "`http_access allow` the update hosts above any proxy_auth rule",
        Property::Cache => "`cache deny` for the update hosts, no Store-ID or refresh rule for them",
        Property::Range => "no range_offset_limit or Range header rules for update hosts",
        Property::Tls => "`ssl_bump splice` for the update hosts at step 1, before any bump",
        Property::Icap => "`adaptation_access … deny` for the update hosts",
        Property::Categorize => "`http_access allow` the update hosts above the external category ACL",
        Property::Protocol => "splice at step 1 without peeking",
        Property::Prefetch => "nothing to change: Squid does not prefetch",
        Property::DynamicNames => "no Store-ID or URL normalisation for update hosts",
        Property::Integrity => "no deny, size cap, deny_info redirect or request_header_access/reply_header_access rule may reach the update hosts before their allow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_property_has_squid_words() {
        for property in Property::ALL {
            assert!(!squid_remedy(property).is_empty(), "{property:?}");
        }
    }
}
