//! The host names of one run, drawn fresh (or replayed from a seed) for the bundled lab and the
//! harness side of external mode alike, with the hosts the run's features add.

use conformance_model::{all_lab_host_names, parse_seed, DrawnHosts, ExtraHosts, HOST_SEED_ENV};

/// This run's drawn host names, with those `extra` adds: from `seed` when the caller gives one
/// (two runs compared on the same names), else seeded by [`HOST_SEED_ENV`] when it is set (to
/// replay a run), randomly otherwise.
pub(crate) fn draw_hosts(seed: Option<u64>, extra: &ExtraHosts) -> Result<DrawnHosts, String> {
    if let Some(seed) = seed {
        return Ok(DrawnHosts::draw_with(seed, extra));
    }
    let seed = match std::env::var(HOST_SEED_ENV) {
        Ok(text) => parse_seed(&text).ok_or_else(|| {
            format!("{HOST_SEED_ENV}={text:?} is not a seed (decimal, or hexadecimal with 0x)")
        })?,
        Err(_) => rand::random(),
    };
    Ok(DrawnHosts::draw_with(seed, extra))
}

/// Every name the lab resolves and its origin certificate covers: the fixed names, then the
/// drawn ones and those the features add.
pub(crate) fn served_names(hosts: &DrawnHosts) -> Vec<String> {
    let mut names = all_lab_host_names();
    for name in hosts.certificate_names() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
