//! The Windows Update traffic model every Windows Update judgement of this crate evaluates a
//! policy against: each concrete name of every host pattern (`conformance_model`), over
//! `http://` and `https://`, with each kind of request the update components make there —
//! the URL families, methods, User-Agents and response types the lab's origin serves (the
//! shapes of `mock-servers`' URL families; the root test `tests/cpl_translation.rs` holds the
//! two to each other). A rule keyed on an extension, a MIME type, a method or a User-Agent
//! meets the requests it would meet in the field, not only `http://host/`.

use conformance_model::WINDOWS_UPDATE_HOSTS;

use crate::request::Request;

/// A kind of request an update component makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpdateFamily {
    /// What it is, for people: `cumulative update (.cab)`.
    pub name: &'static str,
    /// Path (and query) as the component asks for it.
    pub path: &'static str,
    /// The methods it is asked with, in order.
    pub methods: &'static [&'static str],
    pub user_agent: &'static str,
    /// Request headers besides the User-Agent (a `Range` goes with `GET` only).
    pub headers: &'static [(&'static str, &'static str)],
    /// The response's `Content-Type`, as the Microsoft CDN sends it.
    pub content_type: &'static str,
}

const BITS: &str = "Microsoft BITS/7.8";
const DELIVERY_OPTIMIZATION: &str = "Microsoft-Delivery-Optimization/10.0";
const UPDATE_AGENT: &str = "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.90";
const CRYPTO_API: &str = "Microsoft-CryptoAPI/10.0";
const OCTET_STREAM: &str = "application/octet-stream";
const CAB: &str = "application/vnd.ms-cab-compressed";
const FIRST_MIB: (&str, &str) = ("Range", "bytes=0-1048575");

/// Every kind of request of the model.
pub const UPDATE_FAMILIES: &[UpdateFamily] = &[
    UpdateFamily {
        name: "update metadata (SOAP)",
        path: "/ClientWebService/client.asmx",
        methods: &["POST"],
        user_agent: UPDATE_AGENT,
        headers: &[
            ("Content-Type", "text/xml; charset=utf-8"),
            (
                "SOAPAction",
                "\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/SyncUpdates\"",
            ),
        ],
        content_type: "text/xml; charset=utf-8",
    },
    UpdateFamily {
        name: "cumulative update (.cab)",
        path: "/c/msdownload/update/software/updt/2024/05/windows10.0-kb5037768-v2-x64_6f0a3c1e2b4d5968778899aabbccddeeff001122.cab",
        methods: &["HEAD", "GET"],
        user_agent: BITS,
        headers: &[FIRST_MIB],
        content_type: CAB,
    },
    UpdateFamily {
        name: "standalone update (.msu)",
        path: "/d/msdownload/update/software/secu/2024/05/windows10.0-kb5037771-x64_0123456789abcdef0123456789abcdef01234567.msu",
        methods: &["HEAD", "GET"],
        user_agent: BITS,
        headers: &[FIRST_MIB],
        content_type: OCTET_STREAM,
    },
    UpdateFamily {
        name: "express payload (.psf)",
        path: "/d/msdownload/update/software/secu/2024/05/windows10.0-kb5037771-x64_89abcdef0123456789abcdef0123456789abcdef.psf",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[FIRST_MIB],
        content_type: OCTET_STREAM,
    },
    UpdateFamily {
        name: "feature update (.esd)",
        path: "/d/upgr/2024/05/22631.3593.240508-1635.ni_release_svc_refresh_clientconsumer_ret_x64fre_en-us_fedcba9876543210fedcba9876543210fedcba98.esd",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[FIRST_MIB],
        content_type: OCTET_STREAM,
    },
    UpdateFamily {
        name: "file streaming (per-client query)",
        path: "/filestreamingservice/files/3b1f2a4c-5d6e-4f70-8192-a3b4c5d6e7f8?P1=1767484800&P2=404&P3=2&P4=q2xJx%2bY0%2fZ%3d",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[FIRST_MIB],
        content_type: OCTET_STREAM,
    },
    UpdateFamily {
        name: "Defender definitions (.exe)",
        path: "/download/DefinitionUpdates/versionedsignatures/AM/1.411.383.0/amd64/mpam-fe.exe",
        methods: &["HEAD", "GET"],
        user_agent: BITS,
        headers: &[FIRST_MIB],
        content_type: OCTET_STREAM,
    },
    UpdateFamily {
        name: "app package (.appx)",
        path: "/c/msdownload/update/software/updt/2024/05/microsoft.vclibs.140.00_14.0.33519.0_x64__8wekyb3d8bbwe_00112233445566778899aabbccddeeff00112233.appx",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[FIRST_MIB],
        content_type: "application/vnd.ms-appx",
    },
    UpdateFamily {
        name: "app bundle (.msixbundle)",
        path: "/c/msdownload/update/software/updt/2024/05/microsoft.desktopappinstaller_1.22.11261.0_neutral_~_8wekyb3d8bbwe_aabbccddeeff00112233445566778899aabbccdd.msixbundle",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[FIRST_MIB],
        content_type: "application/msixbundle",
    },
    UpdateFamily {
        name: "certificate trust list",
        path: "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
        methods: &["GET"],
        user_agent: CRYPTO_API,
        headers: &[("If-Modified-Since", "Tue, 07 May 2024 18:00:00 GMT")],
        content_type: CAB,
    },
    UpdateFamily {
        name: "connected-cache probe (.gif)",
        path: "/mscomtest/wuidt.gif",
        methods: &["GET"],
        user_agent: DELIVERY_OPTIMIZATION,
        headers: &[],
        content_type: "image/gif",
    },
];

/// One request of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The documented host pattern the host stands for, e.g. `*.update.microsoft.com`.
    pub pattern: &'static str,
    pub family: &'static UpdateFamily,
    /// The request itself: URL, method, headers and the response's headers all known.
    pub request: Request,
}

impl UpdateRequest {
    /// For a request over TLS, the `CONNECT` that opens its tunnel (`https://host/`, method
    /// `CONNECT`, the component's User-Agent, which it sends on `CONNECT` too). Where the
    /// policy does not intercept that tunnel (`ssl.forward_proxy` not `https`), the proxy sees
    /// only this transaction, never the request inside: the tunnel's decisions are the
    /// request's.
    pub fn tunnel(&self) -> Option<Request> {
        if !self.request.is_tls() {
            return None;
        }
        let url = format!("https://{}/", self.request.host);
        let connect = Request::parse(&url).ok()?;
        Some(
            connect
                .with_method("CONNECT")
                .with_known_headers()
                .with_header("User-Agent", self.family.user_agent),
        )
    }

    /// `GET https://fe2.update.microsoft.com/… (cumulative update (.cab))`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({})",
            self.request.method.as_deref().unwrap_or("GET"),
            self.request.url,
            self.family.name
        )
    }
}

/// Every request of the model: every update host name × scheme × family × method.
pub fn windows_update_traffic() -> Vec<UpdateRequest> {
    let mut requests = Vec::new();
    for pattern in WINDOWS_UPDATE_HOSTS {
        for name in pattern.names {
            for tls in [false, true] {
                let scheme = if tls { "https" } else { "http" };
                for family in UPDATE_FAMILIES {
                    for method in family.methods {
                        let url = format!("{scheme}://{name}{}", family.path);
                        let Ok(request) = Request::parse(&url) else {
                            continue;
                        };
                        let mut request = request
                            .with_method(method)
                            .with_known_headers()
                            .with_header("User-Agent", family.user_agent)
                            .with_response_header("Content-Type", family.content_type);
                        for (header, value) in family.headers {
                            if *header == "Range" && *method != "GET" {
                                continue;
                            }
                            request = request.with_header(header, value);
                        }
                        requests.push(UpdateRequest {
                            pattern: pattern.pattern,
                            family,
                            request,
                        });
                    }
                }
            }
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_host_name_gets_every_family_over_both_schemes() {
        let traffic = windows_update_traffic();
        let names: usize = WINDOWS_UPDATE_HOSTS.iter().map(|p| p.names.len()).sum();
        let per_name: usize = UPDATE_FAMILIES.iter().map(|f| f.methods.len()).sum();
        assert_eq!(traffic.len(), names * per_name * 2);
        let cab = traffic
            .iter()
            .find(|r| r.family.name.contains(".cab") && r.request.method.as_deref() == Some("GET"))
            .unwrap();
        assert!(cab.request.path.ends_with(".cab"));
        assert!(cab
            .request
            .headers
            .as_ref()
            .unwrap()
            .iter()
            .any(|(n, v)| n == "Range" && v.starts_with("bytes=")));
        let head = traffic
            .iter()
            .find(|r| r.request.method.as_deref() == Some("HEAD"))
            .unwrap();
        assert!(!head
            .request
            .headers
            .as_ref()
            .unwrap()
            .iter()
            .any(|(n, _)| n == "Range"));
    }
}
