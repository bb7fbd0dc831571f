//! Synthetic observations for the predicates' unit tests: an origin request, a client
//! exchange, a proxy fact and a ClientHello, each plain and adjustable by the test.

use conformance_client::{ClientResponse, Credentials, Exchange, Outcome, Scheme};
use conformance_lab::{CacheUse, ProxyFact};
use mock_servers::{
    OriginRequest, Scheme as OriginScheme, TlsHandshake, ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER,
};

/// A GET of `target` the origin answered 200, carrying request token `token`.
pub(crate) fn origin_request(target: &str, token: &str) -> OriginRequest {
    OriginRequest {
        connection: 1,
        scheme: OriginScheme::Http,
        method: "GET".into(),
        target: target.into(),
        host: "download.windowsupdate.com".into(),
        headers: vec![(REQUEST_TOKEN_HEADER.to_owned(), token.to_owned())],
        status: 200,
        bytes_sent: 1,
    }
}

/// A GET the client sent with request token `token`, answered `status` with the token echoed.
pub(crate) fn exchange(token: &str, status: u16) -> Exchange {
    Exchange {
        method: "GET".into(),
        url: "http://download.windowsupdate.com/updates/1/s1/kb.cab".into(),
        scheme: Scheme::Http,
        credentials: Credentials::Without,
        range: None,
        extra_headers: Vec::new(),
        request_token: token.into(),
        outcome: Outcome::Response(ClientResponse {
            status,
            headers: vec![(ECHO_TOKEN_HEADER.to_owned(), token.to_owned())],
            body_len: 1,
            body_mismatch: None,
            issuer: None,
            leaf: None,
            parts: Vec::new(),
            stopped_reading: false,
        }),
    }
}

/// The proxy's fact of a `method` of `url` it passed on untouched (no cache, no user).
pub(crate) fn proxy_fact(method: &str, url: &str) -> ProxyFact {
    ProxyFact {
        raw: format!("{method} {url}"),
        method: method.into(),
        url: url.into(),
        status: Some(200),
        denied: false,
        challenged: false,
        cache: CacheUse::Miss,
        tunnelled: method == "CONNECT",
        client_hello_inspected: false,
        bumped: false,
        adapted: false,
        user: None,
        scenario: Some("s1".into()),
    }
}

/// A ClientHello the origin saw, with fingerprint `ja4`.
pub(crate) fn handshake(ja4: &str) -> TlsHandshake {
    TlsHandshake {
        connection: 1,
        sni: Some("fe2.update.microsoft.com".into()),
        ja4: Some(ja4.into()),
    }
}
