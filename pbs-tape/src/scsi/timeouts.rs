//! Per-command timeouts for LTO-9 full-height class drives and the
//! libraries around them.
//!
//! The values are the time a command may legitimately take on a healthy
//! device, taken from drive vendors' published command timeouts:
//!
//! | command | timeout |
//! |---|---|
//! | READ(6), WRITE(6), WRITE FILEMARKS(6) | 2400 s (vendors give 1500-2400 s; we take the upper end) |
//! | LOCATE(10/16), SPACE(6/16) | 2940 s |
//! | LOAD UNLOAD | 960 s |
//! | REWIND | 600 s |
//! | FORMAT MEDIUM | 3000 s |
//! | ERASE with LONG=1 | 75000 s (a full-length erase, about 20 h) |
//! | ERASE with LONG=0 (short erase: writes an EOD) | 60 s |
//! | MOVE MEDIUM, EXCHANGE MEDIUM | 2400 s |
//! | INITIALIZE ELEMENT STATUS | 7200 s (full inventory of a large library) |
//! | everything else (INQUIRY, TEST UNIT READY, MODE/LOG SENSE, ATTRIBUTE, READ POSITION, ...) | 60 s |
//!
//! WRITE FILEMARKS shares the WRITE timeout because with IMMED=0 it
//! flushes the drive's whole buffer to the medium.
//! 0x2B is LOCATE(10) on a drive and POSITION TO ELEMENT on a changer;
//! both get the positioning timeout.

#![forbid(unsafe_code)]

use std::time::Duration;

use super::opcodes::*;

/// Timeout for commands not listed in [`TIMEOUT_TABLE`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Timeout of ERASE with the LONG bit set (whole medium).
pub const LONG_ERASE_TIMEOUT: Duration = Duration::from_secs(75_000);

/// (opcode, seconds) for the commands that may run longer than
/// [`DEFAULT_TIMEOUT`]. ERASE is decided by its LONG bit in [`timeout_for`].
pub static TIMEOUT_TABLE: &[(u8, u64)] = &[
    (REWIND, 600),
    (FORMAT_MEDIUM, 3000),
    (INITIALIZE_ELEMENT_STATUS, 7200),
    (READ_6, 2400),
    (WRITE_6, 2400),
    (WRITE_FILEMARKS_6, 2400),
    (SPACE_6, 2940),
    (LOAD_UNLOAD, 960),
    (LOCATE_10, 2940),
    (SPACE_16, 2940),
    (LOCATE_16, 2940),
    (MOVE_MEDIUM, 2400),
    (EXCHANGE_MEDIUM, 2400),
];

/// The timeout for one CDB (decided by its opcode, and for ERASE by the
/// LONG bit, byte 1 bit 0, SSC-5 6.2). An empty CDB gets the default.
pub fn timeout_for(cdb: &[u8]) -> Duration {
    let Some(&op) = cdb.first() else {
        return DEFAULT_TIMEOUT;
    };
    if op == ERASE {
        let long = cdb.get(1).is_some_and(|b| b & 0x01 != 0);
        return if long {
            LONG_ERASE_TIMEOUT
        } else {
            DEFAULT_TIMEOUT
        };
    }
    TIMEOUT_TABLE
        .iter()
        .find(|(o, _)| *o == op)
        .map(|&(_, secs)| Duration::from_secs(secs))
        .unwrap_or(DEFAULT_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(cdb: &[u8]) -> u64 {
        timeout_for(cdb).as_secs()
    }

    #[test]
    fn long_running_commands() {
        assert_eq!(secs(&[READ_6, 0, 0, 0, 0, 0]), 2400);
        assert_eq!(secs(&[WRITE_6, 0, 0, 0, 0, 0]), 2400);
        assert_eq!(secs(&[SPACE_16; 16]), 2940);
        assert_eq!(secs(&[LOCATE_16; 16]), 2940);
        assert_eq!(secs(&[LOAD_UNLOAD, 0, 0, 0, 1, 0]), 960);
        assert_eq!(secs(&[REWIND, 0, 0, 0, 0, 0]), 600);
        assert_eq!(secs(&[FORMAT_MEDIUM, 0, 0, 0, 0, 0]), 3000);
        assert_eq!(secs(&[MOVE_MEDIUM; 12]), 2400);
    }

    #[test]
    fn erase_depends_on_long_bit() {
        assert_eq!(secs(&[ERASE, 0x01, 0, 0, 0, 0]), 75_000);
        assert_eq!(secs(&[ERASE, 0x00, 0, 0, 0, 0]), 60);
        assert_eq!(secs(&[ERASE]), 60);
    }

    #[test]
    fn small_and_empty() {
        assert_eq!(secs(&[INQUIRY, 0, 0, 0, 96, 0]), 60);
        assert_eq!(secs(&[TEST_UNIT_READY; 6]), 60);
        assert_eq!(secs(&[]), 60);
    }
}
