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

/// The cpl crate's Windows Update traffic model (which lint, explain and to-squid evaluate a
/// policy against) asks for the URL shapes the lab's origin serves, with the same response
/// types: every URL family the origin mints has a request in the model, and each request of
/// the model is of a family, with the origin's Content-Type for it.
#[test]
fn the_cpl_traffic_model_speaks_the_origins_url_families() {
    use mock_servers::{content_type_for_path, UrlFamily};

    let mut covered = Vec::new();
    for family in cpl::UPDATE_FAMILIES {
        let path = family.path;
        let Some(url_family) = UrlFamily::of_path(path) else {
            panic!("{}: {path} is no URL family of the origin", family.name);
        };
        covered.push(url_family);
        let served = if url_family == UrlFamily::ClientWebService {
            // The SOAP endpoint answers XML whatever its path's extension says.
            "text/xml; charset=utf-8"
        } else {
            content_type_for_path(path)
        };
        assert_eq!(family.content_type, served, "{}: {path}", family.name);
    }
    for family in UrlFamily::ALL {
        if family == UrlFamily::Synthetic {
            continue; // the lab's own test shape, no real client asks for it
        }
        assert!(
            covered.contains(&family),
            "the cpl traffic model has no request of the origin's family {family}"
        );
    }
}
