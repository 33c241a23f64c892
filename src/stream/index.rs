//! The snapshot index: the snapshot archive's payload on tape and the
//! per-snapshot file of the local file index. It holds the snapshot's
//! summary and its two chunk indexes; `docs/format.md` section 9 specifies
//! the bytes (all integers big-endian):
//!
//! ```text
//! 0      8    magic         "PTSIDX02"
//! 8      4    summary_len
//! 12     n    summary       JSON object (see Summary)
//! 12+n   48*M metadata chunk index: M = summary.metadata_chunks
//! ...    48*P payload chunk index:  P = summary.payload_chunks
//! ```
//!
//! An index entry is `digest` (32 bytes, SHA-256 of the chunk), `offset`
//! (u64: where the chunk starts in its stream) and `length` (u64). Each
//! stream is its chunks concatenated in index order: the first offset is
//! 0, each next offset is the previous offset plus length, and the last
//! one ends at `metadata_bytes` / `payload_bytes`.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::chunking::{ChunkerConfig, Digest};

/// Magic at the start of a snapshot index.
pub const INDEX_MAGIC: [u8; 8] = *b"PTSIDX02";
/// Bytes of one index entry.
pub const INDEX_ENTRY_LEN: usize = 48;
/// Largest summary accepted.
pub const MAX_SUMMARY_LEN: u32 = 16 * 1024 * 1024;

/// One chunk of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub digest: Digest,
    pub offset: u64,
    pub len: u64,
}

impl IndexEntry {
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }

    pub fn encode(&self) -> [u8; INDEX_ENTRY_LEN] {
        let mut out = [0u8; INDEX_ENTRY_LEN];
        out[..32].copy_from_slice(&self.digest);
        out[32..40].copy_from_slice(&self.offset.to_be_bytes());
        out[40..].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8; INDEX_ENTRY_LEN]) -> IndexEntry {
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes[..32]);
        let u = |r: std::ops::Range<usize>| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[r]);
            u64::from_be_bytes(b)
        };
        IndexEntry {
            digest,
            offset: u(32..40),
            len: u(40..48),
        }
    }
}

/// What a snapshot holds, in numbers (the JSON summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `POOL/ID/TIME`.
    pub snapshot: String,
    /// Job start, seconds since the epoch.
    pub time: i64,
    /// The sources as given.
    pub sources: Vec<String>,
    /// Exclude patterns given on the command line.
    #[serde(default)]
    pub excludes: Vec<String>,
    pub chunker: ChunkerConfig,
    /// Entries in the metadata stream.
    pub entries: u64,
    /// Regular files and their bytes.
    pub files: u64,
    pub file_bytes: u64,
    /// Entries marked incomplete (read with a warning).
    pub incomplete: u64,
    /// Warnings of the job.
    pub warnings: u64,
    pub metadata_bytes: u64,
    pub metadata_chunks: u64,
    pub payload_bytes: u64,
    pub payload_chunks: u64,
    /// The snapshot whose chunks unchanged files reused (incremental).
    #[serde(default)]
    pub reference: Option<String>,
    /// Payload bytes taken over from `reference` without reading.
    #[serde(default)]
    pub reused_bytes: u64,
}

/// A snapshot index in memory (the chunk indexes grow with the bytes of
/// the snapshot, 48 bytes per chunk, never with its file count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotIndex {
    pub summary: Summary,
    pub metadata: Vec<IndexEntry>,
    pub payload: Vec<IndexEntry>,
}

/// A malformed snapshot index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("snapshot index: {0}")]
    Invalid(String),
    #[error("snapshot index: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "snapshot index magic {0:?}: not a snapshot of on-tape format version 2 (this ptape reads only version 2)"
    )]
    Magic(String),
}

/// The encoded size of an index with this summary JSON and chunk counts.
pub fn encoded_len(summary_json: &[u8], metadata: u64, payload: u64) -> u64 {
    12 + summary_json.len() as u64 + (metadata + payload) * INDEX_ENTRY_LEN as u64
}

/// The index's head: magic, summary length, summary.
pub fn encode_head(summary: &Summary) -> Result<Vec<u8>, IndexError> {
    let json = serde_json::to_vec(summary).map_err(|e| IndexError::Invalid(e.to_string()))?;
    let mut out = INDEX_MAGIC.to_vec();
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

impl SnapshotIndex {
    /// Reads and checks an index.
    pub fn read<R: Read>(mut r: R) -> Result<SnapshotIndex, IndexError> {
        let mut head = [0u8; 12];
        r.read_exact(&mut head)?;
        if head[..8] != INDEX_MAGIC {
            return Err(IndexError::Magic(
                String::from_utf8_lossy(&head[..8]).into_owned(),
            ));
        }
        let len = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
        if len > MAX_SUMMARY_LEN {
            return Err(IndexError::Invalid(format!("summary of {len} bytes")));
        }
        let mut json = vec![0u8; len as usize];
        r.read_exact(&mut json)?;
        let summary: Summary =
            serde_json::from_slice(&json).map_err(|e| IndexError::Invalid(e.to_string()))?;
        let metadata = read_entries(
            &mut r,
            summary.metadata_chunks,
            summary.metadata_bytes,
            "metadata",
        )?;
        let payload = read_entries(
            &mut r,
            summary.payload_chunks,
            summary.payload_bytes,
            "payload",
        )?;
        let mut rest = [0u8; 1];
        if r.read(&mut rest)? != 0 {
            return Err(IndexError::Invalid("bytes after the payload index".into()));
        }
        Ok(SnapshotIndex {
            summary,
            metadata,
            payload,
        })
    }

    /// Writes the index.
    pub fn write<W: Write>(&self, mut w: W) -> Result<(), IndexError> {
        w.write_all(&encode_head(&self.summary)?)?;
        for e in self.metadata.iter().chain(&self.payload) {
            w.write_all(&e.encode())?;
        }
        Ok(())
    }

    /// Every chunk digest of both streams, in order of first use, without
    /// repeats.
    pub fn unique_digests(&self) -> Vec<Digest> {
        let mut seen = std::collections::HashSet::new();
        self.metadata
            .iter()
            .chain(&self.payload)
            .filter(|e| seen.insert(e.digest))
            .map(|e| e.digest)
            .collect()
    }

    /// Indexes of the payload chunks that hold bytes of `[start, end)`.
    pub fn payload_chunks(&self, start: u64, end: u64) -> std::ops::Range<usize> {
        chunks_covering(&self.payload, start, end)
    }
}

/// Indexes of the chunks of `index` that hold bytes of `[start, end)`.
pub fn chunks_covering(index: &[IndexEntry], start: u64, end: u64) -> std::ops::Range<usize> {
    if start >= end {
        return 0..0;
    }
    let first = index.partition_point(|e| e.end() <= start);
    let last = index.partition_point(|e| e.offset < end);
    first..last.max(first)
}

fn read_entries<R: Read>(
    r: &mut R,
    count: u64,
    total: u64,
    what: &str,
) -> Result<Vec<IndexEntry>, IndexError> {
    // Grown as entries arrive: a lying count costs only the error.
    let mut out = Vec::with_capacity(count.min(1 << 16) as usize);
    let mut expect = 0u64;
    for i in 0..count {
        let mut raw = [0u8; INDEX_ENTRY_LEN];
        r.read_exact(&mut raw)?;
        let e = IndexEntry::decode(&raw);
        if e.offset != expect || e.len == 0 {
            return Err(IndexError::Invalid(format!(
                "{what} chunk {i} at offset {} length {}, expected offset {expect}",
                e.offset, e.len
            )));
        }
        expect = e.end();
        out.push(e);
    }
    if expect != total {
        return Err(IndexError::Invalid(format!(
            "{what} chunks end at {expect}, the stream has {total} bytes"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> SnapshotIndex {
        let e = |d: u8, offset, len| IndexEntry {
            digest: [d; 32],
            offset,
            len,
        };
        SnapshotIndex {
            summary: Summary {
                snapshot: "p/h/2026-01-01T00:00:00Z".into(),
                time: 5,
                sources: vec!["/data".into()],
                excludes: vec![],
                chunker: ChunkerConfig::default(),
                entries: 3,
                files: 2,
                file_bytes: 30,
                incomplete: 0,
                warnings: 0,
                metadata_bytes: 7,
                metadata_chunks: 1,
                payload_bytes: 30,
                payload_chunks: 3,
                reference: None,
                reused_bytes: 0,
            },
            metadata: vec![e(1, 0, 7)],
            payload: vec![e(2, 0, 10), e(3, 10, 5), e(2, 15, 15)],
        }
    }

    #[test]
    fn round_trip_and_lookup() {
        let idx = index();
        let mut buf = Vec::new();
        idx.write(&mut buf).unwrap();
        let json = serde_json::to_vec(&idx.summary).unwrap();
        assert_eq!(buf.len() as u64, encoded_len(&json, 1, 3));
        assert_eq!(SnapshotIndex::read(&buf[..]).unwrap(), idx);
        assert_eq!(idx.payload_chunks(0, 1), 0..1);
        assert_eq!(idx.payload_chunks(9, 11), 0..2);
        assert_eq!(idx.payload_chunks(10, 15), 1..2);
        assert_eq!(idx.payload_chunks(14, 30), 1..3);
        assert_eq!(idx.payload_chunks(5, 5), 0..0);
    }

    #[test]
    fn damaged_indexes_are_refused() {
        let mut buf = Vec::new();
        index().write(&mut buf).unwrap();
        let mut bad = buf.clone();
        bad[0] = b'X';
        assert!(matches!(
            SnapshotIndex::read(&bad[..]),
            Err(IndexError::Magic(_))
        ));
        let n = buf.len();
        assert!(SnapshotIndex::read(&buf[..n - 1]).is_err());
        let mut gap = buf.clone();
        gap[n - 48 + 39] ^= 1; // the last chunk's offset
        assert!(SnapshotIndex::read(&gap[..]).is_err());
        let mut longer = buf;
        longer.push(0);
        assert!(SnapshotIndex::read(&longer[..]).is_err());
    }
}
