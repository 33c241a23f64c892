//! READ BLOCK LIMITS data (SSC-5 7.6) and the drive's largest usable block.

use serde::Serialize;
use zerocopy::FromBytes;

use super::cdb::MAX_TRANSFER_LENGTH_6;
use super::wire::{from_be24, BlockLimitsData};

/// What READ BLOCK LIMITS reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockLimits {
    /// Largest block length the drive accepts (0: no limit stated).
    pub max_block_length: u32,
    /// Smallest block length.
    pub min_block_length: u16,
    /// Block lengths must be multiples of 2^granularity.
    pub granularity: u8,
}

impl BlockLimits {
    /// Decode the 6 bytes of READ BLOCK LIMITS data.
    pub fn decode(data: &[u8]) -> Result<Self, String> {
        let (raw, _) = BlockLimitsData::ref_from_prefix(data).map_err(|_| {
            format!(
                "READ BLOCK LIMITS returned {} bytes, expected at least 6",
                data.len()
            )
        })?;
        Ok(BlockLimits {
            max_block_length: from_be24(raw.max),
            min_block_length: raw.min.get(),
            granularity: raw.granularity & 0x1f,
        })
    }

    /// The largest block a variable-block WRITE(6)/READ(6) may move through
    /// a path that transfers at most `max_transfer` bytes: the smallest of
    /// the drive limit (when stated), the path limit and the 24-bit CDB field.
    pub fn largest_block(&self, max_transfer: usize) -> usize {
        let mut max = max_transfer.min(MAX_TRANSFER_LENGTH_6 as usize);
        if self.max_block_length != 0 {
            max = max.min(self.max_block_length as usize);
        }
        max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_lto_limits() {
        // LTO drives: granularity 0, max 8 MiB, min 1.
        let l = BlockLimits::decode(&[0x00, 0x80, 0x00, 0x00, 0x00, 0x01]).unwrap();
        assert_eq!(l.max_block_length, 0x80_0000);
        assert_eq!(l.min_block_length, 1);
        assert_eq!(l.largest_block(512 * 1024), 512 * 1024);
        assert_eq!(l.largest_block(usize::MAX), 0x80_0000);
    }

    #[test]
    fn zero_max_means_path_and_cdb_limit() {
        let l = BlockLimits::decode(&[0x02, 0, 0, 0, 0, 4]).unwrap();
        assert_eq!(l.granularity, 2);
        assert_eq!(l.largest_block(usize::MAX), 0xFF_FFFF);
    }

    #[test]
    fn short_data_is_an_error() {
        assert!(BlockLimits::decode(&[0, 1, 2])
            .unwrap_err()
            .contains("3 bytes"));
    }
}
