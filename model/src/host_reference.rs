//! Host names as scenarios write them, checked without a lab: a wildcard pattern
//! (`"*.dl.delivery.mp.microsoft.com"` or one of the user's, `"*.corp.example"`: a name drawn
//! under it one label deep; `"…, deep"`, two), an exact name (a Windows Update name, a control
//! host, or any other DNS name, which the lab then serves too), or `"look-alike N"`. The lab
//! draws the names behind a reference each run; whether a reference can be served is known
//! before it starts, so a feature that names something unservable (an invalid name, an IP
//! address, a wildcard over a top-level domain) is rejected with its file and line, costing no
//! container.

use crate::draw::{is_valid_host_name, LOOK_ALIKE_COUNT};

/// What follows a pattern to ask for a name two labels deep.
pub const DEEP_SUFFIX: &str = ", deep";
/// What precedes the number of a look-alike.
pub const LOOK_ALIKE_PREFIX: &str = "look-alike ";

/// What a scenario's host reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostReference<'a> {
    /// The `n`th look-alike of the run (1-based).
    LookAlike(usize),
    /// A name drawn under a wildcard pattern (`*.x`), two labels deep when `deep`.
    Drawn { pattern: &'a str, deep: bool },
    /// A name taken as written.
    Exact(&'a str),
}

/// Reads `reference`; an error says what to write instead.
pub fn parse_host_reference(reference: &str) -> Result<HostReference<'_>, String> {
    if let Some(number) = reference.strip_prefix(LOOK_ALIKE_PREFIX) {
        return match number.trim().parse::<usize>() {
            Ok(n) if (1..=LOOK_ALIKE_COUNT).contains(&n) => Ok(HostReference::LookAlike(n)),
            _ => Err(format!(
                "{reference:?}: write \"look-alike N\" with N from 1 to {LOOK_ALIKE_COUNT}"
            )),
        };
    }
    if let Some(suffix) = reference.strip_prefix("*.") {
        let (suffix, deep) = match suffix.strip_suffix(DEEP_SUFFIX) {
            Some(suffix) => (suffix, true),
            None => (suffix, false),
        };
        check_servable(suffix).map_err(|why| {
            format!(
                "{reference:?}: {why}; write \"*.\" and a domain of two labels or more, \
                 e.g. \"*.corp.example\" (\"*.corp.example, deep\" for a name two labels under it)"
            )
        })?;
        if !suffix.contains('.') {
            return Err(format!(
                "{reference:?} covers a whole top-level domain: name a domain under it, \
                 e.g. \"*.corp.{suffix}\""
            ));
        }
        let pattern = &reference[..2 + suffix.len()];
        return Ok(HostReference::Drawn { pattern, deep });
    }
    check_servable(reference).map_err(|why| {
        format!(
            "{reference:?}: {why}; write a DNS name (\"portal.corp.example\"), a wildcard pattern \
             (\"*.update.microsoft.com\", \"*.corp.example\") or \"look-alike N\""
        )
    })?;
    Ok(HostReference::Exact(reference))
}

/// Why the lab cannot resolve `name` and serve it under a certificate, if it cannot.
fn check_servable(name: &str) -> Result<(), String> {
    if !is_valid_host_name(name) {
        return Err(
            "not a valid host name (labels of 1 to 63 letters, digits and inner hyphens, \
                    253 characters at most)"
                .to_owned(),
        );
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("an IP address or a numeric top-level domain, not a host name".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_a_lab_can_serve_and_those_it_cannot() {
        assert_eq!(
            parse_host_reference("look-alike 3"),
            Ok(HostReference::LookAlike(3))
        );
        assert_eq!(
            parse_host_reference("*.dl.delivery.mp.microsoft.com, deep"),
            Ok(HostReference::Drawn {
                pattern: "*.dl.delivery.mp.microsoft.com",
                deep: true
            })
        );
        assert_eq!(
            parse_host_reference("www.example.com"),
            Ok(HostReference::Exact("www.example.com"))
        );
        assert_eq!(
            parse_host_reference("portal.corp.example"),
            Ok(HostReference::Exact("portal.corp.example"))
        );
        assert_eq!(
            parse_host_reference("*.corp.example, deep"),
            Ok(HostReference::Drawn {
                pattern: "*.corp.example",
                deep: true
            })
        );
        for wrong in [
            "look-alike 0",
            "look-alike 99",
            "*.org",
            "*.bad_label.example",
            "portal..corp.example",
            "10.0.0.1",
            "*.*.example.org",
            "",
        ] {
            assert!(parse_host_reference(wrong).is_err(), "{wrong}");
        }
    }
}
