//! Host names as scenarios write them, checked without a lab: a documented Windows Update
//! pattern (`"*.dl.delivery.mp.microsoft.com"`, one label deep; `"…, deep"`, two), an exact
//! Windows Update name, a control host, or `"look-alike N"`. The lab draws the names behind a
//! reference each run; whether a reference can be served is known before it starts, so a
//! feature that names something else is rejected with its file and line, costing no container.

use crate::draw::LOOK_ALIKE_COUNT;
use crate::hosts::{is_lab_host, CONTROL_HOSTS, WINDOWS_UPDATE_HOSTS};

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
    if reference.starts_with("*.") {
        let (pattern, deep) = match reference.strip_suffix(DEEP_SUFFIX) {
            Some(pattern) => (pattern, true),
            None => (reference, false),
        };
        if !WINDOWS_UPDATE_HOSTS.iter().any(|p| p.pattern == pattern) {
            return Err(format!(
                "{pattern:?} is not one of Microsoft's Windows Update patterns: {}",
                WINDOWS_UPDATE_HOSTS
                    .iter()
                    .map(|p| p.pattern)
                    .filter(|p| p.starts_with("*."))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Ok(HostReference::Drawn { pattern, deep });
    }
    if is_lab_host(reference) {
        Ok(HostReference::Exact(reference))
    } else {
        Err(format!(
            "{reference} is not a lab host: name a Windows Update pattern (\"*.update.microsoft.com\"), \
             an exact Windows Update name, a control host ({}) or \"look-alike N\"",
            CONTROL_HOSTS.join(", ")
        ))
    }
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
        for wrong in [
            "look-alike 0",
            "look-alike 99",
            "*.example.org",
            "portal.corp.example",
        ] {
            assert!(parse_host_reference(wrong).is_err(), "{wrong}");
        }
    }
}
