//! READ POSITION (SSC-5 7.7): where the head is, from the long form
//! (7.7.3: logical object and logical file identifier) or, on drives that
//! reject it, the short form (7.7.2: logical object only).

use serde::Serialize;
use zerocopy::FromBytes;

use super::wire::{
    LongPositionData, ShortPositionData, POS_BOP, POS_EOP, POS_LOLU, POS_LONU, POS_MPU,
};

/// Which form of READ POSITION data the drive gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionForm {
    /// Long form (service action 06h): logical object and file number.
    Long,
    /// Short form (service action 00h): logical object only. Drives that
    /// reject the long form (05/24/00): older ones, Linux's scsi_debug tape.
    Short,
}

impl PositionForm {
    /// "long" / "short".
    pub fn name(self) -> &'static str {
        match self {
            PositionForm::Long => "long",
            PositionForm::Short => "short",
        }
    }
}

/// The head position as the drive reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Partition number (0 on single-partition media).
    pub partition: u32,
    /// Filemarks between BOP and the head (logical file identifier). The
    /// short form does not carry it: `None`, except at BOP (file 0).
    pub file_number: Option<u64>,
    /// Blocks and filemarks between BOP and the head (logical object number).
    pub logical_object: u64,
    /// At beginning of partition.
    pub bop: bool,
    /// Between early warning and end of partition.
    pub eop: bool,
    /// The form of READ POSITION data this came from.
    pub form: PositionForm,
}

/// Why long form data cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionDecodeError {
    #[error("READ POSITION returned {0} bytes, the long form has 32")]
    TooShort(usize),
    #[error("READ POSITION returned {0} bytes, the short form has 20")]
    ShortFormTooShort(usize),
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
            file_number: Some(raw.logical_file.get()),
            logical_object: raw.logical_object.get(),
            bop: raw.flags & POS_BOP != 0,
            eop: raw.flags & POS_EOP != 0,
            form: PositionForm::Long,
        })
    }

    /// Decode the short form: the FIRST LOGICAL OBJECT LOCATION is the
    /// logical object at the head; no file number, except that BOP means
    /// file 0. An unknown position (LOLU) is an error.
    pub fn decode_short(data: &[u8]) -> Result<Position, PositionDecodeError> {
        let (raw, _) = ShortPositionData::ref_from_prefix(data)
            .map_err(|_| PositionDecodeError::ShortFormTooShort(data.len()))?;
        if raw.flags & POS_LOLU != 0 {
            return Err(PositionDecodeError::ObjectUnknown);
        }
        let bop = raw.flags & POS_BOP != 0;
        let logical_object = u64::from(raw.first_location.get());
        if !bop && logical_object == 0 {
            return Err(PositionDecodeError::Inconsistent);
        }
        Ok(Position {
            partition: u32::from(raw.partition),
            file_number: bop.then_some(0),
            logical_object,
            bop,
            eop: raw.flags & POS_EOP != 0,
            form: PositionForm::Short,
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
        assert_eq!((p.file_number, p.logical_object), (Some(0), 0));
        assert_eq!(p.form, PositionForm::Long);
        let p = Position::decode_long(&long_form(0x40, 1, 12345, 7)).unwrap();
        assert!(!p.bop && p.eop);
        assert_eq!(p.partition, 1);
        assert_eq!(p.logical_object, 12345);
        assert_eq!(p.file_number, Some(7));
    }

    fn short_form(flags: u8, partition: u8, first: u32) -> Vec<u8> {
        let mut d = vec![flags, partition, 0, 0];
        d.extend_from_slice(&first.to_be_bytes());
        d.extend_from_slice(&first.to_be_bytes()); // last location
        d.extend_from_slice(&[0; 8]); // objects and bytes in the buffer
        d
    }

    #[test]
    fn short_form_gives_the_object_and_file_zero_only_at_bop() {
        let p = Position::decode_short(&short_form(0x80, 0, 0)).unwrap();
        assert_eq!((p.file_number, p.logical_object, p.bop), (Some(0), 0, true));
        assert_eq!(p.form, PositionForm::Short);
        let p = Position::decode_short(&short_form(0x40, 1, 4711)).unwrap();
        assert_eq!((p.file_number, p.logical_object), (None, 4711));
        assert!(p.eop && !p.bop);
        assert_eq!(p.partition, 1);
        assert_eq!(
            Position::decode_short(&short_form(0x04, 0, 9)),
            Err(PositionDecodeError::ObjectUnknown)
        );
        assert_eq!(
            Position::decode_short(&short_form(0x00, 0, 0)),
            Err(PositionDecodeError::Inconsistent)
        );
        assert_eq!(
            Position::decode_short(&[0x80; 12]),
            Err(PositionDecodeError::ShortFormTooShort(12))
        );
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
