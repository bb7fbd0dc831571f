//! The decisions KB 166719 cares about — access and the properties its bypass turns off —
//! with the value each must take for Windows Update, and the baseline a bypass is written
//! against: a proxy that authenticates, caches, adapts (ICAP), categorises, pipelines and
//! intercepts TLS, as the lab's control traffic shows. The baseline is what `explain` prints
//! as `(default)` when no matching rule sets a property.

use std::fmt;

use conformance_model::Property;

use crate::ast::LayerKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// `ALLOW` / `DENY`.
    Access,
    Authenticate,
    BypassCache,
    DetectProtocol,
    RequestIcap,
    ResponseIcap,
    Categorize,
    Pipeline,
    SslForwardProxy,
}

impl Decision {
    pub const ALL: [Decision; 9] = [
        Decision::Access,
        Decision::Authenticate,
        Decision::BypassCache,
        Decision::DetectProtocol,
        Decision::RequestIcap,
        Decision::ResponseIcap,
        Decision::Categorize,
        Decision::Pipeline,
        Decision::SslForwardProxy,
    ];

    /// The properties a Windows Update bypass must set.
    pub const BYPASS: [Decision; 8] = [
        Decision::Authenticate,
        Decision::BypassCache,
        Decision::DetectProtocol,
        Decision::RequestIcap,
        Decision::ResponseIcap,
        Decision::Categorize,
        Decision::Pipeline,
        Decision::SslForwardProxy,
    ];

    pub fn cpl_name(self) -> &'static str {
        match self {
            Decision::Access => "access",
            Decision::Authenticate => "authenticate",
            Decision::BypassCache => "bypass_cache",
            Decision::DetectProtocol => "detect_protocol",
            Decision::RequestIcap => "request.icap_service",
            Decision::ResponseIcap => "response.icap_service",
            Decision::Categorize => "webpulse.categorize.mode",
            Decision::Pipeline => "pipeline",
            Decision::SslForwardProxy => "ssl.forward_proxy",
        }
    }

    /// The decision a CPL property sets, if it is one a conformance property's record names
    /// (`model/src/property.rs`).
    pub fn of_property(name: &str) -> Option<Decision> {
        Property::of_cpl_property(name).next()?;
        Decision::BYPASS
            .into_iter()
            .find(|decision| decision.cpl_name().eq_ignore_ascii_case(name))
    }

    /// The value when nothing in the policy sets it (see the module documentation).
    pub fn baseline(self) -> &'static str {
        match self {
            Decision::Access => "allow",
            Decision::Authenticate => "required",
            Decision::BypassCache => "no",
            Decision::DetectProtocol => "all",
            Decision::RequestIcap | Decision::ResponseIcap => "on",
            Decision::Categorize => "realtime",
            Decision::Pipeline => "yes",
            Decision::SslForwardProxy => "https",
        }
    }

    /// CPL's own default, from the Guide's property reference: what the appliance does when no
    /// rule sets the property. `access` follows the appliance's configured default proxy
    /// policy (deny on new appliances); `detect_protocol` and the categorisation mode follow
    /// the service and WebPulse configuration.
    pub fn cpl_default(self) -> &'static str {
        match self {
            Decision::Access => "deny",
            Decision::Authenticate => "no",
            Decision::BypassCache => "no",
            Decision::DetectProtocol => "service",
            Decision::RequestIcap | Decision::ResponseIcap => "no",
            Decision::Categorize => "config",
            Decision::Pipeline => "yes",
            Decision::SslForwardProxy => "no",
        }
    }

    /// What `explain` says about [`Decision::cpl_default`].
    pub fn default_note(self) -> &'static str {
        match self {
            Decision::Access => {
                "(CPL default: the configured default proxy policy, deny on new appliances)"
            }
            Decision::DetectProtocol => {
                "(CPL default: the proxy service's protocol detection setting)"
            }
            Decision::Categorize => "(CPL default: the WebPulse configuration)",
            _ => "(CPL default)",
        }
    }

    /// The value that leaves Windows Update untouched, as the bypass writes it.
    pub fn bypass_value(self) -> &'static str {
        match self {
            Decision::Access => "allow",
            Decision::BypassCache => "yes",
            Decision::DetectProtocol | Decision::Categorize => "none",
            _ => "no",
        }
    }

    /// Whether `value` (lower case) leaves Windows Update untouched.
    pub fn is_bypass(self, value: &str) -> bool {
        match self {
            Decision::Access => !value.starts_with("deny"),
            Decision::DetectProtocol => value == "none" || value == "no",
            _ => value == self.bypass_value(),
        }
    }

    /// Decisions that only exist for TLS connections.
    pub fn is_tls_only(self) -> bool {
        self == Decision::SslForwardProxy
    }

    /// `authenticate(no)`, or `ALLOW` for access.
    pub fn bypass_setting(self) -> String {
        match self {
            Decision::Access => "ALLOW".to_owned(),
            _ => format!("{}({})", self.cpl_name(), self.bypass_value()),
        }
    }
}

impl Decision {
    /// The layer a bypass should set the decision in.
    pub fn home_layer(self) -> LayerKind {
        match self {
            Decision::ResponseIcap => LayerKind::Cache,
            Decision::SslForwardProxy => LayerKind::SslIntercept,
            _ => LayerKind::Proxy,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cpl_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conformance_model::PROPERTIES;

    #[test]
    fn the_bypass_decisions_are_the_cpl_properties_of_the_property_records() {
        let mut from_records: Vec<&str> = PROPERTIES
            .iter()
            .flat_map(|record| record.cpl_properties.iter().copied())
            .collect();
        from_records.sort_unstable();
        let mut bypass: Vec<&str> = Decision::BYPASS.iter().map(|d| d.cpl_name()).collect();
        bypass.sort_unstable();
        assert_eq!(bypass, from_records);
        for decision in Decision::BYPASS {
            assert_eq!(Decision::of_property(decision.cpl_name()), Some(decision));
        }
        assert_eq!(Decision::of_property("access"), None);
    }
}
