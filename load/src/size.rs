//! Byte sizes on the command line: `8MiB`, `2MiB-4MiB`, `500MB`, `1GiB`, or plain bytes.

/// Parses a size: a number with an optional unit (B, KiB, MiB, GiB, KB, MB, GB; case-insensitive).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 8MiB, 500MB, 1048576)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => return Err(format!("unknown size unit {other:?} in {text:?}")),
    };
    Ok((number * factor as f64).round() as u64)
}

/// Parses `MIN-MAX` (or one size for both).
pub fn parse_size_range(text: &str) -> Result<(u64, u64), String> {
    match text.split_once('-') {
        Some((min, max)) => Ok((parse_size(min)?, parse_size(max)?)),
        None => parse_size(text).map(|size| (size, size)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ranges() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("8 parsecs").is_err());
        assert_eq!(parse_size_range("2MiB-4MiB"), Ok((2 << 20, 4 << 20)));
        assert_eq!(parse_size_range("3MiB"), Ok((3 << 20, 3 << 20)));
    }
}
