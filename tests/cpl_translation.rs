//! `cpl to-squid` output is a policy the lab accepts: the translator (pure, in `cpl`) and the
//! lab contract (in `conformance-lab`) meet here, so neither crate depends on the other.

use std::path::Path;

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/cpl");

fn translated(file: &str) -> String {
    let source = std::fs::read_to_string(Path::new(POLICIES).join(file)).unwrap();
    let policy = cpl::parse(&source, file).unwrap();
    cpl::to_squid(&policy).fragment
}

#[test]
fn to_squid_output_keeps_the_lab_contract() {
    let directory = tempfile::tempdir().unwrap();
    for file in [
        "windows-update-corrected.cpl",
        "kb166719-as-published.cpl",
        "one-pattern-missing.cpl",
    ] {
        let path = directory.path().join(format!("{file}.conf"));
        std::fs::write(&path, translated(file)).unwrap();
        let loaded = conformance_lab::Policy::load(&path);
        assert!(loaded.is_ok(), "{file}: {:?}", loaded.err());
    }
}
