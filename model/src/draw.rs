//! Host names drawn per run, so a policy is tested against Microsoft's documented patterns
//! and not against names someone could memorise: every wildcard pattern of
//! [`WINDOWS_UPDATE_HOSTS`] gets fresh random labels (one label deep and two labels deep,
//! since `*.` covers any depth in Microsoft's lists), exact patterns keep their bare name,
//! and look-alike control hosts are drawn that an over-broad bypass would wrongly match
//! (`windowsupdate.com.k3x9.example.net`, `k3x9windowsupdate.com`,
//! `microsoft.com-k3x9.example.net`, `update.microsoft.com.k3x9.example`, `k3x9.microsoft.com`).
//!
//! The patterns and names a run's features add ([`ExtraHosts`]) are drawn the same way, after
//! Microsoft's, so a seed replays the Windows Update names whatever the features add.
//!
//! Pure and seeded: the same seed gives the same names. Reports print the seed
//! ([`DrawnHosts::seed`]) and the harness reads [`HOST_SEED_ENV`] (parsed by [`parse_seed`])
//! to replay a failing run with the same names.

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::extra_hosts::ExtraHosts;
use crate::hosts::WINDOWS_UPDATE_HOSTS;

/// Environment variable a run takes its host seed from (decimal or `0x` hex), to replay the
/// names of an earlier run; reports print the seed they ran with.
pub const HOST_SEED_ENV: &str = "CONFORMANCE_HOST_SEED";

/// Redraws allowed for one name before giving up on a label length (never reached in
/// practice: a clash needs a random label to spell a real one).
const REDRAWS: usize = 64;

/// Parses a seed as written in a report or [`HOST_SEED_ENV`]: decimal or `0x`-prefixed hex.
pub fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Whether `host` is covered by a documented `pattern`: an exact name, or `*.suffix`
/// covering every name with at least one more label (at any depth), as in Microsoft's lists.
/// Case-insensitive; a final dot is ignored.
pub fn pattern_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => host == pattern,
    }
}

/// Whether `name` is a valid DNS host name: at most 253 characters, labels of 1–63 letters,
/// digits and inner hyphens.
pub fn is_valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The host names of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnHosts {
    seed: u64,
    by_pattern: Vec<(String, Vec<String>)>,
    look_alikes: Vec<String>,
    /// The features' own patterns, with their names, after Microsoft's.
    extra_patterns: Vec<(String, Vec<String>)>,
    /// The features' own exact names.
    extra_names: Vec<String>,
}

impl DrawnHosts {
    /// Draws the names of a run from `seed`.
    pub fn draw(seed: u64) -> Self {
        Self::draw_with(seed, &ExtraHosts::default())
    }

    /// Draws the names of a run from `seed`, with the patterns and names `extra` adds.
    pub fn draw_with(seed: u64, extra: &ExtraHosts) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut taken = BTreeSet::new();
        let by_pattern = WINDOWS_UPDATE_HOSTS
            .iter()
            .map(|host| {
                let names = draw_for_pattern(&mut rng, &mut taken, host.pattern, |name| {
                    belongs_to(host.pattern, name)
                });
                (host.pattern.to_owned(), names)
            })
            .collect();
        let look_alikes = LOOK_ALIKES
            .iter()
            .map(|shape| {
                draw_unique(
                    &mut rng,
                    &mut taken,
                    |rng| shape.render(&label(rng)),
                    |name| {
                        !WINDOWS_UPDATE_HOSTS
                            .iter()
                            .any(|h| pattern_matches(h.pattern, name))
                    },
                )
            })
            .collect();
        let extra_patterns = extra
            .patterns()
            .map(|pattern| {
                let names = draw_for_pattern(&mut rng, &mut taken, pattern, |name| {
                    belongs_to_extra(pattern, name)
                });
                (pattern.to_owned(), names)
            })
            .collect();
        Self {
            seed,
            by_pattern,
            look_alikes,
            extra_patterns,
            extra_names: extra.names().map(str::to_owned).collect(),
        }
    }

    /// The seed these names were drawn from (print it; replay with [`HOST_SEED_ENV`]).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The names drawn for a documented `pattern` (as written in [`WINDOWS_UPDATE_HOSTS`]);
    /// empty for a pattern that is not in the list.
    pub fn for_pattern(&self, pattern: &str) -> &[String] {
        self.by_pattern
            .iter()
            .chain(&self.extra_patterns)
            .find(|(p, _)| p.eq_ignore_ascii_case(pattern))
            .map_or(&[], |(_, names)| names.as_slice())
    }

    /// Every pattern with its names, in the order of [`WINDOWS_UPDATE_HOSTS`], then the
    /// features' own patterns.
    pub fn patterns(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.by_pattern
            .iter()
            .chain(&self.extra_patterns)
            .map(|(p, n)| (p.as_str(), n.as_slice()))
    }

    /// The names the features add: drawn under their own patterns, and exact.
    pub fn extra_names(&self) -> Vec<String> {
        self.extra_patterns
            .iter()
            .flat_map(|(_, names)| names.iter().cloned())
            .chain(self.extra_names.iter().cloned())
            .collect()
    }

    /// Every drawn Windows Update name.
    pub fn windows_update_names(&self) -> Vec<String> {
        self.by_pattern
            .iter()
            .flat_map(|(_, names)| names.iter().cloned())
            .collect()
    }

    /// Control hosts that look like update hosts but match no documented pattern: the proxy
    /// must still authenticate, cache, adapt and bump them.
    pub fn look_alikes(&self) -> &[String] {
        &self.look_alikes
    }

    /// Every name the lab must resolve and serve this run: the Windows Update names, the
    /// look-alikes, then the names the features add.
    pub fn all_names(&self) -> Vec<String> {
        let mut names = self.windows_update_names();
        names.extend(self.look_alikes.iter().cloned());
        names.extend(self.extra_names());
        names
    }

    /// The suffixes of the wildcard patterns (`dl.delivery.mp.microsoft.com` for
    /// `*.dl.delivery.mp.microsoft.com`), for a DNS server answering any name under them.
    pub fn wildcard_suffixes(&self) -> Vec<String> {
        self.patterns()
            .filter_map(|(p, _)| p.strip_prefix("*.").map(str::to_owned))
            .collect()
    }

    /// The subject names an origin leaf needs to serve every drawn name: each name exactly.
    /// (A wildcard SAN covers one label only, RFC 6125 §6.4.3, so `*.suffix` alone would not
    /// cover the two-label-deep names.)
    pub fn certificate_names(&self) -> Vec<String> {
        self.all_names()
    }
}

/// The names drawn for one pattern: the bare name of an exact pattern, one name one label deep
/// and one two labels deep under a wildcard, each accepted by `keep`.
fn draw_for_pattern(
    rng: &mut StdRng,
    taken: &mut BTreeSet<String>,
    pattern: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let Some(suffix) = pattern.strip_prefix("*.") else {
        taken.insert(pattern.to_owned());
        return vec![pattern.to_owned()];
    };
    [1, 2]
        .into_iter()
        .map(|depth| {
            draw_unique(
                rng,
                taken,
                |rng| {
                    let mut labels: Vec<String> = (0..depth).map(|_| label(rng)).collect();
                    labels.push(suffix.to_owned());
                    labels.join(".")
                },
                &keep,
            )
        })
        .collect()
}

/// Whether `name`, drawn for a features' own `pattern`, falls under it and under no Windows
/// Update pattern that does not contain the whole of `pattern` (a name drawn under
/// `*.microsoft.com` must not happen to be an update host).
fn belongs_to_extra(pattern: &str, name: &str) -> bool {
    pattern_matches(pattern, name)
        && WINDOWS_UPDATE_HOSTS
            .iter()
            .all(|wu| !pattern_matches(wu.pattern, name) || contains(wu.pattern, pattern))
}

/// Whether `name`, drawn for `pattern`, matches no documented pattern narrower than or
/// unrelated to it (it may match the broader patterns that contain `pattern`, as
/// `*.dl.delivery.mp.microsoft.com` names match `*.delivery.mp.microsoft.com`).
fn belongs_to(pattern: &str, name: &str) -> bool {
    pattern_matches(pattern, name)
        && WINDOWS_UPDATE_HOSTS.iter().all(|other| {
            other.pattern == pattern
                || !pattern_matches(other.pattern, name)
                || contains(other.pattern, pattern)
        })
}

/// Whether every name of `inner` is also a name of `outer`.
fn contains(outer: &str, inner: &str) -> bool {
    let Some(outer_suffix) = outer.strip_prefix("*.") else {
        return outer == inner;
    };
    let inner_base = inner.strip_prefix("*.").unwrap_or(inner);
    inner_base
        .strip_suffix(outer_suffix)
        .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
}

/// Draws names with `make` until one is valid, new and accepted by `keep`.
fn draw_unique(
    rng: &mut StdRng,
    taken: &mut BTreeSet<String>,
    make: impl Fn(&mut StdRng) -> String,
    keep: impl Fn(&str) -> bool,
) -> String {
    for _ in 0..REDRAWS {
        let name = make(rng);
        if is_valid_host_name(&name) && !taken.contains(&name) && keep(&name) {
            taken.insert(name.clone());
            return name;
        }
    }
    panic!("no acceptable host name in {REDRAWS} draws: the label alphabet is broken")
}

/// A random DNS label: 4 to 8 lower-case letters and digits, starting with a letter.
fn label(rng: &mut StdRng) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.random_range(4..=8);
    let mut label = String::with_capacity(len);
    label.push(LETTERS[rng.random_range(0..LETTERS.len())] as char);
    for _ in 1..len {
        label.push(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())] as char);
    }
    label
}

/// How a look-alike is built from a random label and a real update domain.
#[derive(Debug, Clone, Copy)]
enum LookAlike {
    /// `windowsupdate.com.<r>.example.net`: defeats unanchored suffix regexes.
    Appended(&'static str),
    /// `<r>windowsupdate.com`: defeats a suffix match without the leading dot.
    Glued(&'static str),
    /// `microsoft.com-<r>.example.net`: defeats substring matches.
    Hyphenated(&'static str),
    /// `update.microsoft.com.<r>.example`: an attacker's domain with the real one in front.
    OtherTld(&'static str),
    /// `<r>.microsoft.com`: a real parent domain outside the update set (`*.microsoft.com`
    /// is over-broad).
    Parent(&'static str),
    /// `<r>.download-windowsupdate.com`: a hyphen for a dot (an unescaped `.` in a regex, or
    /// a pattern written with the wrong separator).
    HyphenForDot(&'static str, &'static str),
    /// `<r>.dl.delivery.mpxmicrosoft.com`: a dot replaced by a letter, which an unescaped `.`
    /// in a regular expression matches.
    DotReplaced(&'static str, &'static str),
    /// `update.microsoft.<r>.com`: a label inserted before the top-level domain.
    LabelInserted(&'static str, &'static str),
}

impl LookAlike {
    fn render(self, label: &str) -> String {
        match self {
            Self::Appended(domain) => format!("{domain}.{label}.example.net"),
            Self::Glued(domain) => format!("{label}{domain}"),
            Self::Hyphenated(domain) => format!("{domain}-{label}.example.net"),
            Self::OtherTld(domain) => format!("{domain}.{label}.example"),
            Self::Parent(domain) => format!("{label}.{domain}"),
            Self::HyphenForDot(head, tail) => format!("{label}.{head}-{tail}"),
            Self::DotReplaced(head, tail) => format!("{label}.{head}x{tail}"),
            Self::LabelInserted(head, tld) => format!("{head}.{label}.{tld}"),
        }
    }
}

/// Whether look-alike `number` (1-based, as features name it: `"look-alike 12"`) is a host under
/// a domain Microsoft owns but outside the update set (`<label>.dsp.mp.microsoft.com`): no one
/// else can register it, so letting it through is a scope warning, not an over-broad bypass.
pub fn look_alike_is_microsoft_owned(number: usize) -> bool {
    number
        .checked_sub(1)
        .and_then(|index| LOOK_ALIKES.get(index))
        .is_some_and(|shape| {
            let name = shape.render("x");
            MICROSOFT_DOMAINS
                .iter()
                .any(|domain| name.ends_with(&format!(".{domain}")))
        })
}

/// The registrable domains Microsoft owns among the update set's: a name under one of them
/// cannot be registered by anyone else.
const MICROSOFT_DOMAINS: &[&str] = &["microsoft.com", "windows.com", "windowsupdate.com"];

/// How many look-alikes each run draws (`"look-alike 1"` to this).
pub const LOOK_ALIKE_COUNT: usize = LOOK_ALIKES.len();

const LOOK_ALIKES: &[LookAlike] = &[
    LookAlike::Appended("windowsupdate.com"),
    LookAlike::Appended("download.windowsupdate.com"),
    LookAlike::Appended("update.microsoft.com"),
    LookAlike::Appended("dl.delivery.mp.microsoft.com"),
    LookAlike::Glued("windowsupdate.com"),
    LookAlike::Glued("update.microsoft.com"),
    LookAlike::Glued("microsoft.com"),
    LookAlike::Hyphenated("microsoft.com"),
    LookAlike::Hyphenated("windowsupdate.com"),
    LookAlike::OtherTld("update.microsoft.com"),
    LookAlike::OtherTld("windowsupdate.com"),
    LookAlike::Parent("microsoft.com"),
    LookAlike::Parent("windows.com"),
    LookAlike::Parent("mp.microsoft.com"),
    LookAlike::Parent("dsp.mp.microsoft.com"),
    LookAlike::HyphenForDot("download", "windowsupdate.com"),
    LookAlike::DotReplaced("dl.delivery.mp", "microsoft.com"),
    LookAlike::LabelInserted("update.microsoft", "com"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_follows_microsofts_wildcards() {
        assert!(pattern_matches(
            "*.dl.delivery.mp.microsoft.com",
            "7.tlu.dl.delivery.mp.microsoft.com"
        ));
        assert!(pattern_matches(
            "*.dl.delivery.mp.microsoft.com",
            "K3X9.dl.delivery.mp.microsoft.com."
        ));
        assert!(!pattern_matches(
            "*.dl.delivery.mp.microsoft.com",
            "dl.delivery.mp.microsoft.com"
        ));
        assert!(!pattern_matches(
            "*.windowsupdate.com",
            "notwindowsupdate.com"
        ));
        assert!(!pattern_matches(
            "*.windowsupdate.com",
            "windowsupdate.com.example.net"
        ));
        assert!(pattern_matches(
            "download.windowsupdate.com",
            "Download.WindowsUpdate.com"
        ));
        assert!(!pattern_matches(
            "download.windowsupdate.com",
            "au.download.windowsupdate.com"
        ));
    }

    #[test]
    fn every_pattern_gets_valid_names_that_match_it_and_no_narrower_pattern() {
        for seed in 0..200 {
            let hosts = DrawnHosts::draw(seed);
            for host in WINDOWS_UPDATE_HOSTS {
                let names = hosts.for_pattern(host.pattern);
                assert!(!names.is_empty(), "{}", host.pattern);
                for name in names {
                    assert!(is_valid_host_name(name), "{name}");
                    assert!(
                        belongs_to(host.pattern, name),
                        "{name} for {}",
                        host.pattern
                    );
                }
                if let Some(suffix) = host.pattern.strip_prefix("*.") {
                    let depths: Vec<usize> = names
                        .iter()
                        .map(|n| n.strip_suffix(suffix).unwrap().matches('.').count())
                        .collect();
                    assert_eq!(depths, [1, 2], "{names:?}");
                } else {
                    assert_eq!(names, [host.pattern]);
                }
            }
        }
    }

    #[test]
    fn only_siblings_under_microsofts_own_domains_are_microsoft_owned() {
        assert!(!look_alike_is_microsoft_owned(1));
        assert!(look_alike_is_microsoft_owned(15));
        assert!(!look_alike_is_microsoft_owned(0));
        assert!(!look_alike_is_microsoft_owned(LOOK_ALIKES.len() + 1));
        let owned: Vec<usize> = (1..=LOOK_ALIKES.len())
            .filter(|n| look_alike_is_microsoft_owned(*n))
            .collect();
        // `<r>update.microsoft.com` (glued) is under microsoft.com too.
        assert_eq!(owned, [6, 12, 13, 14, 15]);
    }

    #[test]
    fn look_alikes_match_no_pattern_and_all_names_are_distinct() {
        for seed in 0..200 {
            let hosts = DrawnHosts::draw(seed);
            assert_eq!(hosts.look_alikes().len(), LOOK_ALIKES.len());
            for name in hosts.look_alikes() {
                assert!(is_valid_host_name(name), "{name}");
                for host in WINDOWS_UPDATE_HOSTS {
                    assert!(
                        !pattern_matches(host.pattern, name),
                        "{name} matches {}",
                        host.pattern
                    );
                }
            }
            let all = hosts.all_names();
            let distinct: BTreeSet<&String> = all.iter().collect();
            assert_eq!(distinct.len(), all.len());
        }
    }

    #[test]
    fn the_same_seed_replays_the_same_names_and_another_seed_does_not() {
        assert_eq!(DrawnHosts::draw(42), DrawnHosts::draw(42));
        assert_ne!(
            DrawnHosts::draw(42).for_pattern("*.dl.delivery.mp.microsoft.com"),
            DrawnHosts::draw(43).for_pattern("*.dl.delivery.mp.microsoft.com")
        );
        assert_eq!(DrawnHosts::draw(42).seed(), 42);
    }

    #[test]
    fn wildcard_suffixes_and_lookups_by_pattern() {
        let hosts = DrawnHosts::draw(7);
        let suffixes = hosts.wildcard_suffixes();
        assert!(suffixes.contains(&"dl.delivery.mp.microsoft.com".to_owned()));
        assert!(!suffixes.iter().any(|s| s.starts_with('*')));
        assert!(hosts.for_pattern("*.nothing.example").is_empty());
        assert_eq!(hosts.patterns().count(), WINDOWS_UPDATE_HOSTS.len());
        assert_eq!(hosts.certificate_names(), hosts.all_names());
    }

    #[test]
    fn the_features_own_patterns_and_names_are_drawn_after_microsofts() {
        let mut extra = ExtraHosts::default();
        extra.add_pattern("*.corp.example");
        extra.add_pattern("*.microsoft.com");
        extra.add_name("portal.corp.example");
        for seed in 0..200 {
            let plain = DrawnHosts::draw(seed);
            let hosts = DrawnHosts::draw_with(seed, &extra);
            assert_eq!(hosts.windows_update_names(), plain.windows_update_names());
            assert_eq!(hosts.look_alikes(), plain.look_alikes());
            let corp = hosts.for_pattern("*.corp.example");
            assert_eq!(corp.len(), 2, "{corp:?}");
            assert!(corp.iter().all(|n| pattern_matches("*.corp.example", n)));
            for name in hosts.for_pattern("*.microsoft.com") {
                assert!(!crate::hosts::is_update_host(name), "{name}");
            }
            let all = hosts.all_names();
            assert!(all.contains(&"portal.corp.example".to_owned()));
            assert!(corp.iter().all(|n| all.contains(n)));
            let distinct: BTreeSet<&String> = all.iter().collect();
            assert_eq!(distinct.len(), all.len());
        }
        let hosts = DrawnHosts::draw_with(1, &extra);
        assert!(hosts
            .wildcard_suffixes()
            .contains(&"corp.example".to_owned()));
        assert_eq!(hosts.patterns().count(), WINDOWS_UPDATE_HOSTS.len() + 2);
        assert_ne!(
            DrawnHosts::draw_with(1, &extra).for_pattern("*.corp.example"),
            DrawnHosts::draw_with(2, &extra).for_pattern("*.corp.example")
        );
    }

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2A "), Some(42));
        assert_eq!(parse_seed("nope"), None);
    }
}
