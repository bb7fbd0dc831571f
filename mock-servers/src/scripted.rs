//! Scripted endpoints: a wiremock server behind the update origin for the responses a
//! scenario programs (cacheable control pages, metadata, linking pages). The origin hands it
//! every request outside the generated-file prefix, in-process over loopback.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use wiremock::MockServer;

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

/// The wiremock server and the loopback client that forwards to it.
#[derive(Debug, Clone)]
pub struct ScriptedEndpoints {
    server: Arc<MockServer>,
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
            server: Arc::new(server),
            client,
        })
    }

    /// The wiremock server, to mount a scenario's mocks on.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Forwards `request` to wiremock and returns its answer, body buffered (scripted bodies
    /// are small by construction).
    pub(crate) async fn forward(&self, request: Request<Incoming>) -> (Response<()>, Bytes) {
        match self.try_forward(request).await {
            Ok(answer) => answer,
            Err(error) => {
                let mut response = Response::new(());
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                (
                    response,
                    Bytes::from(format!("scripted endpoint failed: {error:#}")),
                )
            }
        }
    }

    async fn try_forward(&self, request: Request<Incoming>) -> Result<(Response<()>, Bytes)> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
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
