//! Conditional requests (RFC 9110 §13) against a file's validators, evaluated in the order
//! of §13.2.2: `If-Match`, else `If-Unmodified-Since` (412 when it fails); `If-None-Match`,
//! else `If-Modified-Since` on GET/HEAD (304 when the client's copy is current); then
//! `If-Range` decides whether a `Range` applies (strong comparison, or an exact date).
//!
//! Hand-written: the `http` crate has no precondition evaluation and the crates that do
//! (tower-http's `ServeDir`) serve files from disk, not generated payloads.

use std::time::SystemTime;

use http::{header, HeaderMap, Method};

/// What a file's validators say about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Serve the file; honour its `Range` header only if `range_applies`.
    Proceed { range_applies: bool },
    /// 304: the client's copy is current.
    NotModified,
    /// 412: the file is not the version the client's precondition names.
    Failed,
}

/// Evaluates the conditional headers of a request for a representation with a strong
/// `etag` (quoted) and `last_modified` (whole seconds).
pub(crate) fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    etag: &str,
    last_modified: SystemTime,
) -> Precondition {
    let text = |name: header::HeaderName| -> Option<String> {
        let values: Vec<&str> = headers
            .get_all(&name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let get_or_head = method == Method::GET || method == Method::HEAD;

    if let Some(if_match) = text(header::IF_MATCH) {
        if !list_matches(&if_match, etag, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let Some(date) = text(header::IF_UNMODIFIED_SINCE).and_then(|v| parse_date(&v)) {
        if last_modified > date {
            return Precondition::Failed;
        }
    }

    if let Some(if_none_match) = text(header::IF_NONE_MATCH) {
        if list_matches(&if_none_match, etag, Comparison::Weak) {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if get_or_head {
        if let Some(date) = text(header::IF_MODIFIED_SINCE).and_then(|v| parse_date(&v)) {
            if last_modified <= date {
                return Precondition::NotModified;
            }
        }
    }

    let range_applies = match headers.get(header::IF_RANGE).map(|v| v.to_str()) {
        None => true,
        Some(Err(_)) => false,
        Some(Ok(validator)) => if_range_matches(validator.trim(), etag, last_modified),
    };
    Precondition::Proceed { range_applies }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// Whether an `If-Match` / `If-None-Match` list (`*` or entity-tags) matches `etag`.
fn list_matches(list: &str, etag: &str, comparison: Comparison) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let (ours_weak, ours) = split_weak(etag);
    entity_tags(list).into_iter().any(|(weak, opaque)| {
        opaque == ours && (comparison == Comparison::Weak || (!weak && !ours_weak))
    })
}

/// `If-Range`: an entity-tag must match strongly (a weak one never does); a date must equal
/// Last-Modified exactly.
fn if_range_matches(validator: &str, etag: &str, last_modified: SystemTime) -> bool {
    if validator.starts_with('"') || validator.starts_with("W/") {
        let (weak, opaque) = split_weak(validator);
        let (ours_weak, ours) = split_weak(etag);
        !weak && !ours_weak && opaque == ours
    } else {
        parse_date(validator) == Some(last_modified)
    }
}

/// Splits `W/"x"` into (true, `"x"`).
fn split_weak(tag: &str) -> (bool, &str) {
    match tag.trim().strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, tag.trim()),
    }
}

/// The entity-tags of a comma-separated list, each as (weak, quoted opaque tag). Commas
/// inside quotes belong to the tag; malformed members are skipped.
fn entity_tags(list: &str) -> Vec<(bool, &str)> {
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return tags;
        }
        let weak = rest.starts_with("W/");
        let body = if weak { &rest[2..] } else { rest };
        if !body.starts_with('"') {
            // Not an entity-tag: skip to the next comma.
            match rest.find(',') {
                Some(comma) => {
                    rest = &rest[comma..];
                    continue;
                }
                None => return tags,
            }
        }
        match body[1..].find('"') {
            Some(end) => {
                tags.push((weak, &body[..end + 2]));
                rest = &body[end + 2..];
            }
            None => return tags,
        }
    }
}

/// An HTTP date in any of the three formats of RFC 9110 §5.6.7.
pub(crate) fn parse_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::time::{Duration, UNIX_EPOCH};

    const ETAG: &str = "\"abc\"";

    fn lm() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn run(method: Method, pairs: &[(header::HeaderName, &str)]) -> Precondition {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        evaluate(&method, &headers, ETAG, lm())
    }

    fn date(offset: i64) -> String {
        let t = if offset >= 0 {
            lm() + Duration::from_secs(offset as u64)
        } else {
            lm() - Duration::from_secs((-offset) as u64)
        };
        httpdate::fmt_http_date(t)
    }

    const GO: Precondition = Precondition::Proceed {
        range_applies: true,
    };

    #[test]
    fn if_none_match_gives_304_on_a_weak_match() {
        assert_eq!(
            run(Method::GET, &[(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")]),
            Precondition::NotModified
        );
        assert_eq!(
            run(Method::HEAD, &[(header::IF_NONE_MATCH, "*")]),
            Precondition::NotModified
        );
        assert_eq!(
            run(Method::GET, &[(header::IF_NONE_MATCH, "\"other\"")]),
            GO
        );
        assert_eq!(
            run(Method::POST, &[(header::IF_NONE_MATCH, ETAG)]),
            Precondition::Failed
        );
    }

    #[test]
    fn if_modified_since_gives_304_unless_changed_and_yields_to_if_none_match() {
        assert_eq!(
            run(Method::GET, &[(header::IF_MODIFIED_SINCE, &date(0))]),
            Precondition::NotModified
        );
        assert_eq!(
            run(Method::GET, &[(header::IF_MODIFIED_SINCE, &date(-1))]),
            GO
        );
        assert_eq!(
            run(Method::GET, &[(header::IF_MODIFIED_SINCE, "not a date")]),
            GO
        );
        // If-None-Match present and not matching: If-Modified-Since is not looked at.
        assert_eq!(
            run(
                Method::GET,
                &[
                    (header::IF_NONE_MATCH, "\"old\""),
                    (header::IF_MODIFIED_SINCE, &date(10))
                ]
            ),
            GO
        );
    }

    #[test]
    fn if_unmodified_since_gives_412_when_the_file_changed_since() {
        assert_eq!(
            run(Method::GET, &[(header::IF_UNMODIFIED_SINCE, &date(-1))]),
            Precondition::Failed
        );
        assert_eq!(
            run(Method::GET, &[(header::IF_UNMODIFIED_SINCE, &date(0))]),
            GO
        );
        // RFC 850 and asctime dates are accepted too.
        assert_eq!(
            run(
                Method::GET,
                &[(
                    header::IF_UNMODIFIED_SINCE,
                    "Sunday, 06-Nov-94 08:49:37 GMT"
                )]
            ),
            Precondition::Failed
        );
        assert_eq!(
            run(
                Method::GET,
                &[(header::IF_UNMODIFIED_SINCE, "Sun Nov  6 08:49:37 1994")]
            ),
            Precondition::Failed
        );
    }

    #[test]
    fn if_match_needs_a_strong_match_and_overrides_if_unmodified_since() {
        assert_eq!(run(Method::GET, &[(header::IF_MATCH, ETAG)]), GO);
        assert_eq!(run(Method::GET, &[(header::IF_MATCH, "*")]), GO);
        assert_eq!(
            run(Method::GET, &[(header::IF_MATCH, "W/\"abc\"")]),
            Precondition::Failed
        );
        assert_eq!(
            run(Method::GET, &[(header::IF_MATCH, "\"a,b\", \"zzz\"")]),
            Precondition::Failed
        );
        assert_eq!(
            run(
                Method::GET,
                &[
                    (header::IF_MATCH, ETAG),
                    (header::IF_UNMODIFIED_SINCE, &date(-100))
                ]
            ),
            GO
        );
    }

    #[test]
    fn if_range_decides_whether_the_range_applies() {
        let no_range = Precondition::Proceed {
            range_applies: false,
        };
        assert_eq!(run(Method::GET, &[(header::IF_RANGE, ETAG)]), GO);
        assert_eq!(
            run(Method::GET, &[(header::IF_RANGE, "W/\"abc\"")]),
            no_range
        );
        assert_eq!(run(Method::GET, &[(header::IF_RANGE, "\"old\"")]), no_range);
        assert_eq!(run(Method::GET, &[(header::IF_RANGE, &date(0))]), GO);
        assert_eq!(run(Method::GET, &[(header::IF_RANGE, &date(1))]), no_range);
    }

    #[test]
    fn entity_tag_lists_keep_commas_inside_quotes() {
        assert_eq!(
            entity_tags("\"a,b\", W/\"c\" ,junk, \"d\""),
            vec![(false, "\"a,b\""), (true, "\"c\""), (false, "\"d\"")]
        );
    }
}
