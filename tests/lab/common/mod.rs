//! Helpers shared by the integration tests.

pub mod external_proxy;

/// A bundled mutant (`policies/squid/mutants/<name>.patch`) applied to the reference policy and
/// written into `dir`, for a test that runs it as an ordinary policy file.
#[allow(dead_code)] // not every test binary that shares these helpers runs a mutant
pub fn mutant_policy(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = conformance_harness::apply_mutant(
        &root.join(format!("policies/squid/mutants/{name}.patch")),
        &root.join("policies/squid/windows-update-bypass.conf"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, text).expect("the mutant is written");
    path
}
