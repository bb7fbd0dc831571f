//! The ICAP recorder answers the exact messages Squid 5.7 sends.

use mock_servers::IcapRecorder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn exchange(port: u16, message: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(message.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut buf))
        .await
        .expect("no answer within 3 s")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn squid_style_options_and_reqmod_get_answers_and_are_journaled() {
    let recorder = IcapRecorder::start().await.unwrap();
    let port = recorder.port();
    let options = exchange(port, &format!("OPTIONS icap://host.docker.internal:{port}/reqmod ICAP/1.0\r\nHost: host.docker.internal:{port}\r\n\r\n")).await;
    assert!(options.starts_with("ICAP/1.0 200"), "{options}");
    let http = "GET http://www.example.com/pages/s1-x/index.html HTTP/1.1\r\nHost: www.example.com\r\nX-Conformance-Scenario: s1-x\r\n\r\n";
    let reqmod = format!(
        "REQMOD icap://host.docker.internal:{port}/reqmod ICAP/1.0\r\nHost: host.docker.internal:{port}\r\nDate: Sat, 21 Nov 2026 00:00:00 GMT\r\nEncapsulated: req-hdr=0, null-body={}\r\nPreview: 0\r\nAllow: 204, trailers\r\nX-Client-IP: 172.21.0.1\r\n\r\n{http}",
        http.len()
    );
    let answer = exchange(port, &reqmod).await;
    assert!(answer.starts_with("ICAP/1.0 204"), "{answer}");
    assert_eq!(recorder.calls_for("s1-x").len(), 1);
}

#[tokio::test]
async fn a_respmod_call_counts_the_bytes_of_the_response_it_puts_before_the_service() {
    let recorder = IcapRecorder::start().await.unwrap();
    let port = recorder.port();
    let request = "GET http://download.windowsupdate.com/s2-y/kb.cab HTTP/1.1\r\nHost: download.windowsupdate.com\r\nX-Conformance-Scenario: s2-y\r\n\r\n";
    let response = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4194304\r\n\r\n";
    // Squid with `Preview: 0`: the headers and an empty preview, then a 204 ends the call.
    let respmod = format!(
        "RESPMOD icap://host.docker.internal:{port}/respmod ICAP/1.0\r\nHost: host.docker.internal:{port}\r\nEncapsulated: req-hdr=0, res-hdr={}, res-body={}\r\nPreview: 0\r\nAllow: 204\r\n\r\n{request}{response}0\r\n\r\n",
        request.len(),
        request.len() + response.len()
    );
    let answer = exchange(port, &respmod).await;
    assert!(answer.starts_with("ICAP/1.0 204"), "{answer}");
    let calls = recorder.calls_for("s2-y");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].scanned_bytes, 4_194_304);
}
