//! The whole lab PKI for one run.

use anyhow::Result;

use crate::authority::{CertificateAuthority, LeafCertificate};

/// Origin CA, interception CA and the origin's leaf for every lab host name.
#[derive(Debug)]
pub struct LabPki {
    pub origin_ca: CertificateAuthority,
    /// Squid signs the certificates of bumped connections with this CA. It is RSA because
    /// Squid's certificate generator mimics origin certificates with RSA keys.
    pub interception_ca: CertificateAuthority,
    pub origin_leaf: LeafCertificate,
}

impl LabPki {
    /// Generates a fresh PKI whose origin leaf covers `host_names` (exact names or wildcards).
    pub fn generate(host_names: &[String]) -> Result<Self> {
        Self::with_origin_ca(Self::new_origin_ca()?, host_names)
    }

    /// A fresh origin CA, as [`Self::generate`] makes it.
    pub fn new_origin_ca() -> Result<CertificateAuthority> {
        CertificateAuthority::generate(
            "proxy-conformance Origin CA",
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
    }

    /// A PKI around an origin CA kept from an earlier run (external mode: the proxy under test
    /// was told to trust it), with a fresh interception CA and origin leaf.
    pub fn with_origin_ca(origin_ca: CertificateAuthority, host_names: &[String]) -> Result<Self> {
        let interception_ca = CertificateAuthority::generate(
            "proxy-conformance Interception CA",
            &rcgen::PKCS_RSA_SHA256,
        )?;
        let origin_leaf = origin_ca.issue_server_leaf(host_names)?;
        Ok(Self {
            origin_ca,
            interception_ca,
            origin_leaf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_leaf_covers_deep_names_and_is_issued_by_the_origin_ca() {
        let names = vec![
            "7.tlu.dl.delivery.mp.microsoft.com".to_owned(),
            "*.example.com".to_owned(),
        ];
        let pki = LabPki::generate(&names).unwrap();
        assert!(pki
            .origin_leaf
            .cert_pem()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.interception_ca.key_pem().contains("PRIVATE KEY"));
        assert_ne!(pki.origin_ca.cert_der(), pki.interception_ca.cert_der());
    }

    #[test]
    fn an_origin_ca_read_back_from_pem_issues_leaves_it_signs() {
        let first = LabPki::generate(&["a.example.com".to_owned()]).unwrap();
        let kept =
            CertificateAuthority::from_pem(first.origin_ca.cert_pem(), first.origin_ca.key_pem())
                .unwrap();
        assert_eq!(kept.common_name(), "proxy-conformance Origin CA");
        assert_eq!(kept.cert_der(), first.origin_ca.cert_der());
        let again = LabPki::with_origin_ca(kept, &["b.example.com".to_owned()]).unwrap();
        assert!(again.origin_leaf.cert_pem().contains("BEGIN CERTIFICATE"));
    }
}
