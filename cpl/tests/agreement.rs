//! Lint, `explain` and `to-squid` give one answer about Windows Update. For every policy of the
//! corpus (`policies/cpl`, `tests/corpus`, and `tests/traffic`: realistic policies keyed on
//! extensions, MIME types, methods, headers, host subsets, categories and TLS interception by
//! condition, faulty and correct), every request of the Windows Update traffic model is traced
//! with `explain`, and:
//!
//! - `lint --require windows-update` reports a coverage error exactly when some traced request
//!   ends with a bypass property not bypassed (or denied), and names each such property, host
//!   pattern and (when only some kinds of request miss it) kind of request;
//! - lint's `windows-update-undecided` finding points only at rules `explain` shows undecided
//!   for some update request;
//! - wherever the translated fragment (read by an independent model of Squid) decides an
//!   update request differently from `explain`, `to-squid` lists an update-host risk for that
//!   property; and it lists risks only when such a difference or an undecided rule exists.
//!
//! The `tests/traffic` files also state what must be found (`; windows-update: bypassed`,
//! `not bypassed: …`, `families: …`, `undecided: …`, `denied`), so a correct policy is never
//! flagged and a faulty one is flagged for exactly its fault.

#[path = "support/squid_model.rs"]
mod squid_model;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cpl::{
    explain_request, lint_with, parse, to_squid, windows_update_traffic, Decision, Diagnostic,
    Explanation, LintOptions, Policy, TraceStatus, UpdateRequest,
};
use squid_model::Squid;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
const TRAFFIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/traffic");
const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cpl");

fn files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [POLICIES, CORPUS, TRAFFIC] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cpl") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 50, "the corpus shrank: {}", files.len());
    files
}

/// What `explain` shows for one request of the model.
struct Traced {
    traffic: UpdateRequest,
    explanation: Explanation,
}

impl Traced {
    fn tls(&self) -> bool {
        self.traffic.request.is_tls()
    }

    fn bypassed(&self, decision: Decision) -> bool {
        self.explanation.is_set(decision)
            && decision.is_bypass(&self.explanation.value(decision).to_ascii_lowercase())
    }

    fn denied(&self) -> bool {
        self.explanation.is_set(Decision::Access) && !self.bypassed(Decision::Access)
    }

    /// The bypass properties (and `access` when denied) this request does not get.
    fn failing(&self) -> Vec<Decision> {
        let mut failing: Vec<Decision> = Decision::BYPASS
            .into_iter()
            .filter(|d| !d.is_tls_only() || self.tls())
            .filter(|d| !self.bypassed(*d))
            .collect();
        if self.denied() {
            failing.push(Decision::Access);
        }
        failing
    }

    /// Lines of the rules `explain` could not decide: undecided rules, and every rule of a
    /// layer whose guard is undecided.
    fn undecided_lines(&self) -> Vec<usize> {
        let guard_undecided = |skipped: &Option<String>| {
            skipped
                .as_deref()
                .is_some_and(|why| why.contains("guard is undecided"))
        };
        self.explanation
            .layers
            .iter()
            .flat_map(|layer| {
                layer.rules.iter().filter(move |(_, status)| {
                    matches!(status, TraceStatus::Undecided(_)) || guard_undecided(&layer.skipped)
                })
            })
            .map(|(rule, _)| rule.location.line)
            .chain(
                self.explanation
                    .layers
                    .iter()
                    .flat_map(|layer| layer.undetermined.iter())
                    .map(|(rule, _)| rule.location.line),
            )
            .collect()
    }
}

/// `explain` for every request of the model; over TLS, first for the `CONNECT` of its tunnel,
/// which is all the proxy sees when the policy does not intercept it.
fn trace(policy: &Policy) -> Vec<Traced> {
    windows_update_traffic()
        .into_iter()
        .map(|traffic| {
            let tunnel = traffic
                .tunnel()
                .map(|connect| explain_request(policy, &connect))
                .filter(|tunnel| {
                    tunnel.is_set(Decision::SslForwardProxy)
                        && Decision::SslForwardProxy
                            .is_bypass(tunnel.value(Decision::SslForwardProxy))
                });
            Traced {
                explanation: tunnel.unwrap_or_else(|| explain_request(policy, &traffic.request)),
                traffic,
            }
        })
        .collect()
}

fn text_of(diagnostic: &Diagnostic) -> String {
    let mut text = diagnostic.message.clone();
    for line in diagnostic.notes.iter().chain(&diagnostic.help) {
        text.push('\n');
        text.push_str(line);
    }
    text
}

/// The decisions on which the fragment and `explain` differ for one request.
fn fragment_differs(traced: &Traced, squid: &Squid) -> Vec<Decision> {
    let tls = traced.tls();
    let decided = squid.decide(&traced.traffic.request.host, tls);
    let cache_off = traced
        .explanation
        .properties
        .iter()
        .any(|p| p.name.eq_ignore_ascii_case("cache") && p.value.eq_ignore_ascii_case("no"));
    let mut pairs = vec![
        (Decision::Access, traced.denied(), decided.denied),
        (
            Decision::BypassCache,
            traced.bypassed(Decision::BypassCache) || cache_off,
            decided.cache_bypassed,
        ),
        (
            Decision::RequestIcap,
            traced.bypassed(Decision::RequestIcap),
            decided.reqmod_off,
        ),
        (
            Decision::ResponseIcap,
            traced.bypassed(Decision::ResponseIcap),
            decided.respmod_off,
        ),
    ];
    if !traced.denied() {
        pairs.push((
            Decision::Authenticate,
            traced.bypassed(Decision::Authenticate),
            !decided.asks_credentials,
        ));
        pairs.push((
            Decision::Categorize,
            traced.bypassed(Decision::Categorize),
            !decided.categorized,
        ));
    }
    if tls {
        pairs.push((
            Decision::SslForwardProxy,
            traced.bypassed(Decision::SslForwardProxy),
            decided.spliced,
        ));
        pairs.push((
            Decision::DetectProtocol,
            traced.bypassed(Decision::DetectProtocol),
            decided.spliced_at_step1 || decided.tunnel_unsupported,
        ));
    }
    pairs
        .into_iter()
        .filter(|(_, cpl, fragment)| cpl != fragment)
        .map(|(decision, ..)| decision)
        .collect()
}

/// What a `tests/traffic` file says must be found.
#[derive(Default, Debug)]
struct Expected {
    bypassed: bool,
    not_bypassed: BTreeSet<String>,
    families: Option<BTreeSet<String>>,
    undecided: BTreeSet<String>,
    denied: bool,
}

fn expected(source: &str) -> Option<Expected> {
    let mut expected = Expected::default();
    let mut any = false;
    for line in source.lines().take_while(|l| l.starts_with(';')) {
        let Some(rest) = line
            .trim_start_matches(';')
            .trim()
            .strip_prefix("windows-update:")
        else {
            continue;
        };
        any = true;
        let rest = rest.trim();
        let list = |text: &str| -> BTreeSet<String> {
            text.split(", ").map(|s| s.trim().to_owned()).collect()
        };
        if rest == "bypassed" {
            expected.bypassed = true;
        } else if rest == "denied" {
            expected.denied = true;
        } else if let Some(names) = rest.strip_prefix("not bypassed:") {
            expected.not_bypassed = list(names);
        } else if let Some(names) = rest.strip_prefix("families:") {
            expected.families = Some(list(names));
        } else if let Some(names) = rest.strip_prefix("undecided:") {
            expected.undecided = list(names);
        } else {
            panic!("unreadable `windows-update:` line: {line}");
        }
    }
    any.then_some(expected)
}

fn check(path: &PathBuf) -> Result<(), String> {
    let source = std::fs::read_to_string(path).unwrap();
    let name = path.display().to_string();
    let policy = parse(&source, &name).map_err(|_| format!("{name}: does not parse"))?;
    let traced = trace(&policy);
    let required = LintOptions {
        require_windows_update: true,
    };
    let diagnostics = lint_with(&policy, &required);
    let coverage = diagnostics
        .iter()
        .find(|d| d.code == "windows-update-coverage");
    let undecided = diagnostics
        .iter()
        .find(|d| d.code == "windows-update-undecided");
    let failing: Vec<(&Traced, Vec<Decision>)> = traced
        .iter()
        .map(|t| (t, t.failing()))
        .filter(|(_, failing)| !failing.is_empty())
        .collect();

    // Lint's coverage and explain.
    match (coverage, failing.first()) {
        (None, Some((t, decisions))) => {
            return Err(format!(
                "{name}: lint --require windows-update finds no coverage gap, but explain shows {} not bypassed for {}",
                decisions.iter().map(|d| d.cpl_name()).collect::<Vec<_>>().join(", "),
                t.traffic.describe()
            ))
        }
        (Some(diagnostic), None) => {
            return Err(format!(
                "{name}: lint reports a coverage gap, but explain shows every update request bypassed:\n{}",
                text_of(diagnostic)
            ))
        }
        _ => {}
    }
    if let Some(diagnostic) = coverage {
        let text = text_of(diagnostic);
        let everything = text.contains("nothing bypassed");
        for (t, decisions) in &failing {
            for decision in decisions {
                let named = match decision {
                    Decision::Access => text.contains("denied"),
                    _ => everything || text.contains(decision.cpl_name()),
                };
                if !named {
                    return Err(format!(
                        "{name}: explain shows {decision} not bypassed for {}, lint does not name it:\n{text}",
                        t.traffic.describe()
                    ));
                }
            }
            if !text.contains(t.traffic.pattern) {
                return Err(format!(
                    "{name}: explain shows {} failing, lint does not name its pattern {}:\n{text}",
                    t.traffic.describe(),
                    t.traffic.pattern
                ));
            }
        }
        // When some kinds of request on a host are fine, lint names the failing kinds.
        for host in traced.iter().map(|t| t.traffic.request.host.as_str()) {
            let of_host: Vec<&Traced> = traced
                .iter()
                .filter(|t| t.traffic.request.host == host)
                .collect();
            let fails: Vec<&&Traced> = of_host.iter().filter(|t| !t.failing().is_empty()).collect();
            let all_families: BTreeSet<&str> =
                of_host.iter().map(|t| t.traffic.family.name).collect();
            let failing_families: BTreeSet<&str> =
                fails.iter().map(|t| t.traffic.family.name).collect();
            if !failing_families.is_empty() && failing_families != all_families {
                for family in &failing_families {
                    if !text.contains(family) {
                        return Err(format!(
                            "{name}: explain shows {family} on {host} failing and other kinds passing; lint does not name it:\n{text}"
                        ));
                    }
                }
            }
        }
    }

    // Lint's undecided finding points at rules explain shows undecided.
    let undecided_lines: BTreeSet<usize> =
        traced.iter().flat_map(Traced::undecided_lines).collect();
    if let Some(diagnostic) = undecided {
        let lines = diagnostic
            .primary
            .iter()
            .chain(&diagnostic.secondary)
            .map(|label| label.span.line);
        for line in lines {
            if !undecided_lines.contains(&line) {
                return Err(format!(
                    "{name}: lint says line {line} could undo the bypass, explain never shows it undecided for update traffic"
                ));
            }
        }
    }

    // to-squid never differs from explain on update traffic without saying so, and says so
    // only where explain shows a difference or an undecided rule.
    let translation = to_squid(&policy);
    let squid = Squid::parse(&translation.fragment);
    let mut diverging: BTreeSet<Decision> = BTreeSet::new();
    for t in &traced {
        for decision in fragment_differs(t, &squid) {
            diverging.insert(decision);
            let listed = translation
                .update_host_risks
                .iter()
                .any(|risk| risk.subject.starts_with(decision.cpl_name()));
            if !listed {
                return Err(format!(
                    "{name}: the fragment and explain differ on {decision} for {}, but to-squid lists no such update-host risk:\n{}",
                    t.traffic.describe(),
                    translation.fragment
                ));
            }
        }
    }
    if translation.may_change_update_properties()
        && diverging.is_empty()
        && undecided_lines.is_empty()
    {
        return Err(format!(
            "{name}: to-squid lists update-host risks, but the fragment decides every update request as explain does and explain shows no undecided rule:\n{}",
            translation
                .update_host_risks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }

    // What the file says must be found.
    let Some(expected) = expected(&source) else {
        return Ok(());
    };
    let failing_names: BTreeSet<String> = failing
        .iter()
        .flat_map(|(_, decisions)| decisions.iter())
        .filter(|d| **d != Decision::Access)
        .map(|d| d.cpl_name().to_owned())
        .collect();
    let denied = failing
        .iter()
        .any(|(_, decisions)| decisions.contains(&Decision::Access));
    if expected.bypassed {
        let errors: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(text_of)
            .collect();
        if !failing.is_empty() || !errors.is_empty() || translation.may_change_update_properties() {
            return Err(format!(
                "{name}: a correct policy is flagged: explain fails {failing_names:?}; lint errors {errors:?}; to-squid risks {:?}",
                translation.update_host_risks
            ));
        }
        return Ok(());
    }
    if failing_names != expected.not_bypassed {
        return Err(format!(
            "{name}: explain shows {failing_names:?} not bypassed, the file expects {:?}",
            expected.not_bypassed
        ));
    }
    if denied != expected.denied {
        return Err(format!(
            "{name}: denied {denied}, expected {}",
            expected.denied
        ));
    }
    if let Some(families) = &expected.families {
        let found: BTreeSet<String> = failing
            .iter()
            .map(|(t, _)| t.traffic.family.name.to_owned())
            .collect();
        if &found != families {
            return Err(format!(
                "{name}: failing kinds of request {found:?}, expected {families:?}"
            ));
        }
    }
    if !expected.undecided.is_empty() {
        let Some(diagnostic) = undecided.filter(|d| d.is_error()) else {
            return Err(format!(
                "{name}: lint --require windows-update reports no undecided bypass as an error"
            ));
        };
        let text = text_of(diagnostic);
        for decision in &expected.undecided {
            let risk = translation
                .update_host_risks
                .iter()
                .any(|r| r.subject.starts_with(decision.as_str()));
            if !text.contains(decision.as_str()) || !risk {
                return Err(format!(
                    "{name}: {decision} undecided: lint says {text:?}, to-squid risk listed: {risk}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn lint_explain_and_to_squid_agree_on_windows_update_over_the_whole_corpus() {
    let failures: Vec<String> = files().iter().filter_map(|p| check(p).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The checks above can fail: a policy lint passes while explain shows a fault is caught.
#[test]
fn the_agreement_check_catches_a_disagreement() {
    let faulty = PathBuf::from(TRAFFIC).join("extension-icap-after-bypass.cpl");
    assert!(check(&faulty).is_ok());
    let dir = std::env::temp_dir().join(format!("cpl-agreement-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The same policy claimed correct: the expectation check must refuse it.
    let claimed = dir.join("claimed-correct.cpl");
    let source = std::fs::read_to_string(&faulty).unwrap().replace(
        "; windows-update: not bypassed: response.icap_service",
        "; windows-update: bypassed",
    );
    std::fs::write(&claimed, source).unwrap();
    let error = check(&claimed).unwrap_err();
    assert!(error.contains("a correct policy is flagged"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
