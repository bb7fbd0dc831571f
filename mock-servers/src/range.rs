//! HTTP Range requests (RFC 9110 §14) as BITS sends them: single ranges, open ranges and
//! suffix ranges, and lists of them for multi-range requests.

/// One `first-last` / `first-` / `-suffix` range as written in a Range header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    FromTo(u64, u64),
    From(u64),
    Suffix(u64),
}

/// A range resolved against a representation's size: inclusive offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.first, self.last, size)
    }
}

impl RangeRequest {
    /// Parses `bytes=…` into its ranges; `None` when it is not a byte-range header.
    pub fn parse_header(value: &str) -> Option<Vec<RangeRequest>> {
        let spec = value.trim().strip_prefix("bytes=")?;
        spec.split(',')
            .map(|part| Self::parse_one(part.trim()))
            .collect()
    }

    fn parse_one(part: &str) -> Option<RangeRequest> {
        let (first, last) = part.split_once('-')?;
        match (first.trim(), last.trim()) {
            ("", suffix) => Some(Self::Suffix(suffix.parse().ok()?)),
            (first, "") => Some(Self::From(first.parse().ok()?)),
            (first, last) => {
                let (first, last) = (first.parse().ok()?, last.parse().ok()?);
                (first <= last).then_some(Self::FromTo(first, last))
            }
        }
    }

    /// The satisfiable part of this range for a representation of `size` bytes.
    pub fn resolve(&self, size: u64) -> Option<ByteRange> {
        if size == 0 {
            return None;
        }
        match *self {
            Self::FromTo(first, last) if first < size => Some(ByteRange {
                first,
                last: last.min(size - 1),
            }),
            Self::From(first) if first < size => Some(ByteRange {
                first,
                last: size - 1,
            }),
            Self::Suffix(n) if n > 0 => Some(ByteRange {
                first: size - n.min(size),
                last: size - 1,
            }),
            _ => None,
        }
    }

    /// The header value for this range.
    pub fn header_value(&self) -> String {
        match *self {
            Self::FromTo(a, b) => format!("bytes={a}-{b}"),
            Self::From(a) => format!("bytes={a}-"),
            Self::Suffix(n) => format!("bytes=-{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_bits_ranges() {
        let r = RangeRequest::parse_header("bytes=0-99, 200-, -50").unwrap();
        assert_eq!(
            r,
            vec![
                RangeRequest::FromTo(0, 99),
                RangeRequest::From(200),
                RangeRequest::Suffix(50)
            ]
        );
        assert_eq!(r[0].resolve(1000), Some(ByteRange { first: 0, last: 99 }));
        assert_eq!(
            r[1].resolve(1000),
            Some(ByteRange {
                first: 200,
                last: 999
            })
        );
        assert_eq!(
            r[2].resolve(1000),
            Some(ByteRange {
                first: 950,
                last: 999
            })
        );
        assert_eq!(
            RangeRequest::FromTo(990, 2000)
                .resolve(1000)
                .unwrap()
                .content_range(1000),
            "bytes 990-999/1000"
        );
        assert_eq!(RangeRequest::From(1000).resolve(1000), None);
        assert!(RangeRequest::parse_header("items=0-1").is_none());
        assert!(RangeRequest::parse_header("bytes=5-1").is_none());
    }
}
