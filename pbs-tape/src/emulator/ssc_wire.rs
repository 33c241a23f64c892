//! The emulated drive's own byte-level encoders for the SSC data it
//! returns, written from the standard's tables (SSC-5) and not from the
//! drive layer's structs: a misreading shared by the drive code (which
//! decodes these bytes) and the emulator (which produces them) would
//! otherwise pass every emulator test. Offsets are spelled out per field;
//! the tests pin the bytes against hand-written examples.

/// Field codes of the CDBs the emulated drive interprets (SSC-5).
pub(crate) mod field {
    /// SPACE: CODE field, byte 1 bits 3..0 (SSC-5 7.10).
    pub const SPACE_BLOCKS: u8 = 0b000;
    pub const SPACE_FILEMARKS: u8 = 0b001;
    pub const SPACE_END_OF_DATA: u8 = 0b011;
    /// LOCATE(16): DEST_TYPE field, byte 1 bits 5..3 (SSC-5 6.5).
    pub const DEST_LOGICAL_OBJECT: u8 = 0b000;
    pub const DEST_LOGICAL_FILE: u8 = 0b001;
    pub const DEST_END_OF_DATA: u8 = 0b011;
    /// READ POSITION: SERVICE ACTION, byte 1 bits 4..0 (SSC-5 7.7).
    pub const POSITION_SHORT_FORM_BLOCK_ID: u8 = 0x00;
    pub const POSITION_LONG_FORM: u8 = 0x06;
}

/// READ POSITION flags byte 0 (short form: BOP, EOP, LOCU, BYCU, -, LOLU,
/// PERR, BPEW; long form: BOP, EOP, -, -, MPU, LONU, -, BPEW).
pub(crate) const POSITION_BOP: u8 = 1 << 7;
pub(crate) const POSITION_EOP: u8 = 1 << 6;

/// Length of the short form data (SSC-5 7.7.2).
pub(crate) const POSITION_SHORT_LEN: usize = 20;
/// Length of the long form data (SSC-5 7.7.3).
pub(crate) const POSITION_LONG_LEN: usize = 32;
/// Length of READ BLOCK LIMITS data with MLOI = 0 (SSC-5 7.6).
pub(crate) const BLOCK_LIMITS_LEN: usize = 6;

fn put_be(out: &mut [u8], at: usize, width: usize, value: u64) {
    for i in 0..width {
        out[at + i] = (value >> (8 * (width - 1 - i))) as u8;
    }
}

/// READ BLOCK LIMITS data (MLOI = 0): byte 0 bits 4..0 GRANULARITY, bytes
/// 1..3 MAXIMUM BLOCK LENGTH LIMIT, bytes 4..5 MINIMUM BLOCK LENGTH LIMIT.
pub(crate) fn block_limits(granularity: u8, max: u32, min: u16) -> [u8; BLOCK_LIMITS_LEN] {
    let mut out = [0u8; BLOCK_LIMITS_LEN];
    out[0] = granularity & 0x1f;
    put_be(&mut out, 1, 3, u64::from(max.min(0xff_ffff)));
    put_be(&mut out, 4, 2, u64::from(min));
    out
}

/// What a READ POSITION reports, in either form.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Position {
    pub flags: u8,
    pub partition: u32,
    /// Logical object identifier of the next object to be read or written.
    pub object: u64,
    /// Logical file identifier (filemarks before the position).
    pub file: u64,
    /// Logical objects and bytes held in the object buffer (not yet on the medium).
    pub buffered_objects: u64,
    pub buffered_bytes: u64,
}

/// Short form, block id (SSC-5 7.7.2): byte 0 flags, byte 1 PARTITION
/// NUMBER, bytes 4..7 FIRST LOGICAL OBJECT LOCATION, bytes 8..11 LAST
/// LOGICAL OBJECT LOCATION, bytes 13..15 NUMBER OF LOGICAL OBJECTS IN
/// OBJECT BUFFER, bytes 16..19 NUMBER OF BYTES IN OBJECT BUFFER. `last` is
/// the next object the medium will be written at (buffered objects are
/// not on it yet).
pub(crate) fn position_short(p: &Position, last: u64) -> [u8; POSITION_SHORT_LEN] {
    let mut out = [0u8; POSITION_SHORT_LEN];
    out[0] = p.flags;
    out[1] = p.partition.min(0xff) as u8;
    put_be(&mut out, 4, 4, p.object.min(u64::from(u32::MAX)));
    put_be(&mut out, 8, 4, last.min(u64::from(u32::MAX)));
    put_be(&mut out, 13, 3, p.buffered_objects.min(0xff_ffff));
    put_be(&mut out, 16, 4, p.buffered_bytes.min(u64::from(u32::MAX)));
    out
}

/// Long form (SSC-5 7.7.3): byte 0 flags, bytes 4..7 PARTITION NUMBER,
/// bytes 8..15 LOGICAL OBJECT NUMBER, bytes 16..23 LOGICAL FILE
/// IDENTIFIER, bytes 24..31 LOGICAL SET IDENTIFIER (0: no sets).
pub(crate) fn position_long(p: &Position) -> [u8; POSITION_LONG_LEN] {
    let mut out = [0u8; POSITION_LONG_LEN];
    out[0] = p.flags;
    put_be(&mut out, 4, 4, u64::from(p.partition));
    put_be(&mut out, 8, 8, p.object);
    put_be(&mut out, 16, 8, p.file);
    out
}

/// What one REPORT DENSITY SUPPORT descriptor says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Density {
    pub primary_density_code: u8,
    pub secondary_density_code: u8,
    pub writable: bool,
    pub duplicate: bool,
    pub default: bool,
    pub bits_per_mm: u32,
    /// Tenths of a millimetre.
    pub media_width: u16,
    pub tracks: u16,
    /// 10^6 bytes.
    pub capacity_mb: u32,
    pub assigning_organization: &'static str,
    pub density_name: &'static str,
    pub description: &'static str,
}

impl Density {
    /// An LTO density (not default, writable: the caller decides).
    pub(crate) fn lto(i: &crate::spec::lto::LtoInfo) -> Self {
        Density {
            primary_density_code: i.density_code,
            secondary_density_code: i.density_code,
            writable: true,
            duplicate: false,
            default: false,
            bits_per_mm: i.bits_per_mm,
            media_width: crate::spec::lto::LTO_MEDIA_WIDTH,
            tracks: i.tracks,
            capacity_mb: u32::try_from(i.native_capacity_bytes / 1_000_000).unwrap_or(u32::MAX),
            assigning_organization: crate::spec::lto::LTO_ASSIGNING_ORGANIZATION,
            density_name: i.density_name,
            description: i.description,
        }
    }
}

/// Length of one REPORT DENSITY SUPPORT density descriptor (SSC-5 6.13).
pub(crate) const DENSITY_DESCRIPTOR_LEN: usize = 52;

/// ASCII text left-aligned and padded with spaces to `n` bytes (cut when longer).
fn put_text(out: &mut [u8], at: usize, n: usize, text: &str) {
    out[at..at + n].fill(b' ');
    for (dst, src) in out[at..at + n].iter_mut().zip(text.bytes()) {
        *dst = src;
    }
}

/// REPORT DENSITY SUPPORT data (SSC-5 6.13): a 4-byte header (AVAILABLE
/// DENSITY DESCRIPTOR LENGTH, the bytes after that field; 2 reserved),
/// then per density 52 bytes: PRIMARY and SECONDARY DENSITY CODE, flags
/// (WRTOK bit 7, DUP bit 6, DEFLT bit 5, DLV bit 0), DESCRIPTOR LENGTH
/// (bytes 3..4, 0030h), BITS PER MM (5..7), MEDIA WIDTH (8..9, tenths of a
/// mm), TRACKS (10..11), CAPACITY (12..15, MB), ASSIGNING ORGANIZATION
/// (16..23), DENSITY NAME (24..31), DESCRIPTION (32..51).
pub(crate) fn density_support(list: &[Density]) -> Vec<u8> {
    let mut out = vec![0u8; 4 + list.len() * DENSITY_DESCRIPTOR_LEN];
    let available = (out.len() as u64 - 2).min(0xffff);
    put_be(&mut out, 0, 2, available);
    for (i, d) in list.iter().enumerate() {
        let o = 4 + i * DENSITY_DESCRIPTOR_LEN;
        out[o] = d.primary_density_code;
        out[o + 1] = d.secondary_density_code;
        out[o + 2] = 0x01 // DLV
            | if d.writable { 0x80 } else { 0 }
            | if d.duplicate { 0x40 } else { 0 }
            | if d.default { 0x20 } else { 0 };
        put_be(&mut out, o + 3, 2, 0x30);
        put_be(&mut out, o + 5, 3, u64::from(d.bits_per_mm.min(0xff_ffff)));
        put_be(&mut out, o + 8, 2, u64::from(d.media_width));
        put_be(&mut out, o + 10, 2, u64::from(d.tracks));
        put_be(&mut out, o + 12, 4, u64::from(d.capacity_mb));
        put_text(&mut out, o + 16, 8, d.assigning_organization);
        put_text(&mut out, o + 24, 8, d.density_name);
        put_text(&mut out, o + 32, 20, d.description);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_limits_bytes() {
        // 1 MiB maximum, 1-byte minimum, no granularity
        assert_eq!(
            block_limits(0, 0x10_0000, 1),
            [0x00, 0x10, 0x00, 0x00, 0x00, 0x01]
        );
        // the 24-bit field saturates instead of wrapping
        assert_eq!(
            block_limits(0x22, 0x0100_0000, 4),
            [0x02, 0xff, 0xff, 0xff, 0x00, 0x04]
        );
    }

    #[test]
    fn short_form_bytes() {
        let p = Position {
            flags: POSITION_BOP,
            partition: 0,
            object: 0x0102_0304,
            file: 9,
            buffered_objects: 3,
            buffered_bytes: 0x4000,
        };
        let b = position_short(&p, 0x0102_0301);
        assert_eq!(
            b,
            [
                0x80, 0x00, 0x00, 0x00, // flags, partition, reserved
                0x01, 0x02, 0x03, 0x04, // first logical object location
                0x01, 0x02, 0x03, 0x01, // last logical object location
                0x00, 0x00, 0x00, 0x03, // reserved, objects in buffer
                0x00, 0x00, 0x40, 0x00, // bytes in buffer
            ]
        );
    }

    #[test]
    fn long_form_bytes() {
        let p = Position {
            flags: POSITION_EOP,
            partition: 0,
            object: 0x1_0000_0002,
            file: 7,
            ..Position::default()
        };
        let b = position_long(&p);
        let mut want = [0u8; 32];
        want[0] = 0x40;
        want[8..16].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
        want[23] = 7;
        assert_eq!(b, want);
    }

    #[test]
    fn density_support_bytes() {
        let d = Density {
            primary_density_code: 0x5e,
            secondary_density_code: 0x5e,
            writable: true,
            duplicate: false,
            default: true,
            bits_per_mm: 20668,
            media_width: 127,
            tracks: 6656,
            capacity_mb: 12_000_000,
            assigning_organization: "LTO-CVE",
            density_name: "U-832",
            description: "Ultrium 8/32T",
        };
        let b = density_support(std::slice::from_ref(&d));
        assert_eq!(b.len(), 56);
        assert_eq!(&b[..4], &[0x00, 0x36, 0x00, 0x00]);
        assert_eq!(
            &b[4..20],
            &[
                0x5e, 0x5e, 0xa1, 0x00, 0x30, // codes, WRTOK|DEFLT|DLV, descriptor length
                0x00, 0x50, 0xbc, // 20668 bits per mm
                0x00, 0x7f, 0x1a, 0x00, // media width 127, 6656 tracks
                0x00, 0xb7, 0x1b, 0x00, // 12000000 MB
            ]
        );
        assert_eq!(&b[20..28], b"LTO-CVE ");
        assert_eq!(&b[28..36], b"U-832   ");
        assert_eq!(&b[36..56], b"Ultrium 8/32T       ");
        // the drive layer's decoder reads the same values
        let back = crate::drive::density::decode_density_support(&b).unwrap();
        assert_eq!(back.len(), 1);
        let got = &back[0];
        assert_eq!(
            (
                got.primary_density_code,
                got.writable,
                got.default,
                got.duplicate
            ),
            (0x5e, true, true, false)
        );
        assert_eq!(
            (
                got.bits_per_mm,
                got.media_width,
                got.tracks,
                got.capacity_mb
            ),
            (20668, 127, 6656, 12_000_000)
        );
        assert_eq!(
            (
                got.assigning_organization.as_str(),
                got.density_name.as_str(),
                got.description.as_str()
            ),
            (d.assigning_organization, d.density_name, d.description)
        );
    }

    #[test]
    fn the_drive_layer_decodes_them_alike() {
        // one independent reading checked against the other: the drive
        // layer's decoder must agree with these bytes
        let p = Position {
            flags: POSITION_BOP,
            object: 34,
            file: 2,
            ..Position::default()
        };
        use crate::drive::position::Position as Decoded;
        let long = Decoded::decode_long(&position_long(&p)).unwrap();
        assert_eq!(long.logical_object, 34);
        assert_eq!(long.file_number, Some(2));
        assert!(long.bop);
        let short = Decoded::decode_short(&position_short(&p, 34)).unwrap();
        assert_eq!(short.logical_object, 34);
        assert!(short.bop);
    }
}
