//! The admin's helpers: which `external_acl_type` is the URL filter (the lab's categoriser
//! answers for it), which asks about the user (a group lookup), which the lab cannot emulate;
//! and which properties a helper's ACLs can decide, from the rules that use them.

use std::collections::{BTreeSet, HashSet};

use conformance_model::Property;

/// What an `external_acl_type` helper is to the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperRole {
    /// Looks up the destination: a URL or category filter, answered by the lab's categoriser.
    UrlFilter,
    /// Looks up the user only (group membership): the lab's user belongs to every group.
    Group,
    /// Neither: the lab cannot emulate it.
    Unknown,
}

/// Format codes that name the destination of a request.
const DESTINATION_CODES: &[&str] = &[
    "%DST",
    "%URI",
    "%PATH",
    "%>rd",
    "%>ru",
    "%ru",
    "%>rp",
    "%rp",
    "%<rd",
    "%<ru",
    "%ssl::>sni",
];

/// Format codes that name the user (Squid must authenticate first to fill them in).
const USER_CODES: &[&str] = &[
    "%LOGIN",
    "%EXT_USER",
    "%IDENT",
    "%un",
    "%ul",
    "%ue",
    "%ui",
    "%us",
];

/// One `external_acl_type` line taken apart: `NAME [options] FORMAT… PROGRAM [args]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalAclType {
    pub name: String,
    pub format: Vec<String>,
    pub program: Vec<String>,
}

impl ExternalAclType {
    /// `words` starts after the directive's name.
    pub fn parse(words: &[&str]) -> Option<Self> {
        let (name, rest) = words.split_first()?;
        let rest: Vec<&str> = rest
            .iter()
            .copied()
            .skip_while(|w| w.contains('=') || *w == "ipv4" || *w == "ipv6")
            .collect();
        let format: Vec<String> = rest
            .iter()
            .take_while(|w| w.starts_with('%') || w.starts_with("\"%"))
            .map(|w| w.trim_matches('"').to_owned())
            .collect();
        let program: Vec<String> = rest[format.len()..]
            .iter()
            .map(|w| (*w).to_owned())
            .collect();
        Some(Self {
            name: (*name).to_owned(),
            format,
            program,
        })
    }

    fn uses(&self, codes: &[&str]) -> bool {
        self.format
            .iter()
            .any(|token| codes.iter().any(|code| token.starts_with(code)))
    }

    pub fn names_destination(&self) -> bool {
        self.uses(DESTINATION_CODES)
    }

    pub fn names_user(&self) -> bool {
        self.uses(USER_CODES)
    }

    /// Its role: as the user said with `--url-filter`, else by what its lookups name.
    pub fn role(&self, url_filters: Option<&[String]>) -> HelperRole {
        let filter = match url_filters {
            Some(names) => names.iter().any(|n| n == &self.name),
            None => self.names_destination(),
        };
        if filter {
            HelperRole::UrlFilter
        } else if self.names_user() {
            HelperRole::Group
        } else {
            HelperRole::Unknown
        }
    }
}

/// The properties a rule of this directive decides for the requests its ACLs match.
pub fn properties_of_rule(directive: &str) -> &'static [Property] {
    use Property::*;
    match directive {
        "http_access" | "http_reply_access" | "adapted_http_access" | "miss_access" => {
            &[Auth, Categorize, Integrity]
        }
        "ssl_bump" => &[Tls, Protocol],
        "on_unsupported_protocol" => &[Protocol],
        "cache" | "send_hit" | "store_miss" | "store_id_access" => &[Cache, DynamicNames],
        "adaptation_access" | "icap_access" => &[Icap],
        "range_offset_limit" => &[Range, Cache],
        "request_header_access"
        | "reply_header_access"
        | "request_header_replace"
        | "reply_header_replace"
        | "request_header_add"
        | "reply_header_add" => &[Range, Integrity],
        "reply_body_max_size" | "request_body_max_size" | "url_rewrite_access" => &[Integrity],
        _ => &[],
    }
}

/// The ACLs that use `helpers` (`acl NAME external HELPER …`), and the ACLs built of those
/// (`all-of`, `any-of`), from `acl` directives given as their words.
pub fn acls_using(helpers: &HashSet<String>, acls: &[Vec<&str>]) -> HashSet<String> {
    let mut using: HashSet<String> = acls
        .iter()
        .filter(|w| w.len() >= 4 && w[2] == "external" && helpers.contains(w[3]))
        .map(|w| w[1].to_owned())
        .collect();
    loop {
        let grown: Vec<String> = acls
            .iter()
            .filter(|w| w.len() >= 4 && matches!(w[2], "all-of" | "any-of"))
            .filter(|w| w[3..].iter().any(|name| using.contains(*name)))
            .map(|w| w[1].to_owned())
            .filter(|name| !using.contains(name))
            .collect();
        if grown.is_empty() {
            return using;
        }
        using.extend(grown);
    }
}

/// The properties rules using any of `acls` decide, and those rules' directives.
pub fn properties_decided_by(
    acls: &HashSet<String>,
    rules: &[Vec<&str>],
) -> (BTreeSet<Property>, BTreeSet<String>) {
    let mut properties = BTreeSet::new();
    let mut directives = BTreeSet::new();
    for words in rules {
        let Some((directive, rest)) = words.split_first() else {
            continue;
        };
        if rest
            .iter()
            .any(|w| acls.contains(w.trim_start_matches('!')))
        {
            let decided = properties_of_rule(directive);
            if !decided.is_empty() {
                properties.extend(decided.iter().copied());
                directives.insert((*directive).to_owned());
            }
        }
    }
    (properties, directives)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(line: &str) -> ExternalAclType {
        let words: Vec<&str> = line.split_whitespace().collect();
        ExternalAclType::parse(&words).unwrap()
    }

    #[test]
    fn a_helper_is_told_by_what_its_lookups_name() {
        let filter = helper(
            "webfilter ttl=300 children-max=20 %DST %SRC /opt/filter/bin/lookup -c /etc/f.conf",
        );
        assert_eq!(filter.format, ["%DST", "%SRC"]);
        assert_eq!(filter.program[0], "/opt/filter/bin/lookup");
        assert_eq!(filter.role(None), HelperRole::UrlFilter);
        let group = helper("ldap_group %LOGIN /usr/lib/squid/ext_ldap_group_acl -b dc=corp");
        assert_eq!(group.role(None), HelperRole::Group);
        let other = helper("office_hours ipv4 %SRC /usr/local/bin/office-hours");
        assert_eq!(other.role(None), HelperRole::Unknown);
        // The user names the filter: another destination helper is then not one.
        let names = ["office_hours".to_owned()];
        assert_eq!(other.role(Some(&names)), HelperRole::UrlFilter);
        assert_eq!(filter.role(Some(&names)), HelperRole::Unknown);
    }

    #[test]
    fn the_properties_a_helper_decides_come_from_the_rules_that_use_its_acls() {
        let acls: Vec<Vec<&str>> = [
            "acl hours external office_hours",
            "acl staff_in_hours all-of staff hours",
            "acl wu dstdomain .update.microsoft.com",
        ]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
        let helpers = HashSet::from(["office_hours".to_owned()]);
        let using = acls_using(&helpers, &acls);
        assert_eq!(
            using,
            HashSet::from(["hours".to_owned(), "staff_in_hours".to_owned()])
        );
        let rules: Vec<Vec<&str>> = ["ssl_bump splice !staff_in_hours", "cache deny wu"]
            .iter()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let (properties, directives) = properties_decided_by(&using, &rules);
        assert_eq!(
            properties,
            BTreeSet::from([Property::Tls, Property::Protocol])
        );
        assert_eq!(directives, BTreeSet::from(["ssl_bump".to_owned()]));
        let unused = HashSet::from(["nothing".to_owned()]);
        assert!(properties_decided_by(&unused, &rules).0.is_empty());
    }
}
