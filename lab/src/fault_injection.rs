//! Fault injection for the harness's own tests: `PROXY_CONFORMANCE_INJECT_FAULT=KIND@SECONDS`
//! makes one in-process server of the lab misbehave SECONDS after the lab is ready
//! (`icap-unresponsive`, `categorizer-unresponsive`, `origin-reset`). Faults of the lab's
//! containers need no seam: the tests kill or restart them with Docker, as an operator would.
//!
//! Why an environment variable read by the lab alone rather than a command-line option: it is
//! not part of what a user validates a policy with, so it stays out of `--help` and out of
//! every report's options, and it reaches the lab through `run`, `selftest` and `load` alike
//! without each command knowing about it. The README documents it under "When the lab breaks".

use std::time::Duration;

use mock_servers::FaultSwitch;

use crate::error::LabError;

/// The environment variable the lab reads its injected fault from.
pub const INJECT_FAULT_ENV: &str = "PROXY_CONFORMANCE_INJECT_FAULT";

/// Which in-process server to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InjectedFault {
    IcapUnresponsive,
    CategorizerUnresponsive,
    OriginReset,
}

/// The fault the environment asks for, and after how long.
pub(crate) fn requested() -> Result<Option<(InjectedFault, Duration)>, LabError> {
    match std::env::var(INJECT_FAULT_ENV) {
        Ok(value) => parse(&value).map(Some),
        Err(_) => Ok(None),
    }
}

fn parse(value: &str) -> Result<(InjectedFault, Duration), LabError> {
    let unusable = || {
        LabError::Usage(format!(
            "{INJECT_FAULT_ENV}={value:?}: expected KIND@SECONDS with KIND one of \
             icap-unresponsive, categorizer-unresponsive, origin-reset"
        ))
    };
    let (kind, seconds) = value.split_once('@').ok_or_else(unusable)?;
    let kind = match kind {
        "icap-unresponsive" => InjectedFault::IcapUnresponsive,
        "categorizer-unresponsive" => InjectedFault::CategorizerUnresponsive,
        "origin-reset" => InjectedFault::OriginReset,
        _ => return Err(unusable()),
    };
    let seconds: f64 = seconds.parse().map_err(|_| unusable())?;
    if !(0.0..=3600.0).contains(&seconds) {
        return Err(unusable());
    }
    Ok((kind, Duration::from_secs_f64(seconds)))
}

/// Trips `switch` after `after`, saying so on stderr (a test reads the run's output).
pub(crate) async fn inject(kind: InjectedFault, after: Duration, switch: FaultSwitch) {
    tokio::time::sleep(after).await;
    switch.trip();
    eprintln!("lab: injected fault {kind:?} ({INJECT_FAULT_ENV})");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_delays_parse_and_anything_else_is_a_usage_error() {
        assert_eq!(
            parse("icap-unresponsive@1.5").unwrap(),
            (InjectedFault::IcapUnresponsive, Duration::from_millis(1500))
        );
        assert_eq!(
            parse("origin-reset@0").unwrap().0,
            InjectedFault::OriginReset
        );
        for bad in [
            "icap-unresponsive",
            "proxy-kill@1",
            "origin-reset@-1",
            "origin-reset@x",
        ] {
            assert!(matches!(parse(bad), Err(LabError::Usage(_))), "{bad}");
        }
    }
}
