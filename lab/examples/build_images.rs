//! Builds every image the lab and the tests use, when missing (`cargo run -p conformance-lab
//! --example build_images`). `.ci/run` starts it in the background as soon as the lab crate is
//! compiled, so the Debian downloads overlap the rest of the compile instead of the tests.

use std::process::ExitCode;
use std::time::Instant;

use conformance_lab::{every_image, DockerEngine};

#[tokio::main]
async fn main() -> ExitCode {
    let engine = match DockerEngine::connect().await {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("build_images: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for image in every_image() {
        let started = Instant::now();
        match image.ensure(&engine).await {
            Ok(()) => eprintln!(
                "build_images: {} ready in {:.0?}",
                image.reference(),
                started.elapsed()
            ),
            Err(error) => {
                eprintln!("build_images: {}: {error:#}", image.reference());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
