//! Mode parameters of a tape drive (SPC-5 7.5, SSC-5 8.3): the mode
//! parameter header (write protect, buffered mode), the block descriptor
//! (density code, block length), the data compression page 0x0F and the
//! device configuration page 0x10 (and its extension subpage 0x01).
//!
//! [`ModeData`] is decoded from MODE SENSE(10)/(6) data and encoded back
//! for MODE SELECT(10) (read-modify-write with the pages as the drive
//! returned them, PS bits cleared). The emulator encodes its MODE SENSE
//! answers with its own code (`emulator::ssc_info::mode`).

use serde::Serialize;
use zerocopy::byteorder::big_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::decode::{decode_error, with_device};
use super::DriveError;
use crate::scsi::{spc, ScsiTransport};

pub use crate::spec::mode::{
    DEVICE_SPECIFIC_BUFFER_MODE_MASK, DEVICE_SPECIFIC_BUFFER_MODE_SHIFT, DEVICE_SPECIFIC_WP,
    PAGE_ALL, PAGE_DATA_COMPRESSION, PAGE_DEVICE_CONFIGURATION,
    SUBPAGE_DEVICE_CONFIGURATION_EXTENSION,
};

/// Page control field of MODE SENSE (SPC-5 6.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageControl {
    Current = 0,
    Changeable = 1,
    Default = 2,
    Saved = 3,
}

/// Mode parameter header(10): the SPC layer's definition (SPC-5 7.5.6).
pub use crate::scsi::spc::ModeHeader10Wire as ModeHeader10;

/// Mode parameter header(6) (SPC-5 table 454).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ModeHeader6 {
    pub mode_data_length: u8,
    pub medium_type: u8,
    pub device_specific: u8,
    pub block_descriptor_length: u8,
}

/// Short block descriptor for sequential-access devices (SSC-5 8.3.1).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BlockDescriptorWire {
    pub density_code: u8,
    pub number_of_blocks: [u8; 3],
    pub reserved: u8,
    pub block_length: [u8; 3],
}

/// Data compression page 0x0F (SSC-5 table 218), 16 bytes.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct CompressionPage {
    /// PS (bit 7), SPF (bit 6), page code.
    pub page_code: u8,
    /// 0x0E.
    pub page_length: u8,
    /// DCE (bit 7), DCC (bit 6).
    pub dce_dcc: u8,
    /// DDE (bit 7), RED (bits 6..5).
    pub dde_red: u8,
    pub compression_algorithm: U32,
    pub decompression_algorithm: U32,
    pub reserved: [u8; 4],
}

/// Device configuration page 0x10 (SSC-5 table 220), 16 bytes.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DeviceConfigurationPage {
    pub page_code: u8,
    /// 0x0E.
    pub page_length: u8,
    /// Obsolete CAP/CAF, ACTIVE FORMAT (bits 4..0).
    pub active_format: u8,
    pub active_partition: u8,
    pub write_object_buffer_full_ratio: u8,
    pub read_object_buffer_empty_ratio: u8,
    /// 100 ms units.
    pub write_delay_time: U16,
    /// OBR, LOIS, RSMK, AVC, SOCF, ROBO, REW.
    pub flags1: u8,
    pub gap_size: u8,
    /// EOD DEFINED (7..5), EEG (4), SEW (3), SWP (2), BAML (1), BAM (0).
    pub flags2: u8,
    pub buffer_size_at_early_warning: [u8; 3],
    pub select_data_compression_algorithm: u8,
    /// WTRE, OIR, REWIND ON RESET, ASOCWP, PERSWP, PRMWP.
    pub flags3: u8,
}

/// Device configuration extension subpage 0x10/0x01 (SSC-5 table 222), 32 bytes.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DeviceConfigurationExtension {
    /// PS, SPF (set), page code 0x10.
    pub page_code: u8,
    pub subpage_code: u8,
    /// 0x001C.
    pub page_length: U16,
    /// TARPF, TASER, TARPT, TAPLSD.
    pub tape_alert_flags: u8,
    /// WRITE MODE (7..4), SHORT ERASE MODE (3..0).
    pub modes: u8,
    /// Programmable early warning size, MiB.
    pub pews: U16,
    /// VCELBRE (bit 0).
    pub vcelbre: u8,
    pub reserved: [u8; 23],
}

/// One mode page as the drive returned it (header included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModePage {
    pub code: u8,
    pub subpage: u8,
    pub bytes: Vec<u8>,
}

/// Decoded mode parameter data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeData {
    pub medium_type: u8,
    pub device_specific: u8,
    /// The (first) block descriptor: density code, number of blocks, block length.
    pub block_descriptor: Option<BlockDescriptor>,
    pub pages: Vec<ModePage>,
}

/// Values of a short block descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlockDescriptor {
    pub density_code: u8,
    pub number_of_blocks: u32,
    /// 0 = variable-block mode.
    pub block_length: u32,
}

impl BlockDescriptor {
    pub fn to_wire(self) -> BlockDescriptorWire {
        let n = self.number_of_blocks.min(0xff_ffff).to_be_bytes();
        let l = self.block_length.min(0xff_ffff).to_be_bytes();
        BlockDescriptorWire {
            density_code: self.density_code,
            number_of_blocks: [n[1], n[2], n[3]],
            reserved: 0,
            block_length: [l[1], l[2], l[3]],
        }
    }

    pub fn from_wire(w: &BlockDescriptorWire) -> Self {
        let [a, b, c] = w.number_of_blocks;
        let [d, e, f] = w.block_length;
        BlockDescriptor {
            density_code: w.density_code,
            number_of_blocks: u32::from_be_bytes([0, a, b, c]),
            block_length: u32::from_be_bytes([0, d, e, f]),
        }
    }
}

impl ModeData {
    /// The page with this code and subpage.
    pub fn page(&self, code: u8, subpage: u8) -> Option<&ModePage> {
        self.pages
            .iter()
            .find(|p| p.code == code && p.subpage == subpage)
    }

    fn page_mut(&mut self, code: u8, subpage: u8) -> Option<&mut ModePage> {
        self.pages
            .iter_mut()
            .find(|p| p.code == code && p.subpage == subpage)
    }

    pub fn write_protected(&self) -> bool {
        self.device_specific & DEVICE_SPECIFIC_WP != 0
    }

    pub fn buffer_mode(&self) -> u8 {
        (self.device_specific & DEVICE_SPECIFIC_BUFFER_MODE_MASK)
            >> DEVICE_SPECIFIC_BUFFER_MODE_SHIFT
    }

    /// Encode with a 10-byte header. `for_select`: mode data length 0, WP
    /// cleared, PS bits cleared (MODE SELECT rules, SPC-5 7.5.5).
    pub fn encode10(&self, for_select: bool) -> Vec<u8> {
        let body = self.encode_body(for_select);
        let bdl = if self.block_descriptor.is_some() {
            8
        } else {
            0
        };
        let header = ModeHeader10 {
            mode_data_length: U16::new(if for_select {
                0
            } else {
                (6 + body.len()).min(usize::from(u16::MAX)) as u16
            }),
            medium_type: if for_select { 0 } else { self.medium_type },
            device_specific: self.device_specific_for(for_select),
            long_lba: 0,
            reserved: 0,
            block_descriptor_length: U16::new(bdl),
        };
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    /// Encode with a 4-byte header (MODE SENSE(6) / MODE SELECT(6)).
    pub fn encode6(&self, for_select: bool) -> Vec<u8> {
        let body = self.encode_body(for_select);
        let header = ModeHeader6 {
            mode_data_length: if for_select {
                0
            } else {
                (3 + body.len()).min(255) as u8
            },
            medium_type: if for_select { 0 } else { self.medium_type },
            device_specific: self.device_specific_for(for_select),
            block_descriptor_length: if self.block_descriptor.is_some() {
                8
            } else {
                0
            },
        };
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    fn device_specific_for(&self, for_select: bool) -> u8 {
        if for_select {
            self.device_specific & !DEVICE_SPECIFIC_WP
        } else {
            self.device_specific
        }
    }

    fn encode_body(&self, for_select: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(bd) = self.block_descriptor {
            out.extend_from_slice(bd.to_wire().as_bytes());
        }
        for p in &self.pages {
            let start = out.len();
            out.extend_from_slice(&p.bytes);
            if for_select {
                out[start] &= 0x7f;
            }
        }
        out
    }
}

/// Decode mode parameter data with a 10-byte (`ten`) or 4-byte header.
/// Pages are walked by their stated lengths; a page cut off by the
/// allocation length ends the list.
pub fn decode_mode_data(bytes: &[u8], ten: bool) -> Result<ModeData, DriveError> {
    let what = "mode parameter data";
    let (medium_type, device_specific, bdl, total, rest) = if ten {
        let (h, rest) = ModeHeader10::ref_from_prefix(bytes).map_err(|_| {
            decode_error(
                what,
                format!("{} bytes, shorter than the 8-byte header", bytes.len()),
            )
        })?;
        (
            h.medium_type,
            h.device_specific,
            usize::from(h.block_descriptor_length.get()),
            usize::from(h.mode_data_length.get()).saturating_sub(6),
            rest,
        )
    } else {
        let (h, rest) = ModeHeader6::ref_from_prefix(bytes).map_err(|_| {
            decode_error(
                what,
                format!("{} bytes, shorter than the 4-byte header", bytes.len()),
            )
        })?;
        (
            h.medium_type,
            h.device_specific,
            usize::from(h.block_descriptor_length),
            usize::from(h.mode_data_length).saturating_sub(3),
            rest,
        )
    };
    let body = &rest[..total.min(rest.len())];
    let block_descriptor = if bdl >= 8 {
        match BlockDescriptorWire::ref_from_prefix(body) {
            Ok((w, _)) => Some(BlockDescriptor::from_wire(w)),
            Err(_) => None,
        }
    } else {
        None
    };
    let mut pages_bytes = body.get(bdl..).unwrap_or(&[]);
    let mut pages = Vec::new();
    while pages_bytes.len() >= 2 {
        let spf = pages_bytes[0] & 0x40 != 0;
        let (subpage, len) = if spf {
            if pages_bytes.len() < 4 {
                break;
            }
            (
                pages_bytes[1],
                4 + usize::from(u16::from_be_bytes([pages_bytes[2], pages_bytes[3]])),
            )
        } else {
            (0, 2 + usize::from(pages_bytes[1]))
        };
        let Some(page) = pages_bytes.get(..len) else {
            break;
        };
        pages.push(ModePage {
            code: pages_bytes[0] & 0x3f,
            subpage,
            bytes: page.to_vec(),
        });
        pages_bytes = &pages_bytes[len..];
    }
    Ok(ModeData {
        medium_type,
        device_specific,
        block_descriptor,
        pages,
    })
}

/// Data compression settings from page 0x0F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompressionSettings {
    /// Data compression enabled (DCE).
    pub enabled: bool,
    /// The drive can compress (DCC).
    pub capable: bool,
    /// Decompression enabled (DDE).
    pub decompression: bool,
    pub algorithm: u32,
}

/// Decode a data compression page (as returned, header included).
pub fn decode_compression_page(page: &[u8]) -> Result<CompressionSettings, DriveError> {
    let (p, _) = CompressionPage::ref_from_prefix(page).map_err(|_| {
        decode_error(
            "data compression mode page 0x0F",
            format!("{} bytes, expected 16", page.len()),
        )
    })?;
    Ok(CompressionSettings {
        enabled: p.dce_dcc & 0x80 != 0,
        capable: p.dce_dcc & 0x40 != 0,
        decompression: p.dde_red & 0x80 != 0,
        algorithm: p.compression_algorithm.get(),
    })
}

/// What `pmt status` / `pmt options` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeSettings {
    pub write_protected: bool,
    pub buffer_mode: u8,
    pub medium_type: u8,
    pub density_code: u8,
    /// 0 = variable-block mode.
    pub block_length: u32,
    pub compression: Option<CompressionSettings>,
    /// Active partition from page 0x10, if the drive has it.
    pub active_partition: Option<u8>,
    /// Programmable early warning size in MiB (page 0x10/0x01), if reported.
    pub programmable_early_warning_mib: Option<u16>,
}

/// Collect [`ModeSettings`] from decoded mode data.
pub fn mode_settings(data: &ModeData) -> Result<ModeSettings, DriveError> {
    let bd = data.block_descriptor.ok_or_else(|| {
        decode_error(
            "mode parameter data",
            "the drive returned no block descriptor",
        )
    })?;
    let compression = match data.page(PAGE_DATA_COMPRESSION, 0) {
        Some(p) => Some(decode_compression_page(&p.bytes)?),
        None => None,
    };
    let active_partition = data
        .page(PAGE_DEVICE_CONFIGURATION, 0)
        .and_then(|p| DeviceConfigurationPage::ref_from_prefix(&p.bytes).ok())
        .map(|(p, _)| p.active_partition);
    let programmable_early_warning_mib = data
        .page(
            PAGE_DEVICE_CONFIGURATION,
            SUBPAGE_DEVICE_CONFIGURATION_EXTENSION,
        )
        .and_then(|p| DeviceConfigurationExtension::ref_from_prefix(&p.bytes).ok())
        .map(|(p, _)| p.pews.get());
    Ok(ModeSettings {
        write_protected: data.write_protected(),
        buffer_mode: data.buffer_mode(),
        medium_type: data.medium_type,
        density_code: bd.density_code,
        block_length: bd.block_length,
        compression,
        active_partition,
        programmable_early_warning_mib,
    })
}

/// MODE SENSE(10) (opcode 0x5A, SPC-5 6.16) through the SPC layer:
/// current values of `page` (`subpage`), with block descriptor (DBD=0).
pub fn mode_sense10(
    t: &mut dyn ScsiTransport,
    device: &str,
    page: u8,
    subpage: u8,
) -> Result<ModeData, DriveError> {
    let feature = format!("mode page {page:#04x}/{subpage:#04x}");
    let bytes = spc::mode_sense10(t, page, subpage, false)
        .map_err(|e| DriveError::from_scsi("MODE SENSE(10)", Some(&feature), device, e))?;
    decode_mode_data(&bytes, true).map_err(|e| with_device(e, device))
}

/// MODE SELECT(10) (opcode 0x55, SPC-5 6.14) with PF=1, SP=0 through the
/// SPC layer, with `data` encoded for MODE SELECT. A device without MODE
/// SELECT(10) (ILLEGAL REQUEST, invalid command operation code 05/20/00:
/// tgt's SSC emulation and older drives; Linux st only uses the 6-byte
/// form) gets the same data through MODE SELECT(6).
pub fn mode_select10(
    t: &mut dyn ScsiTransport,
    device: &str,
    data: &ModeData,
) -> Result<(), DriveError> {
    match spc::mode_select10(t, &data.encode10(true), false) {
        Ok(()) => Ok(()),
        Err(e) if is_invalid_opcode(&e) => mode_select6(t, device, data),
        Err(e) => Err(DriveError::from_scsi(
            "MODE SELECT(10)",
            Some("MODE SELECT(10)"),
            device,
            e,
        )),
    }
}

/// ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (05/20/00).
fn is_invalid_opcode(e: &crate::scsi::ScsiError) -> bool {
    e.sense().is_some_and(|s| {
        s.key == crate::scsi::SenseKey::IllegalRequest && s.asc == 0x20 && s.ascq == 0x00
    })
}

/// MODE SELECT(6) (opcode 0x15, SPC-5 6.13) with PF=1, SP=0: `data` with
/// the 4-byte header; the parameter list length is one byte (at most 255).
fn mode_select6(
    t: &mut dyn ScsiTransport,
    device: &str,
    data: &ModeData,
) -> Result<(), DriveError> {
    let bytes = data.encode6(true);
    let len = u8::try_from(bytes.len()).map_err(|_| {
        DriveError::InvalidArgument(format!(
            "mode parameter list of {} bytes does not fit MODE SELECT(6)",
            bytes.len()
        ))
    })?;
    let cdb = [crate::scsi::opcodes::MODE_SELECT_6, 0x10, 0, 0, len, 0];
    t.execute(
        &cdb,
        crate::scsi::DataDirection::ToDevice(&bytes),
        crate::scsi::timeouts::timeout_for(&cdb),
    )
    .map(|_| ())
    .map_err(|e| DriveError::from_scsi("MODE SELECT(6)", Some("MODE SELECT(6)"), device, e))
}

/// Read header, block descriptor, compression page and device
/// configuration page (the latter two when the drive has them).
pub fn read_mode_settings(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<ModeSettings, DriveError> {
    let mut data = match mode_sense10(t, device, PAGE_DATA_COMPRESSION, 0) {
        Err(DriveError::NotSupported { .. }) => mode_sense10(t, device, 0, 0)?,
        other => other?,
    };
    for subpage in [0, SUBPAGE_DEVICE_CONFIGURATION_EXTENSION] {
        match mode_sense10(t, device, PAGE_DEVICE_CONFIGURATION, subpage) {
            Ok(more) => data.pages.extend(more.pages),
            Err(DriveError::NotSupported { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    mode_settings(&data).map_err(|e| with_device(e, device))
}

/// Mode parameter header and block descriptor, without pages: MODE SENSE
/// page 0x00 (no page), or page 0x0F with the page dropped on drives that
/// refuse page 0x00.
fn header_and_block_descriptor(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<ModeData, DriveError> {
    let mut data = match mode_sense10(t, device, 0, 0) {
        Err(DriveError::NotSupported { .. }) => mode_sense10(t, device, PAGE_DATA_COMPRESSION, 0)?,
        other => other?,
    };
    data.pages.clear();
    Ok(data)
}

/// Set the block length (0 = variable) in the block descriptor, keeping
/// the density code the drive reported.
pub fn set_block_size(
    t: &mut dyn ScsiTransport,
    device: &str,
    block_size: u32,
) -> Result<(), DriveError> {
    if block_size > 0xff_ffff {
        return Err(DriveError::InvalidArgument(format!(
            "block size {block_size} does not fit the 24-bit block length field"
        )));
    }
    let mut data = header_and_block_descriptor(t, device)?;
    let bd = data.block_descriptor.get_or_insert(BlockDescriptor {
        density_code: 0,
        number_of_blocks: 0,
        block_length: 0,
    });
    bd.block_length = block_size;
    bd.number_of_blocks = 0;
    mode_select10(t, device, &data)
}

/// Enable or disable data compression (DCE of page 0x0F).
pub fn set_compression(
    t: &mut dyn ScsiTransport,
    device: &str,
    enabled: bool,
) -> Result<(), DriveError> {
    let mut data = mode_sense10(t, device, PAGE_DATA_COMPRESSION, 0)?;
    data.pages
        .retain(|p| p.code == PAGE_DATA_COMPRESSION && p.subpage == 0);
    let page = data
        .page_mut(PAGE_DATA_COMPRESSION, 0)
        .ok_or_else(|| DriveError::Decode {
            what: "data compression mode page 0x0F",
            device: device.to_string(),
            message: "the drive did not return the page".into(),
        })?;
    if enabled && !decode_compression_page(&page.bytes)?.capable {
        return Err(DriveError::InvalidArgument(format!(
            "data compression cannot be enabled on {device}: the drive reports it cannot \
             compress (DCC=0 in mode page 0x0F)"
        )));
    }
    let byte = page.bytes.get_mut(2).ok_or_else(|| DriveError::Decode {
        what: "data compression mode page 0x0F",
        device: device.to_string(),
        message: "page too short".into(),
    })?;
    if enabled {
        *byte |= 0x80;
    } else {
        *byte &= !0x80;
    }
    mode_select10(t, device, &data)
}

/// Set the buffered mode of the header (0 unbuffered, 1 buffered, SSC-5
/// table 211).
pub fn set_buffer_mode(
    t: &mut dyn ScsiTransport,
    device: &str,
    buffer_mode: u8,
) -> Result<(), DriveError> {
    if buffer_mode > 7 {
        return Err(DriveError::InvalidArgument(format!(
            "buffer mode {buffer_mode} does not fit the 3-bit field"
        )));
    }
    let mut data = header_and_block_descriptor(t, device)?;
    data.device_specific = (data.device_specific & !DEVICE_SPECIFIC_BUFFER_MODE_MASK)
        | (buffer_mode << DEVICE_SPECIFIC_BUFFER_MODE_SHIFT);
    mode_select10(t, device, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-built MODE SENSE(10) data for page 0x0F as the IBM/HPE manuals
    /// lay it out: buffered mode, variable block, density LTO-8 (0x5E),
    /// compression enabled, PS set.
    const SAMPLE: [u8; 32] = [
        0x00, 0x1e, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08, // header
        0x5e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // block descriptor
        0x8f, 0x0e, 0xc0, 0x80, 0x00, 0x00, 0x00, 0x01, // page 0x0F, PS set
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn decodes_sample() {
        let data = decode_mode_data(&SAMPLE, true).unwrap();
        assert_eq!(data.buffer_mode(), 1);
        assert!(!data.write_protected());
        let s = mode_settings(&data).unwrap();
        assert_eq!(s.density_code, 0x5e);
        assert_eq!(s.block_length, 0);
        let c = s.compression.unwrap();
        assert!(c.enabled && c.capable && c.decompression);
        assert_eq!(c.algorithm, 1);
    }

    #[test]
    fn encode_for_select_clears_ps_wp_and_length() {
        let mut data = decode_mode_data(&SAMPLE, true).unwrap();
        data.device_specific |= DEVICE_SPECIFIC_WP;
        let sel = data.encode10(true);
        assert_eq!(&sel[..2], &[0, 0]);
        assert_eq!(sel[3], 0x10);
        assert_eq!(sel[16], 0x0f, "PS cleared");
        let sense = data.encode10(false);
        assert_eq!(&sense[..2], &[0x00, 0x1e]);
        assert_eq!(decode_mode_data(&sense, true).unwrap(), data);
        let six = data.encode6(false);
        assert_eq!(six[0], 27);
        assert_eq!(decode_mode_data(&six, false).unwrap(), data);
    }

    #[test]
    fn setters_read_modify_write() {
        use crate::drive::info_io::mock::Scripted;
        let mut t = Scripted::default()
            .on(&[0x5a, 0, 0x0f], Ok(SAMPLE.to_vec()))
            .on(&[0x5a, 0, 0x00], Ok(SAMPLE[..16].to_vec()))
            .on(&[0x55], Ok(Vec::new()));
        // SAMPLE[..16] states 0x1e bytes but only has the descriptor: fine.
        set_compression(&mut t, "st0", false).unwrap();
        let (cdb, sent) = t.sent.iter().find(|(c, _)| c[0] == 0x55).unwrap();
        assert_eq!(cdb[1], 0x10, "PF=1 SP=0");
        assert_eq!(&sent[..2], &[0, 0], "mode data length reserved");
        assert_eq!(sent[16], 0x0f, "PS cleared");
        assert_eq!(sent[18], 0x40, "DCE cleared, DCC kept");
        assert_eq!(sent.len(), 32);
        t.sent.clear();
        set_block_size(&mut t, "st0", 262144).unwrap();
        let (_, sent) = t.sent.iter().find(|(c, _)| c[0] == 0x55).unwrap();
        assert_eq!(sent.len(), 16, "header and block descriptor only");
        assert_eq!(sent[8], 0x5e, "density kept");
        assert_eq!(&sent[13..16], &[0x04, 0x00, 0x00]);
        t.sent.clear();
        set_buffer_mode(&mut t, "st0", 0).unwrap();
        let (_, sent) = t.sent.iter().find(|(c, _)| c[0] == 0x55).unwrap();
        assert_eq!(sent[3], 0x00);
        assert!(set_block_size(&mut t, "st0", 1 << 24).is_err());
        // A drive that refuses page 0x00: page 0x0F is read, its page dropped.
        let mut t = Scripted::default()
            .on(
                &[0x5a, 0, 0x00],
                Err(crate::scsi::SenseData::new(
                    crate::scsi::SenseKey::IllegalRequest,
                    0x24,
                    0,
                )),
            )
            .on(&[0x5a, 0, 0x0f], Ok(SAMPLE.to_vec()))
            .on(&[0x55], Ok(Vec::new()));
        set_block_size(&mut t, "st0", 512).unwrap();
        let (_, sent) = t.sent.iter().find(|(c, _)| c[0] == 0x55).unwrap();
        assert_eq!(sent.len(), 16);
        assert_eq!(&sent[13..16], &[0x00, 0x02, 0x00]);
    }

    #[test]
    fn subpage_and_truncation() {
        let ext = DeviceConfigurationExtension {
            page_code: 0x50,
            subpage_code: 0x01,
            page_length: U16::new(0x1c),
            tape_alert_flags: 0,
            modes: 0,
            pews: U16::new(7),
            vcelbre: 0,
            reserved: [0; 23],
        };
        let mut data = decode_mode_data(&SAMPLE, true).unwrap();
        data.pages.push(ModePage {
            code: 0x10,
            subpage: 1,
            bytes: ext.as_bytes().to_vec(),
        });
        let bytes = data.encode10(false);
        let back = decode_mode_data(&bytes, true).unwrap();
        assert_eq!(
            mode_settings(&back).unwrap().programmable_early_warning_mib,
            Some(7)
        );
        for cut in 0..bytes.len() {
            match decode_mode_data(&bytes[..cut], true) {
                Ok(d) => assert!(d.pages.len() < 2),
                Err(_) => assert!(cut < 8),
            }
        }
        assert!(decode_mode_data(&SAMPLE[..3], false).is_err());
    }
}
