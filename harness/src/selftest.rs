//! The mutation self-test: the suite against every faulty policy in a directory. Each mutant
//! declares (`# fails: @tag …`) the properties its one fault breaks; it is detected when every
//! declared property has a failing scenario, every failing scenario carries a declared
//! property, and no control failed (a failed control means the lab, not the policy, is wrong).
//! The reference policy must pass, and every property must be declared by some mutant.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use conformance_lab::{display_path, ProxyBackend};
use conformance_model::PROPERTY_TAGS;
use futures::StreamExt as _;

use crate::bundle::Bundle;
use crate::error::SuiteError;
use crate::model::{ScenarioOutcome, SuiteReport};
use crate::runner::{run_suite, Console, SuiteOptions};
use crate::verdict::Verdict;

/// How many directive lines a mutant may add or remove against the reference and still be
/// one fault (moving a rule counts 2; the Store-ID recipe, the largest, counts 5).
pub const MAX_CHANGED_LINES: usize = 6;

/// Properties no Squid directive can break on its own: Squid never fetches what no client
/// asked for (it has no prefetching), so the @prefetch invariant (a request at the origin that
/// no client sent) is proven by unit tests on synthetic journals
/// (`harness/src/invariants/judge.rs`) instead of a policy mutant.
const NO_SQUID_FAULT: &[&str] = &["@prefetch"];

/// A faulty policy and the properties it must make fail.
#[derive(Debug, Clone)]
pub struct Mutant {
    /// The policy the suite runs: the file itself, or the reference with the patch applied.
    pub path: PathBuf,
    /// The mutant as stored (`policies/squid/mutants/<name>.patch`).
    pub source: PathBuf,
    /// Keeps the folder of applied patches for as long as the mutant is in use.
    _applied: Option<Arc<tempfile::TempDir>>,
    pub name: String,
    pub expected: BTreeSet<String>,
    /// What the fault breaks: the policy (a bypass fails), or the proxy's policing of other
    /// hosts (a control fails, and the verdict must be inconclusive, never pass or fail).
    pub kind: MutantKind,
    /// Checks the fault must trip (`# fails-at: <words of a Then step>`): the judge requires a
    /// failed scenario whose failing step says them, so a mutant proves those checks can fail.
    pub fails_at: Vec<String>,
    /// Directive lines added or removed against the reference policy (comments ignored).
    pub changed_lines: usize,
}

impl Mutant {
    /// A policy judged as it is (a test's own case), with what it must make fail.
    pub fn declared(
        path: PathBuf,
        name: impl Into<String>,
        expected: BTreeSet<String>,
        kind: MutantKind,
    ) -> Self {
        Self {
            source: path.clone(),
            path,
            _applied: None,
            name: name.into(),
            expected,
            kind,
            fails_at: Vec::new(),
            changed_lines: 0,
        }
    }
}

/// What a mutant's one fault breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutantKind {
    /// `# fails: @tag …`: the policy no longer lets update traffic through untouched; the
    /// declared properties fail, nothing else does, every control passes.
    Policy,
    /// `# controls-fail: @tag …`: the proxy stops policing other hosts (authenticating,
    /// caching, adapting, bumping, categorising); the declared properties' controls fail and
    /// the run is inconclusive for them — a bypass check without a working control must never
    /// read as a pass.
    Control,
    /// `# blinds: @tag …`: the proxy takes an instrument away (strips the harness's
    /// `X-Conformance-*` headers); the declared properties must be inconclusive, never fail
    /// and never pass, and so must the run.
    Blinding,
    /// `# correct: <style>`: a correct policy written in another style (`policies/squid/correct/`);
    /// the run must PASS with exit 0 — a tool that fails correct policies is switched off.
    Correct,
}

/// The policy's directive lines, without comments and blank lines.
fn directives(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The policy a mutant stored as an edit makes of the `reference`: its header (the comment
/// lines before the unified diff: `# fails: …` and why the fault is realistic) followed by the
/// reference with the diff applied. A patch that no longer applies (the reference changed
/// under it) is an error naming the file, so a change to the reference is made once and a
/// mutant it breaks fails loudly.
pub fn apply_mutant(patch: &Path, reference: &Path) -> Result<String, SuiteError> {
    let shown = display_path(patch);
    let text = std::fs::read_to_string(patch)
        .map_err(|e| SuiteError::Rejected(format!("{shown}: {e}")))?;
    let base = std::fs::read_to_string(reference)
        .map_err(|e| SuiteError::Rejected(format!("{}: {e}", display_path(reference))))?;
    let diff_start = text
        .match_indices("--- ")
        .map(|(at, _)| at)
        .find(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n')
        .ok_or_else(|| {
            SuiteError::Rejected(format!(
                "{shown}: no unified diff (a `--- ` line) after the mutant's declarations"
            ))
        })?;
    let (header, diff) = text.split_at(diff_start);
    let diff = diffy::Patch::from_str(diff)
        .map_err(|e| SuiteError::Rejected(format!("{shown}: not a unified diff: {e}")))?;
    let applied = diffy::apply(&base, &diff).map_err(|e| {
        SuiteError::Rejected(format!(
            "{shown}: no longer applies to the reference policy {} ({e}); remake it with \
             `diff -u` of the reference and the faulty policy",
            display_path(reference)
        ))
    })?;
    Ok(format!("{header}{applied}"))
}

fn changed_lines(reference: &str, mutant: &str) -> usize {
    let (reference, mutant) = (directives(reference), directives(mutant));
    similar::TextDiff::from_lines(&reference, &mutant)
        .iter_all_changes()
        .filter(|change| change.tag() != similar::ChangeTag::Equal)
        .count()
}

/// What the suite made of one mutant.
#[derive(Debug, Clone)]
pub struct MutantVerdict {
    pub mutant: Mutant,
    /// Property tags of the scenarios that failed.
    pub failed_tags: BTreeSet<String>,
    pub failed_scenarios: usize,
    /// Where the failing steps are defined (`steps/src/tls.rs:17`): the checks this mutant
    /// was seen tripping.
    pub failed_steps: BTreeSet<String>,
    pub problems: Vec<String>,
    pub duration: Duration,
}

impl MutantVerdict {
    pub fn detected(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Options of a self-test run.
#[derive(Debug, Clone)]
pub struct SelftestOptions {
    pub mutants: PathBuf,
    /// Correct policies of other styles (`# correct: …`), each of which must pass.
    pub correct: Option<PathBuf>,
    pub reference: PathBuf,
    pub features: PathBuf,
    pub concurrency: usize,
    /// Policies judged at once, each on its own lab (the runs wait on the network as much as
    /// they use the CPU, so two labs finish sooner than one after the other).
    pub labs_at_once: usize,
    /// A line on stderr as each policy is done.
    pub progress: bool,
    /// The bundled proxy every policy runs on.
    pub backend: &'static dyn ProxyBackend,
}

impl Default for SelftestOptions {
    fn default() -> Self {
        let suite = SuiteOptions::default();
        Self {
            mutants: Bundle::get().map_or_else(|_| PathBuf::from("mutants"), |b| b.mutants()),
            correct: Bundle::get().ok().map(|b| b.correct_policies()),
            reference: suite.policy,
            features: suite.features,
            concurrency: suite.concurrency,
            labs_at_once: 2,
            progress: false,
            backend: suite.backend,
        }
    }
}

/// The finished self-test.
#[derive(Debug, Clone)]
pub struct SelftestReport {
    pub reference: SuiteReport,
    pub verdicts: Vec<MutantVerdict>,
    /// Properties no mutant declares.
    pub uncovered: Vec<String>,
}

impl SelftestReport {
    pub fn passed(&self) -> bool {
        self.reference.passed()
            && self.uncovered.is_empty()
            && !self.verdicts.is_empty()
            && self.verdicts.iter().all(MutantVerdict::detected)
    }

    /// A Markdown table: mutant, expected tags, failed tags, detected.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| mutant | lines changed | expected to fail | failed | detected |\n|---|---|---|---|---|\n");
        let tags = |set: &BTreeSet<String>| {
            if set.is_empty() {
                "—".to_owned()
            } else {
                set.iter().cloned().collect::<Vec<_>>().join(" ")
            }
        };
        for verdict in &self.verdicts {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                verdict.mutant.name,
                verdict.mutant.changed_lines,
                match verdict.mutant.kind {
                    MutantKind::Policy => tags(&verdict.mutant.expected),
                    MutantKind::Control => format!(
                        "controls of {} (inconclusive)",
                        tags(&verdict.mutant.expected)
                    ),
                    MutantKind::Blinding => format!(
                        "checks of {} blinded (inconclusive)",
                        tags(&verdict.mutant.expected)
                    ),
                    MutantKind::Correct => "nothing: a correct policy (PASS)".to_owned(),
                },
                tags(&verdict.failed_tags),
                if verdict.detected() { "yes" } else { "**no**" }
            );
        }
        out
    }

    /// The table, each undetected mutant's problems, and the verdict.
    pub fn render(&self) -> String {
        let mut out = format!(
            "reference policy {}: {}\n\n{}",
            display_path(&self.reference.policy),
            self.reference.summary(),
            self.table()
        );
        for failed in self.reference.failed() {
            let _ = writeln!(out, "reference policy failed {}", failed.location());
        }
        for verdict in self.verdicts.iter().filter(|v| !v.detected()) {
            let _ = writeln!(out, "\n{}:", verdict.mutant.name);
            for problem in &verdict.problems {
                let _ = writeln!(out, "  {problem}");
            }
        }
        if !self.uncovered.is_empty() {
            let _ = writeln!(
                out,
                "\nno mutant declares {}: the suite is not shown to catch faults there",
                self.uncovered.join(" ")
            );
        }
        let detected = self.verdicts.iter().filter(|v| v.detected()).count();
        let _ = writeln!(
            out,
            "\nselftest: {detected}/{} mutants detected, reference {}: {}",
            self.verdicts.len(),
            if self.reference.passed() {
                "passed"
            } else {
                "FAILED"
            },
            if self.passed() { "PASSED" } else { "FAILED" }
        );
        out
    }
}

/// Reads the mutants of `dir` — `*.patch` edits of the `reference` policy, applied here, and
/// whole `*.conf` policies (correct policies, a user's own faults) — with their `# fails:`
/// declarations and how far each is from the reference.
pub fn load_mutants(dir: &Path, reference: &Path) -> Result<Vec<Mutant>, SuiteError> {
    let reference_path = reference;
    let reference = std::fs::read_to_string(reference)
        .map_err(|e| SuiteError::Rejected(format!("{}: {e}", reference.display())))?;
    let entries = std::fs::read_dir(dir)
        .map_err(|e| SuiteError::Usage(format!("cannot read mutants in {}: {e}", dir.display())))?;
    let mut mutants = Vec::new();
    let mut applied: Option<Arc<tempfile::TempDir>> = None;
    for path in entries.flatten().map(|e| e.path()) {
        let Some(extension) = path.extension().filter(|x| *x == "conf" || *x == "patch") else {
            continue;
        };
        // The policy the suite runs, and the folder that holds it when it was applied here.
        let (text, policy, policy_dir) = if extension == "patch" {
            let text = apply_mutant(&path, reference_path)?;
            let dir = match &applied {
                Some(dir) => dir.clone(),
                None => applied
                    .insert(Arc::new(
                        tempfile::Builder::new()
                            .prefix("proxy-conformance-mutants-")
                            .tempdir()
                            .map_err(|e| {
                                SuiteError::Environment(format!(
                                    "cannot create a temporary directory: {e}"
                                ))
                            })?,
                    ))
                    .clone(),
            };
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let policy = dir.path().join(format!("{stem}.conf"));
            std::fs::write(&policy, &text).map_err(|e| {
                SuiteError::Environment(format!("cannot write {}: {e}", policy.display()))
            })?;
            (text, policy, Some(dir))
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SuiteError::Rejected(format!("{}: {e}", path.display())))?;
            (text, path.clone(), None)
        };
        let (kind, declared) = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("# fails:")
                    .map(|d| (MutantKind::Policy, d))
                    .or_else(|| {
                        l.strip_prefix("# controls-fail:")
                            .map(|d| (MutantKind::Control, d))
                    })
                    .or_else(|| {
                        l.strip_prefix("# blinds:")
                            .map(|d| (MutantKind::Blinding, d))
                    })
                    .or_else(|| {
                        l.strip_prefix("# correct:")
                            .map(|_| (MutantKind::Correct, ""))
                    })
            })
            .ok_or_else(|| {
                SuiteError::Rejected(format!(
                    "{}: no `# fails: @tag …` (or `# controls-fail: @tag …`, `# blinds: @tag …`) \
                     line declaring what the fault breaks",
                    display_path(&path)
                ))
            })?;
        let expected: BTreeSet<String> = declared.split_whitespace().map(str::to_owned).collect();
        if let Some(unknown) = expected
            .iter()
            .find(|t| !PROPERTY_TAGS.contains(&t.as_str()))
        {
            return Err(SuiteError::Rejected(format!(
                "{}: `{unknown}` is not a property tag ({})",
                display_path(&path),
                PROPERTY_TAGS.join(" ")
            )));
        }
        let name = path
            .file_stem()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let fails_at = text
            .lines()
            .filter_map(|l| l.strip_prefix("# fails-at:"))
            .map(|words| words.trim().to_owned())
            .filter(|words| !words.is_empty())
            .collect();
        mutants.push(Mutant {
            changed_lines: changed_lines(&reference, &text),
            path: policy,
            source: path,
            _applied: policy_dir,
            name,
            expected,
            kind,
            fails_at,
        });
    }
    mutants.sort_by(|a, b| a.name.cmp(&b.name));
    if mutants.is_empty() {
        return Err(SuiteError::Usage(format!(
            "no *.patch or *.conf mutants in {}",
            dir.display()
        )));
    }
    Ok(mutants)
}

/// The `# fails-at:` declarations of `mutant` that no failed scenario's failing step says.
fn untripped_checks(mutant: &Mutant, failed: &[&ScenarioOutcome]) -> Vec<String> {
    mutant
        .fails_at
        .iter()
        .filter(|words| {
            !failed.iter().any(|scenario| {
                scenario
                    .failed_step
                    .as_ref()
                    .is_some_and(|step| step.text.contains(words.as_str()))
            })
        })
        .map(|words| {
            format!("declared to fail at \"{words}\", but no scenario failed at such a step")
        })
        .collect()
}

/// Judges one mutant's run.
pub fn judge(mutant: &Mutant, report: &SuiteReport) -> MutantVerdict {
    if let Some(what) = report.lab.what_failed() {
        // A broken lab judges no policy: the mutant is neither detected nor missed.
        let failed: Vec<_> = report.failed().collect();
        let problem = format!("not judged: the lab broke ({what}), exit 3");
        return verdict_of(mutant, report, &failed, BTreeSet::new(), vec![problem]);
    }
    match mutant.kind {
        MutantKind::Policy => judge_policy_fault(mutant, report),
        MutantKind::Control | MutantKind::Blinding => judge_inconclusive_fault(mutant, report),
        MutantKind::Correct => judge_correct_policy(mutant, report),
    }
}

/// A correct policy of another style: the run passes (exit 0), every property with it.
fn judge_correct_policy(mutant: &Mutant, report: &SuiteReport) -> MutantVerdict {
    let failed: Vec<_> = report.failed().collect();
    let mut problems = Vec::new();
    if report.verdict() != Verdict::Pass {
        problems.push(format!(
            "a correct policy must pass, but the run is {}",
            report.verdict()
        ));
    }
    for property in report
        .properties()
        .iter()
        .filter(|p| p.verdict != Verdict::Pass)
    {
        problems.push(format!(
            "{} is {}: {}",
            property.property.tag(),
            property.verdict,
            property.why
        ));
    }
    for scenario in failed.iter().take(5) {
        problems.push(format!("failed: {}", scenario.location()));
    }
    verdict_of(mutant, report, &failed, failed_properties(report), problems)
}

/// A fault must stay one fault: at most [`MAX_CHANGED_LINES`] directive lines off the reference.
fn too_far_from_the_reference(mutant: &Mutant) -> Option<String> {
    (mutant.changed_lines > MAX_CHANGED_LINES).then(|| {
        format!(
            "differs from the reference policy in {} directive lines (at most {MAX_CHANGED_LINES} \
             for one fault): did the reference change without this mutant?",
            mutant.changed_lines
        )
    })
}

/// The properties that failed, as the user sees them.
fn failed_properties(report: &SuiteReport) -> BTreeSet<String> {
    report
        .properties()
        .iter()
        .filter(|p| p.verdict == Verdict::Fail)
        .map(|p| p.property.tag().to_owned())
        .collect()
}

fn verdict_of(
    mutant: &Mutant,
    report: &SuiteReport,
    failed: &[&ScenarioOutcome],
    failed_tags: BTreeSet<String>,
    problems: Vec<String>,
) -> MutantVerdict {
    MutantVerdict {
        mutant: mutant.clone(),
        failed_tags,
        failed_scenarios: failed.len(),
        failed_steps: failed
            .iter()
            .filter_map(|s| s.failed_step.as_ref()?.definition.clone())
            .collect(),
        problems,
        duration: report.duration,
    }
}

/// A control or blinding fault: every declared property is inconclusive (its control failed,
/// or an instrument was taken away), no property fails, and the run is inconclusive.
fn judge_inconclusive_fault(mutant: &Mutant, report: &SuiteReport) -> MutantVerdict {
    let failed: Vec<_> = report.failed().collect();
    let properties = report.properties();
    let mut problems = Vec::new();
    problems.extend(too_far_from_the_reference(mutant));
    for tag in &mutant.expected {
        match properties.iter().find(|p| p.property.tag() == tag) {
            Some(p) if p.verdict == Verdict::Inconclusive => {}
            Some(p) => problems.push(format!(
                "{tag} is {} ({}), not inconclusive: {}",
                p.verdict,
                p.why,
                if mutant.kind == MutantKind::Control {
                    "its control should have failed"
                } else {
                    "its checks should have been blinded"
                }
            )),
            None => problems.push(format!("no {tag} scenario ran")),
        }
    }
    for property in properties.iter().filter(|p| p.verdict == Verdict::Fail) {
        problems.push(format!(
            "{} failed ({}): a control or blinding fault must never read as a policy failure",
            property.property.tag(),
            property.why
        ));
    }
    if report.verdict() != Verdict::Inconclusive {
        problems.push(format!("the run is {}, not inconclusive", report.verdict()));
    }
    problems.extend(untripped_checks(mutant, &failed));
    let failed_tags = failed
        .iter()
        .flat_map(|s| s.properties().map(str::to_owned))
        .collect();
    verdict_of(mutant, report, &failed, failed_tags, problems)
}

/// A policy fault, judged by what the user sees: the run exits 4 (FAIL), every declared
/// property's verdict is FAIL, and no other property fails.
fn judge_policy_fault(mutant: &Mutant, report: &SuiteReport) -> MutantVerdict {
    let failed: Vec<_> = report.failed().collect();
    let failed_tags = failed_properties(report);
    let mut problems = Vec::new();
    problems.extend(too_far_from_the_reference(mutant));
    if report.verdict() != Verdict::Fail {
        problems.push(format!(
            "the run is {} (exit {}), not FAIL (exit 4): the fault went undetected",
            report.verdict(),
            report.outcome.exit_code
        ));
    }
    for tag in &mutant.expected {
        if !failed_tags.contains(tag) {
            problems.push(format!(
                "{tag} did not FAIL: the fault went undetected there"
            ));
        }
    }
    for tag in failed_tags.iter().filter(|t| !mutant.expected.contains(*t)) {
        problems.push(format!(
            "{tag} FAILED although the fault is declared for {} only",
            mutant
                .expected
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    problems.extend(untripped_checks(mutant, &failed));
    verdict_of(mutant, report, &failed, failed_properties(report), problems)
}

/// Runs the reference policy and then every mutant, one lab each.
pub async fn run_selftest(options: SelftestOptions) -> Result<SelftestReport, SuiteError> {
    let mut mutants = load_mutants(&options.mutants, &options.reference)?;
    if let Some(correct) = options.correct.as_ref().filter(|dir| dir.is_dir()) {
        mutants.extend(load_mutants(correct, &options.reference)?);
    }
    let suite = |policy: PathBuf| SuiteOptions {
        policy,
        features: options.features.clone(),
        concurrency: options.concurrency,
        console: Console::Silent,
        backend: options.backend,
        ..SuiteOptions::default()
    };
    let reference = run_suite(suite(options.reference.clone())).await?;
    if options.progress {
        eprintln!("selftest: reference policy: {}", reference.summary());
    }
    let mut runs = futures::stream::iter(mutants.iter().map(|mutant| async {
        run_suite(suite(mutant.path.clone()))
            .await
            .map(|report| judge(mutant, &report))
    }))
    .buffered(options.labs_at_once.max(1));
    let mut verdicts = Vec::new();
    while let Some(verdict) = runs.next().await {
        let verdict = verdict?;
        if options.progress {
            eprintln!(
                "selftest: [{}/{}] {} {} ({} scenarios failed, {:.1} s)",
                verdicts.len() + 1,
                mutants.len(),
                verdict.mutant.name,
                if verdict.detected() {
                    "detected"
                } else {
                    "NOT DETECTED"
                },
                verdict.failed_scenarios,
                verdict.duration.as_secs_f64()
            );
        }
        verdicts.push(verdict);
    }
    drop(runs);
    let uncovered = PROPERTY_TAGS
        .iter()
        .filter(|tag| !NO_SQUID_FAULT.contains(tag))
        .filter(|tag| {
            !mutants
                .iter()
                .any(|m| m.kind == MutantKind::Policy && m.expected.contains(**tag))
        })
        .map(|tag| (*tag).to_owned())
        .collect();
    Ok(SelftestReport {
        reference,
        verdicts,
        uncovered,
    })
}

#[cfg(test)]
mod tests {
    use super::{apply_mutant, load_mutants};
    use super::{changed_lines, MAX_CHANGED_LINES};
    use std::path::Path;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

    #[test]
    fn every_bundled_mutant_applies_to_the_reference_and_stays_one_fault() {
        let reference = Path::new(ROOT).join("policies/squid/windows-update-bypass.conf");
        let mutants = load_mutants(&Path::new(ROOT).join("policies/squid/mutants"), &reference)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(mutants.len() >= 39, "{} mutants", mutants.len());
        for mutant in &mutants {
            let text = std::fs::read_to_string(&mutant.path).unwrap();
            assert!(text.starts_with("# "), "{}: header kept", mutant.name);
            assert!(
                (1..=super::MAX_CHANGED_LINES).contains(&mutant.changed_lines),
                "{}: {} lines changed",
                mutant.name,
                mutant.changed_lines
            );
        }
    }

    #[test]
    fn a_patch_the_reference_moved_away_from_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference.conf");
        std::fs::write(
            &reference,
            "acl a dstdomain .a.example\nhttp_access allow a\n",
        )
        .unwrap();
        let patch = dir.path().join("stale.patch");
        std::fs::write(
            &patch,
            "# fails: @auth\n\n--- reference.conf\n+++ stale.conf\n@@ -1,2 +1,2 @@\n acl b dstdomain .b.example\n-http_access allow b\n+http_access deny b\n",
        )
        .unwrap();
        let error = apply_mutant(&patch, &reference).unwrap_err().to_string();
        assert!(
            error.contains("stale.patch") && error.contains("no longer applies"),
            "{error}"
        );
        std::fs::write(
            &patch,
            "# fails: @auth\n\n--- reference.conf\n+++ fresh.conf\n@@ -1,2 +1,2 @@\n acl a dstdomain .a.example\n-http_access allow a\n+http_access deny a\n",
        )
        .unwrap();
        assert_eq!(
            apply_mutant(&patch, &reference).unwrap(),
            "# fails: @auth\n\nacl a dstdomain .a.example\nhttp_access deny a\n"
        );
    }

    const REFERENCE: &str = "# reference\nacl wu dstdomain .update.microsoft.com\n\nhttp_access allow wu\nhttp_access allow users\ncache deny wu\n";

    #[test]
    fn comments_and_blank_lines_do_not_count() {
        let mutant = "# fails: @cache\n# a different comment\nacl wu dstdomain .update.microsoft.com\nhttp_access allow wu\n\nhttp_access allow users\ncache deny wu\n";
        assert_eq!(changed_lines(REFERENCE, mutant), 0);
    }

    #[test]
    fn a_moved_rule_counts_two_and_a_removed_one_counts_one() {
        let moved = "acl wu dstdomain .update.microsoft.com\nhttp_access allow users\nhttp_access allow wu\ncache deny wu\n";
        assert_eq!(changed_lines(REFERENCE, moved), 2);
        let removed = "acl wu dstdomain .update.microsoft.com\nhttp_access allow wu\nhttp_access allow users\n";
        assert_eq!(changed_lines(REFERENCE, removed), 1);
    }

    #[test]
    fn a_run_whose_lab_broke_judges_no_mutant() {
        use crate::model::tests_support::{report_with, unjudged};
        let mutant = super::Mutant {
            path: "m.conf".into(),
            source: "m.conf".into(),
            _applied: None,
            name: "m".into(),
            expected: ["@auth".to_owned()].into(),
            kind: super::MutantKind::Policy,
            fails_at: Vec::new(),
            changed_lines: 1,
        };
        let mut report = report_with(vec![unjudged("features/x.feature", 1)]);
        let verdict = super::judge(&mutant, &report);
        assert!(!verdict.detected());
        assert!(
            verdict.problems[0].starts_with("not judged: the lab broke"),
            "{:?}",
            verdict.problems
        );
        report.lab.faults.clear();
        assert!(!super::judge(&mutant, &report).problems[0].starts_with("not judged"));
    }

    #[test]
    fn a_mutant_left_behind_by_a_changed_reference_is_too_far_off() {
        let stale = "acl old dstdomain .windowsupdate.com\nacl old dstdomain .update.microsoft.com\nhttp_access allow old\nhttp_access allow users\nacl x src all\nacl y src all\nacl z src all\n";
        assert!(changed_lines(REFERENCE, stale) > MAX_CHANGED_LINES);
    }
}
