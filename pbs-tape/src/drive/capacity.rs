//! Tape capacity log page 0x31 (LTO drives of all vendors; IBM and HPE
//! SCSI reference manuals): remaining and maximum capacity of the main and
//! alternate partition, in MiB (1 048 576 bytes).

use serde::Serialize;

use super::decode::{be_uint, decode_error, with_device};
use super::log_page::{self, parse_log_page, PAGE_TAPE_CAPACITY};
use super::DriveError;
use crate::scsi::ScsiTransport;

/// Parameter codes of the tape capacity log page.
pub use crate::spec::log::tape_capacity as param;

/// Capacity of partition 0 (and of partition 1, when the drive reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TapeCapacity {
    pub remaining_mib: u64,
    pub maximum_mib: u64,
    pub alternate_remaining_mib: Option<u64>,
    pub alternate_maximum_mib: Option<u64>,
}

/// Decode log page 0x31. Main partition remaining and maximum capacity are
/// required; the alternate partition values are optional.
pub fn decode_tape_capacity(bytes: &[u8]) -> Result<TapeCapacity, DriveError> {
    let what = "tape capacity log page 0x31";
    let page = parse_log_page(bytes, PAGE_TAPE_CAPACITY, what)?;
    let value = |code: u16| page.parameter(code).and_then(|p| be_uint(p.value));
    let required = |code: u16, name: &str| {
        value(code).ok_or_else(|| {
            decode_error(
                what,
                format!("parameter {code:#06x} ({name}) missing or malformed"),
            )
        })
    };
    Ok(TapeCapacity {
        remaining_mib: required(param::MAIN_REMAINING, "main partition remaining capacity")?,
        maximum_mib: required(param::MAIN_MAXIMUM, "main partition maximum capacity")?,
        alternate_remaining_mib: value(param::ALTERNATE_REMAINING),
        alternate_maximum_mib: value(param::ALTERNATE_MAXIMUM),
    })
}

/// LOG SENSE page 0x31: the capacity of the loaded cartridge.
pub fn read_tape_capacity(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<TapeCapacity, DriveError> {
    let bytes =
        log_page::read_log_page(t, device, PAGE_TAPE_CAPACITY, "tape capacity log page 0x31")?;
    decode_tape_capacity(&bytes).map_err(|e| with_device(e, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page 0x31 in the layout the IBM LTO SCSI reference documents (four
    /// 4-byte parameters); values of a partly written LTO-6 cartridge.
    const SAMPLE_LTO6: [u8; 36] = [
        0x31, 0x00, 0x00, 0x20, //
        0x00, 0x01, 0x60, 0x04, 0x00, 0x23, 0x99, 0x3a, //
        0x00, 0x02, 0x60, 0x04, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x03, 0x60, 0x04, 0x00, 0x23, 0x99, 0x3a, //
        0x00, 0x04, 0x60, 0x04, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn decodes_sample() {
        let cap = decode_tape_capacity(&SAMPLE_LTO6).unwrap();
        assert_eq!(cap.remaining_mib, 0x0023_993a);
        assert_eq!(cap.maximum_mib, 0x0023_993a);
        assert_eq!(cap.alternate_maximum_mib, Some(0));
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        for cut in 0..SAMPLE_LTO6.len() {
            let res = decode_tape_capacity(&SAMPLE_LTO6[..cut]);
            if cut < 28 {
                assert!(res.is_err(), "cut at {cut}");
            }
        }
        let mut wrong = SAMPLE_LTO6;
        wrong[0] = 0x17;
        assert!(decode_tape_capacity(&wrong).is_err());
    }
}
