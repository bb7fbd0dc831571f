//! The Squid versions the lab bundles, each an image built from one Debian suite's
//! `squid-openssl` and registered in `lab/src/backends.rs`. Both run the same preamble and
//! policy contract: where a version differs, `preamble.rs` says so at the directive.

use super::Squid;
use crate::image::{debian_image, DebianImage, DebianRecipe};

/// Squid 5.7 from Debian bookworm: the default backend.
pub const SQUID_5_7_IMAGE: DebianImage = debian_image!(
    "proxy-conformance/squid",
    "5.7-bookworm",
    DebianRecipe {
        suite: "bookworm",
        packages: &["squid-openssl", "socat", "ca-certificates"],
        post_install: "",
        env: &[],
        entrypoint: &[],
        cmd: &["/bin/bash"],
    },
);

/// Squid 6.13 from Debian trixie.
pub const SQUID_6_IMAGE: DebianImage = debian_image!(
    "proxy-conformance/squid",
    "6.13-trixie",
    DebianRecipe {
        suite: "trixie",
        packages: &["squid-openssl", "ca-certificates"],
        post_install: "",
        env: &[],
        entrypoint: &[],
        cmd: &["/bin/bash"],
    },
);

pub const SQUID_5_7: Squid = Squid {
    id: "squid-5.7",
    name: "Squid 5.7",
    image: &SQUID_5_7_IMAGE,
};

pub const SQUID_6: Squid = Squid {
    id: "squid-6",
    name: "Squid 6.13",
    image: &SQUID_6_IMAGE,
};
