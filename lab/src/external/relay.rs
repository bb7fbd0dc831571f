//! The harness's ports at the exposed address: each forwards TCP to an in-process server on
//! loopback (the origin's HTTP and TLS ports, the ICAP recorder, the categoriser), so a proxy
//! the harness did not start finds them on the well-known ports (:80, :443, :1344) of one
//! address, with TLS and SNI untouched. The in-process twin of the lab's socat relay.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Listeners forwarding to loopback ports; they stop when dropped.
#[derive(Debug, Default)]
pub(crate) struct PortRelay {
    tasks: JoinSet<()>,
}

impl PortRelay {
    /// Listens on `listen` and forwards every connection to `127.0.0.1:to_port`. The error
    /// names the address it could not bind.
    pub(crate) async fn forward(
        &mut self,
        listen: SocketAddr,
        to_port: u16,
    ) -> Result<(), std::io::Error> {
        let listener = TcpListener::bind(listen).await?;
        self.tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", to_port)).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_go_both_ways_and_a_half_close_reaches_the_server() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = server.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            s.write_all(&got).await.unwrap();
        });
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = probe.local_addr().unwrap();
        drop(probe);
        let mut relay = PortRelay::default();
        relay.forward(listen, port).await.unwrap();
        let mut client = TcpStream::connect(listen).await.unwrap();
        client.write_all(b"not TLS at all").await.unwrap();
        client.shutdown().await.unwrap();
        let mut echoed = Vec::new();
        client.read_to_end(&mut echoed).await.unwrap();
        assert_eq!(echoed, b"not TLS at all");
    }
}
