//! The chunk archive entry header and the SHA-256 helper.

use serde::{Deserialize, Serialize};
use zerocopy::byteorder::big_endian::U64;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::constants::{ENTRY_MAGIC, MAX_CHUNK_LEN};
use super::error::FormatError;

/// Wire layout of a chunk entry header (big-endian, 48 bytes); the chunk
/// data (`data_len` bytes) follows.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EntryHeader {
    /// [`ENTRY_MAGIC`].
    pub magic: [u8; 8],
    /// SHA-256 of the chunk data.
    pub digest: [u8; 32],
    /// Length of the chunk data.
    pub data_len: U64,
}

/// Size of [`EntryHeader`] on tape.
pub const ENTRY_HEADER_LEN: usize = std::mem::size_of::<EntryHeader>();

impl EntryHeader {
    pub fn new(digest: [u8; 32], data_len: u64) -> Self {
        EntryHeader {
            magic: ENTRY_MAGIC,
            digest,
            data_len: U64::new(data_len),
        }
    }

    /// Decode and check an entry header (`index` is for messages).
    pub fn parse(bytes: &[u8; ENTRY_HEADER_LEN], index: u64) -> Result<Self, FormatError> {
        // Infallible for an array of exactly the right size.
        let header = EntryHeader::read_from_bytes(bytes)
            .map_err(|_| FormatError::TruncatedEntry { index })?;
        if header.magic != ENTRY_MAGIC {
            return Err(FormatError::BadEntryMagic {
                index,
                found: header.magic,
            });
        }
        check_chunk_len(header.data_len.get())?;
        Ok(header)
    }
}

/// Refuse chunks larger than [`MAX_CHUNK_LEN`].
pub fn check_chunk_len(len: u64) -> Result<(), FormatError> {
    if len > MAX_CHUNK_LEN {
        return Err(FormatError::TooLarge {
            what: "chunk",
            len,
            max: MAX_CHUNK_LEN,
        });
    }
    Ok(())
}

/// SHA-256 of `data` (openssl).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

/// Lower-case hex of a digest, for messages.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a chunk entry starts inside its chunk archive: the block (its
/// sequence number within the archive's stream, 0 = the first block,
/// which is also the archive's first logical object on tape) and the byte
/// offset of the entry header within that block's payload. A reader
/// LOCATEs to the archive's first logical object + `block` and opens the
/// archive there ([`super::ChunkArchiveReader::at_entry`]) instead of
/// reading the archive from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryPosition {
    pub block: u32,
    pub offset: u32,
}
