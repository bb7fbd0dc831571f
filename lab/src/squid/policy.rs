//! A policy under test: a Squid configuration fragment the lab includes after its preamble,
//! checked against the policy contract (`docs/policy-contract.md`) before any container starts,
//! or a whole `squid.conf` mapped onto the lab ([`WholeConfig`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::whole::{WholeConfError, WholeConfig, WholeOptions};

/// The bundled reference policy: the vendor CPL's intent in Squid.
pub const REFERENCE_POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../policies/squid/windows-update-bypass.conf"
);

/// Directives the lab owns; a policy that sets them would unplug the lab's instruments.
/// Also owned, checked by value: `external_acl_type lab_categorize` (a policy may define
/// external ACL helpers of its own under other names) and `icap_enable off`.
pub(crate) const LAB_OWNED: &[&str] = &[
    "http_port",
    "https_port",
    "auth_param",
    "icap_service",
    "access_log",
    "cache_log",
    "hosts_file",
    "sslcrtd_program",
    "tls_outgoing_options",
    "pid_filename",
    "logformat",
];

/// A policy file, read and checked.
#[derive(Debug, Clone)]
pub struct Policy {
    path: PathBuf,
    text: String,
    /// A whole configuration mapped onto the lab (`None`: a fragment under the contract).
    whole: Option<Arc<WholeConfig>>,
}

/// A policy line that breaks the contract.
#[derive(Debug, Clone)]
pub struct PolicyViolation {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
    pub directive: String,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}` is owned by the lab and must not be set by a policy\n  {} | {}",
            self.path.display(),
            self.line,
            self.directive,
            self.line,
            self.text
        )
    }
}

impl Policy {
    /// Reads `path` and checks it against the contract.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the policy {}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("the policy {} is not UTF-8 text", path.display()))?;
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            bail!(
                "the policy {} is empty: it has no directive",
                path.display()
            );
        }
        let policy = Self {
            path: path.to_owned(),
            text,
            whole: None,
        };
        if let Some(violation) = policy.violations().into_iter().next() {
            bail!("policy rejected: {violation}");
        }
        Ok(policy)
    }

    /// What is under test in external mode: the configuration of a proxy the harness did not
    /// start, known only by where it listens (steps and reports name it by its URL).
    pub fn of_external_proxy(url: &str) -> Self {
        Self {
            path: PathBuf::from(format!("the configuration of the proxy at {url}")),
            text: format!("# the proxy at {url} enforces its own configuration\n"),
            whole: None,
        }
    }

    /// Reads a whole `squid.conf` (with its includes and the files its ACLs name) and maps
    /// it onto the lab: nothing is rejected for being the lab's, it is replaced.
    pub fn load_whole(path: &Path, options: &WholeOptions) -> Result<Self, WholeConfError> {
        let whole = WholeConfig::load(path, options)?;
        let text = std::fs::read_to_string(path).unwrap_or_default();
        Ok(Self {
            path: path.to_owned(),
            text,
            whole: Some(Arc::new(whole)),
        })
    }

    /// The whole configuration and its mapping, when this policy is one.
    pub fn whole(&self) -> Option<&WholeConfig> {
        self.whole.as_deref()
    }

    pub fn reference() -> Result<Self> {
        Self::load(Path::new(REFERENCE_POLICY))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every line that sets a lab-owned directive.
    pub fn violations(&self) -> Vec<PolicyViolation> {
        self.text
            .lines()
            .enumerate()
            .filter_map(|(index, line)| {
                let mut words = line.split_whitespace();
                let directive = words.next()?;
                let owned = LAB_OWNED.contains(&directive)
                    || (directive == "external_acl_type" && words.next() == Some("lab_categorize"))
                    || (directive == "icap_enable" && line.contains("off"));
                owned.then(|| PolicyViolation {
                    path: self.path.clone(),
                    line: index + 1,
                    text: line.trim().to_owned(),
                    directive: directive.to_owned(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_policy_keeps_the_contract() {
        let policy = Policy::reference().unwrap();
        assert!(policy.violations().is_empty());
    }

    #[test]
    fn a_lab_owned_directive_is_rejected_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.conf");
        std::fs::write(&path, "acl x dstdomain .a\n\nhttp_port 8080\n").unwrap();
        let error = Policy::load(&path).unwrap_err().to_string();
        assert!(error.contains("p.conf:3"), "{error}");
        assert!(error.contains("http_port"), "{error}");
    }

    #[test]
    fn a_production_tail_that_touches_only_its_own_logging_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tail.conf");
        std::fs::write(
            &path,
            "acl x dstdomain .a\n\
             buffered_logs on\n\
             strip_query_terms on\n\
             log_mime_hdrs on\n\
             logfile_rotate 10\n\
             client_db off\n\
             debug_options ALL,0\n\
             via off\n",
        )
        .unwrap();
        assert!(Policy::load(&path).unwrap().violations().is_empty());
    }

    #[test]
    fn a_tail_that_moves_the_evidence_logs_is_rejected_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        for (directive, line) in [
            ("cache_log /var/log/squid/cache.log", 2),
            (
                "logformat combined %>a %ui %un [%tl] \"%rm %ru\" %>Hs %<st",
                2,
            ),
            ("access_log daemon:/var/log/squid/access.log combined", 2),
        ] {
            let path = dir.path().join("tail.conf");
            std::fs::write(&path, format!("acl x dstdomain .a\n{directive}\n")).unwrap();
            let error = Policy::load(&path).unwrap_err().to_string();
            assert!(error.contains(&format!("tail.conf:{line}")), "{error}");
            let name = directive.split_whitespace().next().unwrap();
            assert!(
                error.contains(&format!("`{name}` is owned by the lab")),
                "{error}"
            );
        }
    }

    #[test]
    fn redefining_the_lab_categoriser_is_rejected_other_helpers_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("own.conf");
        std::fs::write(
            &own,
            "external_acl_type office_hours ttl=60 %SRC /usr/local/bin/office-hours\n\
             acl open external office_hours\n",
        )
        .unwrap();
        assert!(Policy::load(&own).unwrap().violations().is_empty());

        let redefined = dir.path().join("redefined.conf");
        std::fs::write(
            &redefined,
            "acl blocked external lab_categorize\n\
             external_acl_type lab_categorize ttl=3600 %DST /bin/true\n",
        )
        .unwrap();
        let error = Policy::load(&redefined).unwrap_err().to_string();
        assert!(error.contains("redefined.conf:2"), "{error}");
        assert!(error.contains("external_acl_type"), "{error}");
        assert!(error.contains("lab_categorize ttl=3600"), "{error}");
    }

    #[test]
    fn an_empty_policy_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.conf");
        std::fs::write(&path, "# nothing\n\n").unwrap();
        assert!(Policy::load(&path)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }
}
