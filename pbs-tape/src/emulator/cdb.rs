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
