//! Every test that starts a lab, in one binary. libtest runs two tests at a time, so the
//! mutation self-test (the longest of the suite, about 12 minutes of policies judged two at a
//! time) runs beside the other lab tests, which mostly wait on containers and networks, instead
//! of after them; and the eight files link once instead of eight times. The lab-fault
//! injection test (`tests/lab_faults.rs`, six labs at once, each broken at a set moment) stays
//! a binary of its own: it judges timing, which eight labs on two cores would distort.

mod backends;
mod cli;
mod common;
mod cpl_in_squid;
mod external_proxies;
mod host_sets;
mod load;
mod self_test;
mod whole_conf;

/// The mutation self-test (`self_test.rs`) on both Squid versions. Its name sorts first:
/// libtest starts tests in name order, so it begins at once and the others run beside it
/// (the order changes only how long the binary takes, never what it checks).
#[tokio::test(flavor = "multi_thread")]
async fn a_mutation_self_test_on_both_squid_versions() {
    self_test::every_fault_is_caught_and_every_then_step_is_proven().await;
}
