//! The client profile: a Windows component that downloads updates, as it introduces itself on
//! the wire and as it transfers a file (`docs/update-traffic.md`). A proxy rule keyed on a
//! User-Agent, or a header it strips, must meet the real values. Every request the harness
//! sends — the scenarios' and the load fleet's — carries the User-Agent of the profile it
//! stands for, on CONNECT too; the strings are written here only.

use crate::exchange::Credentials;

/// One client profile: an update component (or the browser the controls stand for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientProfile {
    /// Background Intelligent Transfer Service: HEAD, then ranged GETs with
    /// `If-Unmodified-Since` over one keep-alive connection.
    Bits,
    /// Delivery Optimization: `bytes=0-1` probes, then 1 MiB pieces over parallel connections,
    /// each with an `MS-CV` correlation vector.
    DeliveryOptimization,
    /// The Windows Update Agent: SOAP `POST /ClientWebService/client.asmx` over TLS.
    WindowsUpdateAgent,
    /// CryptoAPI: certificate trust lists with `If-Modified-Since`.
    CryptoApi,
    /// Microsoft Edge on Windows 11: not an update component, the user's own session. It
    /// stands for the traffic a proxy polices (the controls' requests with credentials).
    Browser,
}

/// How a profile transfers a file it downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferPattern {
    /// `HEAD` for the size and `Last-Modified`, then consecutive ranged `GET`s with
    /// `If-Unmodified-Since` over one keep-alive connection (BITS).
    HeadThenRanges,
    /// Two `Range: bytes=0-1` probes, then fixed-size pieces over parallel keep-alive
    /// connections (Delivery Optimization).
    ProbesThenParallelPieces,
    /// One `GET` of the whole object (SOAP calls, trust lists, a browser's page).
    WholeObject,
}

impl ClientProfile {
    /// Every profile.
    pub const ALL: [ClientProfile; 5] = [
        Self::Bits,
        Self::DeliveryOptimization,
        Self::WindowsUpdateAgent,
        Self::CryptoApi,
        Self::Browser,
    ];

    /// How the profile transfers a file.
    pub fn transfer(self) -> TransferPattern {
        match self {
            Self::Bits => TransferPattern::HeadThenRanges,
            Self::DeliveryOptimization => TransferPattern::ProbesThenParallelPieces,
            Self::WindowsUpdateAgent | Self::CryptoApi | Self::Browser => {
                TransferPattern::WholeObject
            }
        }
    }

    pub fn user_agent(self) -> &'static str {
        match self {
            Self::Bits => "Microsoft BITS/7.8",
            Self::DeliveryOptimization => "Microsoft-Delivery-Optimization/10.0",
            Self::WindowsUpdateAgent => {
                "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.90"
            }
            Self::CryptoApi => "Microsoft-CryptoAPI/10.0",
            Self::Browser => {
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"
            }
        }
    }

    /// The component a request stands for when its scenario names none. Without credentials
    /// it is BITS: update components run as SYSTEM and present no user's credentials, and
    /// BITS is what fetches update files. With credentials it is a browser: credentials belong
    /// to a user, whose requests come from the user's applications; and a policy that treats
    /// update agents by their User-Agent (some exempt BITS from authentication) must not see
    /// the controls' requests as an update agent's, or a control would fail for a reason that
    /// has nothing to do with policing.
    pub fn standing_for(credentials: Credentials) -> Self {
        match credentials {
            Credentials::Without => Self::Bits,
            Credentials::Presented => Self::Browser,
        }
    }

    /// The `User-Agent` header alone, as `(name, value)`.
    pub fn user_agent_header(self) -> (String, String) {
        ("user-agent".to_owned(), self.user_agent().to_owned())
    }

    /// Headers the component sends on every request besides its User-Agent.
    pub fn headers(self) -> Vec<(String, String)> {
        let mut headers = vec![self.user_agent_header()];
        match self {
            Self::Bits => headers.push(("connection".to_owned(), "Keep-Alive".to_owned())),
            Self::DeliveryOptimization => {
                headers.push(("ms-cv".to_owned(), correlation_vector()));
            }
            Self::WindowsUpdateAgent => {
                headers.push((
                    "content-type".to_owned(),
                    "text/xml; charset=utf-8".to_owned(),
                ));
                headers.push((
                    "soapaction".to_owned(),
                    "\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/SyncUpdates\""
                        .to_owned(),
                ));
            }
            Self::CryptoApi | Self::Browser => {}
        }
        headers
    }
}

/// An `MS-CV` value: a base64 correlation vector and an increment, as Delivery Optimization
/// sends it (`<16 base64 characters>.<n>`).
fn correlation_vector() -> String {
    use base64::Engine as _;
    let bytes: [u8; 12] = rand::random();
    format!(
        "{}.{}",
        base64::engine::general_purpose::STANDARD.encode(bytes),
        rand::random::<u8>() % 16
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_sends_its_real_user_agent() {
        for agent in ClientProfile::ALL {
            let headers = agent.headers();
            assert_eq!(
                headers[0],
                ("user-agent".to_owned(), agent.user_agent().to_owned())
            );
        }
        let cv = ClientProfile::DeliveryOptimization.headers()[1].1.clone();
        assert_eq!(cv.split('.').next().unwrap().len(), 16, "{cv}");
    }
}
