//! A switch that makes one in-process server misbehave like a broken lab service: the ICAP
//! recorder and the categoriser stop answering, the origin resets every new connection. It
//! exists for the lab's fault-injection tests only (the lab flips it when its test-only
//! environment variable asks): nothing in a run turns it on by itself, and it cannot be turned
//! off again, as a crashed service would not come back either.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Off until [`FaultSwitch::trip`]; shared by a server's tasks.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch(Arc<AtomicBool>);

impl FaultSwitch {
    pub fn trip(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn tripped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
