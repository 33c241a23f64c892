//! Common SPC commands over any [`ScsiTransport`], shared by drive and
//! changer code: INQUIRY (standard data and VPD pages), TEST UNIT READY,
//! REQUEST SENSE, MODE SENSE/SELECT, LOG SENSE, REPORT LUNS.
//!
//! Variable-length answers (VPD pages, mode data, log pages, LUN lists)
//! are read in two steps: first the header, whose length field says how
//! much there is, then the whole thing. We never assume a size.

#![forbid(unsafe_code)]

use zerocopy::byteorder::big_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use serde::Serialize;

use super::opcodes::{
    INQUIRY, LOG_SENSE, MODE_SELECT_10, MODE_SENSE_10, MODE_SENSE_6, REPORT_LUNS, REQUEST_SENSE,
    TEST_UNIT_READY,
};
use super::sense::SenseData;
use super::timeouts::timeout_for;
use super::transport::{DataDirection, ScsiError, ScsiTransport};

/// VPD page: supported VPD pages (SPC-5 7.7.16).
pub const VPD_SUPPORTED_PAGES: u8 = 0x00;
/// VPD page: unit serial number (SPC-5 7.7.18).
pub const VPD_UNIT_SERIAL_NUMBER: u8 = 0x80;
/// VPD page: device identification (SPC-5 7.7.6).
pub const VPD_DEVICE_IDENTIFICATION: u8 = 0x83;
/// Log page: supported log pages (SPC-5 7.3.18).
pub const LOG_SUPPORTED_PAGES: u8 = 0x00;

/// Largest allocation length of the 16-bit length fields.
const MAX_ALLOC16: usize = 0xffff;
/// Allocation length of standard INQUIRY (36 mandatory bytes plus vendor data).
const STANDARD_INQUIRY_ALLOC: usize = 96;
/// Sense buffer size asked for by REQUEST SENSE (SPC-5: up to 252 bytes).
const REQUEST_SENSE_ALLOC: usize = 252;

/// The mandatory 36 bytes of standard INQUIRY data (SPC-5 6.7.2).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct StandardInquiryWire {
    /// Peripheral qualifier (bits 7-5), peripheral device type (4-0).
    pub peripheral: u8,
    /// RMB (bit 7): removable medium.
    pub rmb: u8,
    pub version: u8,
    /// NORMACA, HISUP, response data format (bits 3-0).
    pub response_format: u8,
    pub additional_length: u8,
    pub flags5: u8,
    pub flags6: u8,
    pub flags7: u8,
    pub vendor: [u8; 8],
    pub product: [u8; 16],
    pub revision: [u8; 4],
}

/// Header of a VPD page (SPC-5 7.7.1).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VpdHeaderWire {
    pub peripheral: u8,
    pub page_code: u8,
    pub page_length: U16,
}

/// Header of a designation descriptor in VPD page 0x83 (SPC-5 7.7.6.1).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DesignationDescriptorWire {
    /// Protocol identifier (bits 7-4), code set (3-0).
    pub protocol_code_set: u8,
    /// PIV (bit 7), association (5-4), designator type (3-0).
    pub piv_association_type: u8,
    pub reserved: u8,
    pub designator_length: u8,
}

/// Header of a log page (SPC-5 7.3.2).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct LogPageHeaderWire {
    /// DS, SPF (bits 7-6), page code (5-0).
    pub page_code: u8,
    pub subpage_code: u8,
    pub page_length: U16,
}

/// Mode parameter header of MODE SENSE(10) (SPC-5 7.5.6).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ModeHeader10Wire {
    pub mode_data_length: U16,
    pub medium_type: u8,
    pub device_specific: u8,
    pub long_lba: u8,
    pub reserved: u8,
    pub block_descriptor_length: U16,
}

/// Header of REPORT LUNS parameter data (SPC-5 6.33).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ReportLunsHeaderWire {
    pub lun_list_length: U32,
    pub reserved: U32,
}

/// Decoded standard INQUIRY data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InquiryData {
    /// Peripheral qualifier (0 = device connected).
    pub peripheral_qualifier: u8,
    /// Peripheral device type (1 = tape, 8 = medium changer).
    pub peripheral_type: u8,
    pub removable: bool,
    /// SPC version claimed (e.g. 6 = SPC-4, 7 = SPC-5).
    pub version: u8,
    pub vendor: String,
    pub product: String,
    pub revision: String,
}

/// Association of a designator (SPC-5 table 587).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Association {
    LogicalUnit,
    TargetPort,
    TargetDevice,
    Reserved,
}

/// One designator from VPD page 0x83.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Designator {
    /// Code set: 1 binary, 2 ASCII, 3 UTF-8.
    pub code_set: u8,
    /// Protocol identifier, when PIV is set (and the association is a port or device).
    pub protocol: Option<u8>,
    pub association: Association,
    /// Designator type: 0 vendor specific, 1 T10 vendor ID, 2 EUI-64, 3 NAA,
    /// 4 relative target port, 5 target port group, 6 logical unit group,
    /// 7 MD5 logical unit, 8 SCSI name string, 9 protocol specific port.
    pub designator_type: u8,
    pub value: Vec<u8>,
}

impl Designator {
    /// Name of the designator type.
    pub fn type_name(&self) -> &'static str {
        match self.designator_type {
            0 => "vendor specific",
            1 => "T10 vendor ID",
            2 => "EUI-64",
            3 => "NAA",
            4 => "relative target port",
            5 => "target port group",
            6 => "logical unit group",
            7 => "MD5 logical unit identifier",
            8 => "SCSI name string",
            9 => "protocol specific port identifier",
            _ => "reserved",
        }
    }

    /// The value as text: ASCII/UTF-8 designators trimmed, binary ones as
    /// lower-case hex (NAA prefixed with `naa.`, EUI-64 with `eui.`).
    pub fn to_text(&self) -> String {
        match self.code_set {
            2 | 3 => String::from_utf8_lossy(&self.value)
                .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_string(),
            _ => {
                let hex: String = self.value.iter().map(|b| format!("{b:02x}")).collect();
                match self.designator_type {
                    2 => format!("eui.{hex}"),
                    3 => format!("naa.{hex}"),
                    _ => hex,
                }
            }
        }
    }
}

fn invalid(command: &'static str, message: impl Into<String>) -> ScsiError {
    ScsiError::InvalidResponse {
        command,
        message: message.into(),
    }
}

/// Fixed-width ASCII field with trailing (and leading) spaces and NULs removed.
fn ascii_field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_string()
}

/// Issue a data-in command with an `alloc`-byte buffer; returns the bytes received.
fn data_in(t: &mut dyn ScsiTransport, cdb: &[u8], alloc: usize) -> Result<Vec<u8>, ScsiError> {
    let mut buf = vec![0u8; alloc];
    let done = t.execute(cdb, DataDirection::FromDevice(&mut buf), timeout_for(cdb))?;
    buf.truncate(done.transferred.min(alloc));
    Ok(buf)
}

/// Read a variable-length answer: first `first_alloc` bytes (at least
/// the `header_len`-byte header), then, if the header announces more
/// (`total_len(header)`, capped at 0xFFFF and the transport's limit), the
/// whole answer. Returns the bytes the device sent, cut to the announced length.
fn read_sized(
    t: &mut dyn ScsiTransport,
    command: &'static str,
    cdb_for: impl Fn(u16) -> Vec<u8>,
    header_len: usize,
    first_alloc: usize,
    total_len: impl Fn(&[u8]) -> usize,
) -> Result<Vec<u8>, ScsiError> {
    let mut data = data_in(t, &cdb_for(first_alloc as u16), first_alloc)?;
    if data.len() < header_len {
        return Err(invalid(
            command,
            format!("{} bytes, header needs {header_len}", data.len()),
        ));
    }
    let limit = MAX_ALLOC16.min(t.max_transfer()).max(first_alloc);
    let want = total_len(&data).min(limit);
    if want > data.len() && data.len() == first_alloc {
        data = data_in(t, &cdb_for(want as u16), want)?;
        if data.len() < header_len {
            return Err(invalid(
                command,
                format!("{} bytes, header needs {header_len}", data.len()),
            ));
        }
    }
    let announced = total_len(&data);
    if announced < header_len {
        return Err(invalid(
            command,
            format!("announced length {announced} is shorter than the {header_len}-byte header"),
        ));
    }
    data.truncate(announced.min(data.len()));
    Ok(data)
}

/// TEST UNIT READY (opcode 00h, SPC-5 6.47): Ok when the device is ready;
/// otherwise the CHECK CONDITION says why (e.g. 2/3A/00 no medium).
pub fn test_unit_ready(t: &mut dyn ScsiTransport) -> Result<(), ScsiError> {
    let cdb = [TEST_UNIT_READY, 0, 0, 0, 0, 0];
    t.execute(&cdb, DataDirection::None, timeout_for(&cdb))?;
    Ok(())
}

/// REQUEST SENSE (opcode 03h, SPC-5 6.39), fixed format (DESC=0): the
/// sense data of the device's current state, e.g. a progress indication
/// while becoming ready.
pub fn request_sense(t: &mut dyn ScsiTransport) -> Result<SenseData, ScsiError> {
    let cdb = [REQUEST_SENSE, 0, 0, 0, REQUEST_SENSE_ALLOC as u8, 0];
    let data = data_in(t, &cdb, REQUEST_SENSE_ALLOC)?;
    SenseData::parse(&data).map_err(|e| invalid("REQUEST SENSE", e.to_string()))
}

/// INQUIRY (opcode 12h, SPC-5 6.7), standard data: device type, vendor,
/// product, revision, removable. Fields are space-padded ASCII on the wire.
pub fn inquiry(t: &mut dyn ScsiTransport) -> Result<InquiryData, ScsiError> {
    let cdb = [INQUIRY, 0, 0, 0, STANDARD_INQUIRY_ALLOC as u8, 0];
    let data = data_in(t, &cdb, STANDARD_INQUIRY_ALLOC)?;
    let (wire, _) = StandardInquiryWire::read_from_prefix(&data).map_err(|_| {
        invalid(
            "INQUIRY",
            format!("{} bytes, standard data needs 36", data.len()),
        )
    })?;
    Ok(InquiryData {
        peripheral_qualifier: wire.peripheral >> 5,
        peripheral_type: wire.peripheral & 0x1f,
        removable: wire.rmb & 0x80 != 0,
        version: wire.version,
        vendor: ascii_field(&wire.vendor),
        product: ascii_field(&wire.product),
        revision: ascii_field(&wire.revision),
    })
}

/// INQUIRY with EVPD=1 (opcode 12h, SPC-5 6.7 and 7.7): the whole VPD
/// page `page`, header included. The page length is read first.
pub fn vpd_page(t: &mut dyn ScsiTransport, page: u8) -> Result<Vec<u8>, ScsiError> {
    let data = read_sized(
        t,
        "INQUIRY (VPD)",
        |alloc| {
            let [hi, lo] = alloc.to_be_bytes();
            vec![INQUIRY, 0x01, page, hi, lo, 0]
        },
        4,
        4,
        |h| 4 + u16::from_be_bytes([h[2], h[3]]) as usize,
    )?;
    if data[1] != page {
        return Err(invalid(
            "INQUIRY (VPD)",
            format!("asked for page {page:#04x}, got {:#04x}", data[1]),
        ));
    }
    Ok(data)
}

/// Supported VPD pages (VPD page 00h, SPC-5 7.7.16).
pub fn supported_vpd_pages(t: &mut dyn ScsiTransport) -> Result<Vec<u8>, ScsiError> {
    Ok(vpd_page(t, VPD_SUPPORTED_PAGES)?[4..].to_vec())
}

/// Unit serial number (VPD page 80h, SPC-5 7.7.18), spaces and NULs trimmed.
pub fn unit_serial_number(t: &mut dyn ScsiTransport) -> Result<String, ScsiError> {
    let page = vpd_page(t, VPD_UNIT_SERIAL_NUMBER)?;
    Ok(ascii_field(&page[4..]))
}

/// Device identification (VPD page 83h, SPC-5 7.7.6): all designators.
pub fn device_identification(t: &mut dyn ScsiTransport) -> Result<Vec<Designator>, ScsiError> {
    let page = vpd_page(t, VPD_DEVICE_IDENTIFICATION)?;
    Ok(parse_designators(&page[4..]))
}

/// Decode the designation descriptor list of VPD page 83h (after the
/// 4-byte page header). A truncated last descriptor is dropped.
pub fn parse_designators(mut list: &[u8]) -> Vec<Designator> {
    let mut out = Vec::new();
    while let Ok((head, rest)) = DesignationDescriptorWire::read_from_prefix(list) {
        let len = head.designator_length as usize;
        let Some(value) = rest.get(..len) else { break };
        let association = match (head.piv_association_type >> 4) & 0x03 {
            0 => Association::LogicalUnit,
            1 => Association::TargetPort,
            2 => Association::TargetDevice,
            _ => Association::Reserved,
        };
        let piv = head.piv_association_type & 0x80 != 0;
        out.push(Designator {
            code_set: head.protocol_code_set & 0x0f,
            protocol: (piv && association != Association::LogicalUnit)
                .then_some(head.protocol_code_set >> 4),
            association,
            designator_type: head.piv_association_type & 0x0f,
            value: value.to_vec(),
        });
        list = &rest[len..];
    }
    out
}

/// MODE SENSE(6) (opcode 1Ah, SPC-5 6.15), current values of `page`/
/// `subpage`; `dbd` disables block descriptors. Returns header, block
/// descriptors and pages (at most 255 bytes: the 6-byte CDB's limit).
pub fn mode_sense6(
    t: &mut dyn ScsiTransport,
    page: u8,
    subpage: u8,
    dbd: bool,
) -> Result<Vec<u8>, ScsiError> {
    let cdb = [
        MODE_SENSE_6,
        if dbd { 0x08 } else { 0 },
        page & 0x3f,
        subpage,
        0xff,
        0,
    ];
    let mut data = data_in(t, &cdb, 0xff)?;
    let Some(&len) = data.first() else {
        return Err(invalid("MODE SENSE(6)", "no data"));
    };
    data.truncate(len as usize + 1);
    Ok(data)
}

/// MODE SENSE(10) (opcode 5Ah, SPC-5 6.16), current values of `page`/
/// `subpage`; `dbd` disables block descriptors. The mode data length is
/// read first; returns the 8-byte header, block descriptors and pages.
pub fn mode_sense10(
    t: &mut dyn ScsiTransport,
    page: u8,
    subpage: u8,
    dbd: bool,
) -> Result<Vec<u8>, ScsiError> {
    read_sized(
        t,
        "MODE SENSE(10)",
        |alloc| {
            let [hi, lo] = alloc.to_be_bytes();
            vec![
                MODE_SENSE_10,
                if dbd { 0x08 } else { 0 },
                page & 0x3f,
                subpage,
                0,
                0,
                0,
                hi,
                lo,
                0,
            ]
        },
        std::mem::size_of::<ModeHeader10Wire>(),
        std::mem::size_of::<ModeHeader10Wire>(),
        |h| 2 + u16::from_be_bytes([h[0], h[1]]) as usize,
    )
}

/// MODE SELECT(10) (opcode 55h, SPC-5 6.14) with PF=1: send `data`
/// (header, block descriptors, pages); `save` sets SP (save pages).
/// The mode data length field of the header must be zero (SPC-5 7.5.6).
pub fn mode_select10(t: &mut dyn ScsiTransport, data: &[u8], save: bool) -> Result<(), ScsiError> {
    if data.len() > MAX_ALLOC16 {
        return Err(ScsiError::TransferTooLarge {
            len: data.len(),
            max: MAX_ALLOC16,
        });
    }
    let [hi, lo] = (data.len() as u16).to_be_bytes();
    let cdb = [
        MODE_SELECT_10,
        0x10 | u8::from(save),
        0,
        0,
        0,
        0,
        0,
        hi,
        lo,
        0,
    ];
    t.execute(&cdb, DataDirection::ToDevice(data), timeout_for(&cdb))?;
    Ok(())
}

/// LOG SENSE (opcode 4Dh, SPC-5 6.9): the cumulative values (PC=01b) of
/// `page`/`subpage`, header included. The page length is read first.
pub fn log_sense(t: &mut dyn ScsiTransport, page: u8, subpage: u8) -> Result<Vec<u8>, ScsiError> {
    let data = read_sized(
        t,
        "LOG SENSE",
        |alloc| {
            let [hi, lo] = alloc.to_be_bytes();
            vec![
                LOG_SENSE,
                0,
                0x40 | (page & 0x3f),
                subpage,
                0,
                0,
                0,
                hi,
                lo,
                0,
            ]
        },
        std::mem::size_of::<LogPageHeaderWire>(),
        std::mem::size_of::<LogPageHeaderWire>(),
        |h| 4 + u16::from_be_bytes([h[2], h[3]]) as usize,
    )?;
    if data[0] & 0x3f != page & 0x3f {
        return Err(invalid(
            "LOG SENSE",
            format!("asked for page {page:#04x}, got {:#04x}", data[0] & 0x3f),
        ));
    }
    Ok(data)
}

/// The supported log pages (log page 00h, SPC-5 7.3.18).
pub fn supported_log_pages(t: &mut dyn ScsiTransport) -> Result<Vec<u8>, ScsiError> {
    Ok(log_sense(t, LOG_SUPPORTED_PAGES, 0)?[4..].to_vec())
}

/// REPORT LUNS (opcode A0h, SPC-5 6.33), SELECT REPORT 00h: the 8-byte
/// LUNs of the target. The list length is read first.
pub fn report_luns(t: &mut dyn ScsiTransport) -> Result<Vec<u64>, ScsiError> {
    let data = read_sized(
        t,
        "REPORT LUNS",
        |alloc| {
            let [b0, b1, b2, b3] = u32::from(alloc).to_be_bytes();
            vec![REPORT_LUNS, 0, 0, 0, 0, 0, b0, b1, b2, b3, 0, 0]
        },
        std::mem::size_of::<ReportLunsHeaderWire>(),
        // SPC-5 requires an allocation length of at least 16.
        16,
        // Saturating: 8 + u32::MAX would overflow a 32-bit usize.
        |h| (u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize).saturating_add(8),
    )?;
    Ok(data[8..]
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}
