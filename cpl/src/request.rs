//! The request a policy is evaluated for (scheme, host, port, path, whether it is TLS; and,
//! when known, its method, its headers and the response's headers) and the CPL pattern forms
//! that test it: domain-suffix patterns (`url.domain=`, which match on label boundaries), URL
//! prefix patterns (`url=`, complete host names) and plain string tests.

use thiserror::Error;
use url::Url;

/// One request as a policy sees it. Built from a URL ([`Request::parse`]); the method and
/// headers are unknown until given, and triggers that test them are then undecided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    /// `GET`, `HEAD`, `POST` …; `None` when not known.
    pub method: Option<String>,
    /// The request's headers (name, value); `None` when not known.
    pub headers: Option<Vec<(String, String)>>,
    /// The response's headers (name, value); `None` when not known.
    pub response_headers: Option<Vec<(String, String)>>,
}

/// The `--url` given to `explain` is not an absolute URL with a host.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error(
    "`{url}` is not an absolute URL with a host name (e.g. https://download.windowsupdate.com/)"
)]
pub struct InvalidUrl {
    pub url: String,
}

impl Request {
    /// The request for an absolute URL with a host; `https` means a TLS connection.
    pub fn parse(text: &str) -> Result<Self, InvalidUrl> {
        let invalid = || InvalidUrl {
            url: text.to_owned(),
        };
        let url = Url::parse(text).map_err(|_| invalid())?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(invalid)?;
        Ok(Self {
            url: url.as_str().to_owned(),
            scheme: url.scheme().to_owned(),
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            port: url.port_or_known_default(),
            path: url.path().to_owned(),
            method: None,
            headers: None,
            response_headers: None,
        })
    }

    /// The request made with `method` (upper-cased). A `CONNECT` names only its host and
    /// port: the path is dropped.
    pub fn with_method(mut self, method: &str) -> Self {
        let method = method.to_ascii_uppercase();
        if method == "CONNECT" {
            let default_port = if self.is_tls() { 443 } else { 80 };
            let port = match self.port {
                Some(port) if port != default_port => format!(":{port}"),
                _ => String::new(),
            };
            self.url = format!("{}://{}{port}/", self.scheme, self.host);
            self.path = "/".to_owned();
        }
        self.method = Some(method);
        self
    }

    /// The request with one more request header; the first makes the headers known (a header
    /// not given is then absent).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .get_or_insert_with(Vec::new)
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// The request with one more response header (as for [`Request::with_header`]).
    pub fn with_response_header(mut self, name: &str, value: &str) -> Self {
        self.response_headers
            .get_or_insert_with(Vec::new)
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// The request with its headers known to be exactly those given so far (none if none).
    pub fn with_known_headers(mut self) -> Self {
        self.headers.get_or_insert_with(Vec::new);
        self.response_headers.get_or_insert_with(Vec::new);
        self
    }

    /// `http://host/` or `https://host/`.
    pub(crate) fn to_host(host: &str, tls: bool) -> Self {
        let scheme = if tls { "https" } else { "http" };
        Self {
            url: format!("{scheme}://{host}/"),
            scheme: scheme.to_owned(),
            host: host.to_ascii_lowercase(),
            port: Some(if tls { 443 } else { 80 }),
            path: "/".to_owned(),
            method: None,
            headers: None,
            response_headers: None,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }
}

/// `host` is `domain` or one of its subdomains (a leading `.` on `domain` is allowed).
pub(crate) fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.trim_start_matches('.').to_ascii_lowercase();
    !domain.is_empty()
        && (host == domain
            || host
                .strip_suffix(domain.as_str())
                .is_some_and(|rest| rest.ends_with('.')))
}

/// How the host part of a [`UrlPattern`] is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostRule {
    /// `url.domain=`: the host or a subdomain.
    Domain,
    /// `url=`: the complete host name.
    Exact,
}

/// `scheme://host:port/path` with every part optional, as CPL URL patterns are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlPattern {
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
}

impl UrlPattern {
    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim().to_ascii_lowercase();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_owned()), rest.to_owned()),
            None => (None, text.strip_prefix("//").unwrap_or(&text).to_owned()),
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], Some(rest[at..].to_owned())),
            None => (rest.as_str(), None),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => (host, port.parse().ok()),
            _ => (authority, None),
        };
        Self {
            scheme,
            host: (!host.is_empty()).then(|| host.trim_end_matches('.').to_owned()),
            port,
            path: path.filter(|p| p != "/"),
        }
    }

    pub(crate) fn matches(&self, request: &Request, rule: HostRule) -> bool {
        let scheme = self.scheme.as_ref().is_none_or(|s| *s == request.scheme);
        let host = self.host.as_ref().is_none_or(|h| match rule {
            HostRule::Domain => domain_matches(&request.host, h),
            HostRule::Exact => request.host == *h,
        });
        let port = self.port.is_none_or(|p| request.port == Some(p));
        let path = self
            .path
            .as_ref()
            .is_none_or(|p| request.path.to_ascii_lowercase().starts_with(p.as_str()));
        scheme && host && port && path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_on_label_boundaries() {
        assert!(domain_matches(
            "7.tlu.dl.delivery.mp.microsoft.com",
            "delivery.mp.microsoft.com"
        ));
        assert!(domain_matches("windowsupdate.com", ".windowsupdate.com"));
        assert!(!domain_matches("notwindowsupdate.com", "windowsupdate.com"));
        assert!(!domain_matches("a.com", ""));
    }

    #[test]
    fn url_patterns_take_every_cpl_form() {
        let https = Request::parse("https://fe2.update.microsoft.com/v6/x").unwrap();
        for (pattern, rule, expected) in [
            ("update.microsoft.com", HostRule::Domain, true),
            ("//update.microsoft.com", HostRule::Domain, true),
            ("http://update.microsoft.com", HostRule::Domain, false),
            ("fe2.update.microsoft.com:443/v6", HostRule::Exact, true),
            ("fe2.update.microsoft.com/v7", HostRule::Exact, false),
            ("update.microsoft.com", HostRule::Exact, false),
        ] {
            assert_eq!(
                UrlPattern::parse(pattern).matches(&https, rule),
                expected,
                "{pattern}"
            );
        }
    }

    #[test]
    fn only_absolute_urls_with_a_host_are_requests() {
        assert!(Request::parse("download.windowsupdate.com").is_err());
        assert!(Request::parse("mailto:x@example.com").is_err());
        let request = Request::parse("HTTP://Download.WindowsUpdate.com./a").unwrap();
        assert_eq!(request.host, "download.windowsupdate.com");
        assert_eq!(request.port, Some(80));
    }
}
