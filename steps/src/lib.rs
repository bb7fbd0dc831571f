//! The conformance suite's World and its step definitions, one module per domain concept
//! (files and pages served, control objects of each kind, clients, ranges, dynamic names, the proxy's treatment, TLS,
//! tunnels, ICAP, categorisation). Steps speak the user's language and judge what clients,
//! the origin, the instruments and the proxy's neutral facts saw; the runner is in `harness`.

#[macro_use]
mod proof;

mod agents;
mod catalogue;
mod categorize;
mod client;
mod control_objects;
mod dynamic_names;
mod files;
#[cfg(test)]
mod fixtures;
mod host_slots;
mod icap;
mod parameters;
mod proxy;
mod ranges;
mod redirects;
mod scenario_check;
mod tls;
mod tunnel;
mod world;

pub use catalogue::{step_definitions, step_parameters, StepDefinition, StepParameter};
pub use host_slots::host_references;
pub use proof::{then_steps, unit_proofs, ProofError, ThenStep, UnitProof};
pub use scenario_check::check_scenario_steps;
pub use world::{with_lab, ConformanceWorld};
