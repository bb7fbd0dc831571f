//! The update origin over real sockets: real URL shapes with the CDN's headers, conditional
//! requests, redirects journaled per hop, the SOAP endpoint, TLS under wildcard leaves and
//! journaled TLS failures.

use std::net::SocketAddr;
use std::time::Duration;

use lab_certs::LabPki;
use mock_servers::{
    ConditionalKind, HostScope, Payload, ScriptedEndpoints, TlsFailureStage, UpdateOrigin,
    UrlFamily, ECHO_TOKEN_HEADER, REQUEST_TOKEN_HEADER,
};
use reqwest::{header, Client, StatusCode};

const AU: &str = "au.download.windowsupdate.com";
const TLU: &str = "7.tlu.dl.delivery.mp.microsoft.com";

struct Lab {
    origin: UpdateOrigin,
    pki: LabPki,
}

async fn lab() -> Lab {
    let pki = LabPki::generate(&[
        "*.dl.delivery.mp.microsoft.com".to_owned(),
        "*.download.windowsupdate.com".to_owned(),
        "download.windowsupdate.com".to_owned(),
    ])
    .unwrap();
    let scripted = ScriptedEndpoints::start().await.unwrap();
    let origin = UpdateOrigin::start(&pki.origin_leaf, scripted)
        .await
        .unwrap();
    Lab { origin, pki }
}

/// A client that reaches `hosts` on the origin's HTTP port, following no redirect.
fn http_client(lab: &Lab, hosts: &[&str]) -> Client {
    let addr = SocketAddr::from(([127, 0, 0, 1], lab.origin.http_port()));
    let mut builder = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    for host in hosts {
        builder = builder.resolve(host, addr);
    }
    builder.build().unwrap()
}

fn url(lab: &Lab, host: &str, target: &str) -> String {
    format!("http://{host}:{}{target}", lab.origin.http_port())
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_minted_cab_is_served_with_the_cdns_headers_and_exact_bytes() {
    let lab = lab().await;
    let target = lab
        .origin
        .files()
        .mint(HostScope::AnyHost, UrlFamily::CabC, 100_000, "client-1")
        .unwrap();
    let client = http_client(&lab, &[AU]);
    let response = client
        .get(url(&lab, AU, &target))
        .header(REQUEST_TOKEN_HEADER, "tok-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.ms-cab-compressed"
    );
    assert_eq!(header(&response, "accept-ranges"), "bytes");
    assert!(header(&response, "cache-control").starts_with("public, max-age="));
    assert!(header(&response, "etag").starts_with('"'));
    assert!(header(&response, "last-modified").ends_with(" GMT"));
    assert_eq!(header(&response, ECHO_TOKEN_HEADER), "tok-1");
    assert_eq!(header(&response, "content-length"), "100000");
    let file = lab.origin.files().file(AU, &target).unwrap();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), 100_000);
    assert_eq!(file.payload().first_mismatch(0, &body), None);

    let exchanges = lab.origin.journal().exchanges_containing(&target);
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].file.as_deref(), Some(target.as_str()));
    assert_eq!(exchanges[0].request.bytes_sent, 100_000);
    assert!(exchanges[0].conditionals.is_empty());
}

#[tokio::test]
async fn every_family_is_served_and_typed_by_extension() {
    let lab = lab().await;
    let client = http_client(&lab, &[AU]);
    for family in UrlFamily::ALL {
        if family == UrlFamily::ClientWebService {
            continue;
        }
        let target = lab
            .origin
            .files()
            .mint(HostScope::AnyHost, family, 4096, "c")
            .unwrap();
        let response = client.head(url(&lab, AU, &target)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{family}: {target}");
        assert_eq!(header(&response, "content-length"), "4096", "{family}");
        assert_eq!(
            header(&response, "content-type"),
            mock_servers::content_type_for_path(&target),
            "{family}"
        );
    }
}

#[tokio::test]
async fn file_streaming_clients_share_the_file_under_their_own_queries() {
    let lab = lab().await;
    let a = lab
        .origin
        .files()
        .mint(TLU, UrlFamily::FileStreaming, 3000, "client-a")
        .unwrap();
    let b = UrlFamily::FileStreaming.for_client(&a, "client-b");
    let client = http_client(&lab, &[TLU]);
    let body_a = client
        .get(url(&lab, TLU, &a))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body_b = client
        .get(url(&lab, TLU, &b))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body_a.len(), 3000);
    assert_eq!(body_a, body_b);
    let path = a.split('?').next().unwrap();
    assert_eq!(lab.origin.journal().exchanges_containing(path).len(), 2);
    // Another host does not have it: the scripted endpoints answer 404, like the CDN.
    let other = http_client(&lab, &[AU]);
    let miss = other.get(url(&lab, AU, &a)).send().await.unwrap();
    assert_eq!(miss.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_multi_gib_esd_costs_nothing_until_its_bytes_are_asked() {
    let lab = lab().await;
    let size = 5u64 << 30;
    let target = lab
        .origin
        .files()
        .mint(HostScope::AnyHost, UrlFamily::Esd, size, "c")
        .unwrap();
    let client = http_client(&lab, &[AU]);
    let head = client.head(url(&lab, AU, &target)).send().await.unwrap();
    assert_eq!(header(&head, "content-length"), size.to_string());
    let tail = client
        .get(url(&lab, AU, &target))
        .header(header::RANGE, "bytes=-1048576")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&tail, "content-range"),
        format!("bytes {}-{}/{size}", size - 1_048_576, size - 1)
    );
    let body = tail.bytes().await.unwrap();
    let payload = lab.origin.files().file(AU, &target).unwrap().payload();
    assert_eq!(payload.first_mismatch(size - 1_048_576, &body), None);
}

#[tokio::test]
async fn validators_give_304_and_journal_every_conditional_header() {
    let lab = lab().await;
    let target = lab
        .origin
        .files()
        .mint(HostScope::AnyHost, UrlFamily::Ctl, 2048, "any")
        .unwrap();
    let client = http_client(&lab, &[AU]);
    let first = client.get(url(&lab, AU, &target)).send().await.unwrap();
    let etag = header(&first, "etag").to_owned();
    let last_modified = header(&first, "last-modified").to_owned();
    drop(first);

    let by_etag = client
        .get(url(&lab, AU, &target))
        .header(header::IF_NONE_MATCH, &etag)
        .header(REQUEST_TOKEN_HEADER, "t304")
        .send()
        .await
        .unwrap();
    assert_eq!(by_etag.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&by_etag, "etag"), etag);
    assert_eq!(header(&by_etag, "cache-control"), "public, max-age=900");
    assert_eq!(header(&by_etag, ECHO_TOKEN_HEADER), "t304");
    assert!(by_etag.bytes().await.unwrap().is_empty());

    let by_date = client
        .get(url(&lab, AU, &target))
        .header(header::IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    let stale = client
        .get(url(&lab, AU, &target))
        .header(header::IF_NONE_MATCH, "\"some-other-version\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);

    let conditional = lab
        .origin
        .journal()
        .conditional_exchanges_containing(&target);
    let kinds: Vec<ConditionalKind> = conditional
        .iter()
        .flat_map(|e| e.conditionals.iter().map(|c| c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ConditionalKind::IfNoneMatch,
            ConditionalKind::IfModifiedSince,
            ConditionalKind::IfNoneMatch
        ]
    );
    assert_eq!(conditional[0].conditionals[0].value, etag);
    assert_eq!(lab.origin.journal().exchanges_containing(&target).len(), 4);
}

#[tokio::test]
async fn a_republished_file_fails_bits_preconditions_and_if_range() {
    let lab = lab().await;
    let target = lab
        .origin
        .files()
        .mint(HostScope::AnyHost, UrlFamily::MsuD, 10_000, "c")
        .unwrap();
    let client = http_client(&lab, &[AU]);
    let first = client.head(url(&lab, AU, &target)).send().await.unwrap();
    let etag = header(&first, "etag").to_owned();
    let last_modified = header(&first, "last-modified").to_owned();

    // Before the republication: BITS's ranged GET with If-Unmodified-Since is served.
    let ranged = |extra: (header::HeaderName, String)| {
        client
            .get(url(&lab, AU, &target))
            .header(header::RANGE, "bytes=0-99")
            .header(extra.0, extra.1)
            .send()
    };
    let ok = ranged((header::IF_UNMODIFIED_SINCE, last_modified.clone()))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::PARTIAL_CONTENT);
    let ok = ranged((header::IF_MATCH, etag.clone())).await.unwrap();
    assert_eq!(ok.status(), StatusCode::PARTIAL_CONTENT);

    let republished = lab.origin.touch(&target).unwrap();
    assert!(httpdate::fmt_http_date(republished) != last_modified);

    let failed = ranged((header::IF_UNMODIFIED_SINCE, last_modified.clone()))
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::PRECONDITION_FAILED);
    let failed = ranged((header::IF_MATCH, etag.clone())).await.unwrap();
    assert_eq!(failed.status(), StatusCode::PRECONDITION_FAILED);
    // If-Range with the old validator: the whole new version instead of a range.
    let whole = ranged((header::IF_RANGE, etag.clone())).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_ne!(header(&whole, "etag"), etag);
    assert_eq!(whole.bytes().await.unwrap().len(), 10_000);
}

#[tokio::test]
async fn a_redirect_to_another_update_host_is_journaled_per_hop() {
    let lab = lab().await;
    let file = lab
        .origin
        .files()
        .mint(TLU, UrlFamily::FileStreaming, 512, "c")
        .unwrap();
    let start = "/d/msdownload/update/others/2024/05/redirected.cab";
    let location = url(&lab, TLU, &file);
    lab.origin
        .files()
        .redirect("download.windowsupdate.com", start, &location)
        .unwrap();
    let no_follow = http_client(&lab, &["download.windowsupdate.com", TLU]);
    let hop = no_follow
        .get(url(&lab, "download.windowsupdate.com", start))
        .send()
        .await
        .unwrap();
    assert_eq!(hop.status(), StatusCode::FOUND);
    assert_eq!(header(&hop, "location"), location);

    let addr = SocketAddr::from(([127, 0, 0, 1], lab.origin.http_port()));
    let follow = Client::builder()
        .no_proxy()
        .resolve("download.windowsupdate.com", addr)
        .resolve(TLU, addr)
        .build()
        .unwrap();
    let body = follow
        .get(url(&lab, "download.windowsupdate.com", start))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 512);

    let first_hops = lab
        .origin
        .journal()
        .exchanges_for_host("download.windowsupdate.com");
    assert_eq!(first_hops.len(), 2);
    assert!(first_hops.iter().all(|e| e.request.status == 302));
    assert_eq!(first_hops[0].location.as_deref(), Some(location.as_str()));
    let second_hops = lab.origin.journal().exchanges_for_host(TLU);
    assert_eq!(second_hops.len(), 1);
    assert_eq!(second_hops[0].request.status, 200);
}

#[tokio::test]
async fn files_refuse_methods_they_do_not_have() {
    let lab = lab().await;
    let target = lab
        .origin
        .files()
        .mint(HostScope::AnyHost, UrlFamily::Psf, 10, "c")
        .unwrap();
    let client = http_client(&lab, &[AU]);
    let post = client
        .post(url(&lab, AU, &target))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&post, "allow").contains("GET"));
}

#[tokio::test]
async fn the_agents_soap_endpoint_answers_privately_and_journals_the_body_length() {
    let lab = lab().await;
    let host = "fe3.delivery.mp.microsoft.com";
    let client = http_client(&lab, &[host]);
    let envelope = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><GetCookie xmlns=\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService\"/></s:Body></s:Envelope>";
    let response = client
        .post(url(&lab, host, "/ClientWebService/client.asmx"))
        .header(header::CONTENT_TYPE, "text/xml; charset=utf-8")
        .header(
            "SOAPAction",
            "\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/GetCookie\"",
        )
        .header(
            header::USER_AGENT,
            "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.90",
        )
        .header(REQUEST_TOKEN_HEADER, "soap-1")
        .body(envelope)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), "private");
    assert!(header(&response, "content-type").starts_with("text/xml"));
    assert_eq!(header(&response, ECHO_TOKEN_HEADER), "soap-1");
    let body = response.text().await.unwrap();
    assert!(body.contains("<GetCookieResponse"), "{body}");
    let exchanges = lab
        .origin
        .journal()
        .exchanges_containing("/ClientWebService/");
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].request_body_bytes, Some(envelope.len() as u64));
    assert_eq!(exchanges[0].request.method, "POST");
}

#[tokio::test]
async fn a_wildcard_leaf_serves_any_drawn_name_over_tls() {
    // A wildcard SAN covers exactly one label (RFC 6125 §6.4.3): a deeper drawn name such as
    // `a7.k3x9.dl.delivery.mp.microsoft.com` needs its own SAN on the leaf.
    let lab = lab().await;
    let host = "k3x9.dl.delivery.mp.microsoft.com";
    let target = lab
        .origin
        .files()
        .mint(host, UrlFamily::FileStreaming, 64, "c")
        .unwrap();
    let root = reqwest::Certificate::from_der(lab.pki.origin_ca.cert_der()).unwrap();
    let client = Client::builder()
        .no_proxy()
        .tls_certs_only([root])
        .resolve(
            host,
            SocketAddr::from(([127, 0, 0, 1], lab.origin.tls_port())),
        )
        .build()
        .unwrap();
    let response = client
        .get(format!("https://{host}:{}{target}", lab.origin.tls_port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().len(), 64);
    let exchange = &lab.origin.journal().exchanges_containing(&target)[0];
    let handshake = lab
        .origin
        .journal()
        .handshake(exchange.request.connection)
        .unwrap();
    assert_eq!(handshake.sni.as_deref(), Some(host));
}

#[tokio::test]
async fn a_client_that_rejects_the_origins_certificate_leaves_a_tls_failure() {
    let lab = lab().await;
    let stranger = LabPki::generate(&["unrelated.example".to_owned()]).unwrap();
    let root = reqwest::Certificate::from_der(stranger.origin_ca.cert_der()).unwrap();
    let host = "x1.dl.delivery.mp.microsoft.com";
    let client = Client::builder()
        .no_proxy()
        .tls_certs_only([root])
        .resolve(
            host,
            SocketAddr::from(([127, 0, 0, 1], lab.origin.tls_port())),
        )
        .build()
        .unwrap();
    let result = client
        .get(format!("https://{host}:{}/x", lab.origin.tls_port()))
        .send()
        .await;
    assert!(result.is_err());
    // The origin records the failure when its side of the handshake ends (bounded wait).
    let mut failures = Vec::new();
    for _ in 0..200 {
        failures = lab.origin.journal().tls_failures();
        if !failures.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].stage, TlsFailureStage::Handshake);
    assert_eq!(failures[0].sni.as_deref(), Some(host));
    assert_eq!(failures[0].peer.ip().to_string(), "127.0.0.1");
    assert!(!failures[0].reason.is_empty());
}

#[tokio::test]
async fn synthetic_update_paths_still_work_with_conditionals() {
    let lab = lab().await;
    let target = UpdateOrigin::update_path(1000, "legacy/a.cab?client=1");
    let client = http_client(&lab, &[AU]);
    let response = client.get(url(&lab, AU, &target)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = header(&response, "etag").to_owned();
    let body = response.bytes().await.unwrap();
    assert_eq!(
        Payload::for_target(&target, 1000).first_mismatch(0, &body),
        None
    );
    let again = client
        .get(url(&lab, AU, &target))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn a_silent_client_on_the_tls_port_is_greeted_then_echoed() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let lab = lab().await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", lab.origin.tls_port()))
        .await
        .unwrap();
    let mut stream = BufReader::new(stream);
    let mut greeting = Vec::new();
    tokio::time::timeout(
        mock_servers::SERVER_FIRST_AFTER * 2,
        stream.read_until(b'\n', &mut greeting),
    )
    .await
    .expect("greeted within twice the silence")
    .unwrap();
    assert_eq!(greeting, mock_servers::SERVER_GREETING);
    stream.get_mut().write_all(b"\x00hello s9-x").await.unwrap();
    let mut echo = [0u8; 11];
    stream.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"\x00hello s9-x");
    let tunnels = lab.origin.journal().raw_tunnels_containing(b"s9-x");
    assert!(tunnels[0].greeted, "{tunnels:?}");
}
