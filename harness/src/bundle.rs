//! The suite as shipped inside the binary: the bundled features, the reference Squid policy
//! and its mutants are embedded at build time, so an installed `proxy-conformance` works from
//! any directory after its source tree is gone. cucumber reads features from disk, so the
//! bundle is written once into a folder named after its content (reused by later runs, rewritten
//! when the content changes) and paths under it are shown as the repository names them.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use include_dir::{include_dir, Dir, DirEntry};

static FEATURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../features");
static SQUID_POLICIES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../policies/squid");

/// Where the bundle was written, or why it could not be.
static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The bundled suite on disk.
#[derive(Debug, Clone)]
pub struct Bundle {
    root: PathBuf,
}

impl Bundle {
    /// The bundle, written on first use into the system's temporary directory.
    pub fn get() -> Result<Bundle, String> {
        ROOT.get_or_init(write_bundle)
            .clone()
            .map(|root| Bundle { root })
    }

    pub fn features(&self) -> PathBuf {
        self.root.join("features")
    }

    pub fn reference_policy(&self) -> PathBuf {
        self.root.join("policies/squid/windows-update-bypass.conf")
    }

    pub fn mutants(&self) -> PathBuf {
        self.root.join("policies/squid/mutants")
    }

    /// Correct policies in other styles, each of which the self-test runs and must pass.
    pub fn correct_policies(&self) -> PathBuf {
        self.root.join("policies/squid/correct")
    }
}

fn content_hash() -> u64 {
    fn visit(dir: &Dir<'_>, hasher: &mut DefaultHasher) {
        for entry in dir.entries() {
            match entry {
                DirEntry::Dir(sub) => visit(sub, hasher),
                DirEntry::File(file) => {
                    file.path().hash(hasher);
                    file.contents().hash(hasher);
                }
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    visit(&FEATURES, &mut hasher);
    visit(&SQUID_POLICIES, &mut hasher);
    hasher.finish()
}

fn write_bundle() -> Result<PathBuf, String> {
    let root =
        std::env::temp_dir().join(format!("proxy-conformance-bundle-{:016x}", content_hash()));
    if root.join(".complete").exists() {
        conformance_lab::show_relative_to(&root);
        return Ok(root);
    }
    // Written beside, then renamed: a concurrent run sees the whole bundle or none of it.
    let staging = tempfile::Builder::new()
        .prefix("proxy-conformance-bundle-")
        .tempdir()
        .map_err(|e| {
            format!(
                "cannot write the bundled suite to {}: {e}",
                std::env::temp_dir().display()
            )
        })?;
    let write = |dir: &Dir<'_>, into: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(into)?;
        dir.extract(into)
    };
    write(&FEATURES, &staging.path().join("features"))
        .and_then(|()| write(&SQUID_POLICIES, &staging.path().join("policies/squid")))
        .and_then(|()| std::fs::write(staging.path().join(".complete"), b""))
        .map_err(|e| {
            format!(
                "cannot write the bundled suite to {}: {e}",
                staging.path().display()
            )
        })?;
    let staging = staging.keep();
    if std::fs::rename(&staging, &root).is_err() {
        // Another run put the same bundle there first.
        let _ = std::fs::remove_dir_all(&staging);
    }
    if root.join(".complete").exists() {
        conformance_lab::show_relative_to(&root);
        Ok(root)
    } else {
        Err(format!(
            "cannot write the bundled suite to {}",
            root.display()
        ))
    }
}
