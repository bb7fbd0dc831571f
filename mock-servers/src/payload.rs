//! Deterministic update payloads: every byte is a function of (file seed, offset), so a file
//! of any size is generated while it is streamed and a client verifies what it received
//! without anyone holding a copy.

use bytes::Bytes;
use futures::Stream;

const CHUNK: u64 = 64 * 1024;

/// The content of one generated update file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payload {
    seed: u64,
    size: u64,
}

impl Payload {
    /// The payload served at `path_and_query` (per-client tokens in the URL give per-client
    /// content, as with tailored updates).
    pub fn for_target(path_and_query: &str, size: u64) -> Self {
        Self {
            seed: fnv1a(path_and_query.as_bytes()),
            size,
        }
    }

    /// The payload of a catalogued file: a function of its path without the query (the
    /// resource's identity, shared by every client whatever its per-client query), its size
    /// and its version (bumped when the file is republished).
    pub fn for_resource(path: &str, size: u64, version: u32) -> Self {
        let path = path.split('?').next().unwrap_or_default();
        Self {
            seed: fnv1a(path.as_bytes())
                ^ splitmix64(size.rotate_left(17) ^ (u64::from(version) << 1 | 1)),
            size,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// A strong validator derived from the content.
    pub fn etag(&self) -> String {
        format!("\"{:016x}-{:x}\"", self.seed, self.size)
    }

    /// Writes the bytes at `offset..offset + buf.len()` into `buf`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut position = offset;
        let mut written = 0;
        while written < buf.len() {
            let block = splitmix64(self.seed ^ (position / 8).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let bytes = block.to_le_bytes();
            let start = (position % 8) as usize;
            let take = (8 - start).min(buf.len() - written);
            buf[written..written + take].copy_from_slice(&bytes[start..start + take]);
            written += take;
            position += take as u64;
        }
    }

    /// The first index in `got` (a slice read from `offset`) that differs from the payload.
    pub fn first_mismatch(&self, offset: u64, got: &[u8]) -> Option<usize> {
        let mut expected = vec![0u8; got.len().min(CHUNK as usize)];
        let mut checked = 0;
        while checked < got.len() {
            let take = expected.len().min(got.len() - checked);
            self.fill(offset + checked as u64, &mut expected[..take]);
            if let Some(i) = expected[..take]
                .iter()
                .zip(&got[checked..checked + take])
                .position(|(a, b)| a != b)
            {
                return Some(checked + i);
            }
            checked += take;
        }
        None
    }

    /// The bytes `first..=last` as a stream of chunks, generated as they are polled.
    pub fn stream(self, first: u64, last: u64) -> impl Stream<Item = Bytes> + Send + 'static {
        futures::stream::unfold(first, move |next| async move {
            if next > last || self.size == 0 {
                return None;
            }
            let len = CHUNK.min(last - next + 1);
            let mut buf = vec![0u8; len as usize];
            self.fill(next, &mut buf);
            Some((Bytes::from(buf), next + len))
        })
    }
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn fill_is_the_same_at_any_alignment() {
        let p = Payload::for_target("/updates/100/a.cab", 100);
        let mut whole = [0u8; 100];
        p.fill(0, &mut whole);
        let mut part = [0u8; 37];
        p.fill(13, &mut part);
        assert_eq!(&whole[13..50], &part);
        assert_eq!(p.first_mismatch(13, &part), None);
        part[5] ^= 1;
        assert_eq!(p.first_mismatch(13, &part), Some(5));
    }

    #[test]
    fn different_targets_differ() {
        let a = Payload::for_target("/u/a?client=1", 64);
        let b = Payload::for_target("/u/a?client=2", 64);
        let (mut x, mut y) = ([0u8; 64], [0u8; 64]);
        a.fill(0, &mut x);
        b.fill(0, &mut y);
        assert_ne!(x, y);
    }

    #[tokio::test]
    async fn a_stream_yields_exactly_the_range() {
        let p = Payload::for_target("/x", 200_000);
        let chunks: Vec<Bytes> = p.stream(10, 150_009).collect().await;
        let joined: Vec<u8> = chunks.concat();
        assert_eq!(joined.len(), 150_000);
        assert_eq!(p.first_mismatch(10, &joined), None);
    }
}
