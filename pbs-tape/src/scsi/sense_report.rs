//! Sense bytes explained field by field, for people (`pmt decode-sense`):
//! fixed and descriptor format (SPC-5 4.4), current and deferred errors, the
//! ASC/ASCQ text, INFORMATION (also as the signed residue tape drives put
//! there), the stream bits FILEMARK/EOM/ILI, the sense-key-specific field
//! and every descriptor. Input is hex text as kernels and tools print it.

#![forbid(unsafe_code)]

use serde::Serialize;

use super::asc_table::asc_text;
use super::sense::{descriptor, SenseData, SenseKeySpecific, SenseParseError};

/// Why hex text is not sense bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("no hex bytes given")]
    Empty,
    #[error("'{0}' is not hexadecimal (expected bytes like 70 00 05 or 700005)")]
    NotHex(String),
    #[error("'{0}' has an odd number of hex digits: write each byte as two digits")]
    OddDigits(String),
}

/// Parse hex text into bytes. Bytes may be separated by spaces, commas,
/// colons or dashes, or run together (`700005...`); a `0x` prefix per group
/// and a one-digit group (`5` = 05) are accepted.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let mut bytes = Vec::new();
    for token in text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '-' | ';'))
        .filter(|t| !t.is_empty())
    {
        let digits = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
            .unwrap_or(token);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(HexError::NotHex(token.to_string()));
        }
        if digits.len() == 1 {
            bytes.push(u8::from_str_radix(digits, 16).expect("one hex digit"));
            continue;
        }
        if digits.len() % 2 != 0 {
            return Err(HexError::OddDigits(token.to_string()));
        }
        for pair in digits.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).expect("ASCII hex digits");
            bytes.push(u8::from_str_radix(pair, 16).expect("two hex digits"));
        }
    }
    if bytes.is_empty() {
        return Err(HexError::Empty);
    }
    Ok(bytes)
}

/// Fixed (70h/71h) or descriptor (72h/73h) format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenseFormat {
    Fixed,
    Descriptor,
}

/// One sense data descriptor (descriptor format), as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DescriptorReport {
    /// DESCRIPTOR TYPE.
    pub code: u8,
    /// Its name in SPC-5 table 29 (or "vendor specific" / "reserved").
    pub name: &'static str,
    /// ADDITIONAL LENGTH as given.
    pub length: u8,
    /// The whole descriptor in hex.
    pub hex: String,
}

/// The sense key with its number, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    pub code: u8,
    pub name: &'static str,
}

/// Everything the sense bytes say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SenseReport {
    /// Bytes given.
    pub length: usize,
    pub format: SenseFormat,
    /// RESPONSE CODE (70h-73h).
    pub response_code: u8,
    /// Deferred error (71h/73h): reported for an earlier command, e.g. a
    /// buffered write that failed after its command completed.
    pub deferred: bool,
    /// VALID bit of fixed format (INFORMATION is meaningful); `None` for
    /// descriptor format (an information descriptor says it).
    pub valid: Option<bool>,
    pub sense_key: KeyReport,
    pub asc: u8,
    pub ascq: u8,
    /// The additional sense code's description (SPC-5 Annex F).
    pub asc_text: String,
    /// ADDITIONAL SENSE LENGTH (byte 7), when present.
    pub additional_length: Option<u8>,
    pub information: Option<u64>,
    /// INFORMATION as two's complement (4 bytes fixed, 8 descriptor): the
    /// residue of READ/WRITE/SPACE on tape (negative: an overlength block).
    pub information_signed: Option<i64>,
    pub command_specific: Option<u64>,
    pub filemark: bool,
    pub eom: bool,
    pub ili: bool,
    /// The sense-key-specific field decoded for the sense key (SKSV set).
    pub sense_key_specific: Option<SenseKeySpecific>,
    /// FIELD REPLACEABLE UNIT CODE (0: none).
    pub fru: u8,
    /// Descriptor format: every descriptor, known or not.
    pub descriptors: Vec<DescriptorReport>,
    /// What the fields mean together, one sentence each.
    pub notes: Vec<String>,
}

/// SPC-5 table 29 (and SSC's stream commands descriptor).
fn descriptor_name(code: u8) -> &'static str {
    match code {
        descriptor::INFORMATION => "information",
        descriptor::COMMAND_SPECIFIC => "command-specific information",
        descriptor::SENSE_KEY_SPECIFIC => "sense key specific",
        descriptor::FRU => "field replaceable unit",
        descriptor::STREAM_COMMANDS => "stream commands",
        descriptor::BLOCK_COMMANDS => "block commands",
        0x06 => "OSD object identification",
        0x07 => "OSD response integrity check value",
        0x08 => "OSD attribute identification",
        0x09 => "ATA status return",
        0x0a => "another progress indication",
        0x0b => "user data segment referral",
        0x0c => "forwarded sense data",
        0x0d => "direct-access block device",
        0x0e => "device designation",
        0x0f => "microcode activation time",
        0x80..=0xff => "vendor specific",
        _ => "reserved",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Explain `bytes` (fixed or descriptor format sense data).
pub fn decode_sense(bytes: &[u8]) -> Result<SenseReport, SenseParseError> {
    let sense = SenseData::parse(bytes)?;
    let format = match sense.response_code {
        0x72 | 0x73 => SenseFormat::Descriptor,
        _ => SenseFormat::Fixed,
    };
    let additional_length = bytes.get(7).copied();
    let mut descriptors = Vec::new();
    if format == SenseFormat::Descriptor {
        let end = (8 + additional_length.unwrap_or(0) as usize).min(bytes.len());
        let mut pos = 8;
        while pos + 2 <= end {
            let (code, length) = (bytes[pos], bytes[pos + 1]);
            let stop = (pos + 2 + length as usize).min(end);
            descriptors.push(DescriptorReport {
                code,
                name: descriptor_name(code),
                length,
                hex: hex(&bytes[pos..stop]),
            });
            pos += 2 + length as usize;
        }
    }
    let information_signed = sense.information.map(|info| match format {
        SenseFormat::Fixed => i64::from(info as u32 as i32),
        SenseFormat::Descriptor => info as i64,
    });
    let mut report = SenseReport {
        length: bytes.len(),
        format,
        response_code: sense.response_code,
        deferred: sense.deferred,
        valid: (format == SenseFormat::Fixed).then_some(bytes[0] & 0x80 != 0),
        sense_key: KeyReport {
            code: sense.key.code(),
            name: sense.key.name(),
        },
        asc: sense.asc,
        ascq: sense.ascq,
        asc_text: asc_text(sense.asc, sense.ascq),
        additional_length,
        information: sense.information,
        information_signed,
        command_specific: sense.command_specific,
        filemark: sense.filemark,
        eom: sense.eom,
        ili: sense.ili,
        sense_key_specific: sense
            .sense_key_specific
            .map(|sks| SenseKeySpecific::decode(sense.key, sks)),
        fru: sense.fru,
        descriptors,
        notes: Vec::new(),
    };
    report.notes = notes(&report, bytes);
    Ok(report)
}

/// What the fields mean together.
fn notes(r: &SenseReport, bytes: &[u8]) -> Vec<String> {
    let mut notes = Vec::new();
    if r.deferred {
        notes.push(
            "deferred error: it belongs to an earlier command (typically buffered writes that \
             failed after they were acknowledged), not to the command that received it"
                .into(),
        );
    }
    if let Some(add) = r.additional_length {
        let announced = 8 + add as usize;
        if bytes.len() < announced {
            notes.push(format!(
                "truncated: the additional sense length announces {announced} bytes, {} given",
                bytes.len()
            ));
        }
    } else {
        notes.push("no additional sense length byte (shorter than 8 bytes)".into());
    }
    if r.format == SenseFormat::Fixed && r.valid == Some(false) && bytes.len() >= 7 {
        let raw = u32::from_be_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]);
        if raw != 0 {
            notes.push(format!(
                "VALID is not set: the INFORMATION bytes ({raw}) carry no meaning"
            ));
        }
    }
    match (r.ili, r.information_signed) {
        (true, Some(residue)) if residue > 0 => notes.push(format!(
            "incorrect length: the block was {residue} bytes shorter than requested"
        )),
        (true, Some(residue)) if residue < 0 => notes.push(format!(
            "incorrect length: the block was {} bytes longer than requested (data past the request was lost)",
            residue.unsigned_abs()
        )),
        (true, _) => notes.push("incorrect length indicator without a residue".into()),
        (false, Some(residue)) if r.filemark || r.eom || r.sense_key.code == 0x08 => {
            notes.push(format!(
                "residue {residue}: requested minus completed blocks, filemarks or bytes"
            ))
        }
        _ => {}
    }
    if r.filemark {
        notes.push("a filemark was read or spaced over: the head is on its far side".into());
    }
    if r.eom {
        notes.push(
            "end of medium: early warning when writing, or end/beginning of the partition".into(),
        );
    }
    if r.sense_key.code == 0x08 && (r.asc, r.ascq) == (0x00, 0x05) {
        notes.push("end of data: nothing is recorded after this position".into());
    }
    if r.sense_key.code == 0x06 {
        notes.push(
            "unit attention: the command was not executed; a reset or a medium change may have moved the tape"
                .into(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::SenseKey;

    #[test]
    fn hex_text_in_the_usual_shapes() {
        let want = vec![0x70, 0x00, 0x05, 0x0a];
        for text in [
            "70 00 05 0a",
            "70:00:05:0a",
            "0x70,0x00,0x05,0x0A",
            "7000050a",
            "70 0 5 0a",
            "  70\n00\t050a ",
        ] {
            assert_eq!(parse_hex(text).unwrap(), want, "{text:?}");
        }
        assert_eq!(parse_hex(""), Err(HexError::Empty));
        assert_eq!(parse_hex("70 zz"), Err(HexError::NotHex("zz".into())));
        assert_eq!(parse_hex("700"), Err(HexError::OddDigits("700".into())));
        assert_eq!(parse_hex("0x"), Err(HexError::NotHex("0x".into())));
    }

    #[test]
    fn fixed_illegal_request_with_field_pointer() {
        // 05/24/00, SKSV, C/D=1, BPV=1 bit 4, byte 1
        let bytes = parse_hex("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 cc 00 01").unwrap();
        let r = decode_sense(&bytes).unwrap();
        assert_eq!(r.format, SenseFormat::Fixed);
        assert_eq!(r.sense_key.name, "ILLEGAL REQUEST");
        assert_eq!((r.asc, r.ascq), (0x24, 0x00));
        assert_eq!(r.asc_text, "invalid field in CDB");
        assert_eq!(r.valid, Some(false));
        assert_eq!(
            r.sense_key_specific,
            Some(SenseKeySpecific::FieldPointer {
                in_cdb: true,
                bit: Some(4),
                byte: 1
            })
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn fixed_read_of_a_short_block_and_of_a_filemark() {
        // NO SENSE, ILI, VALID, INFORMATION 524126 (a 162-byte block read with 512 KiB)
        let ili = SenseData::new(SenseKey::NoSense, 0, 0)
            .with_ili()
            .with_information(524_126);
        let r = decode_sense(&ili.to_fixed_bytes()).unwrap();
        assert!(r.ili && r.valid == Some(true));
        assert_eq!(r.information_signed, Some(524_126));
        assert!(r.notes[0].contains("524126 bytes shorter"), "{:?}", r.notes);
        // An overlength block: negative residue.
        let long = SenseData::new(SenseKey::NoSense, 0, 0)
            .with_ili()
            .with_information((-4096i32) as u32 as u64);
        let r = decode_sense(&long.to_fixed_bytes()).unwrap();
        assert_eq!(r.information_signed, Some(-4096));
        assert!(r.notes[0].contains("4096 bytes longer"), "{:?}", r.notes);
        let fm = SenseData::new(SenseKey::NoSense, 0, 1)
            .with_filemark()
            .with_information(1);
        let r = decode_sense(&fm.to_fixed_bytes()).unwrap();
        assert_eq!(r.asc_text, "filemark detected");
        assert!(r.notes.iter().any(|n| n.contains("filemark was read")));
    }

    #[test]
    fn deferred_and_descriptor_format() {
        let sense = SenseData::new(SenseKey::MediumError, 0x0c, 0x00)
            .deferred()
            .with_information(1234)
            .with_sense_key_specific([0x00, 0x00, 0x07]);
        let fixed = decode_sense(&sense.to_fixed_bytes()).unwrap();
        assert!(fixed.deferred);
        assert_eq!(fixed.response_code, 0x71);
        assert!(fixed.notes[0].starts_with("deferred error"));
        let desc = decode_sense(&sense.to_descriptor_bytes()).unwrap();
        assert_eq!(desc.format, SenseFormat::Descriptor);
        assert_eq!(desc.response_code, 0x73);
        assert_eq!(desc.valid, None);
        assert_eq!(desc.information, Some(1234));
        assert_eq!(
            desc.sense_key_specific,
            Some(SenseKeySpecific::ActualRetryCount(7))
        );
        let names: Vec<&str> = desc.descriptors.iter().map(|d| d.name).collect();
        assert_eq!(names, ["information", "sense key specific"]);
        assert_eq!(desc.asc_text, "write error");
    }

    #[test]
    fn descriptor_format_stream_bits_and_unknown_descriptors() {
        // 72h, NO SENSE 00/01, stream commands descriptor with FILEMARK,
        // then a vendor-specific descriptor.
        let bytes = parse_hex("72 00 00 01 00 00 00 0a 04 02 00 80 81 04 de ad be ef").unwrap();
        let r = decode_sense(&bytes).unwrap();
        assert!(r.filemark && !r.eom && !r.ili);
        assert_eq!(r.descriptors.len(), 2);
        assert_eq!(r.descriptors[0].name, "stream commands");
        assert_eq!(r.descriptors[1].name, "vendor specific");
        assert_eq!(r.descriptors[1].hex, "81 04 de ad be ef");
    }

    #[test]
    fn truncated_and_unknown_input() {
        let r = decode_sense(&parse_hex("70 00 03 00 00 00 00 0a 00 00").unwrap()).unwrap();
        assert!(
            r.notes.iter().any(|n| n.starts_with("truncated")),
            "{:?}",
            r.notes
        );
        assert_eq!(
            decode_sense(&[0x12, 0, 0]),
            Err(SenseParseError::UnknownResponseCode(0x12))
        );
        assert_eq!(decode_sense(&[]), Err(SenseParseError::Empty));
    }
}
