//! Typed step parameters: sizes, schemes, credentials, resources.

use std::str::FromStr;

use cucumber::Parameter;

/// A byte count written as `4 MiB`, `512 KiB`, `100 bytes` …
#[derive(Debug, Clone, Copy, Parameter)]
#[param(name = "size", regex = r"\d+ (?:bytes|KiB|MiB|GiB)")]
pub struct Size(pub u64);

impl FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, unit) = s
            .split_once(' ')
            .ok_or_else(|| format!("not a size: {s}"))?;
        let number: u64 = number.parse().map_err(|_| format!("not a size: {s}"))?;
        let factor = match unit {
            "bytes" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            other => return Err(format!("unknown unit {other}")),
        };
        number
            .checked_mul(factor)
            .map(Self)
            .ok_or_else(|| format!("{s} is too large a size (at most 16 EiB)"))
    }
}

/// How the client reaches the origin through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "scheme", regex = "HTTPS|HTTP")]
pub enum Scheme {
    /// Plain HTTP: the proxy sees and forwards the request.
    Http,
    /// HTTPS: a CONNECT tunnel the proxy splices or bumps.
    Https,
}

impl FromStr for Scheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "HTTP" => Ok(Self::Http),
            "HTTPS" => Ok(Self::Https),
            other => Err(format!("unknown scheme {other}")),
        }
    }
}

impl From<Scheme> for conformance_client::Scheme {
    fn from(scheme: Scheme) -> Self {
        match scheme {
            Scheme::Http => Self::Http,
            Scheme::Https => Self::Https,
        }
    }
}

/// Whether the client presents the lab credentials to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(
    name = "credentials",
    regex = "without credentials|with the lab credentials"
)]
pub enum Credentials {
    Without,
    Lab,
}

impl FromStr for Credentials {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "without credentials" => Ok(Self::Without),
            "with the lab credentials" => Ok(Self::Lab),
            other => Err(format!("unknown credentials {other}")),
        }
    }
}

impl From<Credentials> for conformance_client::Credentials {
    fn from(credentials: Credentials) -> Self {
        match credentials {
            Credentials::Without => Self::Without,
            Credentials::Lab => Self::Presented,
        }
    }
}

/// What the scenario set up at the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "resource", regex = "file|page")]
pub enum Resource {
    /// A generated update file.
    File,
    /// A scripted, cacheable control page.
    Page,
}

impl FromStr for Resource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "file" => Ok(Self::File),
            "page" => Ok(Self::Page),
            other => Err(format!("unknown resource {other}")),
        }
    }
}
