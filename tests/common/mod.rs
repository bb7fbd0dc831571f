//! Helpers shared by the integration tests.

pub mod external_proxy;
