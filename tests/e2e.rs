//! The conformance suite as `cargo test`: the bundled features against the bundled lab with
//! the reference policy (or `PROXY_CONFORMANCE_POLICY`), filtered by `CUCUMBER_FILTER_TAGS`.

use std::process::ExitCode;

use conformance_harness::{run_suite, SuiteOptions};

#[tokio::main]
async fn main() -> ExitCode {
    let mut options = SuiteOptions::default();
    if let Ok(policy) = std::env::var("PROXY_CONFORMANCE_POLICY") {
        options.policy = policy.into();
    }
    options.tags = std::env::var("CUCUMBER_FILTER_TAGS").ok();
    match run_suite(options).await {
        Ok(report) => {
            for failed in report.failed() {
                println!("FAILED {}", failed.location());
            }
            println!("e2e: {}", report.summary());
            if report.verdict() == conformance_harness::Verdict::Pass {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("e2e: {error}");
            ExitCode::FAILURE
        }
    }
}
