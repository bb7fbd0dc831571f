//! A host set as data: a TOML file naming another update service's hosts (wildcard patterns
//! and exact names), the schemes its clients speak and the properties the policy must give it,
//! as the suite's property tags. The Windows Update set stays the bundled one; `run --host-set
//! FILE` adds a set of one's own, checked here before anything starts (file, line and what to
//! write instead). `host_set_feature.rs` turns a set into the checks the harness runs on it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use conformance_lab::display_path;
use conformance_model::{parse_host_reference, HostReference, DEEP_SUFFIX};

use crate::error::SuiteError;

/// The properties a host set may declare, what each asks of the policy, and the schemes it
/// needs.
pub(crate) const SET_PROPERTIES: &[(&str, &str, &[&str])] = &[
    ("@auth", "no credentials asked", &[]),
    ("@cache", "never answered from the cache", &["HTTP"]),
    ("@icap", "never sent to ICAP", &[]),
    ("@tls", "tunnelled, not intercepted", &["HTTPS"]),
    ("@categorize", "never sent for categorisation", &[]),
    ("@range", "byte ranges passed through unchanged", &[]),
    (
        "@protocol",
        "non-TLS bytes through CONNECT verbatim",
        &["HTTPS"],
    ),
];

/// The schemes a set's clients may speak.
const SCHEMES: &[&str] = &["HTTP", "HTTPS"];

/// A host set as its file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSetFile {
    name: String,
    hosts: Vec<String>,
    schemes: Vec<String>,
    properties: Vec<String>,
}

/// A checked host set.
#[derive(Debug, Clone)]
pub(crate) struct HostSet {
    pub name: String,
    pub path: PathBuf,
    /// Wildcard patterns (`*.gvt1.com`) and exact names, as written.
    pub hosts: Vec<String>,
    /// `HTTP`, `HTTPS` or both.
    pub schemes: Vec<String>,
    /// Property tags with their `@`, in the order of [`SET_PROPERTIES`].
    pub properties: Vec<String>,
}

impl HostSet {
    /// Reads and checks the set at `path`; a problem is `Rejected` with the file and line.
    pub fn load(path: &Path) -> Result<Self, SuiteError> {
        let shown = display_path(path);
        let text = std::fs::read_to_string(path)
            .map_err(|e| SuiteError::Usage(format!("--host-set {shown}: {e}")))?;
        let file: HostSetFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |span| text[..span.start].matches('\n').count() + 1);
            SuiteError::Rejected(format!(
                "{shown}:{line}: {}; a host set is name = \"…\", hosts = [\"*.example.com\", \"exact.example.com\"], \
                 schemes = [\"HTTP\", \"HTTPS\"], properties = [\"@auth\", …]",
                e.message()
            ))
        })?;
        let at = |value: &str| {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{value}\"")))
                .map_or(1, |i| i + 1);
            format!("{shown}:{line}")
        };
        let mut problems = Vec::new();
        check_hosts(&file, &at, &mut problems);
        check_schemes_and_properties(&file, &at, &mut problems);
        if file.name.trim().is_empty() {
            problems.push(format!(
                "{}: name the set, e.g. name = \"Google Chrome updates\"",
                at("")
            ));
        }
        if !problems.is_empty() {
            return Err(SuiteError::Rejected(format!(
                "the host set was rejected before the lab started:\n  {}",
                problems.join("\n  ")
            )));
        }
        let properties = SET_PROPERTIES
            .iter()
            .map(|(tag, ..)| (*tag).to_owned())
            .filter(|tag| file.properties.contains(tag))
            .collect();
        Ok(Self {
            name: file.name.trim().to_owned(),
            path: path.to_path_buf(),
            hosts: file.hosts,
            schemes: file.schemes,
            properties,
        })
    }

    pub fn speaks(&self, scheme: &str) -> bool {
        self.schemes.iter().any(|s| s == scheme)
    }
}

fn check_hosts(file: &HostSetFile, at: &dyn Fn(&str) -> String, problems: &mut Vec<String>) {
    if file.hosts.is_empty() {
        problems.push(format!(
            "{}: list the set's hosts, e.g. hosts = [\"*.gvt1.com\", \"dl.google.com\"]",
            at("hosts")
        ));
    }
    for host in &file.hosts {
        match parse_host_reference(host) {
            Ok(HostReference::LookAlike(_)) => problems.push(format!(
                "{}: {host:?} is a look-alike of Windows Update; a set lists its own hosts (the harness draws their look-alikes)",
                at(host)
            )),
            Ok(_) if host.ends_with(DEEP_SUFFIX) => problems.push(format!(
                "{}: write the pattern without {DEEP_SUFFIX:?}: the harness checks names one and two labels deep",
                at(host)
            )),
            Ok(_) => {}
            Err(instead) => problems.push(format!("{}: {instead}", at(host))),
        }
    }
}

fn check_schemes_and_properties(
    file: &HostSetFile,
    at: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) {
    if file.schemes.is_empty() {
        problems.push(format!(
            "{}: schemes = [\"HTTP\", \"HTTPS\"] (or one of them)",
            at("schemes")
        ));
    }
    for scheme in &file.schemes {
        if !SCHEMES.contains(&scheme.as_str()) {
            problems.push(format!(
                "{}: scheme {scheme:?}: write \"HTTP\" or \"HTTPS\"",
                at(scheme)
            ));
        }
    }
    if file.properties.is_empty() {
        problems.push(format!("{}: declare what the policy must give the set, e.g. properties = [\"@auth\", \"@tls\"]", at("properties")));
    }
    for property in &file.properties {
        let Some((_, _, needs)) = SET_PROPERTIES.iter().find(|(tag, ..)| tag == property) else {
            problems.push(format!(
                "{}: {property:?} is not a property a host set can declare: {}",
                at(property),
                SET_PROPERTIES
                    .iter()
                    .map(|(tag, what, _)| format!("{tag} ({what})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        for scheme in *needs {
            if !file.schemes.iter().any(|s| s == scheme) {
                problems.push(format!(
                    "{}: {property} is checked over {scheme}, which the set does not speak: add \"{scheme}\" to schemes or drop {property}",
                    at(property)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<HostSet, SuiteError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("set.toml");
        std::fs::write(&path, text).unwrap();
        HostSet::load(&path)
    }

    #[test]
    fn a_valid_set_loads_with_its_properties_in_order() {
        let set = load(
            "name = \"Chrome\"\nhosts = [\"*.gvt1.com\", \"dl.google.com\"]\nschemes = [\"HTTP\", \"HTTPS\"]\nproperties = [\"@tls\", \"@auth\"]\n",
        )
        .unwrap();
        assert_eq!(set.properties, ["@auth", "@tls"]);
        assert!(set.speaks("HTTPS"));
    }

    #[test]
    fn every_problem_is_reported_with_its_line_and_what_to_write() {
        let error = load(
            "name = \"Chrome\"\nhosts = [\"*.gvt1.com\",\n  \"bad_host.example\"]\nschemes = [\"HTTPS\", \"FTP\"]\nproperties = [\"@cache\", \"@prefetch\"]\n",
        )
        .unwrap_err()
        .to_string();
        for needle in [
            "set.toml:3: \"bad_host.example\": not a valid host name",
            "set.toml:4: scheme \"FTP\"",
            "set.toml:5: @cache is checked over HTTP",
            "set.toml:5: \"@prefetch\" is not a property",
        ] {
            assert!(error.contains(needle), "{needle} in {error}");
        }
        let error = load("name = \"x\"\nhost = []\n").unwrap_err().to_string();
        assert!(
            error.contains("set.toml:2: unknown field `host`"),
            "{error}"
        );
    }
}
