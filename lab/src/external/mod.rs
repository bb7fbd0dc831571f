//! External mode: a proxy the harness did not start — a staging appliance of any vendor, or a
//! proxy container a test started — put under test. The harness starts only its own side
//! ([`HarnessSide`]: origins under every lab name on :80/:443 of one address, a DNS server
//! answering every lab name with it, the ICAP recorder, the categoriser), prints what to point
//! the proxy at ([`Setup`]), checks the proxy is there and reaches the harness ([`probe`]),
//! and judges from the vantage points that exist: the client and the origin always, the ICAP
//! recorder and the categoriser when the proxy calls them, the proxy's log never
//! ([`External`] has none).

pub mod probe;
mod relay;
mod setup;
mod side;

use std::path::PathBuf;

use rustls::pki_types::CertificateDer;

pub use setup::SidePorts;
pub use setup::{Setup, CONNECT_TIMEOUT, FIRST_REQUEST_TIMEOUT, INSTRUMENT_GRACE};
pub(crate) use side::SideRest;
pub use side::{HarnessSide, SideOptions, ORIGIN_CA_FILE};

/// How to put an external proxy under test.
#[derive(Debug, Clone)]
pub struct ExternalOptions {
    /// `http://HOST:PORT` of the proxy under test.
    pub proxy_url: String,
    /// Credentials the proxy accepts (the control scenarios "with the lab credentials").
    pub user: Option<(String, String)>,
    /// The proxy's interception CA (PEM), when it intercepts TLS: so a client tells a bump by
    /// the proxy from any other certificate.
    pub proxy_ca: Option<PathBuf>,
    pub side: SideOptions,
}

/// The proxy's interception CA as the client knows it: its certificates and the common name
/// its leaves are issued by.
#[derive(Debug, Clone)]
pub(crate) struct InterceptionCa {
    pub(crate) certificates: Vec<CertificateDer<'static>>,
    pub(crate) common_name: String,
}

impl InterceptionCa {
    /// Reads every certificate of a PEM file; the first one names the CA.
    pub(crate) fn load(path: &std::path::Path) -> Result<Self, crate::error::LabError> {
        use rustls::pki_types::pem::PemObject as _;
        let rejected = |why: String| {
            crate::error::LabError::Usage(format!("--proxy-ca {}: {why}", path.display()))
        };
        let pem = std::fs::read(path).map_err(|e| rejected(e.to_string()))?;
        let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| rejected(format!("not a PEM certificate ({e:?})")))?;
        let first = certificates
            .first()
            .ok_or_else(|| rejected("no PEM certificate in it".to_owned()))?;
        let common_name = x509_parser::parse_x509_certificate(first)
            .ok()
            .and_then(|(_, cert)| {
                cert.subject()
                    .iter_common_name()
                    .next()
                    .and_then(|cn| cn.as_str().ok().map(str::to_owned))
            })
            .ok_or_else(|| rejected("its certificate has no subject common name".to_owned()))?;
        Ok(Self {
            certificates,
            common_name,
        })
    }
}
