//! The URL families of Windows Update content: what real URLs of each kind look like, how to
//! mint a fresh realistic one for a file of a given size and client, and the response
//! headers the Microsoft CDN sends for each kind (`Content-Type` by extension as IIS maps it,
//! `Cache-Control` by how long the CDN lets the object live).
//!
//! Minted names are deterministic functions of (family, size, client token, salt): the same
//! inputs give the same URL, different clients different URLs where the real service gives
//! per-client names, and the same file part where only the query is per-client
//! (`/filestreamingservice/files/<guid>?P1=..&P4=..`).

use std::fmt;

use base64::Engine as _;

/// A kind of Windows Update URL, named after where it is served from and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrlFamily {
    /// `/c/msdownload/update/software/updt/YYYY/MM/windows10.0-kbNNNNNNN-vN-x64_<sha1>.cab`
    /// on `*.download.windowsupdate.com` (HTTP).
    CabC,
    /// `/d/msdownload/update/software/secu/YYYY/MM/windows10.0-kbNNNNNNN-x64_<sha1>.msu`.
    MsuD,
    /// `/filestreamingservice/files/<guid>?P1=<epoch>&P2=<n>&P3=<n>&P4=<base64>` on
    /// `*.dl.delivery.mp.microsoft.com`: the file is shared, the query is per client and expires.
    FileStreaming,
    /// Feature updates: `/d/upgr/YYYY/MM/<build>..._clientconsumer_ret_x64fre_en-us_<sha1>.esd`
    /// (multi-GiB).
    Esd,
    /// Defender definitions: `/download/DefinitionUpdates/versionedsignatures/AM/1.N.N.0/amd64/mpam-fe.exe`.
    Exe,
    /// Store / inbox apps: `.../microsoft.<app>_<ver>_x64__8wekyb3d8bbwe_<sha1>.appx`.
    Appx,
    /// `.../microsoft.<app>_<ver>_neutral_~_8wekyb3d8bbwe_<sha1>.msixbundle`.
    MsixBundle,
    /// Express / delta payloads: `.../windows10.0-kbNNNNNNN-x64_<sha1>.psf`.
    Psf,
    /// CryptoAPI's certificate trust list, one URL for every client:
    /// `/msdownload/update/v3/static/trustedr/en/authrootstl.cab` on `ctldl.windowsupdate.com`.
    Ctl,
    /// The Microsoft Connected Cache health probe `/mscomtest/wuidt.gif`.
    MccProbe,
    /// The Windows Update Agent's SOAP endpoint `POST /ClientWebService/client.asmx`.
    ClientWebService,
    /// The lab's original synthetic shape `/updates/<size>/<name>`.
    Synthetic,
}

/// Where the CTL lives; every client asks for this one URL.
pub const CTL_PATH: &str = "/msdownload/update/v3/static/trustedr/en/authrootstl.cab";
/// The MCC health probe.
pub const MCC_PROBE_PATH: &str = "/mscomtest/wuidt.gif";
/// The Windows Update Agent's SOAP endpoint.
pub const CLIENT_WEB_SERVICE_PATH: &str = "/ClientWebService/client.asmx";
/// How long a minted `FileStreaming` query stays valid (P1 is its expiry).
const FILE_STREAMING_VALIDITY_SECS: u64 = 3 * 24 * 3600;
/// Fixed "now" for minted queries, so minting stays a pure function.
const MINT_EPOCH: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

impl UrlFamily {
    /// Every family, for tables and tests.
    pub const ALL: [UrlFamily; 12] = [
        Self::CabC,
        Self::MsuD,
        Self::FileStreaming,
        Self::Esd,
        Self::Exe,
        Self::Appx,
        Self::MsixBundle,
        Self::Psf,
        Self::Ctl,
        Self::MccProbe,
        Self::ClientWebService,
        Self::Synthetic,
    ];

    /// A realistic path (and query, for `FileStreaming`) of this family for a file of `size`
    /// bytes handed to the client `client_token`. Per-client families put the token into the
    /// file name; `FileStreaming` into the file's GUID and its signed query; `Ctl`, `MccProbe`
    /// and `ClientWebService` are one URL for everybody and ignore it.
    pub fn mint(self, size: u64, client_token: &str) -> String {
        self.mint_salted(size, client_token, 0)
    }

    /// [`mint`](Self::mint) with a salt, to draw another name for the same inputs (the catalog
    /// uses it when a minted name is already taken by another file).
    pub fn mint_salted(self, size: u64, client_token: &str, salt: u32) -> String {
        let mut draw = Draw::new(&format!("{self:?}|{size}|{client_token}|{salt}"));
        let (year, month) = draw.year_month();
        match self {
            Self::CabC => format!(
                "/c/msdownload/update/software/updt/{year}/{month:02}/windows10.0-kb{kb}-v{v}-x64_{sha1}.cab",
                kb = draw.kb(),
                v = 1 + draw.below(4),
                sha1 = draw.hex(40)
            ),
            Self::MsuD => format!(
                "/d/msdownload/update/software/secu/{year}/{month:02}/windows10.0-kb{kb}-x64_{sha1}.msu",
                kb = draw.kb(),
                sha1 = draw.hex(40)
            ),
            Self::Psf => format!(
                "/d/msdownload/update/software/secu/{year}/{month:02}/windows10.0-kb{kb}-x64_{sha1}.psf",
                kb = draw.kb(),
                sha1 = draw.hex(40)
            ),
            Self::FileStreaming => {
                let guid = draw.guid();
                format!("/filestreamingservice/files/{guid}?{}", client_query(&guid, client_token))
            }
            Self::Esd => {
                let build = [19045, 22621, 22631, 26100][draw.below(4) as usize];
                format!(
                    "/d/upgr/{year}/{month:02}/{build}.{rev}.{yy:02}{month:02}{dd:02}-{hh:02}{mm:02}.{branch}_clientconsumer_ret_x64fre_en-us_{sha1}.esd",
                    rev = 100 + draw.below(4900),
                    yy = year % 100,
                    dd = 1 + draw.below(28),
                    hh = draw.below(24),
                    mm = draw.below(60),
                    branch = ["vb_release_svc_refresh", "ni_release_svc_refresh", "ge_release_svc_refresh"]
                        [draw.below(3) as usize],
                    sha1 = draw.hex(40)
                )
            }
            Self::Exe => format!(
                "/download/DefinitionUpdates/versionedsignatures/AM/1.{minor}.{build}.0/amd64/mpam-fe.exe",
                minor = 400 + draw.below(50),
                build = draw.below(100_000)
            ),
            Self::Appx | Self::MsixBundle => {
                let app = ["vclibs.140.00", "windowsstore", "desktopappinstaller", "ui.xaml.2.8", "windowsterminal"]
                    [draw.below(5) as usize];
                let version = format!("{}.{}.{}.0", 1 + draw.below(20), draw.below(40_000), draw.below(1000));
                let (arch, ext) = match self {
                    Self::Appx => ("x64_", "appx"),
                    _ => ("neutral_~", "msixbundle"),
                };
                format!(
                    "/c/msdownload/update/software/updt/{year}/{month:02}/microsoft.{app}_{version}_{arch}_8wekyb3d8bbwe_{sha1}.{ext}",
                    sha1 = draw.hex(40)
                )
            }
            Self::Ctl => CTL_PATH.to_owned(),
            Self::MccProbe => MCC_PROBE_PATH.to_owned(),
            Self::ClientWebService => CLIENT_WEB_SERVICE_PATH.to_owned(),
            Self::Synthetic => format!(
                "/updates/{size}/{token}/{name}.cab",
                token = client_token.trim_matches('/'),
                name = draw.hex(12)
            ),
        }
    }

    /// The URL another client is handed for the same file: for `FileStreaming` the same
    /// `/filestreamingservice/files/<guid>` with that client's own signed query; for every
    /// other family the URL itself (their per-client part is the file name).
    pub fn for_client(self, minted: &str, client_token: &str) -> String {
        match self {
            Self::FileStreaming => {
                let path = minted.split('?').next().unwrap_or(minted);
                let guid = path.rsplit('/').next().unwrap_or_default();
                format!("{path}?{}", client_query(guid, client_token))
            }
            _ => minted.to_owned(),
        }
    }

    /// The family a path belongs to, judged from its shape (query ignored); `None` for paths
    /// that are not Windows Update content.
    pub fn of_path(path_and_query: &str) -> Option<UrlFamily> {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let lower = path.to_ascii_lowercase();
        let extension = extension(&lower);
        if lower == CTL_PATH || lower.starts_with("/msdownload/update/v3/static/trustedr/") {
            return Some(Self::Ctl);
        }
        if lower == MCC_PROBE_PATH {
            return Some(Self::MccProbe);
        }
        if lower == CLIENT_WEB_SERVICE_PATH.to_ascii_lowercase() {
            return Some(Self::ClientWebService);
        }
        if lower.starts_with("/filestreamingservice/files/") {
            return Some(Self::FileStreaming);
        }
        if lower.starts_with("/updates/") {
            return Some(Self::Synthetic);
        }
        match extension {
            Some("esd") => Some(Self::Esd),
            Some("exe") => Some(Self::Exe),
            Some("appx") => Some(Self::Appx),
            Some("msixbundle" | "appxbundle" | "msix") => Some(Self::MsixBundle),
            Some("psf") => Some(Self::Psf),
            Some("msu") => Some(Self::MsuD),
            Some("cab") => Some(Self::CabC),
            _ => None,
        }
    }

    /// The `Cache-Control` the CDN sends for this family. Content-addressed files (their
    /// SHA-1 is in the name) live long in every shared cache; the CTL and Defender
    /// definitions are republished under the same URL and live shorter; the SOAP endpoint
    /// is per client and `private`.
    pub fn cache_control(self) -> &'static str {
        match self {
            Self::CabC | Self::MsuD | Self::Psf | Self::Esd | Self::Appx | Self::MsixBundle => {
                "public, max-age=172800"
            }
            Self::FileStreaming => "public, max-age=17280000",
            Self::Synthetic => "public, max-age=86400",
            Self::Ctl => "public, max-age=900",
            Self::Exe => "public, max-age=3600",
            Self::MccProbe => "public, max-age=60",
            Self::ClientWebService => "private",
        }
    }
}

impl fmt::Display for UrlFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The `Content-Type` the CDN (IIS's MIME map) sends for a path, by its extension.
pub fn content_type_for_path(path_and_query: &str) -> &'static str {
    let path = path_and_query
        .split('?')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension(&path) {
        Some("cab") => "application/vnd.ms-cab-compressed",
        Some("appx") => "application/vnd.ms-appx",
        Some("appxbundle") => "application/vnd.ms-appx.bundle",
        Some("msix") => "application/msix",
        Some("msixbundle") => "application/msixbundle",
        Some("gif") => "image/gif",
        Some("xml") => "text/xml",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("zip") => "application/x-zip-compressed",
        Some("crl") => "application/pkix-crl",
        Some("cer" | "crt") => "application/x-x509-ca-cert",
        Some("stl") => "application/vnd.ms-pki.stl",
        _ => "application/octet-stream",
    }
}

/// The extension of the last path segment, if it has one.
fn extension(path: &str) -> Option<&str> {
    let last = path.rsplit('/').next()?;
    let (_, extension) = last.rsplit_once('.')?;
    (!extension.is_empty()).then_some(extension)
}

/// The per-client, time-limited query of a file-streaming URL: P1 the expiry (epoch
/// seconds), P2/P3 service parameters, P4 a base64 signature over guid, client and expiry.
fn client_query(guid: &str, client_token: &str) -> String {
    let mut draw = Draw::new(&format!("P|{guid}|{client_token}"));
    let expiry = MINT_EPOCH + FILE_STREAMING_VALIDITY_SECS + draw.below(3600);
    let signature: Vec<u8> = (0..64).map(|_| draw.next() as u8).collect();
    let p4 = base64::engine::general_purpose::STANDARD.encode(signature);
    // The signature is base64 with '+', '/' and '=' percent-encoded, as the real service does.
    let p4 = p4
        .replace('+', "%2b")
        .replace('/', "%2f")
        .replace('=', "%3d");
    format!("P1={expiry}&P2=404&P3=2&P4={p4}")
}

/// A small deterministic generator (splitmix64 over an FNV-1a seed).
struct Draw(u64);

impl Draw {
    fn new(identity: &str) -> Self {
        Self(crate::payload::fnv1a(identity.as_bytes()))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        crate::payload::splitmix64(self.0)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut out = String::with_capacity(digits + 16);
        while out.len() < digits {
            out.push_str(&format!("{:016x}", self.next()));
        }
        out.truncate(digits);
        out
    }

    fn guid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    fn kb(&mut self) -> u64 {
        4_000_000 + self.below(1_100_000)
    }

    fn year_month(&mut self) -> (u64, u64) {
        (2017 + self.below(9), 1 + self.below(12))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_hex(s: &str) -> bool {
        s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    #[test]
    fn minted_urls_have_the_real_shapes() {
        let cab = UrlFamily::CabC.mint(1024, "client-a");
        let (prefix, name) = cab.rsplit_once('/').unwrap();
        assert!(
            prefix.starts_with("/c/msdownload/update/software/updt/20"),
            "{cab}"
        );
        assert!(
            name.starts_with("windows10.0-kb") && name.ends_with(".cab"),
            "{cab}"
        );
        let sha1 = name.rsplit_once('_').unwrap().1.trim_end_matches(".cab");
        assert_eq!(sha1.len(), 40);
        assert!(is_hex(sha1));

        let msu = UrlFamily::MsuD.mint(1024, "client-a");
        assert!(msu.starts_with("/d/msdownload/update/software/secu/") && msu.ends_with(".msu"));
        assert!(UrlFamily::Esd.mint(5 << 30, "a").ends_with(".esd"));
        assert!(UrlFamily::Exe.mint(9, "a").ends_with("/amd64/mpam-fe.exe"));
        assert!(UrlFamily::Appx.mint(9, "a").ends_with(".appx"));
        assert!(UrlFamily::MsixBundle.mint(9, "a").ends_with(".msixbundle"));
        assert!(UrlFamily::Psf.mint(9, "a").ends_with(".psf"));
        assert_eq!(UrlFamily::Ctl.mint(9, "a"), CTL_PATH);
        assert_eq!(UrlFamily::Ctl.mint(9, "b"), CTL_PATH);
        assert_eq!(UrlFamily::MccProbe.mint(9, "a"), MCC_PROBE_PATH);
    }

    #[test]
    fn file_streaming_urls_share_the_file_and_differ_in_the_query() {
        let a = UrlFamily::FileStreaming.mint(4096, "client-a");
        let (path, query) = a.split_once('?').unwrap();
        let guid = path.strip_prefix("/filestreamingservice/files/").unwrap();
        assert_eq!(guid.len(), 36);
        assert_eq!(guid.matches('-').count(), 4);
        for p in ["P1=", "&P2=", "&P3=", "&P4="] {
            assert!(query.contains(p), "{query}");
        }
        let b = UrlFamily::FileStreaming.for_client(&a, "client-b");
        assert_eq!(b.split('?').next(), Some(path));
        assert_ne!(a, b);
        assert_eq!(UrlFamily::FileStreaming.for_client(&a, "client-a"), a);
    }

    #[test]
    fn minting_is_deterministic_and_per_client() {
        for family in [
            UrlFamily::CabC,
            UrlFamily::MsuD,
            UrlFamily::Esd,
            UrlFamily::Appx,
        ] {
            assert_eq!(family.mint(10, "x"), family.mint(10, "x"));
            assert_ne!(family.mint(10, "x"), family.mint(10, "y"));
            assert_ne!(family.mint(10, "x"), family.mint_salted(10, "x", 1));
        }
    }

    #[test]
    fn minted_urls_are_classified_back_into_their_family() {
        for family in UrlFamily::ALL {
            let url = family.mint(100, "t");
            assert_eq!(UrlFamily::of_path(&url), Some(family), "{url}");
        }
        assert_eq!(UrlFamily::of_path("/index.html"), None);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type_for_path(&UrlFamily::CabC.mint(1, "a")),
            "application/vnd.ms-cab-compressed"
        );
        assert_eq!(
            content_type_for_path("/X/Y.MSU?z=1"),
            "application/octet-stream"
        );
        assert_eq!(content_type_for_path(MCC_PROBE_PATH), "image/gif");
        assert_eq!(
            content_type_for_path("/filestreamingservice/files/abc?P1=1"),
            "application/octet-stream"
        );
    }
}
