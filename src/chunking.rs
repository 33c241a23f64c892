//! Content-defined chunking (FastCDC 2020, streaming) and SHA-256 digests.
//!
//! A [`Chunker`] cuts sources with FastCDC 2020 (normalization level 1,
//! the standard gear table: the cut points of `fastcdc::v2020::StreamCDC`)
//! through one buffer of twice the maximum chunk size, reused for every
//! source it cuts. Chunks are lent as slices of that buffer: cutting
//! allocates nothing per chunk and copies each byte about once more (when
//! the unconsumed tail moves to the front), so chunking a file of any size
//! uses bounded memory.

use std::io::Read;

use fastcdc::v2020::{self, Normalization};
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

/// A chunk digest that (de)serializes as lower-case hex (catalog archives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkDigest(pub Digest);

impl Serialize for ChunkDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&digest_to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for ChunkDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(d)?;
        digest_from_hex(&hex)
            .map(ChunkDigest)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid chunk digest {hex:?}")))
    }
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
    // Only hex digits: `from_str_radix` alone would also take a '+' sign.
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Cuts sources into content-defined chunks; see the module documentation.
#[derive(Debug)]
pub struct Chunker {
    config: ChunkerConfig,
    mask_s: u64,
    mask_l: u64,
    /// Twice the maximum chunk size once the first source is read.
    buf: Vec<u8>,
    /// Unconsumed bytes of the current source: `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
}

impl Chunker {
    /// A chunker for `config` (checked; FastCDC would panic otherwise).
    pub fn new(config: ChunkerConfig) -> Result<Self, ChunkError> {
        config.validate()?;
        let bits = v2020::logarithm2(config.avg);
        let level = Normalization::Level1.bits();
        Ok(Chunker {
            config,
            mask_s: v2020::MASKS[(bits + level) as usize],
            mask_l: v2020::MASKS[(bits - level) as usize],
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
        })
    }

    /// The chunk size limits.
    pub fn config(&self) -> ChunkerConfig {
        self.config
    }

    /// Starts cutting `reader` (forgetting what is left of an earlier source).
    pub fn chunks<R: Read>(&mut self, reader: R) -> FileChunks<'_, R> {
        self.start = 0;
        self.end = 0;
        self.eof = false;
        FileChunks {
            chunker: self,
            reader,
        }
    }

    /// The next chunk of the current source, `None` at its end.
    fn next_from<R: Read>(&mut self, reader: &mut R) -> Result<Option<&[u8]>, ChunkError> {
        let max = self.config.max as usize;
        self.fill(reader, max)?;
        let window = &self.buf[self.start..self.end.min(self.start + max)];
        if window.is_empty() {
            return Ok(None);
        }
        let (_hash, len) = v2020::cut(
            window,
            self.config.min as usize,
            self.config.avg as usize,
            max,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        let chunk = &self.buf[self.start..self.start + len];
        self.start += len;
        Ok(Some(chunk))
    }

    /// Reads until `want` bytes are buffered or the source ends.
    fn fill<R: Read>(&mut self, reader: &mut R, want: usize) -> Result<(), ChunkError> {
        if self.eof || self.end - self.start >= want {
            return Ok(());
        }
        if self.buf.is_empty() {
            // Zeroed pages from the allocator: touched only when read into.
            self.buf = vec![0; 2 * want];
        }
        if self.buf.len() - self.start < want {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < want {
            match reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ChunkError::Io(e)),
            }
        }
        Ok(())
    }
}

/// The chunks of one source, lent one at a time by [`FileChunks::next_chunk`].
#[derive(Debug)]
pub struct FileChunks<'a, R> {
    chunker: &'a mut Chunker,
    reader: R,
}

impl<R: Read> FileChunks<'_, R> {
    /// The next chunk's bytes (valid until the next call), `None` at the
    /// end of the source. An empty source has no chunk.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>, ChunkError> {
        self.chunker.next_from(&mut self.reader)
    }
}

/// Streams the chunks of `reader`, each with its SHA-256 digest (owned
/// copies; the backup pipeline uses [`Chunker`] directly). An empty source
/// yields no chunk.
pub fn chunk_reader<R: Read>(
    reader: R,
    config: ChunkerConfig,
) -> Result<impl Iterator<Item = Result<Chunk, ChunkError>>, ChunkError> {
    let mut chunker = Chunker::new(config)?;
    let mut reader = reader;
    let mut failed = false;
    Ok(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        match chunker.next_from(&mut reader) {
            Ok(Some(data)) => Some(Ok(Chunk {
                digest: sha256(data),
                data: data.to_vec(),
            })),
            Ok(None) => None,
            Err(e) => {
                failed = true;
                Some(Err(e))
            }
        }
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

    /// The cut points must stay those of fastcdc's StreamCDC (chunks
    /// written by earlier versions deduplicate against new ones).
    #[test]
    fn cut_points_match_fastcdc_stream_cdc() {
        let mut chunker = Chunker::new(small()).unwrap();
        for (len, seed) in [(0, 3), (100, 4), (4096, 5), (65536, 6), (777_777, 7)] {
            let mut data = random(len, seed);
            // Long runs of one byte force maximum-size chunks.
            if len > 300_000 {
                data[200_000..300_000].fill(0);
            }
            let expected: Vec<Vec<u8>> =
                fastcdc::v2020::StreamCDC::new(&data[..], small().min, small().avg, small().max)
                    .map(|c| c.unwrap().data)
                    .collect();
            let mut got = Vec::new();
            let mut chunks = chunker.chunks(&data[..]);
            while let Some(c) = chunks.next_chunk().unwrap() {
                got.push(c.to_vec());
            }
            assert_eq!(got, expected, "source of {len} bytes");
        }
    }

    #[test]
    fn read_errors_are_reported() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let mut it = chunk_reader(Failing, small()).unwrap();
        assert!(
            matches!(it.next(), Some(Err(ChunkError::Io(e))) if e.to_string() == "disk on fire")
        );
        assert!(it.next().is_none());
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
        // A sign is not a hex digit, though `from_str_radix` takes "+a".
        let signed = format!("+a{}", &hex[2..]);
        assert_eq!(digest_from_hex(&signed), None);
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
