//! A certificate authority and the leaf certificates it issues.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed CA with its key, able to issue leaves.
pub struct CertificateAuthority {
    common_name: String,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("common_name", &self.common_name)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A new CA named `common_name`, keyed with `algorithm`.
    pub fn generate(common_name: &str, algorithm: &'static SignatureAlgorithm) -> Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        name.push(DnType::OrganizationName, "proxy-conformance lab");
        params.distinguished_name = name;
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate_for(algorithm)
            .with_context(|| format!("generating the key of {common_name}"))?;
        let cert = params.self_signed(&key)?;
        Ok(Self {
            common_name: common_name.to_owned(),
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A CA kept from an earlier run (its certificate and PKCS#8 key, PEM), so a proxy that
    /// was told to trust it keeps trusting it.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        use rustls::pki_types::pem::PemObject as _;
        let key = KeyPair::from_pem(key_pem).context("reading the CA's private key")?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .context("reading the CA's certificate")?;
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .context("reading the CA's certificate as an issuer")?;
        let common_name = x509_common_name(&cert_der).unwrap_or_default();
        Ok(Self {
            common_name,
            key_pem: key_pem.to_owned(),
            cert_pem: cert_pem.to_owned(),
            cert_der,
            issuer,
        })
    }

    /// Issues a server leaf for `names` (DNS names, `*.` wildcards allowed).
    pub fn issue_server_leaf(&self, names: &[String]) -> Result<LeafCertificate> {
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map_or("lab", |n| n.as_str()),
        );
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(LeafCertificate {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
        })
    }

    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key in PKCS#8 PEM; handed only to the container that must sign with it.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

/// The common name of a DER certificate's subject.
fn x509_common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let name = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some(name)
}

/// A leaf certificate and its private key.
pub struct LeafCertificate {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for LeafCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafCertificate").finish_non_exhaustive()
    }
}

impl LeafCertificate {
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn private_key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}
