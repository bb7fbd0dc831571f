//! The options that put a proxy the harness did not start under test, shared by `run` and
//! `load` (and, for the harness's side alone, `serve`): the proxy, its credentials and
//! interception CA, and where the harness's side listens.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Args;
use conformance_lab::external::{ExternalOptions, SideOptions, SidePorts};

/// External mode: a proxy the harness did not start, and the harness's side it reaches.
#[derive(Debug, Args)]
pub struct ExternalArgs {
    /// Put a proxy the harness did not start under test (a staging appliance): http://HOST:PORT.
    #[arg(long, value_name = "URL", conflicts_with_all = ["policy", "cpl"], requires = "expose")]
    pub proxy: Option<String>,
    /// Credentials the external proxy accepts (the control scenarios, the readiness probe).
    #[arg(long, value_name = "USER:PASSWORD", requires = "proxy")]
    pub proxy_user: Option<String>,
    /// The external proxy's interception CA (PEM), so a bump by the proxy is told from any
    /// other certificate.
    #[arg(long, value_name = "FILE", requires = "proxy")]
    pub proxy_ca: Option<PathBuf>,
    #[command(flatten)]
    pub side: SideArgs,
}

impl ExternalArgs {
    /// The external-mode options when `--proxy` was given; the error is a usage sentence.
    pub fn options(&self) -> Result<Option<ExternalOptions>, String> {
        let Some(proxy_url) = &self.proxy else {
            return Ok(None);
        };
        let user = match &self.proxy_user {
            Some(text) => Some(
                text.split_once(':')
                    .map(|(u, p)| (u.to_owned(), p.to_owned()))
                    .ok_or_else(|| "--proxy-user: write USER:PASSWORD".to_owned())?,
            ),
            None => None,
        };
        let side = self
            .side
            .options()
            .ok_or_else(|| "--proxy needs --expose ADDR".to_owned())?;
        Ok(Some(ExternalOptions {
            proxy_url: proxy_url.clone(),
            user,
            proxy_ca: self.proxy_ca.clone(),
            side,
        }))
    }
}

/// Where the harness's side listens, for an external proxy.
#[derive(Debug, Args)]
pub struct SideArgs {
    /// The address of this machine at which the proxy reaches the harness (IPv4): origins on
    /// :80 and :443, DNS on :53, ICAP on :1344, the categoriser on :8344.
    #[arg(long, value_name = "ADDR")]
    pub expose: Option<Ipv4Addr>,
    /// Where the origin CA the proxy trusts is kept between runs (created on first use).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

impl SideArgs {
    pub fn options(&self) -> Option<SideOptions> {
        let state_dir = self.state_dir.clone().unwrap_or_else(|| {
            std::env::var_os("HOME").map_or_else(
                || PathBuf::from("proxy-conformance-state"),
                |home| PathBuf::from(home).join(".local/state/proxy-conformance"),
            )
        });
        Some(SideOptions {
            expose: self.expose?,
            state_dir,
            ports: SidePorts::default(),
            extra_hosts: Default::default(),
        })
    }
}
