//! Accepting connections without spinning: the accept loops of the origin and the ICAP
//! recorder share this policy.
//!
//! Errors that concern one connection (the peer reset or aborted it before we took it) are
//! skipped at once. Errors that concern the process or the socket (out of file descriptors,
//! out of buffers, the listener itself broken) are retried after an exponential back-off,
//! and after [`MAX_CONSECUTIVE_FAILURES`] failures in a row the loop gives up and reports why,
//! instead of burning a core for the rest of the run.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// Consecutive failed accepts after which a listener is declared dead.
pub(crate) const MAX_CONSECUTIVE_FAILURES: u32 = 12;
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts the next connection; `Err` with the last error once the listener has failed
/// [`MAX_CONSECUTIVE_FAILURES`] times in a row.
pub(crate) async fn accept_next(
    listener: &TcpListener,
) -> Result<(TcpStream, SocketAddr), io::Error> {
    let mut failures = 0u32;
    let mut backoff = FIRST_BACKOFF;
    loop {
        match listener.accept().await {
            Ok(accepted) => return Ok(accepted),
            Err(error) if concerns_one_connection(&error) => {}
            Err(error) => {
                failures += 1;
                if failures >= MAX_CONSECUTIVE_FAILURES {
                    return Err(error);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Whether an accept error is about the one connection being accepted (skip it) rather than
/// about the listener or the process (back off).
fn concerns_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_connection_errors_are_skipped_and_resource_errors_are_not() {
        assert!(concerns_one_connection(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        // EMFILE: too many open files is the process's problem, not one peer's.
        assert!(!concerns_one_connection(&io::Error::from_raw_os_error(24)));
    }

    #[tokio::test]
    async fn a_connection_is_accepted() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { TcpStream::connect(addr).await });
        let (_, peer) = accept_next(&listener).await.unwrap();
        assert_eq!(peer.ip(), addr.ip());
        client.await.unwrap().unwrap();
    }
}
