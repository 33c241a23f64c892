//! MODE SENSE(6)/(10) and MODE SELECT(6)/(10) of the emulated drive
//! (SPC-5 6.13-6.16, SSC-5 8.3): header with buffered mode and write
//! protect, one block descriptor, pages 0x0F, 0x10 and 0x10/0x01.
//!
//! Changeable: block length, buffered mode (0 or 1), DCE. Saved values are
//! the current ones (the emulator persists its settings).

use super::super::cdb::{Cdb, CdbResult, CheckCondition};
use super::super::drive_state::DriveSettings;
use super::{drive_density, parameter_list, respond, InfoContext};
use crate::scsi::opcodes::{MODE_SELECT_10, MODE_SENSE_10};
use crate::spec::mode::{
    DEVICE_SPECIFIC_BUFFER_MODE_MASK, DEVICE_SPECIFIC_BUFFER_MODE_SHIFT, DEVICE_SPECIFIC_WP,
    PAGE_ALL, PAGE_DATA_COMPRESSION, PAGE_DEVICE_CONFIGURATION,
    SUBPAGE_DEVICE_CONFIGURATION_EXTENSION,
};

/// Compression algorithm reported in page 0x0F: 0x01, the LTO default
/// (ALDC-based SLDC) as IBM and HPE drives report it.
const COMPRESSION_ALGORITHM: u32 = 0x01;
/// "No change" density code in MODE SELECT (SSC-5 8.3.1).
const DENSITY_NO_CHANGE: u8 = 0x7F;
/// Length of a short block descriptor (SSC-5 8.3.1).
const BLOCK_DESCRIPTOR_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pc {
    Current,
    Changeable,
    Default,
    Saved,
}

/// One mode page, its header included.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    code: u8,
    subpage: u8,
    bytes: Vec<u8>,
}

fn put_be(out: &mut [u8], at: usize, width: usize, value: u64) {
    for i in 0..width {
        out[at + i] = (value >> (8 * (width - 1 - i))) as u8;
    }
}

/// Data compression page 0x0F (SSC-5 8.3.2), 16 bytes: byte 0 PS, SPF (0),
/// PAGE CODE; byte 1 PAGE LENGTH 0Eh; byte 2 DCE (bit 7), DCC (bit 6);
/// byte 3 DDE (bit 7), RED (bits 6..5); bytes 4..7 COMPRESSION ALGORITHM;
/// bytes 8..11 DECOMPRESSION ALGORITHM; bytes 12..15 reserved.
fn compression_page(settings: &DriveSettings, pc: Pc) -> Vec<u8> {
    let changeable = pc == Pc::Changeable;
    let dce = if changeable {
        true
    } else {
        settings.compression
    };
    let mut p = vec![0u8; 16];
    p[0] = PAGE_DATA_COMPRESSION;
    p[1] = 0x0e;
    p[2] = if dce { 0x80 } else { 0 } | if changeable { 0 } else { 0x40 };
    p[3] = if changeable { 0 } else { 0x80 };
    let algorithm = if changeable { 0 } else { COMPRESSION_ALGORITHM };
    put_be(&mut p, 4, 4, u64::from(algorithm));
    put_be(&mut p, 8, 4, u64::from(algorithm));
    p
}

/// Device configuration page 0x10 (SSC-5 8.3.3), 16 bytes: byte 1 PAGE
/// LENGTH 0Eh; byte 2 ACTIVE FORMAT; byte 3 ACTIVE PARTITION; bytes 4/5
/// WRITE/READ OBJECT BUFFER FULL/EMPTY RATIO; bytes 6..7 WRITE DELAY TIME;
/// byte 8 OBR, LOIS (bit 6), RSMK, AVC, SOCF, ROBO, REW; byte 9 GAP SIZE;
/// byte 10 EOD DEFINED (7..5), EEG, SEW (bit 3), SWP, BAML, BAM; bytes
/// 11..13 BUFFER SIZE AT EARLY WARNING; byte 14 SELECT DATA COMPRESSION
/// ALGORITHM; byte 15 WTRE, OIR, REWIND ON RESET, ASOCWP, PERSWP, PRMWP.
fn device_configuration_page(settings: &DriveSettings, pc: Pc) -> Vec<u8> {
    let values = pc != Pc::Changeable;
    let mut p = vec![0u8; 16];
    p[0] = PAGE_DEVICE_CONFIGURATION;
    p[1] = 0x0e;
    if values {
        // LOIS: logical object identifiers supported.
        p[8] = 0x40;
        // EOD defined 000b (format default), SEW (synchronize at early warning).
        p[10] = 0x08;
        p[14] = u8::from(settings.compression);
    }
    p
}

/// Device configuration extension subpage 0x10/0x01 (SSC-5 8.3.4), 32
/// bytes: byte 0 PS, SPF (set), PAGE CODE; byte 1 SUBPAGE CODE; bytes 2..3
/// PAGE LENGTH 001Ch; byte 4 TARPF, TASER, TARPT, TAPLSD; byte 5 WRITE
/// MODE (7..4), SHORT ERASE MODE (3..0, 0: vendor default); bytes 6..7
/// PEWS (0: programmable early warning not used); byte 8 VCELBRE; the rest
/// reserved.
fn device_configuration_extension() -> Vec<u8> {
    let mut p = vec![0u8; 32];
    p[0] = 0x40 | PAGE_DEVICE_CONFIGURATION;
    p[1] = SUBPAGE_DEVICE_CONFIGURATION_EXTENSION;
    put_be(&mut p, 2, 2, 0x1c);
    p
}

/// The pages selected by page code / subpage, or `None` if not supported.
fn pages(settings: &DriveSettings, pc: Pc, page: u8, subpage: u8) -> Option<Vec<Page>> {
    let cp = || Page {
        code: PAGE_DATA_COMPRESSION,
        subpage: 0,
        bytes: compression_page(settings, pc),
    };
    let dc = || Page {
        code: PAGE_DEVICE_CONFIGURATION,
        subpage: 0,
        bytes: device_configuration_page(settings, pc),
    };
    let dce = || Page {
        code: PAGE_DEVICE_CONFIGURATION,
        subpage: SUBPAGE_DEVICE_CONFIGURATION_EXTENSION,
        bytes: device_configuration_extension(),
    };
    match (page, subpage) {
        // Page 0: header and block descriptor only (vendor-specific page 0 has no pages).
        (0x00, 0x00) => Some(Vec::new()),
        (PAGE_DATA_COMPRESSION, 0x00) => Some(vec![cp()]),
        (PAGE_DEVICE_CONFIGURATION, 0x00) => Some(vec![dc()]),
        (PAGE_DEVICE_CONFIGURATION, SUBPAGE_DEVICE_CONFIGURATION_EXTENSION) => Some(vec![dce()]),
        (PAGE_DEVICE_CONFIGURATION, 0xFF) => Some(vec![dc(), dce()]),
        (PAGE_ALL, 0x00) => Some(vec![cp(), dc()]),
        (PAGE_ALL, 0xFF) => Some(vec![cp(), dc(), dce()]),
        _ => None,
    }
}

/// Values of a short block descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockDescriptor {
    density_code: u8,
    number_of_blocks: u32,
    block_length: u32,
}

/// Short block descriptor (SSC-5 8.3.1): byte 0 DENSITY CODE, bytes 1..3
/// NUMBER OF BLOCKS, byte 4 reserved, bytes 5..7 BLOCK LENGTH.
fn block_descriptor_bytes(bd: &BlockDescriptor) -> [u8; BLOCK_DESCRIPTOR_LEN] {
    let mut out = [0u8; BLOCK_DESCRIPTOR_LEN];
    out[0] = bd.density_code;
    put_be(
        &mut out,
        1,
        3,
        u64::from(bd.number_of_blocks.min(0xff_ffff)),
    );
    put_be(&mut out, 5, 3, u64::from(bd.block_length.min(0xff_ffff)));
    out
}

/// Mode parameter data as MODE SENSE returns it (SPC-5 7.5.5): header(6)
/// — byte 0 MODE DATA LENGTH, byte 1 MEDIUM TYPE, byte 2 DEVICE-SPECIFIC
/// PARAMETER, byte 3 BLOCK DESCRIPTOR LENGTH — or header(10) — bytes 0..1
/// MODE DATA LENGTH, byte 2 MEDIUM TYPE, byte 3 DEVICE-SPECIFIC PARAMETER,
/// byte 4 LONGLBA (0), bytes 6..7 BLOCK DESCRIPTOR LENGTH; then the block
/// descriptor and the pages. MODE DATA LENGTH counts the bytes after it.
fn mode_parameter_data(
    ten: bool,
    device_specific: u8,
    bd: Option<&BlockDescriptor>,
    pages: &[Page],
) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(bd) = bd {
        body.extend_from_slice(&block_descriptor_bytes(bd));
    }
    for p in pages {
        body.extend_from_slice(&p.bytes);
    }
    let bdl = if bd.is_some() {
        BLOCK_DESCRIPTOR_LEN
    } else {
        0
    };
    let mut out = if ten {
        let mut h = vec![0u8; 8];
        put_be(
            &mut h,
            0,
            2,
            (6 + body.len()).min(usize::from(u16::MAX)) as u64,
        );
        h[3] = device_specific;
        put_be(&mut h, 6, 2, bdl as u64);
        h
    } else {
        vec![
            (3 + body.len()).min(255) as u8,
            0,
            device_specific,
            bdl as u8,
        ]
    };
    out.extend_from_slice(&body);
    out
}

/// The device-specific parameter and block descriptor the drive reports
/// for this page control.
fn header_values(ctx: &InfoContext<'_>, pc: Pc, dbd: bool) -> (u8, Option<BlockDescriptor>) {
    let defaults = DriveSettings::default();
    let settings: &DriveSettings = if pc == Pc::Default {
        &defaults
    } else {
        ctx.settings
    };
    let wp = ctx
        .medium
        .as_ref()
        .is_some_and(|m| m.cartridge.write_protected);
    // WP (bit 7), BUFFERED MODE (bits 6..4), SPEED (bits 3..0) (SSC-5 8.3.1).
    let device_specific = match pc {
        Pc::Changeable => DEVICE_SPECIFIC_BUFFER_MODE_MASK,
        _ => {
            (if wp { DEVICE_SPECIFIC_WP } else { 0 })
                | ((settings.buffer_mode << DEVICE_SPECIFIC_BUFFER_MODE_SHIFT)
                    & DEVICE_SPECIFIC_BUFFER_MODE_MASK)
        }
    };
    let block_descriptor = (!dbd).then(|| match pc {
        Pc::Changeable => BlockDescriptor {
            density_code: 0,
            number_of_blocks: 0,
            block_length: 0xff_ffff,
        },
        _ => BlockDescriptor {
            density_code: drive_density(ctx.config).density_code,
            number_of_blocks: 0,
            block_length: settings.block_size,
        },
    });
    (device_specific, block_descriptor)
}

/// The pages of a MODE SELECT parameter list after the header and block
/// descriptor (SPC-5 7.5.7): byte 0 PS, SPF (bit 6), PAGE CODE; without
/// SPF byte 1 PAGE LENGTH (the bytes after it), with SPF byte 1 SUBPAGE
/// CODE and bytes 2..3 PAGE LENGTH. `Err(offset)`: the page at that offset
/// of `list` runs past its end.
fn select_pages(list: &[u8], start: usize) -> Result<Vec<Page>, usize> {
    let mut pages = Vec::new();
    let mut at = start;
    while at < list.len() {
        let rest = &list[at..];
        let spf = rest[0] & 0x40 != 0;
        let (subpage, len) = if spf {
            if rest.len() < 4 {
                return Err(at);
            }
            (
                rest[1],
                4 + usize::from(u16::from_be_bytes([rest[2], rest[3]])),
            )
        } else {
            if rest.len() < 2 {
                return Err(at);
            }
            (0, 2 + usize::from(rest[1]))
        };
        let Some(bytes) = rest.get(..len) else {
            return Err(at);
        };
        pages.push(Page {
            code: rest[0] & 0x3f,
            subpage,
            bytes: bytes.to_vec(),
        });
        at += len;
    }
    Ok(pages)
}

/// MODE SENSE(6) (0x1A) / MODE SENSE(10) (0x5A).
pub fn mode_sense(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: crate::scsi::DataDirection<'_>,
) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    let ten = cdb.opcode() == MODE_SENSE_10;
    if ten {
        // LLBAA (bit 4) is accepted (no long descriptors for tape); DBD bit 3.
        cdb.reserved(1, 0xE7)?;
        cdb.reserved_bytes(4..7)?;
    } else {
        cdb.reserved(1, 0xF7)?;
    }
    let dbd = cdb.bit(1, 3);
    let pc = match cdb.byte(2) >> 6 {
        0 => Pc::Current,
        1 => Pc::Changeable,
        2 => Pc::Default,
        _ => Pc::Saved,
    };
    let page = cdb.byte(2) & 0x3f;
    let subpage = cdb.byte(3);
    let settings = ctx.settings.clone();
    let page_settings = if pc == Pc::Default {
        DriveSettings::default()
    } else {
        settings
    };
    let Some(pages) = pages(&page_settings, pc, page, subpage) else {
        // A known page with an unknown subpage points at the subpage byte.
        let known_page = pages(&page_settings, pc, page, 0).is_some();
        let byte = if known_page { 3 } else { 2 };
        return Err(CheckCondition::invalid_field_in_cdb(byte, None));
    };
    let (device_specific, bd) = header_values(ctx, pc, dbd);
    let bytes = mode_parameter_data(ten, device_specific, bd.as_ref(), &pages);
    let alloc = if ten {
        usize::from(cdb.be16(7))
    } else {
        usize::from(cdb.byte(4))
    };
    respond(data, alloc, &bytes)
}

/// MODE SELECT(6) (0x15) / MODE SELECT(10) (0x55): block length, buffered
/// mode and DCE may change; anything else that differs from the current
/// value is 05/2600 pointing at the byte.
pub fn mode_select(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: crate::scsi::DataDirection<'_>,
) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    let ten = cdb.opcode() == MODE_SELECT_10;
    // PF (bit 4) and SP (bit 0) are accepted; the rest of byte 1 is reserved.
    cdb.reserved(1, 0xEE)?;
    let len = if ten {
        cdb.reserved_bytes(2..7)?;
        usize::from(cdb.be16(7))
    } else {
        cdb.reserved_bytes(2..4)?;
        usize::from(cdb.byte(4))
    };
    let list = parameter_list(&data, len)?;
    if list.is_empty() {
        return Ok(crate::emulator::cdb::no_data());
    }
    let header_len: usize = if ten { 8 } else { 4 };
    if list.len() < header_len {
        return Err(CheckCondition::parameter_list_length_error());
    }
    // MODE DATA LENGTH is reserved in MODE SELECT.
    let mdl_bytes = if ten { 2 } else { 1 };
    if list[..mdl_bytes].iter().any(|b| *b != 0) {
        return Err(CheckCondition::invalid_field_in_parameter_list(0));
    }
    let dev_specific_at = if ten { 3 } else { 2 };
    let bdl_at: u16 = if ten { 6 } else { 3 };
    let bdl = if ten {
        usize::from(u16::from_be_bytes([list[6], list[7]]))
    } else {
        usize::from(list[3])
    };
    if bdl != 0 && bdl != BLOCK_DESCRIPTOR_LEN || header_len + bdl > list.len() {
        return Err(CheckCondition::invalid_field_in_parameter_list(bdl_at));
    }

    let mut new = ctx.settings.clone();
    // Header: buffered mode (0 or 1), speed 0; WP is ignored.
    let ds = list[dev_specific_at];
    let buffer_mode = (ds & DEVICE_SPECIFIC_BUFFER_MODE_MASK) >> DEVICE_SPECIFIC_BUFFER_MODE_SHIFT;
    if buffer_mode > 1 || ds & 0x0f != 0 {
        return Err(CheckCondition::invalid_field_in_parameter_list(
            dev_specific_at as u16,
        ));
    }
    new.buffer_mode = buffer_mode;

    if bdl == BLOCK_DESCRIPTOR_LEN {
        let at = header_len as u16;
        let d = &list[header_len..header_len + BLOCK_DESCRIPTOR_LEN];
        let density_code = d[0];
        let number_of_blocks = u32::from_be_bytes([0, d[1], d[2], d[3]]);
        let block_length = u32::from_be_bytes([0, d[5], d[6], d[7]]);
        let density = drive_density(ctx.config).density_code;
        if density_code != 0 && density_code != DENSITY_NO_CHANGE && density_code != density {
            return Err(CheckCondition::invalid_field_in_parameter_list(at));
        }
        if number_of_blocks != 0 {
            return Err(CheckCondition::invalid_field_in_parameter_list(at + 1));
        }
        let too_large = usize::try_from(block_length).map_or(true, |l| l > ctx.config.max_transfer);
        if too_large {
            return Err(CheckCondition::invalid_field_in_parameter_list(at + 5));
        }
        new.block_size = block_length;
    }

    // Pages: compare with the current page; only DCE may differ.
    let mut offset = header_len + bdl;
    let sent_pages = select_pages(list, offset)
        .map_err(|at| CheckCondition::invalid_field_in_parameter_list(at as u16))?;
    for page in &sent_pages {
        let current = pages(ctx.settings, Pc::Current, page.code, page.subpage)
            .and_then(|mut v| v.pop())
            .filter(|_| page.code != 0 && page.code != PAGE_ALL)
            .ok_or_else(|| CheckCondition::invalid_field_in_parameter_list(offset as u16))?;
        if current.bytes.len() != page.bytes.len() {
            return Err(CheckCondition::invalid_field_in_parameter_list(
                offset as u16 + 1,
            ));
        }
        for (i, (sent, cur)) in page.bytes.iter().zip(&current.bytes).enumerate() {
            // Byte 0: PS is ignored in MODE SELECT. Page 0x0F byte 2 bit 7: DCE.
            let mask = match (page.code, page.subpage, i) {
                (_, _, 0) => 0x7f,
                (PAGE_DATA_COMPRESSION, 0, 2) => 0x7f,
                // Select data compression algorithm follows DCE.
                (PAGE_DEVICE_CONFIGURATION, 0, 14) => 0xfe,
                _ => 0xff,
            };
            if (sent ^ cur) & mask != 0 {
                return Err(CheckCondition::invalid_field_in_parameter_list(
                    (offset + i) as u16,
                ));
            }
        }
        // Page 0x0F byte 2 bit 7: DCE.
        if page.code == PAGE_DATA_COMPRESSION {
            new.compression = page.bytes[2] & 0x80 != 0;
        }
        // Page 0x10 byte 14: SELECT DATA COMPRESSION ALGORITHM.
        if page.code == PAGE_DEVICE_CONFIGURATION && page.subpage == 0 {
            let select = page.bytes[14] & 1 != 0;
            if select != ctx.settings.compression {
                new.compression = select;
            }
        }
        offset += page.bytes.len();
    }
    if new != *ctx.settings {
        *ctx.settings = new;
        ctx.settings_changed = true;
    }
    Ok(crate::emulator::cdb::no_data())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_illegal, Fixture};
    use crate::drive::mode_pages::{
        decode_mode_data, mode_settings, ModeData, PAGE_DATA_COMPRESSION,
    };
    use crate::scsi::DataDirection;

    fn sense10(page: u8, subpage: u8, pc: u8) -> [u8; 10] {
        [0x5a, 0, (pc << 6) | page, subpage, 0, 0, 0, 0x10, 0x00, 0]
    }

    fn current(f: &mut Fixture, page: u8) -> ModeData {
        decode_mode_data(&f.read(&sense10(page, 0, 0), 4096).unwrap(), true).unwrap()
    }

    fn select10(data: &ModeData) -> ([u8; 10], Vec<u8>) {
        let bytes = data.encode10(true);
        let [hi, lo] = (bytes.len() as u16).to_be_bytes();
        ([0x55, 0x10, 0, 0, 0, 0, 0, hi, lo, 0], bytes)
    }

    /// The bytes themselves, from SPC-5 7.5.6 (header(10)), SSC-5 8.3.1
    /// (block descriptor) and 8.3.2 (data compression page).
    #[test]
    fn sense_bytes_literal() {
        let mut f = Fixture::new();
        let got = f.read(&sense10(0x0f, 0, 0), 4096).unwrap();
        #[rustfmt::skip]
        let want = vec![
            0x00, 0x1e, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08, // 30 bytes follow, buffered mode 1, BDL 8
            0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // LTO-9 density, variable blocks
            0x0f, 0x0e, 0xc0, 0x80, 0x00, 0x00, 0x00, 0x01, // DCE|DCC, DDE, algorithm 1
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(got, want);
        // MODE SENSE(6), DBD, device configuration page: header(6), page 0x10.
        let six = f.read(&[0x1a, 0x08, 0x10, 0, 255, 0], 255).unwrap();
        #[rustfmt::skip]
        let want6 = vec![
            0x13, 0x00, 0x10, 0x00, // 19 bytes follow, no block descriptor
            0x10, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // active format/partition 0
            0x40, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, // LOIS, SEW, compression selected
        ];
        assert_eq!(six, want6);
        // The extension subpage: SPF set, subpage 1, 2-byte length 1Ch.
        let ext = f.read(&sense10(0x10, 0x01, 0), 4096).unwrap();
        assert_eq!(ext.len(), 8 + 8 + 32);
        assert_eq!(&ext[16..20], &[0x50, 0x01, 0x00, 0x1c]);
    }

    #[test]
    fn sense_round_trip() {
        let mut f = Fixture::new();
        f.cartridge.write_protected = true;
        let md = current(&mut f, 0x3f);
        let s = mode_settings(&md).unwrap();
        assert!(s.write_protected);
        assert_eq!(s.buffer_mode, 1);
        assert_eq!(s.density_code, 0x60);
        assert_eq!(s.block_length, 0);
        assert!(s.compression.unwrap().enabled);
        assert_eq!(s.active_partition, Some(0));
        assert_eq!(md.pages.len(), 2);
        let all = decode_mode_data(&f.read(&sense10(0x3f, 0xff, 0), 4096).unwrap(), true).unwrap();
        assert_eq!(all.pages.len(), 3);
        assert_eq!(
            mode_settings(&all).unwrap().programmable_early_warning_mib,
            Some(0)
        );
        // MODE SENSE(6) with DBD: no block descriptor.
        let six = f.read(&[0x1a, 0x08, 0x0f, 0, 255, 0], 255).unwrap();
        let md6 = decode_mode_data(&six, false).unwrap();
        assert!(md6.block_descriptor.is_none());
        assert_eq!(md6.pages[0].code, PAGE_DATA_COMPRESSION);
    }

    #[test]
    fn allocation_length_truncates() {
        let mut f = Fixture::new();
        let mut cdb = sense10(0x0f, 0, 0);
        cdb[7] = 0;
        cdb[8] = 10;
        assert_eq!(f.read(&cdb, 4096).unwrap().len(), 10);
        let six = f.read(&[0x1a, 0, 0x0f, 0, 4, 0], 255).unwrap();
        assert_eq!(six, vec![27, 0, 0x10, 8]);
    }

    #[test]
    fn page_controls() {
        let mut f = Fixture::new();
        f.settings.block_size = 65536;
        let ch = decode_mode_data(&f.read(&sense10(0x0f, 0, 1), 4096).unwrap(), true).unwrap();
        assert_eq!(ch.block_descriptor.unwrap().block_length, 0xff_ffff);
        assert_eq!(ch.device_specific, 0x70);
        assert_eq!(ch.pages[0].bytes[2], 0x80, "only DCE changeable");
        let def = decode_mode_data(&f.read(&sense10(0x0f, 0, 2), 4096).unwrap(), true).unwrap();
        assert_eq!(def.block_descriptor.unwrap().block_length, 0);
        let saved = decode_mode_data(&f.read(&sense10(0x0f, 0, 3), 4096).unwrap(), true).unwrap();
        assert_eq!(saved.block_descriptor.unwrap().block_length, 65536);
    }

    #[test]
    fn select_changes_settings() {
        let mut f = Fixture::new();
        let mut md = current(&mut f, 0x0f);
        md.block_descriptor.as_mut().unwrap().block_length = 262144;
        md.pages[0].bytes[2] &= !0x80;
        md.device_specific = 0;
        let (cdb, bytes) = select10(&md);
        let (res, changed, _) = f.run(&cdb, DataDirection::ToDevice(&bytes));
        res.unwrap();
        assert!(changed);
        assert_eq!(f.settings.block_size, 262144);
        assert!(!f.settings.compression);
        assert_eq!(f.settings.buffer_mode, 0);
        let s = mode_settings(&current(&mut f, 0x0f)).unwrap();
        assert_eq!((s.block_length, s.buffer_mode), (262144, 0));
        assert!(!s.compression.unwrap().enabled);
        // MODE SELECT(6) back to variable block.
        let mut md6 = md.clone();
        md6.pages.clear();
        md6.block_descriptor.as_mut().unwrap().block_length = 0;
        let bytes = md6.encode6(true);
        f.write(&[0x15, 0x10, 0, 0, bytes.len() as u8, 0], &bytes)
            .unwrap();
        assert_eq!(f.settings.block_size, 0);
    }

    #[test]
    fn select_rejects_unchangeable_fields() {
        let mut f = Fixture::new();
        let md = current(&mut f, 0x0f);
        // Compression algorithm (page byte 4..8) is not changeable.
        let mut bad = md.clone();
        bad.pages[0].bytes[7] = 0x10;
        let (cdb, bytes) = select10(&bad);
        let e = f.write(&cdb, &bytes).unwrap_err();
        assert_illegal(&e, 0x26, Some(8 + 8 + 7));
        // Density not supported.
        let mut bad = md.clone();
        bad.block_descriptor.as_mut().unwrap().density_code = 0x40;
        let (cdb, bytes) = select10(&bad);
        assert_illegal(&f.write(&cdb, &bytes).unwrap_err(), 0x26, Some(8));
        // Block larger than the path allows.
        let mut bad = md.clone();
        bad.block_descriptor.as_mut().unwrap().block_length = 0x80_0000;
        let (cdb, bytes) = select10(&bad);
        assert_illegal(&f.write(&cdb, &bytes).unwrap_err(), 0x26, Some(13));
        // Buffer mode 2.
        let mut bad = md.clone();
        bad.device_specific = 0x20;
        let (cdb, bytes) = select10(&bad);
        assert_illegal(&f.write(&cdb, &bytes).unwrap_err(), 0x26, Some(3));
        // Mode data length must be zero.
        let (cdb, mut bytes) = select10(&md);
        bytes[1] = 5;
        assert_illegal(&f.write(&cdb, &bytes).unwrap_err(), 0x26, Some(0));
        // Parameter list longer than the data sent.
        let (mut cdb, bytes) = select10(&md);
        cdb[8] += 4;
        assert_illegal(&f.write(&cdb, &bytes).unwrap_err(), 0x1a, None);
        assert_eq!(
            f.settings,
            crate::emulator::drive_state::DriveSettings::default()
        );
    }

    #[test]
    fn malformed_cdbs() {
        let mut f = Fixture::new();
        assert_illegal(
            &f.read(&sense10(0x1c, 0, 0), 100).unwrap_err(),
            0x24,
            Some(2),
        );
        assert_illegal(
            &f.read(&sense10(0x0f, 0x02, 0), 100).unwrap_err(),
            0x24,
            Some(3),
        );
        let mut cdb = sense10(0x0f, 0, 0);
        cdb[1] = 0x01;
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(1));
        cdb = sense10(0x0f, 0, 0);
        cdb[9] = 0x04;
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(9));
        assert_illegal(
            &f.read(&[0x5a, 0, 0x0f, 0, 0, 0, 0, 0x10, 0], 100)
                .unwrap_err(),
            0x24,
            Some(0),
        );
        assert_illegal(
            &f.write(&[0x15, 0x02, 0, 0, 0, 0], &[]).unwrap_err(),
            0x24,
            Some(1),
        );
    }
}
