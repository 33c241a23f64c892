//! Command descriptor blocks of the SSC commands the drive layer issues.
//!
//! One short builder per command; each returns the CDB bytes and is the only
//! place that knows the command's field layout. Opcodes come from
//! [`crate::scsi::opcodes`]. Sections refer to SSC-5 (T10 BSR INCITS 503)
//! unless noted; SSC-4 numbers the same commands alike.

use zerocopy::byteorder::big_endian::{I64, U64};
use zerocopy::{Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::scsi::opcodes;

/// Largest transfer length of a 6-byte READ/WRITE/WRITE FILEMARKS CDB (24 bits).
pub const MAX_TRANSFER_LENGTH_6: u32 = 0x00FF_FFFF;

/// Range of the 24-bit two's complement COUNT of SPACE(6).
pub const SPACE6_COUNT_RANGE: std::ops::RangeInclusive<i64> = -0x80_0000..=0x7F_FFFF;

/// Service action of READ POSITION asking for the 20-byte short form.
pub const READ_POSITION_SHORT_FORM: u8 = 0x00;

/// Service action of READ POSITION asking for the 32-byte long form.
pub const READ_POSITION_LONG_FORM: u8 = 0x06;

/// Length of the READ POSITION long form data.
pub const READ_POSITION_LONG_LEN: usize = 32;

/// Length of the READ POSITION short form data.
pub const READ_POSITION_SHORT_LEN: usize = 20;

/// Length of the READ BLOCK LIMITS data (MLOI = 0).
pub const READ_BLOCK_LIMITS_LEN: usize = 6;

/// What SPACE moves over (the CODE field, SSC-5 table "SPACE code field").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SpaceCode {
    /// Logical blocks.
    Blocks = 0x0,
    /// Filemarks.
    Filemarks = 0x1,
    /// Sequential filemarks.
    SequentialFilemarks = 0x2,
    /// End of data (COUNT ignored).
    EndOfData = 0x3,
}

/// What LOCATE(16) positions to (DEST_TYPE field, SSC-5 6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LocateDest {
    /// A logical object identifier (blocks and filemarks counted from BOP).
    Object = 0b000,
    /// A logical file identifier (filemarks counted from BOP).
    File = 0b001,
    /// End of data.
    EndOfData = 0b011,
}

/// LOAD UNLOAD action (byte 4 bits, SSC-5 7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadAction {
    /// LOAD=1: thread the medium and position at BOP.
    Load,
    /// LOAD=0, HOLD=0: rewind, unthread and eject the medium.
    Unload,
}

fn put_u24(dst: &mut [u8], value: u32) {
    let [_, a, b, c] = value.to_be_bytes();
    dst.copy_from_slice(&[a, b, c]);
}

fn put_i24(dst: &mut [u8], value: i32) {
    let [_, a, b, c] = value.to_be_bytes();
    dst.copy_from_slice(&[a, b, c]);
}

/// REWIND, opcode 0x01 (SSC-5 7.9). IMMED=0: returns when at BOP.
pub fn rewind() -> [u8; 6] {
    [opcodes::REWIND, 0, 0, 0, 0, 0]
}

/// FORMAT MEDIUM, opcode 0x04 (SSC-5 6.3), FORMAT field 0 (default,
/// one partition), VERIFY=0, IMMED=0, no parameter data. Must be issued at
/// BOP of partition 0; LTO-5 and newer.
pub fn format_medium() -> [u8; 6] {
    [opcodes::FORMAT_MEDIUM, 0, 0, 0, 0, 0]
}

/// READ BLOCK LIMITS, opcode 0x05 (SSC-5 7.6), MLOI=0: 6 bytes of data.
pub fn read_block_limits() -> [u8; 6] {
    [opcodes::READ_BLOCK_LIMITS, 0, 0, 0, 0, 0]
}

/// READ(6), opcode 0x08 (SSC-5 7.5), variable-block mode (FIXED=0) and
/// SILI=0, so that a block shorter or longer than `len` is reported with
/// ILI and the difference in INFORMATION. `len` must fit 24 bits.
pub fn read6(len: u32) -> [u8; 6] {
    let mut cdb = [opcodes::READ_6, 0, 0, 0, 0, 0];
    put_u24(&mut cdb[2..5], len.min(MAX_TRANSFER_LENGTH_6));
    cdb
}

/// WRITE(6), opcode 0x0A (SSC-5 7.11), variable-block mode (FIXED=0): one
/// block of `len` bytes (24 bits).
pub fn write6(len: u32) -> [u8; 6] {
    let mut cdb = [opcodes::WRITE_6, 0, 0, 0, 0, 0];
    put_u24(&mut cdb[2..5], len.min(MAX_TRANSFER_LENGTH_6));
    cdb
}

/// WRITE FILEMARKS(6), opcode 0x10 (SSC-5 7.12). Count 0 with IMMED=0
/// flushes the drive buffer to the medium and reports buffered errors.
pub fn write_filemarks6(count: u32, immediate: bool) -> [u8; 6] {
    let mut cdb = [opcodes::WRITE_FILEMARKS_6, u8::from(immediate), 0, 0, 0, 0];
    put_u24(&mut cdb[2..5], count.min(MAX_TRANSFER_LENGTH_6));
    cdb
}

/// SPACE(6), opcode 0x11 (SSC-5 7.10). `count` is a 24-bit two's
/// complement number (negative: towards BOP); callers check
/// [`SPACE6_COUNT_RANGE`] and use [`space16`] beyond it.
pub fn space6(code: SpaceCode, count: i32) -> [u8; 6] {
    let mut cdb = [opcodes::SPACE_6, code as u8, 0, 0, 0, 0];
    put_i24(&mut cdb[2..5], count);
    cdb
}

/// SPACE(16) CDB layout (SSC-5 6.11).
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct Space16 {
    opcode: u8,
    code: u8,
    reserved: [u8; 2],
    count: I64,
    parameter_length: [u8; 2],
    control: [u8; 2],
}

/// SPACE(16), opcode 0x91 (SSC-5 6.11): 64-bit signed count.
pub fn space16(code: SpaceCode, count: i64) -> [u8; 16] {
    let cdb = Space16 {
        opcode: opcodes::SPACE_16,
        code: code as u8,
        reserved: [0; 2],
        count: I64::new(count),
        parameter_length: [0; 2],
        control: [0; 2],
    };
    let mut out = [0u8; 16];
    out.copy_from_slice(cdb.as_bytes());
    out
}

/// PREVENT ALLOW MEDIUM REMOVAL, opcode 0x1E
/// (SPC-5 6.17, SSC-5 6.7): PREVENT=01b locks the medium in the drive.
pub fn prevent_allow_medium_removal(prevent: bool) -> [u8; 6] {
    [
        opcodes::PREVENT_ALLOW_MEDIUM_REMOVAL,
        0,
        0,
        0,
        u8::from(prevent),
        0,
    ]
}

/// ERASE(6), opcode 0x19 (SSC-5 6.2), IMMED=0. LONG=0 writes an end of
/// data at the current position; LONG=1 erases to the end of the partition
/// (hours on a full-length LTO cartridge).
pub fn erase(long: bool) -> [u8; 6] {
    [opcodes::ERASE, u8::from(long), 0, 0, 0, 0]
}

/// LOAD UNLOAD, opcode 0x1B (SSC-5 7.2), IMMED=0, RETEN=0, EOT=0, HOLD=0.
pub fn load_unload(action: LoadAction) -> [u8; 6] {
    let load = match action {
        LoadAction::Load => 0x01,
        LoadAction::Unload => 0x00,
    };
    [opcodes::LOAD_UNLOAD, 0, 0, 0, load, 0]
}

/// READ POSITION, opcode 0x34 (SSC-5 7.7), long form (service action 06h).
/// The allocation length must be zero for the short and long forms: the
/// device returns the 32 bytes of the long form regardless.
pub fn read_position_long() -> [u8; 10] {
    read_position(READ_POSITION_LONG_FORM)
}

/// READ POSITION, opcode 0x34 (SSC-5 7.7), short form (service action
/// 00h, 20 bytes), for drives that reject the long form.
pub fn read_position_short() -> [u8; 10] {
    read_position(READ_POSITION_SHORT_FORM)
}

fn read_position(service_action: u8) -> [u8; 10] {
    [
        opcodes::READ_POSITION,
        service_action,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ]
}

/// LOCATE(16) CDB layout (SSC-5 6.5).
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct Locate16 {
    opcode: u8,
    /// DEST_TYPE in bits 5..3, CP bit 1, IMMED bit 0.
    flags: u8,
    /// BAM bit 0 (0: explicit address mode).
    bam: u8,
    partition: u8,
    logical_identifier: U64,
    reserved: [u8; 3],
    control: u8,
}

/// LOCATE(16), opcode 0x92 (SSC-5 6.5), IMMED=0, CP=0 (stay in the
/// current partition), explicit address mode. `dest` says whether
/// `identifier` counts logical objects or filemarks.
pub fn locate16(dest: LocateDest, identifier: u64) -> [u8; 16] {
    let cdb = Locate16 {
        opcode: opcodes::LOCATE_16,
        flags: (dest as u8) << 3,
        bam: 0,
        partition: 0,
        logical_identifier: U64::new(identifier),
        reserved: [0; 3],
        control: 0,
    };
    let mut out = [0u8; 16];
    out.copy_from_slice(cdb.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_byte_data_path() {
        assert_eq!(read6(0x040000), [0x08, 0x00, 0x04, 0x00, 0x00, 0x00]);
        assert_eq!(write6(0x123456), [0x0A, 0x00, 0x12, 0x34, 0x56, 0x00]);
        assert_eq!(write_filemarks6(0, false), [0x10, 0, 0, 0, 0, 0]);
        assert_eq!(write_filemarks6(3, true), [0x10, 0x01, 0, 0, 3, 0]);
    }

    #[test]
    fn space6_counts_are_24_bit_twos_complement() {
        assert_eq!(space6(SpaceCode::Filemarks, 2), [0x11, 0x01, 0, 0, 2, 0]);
        assert_eq!(
            space6(SpaceCode::Blocks, -1),
            [0x11, 0x00, 0xFF, 0xFF, 0xFF, 0]
        );
        assert_eq!(
            space6(SpaceCode::Filemarks, -0x80_0000),
            [0x11, 0x01, 0x80, 0x00, 0x00, 0]
        );
        assert_eq!(space6(SpaceCode::EndOfData, 0), [0x11, 0x03, 0, 0, 0, 0]);
    }

    #[test]
    fn space16_layout() {
        let cdb = space16(SpaceCode::Blocks, -2);
        assert_eq!(cdb[0], 0x91);
        assert_eq!(cdb[1], 0x00);
        assert_eq!(&cdb[4..12], &(-2i64).to_be_bytes());
        assert_eq!(&cdb[12..], &[0, 0, 0, 0]);
    }

    #[test]
    fn locate16_layout() {
        let cdb = locate16(LocateDest::File, 0x0102_0304_0506_0708);
        assert_eq!(cdb[0], 0x92);
        assert_eq!(cdb[1], 0b0000_1000);
        assert_eq!(&cdb[4..12], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(locate16(LocateDest::Object, 5)[1], 0);
        assert_eq!(locate16(LocateDest::EndOfData, 0)[1], 0b0001_1000);
    }

    #[test]
    fn misc_commands() {
        assert_eq!(read_position_long(), [0x34, 0x06, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(read_position_short(), [0x34, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(erase(true), [0x19, 1, 0, 0, 0, 0]);
        assert_eq!(erase(false), [0x19, 0, 0, 0, 0, 0]);
        assert_eq!(load_unload(LoadAction::Load), [0x1B, 0, 0, 0, 1, 0]);
        assert_eq!(load_unload(LoadAction::Unload), [0x1B, 0, 0, 0, 0, 0]);
        assert_eq!(prevent_allow_medium_removal(true), [0x1E, 0, 0, 0, 1, 0]);
        assert_eq!(prevent_allow_medium_removal(false), [0x1E, 0, 0, 0, 0, 0]);
        assert_eq!(rewind(), [0x01, 0, 0, 0, 0, 0]);
        assert_eq!(format_medium(), [0x04, 0, 0, 0, 0, 0]);
        assert_eq!(read_block_limits(), [0x05, 0, 0, 0, 0, 0]);
    }
}
