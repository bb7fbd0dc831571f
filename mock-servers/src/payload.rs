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

    /// The 8 bytes of the payload's block `index` (bytes `8 * index ..`), little-endian.
    fn block(&self, index: u64) -> u64 {
        splitmix64(self.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Writes the bytes at `offset..offset + buf.len()` into `buf`: the partial blocks at
    /// either end byte by byte, the whole blocks between a word at a time.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let start = (offset % 8) as usize;
        let head = ((8 - start) % 8).min(buf.len());
        let (head_bytes, rest) = buf.split_at_mut(head);
        if head > 0 {
            head_bytes.copy_from_slice(&self.block(offset / 8).to_le_bytes()[start..start + head]);
        }
        let first_word = (offset + head as u64) / 8;
        let mut words = rest.chunks_exact_mut(8);
        let whole = words.len() as u64;
        for (index, word) in (first_word..).zip(&mut words) {
            word.copy_from_slice(&self.block(index).to_le_bytes());
        }
        let tail = words.into_remainder();
        let len = tail.len();
        tail.copy_from_slice(&self.block(first_word + whole).to_le_bytes()[..len]);
    }

    /// The first index in `got` (a slice read from `offset`) that differs from the payload.
    pub fn first_mismatch(&self, offset: u64, got: &[u8]) -> Option<usize> {
        let differs_in = |at: usize, bytes: &[u8]| {
            let mut expected = [0u8; 8];
            self.fill(offset + at as u64, &mut expected[..bytes.len()]);
            bytes
                .iter()
                .zip(expected)
                .position(|(a, b)| *a != b)
                .map(|i| at + i)
        };
        let head = ((8 - (offset % 8) as usize) % 8).min(got.len());
        if let Some(i) = differs_in(0, &got[..head]) {
            return Some(i);
        }
        let first_word = (offset + head as u64) / 8;
        let mut words = got[head..].chunks_exact(8);
        let whole = words.len();
        for (n, word) in (0..).zip(&mut words) {
            let word: [u8; 8] = word.try_into().expect("chunks of 8");
            if u64::from_le_bytes(word) != self.block(first_word + n as u64) {
                return differs_in(head + 8 * n, &word);
            }
        }
        differs_in(head + 8 * whole, words.remainder())
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
    fn every_alignment_and_length_agrees_with_the_whole_file() {
        let p = Payload::for_resource("/c/msdownload/kb.cab", 300, 1);
        let mut whole = [0u8; 300];
        p.fill(0, &mut whole);
        for offset in 0..20usize {
            for len in [0usize, 1, 3, 7, 8, 9, 15, 16, 17, 64, 100] {
                let mut part = vec![0u8; len];
                p.fill(offset as u64, &mut part);
                assert_eq!(
                    part,
                    whole[offset..offset + len],
                    "offset {offset} len {len}"
                );
                assert_eq!(p.first_mismatch(offset as u64, &part), None);
                for flipped in 0..len {
                    let mut corrupt = part.clone();
                    corrupt[flipped] ^= 0x80;
                    assert_eq!(p.first_mismatch(offset as u64, &corrupt), Some(flipped));
                }
            }
        }
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
