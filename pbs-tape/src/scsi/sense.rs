//! Sense data: decoding of fixed (0x70/0x71) and descriptor (0x72/0x73)
//! format (SPC-5 4.4), and building sense bytes (used by the emulator).

#![forbid(unsafe_code)]

use std::fmt;

use serde::Serialize;
use zerocopy::byteorder::big_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Sense key (SPC-5 table 54).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SenseKey {
    NoSense,
    RecoveredError,
    NotReady,
    MediumError,
    HardwareError,
    IllegalRequest,
    UnitAttention,
    DataProtect,
    BlankCheck,
    VendorSpecific,
    CopyAborted,
    AbortedCommand,
    Reserved0C,
    VolumeOverflow,
    Miscompare,
    Completed,
}

impl SenseKey {
    /// Decode the low nibble of a sense key byte.
    pub fn from_u8(v: u8) -> Self {
        use SenseKey::*;
        match v & 0x0f {
            0x0 => NoSense,
            0x1 => RecoveredError,
            0x2 => NotReady,
            0x3 => MediumError,
            0x4 => HardwareError,
            0x5 => IllegalRequest,
            0x6 => UnitAttention,
            0x7 => DataProtect,
            0x8 => BlankCheck,
            0x9 => VendorSpecific,
            0xa => CopyAborted,
            0xb => AbortedCommand,
            0xc => Reserved0C,
            0xd => VolumeOverflow,
            0xe => Miscompare,
            _ => Completed,
        }
    }

    /// The numeric sense key.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Upper-case name as the standard writes it.
    pub fn name(self) -> &'static str {
        use SenseKey::*;
        match self {
            NoSense => "NO SENSE",
            RecoveredError => "RECOVERED ERROR",
            NotReady => "NOT READY",
            MediumError => "MEDIUM ERROR",
            HardwareError => "HARDWARE ERROR",
            IllegalRequest => "ILLEGAL REQUEST",
            UnitAttention => "UNIT ATTENTION",
            DataProtect => "DATA PROTECT",
            BlankCheck => "BLANK CHECK",
            VendorSpecific => "VENDOR SPECIFIC",
            CopyAborted => "COPY ABORTED",
            AbortedCommand => "ABORTED COMMAND",
            Reserved0C => "RESERVED (0x0C)",
            VolumeOverflow => "VOLUME OVERFLOW",
            Miscompare => "MISCOMPARE",
            Completed => "COMPLETED",
        }
    }
}

impl fmt::Display for SenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Decoded sense data, whatever format the device used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SenseData {
    /// Response code: 0x70/0x72 current, 0x71/0x73 deferred.
    pub response_code: u8,
    /// True for deferred errors (0x71/0x73): the error belongs to an earlier command.
    pub deferred: bool,
    pub key: SenseKey,
    pub asc: u8,
    pub ascq: u8,
    /// INFORMATION field, when VALID (fixed) or an information descriptor (descriptor format) says so.
    pub information: Option<u64>,
    /// COMMAND-SPECIFIC INFORMATION field, when non-zero.
    pub command_specific: Option<u64>,
    /// FILEMARK bit (stream commands).
    pub filemark: bool,
    /// EOM bit (stream commands: early warning or end of medium).
    pub eom: bool,
    /// ILI bit (incorrect length indicator).
    pub ili: bool,
    /// Sense-key-specific bytes, when SKSV is set.
    pub sense_key_specific: Option<[u8; 3]>,
    /// Field replaceable unit code (0 = none).
    pub fru: u8,
}

/// Errors decoding sense bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenseParseError {
    #[error("sense data is empty")]
    Empty,
    #[error("sense data too short ({0} bytes)")]
    TooShort(usize),
    #[error("unknown sense response code {0:#04x}")]
    UnknownResponseCode(u8),
}

/// Sense data descriptor types (SPC-5 table 29).
pub mod descriptor {
    /// Information (SPC-5 4.4.2.2).
    pub const INFORMATION: u8 = 0x00;
    /// Command-specific information (SPC-5 4.4.2.3).
    pub const COMMAND_SPECIFIC: u8 = 0x01;
    /// Sense key specific (SPC-5 4.4.2.4).
    pub const SENSE_KEY_SPECIFIC: u8 = 0x02;
    /// Field replaceable unit (SPC-5 4.4.2.5).
    pub const FRU: u8 = 0x03;
    /// Stream commands: FILEMARK/EOM/ILI (SSC-5 4.2.2).
    pub const STREAM_COMMANDS: u8 = 0x04;
    /// Block commands: ILI (SBC-4).
    pub const BLOCK_COMMANDS: u8 = 0x05;
}

/// Fixed-format sense data, the 18 bytes SPC-5 4.4.3 defines.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FixedSenseWire {
    /// VALID (bit 7), response code 70h/71h (bits 6-0).
    pub response_code: u8,
    pub obsolete: u8,
    /// FILEMARK (bit 7), EOM (6), ILI (5), sense key (3-0).
    pub flags_key: u8,
    pub information: U32,
    /// Number of bytes after this one.
    pub additional_length: u8,
    pub command_specific: U32,
    pub asc: u8,
    pub ascq: u8,
    pub fru: u8,
    /// SKSV (byte 15 bit 7) and the sense-key-specific field.
    pub sense_key_specific: [u8; 3],
}

/// Size of [`FixedSenseWire`].
pub const FIXED_SENSE_LEN: usize = std::mem::size_of::<FixedSenseWire>();

/// Bits of the fixed-format flags/key byte and the stream commands descriptor.
const FILEMARK_BIT: u8 = 0x80;
const EOM_BIT: u8 = 0x40;
const ILI_BIT: u8 = 0x20;
/// VALID (fixed byte 0, information descriptor byte 2) and SKSV bit.
const VALID_BIT: u8 = 0x80;

/// The sense-key-specific field decoded according to the sense key
/// (SPC-5 4.4.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SenseKeySpecific {
    /// ILLEGAL REQUEST: which byte (and bit) was wrong.
    FieldPointer {
        /// C/D: true when the error is in the CDB, false for the parameter data.
        in_cdb: bool,
        /// Bit pointer, when BPV is set.
        bit: Option<u8>,
        /// Byte number of the field in error.
        byte: u16,
    },
    /// RECOVERED, MEDIUM or HARDWARE ERROR: retries the device made.
    ActualRetryCount(u16),
    /// NO SENSE or NOT READY: progress of the operation in 1/65536 units.
    Progress(u16),
    /// COPY ABORTED: where in the copy parameters the error is.
    SegmentPointer {
        /// SD: true when the pointer is relative to the segment descriptor.
        segment_descriptor: bool,
        bit: Option<u8>,
        byte: u16,
    },
    /// UNIT ATTENTION: the unit attention condition queue overflowed.
    UnitAttentionQueueOverflow(bool),
    /// Any other sense key: the three bytes as sent (SKSV bit cleared).
    Other([u8; 3]),
}

impl SenseKeySpecific {
    /// Decode `sks` (bytes 15..18 of fixed sense, SKSV cleared) for `key`.
    pub fn decode(key: SenseKey, sks: [u8; 3]) -> Self {
        let value = u16::from_be_bytes([sks[1], sks[2]]);
        let bit = (sks[0] & 0x08 != 0).then_some(sks[0] & 0x07);
        match key {
            SenseKey::IllegalRequest => SenseKeySpecific::FieldPointer {
                in_cdb: sks[0] & 0x40 != 0,
                bit,
                byte: value,
            },
            SenseKey::RecoveredError | SenseKey::MediumError | SenseKey::HardwareError => {
                SenseKeySpecific::ActualRetryCount(value)
            }
            SenseKey::NoSense | SenseKey::NotReady => SenseKeySpecific::Progress(value),
            SenseKey::CopyAborted => SenseKeySpecific::SegmentPointer {
                segment_descriptor: sks[0] & 0x20 != 0,
                bit,
                byte: value,
            },
            SenseKey::UnitAttention => {
                SenseKeySpecific::UnitAttentionQueueOverflow(sks[0] & 0x01 != 0)
            }
            _ => SenseKeySpecific::Other(sks),
        }
    }

    /// Progress as a fraction 0.0..1.0, for [`SenseKeySpecific::Progress`].
    pub fn progress_fraction(&self) -> Option<f64> {
        match self {
            SenseKeySpecific::Progress(p) => Some(f64::from(*p) / 65536.0),
            _ => None,
        }
    }
}

impl fmt::Display for SenseKeySpecific {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SenseKeySpecific::FieldPointer { in_cdb, bit, byte } => {
                let place = if *in_cdb { "CDB" } else { "parameter data" };
                write!(f, "{place} byte {byte}")?;
                if let Some(bit) = bit {
                    write!(f, " bit {bit}")?;
                }
                Ok(())
            }
            SenseKeySpecific::ActualRetryCount(n) => write!(f, "{n} retries"),
            SenseKeySpecific::Progress(p) => {
                write!(f, "progress {:.1}%", f64::from(*p) * 100.0 / 65536.0)
            }
            SenseKeySpecific::SegmentPointer {
                segment_descriptor,
                bit,
                byte,
            } => {
                let place = if *segment_descriptor {
                    "segment descriptor"
                } else {
                    "parameter list"
                };
                write!(f, "{place} byte {byte}")?;
                if let Some(bit) = bit {
                    write!(f, " bit {bit}")?;
                }
                Ok(())
            }
            SenseKeySpecific::UnitAttentionQueueOverflow(true) => {
                f.write_str("unit attention queue overflow")
            }
            SenseKeySpecific::UnitAttentionQueueOverflow(false) => Ok(()),
            SenseKeySpecific::Other(b) => {
                write!(f, "key specific {:02X}{:02X}{:02X}", b[0], b[1], b[2])
            }
        }
    }
}

impl SenseData {
    /// A current (0x70) sense with the given key and additional sense code.
    pub fn new(key: SenseKey, asc: u8, ascq: u8) -> Self {
        SenseData {
            response_code: 0x70,
            deferred: false,
            key,
            asc,
            ascq,
            information: None,
            command_specific: None,
            filemark: false,
            eom: false,
            ili: false,
            sense_key_specific: None,
            fru: 0,
        }
    }

    /// Mark as deferred error (response code 0x71).
    pub fn deferred(mut self) -> Self {
        self.deferred = true;
        self.response_code = 0x71;
        self
    }

    pub fn with_information(mut self, info: u64) -> Self {
        self.information = Some(info);
        self
    }

    pub fn with_filemark(mut self) -> Self {
        self.filemark = true;
        self
    }

    pub fn with_eom(mut self) -> Self {
        self.eom = true;
        self
    }

    pub fn with_ili(mut self) -> Self {
        self.ili = true;
        self
    }

    /// COMMAND-SPECIFIC INFORMATION (fixed format keeps the low 32 bits).
    pub fn with_command_specific(mut self, value: u64) -> Self {
        self.command_specific = (value != 0).then_some(value);
        self
    }

    /// Field replaceable unit code.
    pub fn with_fru(mut self, fru: u8) -> Self {
        self.fru = fru;
        self
    }

    /// Sense-key-specific bytes (SKSV is set automatically when encoding).
    pub fn with_sense_key_specific(mut self, sks: [u8; 3]) -> Self {
        self.sense_key_specific = Some(sks);
        self
    }

    /// Decode fixed or descriptor format sense.
    pub fn parse(buf: &[u8]) -> Result<Self, SenseParseError> {
        if buf.is_empty() {
            return Err(SenseParseError::Empty);
        }
        let code = buf[0] & 0x7f;
        match code {
            0x70 | 0x71 => Self::parse_fixed(buf, code),
            0x72 | 0x73 => Self::parse_descriptor(buf, code),
            other => Err(SenseParseError::UnknownResponseCode(other)),
        }
    }

    /// Fixed format (SPC-5 4.4.3), see [`FixedSenseWire`]. Bytes beyond the
    /// additional sense length (byte 7) or beyond the buffer count as absent:
    /// INFORMATION needs bytes 3..7, the sense-key-specific field 15..18.
    fn parse_fixed(buf: &[u8], code: u8) -> Result<Self, SenseParseError> {
        if buf.len() < 3 {
            return Err(SenseParseError::TooShort(buf.len()));
        }
        let limit = match buf.get(7) {
            Some(&add_len) => buf.len().min(8 + add_len as usize),
            None => buf.len(),
        };
        let mut raw = [0u8; FIXED_SENSE_LEN];
        let n = limit.min(FIXED_SENSE_LEN);
        raw[..n].copy_from_slice(&buf[..n]);
        let w =
            FixedSenseWire::read_from_bytes(&raw[..]).map_err(|_| SenseParseError::TooShort(n))?;
        let cmd_specific = w.command_specific.get();
        let sks = w.sense_key_specific;
        Ok(SenseData {
            response_code: code,
            deferred: code == 0x71,
            key: SenseKey::from_u8(w.flags_key),
            asc: w.asc,
            ascq: w.ascq,
            information: (w.response_code & VALID_BIT != 0 && limit >= 7)
                .then(|| u64::from(w.information.get())),
            command_specific: (cmd_specific != 0).then_some(u64::from(cmd_specific)),
            filemark: w.flags_key & FILEMARK_BIT != 0,
            eom: w.flags_key & EOM_BIT != 0,
            ili: w.flags_key & ILI_BIT != 0,
            sense_key_specific: (limit >= FIXED_SENSE_LEN && sks[0] & VALID_BIT != 0).then_some([
                sks[0] & !VALID_BIT,
                sks[1],
                sks[2],
            ]),
            fru: w.fru,
        })
    }

    /// Descriptor format (SPC-5 4.4.2): key/ASC/ASCQ in bytes 1..4, then
    /// descriptors (type, additional length, body) up to the additional
    /// sense length in byte 7. Truncated or unknown descriptors are skipped.
    fn parse_descriptor(buf: &[u8], code: u8) -> Result<Self, SenseParseError> {
        if buf.len() < 4 {
            return Err(SenseParseError::TooShort(buf.len()));
        }
        let mut sense = SenseData::new(SenseKey::from_u8(buf[1]), buf[2], buf[3]);
        sense.response_code = code;
        sense.deferred = code == 0x73;
        let add_len = buf.get(7).copied().unwrap_or(0) as usize;
        let end = (8 + add_len).min(buf.len());
        let mut pos = 8;
        while pos + 2 <= end {
            let dtype = buf[pos];
            let dlen = buf[pos + 1] as usize;
            let body_end = (pos + 2 + dlen).min(end);
            sense.apply_descriptor(dtype, &buf[pos..body_end]);
            pos += 2 + dlen;
        }
        Ok(sense)
    }

    /// Apply one sense data descriptor `d` (starting at its type byte).
    fn apply_descriptor(&mut self, dtype: u8, d: &[u8]) {
        let be64 = |at: usize| -> Option<u64> {
            let bytes: [u8; 8] = d.get(at..at + 8)?.try_into().ok()?;
            Some(u64::from_be_bytes(bytes))
        };
        match dtype {
            // Information descriptor (SPC-5 4.4.2.2): VALID in byte 2 bit 7, 8 bytes at 4.
            descriptor::INFORMATION if d.get(2).is_some_and(|b| b & VALID_BIT != 0) => {
                if let Some(v) = be64(4) {
                    self.information = Some(v);
                }
            }
            // Command-specific information descriptor (SPC-5 4.4.2.3).
            descriptor::COMMAND_SPECIFIC => {
                if let Some(v) = be64(4).filter(|v| *v != 0) {
                    self.command_specific = Some(v);
                }
            }
            // Sense key specific descriptor (SPC-5 4.4.2.4): SKSV in byte 4 bit 7.
            descriptor::SENSE_KEY_SPECIFIC => {
                if let Some(&[b0, b1, b2]) = d.get(4..7) {
                    if b0 & VALID_BIT != 0 {
                        self.sense_key_specific = Some([b0 & !VALID_BIT, b1, b2]);
                    }
                }
            }
            // Field replaceable unit descriptor (SPC-5 4.4.2.5).
            descriptor::FRU => {
                if let Some(&fru) = d.get(3) {
                    self.fru = fru;
                }
            }
            // Stream commands descriptor (SSC-5 4.2.2 / SPC-5 4.4.2.6):
            // FILEMARK, EOM, ILI in byte 3.
            descriptor::STREAM_COMMANDS => {
                if let Some(&bits) = d.get(3) {
                    self.filemark = bits & FILEMARK_BIT != 0;
                    self.eom = bits & EOM_BIT != 0;
                    self.ili = bits & ILI_BIT != 0;
                }
            }
            // Block commands descriptor (SBC): ILI in byte 3 bit 5.
            descriptor::BLOCK_COMMANDS if d.get(3).is_some_and(|b| b & ILI_BIT != 0) => {
                self.ili = true;
            }
            _ => {}
        }
    }

    /// The FILEMARK/EOM/ILI bits as in fixed byte 2 / stream descriptor byte 3.
    fn stream_bits(&self) -> u8 {
        (if self.filemark { FILEMARK_BIT } else { 0 })
            | (if self.eom { EOM_BIT } else { 0 })
            | (if self.ili { ILI_BIT } else { 0 })
    }

    /// Encode as fixed-format sense (18 bytes). INFORMATION and
    /// COMMAND-SPECIFIC INFORMATION keep their low 32 bits (the fixed format
    /// has no room for more).
    pub fn to_fixed_bytes(&self) -> Vec<u8> {
        let code = if self.deferred { 0x71 } else { 0x70 };
        let sks = self
            .sense_key_specific
            .map_or([0; 3], |s| [s[0] | VALID_BIT, s[1], s[2]]);
        let wire = FixedSenseWire {
            response_code: code
                | if self.information.is_some() {
                    VALID_BIT
                } else {
                    0
                },
            obsolete: 0,
            flags_key: self.key.code() | self.stream_bits(),
            information: U32::new(self.information.unwrap_or(0) as u32),
            additional_length: (FIXED_SENSE_LEN - 8) as u8,
            command_specific: U32::new(self.command_specific.unwrap_or(0) as u32),
            asc: self.asc,
            ascq: self.ascq,
            fru: self.fru,
            sense_key_specific: sks,
        };
        wire.as_bytes().to_vec()
    }

    /// Encode as descriptor-format sense.
    pub fn to_descriptor_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b[0] = if self.deferred { 0x73 } else { 0x72 };
        b[1] = self.key.code();
        b[2] = self.asc;
        b[3] = self.ascq;
        if let Some(info) = self.information {
            b.extend_from_slice(&[descriptor::INFORMATION, 0x0a, VALID_BIT, 0]);
            b.extend_from_slice(&info.to_be_bytes());
        }
        if let Some(cs) = self.command_specific {
            b.extend_from_slice(&[descriptor::COMMAND_SPECIFIC, 0x0a, 0, 0]);
            b.extend_from_slice(&cs.to_be_bytes());
        }
        if let Some(sks) = self.sense_key_specific {
            b.extend_from_slice(&[
                descriptor::SENSE_KEY_SPECIFIC,
                0x06,
                0,
                0,
                sks[0] | VALID_BIT,
                sks[1],
                sks[2],
                0,
            ]);
        }
        if self.fru != 0 {
            b.extend_from_slice(&[descriptor::FRU, 0x02, 0, self.fru]);
        }
        let bits = self.stream_bits();
        if bits != 0 {
            b.extend_from_slice(&[descriptor::STREAM_COMMANDS, 0x02, 0, bits]);
        }
        b[7] = (b.len() - 8) as u8;
        b
    }

    /// The sense-key-specific field decoded for this sense key.
    pub fn key_specific(&self) -> Option<SenseKeySpecific> {
        self.sense_key_specific
            .map(|sks| SenseKeySpecific::decode(self.key, sks))
    }

    /// The ASC/ASCQ description from the SPC table.
    pub fn asc_text(&self) -> String {
        super::asc_table::asc_text(self.asc, self.ascq)
    }

    /// True for the given key/ASC/ASCQ triple.
    pub fn is(&self, key: SenseKey, asc: u8, ascq: u8) -> bool {
        self.key == key && self.asc == asc && self.ascq == ascq
    }

    /// ILLEGAL REQUEST, INVALID FIELD IN CDB (05/24xx): the device does
    /// not support a bit or value the CDB set.
    pub fn is_invalid_field_in_cdb(&self) -> bool {
        self.key == SenseKey::IllegalRequest && self.asc == ASC_INVALID_FIELD_IN_CDB
    }

    /// ILLEGAL REQUEST for an opcode (05/20xx, INVALID COMMAND OPERATION
    /// CODE) or a CDB field (05/24xx) the device does not support.
    pub fn is_unsupported_request(&self) -> bool {
        self.key == SenseKey::IllegalRequest
            && matches!(self.asc, ASC_INVALID_OPCODE | ASC_INVALID_FIELD_IN_CDB)
    }
}

/// ASC 20h: INVALID COMMAND OPERATION CODE (SPC-5 table of ASC/ASCQ).
const ASC_INVALID_OPCODE: u8 = 0x20;
/// ASC 24h: INVALID FIELD IN CDB (SPC-5 table of ASC/ASCQ).
const ASC_INVALID_FIELD_IN_CDB: u8 = 0x24;

impl fmt::Display for SenseData {
    /// Reads like `MEDIUM ERROR: write error (03/0C00) at block 1234`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deferred {
            f.write_str("deferred error: ")?;
        }
        write!(
            f,
            "{}: {} ({:02X}/{:02X}{:02X})",
            self.key,
            self.asc_text(),
            self.key.code(),
            self.asc,
            self.ascq
        )?;
        if let Some(info) = self.information {
            if self.ili {
                // With ILI the INFORMATION field is the length residue
                // (requested - actual), two's complement: 4 bytes in fixed
                // format, 8 in descriptor format.
                let residue = if info > u64::from(u32::MAX) {
                    info as i64
                } else {
                    i64::from(info as u32 as i32)
                };
                write!(f, " residue {residue}")?;
            } else {
                // For tape READ/WRITE/SPACE and deferred errors INFORMATION
                // is a residue (SSC-5 4.2.21), not a block address.
                write!(f, " information {info}")?;
            }
        }
        if let Some(sks) = self.key_specific() {
            let text = sks.to_string();
            if !text.is_empty() {
                write!(f, ", {text}")?;
            }
        }
        if self.fru != 0 {
            write!(f, ", FRU {:#04x}", self.fru)?;
        }
        let mut flags = Vec::new();
        if self.filemark {
            flags.push("FILEMARK");
        }
        if self.eom {
            flags.push("EOM");
        }
        if self.ili {
            flags.push("ILI");
        }
        if !flags.is_empty() {
            write!(f, " [{}]", flags.join(" "))?;
        }
        Ok(())
    }
}
