//! The checks the harness runs on a host set of one's own, written as features at run time:
//! for each property the set declares, the same outline as the Windows Update host coverage
//! (`features/host-coverage.feature`) over every host of the set (a wildcard pattern one label
//! deep and two, drawn by the lab each run), and the same look-alike outline
//! (`features/look-alikes.feature`) over names drawn here that only resemble the set's
//! domains. The features go to a temporary folder that lives as long as the run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use conformance_model::{
    is_update_host, is_valid_host_name, parse_seed, pattern_matches, DEEP_SUFFIX, HOST_SEED_ENV,
    LOOK_ALIKE_TAG,
};

use crate::error::SuiteError;
use crate::host_set::HostSet;

/// The features generated for a run's host sets; removed when dropped.
#[derive(Debug)]
pub struct HostSetFeatures {
    dir: tempfile::TempDir,
    /// One line per set: its file and the scenarios generated for it.
    pub summary: Vec<String>,
}

impl HostSetFeatures {
    /// The folder to run beside the suite (`--add-features`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Reads the host sets at `paths` and writes their features, their look-alikes drawn from the
/// run's host seed when `CONFORMANCE_HOST_SEED` replays one (randomly otherwise).
pub fn host_set_features(paths: &[PathBuf]) -> Result<HostSetFeatures, SuiteError> {
    let seed = std::env::var(HOST_SEED_ENV)
        .ok()
        .and_then(|text| parse_seed(&text))
        .unwrap_or_else(rand::random);
    write_host_set_features(paths, seed)
}

/// [`host_set_features`] with the look-alikes drawn from `seed`.
fn write_host_set_features(paths: &[PathBuf], seed: u64) -> Result<HostSetFeatures, SuiteError> {
    let dir = tempfile::Builder::new()
        .prefix("proxy-conformance-host-sets-")
        .tempdir()
        .map_err(|e| SuiteError::Environment(format!("cannot create a temporary folder: {e}")))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut summary = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let set = HostSet::load(path)?;
        let look_alikes = draw_look_alikes(&set, &mut rng);
        let (coverage, covered) = coverage_feature(&set);
        let (alike, alike_count) = look_alike_feature(&set, &look_alikes);
        let stem = format!("{:02}-{}", index + 1, slug(&set.name));
        for (name, text) in [
            (format!("{stem}.feature"), coverage),
            (format!("{stem}-look-alikes.feature"), alike),
        ] {
            if text.is_empty() {
                continue;
            }
            let file = dir.path().join(name);
            std::fs::write(&file, text).map_err(|e| {
                SuiteError::Environment(format!("cannot write {}: {e}", file.display()))
            })?;
        }
        summary.push(format!(
            "host set {:?} ({}): {} properties ({}), {covered} host check(s), {alike_count} look-alike check(s)",
            set.name,
            conformance_lab::display_path(path),
            set.properties.len(),
            set.properties.join(" ")
        ));
    }
    Ok(HostSetFeatures { dir, summary })
}

/// `Google Chrome updates` → `google-chrome-updates`.
fn slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    slug.split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The rows a host outline runs over: each exact name, each pattern one label deep and two.
fn host_rows(set: &HostSet) -> Vec<String> {
    set.hosts
        .iter()
        .flat_map(|host| {
            if host.starts_with("*.") {
                vec![host.clone(), format!("{host}{DEEP_SUFFIX}")]
            } else {
                vec![host.clone()]
            }
        })
        .collect()
}

/// The steps of a host check of `property` for a set speaking `schemes`, and its title. The
/// property's own check comes first: the run-wide invariants that claim a Windows Update
/// failure for its property (a 407 is @auth wherever it shows) judge Microsoft's hosts only,
/// so a set's failure is claimed by the first check that fails.
fn coverage_steps(property: &str, set: &HostSet) -> Vec<(String, Vec<String>)> {
    let file = "Given \"<host>\" serves a 16 KiB update file under a per-client name".to_owned();
    let each = |when: &str| -> Vec<String> {
        set.schemes.iter().map(|s| when.replace("{S}", s)).collect()
    };
    let with_file = |title: &str, when: Vec<String>, then: &[&str]| {
        let mut steps = vec![file.clone()];
        steps.extend(when);
        steps.extend(then.iter().map(|t| (*t).to_owned()));
        vec![(title.to_owned(), steps)]
    };
    match property {
        "@auth" => with_file(
            "<host> needs no credentials",
            each("When a client without credentials requests that file over {S}"),
            &["Then the proxy did not ask for credentials", "And every response carried the file's exact bytes"],
        ),
        "@cache" => with_file(
            "<host> is never answered from the cache",
            vec![
                "When a client without credentials requests that file over HTTP".to_owned(),
                "And the same client requests it again".to_owned(),
            ],
            &["Then no response came from the proxy's cache", "And every response carried the file's exact bytes"],
        ),
        "@icap" => with_file(
            "<host> is never sent to ICAP",
            each("When a client without credentials requests that file over {S}"),
            &["Then the ICAP service saw no request for that file", "And every response carried the file's exact bytes"],
        ),
        "@tls" => with_file(
            "<host> is tunnelled, not intercepted",
            vec!["When a client without credentials requests that file over HTTPS".to_owned()],
            &[
                "Then the certificate the client saw was issued by the origin CA",
                "And the origin saw the client's own TLS handshake",
                "And the proxy logged a tunnel to that host",
            ],
        ),
        "@categorize" => with_file(
            "<host> is never sent for categorisation",
            each("When a client without credentials requests that file over {S}"),
            &["Then the categorisation service was not asked about that host", "And every response carried the file's exact bytes"],
        ),
        "@range" => with_file(
            "<host> passes a BITS range through unchanged",
            vec![format!("When a BITS client asks for bytes 1024-4095 of that file over {}", set.schemes[0])],
            &[
                "Then it receives 206 with exactly those bytes",
                "And the origin received the Range header \"bytes=1024-4095\"",
                "And the origin sent at most 3 KiB for that request",
            ],
        ),
        "@protocol" => vec![(
            "<host> carries non-TLS bytes through a CONNECT tunnel verbatim".to_owned(),
            vec![
                "When a client without credentials sends non-TLS bytes through a CONNECT tunnel to \"<host>\" on port 443".to_owned(),
                "Then the origin received those bytes verbatim".to_owned(),
                "And the client received the origin's reply verbatim".to_owned(),
                "And the proxy logged a tunnel to that host".to_owned(),
            ],
        )],
        _ => Vec::new(),
    }
}

/// The look-alike check of `property` (the proxy polices a name that only resembles the set's).
fn look_alike_steps(property: &str, set: &HostSet) -> Option<(&'static str, Vec<&'static str>)> {
    let page = "Given \"<host>\" serves a cacheable page";
    let objects = "Given \"<host>\" serves a control object of each kind";
    Some(match property {
        "@auth" => (
            "<host> is challenged for credentials",
            vec![
                page,
                "When a client without credentials requests that page over HTTP",
                "Then the proxy asked for credentials",
            ],
        ),
        "@tls" => (
            "<host> is intercepted with the proxy's CA",
            vec![
                page,
                "When a client with the lab credentials requests that page over HTTPS",
                "Then the certificate the client saw was issued by the interception CA",
            ],
        ),
        // A policy may cache or scan only some kinds of object: the look-alike is offered the
        // controls' objects of each kind, and is policed when any of them is.
        "@cache" => (
            "<host> is cached like any other host",
            vec![
                objects,
                "When a client with the lab credentials requests each of them over HTTP",
                "And the same client requests each of them again",
                "Then at least one of them came from the proxy's cache the second time",
            ],
        ),
        "@icap" => (
            "<host> is sent to ICAP like any other host",
            vec![
                objects,
                "When a client with the lab credentials requests each of them over HTTP",
                "Then the ICAP service adapted at least one of them",
            ],
        ),
        "@categorize" if set.speaks("HTTPS") => (
            "<host> is categorised like any other host",
            vec![
                page,
                "When a client with the lab credentials requests that page over HTTPS",
                "Then the categorisation service was asked about that host",
            ],
        ),
        _ => return None,
    })
}

/// Writes one outline with its Examples.
fn outline(out: &mut String, tag: &str, title: &str, steps: &[String], rows: &[String]) {
    let _ = writeln!(out, "\n  {tag}\n  Scenario Outline: {title}");
    for step in steps {
        let _ = writeln!(out, "    {step}");
    }
    let _ = writeln!(out, "\n    Examples:\n      | host |");
    for row in rows {
        let _ = writeln!(out, "      | {row} |");
    }
}

/// The host-coverage feature of `set`, and how many scenarios it holds.
fn coverage_feature(set: &HostSet) -> (String, usize) {
    let rows = host_rows(set);
    let mut out = format!(
        "@hosts @host-set\nFeature: {}: every host is let through untouched\n  Generated from {} for the properties it declares ({}).\n\n  Background:\n    Given the lab proxy enforces the policy under test\n",
        set.name,
        conformance_lab::display_path(&set.path),
        set.properties.join(" ")
    );
    let mut count = 0;
    for property in &set.properties {
        for (title, steps) in coverage_steps(property, set) {
            outline(
                &mut out,
                property,
                &format!("{}: {title}", set.name),
                &steps,
                &rows,
            );
            count += rows.len();
        }
    }
    (out, count)
}

/// The look-alike feature of `set` (empty when none of its properties has a look-alike check).
fn look_alike_feature(set: &HostSet, look_alikes: &[String]) -> (String, usize) {
    let mut out = format!(
        "{LOOK_ALIKE_TAG} @host-set\nFeature: {}: hosts that only look like the set's are still policed\n  Names drawn for this run from {}: the set's domains with a domain appended, a label glued\n  in front, a hyphenated suffix, or a sibling under the parent domain.\n\n  Background:\n    Given the lab proxy enforces the policy under test\n    And a refusal by the proxy counts as policing the host\n",
        set.name,
        conformance_lab::display_path(&set.path),
    );
    let mut count = 0;
    for property in &set.properties {
        if let Some((title, steps)) = look_alike_steps(property, set) {
            let steps: Vec<String> = steps.into_iter().map(str::to_owned).collect();
            outline(
                &mut out,
                property,
                &format!("{}: {title}", set.name),
                &steps,
                look_alikes,
            );
            count += look_alikes.len();
        }
    }
    if count == 0 || look_alikes.is_empty() {
        return (String::new(), 0);
    }
    (out, count)
}

/// Names that resemble the set's domains but match none of its patterns (nor Windows Update's):
/// per domain, the domain with a domain appended, a label glued in front, a hyphenated
/// suffix, and a sibling under its parent domain when that is not a public suffix.
fn draw_look_alikes(set: &HostSet, rng: &mut StdRng) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for host in &set.hosts {
        let domain = host.strip_prefix("*.").unwrap_or(host);
        for shape in LookAlikeShape::ALL {
            for _ in 0..64 {
                let Some(name) = shape.render(domain, &label(rng)) else {
                    break;
                };
                let covered = set.hosts.iter().any(|h| pattern_matches(h, &name));
                if is_valid_host_name(&name)
                    && !covered
                    && !is_update_host(&name)
                    && !names.contains(&name)
                {
                    names.push(name);
                    break;
                }
            }
        }
    }
    names
}

/// How a look-alike of a set's domain is built from a random label.
#[derive(Debug, Clone, Copy)]
enum LookAlikeShape {
    /// `dl.google.com.<r>.example.net`: defeats unanchored suffix matches.
    Appended,
    /// `<r>dl.google.com`: defeats a suffix match without its leading dot.
    Glued,
    /// `dl.google.com-<r>.example.net`: defeats substring matches.
    Hyphenated,
    /// `<r>.google.com`: a sibling under the parent domain (a bypass of the parent is
    /// over-broad); none when the parent is a top-level domain.
    Sibling,
}

impl LookAlikeShape {
    const ALL: [Self; 4] = [Self::Appended, Self::Glued, Self::Hyphenated, Self::Sibling];

    fn render(self, domain: &str, label: &str) -> Option<String> {
        Some(match self {
            Self::Appended => format!("{domain}.{label}.example.net"),
            Self::Glued => format!("{label}{domain}"),
            Self::Hyphenated => format!("{domain}-{label}.example.net"),
            Self::Sibling => {
                let parent = domain.split_once('.').map(|(_, p)| p)?;
                parent.contains('.').then(|| format!("{label}.{parent}"))?
            }
        })
    }
}

/// A random DNS label: 4 to 8 lower-case letters and digits, starting with a letter.
fn label(rng: &mut StdRng) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.random_range(4..=8);
    std::iter::once(LETTERS[rng.random_range(0..LETTERS.len())] as char)
        .chain((1..len).map(|_| ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())] as char))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "name = \"Google Chrome updates\"\nhosts = [\"*.gvt1.com\", \"dl.google.com\", \"update.googleapis.com\"]\nschemes = [\"HTTP\", \"HTTPS\"]\nproperties = [\"@auth\", \"@tls\"]\n";

    #[test]
    fn a_set_becomes_checks_on_each_host_and_look_alikes_that_match_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chrome.toml");
        std::fs::write(&path, CHROME).unwrap();
        let features = write_host_set_features(&[path], 7).unwrap();
        let coverage =
            std::fs::read_to_string(features.dir().join("01-google-chrome-updates.feature"))
                .unwrap();
        assert!(coverage.contains(
            "  @auth\n  Scenario Outline: Google Chrome updates: <host> needs no credentials"
        ));
        assert!(coverage.contains("| *.gvt1.com, deep |"));
        assert!(coverage.contains("requests that file over HTTPS"));
        assert!(!coverage.contains("@cache"));
        let alike = std::fs::read_to_string(
            features
                .dir()
                .join("01-google-chrome-updates-look-alikes.feature"),
        )
        .unwrap();
        assert!(alike.contains("| dl.google.com."), "{alike}");
        assert!(
            alike.contains(".google.com |"),
            "a sibling under google.com: {alike}"
        );
        assert!(features.summary[0].contains("2 properties (@auth @tls)"));
        let summary =
            crate::check::check_features_at(&[features.dir().to_path_buf()], None).unwrap();
        assert!(summary.scenarios > 20, "{}", summary.scenarios);
        assert!(summary.extra_hosts.patterns().any(|p| p == "*.gvt1.com"));
    }

    #[test]
    fn look_alikes_match_none_of_the_sets_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chrome.toml");
        std::fs::write(&path, CHROME).unwrap();
        let set = HostSet::load(&path).unwrap();
        for seed in 0..50 {
            for name in draw_look_alikes(&set, &mut StdRng::seed_from_u64(seed)) {
                assert!(is_valid_host_name(&name), "{name}");
                assert!(
                    !set.hosts.iter().any(|h| pattern_matches(h, &name)),
                    "{name}"
                );
            }
        }
    }
}
