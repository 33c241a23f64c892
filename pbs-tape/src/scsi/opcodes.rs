//! SCSI operation codes used by the SPC (primary), SSC (stream/tape) and
//! SMC (media changer) code. This is the one place opcodes live; add new
//! ones here (append-only) and import them from `crate::scsi::opcodes`.
//!
//! Sources: SPC-5 (T10/BSR INCITS 502), SSC-5 (T10/BSR INCITS 503),
//! SMC-3 (INCITS 484), and T10's operation code list (op-num.txt).

#![forbid(unsafe_code)]

/// TEST UNIT READY (SPC-5 6.47).
pub const TEST_UNIT_READY: u8 = 0x00;
/// REWIND (SSC-5 7.9).
pub const REWIND: u8 = 0x01;
/// REQUEST SENSE (SPC-5 6.39).
pub const REQUEST_SENSE: u8 = 0x03;
/// FORMAT MEDIUM (SSC-5 6.3).
pub const FORMAT_MEDIUM: u8 = 0x04;
/// READ BLOCK LIMITS (SSC-5 7.6).
pub const READ_BLOCK_LIMITS: u8 = 0x05;
/// INITIALIZE ELEMENT STATUS (SMC-3 6.2).
pub const INITIALIZE_ELEMENT_STATUS: u8 = 0x07;
/// READ(6) (SSC-5 7.5).
pub const READ_6: u8 = 0x08;
/// WRITE(6) (SSC-5 7.11).
pub const WRITE_6: u8 = 0x0A;
/// WRITE FILEMARKS(6) (SSC-5 7.12).
pub const WRITE_FILEMARKS_6: u8 = 0x10;
/// SPACE(6) (SSC-5 7.10).
pub const SPACE_6: u8 = 0x11;
/// INQUIRY (SPC-5 6.7).
pub const INQUIRY: u8 = 0x12;
/// MODE SELECT(6) (SPC-5 6.13).
pub const MODE_SELECT_6: u8 = 0x15;
/// ERASE(6) (SSC-5 6.2).
pub const ERASE: u8 = 0x19;
/// MODE SENSE(6) (SPC-5 6.15).
pub const MODE_SENSE_6: u8 = 0x1A;
/// LOAD UNLOAD (SSC-5 7.2).
pub const LOAD_UNLOAD: u8 = 0x1B;
/// PREVENT ALLOW MEDIUM REMOVAL (SPC-5 6.17; SSC-5 6.7; SMC-3 6.13).
pub const PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1E;
/// POSITION TO ELEMENT (SMC-3 6.14). Same value as [`LOCATE_10`]: the
/// meaning depends on the device type (changer vs. tape drive).
pub const POSITION_TO_ELEMENT: u8 = 0x2B;
/// LOCATE(10) (SSC-5 7.3). Same value as [`POSITION_TO_ELEMENT`]: the
/// meaning depends on the device type (tape drive vs. changer).
pub const LOCATE_10: u8 = 0x2B;
/// READ POSITION (SSC-5 7.7).
pub const READ_POSITION: u8 = 0x34;
/// REPORT DENSITY SUPPORT (SSC-5 6.13).
pub const REPORT_DENSITY_SUPPORT: u8 = 0x44;
/// LOG SELECT (SPC-5 6.8).
pub const LOG_SELECT: u8 = 0x4C;
/// LOG SENSE (SPC-5 6.9).
pub const LOG_SENSE: u8 = 0x4D;
/// MODE SELECT(10) (SPC-5 6.14).
pub const MODE_SELECT_10: u8 = 0x55;
/// MODE SENSE(10) (SPC-5 6.16).
pub const MODE_SENSE_10: u8 = 0x5A;
/// PERSISTENT RESERVE IN (SPC-5 6.18).
pub const PERSISTENT_RESERVE_IN: u8 = 0x5E;
/// PERSISTENT RESERVE OUT (SPC-5 6.19).
pub const PERSISTENT_RESERVE_OUT: u8 = 0x5F;
/// READ ATTRIBUTE (SPC-5 6.21), MAM access.
pub const READ_ATTRIBUTE: u8 = 0x8C;
/// WRITE ATTRIBUTE (SPC-5 6.53), MAM access.
pub const WRITE_ATTRIBUTE: u8 = 0x8D;
/// SPACE(16) (SSC-5 6.11).
pub const SPACE_16: u8 = 0x91;
/// LOCATE(16) (SSC-5 6.5).
pub const LOCATE_16: u8 = 0x92;
/// REPORT LUNS (SPC-5 6.33).
pub const REPORT_LUNS: u8 = 0xA0;
/// SECURITY PROTOCOL IN (SPC-5 6.40).
pub const SECURITY_PROTOCOL_IN: u8 = 0xA2;
/// MOVE MEDIUM (SMC-3 6.11).
pub const MOVE_MEDIUM: u8 = 0xA5;
/// EXCHANGE MEDIUM (SMC-3 6.3).
pub const EXCHANGE_MEDIUM: u8 = 0xA6;
/// SECURITY PROTOCOL OUT (SPC-5 6.41).
pub const SECURITY_PROTOCOL_OUT: u8 = 0xB5;
/// READ ELEMENT STATUS (SMC-3 6.15).
pub const READ_ELEMENT_STATUS: u8 = 0xB8;
/// INITIALIZE ELEMENT STATUS WITH RANGE (SMC-3 6.4).
pub const INITIALIZE_ELEMENT_STATUS_WITH_RANGE: u8 = 0x37;

/// Name of an operation code, for log and error messages.
///
/// 0x2B is reported as `LOCATE(10)/POSITION TO ELEMENT` because the value
/// alone does not say which device type the command was sent to.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        TEST_UNIT_READY => "TEST UNIT READY",
        REWIND => "REWIND",
        REQUEST_SENSE => "REQUEST SENSE",
        FORMAT_MEDIUM => "FORMAT MEDIUM",
        READ_BLOCK_LIMITS => "READ BLOCK LIMITS",
        INITIALIZE_ELEMENT_STATUS => "INITIALIZE ELEMENT STATUS",
        READ_6 => "READ(6)",
        WRITE_6 => "WRITE(6)",
        WRITE_FILEMARKS_6 => "WRITE FILEMARKS(6)",
        SPACE_6 => "SPACE(6)",
        INQUIRY => "INQUIRY",
        MODE_SELECT_6 => "MODE SELECT(6)",
        ERASE => "ERASE",
        MODE_SENSE_6 => "MODE SENSE(6)",
        LOAD_UNLOAD => "LOAD UNLOAD",
        PREVENT_ALLOW_MEDIUM_REMOVAL => "PREVENT ALLOW MEDIUM REMOVAL",
        LOCATE_10 => "LOCATE(10)/POSITION TO ELEMENT",
        READ_POSITION => "READ POSITION",
        REPORT_DENSITY_SUPPORT => "REPORT DENSITY SUPPORT",
        LOG_SELECT => "LOG SELECT",
        LOG_SENSE => "LOG SENSE",
        MODE_SELECT_10 => "MODE SELECT(10)",
        MODE_SENSE_10 => "MODE SENSE(10)",
        PERSISTENT_RESERVE_IN => "PERSISTENT RESERVE IN",
        PERSISTENT_RESERVE_OUT => "PERSISTENT RESERVE OUT",
        READ_ATTRIBUTE => "READ ATTRIBUTE",
        WRITE_ATTRIBUTE => "WRITE ATTRIBUTE",
        SPACE_16 => "SPACE(16)",
        LOCATE_16 => "LOCATE(16)",
        REPORT_LUNS => "REPORT LUNS",
        SECURITY_PROTOCOL_IN => "SECURITY PROTOCOL IN",
        MOVE_MEDIUM => "MOVE MEDIUM",
        EXCHANGE_MEDIUM => "EXCHANGE MEDIUM",
        SECURITY_PROTOCOL_OUT => "SECURITY PROTOCOL OUT",
        READ_ELEMENT_STATUS => "READ ELEMENT STATUS",
        INITIALIZE_ELEMENT_STATUS_WITH_RANGE => "INITIALIZE ELEMENT STATUS WITH RANGE",
        _ => "unknown opcode",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_and_unknown() {
        assert_eq!(opcode_name(0x12), "INQUIRY");
        assert_eq!(opcode_name(WRITE_FILEMARKS_6), "WRITE FILEMARKS(6)");
        assert_eq!(opcode_name(0xB8), "READ ELEMENT STATUS");
        assert_eq!(opcode_name(0x2B), "LOCATE(10)/POSITION TO ELEMENT");
        assert_eq!(opcode_name(0xFF), "unknown opcode");
    }

    #[test]
    fn values_match_standard() {
        assert_eq!(LOCATE_10, POSITION_TO_ELEMENT);
        assert_eq!(
            [READ_6, WRITE_6, SPACE_16, LOCATE_16, READ_ATTRIBUTE],
            [0x08, 0x0A, 0x91, 0x92, 0x8C]
        );
    }
}
