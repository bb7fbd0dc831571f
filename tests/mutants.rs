//! The mutation self-test as `cargo test`: the reference policy passes and every faulty policy
//! in `policies/squid/mutants/` is caught by exactly the properties it declares (the same check
//! as `proxy-conformance selftest`).

use std::process::ExitCode;

use conformance_harness::{run_selftest, SelftestOptions};

#[tokio::main]
async fn main() -> ExitCode {
    let options = SelftestOptions {
        progress: true,
        ..SelftestOptions::default()
    };
    match run_selftest(options).await {
        Ok(report) => {
            println!("{}", report.render());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("mutants: {error}");
            ExitCode::FAILURE
        }
    }
}
