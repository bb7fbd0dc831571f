//! One convention for values on the command line: durations and sizes take units
//! (`--duration 10s`, `--ramp 500ms`, `--max-bytes 20GiB`); a bare number is the base unit
//! (seconds, bytes), so `--duration 300` keeps working.

use std::time::Duration;

/// A duration with a unit as humantime reads it (`10s`, `2m`, `1h 30m`, `500ms`), or a bare
/// number of seconds, fractions allowed (`2.5`).
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("{text:?} is not a duration (e.g. 10s, 2m, 500ms)"));
    }
    humantime::parse_duration(text)
        .map_err(|error| format!("{text:?} is not a duration (e.g. 10s, 2m, 500ms): {error}"))
}

/// A size with a unit (`8MiB`, `500MB`, `1.5GiB`) or a bare number of bytes.
pub fn size(text: &str) -> Result<u64, String> {
    conformance_load::parse_size(text)
}

/// `MIN-MAX` sizes, or one size for both.
pub fn size_range(text: &str) -> Result<(u64, u64), String> {
    conformance_load::parse_size_range(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_and_bare_seconds() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["", "10 parsecs", "-3", "s10", "ten seconds"] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_take_units_and_bare_bytes() {
        assert_eq!(size("20GiB"), Ok(20 << 30));
        assert_eq!(size("500MB"), Ok(500_000_000));
        assert_eq!(size("42"), Ok(42));
        assert!(size("8 parsecs").is_err());
        assert_eq!(size_range("2MiB-4MiB"), Ok((2 << 20, 4 << 20)));
    }
}
