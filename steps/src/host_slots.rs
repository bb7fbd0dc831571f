//! Where a step names a host, so that every host reference of a feature can be checked before
//! the lab starts (`conformance_model::parse_host_reference`) rather than when the step runs. A
//! unit test holds every step definition that takes a `{string}` to this list (or to the list
//! of those whose string is not a host), so a new host step cannot be missed.

/// The text around a host reference in a step: what precedes its opening quote (empty: the
/// step starts with it) and what follows its closing quote.
const HOST_SLOTS: &[(&str, &str)] = &[
    ("", " serves "),
    ("", " redirects requests for that file there"),
    ("CONNECT tunnel to ", " on port "),
    ("the update service on ", " over "),
    ("the categorisation service calls ", " blocked"),
];

/// The host references a step's text makes, as written between the quotes.
pub fn host_references(step: &str) -> Vec<&str> {
    HOST_SLOTS
        .iter()
        .filter_map(|(lead, trail)| {
            let start = if lead.is_empty() {
                0
            } else {
                step.find(lead)? + lead.len()
            };
            let quoted = step.get(start..)?.strip_prefix('"')?;
            let end = quoted.find('"')?;
            quoted[end + 1..]
                .starts_with(trail)
                .then_some(&quoted[..end])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::host_references;

    /// Step expressions whose `{string}` is not a host.
    const NOT_HOSTS: &[&str] = &[
        "a BITS client asks for the range {string} of that file over {scheme}",
        "the origin received the Range header {string}",
    ];

    #[test]
    fn every_step_that_takes_a_string_names_a_host_or_is_known_not_to() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut seen = 0;
        // Step modules only: the World's helpers (`steps/src/world/`) define no step.
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if !entry.path().is_file() {
                continue;
            }
            let source = std::fs::read_to_string(entry.path()).unwrap();
            for line in source.lines() {
                let Some(expression) = line
                    .trim()
                    .strip_prefix("#[")
                    .and_then(|l| l.split_once("(expr = \""))
                    .and_then(|(_, rest)| rest.strip_suffix("\")]"))
                else {
                    continue;
                };
                if !expression.contains("{string}") || NOT_HOSTS.contains(&expression) {
                    continue;
                }
                seen += 1;
                let sample = expression.replacen("{string}", "\"h.example\"", 1);
                assert_eq!(
                    host_references(&sample),
                    ["h.example"],
                    "{}: `{expression}` takes a string: add its host slot or list it as not a host",
                    entry.path().display()
                );
            }
        }
        assert!(seen >= 8, "only {seen} host steps found");
    }

    #[test]
    fn a_reference_is_read_between_its_quotes_in_its_slot() {
        assert_eq!(
            host_references("\"*.update.microsoft.com, deep\" serves a cacheable page"),
            ["*.update.microsoft.com, deep"]
        );
        assert_eq!(
            host_references(
                "a client without credentials opens a CONNECT tunnel to \"look-alike 2\" on port 443"
            ),
            ["look-alike 2"]
        );
        assert!(host_references("the origin received the Range header \"bytes=0-1\"").is_empty());
    }
}
