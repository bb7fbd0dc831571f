//! The one exit-code enum of `proxy-conformance`: every subcommand ends with one of these, and
//! every error is mapped to it by variant.

use std::process::ExitCode;

use conformance_harness::{Signal, SuiteError, Verdict};
use conformance_load::LoadError;

/// How a command ended, as its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything selected passed (for `cpl lint`: no error).
    Passed,
    /// 1: a bad option or argument, a tag expression that selects nothing, an unwritable report.
    Usage,
    /// 2: the input was rejected before anything ran: a policy, feature or CPL file that cannot
    /// be read or parsed, or that breaks the lab contract; `cpl lint` found errors.
    Rejected,
    /// 3: the lab could not start (Docker, image, the proxy), or it broke during the run (a
    /// container stopped, restarted or crashed, a lab server or the external proxy stopped
    /// answering: no verdict about the policy); in external mode, the proxy under test cannot
    /// be reached (nothing answers at --proxy within 3 s), its requests never reach the
    /// harness, or the harness's side cannot listen at --expose.
    LabFailed,
    /// 4: scenarios ran and at least one failed; `load`: a machine failed or did not finish.
    Failed,
    /// 5: no scenario failed, but the verdict cannot be trusted (a control failed or was not
    /// run, a property could not be observed).
    Inconclusive,
    /// 6: the harness's own environment failed it (a temporary folder, the bundled suite).
    Environment,
    /// 128 + the signal's number: interrupted (SIGINT 130, SIGTERM 143, SIGHUP 129); the lab was
    /// removed.
    Interrupted(Signal),
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::Usage => 1,
            Self::Rejected => 2,
            Self::LabFailed => 3,
            Self::Failed => 4,
            Self::Inconclusive => 5,
            Self::Environment => 6,
            Self::Interrupted(signal) => 128 + signal.number(),
        }
    }

    /// The exit-code table for `--help`.
    pub const TABLE: &'static str = "Exit codes: 0 all passed; 1 usage; 2 policy, feature or \
CPL rejected before running (cpl lint: errors found); 3 the lab could not start (Docker, image, \
proxy) or broke during the run (no verdict about the policy), or the external proxy cannot be \
reached or cannot reach the harness; 4 scenarios failed \
(load: a machine failed or did not finish); 5 inconclusive (a control failed or was not run, a property not \
observable); 6 the harness's environment (temporary folder); 129/130/143 interrupted by \
SIGHUP/SIGINT/SIGTERM (the lab is removed).";
}

impl From<Verdict> for Exit {
    /// The run's verdict as the harness decided it, exit code included.
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Pass => Self::Passed,
            Verdict::LabFault => Self::LabFailed,
            Verdict::Fail => Self::Failed,
            Verdict::Inconclusive => Self::Inconclusive,
        }
    }
}

impl From<&SuiteError> for Exit {
    fn from(error: &SuiteError) -> Self {
        match error {
            SuiteError::Usage(_) => Self::Usage,
            SuiteError::Rejected(_) => Self::Rejected,
            SuiteError::Lab(_) => Self::LabFailed,
            SuiteError::Environment(_) => Self::Environment,
            SuiteError::Interrupted(signal) => Self::Interrupted(*signal),
        }
    }
}

impl From<&LoadError> for Exit {
    fn from(error: &LoadError) -> Self {
        match error {
            LoadError::Usage(_) => Self::Usage,
            LoadError::Rejected(_) => Self::Rejected,
            LoadError::Lab(_) => Self::LabFailed,
            LoadError::Environment(_) => Self::Environment,
            LoadError::Interrupted(signal) => Self::Interrupted(*signal),
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_exit_with_128_plus_their_number() {
        assert_eq!(Exit::Interrupted(Signal::Interrupt).code(), 130);
        assert_eq!(Exit::Interrupted(Signal::Terminate).code(), 143);
        assert_eq!(Exit::Interrupted(Signal::Hangup).code(), 129);
    }

    #[test]
    fn a_runs_exit_status_is_the_one_its_report_states() {
        for verdict in [
            Verdict::Pass,
            Verdict::Fail,
            Verdict::Inconclusive,
            Verdict::LabFault,
        ] {
            assert_eq!(Exit::from(verdict).code(), verdict.exit_code(), "{verdict}");
        }
    }
}
