//! `proxy-conformance`: runs the Windows Update conformance suite against the bundled lab.
//!
//! Exit codes: 0 all scenarios passed; 1 usage; 2 policy or feature rejected before running;
//! 3 the lab could not start (Docker, image, Squid); 4 scenarios failed; 130 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use conformance_steps::{run_suite, SuiteOptions};

const USAGE: &str = "usage: proxy-conformance run [--policy FILE] [--tags EXPR] [--concurrency N]";

fn parse(args: &[String]) -> Result<SuiteOptions, String> {
    let mut options = SuiteOptions::default();
    let mut words = args.iter();
    match words.next().map(String::as_str) {
        Some("run") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("no command given".into()),
    }
    while let Some(flag) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--policy" => options.policy = PathBuf::from(value()?),
            "--tags" => options.tags = Some(value()?.clone()),
            "--features" => options.features = PathBuf::from(value()?),
            "--concurrency" => {
                options.concurrency = value()?
                    .parse()
                    .map_err(|_| "--concurrency takes a positive number".to_owned())?
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("proxy-conformance: {message}\n{USAGE}");
            return ExitCode::from(1);
        }
    };
    match run_suite(options).await {
        Ok(report) if report.passed() => ExitCode::SUCCESS,
        Ok(report) => {
            for scenario in report.failed() {
                eprintln!(
                    "FAILED {}:{} {} {}",
                    scenario.feature,
                    scenario.line,
                    scenario.scenario,
                    scenario.tags.join(" ")
                );
            }
            ExitCode::from(4)
        }
        Err(error) => {
            eprintln!("proxy-conformance: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
