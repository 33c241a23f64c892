//! The contract between the emulator's device dispatch (`device.rs`) and the
//! command handlers (`common.rs` SPC, `drive.rs` + `ssc_info.rs` SSC,
//! `changer.rs` SMC).
//!
//! A handler gets the CDB and the data buffer and returns either a
//! [`Completion`] (GOOD status) or a [`CheckCondition`] (CHECK CONDITION
//! with sense). It never panics on any CDB: malformed CDBs are
//! ILLEGAL REQUEST 05/2000 (opcode) or 05/2400 (field, with the
//! sense-key-specific field pointer).

use crate::scsi::{Completion, SenseData, SenseKey};

/// CHECK CONDITION: the sense to report and the bytes moved before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckCondition {
    pub sense: SenseData,
    /// Bytes of the data phase that were transferred (data-in) or consumed (data-out).
    pub transferred: usize,
}

impl CheckCondition {
    pub fn new(sense: SenseData) -> Self {
        CheckCondition {
            sense,
            transferred: 0,
        }
    }

    pub fn with_transferred(mut self, transferred: usize) -> Self {
        self.transferred = transferred;
        self
    }

    /// ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (05/2000).
    pub fn invalid_opcode() -> Self {
        Self::new(SenseData::new(SenseKey::IllegalRequest, 0x20, 0x00))
    }

    /// ILLEGAL REQUEST, INVALID FIELD IN CDB (05/2400), pointing at `byte` (and
    /// `bit`, if known) of the CDB via the sense-key-specific field (SPC-5 4.4.2.2).
    pub fn invalid_field_in_cdb(byte: u16, bit: Option<u8>) -> Self {
        let mut sks0 = 0x40; // C/D = 1: error in the CDB
        if let Some(bit) = bit {
            sks0 |= 0x08 | (bit & 0x07); // BPV + bit pointer
        }
        let [hi, lo] = byte.to_be_bytes();
        Self::new(
            SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00)
                .with_sense_key_specific([sks0, hi, lo]),
        )
    }

    /// ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST (05/2600), pointing at `byte`.
    pub fn invalid_field_in_parameter_list(byte: u16) -> Self {
        let [hi, lo] = byte.to_be_bytes();
        Self::new(
            SenseData::new(SenseKey::IllegalRequest, 0x26, 0x00)
                .with_sense_key_specific([0x00, hi, lo]),
        )
    }

    /// ILLEGAL REQUEST, PARAMETER LIST LENGTH ERROR (05/1A00).
    pub fn parameter_list_length_error() -> Self {
        Self::new(SenseData::new(SenseKey::IllegalRequest, 0x1a, 0x00))
    }

    /// NOT READY, MEDIUM NOT PRESENT (02/3A00).
    pub fn medium_not_present() -> Self {
        Self::new(SenseData::new(SenseKey::NotReady, 0x3a, 0x00))
    }
}

/// What a handler returns.
pub type CdbResult = Result<Completion, CheckCondition>;

/// Build a data-in completion: copy `data` into `buf` (truncated to the
/// allocation length, as SPC requires) and report the residual.
pub fn data_in(buf: &mut [u8], data: &[u8]) -> Completion {
    let n = data.len().min(buf.len());
    buf[..n].copy_from_slice(&data[..n]);
    Completion {
        transferred: n,
        residual: buf.len() - n,
    }
}

/// A completion without data phase.
pub fn no_data() -> Completion {
    Completion {
        transferred: 0,
        residual: 0,
    }
}

/// Length a CDB must have for its opcode, from the group code in the top
/// three bits (SPC-5 4.2.5.1); `None` for reserved / vendor-specific groups.
pub fn cdb_length_for(opcode: u8) -> Option<usize> {
    match opcode >> 5 {
        0 => Some(6),
        1 | 2 => Some(10),
        4 => Some(16),
        5 => Some(12),
        _ => None,
    }
}

/// A CDB whose length and CONTROL byte have been checked; field accessors
/// never panic (bytes past the end read as zero).
#[derive(Debug, Clone, Copy)]
pub struct Cdb<'a> {
    bytes: &'a [u8],
}

impl<'a> Cdb<'a> {
    /// Check the CDB length against the opcode group (wrong length: 05/2400
    /// pointing at the opcode) and the CONTROL byte (NACA and the obsolete
    /// LINK/FLAG bits are not supported: 05/2400 pointing at the bit).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CheckCondition> {
        let Some(&opcode) = bytes.first() else {
            return Err(CheckCondition::invalid_opcode());
        };
        let Some(expected) = cdb_length_for(opcode) else {
            return Err(CheckCondition::invalid_opcode());
        };
        if expected != bytes.len() {
            return Err(CheckCondition::invalid_field_in_cdb(0, None));
        }
        let cdb = Cdb { bytes };
        let last = bytes.len() - 1;
        cdb.reserved(last, 0x07)?;
        Ok(cdb)
    }

    pub fn opcode(&self) -> u8 {
        self.byte(0)
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn byte(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    /// Big-endian unsigned field of `n` bytes (n <= 8) starting at `i`.
    pub fn be(&self, i: usize, n: usize) -> u64 {
        (i..i + n).fold(0u64, |acc, k| (acc << 8) | self.byte(k) as u64)
    }

    pub fn be16(&self, i: usize) -> u16 {
        self.be(i, 2) as u16
    }

    pub fn be24(&self, i: usize) -> u32 {
        self.be(i, 3) as u32
    }

    pub fn be32(&self, i: usize) -> u32 {
        self.be(i, 4) as u32
    }

    pub fn be64(&self, i: usize) -> u64 {
        self.be(i, 8)
    }

    /// Signed 24-bit field (SPACE(6) count).
    pub fn be24_signed(&self, i: usize) -> i64 {
        let v = self.be24(i) as i64;
        if v & 0x80_0000 != 0 {
            v - 0x100_0000
        } else {
            v
        }
    }

    /// True when bit `bit` of byte `i` is set.
    pub fn bit(&self, i: usize, bit: u8) -> bool {
        self.byte(i) & (1 << (bit & 7)) != 0
    }

    /// 05/2400 if any bit of `mask` is set in byte `i` (pointing at the
    /// highest offending bit).
    pub fn reserved(&self, i: usize, mask: u8) -> Result<(), CheckCondition> {
        let bad = self.byte(i) & mask;
        if bad == 0 {
            return Ok(());
        }
        let bit = 7 - bad.leading_zeros() as u8;
        Err(CheckCondition::invalid_field_in_cdb(i as u16, Some(bit)))
    }

    /// 05/2400 if any of the bytes `range` is non-zero.
    pub fn reserved_bytes(&self, range: std::ops::Range<usize>) -> Result<(), CheckCondition> {
        range.into_iter().try_for_each(|i| self.reserved(i, 0xff))
    }
}

/// 05/2400 pointing at byte `byte` (no bit) — for a whole-field error.
pub fn invalid_field(byte: usize) -> CheckCondition {
    CheckCondition::invalid_field_in_cdb(byte as u16, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_control_are_checked() {
        assert!(Cdb::parse(&[0x12, 0, 0, 0, 36, 0]).is_ok());
        let e = Cdb::parse(&[0x12, 0, 0, 0, 36]).unwrap_err();
        assert_eq!(
            (e.sense.asc, e.sense.sense_key_specific),
            (0x24, Some([0x40, 0, 0]))
        );
        let e = Cdb::parse(&[0x12, 0, 0, 0, 36, 0x04]).unwrap_err();
        assert_eq!(e.sense.sense_key_specific, Some([0x40 | 0x08 | 2, 0, 5]));
        assert_eq!(Cdb::parse(&[]).unwrap_err().sense.asc, 0x20);
        assert_eq!(cdb_length_for(0x91), Some(16));
        assert_eq!(cdb_length_for(0xA5), Some(12));
        assert_eq!(cdb_length_for(0x34), Some(10));
        assert_eq!(cdb_length_for(0x60), None);
    }

    #[test]
    fn fields() {
        let raw = [0x11, 0x01, 0xff, 0xff, 0xfe, 0];
        let c = Cdb::parse(&raw).unwrap();
        assert_eq!(c.be24_signed(2), -2);
        assert_eq!(c.be24(2), 0xff_fffe);
        assert!(c.bit(1, 0));
        let e = c.reserved(1, 0xf0).map(|_| ());
        assert!(e.is_ok());
        let e = c.reserved(2, 0xf0).unwrap_err();
        assert_eq!(e.sense.sense_key_specific, Some([0x40 | 0x08 | 7, 0, 2]));
    }
}
