//! READ POSITION long form (SSC-5 7.7.3): where the head is.

use serde::Serialize;
use zerocopy::FromBytes;

use super::wire::{LongPositionData, POS_BOP, POS_EOP, POS_LONU, POS_MPU};

/// The head position as the drive reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Partition number (0 on single-partition media).
    pub partition: u32,
    /// Filemarks between BOP and the head (logical file identifier).
    pub file_number: u64,
    /// Blocks and filemarks between BOP and the head (logical object number).
    pub logical_object: u64,
    /// At beginning of partition.
    pub bop: bool,
    /// Between early warning and end of partition.
    pub eop: bool,
}

/// Why long form data cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionDecodeError {
    #[error("READ POSITION returned {0} bytes, the long form has 32")]
    TooShort(usize),
    #[error("the drive reports the logical object number as unknown (LONU)")]
    ObjectUnknown,
    #[error("the drive reports the file position as unknown (MPU)")]
    FileUnknown,
    /// Logical object 0 is at BOP; a drive that reports object 0 without BOP
    /// answers READ POSITION without knowing the position (tgt's stub).
    #[error("the position is unknown: the drive reports logical object 0 without beginning of partition")]
    Inconsistent,
}

impl Position {
    /// Decode the long form; an unknown position (LONU or MPU set) is an
    /// error, never a made-up position.
    pub fn decode_long(data: &[u8]) -> Result<Position, PositionDecodeError> {
        let (raw, _) = LongPositionData::ref_from_prefix(data)
            .map_err(|_| PositionDecodeError::TooShort(data.len()))?;
        if raw.flags & POS_LONU != 0 {
            return Err(PositionDecodeError::ObjectUnknown);
        }
        if raw.flags & POS_MPU != 0 {
            return Err(PositionDecodeError::FileUnknown);
        }
        if raw.flags & POS_BOP == 0 && raw.logical_object.get() == 0 {
            return Err(PositionDecodeError::Inconsistent);
        }
        Ok(Position {
            partition: raw.partition.get(),
            file_number: raw.logical_file.get(),
            logical_object: raw.logical_object.get(),
            bop: raw.flags & POS_BOP != 0,
            eop: raw.flags & POS_EOP != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_form(flags: u8, partition: u32, object: u64, file: u64) -> Vec<u8> {
        let mut d = vec![flags, 0, 0, 0];
        d.extend_from_slice(&partition.to_be_bytes());
        d.extend_from_slice(&object.to_be_bytes());
        d.extend_from_slice(&file.to_be_bytes());
        d.extend_from_slice(&0u64.to_be_bytes());
        d
    }

    #[test]
    fn decodes_fields_and_flags() {
        let p = Position::decode_long(&long_form(0x80, 0, 0, 0)).unwrap();
        assert!(p.bop && !p.eop);
        assert_eq!((p.file_number, p.logical_object), (0, 0));
        let p = Position::decode_long(&long_form(0x40, 1, 12345, 7)).unwrap();
        assert!(!p.bop && p.eop);
        assert_eq!(p.partition, 1);
        assert_eq!(p.logical_object, 12345);
        assert_eq!(p.file_number, 7);
    }

    #[test]
    fn unknown_position_is_an_error() {
        assert_eq!(
            Position::decode_long(&long_form(0x04, 0, 0, 0)),
            Err(PositionDecodeError::ObjectUnknown)
        );
        assert_eq!(
            Position::decode_long(&long_form(0x08, 0, 5, 0)),
            Err(PositionDecodeError::FileUnknown)
        );
        assert_eq!(
            Position::decode_long(&[0u8; 20]),
            Err(PositionDecodeError::TooShort(20))
        );
        // tgt's READ POSITION stub: a reserved bit, no BOP, all zeros
        assert_eq!(
            Position::decode_long(&long_form(0x20, 0, 0, 0)),
            Err(PositionDecodeError::Inconsistent)
        );
    }
}
