//! The proxy under test as a client sees it: where it listens, the credentials it accepts and
//! the certificate authorities a client trusts (the origin's, and the proxy's interception CA
//! when it is known), so a bump is told apart from any other certificate.

use rustls::pki_types::CertificateDer;

/// How clients reach the proxy under test.
#[derive(Debug, Clone)]
pub struct ProxyEndpoint {
    /// `http://HOST:PORT`.
    pub url: String,
    /// Basic credentials the proxy accepts, when the run has any.
    pub user: Option<(String, String)>,
    /// Roots a client trusts: the origin CA first, then the interception CA if known.
    pub trusted_roots: Vec<CertificateDer<'static>>,
}

/// A request asked to present credentials the run does not have.
#[derive(Debug, thiserror::Error)]
#[error("this run has no proxy credentials: give them with --proxy-user USER:PASSWORD")]
pub struct NoCredentials;

impl ProxyEndpoint {
    /// `HOST:PORT` of [`Self::url`].
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }

    pub fn credentials(&self) -> Result<(&str, &str), NoCredentials> {
        self.user
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
            .ok_or(NoCredentials)
    }
}
