//! End-to-end header fidelity (RFC 9110 §7.6.1): what the client sent against what the origin
//! received, and what the origin sent against what the client received. Hop-by-hop fields and
//! the harness's own instrument headers are not compared; a field the client sent or the origin
//! sent that arrives removed or altered is a finding for the property the field serves.

use conformance_model::Property;

/// What a header field is to the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRole {
    /// Hop-by-hop (RFC 9110 §7.6.1) or the harness's instrument: not compared.
    NotCompared,
    /// End to end and needed by an update client: removed or altered fails `Property`.
    Serves(Property),
    /// End to end but informational for Windows Update (a correlation vector, the server's
    /// name): removed or altered is reported as a note, never a failure.
    Informational,
}

/// Fields a proxy owns on each hop.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The role of request field `name` the client sent.
pub fn request_role(name: &str) -> HeaderRole {
    let name = name.to_ascii_lowercase();
    if HOP_BY_HOP.contains(&name.as_str()) || name.starts_with("x-conformance-") {
        return HeaderRole::NotCompared;
    }
    match name.as_str() {
        "range" | "if-range" | "if-unmodified-since" | "if-match" => {
            HeaderRole::Serves(Property::Range)
        }
        "if-modified-since" | "if-none-match" => HeaderRole::Serves(Property::Cache),
        // Delivery Optimization's correlation vector: telemetry, not needed to download.
        "ms-cv" => HeaderRole::Informational,
        _ => HeaderRole::Serves(Property::Integrity),
    }
}

/// The role of reply field `name` the origin sent.
pub fn reply_role(name: &str) -> HeaderRole {
    let name = name.to_ascii_lowercase();
    if HOP_BY_HOP.contains(&name.as_str()) || name.starts_with("x-conformance-") {
        return HeaderRole::NotCompared;
    }
    match name.as_str() {
        // BITS and Delivery Optimization check the size, the validators and range support of
        // every reply (BG_E_VALIDATION_FAILED, BG_E_RANDOM_ACCESS_NOT_SUPPORTED).
        "content-length" | "content-range" | "accept-ranges" | "etag" | "last-modified" => {
            HeaderRole::Serves(Property::Range)
        }
        "content-type" | "content-encoding" | "location" => HeaderRole::Serves(Property::Integrity),
        // The reply's freshness is the proxy's business only when it caches, which @cache
        // judges; a regenerated Date or a hidden Server breaks no download.
        _ => HeaderRole::Informational,
    }
}

/// One field that did not arrive as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChange {
    pub name: String,
    pub sent: String,
    /// `None`: removed.
    pub received: Option<String>,
    pub role: HeaderRole,
}

impl std::fmt::Display for HeaderChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.received {
            None => write!(f, "{}: {} was removed", self.name, self.sent),
            Some(received) => write!(
                f,
                "{}: {} arrived as {}: {}",
                self.name, self.sent, self.name, received
            ),
        }
    }
}

/// The compared fields of `sent` that are missing from `received` or differ there (values
/// compared with surrounding whitespace trimmed; repeated fields joined with ", ").
pub fn changes(
    sent: &[(String, String)],
    received: &[(String, String)],
    role: fn(&str) -> HeaderRole,
) -> Vec<HeaderChange> {
    let value_of = |fields: &[(String, String)], name: &str| -> Option<String> {
        let values: Vec<&str> = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (name, _) in sent {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower.clone());
        let role = role(&lower);
        if role == HeaderRole::NotCompared {
            continue;
        }
        let sent_value = value_of(sent, &lower).unwrap_or_default();
        let received_value = value_of(received, &lower);
        if received_value.as_deref() != Some(sent_value.as_str()) {
            out.push(HeaderChange {
                name: lower,
                sent: sent_value,
                received: received_value,
                role,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn removed_and_altered_fields_are_found_hop_by_hop_ones_are_not() {
        let sent = fields(&[
            ("User-Agent", "Microsoft BITS/7.8"),
            ("Range", "bytes=0-99"),
            ("Connection", "Keep-Alive"),
            ("X-Conformance-Request", "s1-r1"),
            ("MS-CV", "abc.1"),
        ]);
        let received = fields(&[("range", "bytes=0-199"), ("via", "1.1 proxy")]);
        let found = changes(&sent, &received, request_role);
        let names: Vec<_> = found.iter().map(|c| (c.name.as_str(), c.role)).collect();
        assert_eq!(
            names,
            [
                ("user-agent", HeaderRole::Serves(Property::Integrity)),
                ("range", HeaderRole::Serves(Property::Range)),
                ("ms-cv", HeaderRole::Informational),
            ]
        );
        assert_eq!(found[1].received.as_deref(), Some("bytes=0-199"));
        assert!(changes(&sent, &sent, request_role).is_empty());
    }

    #[test]
    fn reply_validators_serve_ranges_and_the_server_name_is_informational() {
        assert_eq!(reply_role("ETag"), HeaderRole::Serves(Property::Range));
        assert_eq!(
            reply_role("Accept-Ranges"),
            HeaderRole::Serves(Property::Range)
        );
        assert_eq!(
            reply_role("Content-Type"),
            HeaderRole::Serves(Property::Integrity)
        );
        assert_eq!(reply_role("Server"), HeaderRole::Informational);
        assert_eq!(reply_role("Transfer-Encoding"), HeaderRole::NotCompared);
        assert_eq!(
            request_role("If-Modified-Since"),
            HeaderRole::Serves(Property::Cache)
        );
    }
}
