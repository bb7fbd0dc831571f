//! Container images built from Debian packages, never pulled: each is a [`DebianImage`] recipe
//! (suite, packages, post-install snippet, entrypoint) whose tag carries a hash of the recipe
//! and of the build script, so changing either builds a new image and a stale one is never
//! used. The build script (`image/build-debian-image.sh`) is embedded in the binary and written
//! to a temporary file when an image is missing; builds on one machine are serialised by a lock
//! file, under which the leftovers of interrupted builds are removed.
//!
//! The bundled backends pin their own images in their folders (Squid: `squid/versions.rs`);
//! this module pins the images of proxies
//! the harness does not configure through its contract (external-proxy tests): mitmproxy and
//! tinyproxy, plus an ordinary Squid configuration run in the Squid image. For each it states
//! how to start it and the log line that says it is listening (readiness by log line, never by
//! sleeping); `policies/external/` holds their configurations and `mitmproxy.md` their flags.

use std::io::Write as _;

use anyhow::{bail, Context, Result};
use tokio::process::Command;

use crate::docker::DockerEngine;

/// The build script every [`DebianImage`] runs; part of every image's recipe hash.
const BUILD_SCRIPT: &str = include_str!("../image/build-debian-image.sh");

/// Hex digits of the recipe hash in a tag.
pub(crate) const HASH_DIGITS: usize = 12;

/// What an image is made of. Everything here, and the build script, goes into the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebianRecipe {
    /// Debian suite the packages come from (`bookworm`).
    pub suite: &'static str,
    /// Packages installed with apt-get (dependencies resolved, no Recommends).
    pub packages: &'static [&'static str],
    /// Shell snippet run with `/bin/sh -e` inside the new root after the packages; may be empty.
    pub post_install: &'static str,
    /// Environment of the image's processes.
    pub env: &'static [(&'static str, &'static str)],
    /// The image's `ENTRYPOINT` (empty: none).
    pub entrypoint: &'static [&'static str],
    /// The image's `CMD` (empty: none).
    pub cmd: &'static [&'static str],
}

impl DebianRecipe {
    /// FNV-1a over every field, each length-prefixed, then over the build script.
    pub const fn hash(&self) -> u64 {
        let mut h = Fnv::new()
            .str("proxy-conformance debian image v1")
            .str(self.suite);
        h = h.list(self.packages).str(self.post_install);
        let mut i = 0;
        h = h.len(self.env.len());
        while i < self.env.len() {
            h = h.str(self.env[i].0).str(self.env[i].1);
            i += 1;
        }
        h.list(self.entrypoint)
            .list(self.cmd)
            .str(BUILD_SCRIPT)
            .finish()
    }
}

/// A container image built from Debian packages: a repository name and a pinned tag,
/// `<label>-<recipe hash>` (the label is for people: `5.7-bookworm`), made by [`debian_image!`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebianImage {
    name: &'static str,
    tag: &'static str,
    recipe: DebianRecipe,
}

/// `debian_image!(NAME, LABEL, RECIPE)`: a [`DebianImage`] constant whose tag is computed at
/// compile time from the recipe, so `image.tag()` is a `&'static str`.
macro_rules! debian_image {
    ($name:expr, $label:expr, $recipe:expr $(,)?) => {{
        const RECIPE: $crate::image::DebianRecipe = $recipe;
        const LABEL: &str = $label;
        const TAG: [u8; LABEL.len() + 1 + $crate::image::HASH_DIGITS] =
            $crate::image::pinned_tag(LABEL, RECIPE.hash());
        $crate::image::DebianImage::pinned(
            $name,
            match std::str::from_utf8(&TAG) {
                Ok(tag) => tag,
                Err(_) => panic!("an image tag is ASCII"),
            },
            RECIPE,
        )
    }};
}
pub(crate) use debian_image;

impl DebianImage {
    /// An image whose tag [`debian_image!`] computed from the recipe.
    pub(crate) const fn pinned(
        name: &'static str,
        tag: &'static str,
        recipe: DebianRecipe,
    ) -> Self {
        Self { name, tag, recipe }
    }

    /// Repository name, e.g. `proxy-conformance/squid`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Pinned tag, `<label>-<recipe hash>`.
    pub const fn tag(&self) -> &'static str {
        self.tag
    }

    pub const fn recipe(&self) -> &DebianRecipe {
        &self.recipe
    }

    /// `name:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }

    /// Makes sure the engine has the image, building it on first use (a few minutes; one build
    /// at a time per machine, a concurrent caller waits and then finds it built).
    pub async fn ensure(&self, engine: &DockerEngine) -> Result<()> {
        let reference = self.reference();
        if engine.client().inspect_image(&reference).await.is_ok() {
            return Ok(());
        }
        eprintln!(
            "lab: building the image {reference} from Debian {} packages (first run only, a few minutes)",
            self.recipe.suite
        );
        // The script is embedded: an installed binary builds with no source tree around.
        let mut script = tempfile::Builder::new()
            .prefix("proxy-conformance-build-")
            .suffix(".sh")
            .tempfile()
            .context("creating a temporary file for the image build script")?;
        script
            .write_all(BUILD_SCRIPT.as_bytes())
            .and_then(|()| script.flush())
            .context("writing the image build script")?;
        // An interrupted run stops the build too; the script clears what it left next time.
        let output = Command::new("bash")
            .arg(script.path())
            .envs(self.build_env())
            .kill_on_drop(true)
            .output()
            .await
            .context("running bash for the image build script")?;
        if !output.status.success() {
            bail!(
                "building the image {reference} failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// The build script's inputs (see the head of `image/build-debian-image.sh`).
    pub fn build_env(&self) -> Vec<(&'static str, String)> {
        let r = &self.recipe;
        let mut changes: Vec<String> = r
            .env
            .iter()
            .map(|(k, v)| format!("ENV {k}={}", json_string(v)))
            .collect();
        if !r.entrypoint.is_empty() {
            changes.push(format!("ENTRYPOINT {}", json_array(r.entrypoint)));
        }
        if !r.cmd.is_empty() {
            changes.push(format!("CMD {}", json_array(r.cmd)));
        }
        vec![
            ("PC_IMAGE", self.reference()),
            ("PC_SUITE", r.suite.to_owned()),
            ("PC_PACKAGES", r.packages.join(" ")),
            ("PC_POST_INSTALL", r.post_install.to_owned()),
            ("PC_CHANGES", changes.join("\n")),
        ]
    }
}

/// Which output stream of a container carries a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// A log line that appears once a proxy accepts connections (match it as a substring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyLine {
    pub text: &'static str,
    pub stream: LogStream,
}

// ---- mitmproxy -------------------------------------------------------------------------------

/// mitmproxy 8.1 (Debian bookworm) as a regular forward proxy that intercepts every TLS
/// connection. Start it with no command: the image's command is [`MITMPROXY_COMMAND`]. Before
/// starting, copy into [`MITMPROXY_CONFDIR`] (writable; mitmproxy writes its DH parameters
/// there): the interception CA, certificate and key in one PEM, as [`MITMPROXY_CA_FILE`], and
/// the CA that upstream certificates must chain to as [`MITMPROXY_UPSTREAM_CA_FILE`] (required:
/// without it mitmdump still prints its ready line, then answers 502 to every HTTPS request). Names
/// resolve through the container's resolver (give the container `--dns` or extra hosts).
pub const MITMPROXY_IMAGE: DebianImage = debian_image!(
    "proxy-conformance/mitmproxy",
    "8.1-bookworm",
    DebianRecipe {
        suite: "bookworm",
        packages: &["mitmproxy", "ca-certificates"],
        post_install: "mkdir -p /etc/mitmproxy",
        // Python buffers stdout when it is not a terminal: the ready line would come late.
        env: &[("PYTHONUNBUFFERED", "1")],
        entrypoint: &["mitmdump"],
        cmd: MITMPROXY_COMMAND,
    },
);
pub const MITMPROXY_PORT: u16 = 8080;
pub const MITMPROXY_CONFDIR: &str = "/etc/mitmproxy";
/// The interception CA: certificate and private key, PEM, in one file (mitmproxy's own name).
pub const MITMPROXY_CA_FILE: &str = "/etc/mitmproxy/mitmproxy-ca.pem";
/// The only CA upstream (origin) certificates are verified against.
pub const MITMPROXY_UPSTREAM_CA_FILE: &str = "/etc/mitmproxy/upstream-ca.pem";
/// The image's command (arguments to `mitmdump`); see `policies/external/mitmproxy.md`.
pub const MITMPROXY_COMMAND: &[&str] = &[
    "--mode",
    "regular",
    "--listen-port",
    "8080",
    "--set",
    "confdir=/etc/mitmproxy",
    "--set",
    "ssl_insecure=false",
    "--set",
    "ssl_verify_upstream_trusted_ca=/etc/mitmproxy/upstream-ca.pem",
    "--set",
    "block_global=false",
];
/// Measured with mitmproxy 8.1.1 (9 and later print "HTTP(S) proxy listening at *:8080").
pub const MITMPROXY_READY_LINE: ReadyLine = ReadyLine {
    text: "Proxy server listening at *:8080",
    stream: LogStream::Stdout,
};

// ---- tinyproxy -------------------------------------------------------------------------------

/// tinyproxy 1.11 (Debian bookworm): a plain forward proxy. Copy [`TINYPROXY_CONF`] to
/// [`TINYPROXY_CONF_FILE`] and start it with no command (the image runs it in the foreground).
pub const TINYPROXY_IMAGE: DebianImage = debian_image!(
    "proxy-conformance/tinyproxy",
    "1.11-bookworm",
    DebianRecipe {
        suite: "bookworm",
        packages: &["tinyproxy"],
        post_install: "",
        env: &[],
        entrypoint: &["tinyproxy", "-d", "-c", "/etc/tinyproxy/tinyproxy.conf"],
        cmd: &[],
    },
);
pub const TINYPROXY_PORT: u16 = 8888;
pub const TINYPROXY_CONF_FILE: &str = "/etc/tinyproxy/tinyproxy.conf";
/// `policies/external/tinyproxy.conf`.
pub const TINYPROXY_CONF: &str = include_str!("../../policies/external/tinyproxy.conf");
pub const TINYPROXY_READY_LINE: ReadyLine = ReadyLine {
    text: "Starting main loop. Accepting connections.",
    stream: LogStream::Stdout,
};

// ---- an ordinary Squid -----------------------------------------------------------------------

/// An ordinary, complete `squid.conf` (not under the lab contract), run in the Squid 5.7
/// image (`SQUID_5_7_IMAGE`).
/// Substitute the placeholders ([`EXTERNAL_SQUID_PLACEHOLDERS`]) and copy into
/// [`EXTERNAL_SQUID_DIR`]: `squid.conf`, `proxy-ca.pem` + `proxy-ca.key` (the interception CA),
/// `upstream-ca.pem` (the origin CA), `htpasswd` (NCSA, bcrypt or crypt), and `categorize`
/// (an external ACL helper, e.g. the lab's `lab_categorize`, executable). Then start it with
/// [`EXTERNAL_SQUID_COMMAND`]; the access log is `/var/log/squid/access.log`.
pub const EXTERNAL_SQUID_DIR: &str = "/etc/squid/external";
pub const EXTERNAL_SQUID_PORT: u16 = 3128;
/// Windows Update bypassed: no auth, no cache, no ICAP, no categorisation, TLS spliced.
pub const EXTERNAL_SQUID_BYPASS_CONF: &str =
    include_str!("../../policies/external/squid-wu-bypass.conf");
/// The same with one fault: TLS to update hosts is bumped.
pub const EXTERNAL_SQUID_BUMPED_CONF: &str =
    include_str!("../../policies/external/squid-wu-bumped.conf");
/// Placeholders in the external Squid configurations, each to be replaced by an address the
/// container can reach (`@ICAP_HOST@` e.g. `host.docker.internal`, `@DNS_ADDR@` an IP).
pub const EXTERNAL_SQUID_PLACEHOLDERS: &[&str] = &[
    "@ICAP_HOST@",
    "@ICAP_PORT@",
    "@CATEGORIZER_HOST@",
    "@CATEGORIZER_PORT@",
    "@DNS_ADDR@",
];
/// Initialises the certificate database, then runs Squid in the foreground with level-1
/// messages on stderr (where [`EXTERNAL_SQUID_READY_LINE`] appears).
pub const EXTERNAL_SQUID_COMMAND: &[&str] = &[
    "sh",
    "-c",
    "mkdir -p /var/lib/squid \
     && /usr/lib/squid/security_file_certgen -c -s /var/lib/squid/ssl_db -M 4MB >/dev/null \
     && chown -R proxy:proxy /var/lib/squid/ssl_db \
     && exec squid -N -d 1 -f /etc/squid/external/squid.conf",
];
pub const EXTERNAL_SQUID_READY_LINE: ReadyLine = ReadyLine {
    text: "Accepting SSL bumped HTTP Socket connections at",
    stream: LogStream::Stderr,
};

// ---- compile-time helpers --------------------------------------------------------------------

/// 64-bit FNV-1a, usable in constants (no dependency, stable across Rust versions).
struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    const fn bytes(self, bytes: &[u8]) -> Self {
        let mut h = self.0;
        let mut i = 0;
        while i < bytes.len() {
            h ^= bytes[i] as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        Self(h)
    }
    const fn len(self, n: usize) -> Self {
        self.bytes(&(n as u64).to_le_bytes())
    }
    const fn str(self, s: &str) -> Self {
        self.len(s.len()).bytes(s.as_bytes())
    }
    const fn list(self, items: &[&str]) -> Self {
        let mut h = self.len(items.len());
        let mut i = 0;
        while i < items.len() {
            h = h.str(items[i]);
            i += 1;
        }
        h
    }
    const fn finish(self) -> u64 {
        self.0
    }
}

/// `<label>-<hash, HASH_DIGITS hex digits>`; refuses (at compile time) a label Docker would.
pub(crate) const fn pinned_tag<const N: usize>(label: &str, hash: u64) -> [u8; N] {
    assert!(N == label.len() + 1 + HASH_DIGITS, "tag length");
    assert!(N <= 128, "a Docker tag has at most 128 characters");
    let mut out = [0u8; N];
    let label = label.as_bytes();
    let mut i = 0;
    while i < label.len() {
        let c = label[i];
        assert!(
            c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-',
            "a Docker tag has only [A-Za-z0-9._-]"
        );
        out[i] = c;
        i += 1;
    }
    assert!(
        label.is_empty() || label[0] != b'.' && label[0] != b'-',
        "a Docker tag starts with [A-Za-z0-9_]"
    );
    out[i] = b'-';
    let digits = b"0123456789abcdef";
    let mut d = 0;
    while d < HASH_DIGITS {
        let shift = 4 * (HASH_DIGITS - 1 - d);
        out[i + 1 + d] = digits[((hash >> shift) & 0xf) as usize];
        d += 1;
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_array(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::RELAY_IMAGE;
    use crate::squid::{SQUID_5_7_IMAGE, SQUID_6_IMAGE};

    const BASE: DebianRecipe = DebianRecipe {
        suite: "bookworm",
        packages: &["socat"],
        post_install: "",
        env: &[],
        entrypoint: &[],
        cmd: &["/bin/bash"],
    };

    #[test]
    fn tags_are_label_then_recipe_hash() {
        const IMAGE: DebianImage = debian_image!("x/y", "1.0-bookworm", BASE);
        let hash = format!("{:012x}", BASE.hash() & 0xffff_ffff_ffff);
        assert_eq!(IMAGE.tag(), format!("1.0-bookworm-{hash}"));
        assert_eq!(IMAGE.reference(), format!("x/y:1.0-bookworm-{hash}"));
        assert!(SQUID_5_7_IMAGE.tag().starts_with("5.7-bookworm-"));
        assert!(SQUID_6_IMAGE.tag().starts_with("6.13-trixie-"));
        assert_eq!(SQUID_5_7_IMAGE.name(), "proxy-conformance/squid");
    }

    #[test]
    fn every_field_of_the_recipe_changes_the_tag() {
        let variants = [
            DebianRecipe {
                suite: "trixie",
                ..BASE
            },
            DebianRecipe {
                packages: &["socat", "curl"],
                ..BASE
            },
            // Moving a boundary between fields must change the hash too.
            DebianRecipe {
                packages: &["soca", "t"],
                ..BASE
            },
            DebianRecipe {
                post_install: "true",
                ..BASE
            },
            DebianRecipe {
                env: &[("A", "1")],
                ..BASE
            },
            DebianRecipe {
                entrypoint: &["/bin/bash"],
                cmd: &[],
                ..BASE
            },
            DebianRecipe { cmd: &[], ..BASE },
        ];
        let mut hashes = vec![BASE.hash()];
        for v in variants {
            assert!(!hashes.contains(&v.hash()), "{v:?} hashes like another");
            hashes.push(v.hash());
        }
    }

    #[test]
    fn the_images_differ() {
        let tags = [
            SQUID_5_7_IMAGE.reference(),
            SQUID_6_IMAGE.reference(),
            RELAY_IMAGE.reference(),
            MITMPROXY_IMAGE.reference(),
            TINYPROXY_IMAGE.reference(),
        ];
        assert_eq!(
            tags.iter().collect::<std::collections::HashSet<_>>().len(),
            tags.len()
        );
    }

    #[test]
    fn the_build_env_carries_the_recipe() {
        let env: std::collections::HashMap<_, _> =
            MITMPROXY_IMAGE.build_env().into_iter().collect();
        assert_eq!(env["PC_IMAGE"], MITMPROXY_IMAGE.reference());
        assert_eq!(env["PC_PACKAGES"], "mitmproxy ca-certificates");
        assert_eq!(
            env["PC_CHANGES"].lines().collect::<Vec<_>>()[..2],
            ["ENV PYTHONUNBUFFERED=\"1\"", "ENTRYPOINT [\"mitmdump\"]"]
        );
        assert!(env["PC_CHANGES"]
            .contains("\"ssl_verify_upstream_trusted_ca=/etc/mitmproxy/upstream-ca.pem\""));
        assert_eq!(json_string("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn the_external_configurations_have_only_known_placeholders() {
        for conf in [EXTERNAL_SQUID_BYPASS_CONF, EXTERNAL_SQUID_BUMPED_CONF] {
            let mut rest = conf;
            while let Some(start) = rest.find('@') {
                let after = &rest[start + 1..];
                let end = after.find('@').expect("placeholders come in @ pairs");
                let placeholder = &rest[start..start + end + 2];
                assert!(
                    EXTERNAL_SQUID_PLACEHOLDERS.contains(&placeholder),
                    "unknown placeholder {placeholder}"
                );
                rest = &after[end + 1..];
            }
            for p in EXTERNAL_SQUID_PLACEHOLDERS {
                assert!(conf.contains(p), "{p} unused");
            }
        }
        assert!(TINYPROXY_CONF.contains(&format!("Port {TINYPROXY_PORT}")));
    }

    /// Builds every image when missing and prints the time each took:
    /// `cargo test -p conformance-lab --lib -- --ignored --nocapture builds_every_image`.
    #[tokio::test]
    #[ignore = "builds Docker images from the Debian mirror (minutes)"]
    async fn builds_every_image() {
        let engine = DockerEngine::connect().await.unwrap();
        for image in [
            SQUID_5_7_IMAGE,
            SQUID_6_IMAGE,
            RELAY_IMAGE,
            MITMPROXY_IMAGE,
            TINYPROXY_IMAGE,
        ] {
            let started = std::time::Instant::now();
            image.ensure(&engine).await.unwrap();
            eprintln!("{}: ready in {:.0?}", image.reference(), started.elapsed());
        }
    }
}
