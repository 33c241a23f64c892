//! Cartridge memory (MAM, medium auxiliary memory): READ ATTRIBUTE (opcode
//! 0x8C, SPC-5 6.21) and WRITE ATTRIBUTE (opcode 0x8D, SPC-5 6.53), with
//! the table of standard attributes (SPC-5 5.11: device type attributes
//! 0x0000-0x03FF, medium type 0x0400-0x07FF, host type 0x0800-0x0BFF).

use serde::Serialize;
use zerocopy::byteorder::big_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::decode::{ascii_field, be_uint, decode_error, space_padded, to_hex, with_device};
use super::info_io;
use super::DriveError;
use crate::scsi::opcodes::{READ_ATTRIBUTE, WRITE_ATTRIBUTE};
use crate::scsi::ScsiTransport;

use crate::spec::mam::format;
pub use crate::spec::mam::{
    id, SA_ATTRIBUTE_LIST, SA_ATTRIBUTE_VALUES, SA_PARTITION_LIST, SA_SUPPORTED_ATTRIBUTES,
    SA_VOLUME_LIST,
};

/// Attribute format (SPC-5 table 195).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MamFormat {
    Binary,
    Ascii,
    Text,
    Reserved,
}

impl MamFormat {
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0x03 {
            format::BINARY => MamFormat::Binary,
            format::ASCII => MamFormat::Ascii,
            format::TEXT => MamFormat::Text,
            _ => MamFormat::Reserved,
        }
    }

    pub fn bits(self) -> u8 {
        match self {
            MamFormat::Binary => format::BINARY,
            MamFormat::Ascii => format::ASCII,
            MamFormat::Text => format::TEXT,
            MamFormat::Reserved => 0b11,
        }
    }
}

/// How a value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MamKind {
    /// Binary number with a unit.
    Number(&'static str),
    /// ASCII/text string.
    Text,
    /// ASCII date YYYYMMDD or date-time YYYYMMDDHHMM.
    Date,
    /// Binary blob (shown as hex).
    Bytes,
}

/// One entry of the standard attribute table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    pub id: u16,
    pub name: &'static str,
    /// The device reports it read-only (device and medium type attributes).
    pub read_only: bool,
    pub format: MamFormat,
    /// Fixed length in bytes; `None` for variable length.
    pub length: Option<u16>,
    pub kind: MamKind,
}

const fn def(
    id: u16,
    name: &'static str,
    format: MamFormat,
    length: Option<u16>,
    kind: MamKind,
) -> AttributeDef {
    AttributeDef {
        id,
        name,
        read_only: id < 0x0800,
        format,
        length,
        kind,
    }
}

use MamFormat::{Ascii, Binary, Text};
use MamKind::{Bytes, Date, Number};

/// The standard attributes (SPC-5 tables 197, 199, 201).
pub static ATTRIBUTES: &[AttributeDef] = &[
    def(
        0x0000,
        "remaining_capacity_in_partition",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(
        0x0001,
        "maximum_capacity_in_partition",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(0x0002, "tapealert_flags", Binary, Some(8), Number("flags")),
    def(0x0003, "load_count", Binary, Some(8), Number("count")),
    def(
        0x0004,
        "mam_space_remaining",
        Binary,
        Some(8),
        Number("bytes"),
    ),
    def(
        0x0005,
        "assigning_organization",
        Ascii,
        Some(8),
        MamKind::Text,
    ),
    def(
        0x0006,
        "formatted_density_code",
        Binary,
        Some(1),
        Number("code"),
    ),
    def(
        0x0007,
        "initialization_count",
        Binary,
        Some(2),
        Number("count"),
    ),
    def(0x0008, "volume_identifier", Ascii, Some(32), MamKind::Text),
    def(
        0x0009,
        "volume_change_reference",
        Binary,
        None,
        Number("count"),
    ),
    def(
        0x020A,
        "device_at_last_load",
        Ascii,
        Some(40),
        MamKind::Text,
    ),
    def(
        0x020B,
        "device_at_load_minus_1",
        Ascii,
        Some(40),
        MamKind::Text,
    ),
    def(
        0x020C,
        "device_at_load_minus_2",
        Ascii,
        Some(40),
        MamKind::Text,
    ),
    def(
        0x020D,
        "device_at_load_minus_3",
        Ascii,
        Some(40),
        MamKind::Text,
    ),
    def(
        0x0220,
        "total_mib_written_in_medium_life",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(
        0x0221,
        "total_mib_read_in_medium_life",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(
        0x0222,
        "total_mib_written_in_current_load",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(
        0x0223,
        "total_mib_read_in_current_load",
        Binary,
        Some(8),
        Number("MiB"),
    ),
    def(
        0x0224,
        "logical_position_of_first_encrypted_block",
        Binary,
        Some(8),
        Number("block"),
    ),
    def(
        0x0225,
        "logical_position_of_first_unencrypted_block_after_first_encrypted_block",
        Binary,
        Some(8),
        Number("block"),
    ),
    def(0x0340, "medium_usage_history", Binary, Some(90), Bytes),
    def(0x0341, "partition_usage_history", Binary, Some(60), Bytes),
    def(0x0400, "medium_manufacturer", Ascii, Some(8), MamKind::Text),
    def(
        0x0401,
        "medium_serial_number",
        Ascii,
        Some(32),
        MamKind::Text,
    ),
    def(0x0402, "medium_length", Binary, Some(4), Number("m")),
    def(0x0403, "medium_width", Binary, Some(4), Number("0.1 mm")),
    def(
        0x0404,
        "medium_assigning_organization",
        Ascii,
        Some(8),
        MamKind::Text,
    ),
    def(
        0x0405,
        "medium_density_code",
        Binary,
        Some(1),
        Number("code"),
    ),
    def(0x0406, "medium_manufacture_date", Ascii, Some(8), Date),
    def(0x0407, "mam_capacity", Binary, Some(8), Number("bytes")),
    def(0x0408, "medium_type", Binary, Some(1), Number("code")),
    def(
        0x0409,
        "medium_type_information",
        Binary,
        Some(2),
        Number("count"),
    ),
    def(0x040A, "numeric_medium_serial_number", Binary, None, Bytes),
    def(0x0800, "application_vendor", Ascii, Some(8), MamKind::Text),
    def(0x0801, "application_name", Ascii, Some(32), MamKind::Text),
    def(0x0802, "application_version", Ascii, Some(8), MamKind::Text),
    def(
        0x0803,
        "user_medium_text_label",
        Text,
        Some(160),
        MamKind::Text,
    ),
    def(0x0804, "date_and_time_last_written", Ascii, Some(12), Date),
    def(
        0x0805,
        "text_localization_identifier",
        Binary,
        Some(1),
        Number("code"),
    ),
    def(0x0806, "barcode", Ascii, Some(32), MamKind::Text),
    def(
        0x0807,
        "owning_host_textual_name",
        Text,
        Some(80),
        MamKind::Text,
    ),
    def(0x0808, "media_pool", Text, Some(160), MamKind::Text),
    def(
        0x0809,
        "partition_user_text_label",
        Ascii,
        Some(16),
        MamKind::Text,
    ),
    def(
        0x080A,
        "load_unload_at_partition",
        Binary,
        Some(1),
        Number("flag"),
    ),
    def(
        0x080B,
        "application_format_version",
        Ascii,
        Some(16),
        MamKind::Text,
    ),
    def(0x080C, "volume_coherency_information", Binary, None, Bytes),
    def(
        0x0820,
        "medium_globally_unique_identifier",
        Binary,
        Some(36),
        Bytes,
    ),
    def(
        0x0821,
        "media_pool_globally_unique_identifier",
        Binary,
        Some(36),
        Bytes,
    ),
];

/// The table entry of a standard attribute.
pub fn attribute_def(id: u16) -> Option<&'static AttributeDef> {
    ATTRIBUTES.iter().find(|d| d.id == id)
}

/// Name of any attribute id: the standard name, or its range.
pub fn attribute_name(id: u16) -> &'static str {
    if let Some(d) = attribute_def(id) {
        return d.name;
    }
    match id {
        0x0000..=0x03FF => "unknown_device_attribute",
        0x0400..=0x07FF => "unknown_medium_attribute",
        0x0800..=0x0BFF => "unknown_host_attribute",
        0x0C00..=0x0FFF => "vendor_specific_device_attribute",
        0x1000..=0x13FF => "vendor_specific_medium_attribute",
        0x1400..=0x17FF => "vendor_specific_host_attribute",
        _ => "reserved_attribute",
    }
}

/// True for ids the host may write (host type 0x0800-0x0BFF and host
/// vendor specific 0x1400-0x17FF, SPC-5 table 196).
pub fn is_host_attribute(id: u16) -> bool {
    matches!(id, 0x0800..=0x0BFF | 0x1400..=0x17FF)
}

/// Attribute header in READ/WRITE ATTRIBUTE data (SPC-5 table 194).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AttributeHeader {
    pub id: U16,
    /// READ ONLY (bit 7), FORMAT (bits 1..0).
    pub flags: u8,
    pub length: U16,
}

/// Header of READ ATTRIBUTE attribute values / WRITE ATTRIBUTE parameter data.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AttributeDataHeader {
    /// Bytes following this field.
    pub length: U32,
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MamValue {
    Number {
        value: u64,
        unit: &'static str,
    },
    Text {
        value: String,
    },
    /// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM"; the raw text if it is not a date.
    Date {
        value: String,
    },
    Bytes {
        hex: String,
    },
}

/// One attribute read from the cartridge memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MamAttribute {
    pub id: u16,
    pub name: &'static str,
    pub read_only: bool,
    pub format: MamFormat,
    pub value: MamValue,
}

fn date_text(raw: &str) -> String {
    let all_digits = raw.bytes().all(|b| b.is_ascii_digit());
    match raw.len() {
        8 if all_digits => format!("{}-{}-{}", &raw[..4], &raw[4..6], &raw[6..8]),
        12 if all_digits => format!(
            "{}-{}-{} {}:{}",
            &raw[..4],
            &raw[4..6],
            &raw[6..8],
            &raw[8..10],
            &raw[10..12]
        ),
        _ => raw.to_string(),
    }
}

/// Decode one attribute value by the format the device states and the
/// kind our table knows.
pub fn decode_value(id: u16, format: MamFormat, value: &[u8]) -> MamValue {
    let kind = attribute_def(id).map(|d| d.kind);
    match (format, kind) {
        (MamFormat::Binary, Some(MamKind::Number(unit))) => match be_uint(value) {
            Some(v) => MamValue::Number { value: v, unit },
            None => MamValue::Bytes { hex: to_hex(value) },
        },
        (MamFormat::Binary, _) | (MamFormat::Reserved, _) => MamValue::Bytes { hex: to_hex(value) },
        (_, Some(MamKind::Date)) => MamValue::Date {
            value: date_text(&ascii_field(value)),
        },
        _ => MamValue::Text {
            value: ascii_field(value),
        },
    }
}

/// Decode READ ATTRIBUTE data with service action ATTRIBUTE VALUES: a 4-byte
/// available data length, then attributes as the device lays them out. An
/// attribute cut off by the allocation length ends the list.
pub fn decode_attribute_values(bytes: &[u8]) -> Result<Vec<MamAttribute>, DriveError> {
    let what = "READ ATTRIBUTE data";
    let (header, rest) = AttributeDataHeader::ref_from_prefix(bytes).map_err(|_| {
        decode_error(
            what,
            format!("{} bytes, shorter than the 4-byte header", bytes.len()),
        )
    })?;
    let stated = usize::try_from(header.length.get()).unwrap_or(usize::MAX);
    let mut body = &rest[..stated.min(rest.len())];
    let mut out = Vec::new();
    while let Ok((a, tail)) = AttributeHeader::ref_from_prefix(body) {
        let len = usize::from(a.length.get());
        let Some(value) = tail.get(..len) else {
            break;
        };
        let id = a.id.get();
        let format = MamFormat::from_bits(a.flags);
        out.push(MamAttribute {
            id,
            name: attribute_name(id),
            read_only: a.flags & 0x80 != 0,
            format,
            value: decode_value(id, format, value),
        });
        body = &tail[len..];
    }
    Ok(out)
}

/// Decode READ ATTRIBUTE data with service action ATTRIBUTE LIST or
/// SUPPORTED ATTRIBUTES: a 4-byte length, then 2-byte ids.
pub fn decode_attribute_list(bytes: &[u8]) -> Result<Vec<u16>, DriveError> {
    let (header, rest) = AttributeDataHeader::ref_from_prefix(bytes).map_err(|_| {
        decode_error(
            "READ ATTRIBUTE attribute list",
            format!("{} bytes, shorter than the 4-byte header", bytes.len()),
        )
    })?;
    let stated = usize::try_from(header.length.get()).unwrap_or(usize::MAX);
    Ok(rest[..stated.min(rest.len())]
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// Encode one attribute (header + value), as the device sends it and as
/// WRITE ATTRIBUTE carries it.
pub fn encode_attribute(
    out: &mut Vec<u8>,
    id: u16,
    read_only: bool,
    format: MamFormat,
    value: &[u8],
) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    let header = AttributeHeader {
        id: U16::new(id),
        flags: format.bits() | if read_only { 0x80 } else { 0 },
        length: U16::new(value.len() as u16),
    };
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(value);
}

/// Prefix attribute bytes with the 4-byte data length header.
pub fn with_data_header(attributes: &[u8]) -> Vec<u8> {
    let mut out = AttributeDataHeader {
        length: U32::new(u32::try_from(attributes.len()).unwrap_or(u32::MAX)),
    }
    .as_bytes()
    .to_vec();
    out.extend_from_slice(attributes);
    out
}

/// The value bytes of host attribute `id` for `text`: ASCII attributes are
/// space padded to their length (printable ASCII only), text attributes
/// NUL padded, binary ones take a decimal number.
pub fn encode_host_value(id: u16, text: &str) -> Result<Vec<u8>, DriveError> {
    let def = attribute_def(id)
        .filter(|d| is_host_attribute(d.id))
        .ok_or_else(|| {
            DriveError::InvalidArgument(format!(
                "attribute {id:#06x} is not a standard host attribute"
            ))
        })?;
    let len = usize::from(def.length.unwrap_or(u16::MAX));
    let too_long = || {
        DriveError::InvalidArgument(format!(
            "value for {} ({id:#06x}) is longer than {len} bytes",
            def.name
        ))
    };
    match def.format {
        MamFormat::Ascii => {
            if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
                return Err(DriveError::InvalidArgument(format!(
                    "value for {} ({id:#06x}) contains {c:?}; only printable ASCII is allowed",
                    def.name
                )));
            }
            if text.len() > len {
                return Err(too_long());
            }
            Ok(space_padded(text, len))
        }
        MamFormat::Text => {
            if text.len() > len {
                return Err(too_long());
            }
            let mut v = text.as_bytes().to_vec();
            v.resize(len, 0);
            Ok(v)
        }
        _ => {
            let n: u64 = text.trim().parse().map_err(|_| {
                DriveError::InvalidArgument(format!(
                    "value for {} ({id:#06x}) must be a decimal number, got {text:?}",
                    def.name
                ))
            })?;
            let bytes = n.to_be_bytes();
            let width = len.min(8);
            if bytes[..8 - width].iter().any(|b| *b != 0) {
                return Err(too_long());
            }
            Ok(bytes[8 - width..].to_vec())
        }
    }
}

/// Allocation length for reading the whole MAM (LTO-9 MAM is 16 KiB),
/// capped at the transport's largest transfer.
const READ_ATTRIBUTE_ALLOC: u32 = 0x0001_0000;

/// READ ATTRIBUTE (opcode 0x8C, SPC-5 6.21), service action ATTRIBUTE
/// VALUES from attribute 0 of partition 0: every attribute the cartridge
/// memory holds.
pub fn read_cartridge_memory(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<Vec<MamAttribute>, DriveError> {
    let alloc = READ_ATTRIBUTE_ALLOC.min(u32::try_from(t.max_transfer()).unwrap_or(u32::MAX));
    let mut cdb = [0u8; 16];
    cdb[0] = READ_ATTRIBUTE;
    cdb[1] = SA_ATTRIBUTE_VALUES;
    cdb[10..14].copy_from_slice(&alloc.to_be_bytes());
    let bytes = info_io::data_in(
        t,
        device,
        "READ ATTRIBUTE",
        "cartridge memory (READ ATTRIBUTE)",
        &cdb,
        alloc as usize,
    )?;
    decode_attribute_values(&bytes).map_err(|e| with_device(e, device))
}

/// WRITE ATTRIBUTE (opcode 0x8D, SPC-5 6.53) of one host attribute,
/// encoded by [`encode_host_value`]. ptape writes 0x0800 application
/// vendor, 0x0801 application name, 0x0802 version, 0x0803 user medium
/// text label, 0x0806 barcode and 0x0808 media pool.
pub fn write_attribute(
    t: &mut dyn ScsiTransport,
    device: &str,
    id: u16,
    value: &str,
) -> Result<(), DriveError> {
    let def = attribute_def(id).ok_or_else(|| {
        DriveError::InvalidArgument(format!("attribute {id:#06x} is not a standard attribute"))
    })?;
    let bytes = encode_host_value(id, value)?;
    let mut attrs = Vec::new();
    encode_attribute(&mut attrs, id, false, def.format, &bytes);
    let data = with_data_header(&attrs);
    let mut cdb = [0u8; 16];
    cdb[0] = WRITE_ATTRIBUTE;
    cdb[10..14].copy_from_slice(&(data.len() as u32).to_be_bytes());
    info_io::data_out(
        t,
        device,
        "WRITE ATTRIBUTE",
        "cartridge memory (WRITE ATTRIBUTE)",
        &cdb,
        &data,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-built READ ATTRIBUTE data with the attribute layout of SPC-5 and
    /// the HPE/IBM manuals: remaining and maximum capacity, load count,
    /// manufacturer, manufacture date, host attributes as LTFS writes them
    /// and a vendor-specific one. No device dump was at hand.
    fn sample() -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&[
            0x00, 0x00, 0x80, 0x00, 0x08, 0, 0, 0, 0, 0x00, 0x23, 0x99, 0x3a,
        ]);
        a.extend_from_slice(&[
            0x00, 0x01, 0x80, 0x00, 0x08, 0, 0, 0, 0, 0x00, 0x24, 0x61, 0x2d,
        ]);
        a.extend_from_slice(&[0x00, 0x03, 0x80, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x11]);
        a.extend_from_slice(&[0x04, 0x00, 0x81, 0x00, 0x08]);
        a.extend_from_slice(b"FUJIFILM");
        a.extend_from_slice(&[0x04, 0x06, 0x81, 0x00, 0x08]);
        a.extend_from_slice(b"20140312");
        a.extend_from_slice(&[0x08, 0x00, 0x01, 0x00, 0x08]);
        a.extend_from_slice(b"IBM     ");
        a.extend_from_slice(&[0x08, 0x03, 0x02, 0x00, 0x05]);
        a.extend_from_slice(b"label");
        a.extend_from_slice(&[0x12, 0x34, 0x00, 0x00, 0x02, 0xab, 0xcd]);
        with_data_header(&a)
    }

    #[test]
    fn decodes_sample() {
        let attrs = decode_attribute_values(&sample()).unwrap();
        assert_eq!(attrs.len(), 8);
        assert_eq!(attrs[0].name, "remaining_capacity_in_partition");
        assert_eq!(
            attrs[0].value,
            MamValue::Number {
                value: 0x0023_993a,
                unit: "MiB"
            }
        );
        assert!(attrs[0].read_only);
        assert_eq!(
            attrs[2].value,
            MamValue::Number {
                value: 17,
                unit: "count"
            }
        );
        assert_eq!(
            attrs[3].value,
            MamValue::Text {
                value: "FUJIFILM".into()
            }
        );
        assert_eq!(
            attrs[4].value,
            MamValue::Date {
                value: "2014-03-12".into()
            }
        );
        assert_eq!(attrs[5].format, MamFormat::Ascii);
        assert!(!attrs[5].read_only);
        assert_eq!(
            attrs[5].value,
            MamValue::Text {
                value: "IBM".into()
            }
        );
        assert_eq!(attrs[6].format, MamFormat::Text);
        assert_eq!(attrs[7].name, "vendor_specific_medium_attribute");
        assert_eq!(attrs[7].value, MamValue::Bytes { hex: "abcd".into() });
        let json = serde_json::to_value(&attrs[0]).unwrap();
        assert_eq!(json["id"], 0);
        assert_eq!(json["value"]["kind"], "number");
        assert_eq!(json["value"]["unit"], "MiB");
    }

    #[test]
    fn truncated_input() {
        let bytes = sample();
        for cut in 0..bytes.len() {
            let res = decode_attribute_values(&bytes[..cut]);
            if cut < 4 {
                assert!(res.is_err());
            } else {
                assert!(res.unwrap().len() <= 8);
            }
        }
        // Cut in the middle of the third attribute: two complete ones.
        assert_eq!(
            decode_attribute_values(&bytes[..4 + 13 + 13 + 6])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn host_values() {
        assert_eq!(encode_host_value(0x0800, "PTAPE").unwrap(), b"PTAPE   ");
        assert_eq!(encode_host_value(0x0808, "pool").unwrap().len(), 160);
        assert!(encode_host_value(0x0800, "TOO LONG VENDOR").is_err());
        assert!(encode_host_value(0x0800, "n\u{e4}").is_err());
        assert!(encode_host_value(0x0400, "x").is_err(), "medium attribute");
        assert_eq!(encode_host_value(0x0805, "3").unwrap(), vec![3]);
        assert!(encode_host_value(0x0805, "300").is_err());
        assert!(is_host_attribute(0x0806) && !is_host_attribute(0x0401));
        assert_eq!(attribute_name(0x0c01), "vendor_specific_device_attribute");
    }

    #[test]
    fn attribute_list() {
        let bytes = [0, 0, 0, 6, 0x00, 0x00, 0x04, 0x01, 0x08, 0x06];
        assert_eq!(
            decode_attribute_list(&bytes).unwrap(),
            vec![0, 0x0401, 0x0806]
        );
        assert_eq!(decode_attribute_list(&bytes[..7]).unwrap(), vec![0]);
        assert!(decode_attribute_list(&bytes[..2]).is_err());
    }
}
