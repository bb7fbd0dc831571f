//! The registry of bundled proxy backends: the one place a new backend is added. The first is
//! the default.

use crate::backend::ProxyBackend;
use crate::image::{DebianImage, MITMPROXY_IMAGE, TINYPROXY_IMAGE};
use crate::relay::RELAY_IMAGE;
use crate::squid::{SQUID_5_7, SQUID_6};

/// Every bundled backend, the default first.
pub const BUNDLED_BACKENDS: &[&dyn ProxyBackend] = &[&SQUID_5_7, &SQUID_6];

/// Every image the lab and its tests use: each bundled backend's, the relay's, and the
/// external proxies' of the tests (mitmproxy, tinyproxy).
pub fn every_image() -> Vec<&'static DebianImage> {
    let mut images: Vec<&'static DebianImage> = BUNDLED_BACKENDS
        .iter()
        .map(|backend| backend.image())
        .collect();
    images.extend([&RELAY_IMAGE, &MITMPROXY_IMAGE, &TINYPROXY_IMAGE]);
    images
}

/// The default backend (what `run` puts under test without `--backend`).
pub fn default_backend() -> &'static dyn ProxyBackend {
    BUNDLED_BACKENDS[0]
}

/// The bundled backend the command line names (`squid-5.7`, `squid-6`), or the list of names.
pub fn backend_named(id: &str) -> Result<&'static dyn ProxyBackend, String> {
    BUNDLED_BACKENDS
        .iter()
        .copied()
        .find(|backend| backend.id().eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            format!(
                "no bundled proxy backend is called {id:?}: choose one of {}",
                BUNDLED_BACKENDS
                    .iter()
                    .map(|b| b.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_found_by_their_command_line_name_and_a_wrong_one_lists_them() {
        assert_eq!(backend_named("squid-6").unwrap().name(), "Squid 6.13");
        assert_eq!(backend_named("SQUID-5.7").unwrap().id(), "squid-5.7");
        let error = backend_named("squid-4").unwrap_err();
        assert!(error.contains("squid-5.7, squid-6"), "{error}");
        assert_eq!(default_backend().id(), "squid-5.7");
    }

    #[test]
    fn every_backend_has_its_own_image_and_id() {
        let mut ids: Vec<_> = BUNDLED_BACKENDS.iter().map(|b| b.id()).collect();
        let mut images: Vec<_> = BUNDLED_BACKENDS
            .iter()
            .map(|b| b.image().reference())
            .collect();
        ids.dedup();
        images.dedup();
        assert_eq!(ids.len(), BUNDLED_BACKENDS.len());
        assert_eq!(images.len(), BUNDLED_BACKENDS.len());
    }
}
