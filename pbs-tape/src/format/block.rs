//! The block header: wire layout, encoding, decoding and checks.
//!
//! Every block on tape is `BlockHeader` (32 bytes, big-endian) followed by
//! `payload_len` payload bytes; nothing else. See `docs/format.md`.

use zerocopy::byteorder::big_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::constants::{BLOCK_MAGIC, BLOCK_VERSION, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE};
use super::error::FormatError;

/// Block flag: this is the last block of the stream.
pub const FLAG_END_OF_STREAM: u16 = 0x0001;
/// Block flag (only with end of stream): the stream was ended early at a
/// record boundary and continues on another tape.
pub const FLAG_INCOMPLETE: u16 = 0x0002;
const KNOWN_FLAGS: u16 = FLAG_END_OF_STREAM | FLAG_INCOMPLETE;

/// Wire layout of the block header (big-endian, 32 bytes).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BlockHeader {
    /// [`BLOCK_MAGIC`].
    pub magic: [u8; 8],
    /// [`BLOCK_VERSION`].
    pub version: U16,
    /// [`FLAG_END_OF_STREAM`], [`FLAG_INCOMPLETE`].
    pub flags: U16,
    /// Sequence number of the block within its stream, from 0.
    pub sequence: U32,
    /// Payload bytes following the header.
    pub payload_len: U32,
    /// CRC32C (Castagnoli) over the header with this field zero, then the payload.
    pub crc32c: U32,
    /// End-of-stream block: number of complete records in the stream; else 0.
    pub record_count: U64,
}

/// Size of [`BlockHeader`] on tape.
pub const BLOCK_HEADER_LEN: usize = std::mem::size_of::<BlockHeader>();
const CRC_RANGE: std::ops::Range<usize> = 20..24;

/// Check a data block size: a power of two in `MIN_BLOCK_SIZE..=min(MAX_BLOCK_SIZE, device_max)`.
pub fn validate_block_size(size: usize, device_max: usize) -> Result<(), FormatError> {
    let max = device_max.min(MAX_BLOCK_SIZE);
    if !size.is_power_of_two() || size < MIN_BLOCK_SIZE || size > max {
        return Err(FormatError::InvalidBlockSize {
            size,
            min: MIN_BLOCK_SIZE,
            max,
        });
    }
    Ok(())
}

/// Fill in the header at the start of `block` (whose first
/// [`BLOCK_HEADER_LEN`] bytes are reserved for it, the rest is payload) and
/// compute the checksum.
pub fn seal_block(block: &mut [u8], sequence: u32, flags: u16, record_count: u64) {
    let payload_len = (block.len() - BLOCK_HEADER_LEN) as u32;
    let header = BlockHeader {
        magic: BLOCK_MAGIC,
        version: U16::new(BLOCK_VERSION),
        flags: U16::new(flags),
        sequence: U32::new(sequence),
        payload_len: U32::new(payload_len),
        crc32c: U32::new(0),
        record_count: U64::new(record_count),
    };
    block[..BLOCK_HEADER_LEN].copy_from_slice(header.as_bytes());
    let crc = crc32c::crc32c(block);
    block[CRC_RANGE].copy_from_slice(&crc.to_be_bytes());
}

/// A block that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedBlock {
    pub sequence: u32,
    pub flags: u16,
    pub record_count: u64,
    /// Payload length (the payload is `block[BLOCK_HEADER_LEN..][..payload_len]`).
    pub payload_len: usize,
}

impl CheckedBlock {
    pub fn end_of_stream(&self) -> bool {
        self.flags & FLAG_END_OF_STREAM != 0
    }
    pub fn incomplete(&self) -> bool {
        self.flags & FLAG_INCOMPLETE != 0
    }
}

/// Check one block read from tape; `expected` is the sequence number the
/// reader expects next (used for error messages and gap/duplicate checks).
pub fn check_block(block: &[u8], expected: u32) -> Result<CheckedBlock, FormatError> {
    let (header, payload) =
        BlockHeader::read_from_prefix(block).map_err(|_| FormatError::BlockTooShort {
            sequence: expected,
            len: block.len(),
            header: BLOCK_HEADER_LEN,
        })?;
    if header.magic != BLOCK_MAGIC {
        return Err(FormatError::BadBlockMagic {
            sequence: expected,
            found: header.magic,
        });
    }
    if header.version.get() != BLOCK_VERSION {
        return Err(FormatError::UnsupportedBlockVersion {
            sequence: expected,
            version: header.version.get(),
        });
    }
    let payload_len = header.payload_len.get();
    if payload.len() != payload_len as usize {
        return Err(FormatError::BadBlockLength {
            sequence: expected,
            payload_len,
            actual: payload.len(),
        });
    }
    let stored = header.crc32c.get();
    let mut zeroed = header;
    zeroed.crc32c = U32::new(0);
    let computed = crc32c::crc32c_append(crc32c::crc32c(zeroed.as_bytes()), payload);
    if stored != computed {
        return Err(FormatError::ChecksumMismatch {
            sequence: expected,
            stored,
            computed,
        });
    }
    let flags = header.flags.get();
    if flags & !KNOWN_FLAGS != 0
        || (flags & FLAG_INCOMPLETE != 0 && flags & FLAG_END_OF_STREAM == 0)
    {
        return Err(FormatError::UnknownBlockFlags {
            sequence: expected,
            flags,
        });
    }
    let sequence = header.sequence.get();
    if sequence > expected {
        return Err(FormatError::SequenceGap {
            expected,
            found: sequence,
        });
    }
    if sequence < expected {
        return Err(FormatError::DuplicateBlock {
            expected,
            found: sequence,
        });
    }
    Ok(CheckedBlock {
        sequence,
        flags,
        record_count: header.record_count.get(),
        payload_len: payload_len as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(seq: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; BLOCK_HEADER_LEN];
        b.extend_from_slice(payload);
        seal_block(&mut b, seq, flags, 7);
        b
    }

    #[test]
    fn header_is_32_bytes() {
        assert_eq!(BLOCK_HEADER_LEN, 32);
    }

    #[test]
    fn round_trip() {
        let b = block(3, FLAG_END_OF_STREAM, b"hello");
        let c = check_block(&b, 3).unwrap();
        assert_eq!(c.payload_len, 5);
        assert!(c.end_of_stream());
        assert!(!c.incomplete());
        assert_eq!(c.record_count, 7);
        assert_eq!(&b[..8], b"PTAPEBLK");
    }

    #[test]
    fn every_bit_flip_is_detected() {
        let b = block(0, 0, b"some payload bytes");
        for i in 0..b.len() * 8 {
            let mut d = b.clone();
            d[i / 8] ^= 1 << (i % 8);
            assert!(check_block(&d, 0).is_err(), "flip of bit {i} not detected");
        }
    }

    #[test]
    fn gap_and_duplicate() {
        let b = block(5, 0, b"x");
        assert!(matches!(
            check_block(&b, 4),
            Err(FormatError::SequenceGap {
                expected: 4,
                found: 5
            })
        ));
        assert!(matches!(
            check_block(&b, 6),
            Err(FormatError::DuplicateBlock {
                expected: 6,
                found: 5
            })
        ));
    }

    #[test]
    fn short_and_bad_length() {
        assert!(matches!(
            check_block(&[0u8; 10], 0),
            Err(FormatError::BlockTooShort { len: 10, .. })
        ));
        let mut b = block(0, 0, b"abc");
        b.pop();
        assert!(matches!(
            check_block(&b, 0),
            Err(FormatError::BadBlockLength {
                payload_len: 3,
                actual: 2,
                ..
            })
        ));
    }

    #[test]
    fn block_size_validation() {
        assert!(validate_block_size(256 * 1024, 1 << 20).is_ok());
        assert!(validate_block_size(64 * 1024, 1 << 20).is_ok());
        assert!(validate_block_size(32 * 1024, 1 << 20).is_err());
        assert!(validate_block_size(3 * 64 * 1024, 1 << 20).is_err());
        assert!(validate_block_size(2 << 20, 1 << 20).is_err());
        assert!(validate_block_size(32 << 20, 64 << 20).is_err());
    }
}
