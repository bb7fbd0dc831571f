//! The harness's own cost: CPU time (user + system, all threads) and resident memory of this
//! process, read from `/proc/self` (Linux). Hand-written: two numbers from two files do not
//! warrant a system-information crate; the clock-tick rate comes from rustix.

/// CPU time and memory of this process at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ProcessSample {
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
}

/// Reads this process's CPU time and resident set; zeros where `/proc` is not readable.
pub(crate) fn sample() -> ProcessSample {
    let ticks = rustix::param::clock_ticks_per_second().max(1) as f64;
    let cpu_seconds = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| cpu_ticks(&stat))
        .map_or(0.0, |t| t as f64 / ticks);
    let rss_bytes = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * rustix::param::page_size() as u64);
    ProcessSample {
        cpu_seconds,
        rss_bytes,
    }
}

/// utime + stime (fields 14 and 15 of `/proc/PID/stat`; the command name in field 2 may hold
/// spaces, so fields are counted after its closing parenthesis).
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user = fields.next()?.parse::<u64>().ok()?;
    let system = fields.next()?.parse::<u64>().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 300 45 0 0 20 0 1";
        assert_eq!(cpu_ticks(stat), Some(345));
    }

    #[test]
    fn this_process_has_memory() {
        assert!(sample().rss_bytes > 0);
    }
}
