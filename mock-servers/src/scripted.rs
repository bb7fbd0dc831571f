//! Scripted endpoints: a wiremock server behind the update origin for the responses a
//! scenario programs (cacheable control pages, metadata, linking pages). The origin hands it
//! every request outside the generated-file prefix, in-process over loopback.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use wiremock::MockServer;

use crate::wiremock_server::WiremockServer;

/// Hop-by-hop and framing headers that must not be copied between the two legs.
const NOT_FORWARDED: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "te",
    "upgrade",
];

/// Largest request body forwarded to wiremock.
const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;

fn failure(status: StatusCode, _why: &str) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    response
}

/// The wiremock server and the loopback client that forwards to it.
#[derive(Debug, Clone)]
pub struct ScriptedEndpoints {
    server: Arc<WiremockServer>,
    client: reqwest::Client,
}

impl ScriptedEndpoints {
    pub async fn start() -> Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding wiremock")?;
        let server = MockServer::builder().listener(listener).start().await;
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(4)
            .build()
            .context("building the forwarding client")?;
        Ok(Self {
            server: Arc::new(WiremockServer::new(server)),
            client,
        })
    }

    /// The wiremock server, to mount a scenario's mocks on.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Forwards `request` to wiremock and returns its answer, body buffered (scripted bodies
    /// are small by construction), and how many request body bytes were read.
    pub(crate) async fn forward(&self, request: Request<Incoming>) -> (Response<()>, Bytes, u64) {
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) => {
                return (
                    failure(StatusCode::PAYLOAD_TOO_LARGE, &format!("{error}")),
                    Bytes::new(),
                    0,
                )
            }
        };
        let read = body.len() as u64;
        match self.try_forward(parts, body).await {
            Ok((response, body)) => (response, body, read),
            Err(error) => (
                failure(StatusCode::BAD_GATEWAY, ""),
                Bytes::from(format!("scripted endpoint failed: {error:#}")),
                read,
            ),
        }
    }

    async fn try_forward(
        &self,
        parts: http::request::Parts,
        body: Bytes,
    ) -> Result<(Response<()>, Bytes)> {
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("http://{}{}", self.server.address(), target);
        let mut outgoing = self.client.request(parts.method.clone(), url).body(body);
        for (name, value) in &parts.headers {
            if !NOT_FORWARDED.contains(&name.as_str()) {
                outgoing = outgoing.header(name, value);
            }
        }
        let answer = outgoing.send().await?;
        let mut response = Response::new(());
        *response.status_mut() = answer.status();
        for (name, value) in answer.headers() {
            if !NOT_FORWARDED.contains(&name.as_str()) {
                response.headers_mut().append(name, value.clone());
            }
        }
        let body = answer.bytes().await?;
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, body.len().into());
        Ok((response, body))
    }
}
