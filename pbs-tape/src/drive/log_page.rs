//! SPC log pages (SPC-5 7.3.1): the page header and the parameter list that
//! the SSC information pages (TapeAlert, volume statistics, tape capacity)
//! are made of. Decoding follows the lengths the device states; a page cut
//! short by the allocation length yields the parameters that are complete.
//!
//! [`LogPageBuilder`] writes the same layout (test data of the decoders).
//! The emulator has its own encoder (`emulator::spc_wire`), so a misreading
//! of the layout cannot hide in code both sides share.

use zerocopy::byteorder::big_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::decode::{be_saturating, decode_error};
use super::info_io;
use super::DriveError;
use crate::scsi::opcodes::LOG_SENSE;
use crate::scsi::{spc, ScsiTransport};

pub use crate::spec::log::{
    CONTROL_ASCII_LIST, CONTROL_BINARY_LIST, CONTROL_COUNTER, PAGE_SUPPORTED_PAGES,
    PAGE_TAPE_ALERT, PAGE_TAPE_ALERT_RESPONSE, PAGE_TAPE_CAPACITY, PAGE_VOLUME_STATISTICS,
    PC_CUMULATIVE,
};

/// Log page header: the SPC layer's definition (SPC-5 7.3.2).
pub use crate::scsi::spc::LogPageHeaderWire as LogPageHeader;

/// Log parameter header (SPC-5 table 342).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct LogParameterHeader {
    pub code: U16,
    /// DU, TSD, ETC, TMC, FORMAT AND LINKING.
    pub control: u8,
    /// Bytes of the parameter value.
    pub length: u8,
}

/// One decoded log parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogParameter<'a> {
    pub code: u16,
    pub control: u8,
    pub value: &'a [u8],
}

/// A decoded log page: its code, subpage and complete parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage<'a> {
    pub page_code: u8,
    pub subpage: u8,
    pub parameters: Vec<LogParameter<'a>>,
    /// True when the page was cut short (buffer shorter than the stated
    /// page length, or a parameter running past the end).
    pub truncated: bool,
}

impl<'a> LogPage<'a> {
    /// The first parameter with this code.
    pub fn parameter(&self, code: u16) -> Option<&LogParameter<'a>> {
        self.parameters.iter().find(|p| p.code == code)
    }
}

/// Decode a log page and check it is page `expected` (page code bits 5..0).
pub fn parse_log_page<'a>(
    bytes: &'a [u8],
    expected: u8,
    what: &'static str,
) -> Result<LogPage<'a>, DriveError> {
    let (header, rest) = LogPageHeader::ref_from_prefix(bytes).map_err(|_| {
        decode_error(
            what,
            format!("log page is {} bytes, shorter than its header", bytes.len()),
        )
    })?;
    let page_code = header.page_code & 0x3f;
    if page_code != expected {
        return Err(decode_error(
            what,
            format!("expected log page {expected:#04x}, device returned page {page_code:#04x}"),
        ));
    }
    let stated = header.page_length.get() as usize;
    let mut truncated = stated > rest.len();
    let mut body = &rest[..stated.min(rest.len())];
    let mut parameters = Vec::new();
    while !body.is_empty() {
        let Ok((param, tail)) = LogParameterHeader::ref_from_prefix(body) else {
            truncated = true;
            break;
        };
        let len = param.length as usize;
        if len > tail.len() {
            truncated = true;
            break;
        }
        parameters.push(LogParameter {
            code: param.code.get(),
            control: param.control,
            value: &tail[..len],
        });
        body = &tail[len..];
    }
    Ok(LogPage {
        page_code,
        subpage: header.subpage_code,
        parameters,
        truncated,
    })
}

/// LOG SENSE of cumulative page `page` (subpage 0) through the SPC layer
/// (header first, then the whole page). `feature` names the page for
/// [`DriveError::NotSupported`].
pub fn read_log_page(
    t: &mut dyn ScsiTransport,
    device: &str,
    page: u8,
    feature: &str,
) -> Result<Vec<u8>, DriveError> {
    spc::log_sense(t, page, 0)
        .map_err(|e| DriveError::from_scsi("LOG SENSE", Some(feature), device, e))
}

/// Largest allocation length LOG SENSE can express, kept a multiple of 4.
const LOG_SENSE_ALLOC: u16 = 0xfffc;

/// LOG SENSE (opcode 0x4D, SPC-5 6.9) of cumulative page `page` in ONE
/// command with the largest allocation length. For pages that are cleared
/// when read (TapeAlert 0x2E, SSC-5 Annex A): a header-first read would
/// clear the flags before they were seen.
pub fn read_log_page_once(
    t: &mut dyn ScsiTransport,
    device: &str,
    page: u8,
    feature: &str,
) -> Result<Vec<u8>, DriveError> {
    let [alloc_hi, alloc_lo] = LOG_SENSE_ALLOC.to_be_bytes();
    let cdb = [
        LOG_SENSE,
        0,
        (PC_CUMULATIVE << 6) | (page & 0x3f),
        0,
        0,
        0,
        0,
        alloc_hi,
        alloc_lo,
        0,
    ];
    info_io::data_in(
        t,
        device,
        "LOG SENSE",
        feature,
        &cdb,
        usize::from(LOG_SENSE_ALLOC),
    )
}

/// Builds a log page in the SPC-5 layout.
#[derive(Debug, Clone)]
pub struct LogPageBuilder {
    bytes: Vec<u8>,
}

impl LogPageBuilder {
    /// Start page `page_code` (subpage 0).
    pub fn new(page_code: u8) -> Self {
        let header = LogPageHeader {
            page_code: page_code & 0x3f,
            subpage_code: 0,
            page_length: U16::new(0),
        };
        LogPageBuilder {
            bytes: header.as_bytes().to_vec(),
        }
    }

    /// Append one parameter (values longer than 255 bytes are cut to 255).
    pub fn parameter(&mut self, code: u16, control: u8, value: &[u8]) -> &mut Self {
        let value = &value[..value.len().min(255)];
        let header = LogParameterHeader {
            code: U16::new(code),
            control,
            length: value.len() as u8,
        };
        self.bytes.extend_from_slice(header.as_bytes());
        self.bytes.extend_from_slice(value);
        self
    }

    /// Append a counter parameter of `width` bytes (big endian, saturating).
    pub fn counter(&mut self, code: u16, width: usize, value: u64) -> &mut Self {
        self.parameter(code, CONTROL_COUNTER, &be_saturating(value, width))
    }

    /// The finished page, with the page length filled in.
    pub fn finish(&self) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        let len = (bytes.len() - 4).min(u16::MAX as usize) as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::decode::be_uint;

    #[test]
    fn builder_round_trip() {
        let page = LogPageBuilder::new(0x31)
            .counter(1, 4, 1234)
            .counter(3, 4, u64::MAX)
            .finish();
        assert_eq!(&page[..4], &[0x31, 0, 0, 16]);
        let parsed = parse_log_page(&page, 0x31, "test").unwrap();
        assert!(!parsed.truncated);
        assert_eq!(parsed.parameters.len(), 2);
        assert_eq!(be_uint(parsed.parameter(1).unwrap().value), Some(1234));
        assert_eq!(
            be_uint(parsed.parameter(3).unwrap().value),
            Some(u32::MAX as u64)
        );
    }

    #[test]
    fn truncated_and_wrong_pages() {
        let page = LogPageBuilder::new(0x31)
            .counter(1, 4, 1)
            .counter(2, 4, 2)
            .finish();
        for cut in 0..page.len() {
            match parse_log_page(&page[..cut], 0x31, "test") {
                Ok(p) => {
                    assert!(p.truncated);
                    assert!(p.parameters.len() < 2);
                }
                Err(_) => assert!(cut < 4),
            }
        }
        let err = parse_log_page(&page, 0x17, "test").unwrap_err();
        assert!(err.to_string().contains("0x17"), "{err}");
    }
}
