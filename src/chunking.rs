//! Content-defined chunking (FastCDC 2020, streaming) and SHA-256 digests.
//!
//! Sources are read through [`fastcdc::v2020::StreamCDC`], which holds at
//! most one maximum-size chunk in memory, so chunking a file of any size
//! uses bounded memory.

use std::io::Read;

use fastcdc::v2020::{self, StreamCDC};
use serde::{Deserialize, Serialize};

/// A chunk's identity: the SHA-256 digest of its bytes.
pub type Digest = [u8; 32];

/// Errors of chunking a source.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("invalid chunk sizes min {min} / avg {avg} / max {max}: {reason}")]
    InvalidSizes {
        min: u32,
        avg: u32,
        max: u32,
        reason: &'static str,
    },
    #[error("read error while chunking: {0}")]
    Io(#[from] std::io::Error),
    #[error("chunker error: {0}")]
    Chunker(String),
}

/// Chunk size limits in bytes (FastCDC min / average / max).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerConfig {
    pub min: u32,
    pub avg: u32,
    pub max: u32,
}

impl Default for ChunkerConfig {
    /// 1 MiB / 4 MiB / 16 MiB.
    fn default() -> Self {
        ChunkerConfig {
            min: 1 << 20,
            avg: 4 << 20,
            max: 16 << 20,
        }
    }
}

impl ChunkerConfig {
    /// Checks the sizes against FastCDC's accepted ranges (it would panic
    /// otherwise) and `min <= avg <= max`.
    pub fn validate(&self) -> Result<(), ChunkError> {
        let err = |reason| {
            Err(ChunkError::InvalidSizes {
                min: self.min,
                avg: self.avg,
                max: self.max,
                reason,
            })
        };
        if !(v2020::MINIMUM_MIN..=v2020::MINIMUM_MAX).contains(&self.min) {
            return err("min must be between 64 B and 1 MiB");
        }
        if !(v2020::AVERAGE_MIN..=v2020::AVERAGE_MAX).contains(&self.avg) {
            return err("avg must be between 256 B and 4 MiB");
        }
        if !(v2020::MAXIMUM_MIN..=v2020::MAXIMUM_MAX).contains(&self.max) {
            return err("max must be between 1 KiB and 16 MiB");
        }
        if !(self.min <= self.avg && self.avg <= self.max) {
            return err("sizes must satisfy min <= avg <= max");
        }
        Ok(())
    }
}

/// One chunk of a source: its digest and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub digest: Digest,
    pub data: Vec<u8>,
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Digest {
    openssl::sha::sha256(data)
}

/// Lower-case hex of a digest.
pub fn digest_to_hex(digest: &Digest) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Parses 64 hex characters into a digest.
pub fn digest_from_hex(hex: &str) -> Option<Digest> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Streams the chunks of `reader`, each with its SHA-256 digest. An empty
/// source yields no chunk.
pub fn chunk_reader<R: Read>(
    reader: R,
    config: ChunkerConfig,
) -> Result<impl Iterator<Item = Result<Chunk, ChunkError>>, ChunkError> {
    config.validate()?;
    let cdc = StreamCDC::new(reader, config.min, config.avg, config.max);
    Ok(cdc.map(|item| {
        let data = match item {
            Ok(chunk) => chunk.data,
            Err(v2020::Error::IoError(e)) => return Err(ChunkError::Io(e)),
            Err(e) => return Err(ChunkError::Chunker(format!("{e:?}"))),
        };
        Ok(Chunk {
            digest: sha256(&data),
            data,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    fn small() -> ChunkerConfig {
        ChunkerConfig {
            min: 4096,
            avg: 16384,
            max: 65536,
        }
    }

    fn random(len: usize, seed: u64) -> Vec<u8> {
        let mut v = vec![0u8; len];
        rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
        v
    }

    #[test]
    fn chunks_concatenate_to_the_source_within_limits() {
        let data = random(1 << 20, 1);
        let chunks: Vec<Chunk> = chunk_reader(&data[..], small())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(chunks.len() > 4);
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, data);
        for (i, c) in chunks.iter().enumerate() {
            assert!(c.data.len() <= 65536);
            if i + 1 < chunks.len() {
                assert!(c.data.len() >= 4096);
            }
            assert_eq!(c.digest, sha256(&c.data));
        }
    }

    #[test]
    fn boundaries_are_content_defined() {
        // Inserting bytes at the front shifts data; most chunks must reappear.
        let data = random(512 << 10, 2);
        let mut shifted = b"0123456789".to_vec();
        shifted.extend_from_slice(&data);
        let digests = |d: &[u8]| -> Vec<Digest> {
            chunk_reader(d, small())
                .unwrap()
                .map(|c| c.unwrap().digest)
                .collect()
        };
        let a = digests(&data);
        let b = digests(&shifted);
        let common = a.iter().filter(|d| b.contains(d)).count();
        assert!(common + 2 >= a.len(), "{common} of {}", a.len());
    }

    #[test]
    fn empty_source_has_no_chunks() {
        assert_eq!(chunk_reader(&[][..], small()).unwrap().count(), 0);
    }

    #[test]
    fn sha256_known_vector_and_hex_round_trip() {
        let d = sha256(b"abc");
        let hex = digest_to_hex(&d);
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digest_from_hex(&hex), Some(d));
        assert_eq!(digest_from_hex("zz"), None);
    }

    #[test]
    fn invalid_sizes_are_rejected_not_panicking() {
        let bad = ChunkerConfig {
            min: 10,
            avg: 16384,
            max: 65536,
        };
        assert!(matches!(
            chunk_reader(&[][..], bad).err(),
            Some(ChunkError::InvalidSizes { .. })
        ));
        let unordered = ChunkerConfig {
            min: 65536,
            avg: 16384,
            max: 65536,
        };
        assert!(unordered.validate().is_err());
    }
}
