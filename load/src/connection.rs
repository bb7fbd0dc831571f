//! One keep-alive HTTP/1.1 connection from a simulated machine to the proxy: requests in
//! absolute form (`GET http://host/path HTTP/1.1`), as a client configured with a proxy sends
//! them. Hand-written on hyper's connection API rather than reqwest so that a machine owns
//! exactly the connections its update client would open (BITS one, Delivery Optimization a
//! few in parallel) and thousands of them cost the harness little.

use std::net::SocketAddr;

use bytes::Bytes;
use http::Request;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::failure::FailureKind;

/// A connection that is opened on first use and reopened when the proxy closed it.
#[derive(Default)]
pub(crate) struct ProxyConnection {
    sender: Option<SendRequest<Empty<Bytes>>>,
}

impl ProxyConnection {
    /// Sends `request` (absolute-form URI, `Host` set) and returns the response head; the
    /// body is read by the caller.
    pub(crate) async fn send(
        &mut self,
        proxy: SocketAddr,
        request: Request<Empty<Bytes>>,
    ) -> Result<http::Response<Incoming>, FailureKind> {
        let sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => open(proxy).await?,
        };
        let mut sender = sender;
        sender.ready().await.map_err(|_| FailureKind::Reset)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| FailureKind::Reset)?;
        self.sender = Some(sender);
        Ok(response)
    }
}

async fn open(proxy: SocketAddr) -> Result<SendRequest<Empty<Bytes>>, FailureKind> {
    let stream = TcpStream::connect(proxy)
        .await
        .map_err(|_| FailureKind::Reset)?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| FailureKind::Reset)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
