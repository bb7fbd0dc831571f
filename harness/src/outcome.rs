//! The run's outcome as every report shows it: its verdict, the exit code that goes with it and
//! the one sentence that says why — decided here, from the run model alone, so the console,
//! HTML, JUnit, Cucumber JSON and the JSON report cannot disagree. Caveats are what the run's
//! own evidence cannot see (a CPL construct `cpl to-squid` could not carry over that may change
//! how update hosts are treated): they make a pass inconclusive, never a failure a pass.

use std::fmt;

use crate::model::SuiteReport;
use crate::verdict::{property_verdicts, PropertyVerdict, Verdict};

/// Something outside the lab's evidence that keeps a pass from proving the policy: a run that
/// would pass is inconclusive, with this caveat as the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caveat {
    /// Where it comes from, e.g. `cpl to-squid`.
    pub source: String,
    /// What was not judged, e.g. `group=staff (policy.cpl:12): a user group; not translated`.
    pub what: String,
    /// Why it matters, e.g. `may change how update hosts are treated`.
    pub consequence: String,
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} — {}", self.source, self.what, self.consequence)
    }
}

/// The run's verdict, its exit code and why, and each property's verdict: decided once, when
/// the run is over ([`SuiteReport::judged`]), and carried in the run model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub verdict: Verdict,
    /// The process's exit status for this verdict: 0 pass, 3 lab fault, 4 fail, 5 inconclusive.
    pub exit_code: u8,
    /// One sentence: the first failed property, the first inconclusive one, the caveat, or
    /// what every property showed.
    pub reason: String,
    /// Each property's verdict with the reason, in report order.
    pub properties: Vec<PropertyVerdict>,
}

impl Default for RunOutcome {
    /// A run model nobody judged yet: inconclusive, never a pass.
    fn default() -> Self {
        Self {
            verdict: Verdict::Inconclusive,
            exit_code: Verdict::Inconclusive.exit_code(),
            reason: "not judged yet".to_owned(),
            properties: Vec::new(),
        }
    }
}

impl Verdict {
    /// The exit status a run with this verdict ends with (the table of `--help`).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::LabFault => 3,
            Self::Fail => 4,
            Self::Inconclusive => 5,
        }
    }
}

impl SuiteReport {
    /// The model with its outcome decided: the run's verdict, exit code and reason, and each
    /// property's verdict. The runner calls it once, when the run is over; a model changed
    /// after that must be judged again.
    pub fn judged(mut self) -> Self {
        let properties = property_verdicts(&self.scenarios, self.invariants());
        let verdict = self.decide_verdict();
        self.outcome = RunOutcome {
            verdict,
            exit_code: verdict.exit_code(),
            reason: self.reason(verdict, &properties),
            properties,
        };
        self
    }

    /// Why the run has `verdict`, in one sentence.
    fn reason(&self, verdict: Verdict, properties: &[PropertyVerdict]) -> String {
        if verdict == Verdict::LabFault {
            return self.lab.what_failed().map_or_else(
                || "the lab broke during the run".to_owned(),
                |what| format!("the lab broke: {what}; no verdict about the policy"),
            );
        }
        if let Some(error) = self.parse_errors.first() {
            return format!("a feature could not be parsed: {error}");
        }
        let first = |wanted: Verdict| properties.iter().find(|p| p.verdict == wanted);
        match verdict {
            Verdict::Fail => first(Verdict::Fail).map_or_else(
                || match self.scenarios.iter().find(|s| s.unclaimed()) {
                    Some(s) => format!("{} failed and no property claims it", s.failure_location()),
                    None => "a scenario failed".to_owned(),
                },
                |p| format!("{} failed: {}", p.property.tag(), p.why),
            ),
            Verdict::Inconclusive => {
                if let Some(p) = first(Verdict::Inconclusive) {
                    format!("{} is inconclusive: {}", p.property.tag(), p.why)
                } else if self.missing_outcomes() > 0 {
                    format!(
                        "{} of the {} selected scenarios recorded no outcome",
                        self.missing_outcomes(),
                        self.selected
                    )
                } else if let Some(caveat) = self.caveats.first() {
                    format!(
                        "every property passed in the lab, but {caveat}{}",
                        match self.caveats.len() {
                            1 => String::new(),
                            n => format!(" (and {} more caveat(s))", n - 1),
                        }
                    )
                } else if let Some(s) = self.unobservable().next() {
                    format!("{} was not observable", s.location())
                } else {
                    "nothing was judged".to_owned()
                }
            }
            Verdict::Pass => format!(
                "every property passed with its control ({} judged)",
                properties.len()
            ),
            Verdict::LabFault => unreachable!("returned above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{cpl_caveat, failed_run, passing_run};

    #[test]
    fn a_caveat_makes_a_pass_inconclusive_with_the_caveat_as_the_reason_and_exit_5() {
        let mut run = passing_run();
        assert_eq!(run.outcome.verdict, Verdict::Pass);
        assert_eq!(run.outcome.exit_code, 0);
        run.caveats.push(cpl_caveat());
        let outcome = run.judged().outcome;
        assert_eq!(outcome.verdict, Verdict::Inconclusive);
        assert_eq!(outcome.exit_code, 5);
        assert!(outcome.reason.contains("group=staff"), "{}", outcome.reason);
    }

    #[test]
    fn a_model_nobody_judged_is_inconclusive_never_a_pass() {
        let mut run = passing_run();
        run.outcome = RunOutcome::default();
        assert_eq!(run.verdict(), Verdict::Inconclusive);
        assert_eq!(run.judged().verdict(), Verdict::Pass);
    }

    #[test]
    fn a_caveat_never_turns_a_failure_into_anything_else() {
        let mut run = failed_run();
        run.caveats.push(cpl_caveat());
        let outcome = run.judged().outcome;
        assert_eq!(outcome.verdict, Verdict::Fail);
        assert_eq!(outcome.exit_code, 4);
        assert!(
            outcome.reason.starts_with("@auth failed"),
            "{}",
            outcome.reason
        );
    }
}
