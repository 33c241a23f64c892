//! What a READ(6), WRITE(6), WRITE FILEMARKS or SPACE outcome means.
//!
//! Tape drives report ordinary events through CHECK CONDITION: a filemark
//! read, a short block (ILI), end of data (BLANK CHECK), early warning (EOM).
//! These functions turn a transport result into an event or a typed error.
//! They are pure, so each case is unit tested with hand-built sense data.
//!
//! Rules that matter for data safety:
//! - a short block's length comes from the sense INFORMATION field (the
//!   residual of the requested length), never from the transport's resid
//!   alone: some paths (QEMU's iSCSI) report resid 0 on real kernels;
//! - only BLANK CHECK 08/0005 is end of data; an ambiguous or medium error
//!   is an error, never end of data;
//! - deferred errors (response code 0x71/0x73) belong to an earlier
//!   command and are always errors.

use serde::Serialize;

use super::error::{SpaceShortfall, SpaceStop, SpaceUnit};
use super::DriveError;
use crate::scsi::{Completion, ScsiError, SenseData, SenseKey};

/// Outcome of one successful write of a block or filemarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteStatus {
    /// Written (or accepted into the drive buffer).
    Ok,
    /// Written, and the medium is past its early-warning point: finish and
    /// continue on another cartridge.
    EarlyWarning,
}

/// Outcome of one READ(6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadEvent {
    /// A block of this many bytes is at the start of the buffer.
    Block(usize),
    /// A filemark: end of the current tape file. The head is after it.
    Filemark,
    /// End of recorded data.
    EndOfData,
}

/// The sense INFORMATION field as a signed number: 32-bit two's complement
/// in fixed format sense, 64-bit in descriptor format.
pub fn signed_information(sense: &SenseData) -> Option<i64> {
    let info = sense.information?;
    Some(match sense.response_code {
        0x70 | 0x71 => info as u32 as i32 as i64,
        _ => info as i64,
    })
}

/// End of data: BLANK CHECK with END-OF-DATA DETECTED (00/05, SSC). Also
/// accepted, as seen from tgt's SSC emulation: BLANK CHECK without an
/// additional sense code (00/00), and 00/05 with sense key NO SENSE (its
/// SPACE into end of data). Other BLANK CHECK codes (e.g. 14/03, end of
/// data not found) stay errors.
fn is_end_of_data(sense: &SenseData) -> bool {
    sense.is(SenseKey::BlankCheck, 0x00, 0x05)
        || sense.is(SenseKey::BlankCheck, 0x00, 0x00)
        || sense.is(SenseKey::NoSense, 0x00, 0x05)
}

fn is_early_warning(sense: &SenseData) -> bool {
    // 00/0002 end-of-partition/medium detected, 00/0007 programmable early warning.
    sense.eom
        && matches!(sense.key, SenseKey::NoSense | SenseKey::RecoveredError)
        && (sense.asc == 0x00 && matches!(sense.ascq, 0x00 | 0x02 | 0x07))
}

/// Interpret the result of WRITE(6) or WRITE FILEMARKS(6).
pub fn interpret_write(
    command: &'static str,
    device: &str,
    result: Result<Completion, ScsiError>,
) -> Result<WriteStatus, DriveError> {
    let err = match result {
        Ok(_) => return Ok(WriteStatus::Ok),
        Err(err) => err,
    };
    if let Some(sense) = err.sense() {
        if !sense.deferred {
            if is_early_warning(sense) {
                return Ok(WriteStatus::EarlyWarning);
            }
            if sense.key == SenseKey::RecoveredError {
                return Ok(WriteStatus::Ok);
            }
        }
    }
    Err(DriveError::from_scsi(command, None, device, err))
}

/// Interpret the result of a variable-block READ(6) of `requested` bytes
/// issued with SILI=0.
pub fn interpret_read(
    device: &str,
    requested: usize,
    result: Result<Completion, ScsiError>,
) -> Result<ReadEvent, DriveError> {
    let err = match result {
        // GOOD with SILI=0: the block had exactly the requested length.
        Ok(done) => return Ok(ReadEvent::Block(requested - done.residual.min(requested))),
        Err(err) => err,
    };
    let Some(sense) = err.sense() else {
        return Err(DriveError::from_scsi("READ(6)", None, device, err));
    };
    if sense.deferred {
        return Err(DriveError::from_scsi("READ(6)", None, device, err));
    }
    let benign = matches!(sense.key, SenseKey::NoSense | SenseKey::RecoveredError);
    if benign && sense.filemark {
        return Ok(ReadEvent::Filemark);
    }
    if is_end_of_data(sense) {
        return Ok(ReadEvent::EndOfData);
    }
    if benign && sense.ili {
        let Some(residual) = signed_information(sense) else {
            return Err(DriveError::Decode {
                what: "READ(6) incorrect length",
                device: device.to_string(),
                message: format!("ILI without a valid INFORMATION field: {sense}"),
            });
        };
        // Descriptor sense carries a 64-bit INFORMATION field: a residual
        // near i64::MIN would overflow a plain subtraction.
        let Some(actual) = (requested as i64).checked_sub(residual) else {
            return Err(DriveError::Decode {
                what: "READ(6) incorrect length",
                device: device.to_string(),
                message: format!("residual {residual} out of range for {requested} bytes"),
            });
        };
        if actual < 0 {
            return Err(DriveError::Decode {
                what: "READ(6) incorrect length",
                device: device.to_string(),
                message: format!("residual {residual} exceeds the requested {requested} bytes"),
            });
        }
        if residual < 0 {
            return Err(DriveError::BlockLargerThanBuffer {
                len: actual as usize,
                buffer: requested,
                device: device.to_string(),
            });
        }
        return Ok(ReadEvent::Block(actual as usize));
    }
    if sense.key == SenseKey::RecoveredError && !sense.eom {
        // The block was read after retries; no length mismatch was reported.
        return Ok(ReadEvent::Block(requested));
    }
    if benign && sense.eom {
        return Err(DriveError::EndOfMedium {
            device: device.to_string(),
            source: err,
        });
    }
    Err(DriveError::from_scsi("READ(6)", None, device, err))
}

/// Interpret the result of SPACE(6)/SPACE(16) over `count` units (negative:
/// backwards).
pub fn interpret_space(
    command: &'static str,
    device: &str,
    unit: SpaceUnit,
    count: i64,
    result: Result<Completion, ScsiError>,
) -> Result<(), DriveError> {
    let err = match result {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    let Some(sense) = err.sense() else {
        return Err(DriveError::from_scsi(command, None, device, err));
    };
    if sense.deferred {
        return Err(DriveError::from_scsi(command, None, device, err));
    }
    let benign = matches!(sense.key, SenseKey::NoSense | SenseKey::RecoveredError);
    let stop = if is_end_of_data(sense) {
        SpaceStop::EndOfData
    } else if benign && sense.filemark && unit == SpaceUnit::Blocks {
        SpaceStop::Filemark
    } else if benign && sense.eom && sense.asc == 0x00 && sense.ascq == 0x04 {
        SpaceStop::BeginningOfMedium
    } else if (benign && sense.eom) || sense.key == SenseKey::VolumeOverflow {
        if count < 0 {
            SpaceStop::BeginningOfMedium
        } else {
            SpaceStop::EndOfMedium
        }
    } else {
        return Err(DriveError::from_scsi(command, None, device, err));
    };
    // SSC: the INFORMATION field holds the count not spaced over as a
    // positive number, also when spacing backwards; SCSI-2 era drives sent
    // it negative for backward spacing. The magnitude means the same.
    let done = signed_information(sense)
        .map(i64::unsigned_abs)
        .and_then(|residual| count.unsigned_abs().checked_sub(residual));
    Err(DriveError::SpaceStopped {
        shortfall: SpaceShortfall {
            stop,
            unit,
            done,
            requested: count.unsigned_abs(),
        },
        device: device.to_string(),
        sense: sense.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "/emu/drive0";

    fn check(sense: SenseData) -> Result<Completion, ScsiError> {
        Err(ScsiError::CheckCondition {
            sense,
            transferred: 0,
            residual: 0,
        })
    }

    fn good(residual: usize) -> Result<Completion, ScsiError> {
        Ok(Completion {
            transferred: 0,
            residual,
        })
    }

    fn no_sense(ascq: u8) -> SenseData {
        SenseData::new(SenseKey::NoSense, 0x00, ascq)
    }

    /// Residual as a fixed-format 32-bit INFORMATION field.
    fn info32(v: i32) -> u64 {
        v as u32 as u64
    }

    #[test]
    fn read_good_is_full_block() {
        assert_eq!(
            interpret_read(DEV, 4096, good(0)).unwrap(),
            ReadEvent::Block(4096)
        );
    }

    #[test]
    fn read_short_block_from_information_with_resid_zero() {
        // QEMU iSCSI path: resid 0, but ILI with INFORMATION = 4096 - 1000.
        let sense = no_sense(0).with_ili().with_information(info32(3096));
        let r = Err(ScsiError::CheckCondition {
            sense,
            transferred: 4096,
            residual: 0,
        });
        assert_eq!(
            interpret_read(DEV, 4096, r).unwrap(),
            ReadEvent::Block(1000)
        );
    }

    #[test]
    fn read_short_block_descriptor_format() {
        let mut sense = no_sense(0).with_ili().with_information(96);
        sense.response_code = 0x72;
        assert_eq!(
            interpret_read(DEV, 100, check(sense)).unwrap(),
            ReadEvent::Block(4)
        );
    }

    #[test]
    fn read_descriptor_residual_near_i64_min_is_error_not_overflow() {
        let mut sense = no_sense(0).with_ili().with_information(1 << 63);
        sense.response_code = 0x72;
        assert!(matches!(
            interpret_read(DEV, 100, check(sense)),
            Err(DriveError::Decode { .. })
        ));
    }

    #[test]
    fn read_block_longer_than_buffer_is_error() {
        let sense = no_sense(0).with_ili().with_information(info32(-500));
        match interpret_read(DEV, 1000, check(sense)) {
            Err(DriveError::BlockLargerThanBuffer { len, buffer, .. }) => {
                assert_eq!((len, buffer), (1500, 1000))
            }
            other => panic!("unexpected {other:?}"),
        }
        let sense = no_sense(0).with_ili().with_information(info32(-500));
        let msg = interpret_read(DEV, 1000, check(sense))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("block of 1500 bytes does not fit buffer of 1000 bytes"),
            "{msg}"
        );
    }

    #[test]
    fn read_ili_without_information_is_error() {
        let sense = no_sense(0).with_ili();
        assert!(matches!(
            interpret_read(DEV, 100, check(sense)),
            Err(DriveError::Decode { .. })
        ));
    }

    #[test]
    fn read_filemark_and_end_of_data() {
        let fm = no_sense(1).with_filemark().with_information(info32(4096));
        assert_eq!(
            interpret_read(DEV, 4096, check(fm)).unwrap(),
            ReadEvent::Filemark
        );
        let eod = SenseData::new(SenseKey::BlankCheck, 0x00, 0x05);
        assert_eq!(
            interpret_read(DEV, 4096, check(eod)).unwrap(),
            ReadEvent::EndOfData
        );
    }

    #[test]
    fn read_medium_error_is_never_end_of_data() {
        let e = SenseData::new(SenseKey::MediumError, 0x11, 0x00).with_information(12);
        let err = interpret_read(DEV, 4096, check(e)).unwrap_err();
        assert!(matches!(
            err,
            DriveError::Scsi {
                command: "READ(6)",
                ..
            }
        ));
        assert!(err.to_string().contains("MEDIUM ERROR"), "{err}");
        // BLANK CHECK with another ASC is not "end of data" either.
        let e = SenseData::new(SenseKey::BlankCheck, 0x14, 0x03);
        assert!(interpret_read(DEV, 4096, check(e)).is_err());
        // A deferred error, even with a filemark bit, is an error.
        let e = SenseData::new(SenseKey::MediumError, 0x0C, 0x00).deferred();
        assert!(interpret_read(DEV, 4096, check(e)).is_err());
        assert!(interpret_read(DEV, 4096, Err(ScsiError::NoSense)).is_err());
    }

    #[test]
    fn write_early_warning_and_errors() {
        assert_eq!(
            interpret_write("WRITE(6)", DEV, good(0)).unwrap(),
            WriteStatus::Ok
        );
        let ew = no_sense(2).with_eom();
        assert_eq!(
            interpret_write("WRITE(6)", DEV, check(ew)).unwrap(),
            WriteStatus::EarlyWarning
        );
        let pew = no_sense(7).with_eom();
        assert_eq!(
            interpret_write("WRITE(6)", DEV, check(pew)).unwrap(),
            WriteStatus::EarlyWarning
        );
        let overflow = SenseData::new(SenseKey::VolumeOverflow, 0x00, 0x02).with_eom();
        assert!(matches!(
            interpret_write("WRITE(6)", DEV, check(overflow)),
            Err(DriveError::EndOfMedium { .. })
        ));
        let wp = SenseData::new(SenseKey::DataProtect, 0x27, 0x00);
        assert!(matches!(
            interpret_write("WRITE(6)", DEV, check(wp)),
            Err(DriveError::WriteProtected { .. })
        ));
        let deferred = SenseData::new(SenseKey::MediumError, 0x0C, 0x00).deferred();
        let err = interpret_write("WRITE FILEMARKS(6)", DEV, check(deferred)).unwrap_err();
        assert!(err.to_string().contains("deferred error"), "{err}");
        let e = SenseData::new(SenseKey::MediumError, 0x0C, 0x00).with_information(12);
        let msg = interpret_write("WRITE(6)", DEV, check(e))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "WRITE(6) failed on /emu/drive0: MEDIUM ERROR: write error (03/0C00) information 12"
        );
    }

    fn shortfall(err: DriveError) -> SpaceShortfall {
        match err {
            DriveError::SpaceStopped { shortfall, .. } => shortfall,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn space_blocks_stopped_at_filemark() {
        let s = no_sense(1).with_filemark().with_information(2);
        let err = interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, 5, check(s)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "space stopped at filemark after 3 of 5 blocks on /emu/drive0 (NO SENSE 00/0001)"
        );
    }

    #[test]
    fn space_backwards_residual_positive_or_negative() {
        // bsr 5 stopped after 3: SSC says INFORMATION = 2, SCSI-2 drives sent -2.
        for residual in [info32(2), info32(-2)] {
            let s = no_sense(1).with_filemark().with_information(residual);
            let sf = shortfall(
                interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, -5, check(s)).unwrap_err(),
            );
            assert_eq!(
                (sf.stop, sf.done, sf.requested),
                (SpaceStop::Filemark, Some(3), 5)
            );
        }
        // A residual larger than the count is not believed.
        let s = no_sense(1).with_filemark().with_information(9);
        let sf = shortfall(
            interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, 5, check(s)).unwrap_err(),
        );
        assert_eq!(sf.done, None);
        let bom = no_sense(4).with_eom().with_information(1);
        let sf = shortfall(
            interpret_space("SPACE(6)", DEV, SpaceUnit::Filemarks, -2, check(bom)).unwrap_err(),
        );
        assert_eq!((sf.stop, sf.done), (SpaceStop::BeginningOfMedium, Some(1)));
    }

    #[test]
    fn space_filemarks_end_of_data() {
        let s = SenseData::new(SenseKey::BlankCheck, 0x00, 0x05).with_information(1);
        let err = interpret_space("SPACE(6)", DEV, SpaceUnit::Filemarks, 2, check(s)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "end of data reached after 1 of 2 filemarks on /emu/drive0 (BLANK CHECK 08/0005)"
        );
        // Without INFORMATION the count is not guessed.
        let s = SenseData::new(SenseKey::BlankCheck, 0x00, 0x05);
        let sf = shortfall(
            interpret_space("SPACE(6)", DEV, SpaceUnit::Filemarks, 1, check(s)).unwrap_err(),
        );
        assert_eq!(sf.done, None);
    }

    #[test]
    fn space_other_errors_pass_through() {
        assert!(interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, 1, good(0)).is_ok());
        let e = SenseData::new(SenseKey::MediumError, 0x3B, 0x00);
        assert!(matches!(
            interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, 1, check(e)),
            Err(DriveError::Scsi {
                command: "SPACE(6)",
                ..
            })
        ));
        let e = SenseData::new(SenseKey::NotReady, 0x3A, 0x00);
        assert!(matches!(
            interpret_space("SPACE(6)", DEV, SpaceUnit::Blocks, 1, check(e)),
            Err(DriveError::NoMedium { .. })
        ));
    }
}
