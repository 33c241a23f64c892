//! SSC data layouts the drive layer decodes: READ POSITION short and long
//! form, READ BLOCK LIMITS. The emulator encodes the same data with its own
//! encoders (`crate::emulator::ssc_wire`), written separately from the
//! standard, so that the two readings check each other.

use zerocopy::byteorder::big_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// READ POSITION flag: beginning of partition.
pub(crate) const POS_BOP: u8 = 0x80;
/// READ POSITION flag: between early warning and end of partition.
pub(crate) const POS_EOP: u8 = 0x40;
/// Long form: mark position unknown (logical file and set identifiers invalid).
pub(crate) const POS_MPU: u8 = 0x08;
/// Long form: logical object number unknown (BPU in older drive manuals).
pub(crate) const POS_LONU: u8 = 0x04;
/// Short form: logical object location unknown (same bit as LONU).
pub(crate) const POS_LOLU: u8 = 0x04;

/// READ POSITION short form data (SSC-5 7.7.2), 20 bytes.
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct ShortPositionData {
    /// BOP 0x80, EOP 0x40, LOCU 0x20, BYCU 0x10, LOLU 0x04, PERR 0x02, BPEW 0x01.
    pub flags: u8,
    pub partition: u8,
    pub reserved: [u8; 2],
    pub first_location: U32,
    pub last_location: U32,
    pub reserved2: u8,
    /// NUMBER OF LOGICAL OBJECTS IN OBJECT BUFFER (24 bits).
    pub objects_in_buffer: [u8; 3],
    pub bytes_in_buffer: U32,
}

/// READ POSITION long form data (SSC-5 7.7.3), 32 bytes.
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct LongPositionData {
    /// BOP 0x80, EOP 0x40, MPU 0x08, LONU 0x04, BPEW 0x01.
    pub flags: u8,
    pub reserved: [u8; 3],
    pub partition: U32,
    pub logical_object: U64,
    pub logical_file: U64,
    pub logical_set: U64,
}

/// READ BLOCK LIMITS data with MLOI=0 (SSC-5 7.6), 6 bytes.
#[derive(FromBytes, IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
pub(crate) struct BlockLimitsData {
    /// Bits 4..0: GRANULARITY (block lengths are multiples of 2^n).
    pub granularity: u8,
    /// MAXIMUM BLOCK LENGTH LIMIT (24 bits).
    pub max: [u8; 3],
    /// MINIMUM BLOCK LENGTH LIMIT.
    pub min: U16,
}

/// The value of a 24-bit big-endian field.
pub(crate) fn from_be24(bytes: [u8; 3]) -> u32 {
    let [a, b, c] = bytes;
    u32::from_be_bytes([0, a, b, c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_standard_sizes() {
        assert_eq!(std::mem::size_of::<ShortPositionData>(), 20);
        assert_eq!(
            std::mem::size_of::<LongPositionData>(),
            crate::drive::cdb::READ_POSITION_LONG_LEN
        );
        assert_eq!(
            std::mem::size_of::<BlockLimitsData>(),
            crate::drive::cdb::READ_BLOCK_LIMITS_LEN
        );
    }

    #[test]
    fn be24_reads_big_endian() {
        assert_eq!(from_be24([0x12, 0x34, 0x56]), 0x12_3456);
        assert_eq!(from_be24([0x80, 0, 1]), 0x80_0001);
        assert_eq!(from_be24([0xff, 0xff, 0xff]), 0xff_ffff);
    }
}
