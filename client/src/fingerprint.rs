//! The client's own TLS fingerprint, measured once per run by connecting straight to the
//! origin (no proxy) with the same TLS settings the scenario clients use.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, Result};
use mock_servers::UpdateOrigin;
use rustls::pki_types::CertificateDer;

use crate::tls_capture::client_tls;

const BASELINE_HOST: &str = "download.windowsupdate.com";

/// The JA4 of the harness's own ClientHello, as `origin` fingerprints it.
pub async fn measure_own_ja4(
    origin: &UpdateOrigin,
    trusted_roots: &[CertificateDer<'static>],
) -> Result<String> {
    let port = origin.tls_port();
    let target = UpdateOrigin::update_path(16, &format!("tls-baseline-{}", std::process::id()));
    let (tls, _) = client_tls(trusted_roots)?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(BASELINE_HOST, SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .tls_backend_preconfigured(tls)
        .http1_only()
        .pool_max_idle_per_host(0)
        .build()?;
    client
        .get(format!("https://{BASELINE_HOST}:{port}{target}"))
        .send()
        .await
        .context("direct request to the origin")?
        .bytes()
        .await?;
    let journal = origin.journal();
    let request = journal
        .requests_containing(&target)
        .pop()
        .context("the origin did not journal the baseline request")?;
    journal
        .handshake(request.connection)
        .and_then(|h| h.ja4)
        .context("the origin could not fingerprint the baseline ClientHello")
}
