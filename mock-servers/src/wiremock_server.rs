//! A wiremock server whose drop cannot hang the run. wiremock's `MockServer` verifies its
//! expectations on drop with `futures::executor::block_on`; inside a tokio task whose
//! cooperative budget is spent, the lock it reads answers "pending" and defers its wake-up to
//! the very runtime thread that `block_on` now blocks, so the drop waits forever (seen: a run
//! that hung at its end with every thread idle). The last owner drops it on a thread of its
//! own, outside any runtime, and waits for that.

use std::ops::Deref;

use wiremock::MockServer;

#[derive(Debug)]
pub(crate) struct WiremockServer(Option<MockServer>);

impl WiremockServer {
    pub(crate) fn new(server: MockServer) -> Self {
        Self(Some(server))
    }
}

impl Deref for WiremockServer {
    type Target = MockServer;

    fn deref(&self) -> &MockServer {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for WiremockServer {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            let _ = std::thread::spawn(move || drop(server)).join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::WiremockServer;

    /// Spends the current task's cooperative budget without yielding.
    async fn spend_budget() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..1_000 {
            tx.send(()).expect("open");
        }
        while tokio::task::coop::has_budget_remaining() {
            rx.recv().await;
        }
    }

    #[test]
    fn dropping_in_a_task_with_a_spent_budget_returns() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let server = WiremockServer::new(wiremock::MockServer::start().await);
                spend_budget().await;
                drop(server);
            });
            let _ = done.send(());
        });
        assert!(
            finished.recv_timeout(Duration::from_secs(20)).is_ok(),
            "dropping the server hung"
        );
    }
}
