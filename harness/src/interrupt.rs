//! The signals that end a run early — Ctrl-C (SIGINT), SIGTERM (what CI systems and `timeout`
//! send on cancel) and SIGHUP (a closed terminal) — listened for from the start of a run, so a
//! signal that arrives between two stages (lab start, fingerprint, scenarios) still interrupts
//! the next one and the lab is removed. The listener ends with the run.

use std::fmt;

use tokio::signal::unix::{signal, SignalKind};

/// A signal that interrupted a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}

impl Signal {
    /// The signal's number (the shell's exit status for it is 128 + this).
    pub fn number(self) -> u8 {
        match self {
            Self::Hangup => 1,
            Self::Interrupt => 2,
            Self::Terminate => 15,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
            Self::Hangup => "SIGHUP",
        })
    }
}

/// How long a run may take to tear its lab down after a signal before it is ended anyway.
pub const TEARDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Ends the process after a signal whose teardown did not finish in time (a wedged runtime
/// must not keep a cancelled run alive): removes this process's labs with a runtime of its
/// own, bounded, then exits with 128 + the signal's number.
fn force_exit(signal: Signal) -> ! {
    eprintln!(
        "interrupted ({signal}): the lab's teardown did not finish within {TEARDOWN_GRACE:?}; removing its containers directly and exiting"
    );
    if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        runtime.block_on(async {
            let bound = std::time::Duration::from_secs(20);
            if let Ok(Ok(engine)) =
                tokio::time::timeout(bound, conformance_lab::DockerEngine::connect()).await
            {
                let _ = tokio::time::timeout(bound, engine.remove_own_labs()).await;
            }
        });
    }
    std::process::exit(128 + i32::from(signal.number()))
}

/// Listens for [`Signal`]s until dropped.
pub struct Interrupt {
    received: tokio::sync::watch::Receiver<Option<Signal>>,
    listener: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    pub fn listen() -> Self {
        let (sender, received) = tokio::sync::watch::channel(None);
        let listener = tokio::spawn(async move {
            let (Ok(mut terminate), Ok(mut hangup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                // Without handlers the default actions stay: the process still ends.
                std::future::pending::<()>().await;
                return;
            };
            let signal = tokio::select! {
                Ok(()) = tokio::signal::ctrl_c() => Signal::Interrupt,
                Some(()) = terminate.recv() => Signal::Terminate,
                Some(()) = hangup.recv() => Signal::Hangup,
            };
            let _ = sender.send(Some(signal));
            std::thread::spawn(move || {
                std::thread::sleep(TEARDOWN_GRACE);
                force_exit(signal);
            });
            // Keep the sender alive so receivers never see a closed channel as a signal.
            std::future::pending::<()>().await;
        });
        Self { received, listener }
    }

    /// Resolves with the first signal received.
    pub async fn wait(&self) -> Signal {
        let mut received = self.received.clone();
        let signal = match received.wait_for(Option::is_some).await {
            Ok(signal) => *signal,
            Err(_) => None,
        };
        match signal {
            Some(signal) => signal,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.listener.abort();
    }
}
