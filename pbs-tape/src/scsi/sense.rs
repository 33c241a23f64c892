//! Sense data: decoding of fixed (0x70/0x71) and descriptor (0x72/0x73)
//! format (SPC-5 4.4), and building sense bytes (used by the emulator).

use std::fmt;

use serde::Serialize;

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

    fn parse_fixed(buf: &[u8], code: u8) -> Result<Self, SenseParseError> {
        if buf.len() < 3 {
            return Err(SenseParseError::TooShort(buf.len()));
        }
        let byte = |i: usize| buf.get(i).copied().unwrap_or(0);
        let valid = buf[0] & 0x80 != 0;
        let info = u32::from_be_bytes([byte(3), byte(4), byte(5), byte(6)]) as u64;
        let cmd_specific = u32::from_be_bytes([byte(8), byte(9), byte(10), byte(11)]) as u64;
        let sks = [byte(15), byte(16), byte(17)];
        Ok(SenseData {
            response_code: code,
            deferred: code == 0x71,
            key: SenseKey::from_u8(buf[2]),
            asc: byte(12),
            ascq: byte(13),
            information: if valid { Some(info) } else { None },
            command_specific: if cmd_specific != 0 {
                Some(cmd_specific)
            } else {
                None
            },
            filemark: buf[2] & 0x80 != 0,
            eom: buf[2] & 0x40 != 0,
            ili: buf[2] & 0x20 != 0,
            sense_key_specific: if sks[0] & 0x80 != 0 { Some(sks) } else { None },
            fru: byte(14),
        })
    }

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
            let d = &buf[pos..body_end];
            match dtype {
                // Information descriptor: VALID in byte 2 bit 7, 8-byte field at 4..12.
                0x00 if d.len() >= 12 => {
                    if d[2] & 0x80 != 0 {
                        sense.information = Some(u64::from_be_bytes(d[4..12].try_into().unwrap()));
                    }
                }
                // Command-specific information descriptor.
                0x01 if d.len() >= 12 => {
                    let v = u64::from_be_bytes(d[4..12].try_into().unwrap());
                    if v != 0 {
                        sense.command_specific = Some(v);
                    }
                }
                // Sense key specific descriptor.
                0x02 if d.len() >= 7 => {
                    if d[4] & 0x80 != 0 {
                        sense.sense_key_specific = Some([d[4], d[5], d[6]]);
                    }
                }
                // Field replaceable unit descriptor.
                0x03 if d.len() >= 4 => sense.fru = d[3],
                // Stream commands descriptor (SSC): FILEMARK, EOM, ILI in byte 3.
                0x04 if d.len() >= 4 => {
                    sense.filemark = d[3] & 0x80 != 0;
                    sense.eom = d[3] & 0x40 != 0;
                    sense.ili = d[3] & 0x20 != 0;
                }
                _ => {}
            }
            pos += 2 + dlen;
        }
        Ok(sense)
    }

    /// Encode as fixed-format sense (18 bytes).
    pub fn to_fixed_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 18];
        b[0] = if self.deferred { 0x71 } else { 0x70 };
        if let Some(info) = self.information {
            b[0] |= 0x80;
            b[3..7].copy_from_slice(&(info as u32).to_be_bytes());
        }
        b[2] = self.key.code()
            | if self.filemark { 0x80 } else { 0 }
            | if self.eom { 0x40 } else { 0 }
            | if self.ili { 0x20 } else { 0 };
        b[7] = 10;
        if let Some(cs) = self.command_specific {
            b[8..12].copy_from_slice(&(cs as u32).to_be_bytes());
        }
        b[12] = self.asc;
        b[13] = self.ascq;
        b[14] = self.fru;
        if let Some(sks) = self.sense_key_specific {
            b[15] = sks[0] | 0x80;
            b[16] = sks[1];
            b[17] = sks[2];
        }
        b
    }

    /// Encode as descriptor-format sense.
    pub fn to_descriptor_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; 8];
        b[0] = if self.deferred { 0x73 } else { 0x72 };
        b[1] = self.key.code();
        b[2] = self.asc;
        b[3] = self.ascq;
        if let Some(info) = self.information {
            b.extend_from_slice(&[0x00, 0x0a, 0x80, 0]);
            b.extend_from_slice(&info.to_be_bytes());
        }
        if let Some(cs) = self.command_specific {
            b.extend_from_slice(&[0x01, 0x0a, 0, 0]);
            b.extend_from_slice(&cs.to_be_bytes());
        }
        if let Some(sks) = self.sense_key_specific {
            b.extend_from_slice(&[0x02, 0x06, 0, 0, sks[0] | 0x80, sks[1], sks[2], 0]);
        }
        if self.filemark || self.eom || self.ili {
            let bits = if self.filemark { 0x80 } else { 0 }
                | if self.eom { 0x40 } else { 0 }
                | if self.ili { 0x20 } else { 0 };
            b.extend_from_slice(&[0x04, 0x02, 0, bits]);
        }
        b[7] = (b.len() - 8) as u8;
        b
    }

    /// The ASC/ASCQ description from the SPC table.
    pub fn asc_text(&self) -> String {
        super::asc_table::asc_text(self.asc, self.ascq)
    }

    /// True for the given key/ASC/ASCQ triple.
    pub fn is(&self, key: SenseKey, asc: u8, ascq: u8) -> bool {
        self.key == key && self.asc == asc && self.ascq == ascq
    }
}

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
            write!(f, " at block {info}")?;
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
