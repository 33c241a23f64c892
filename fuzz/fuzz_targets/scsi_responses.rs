//! SPC command wrappers (INQUIRY standard data and VPD pages, REQUEST
//! SENSE, MODE SENSE, LOG SENSE, REPORT LUNS) over a device whose answers
//! are the fuzz input: any answer gives data or a typed error, never a
//! panic, and never more bytes than the device sent.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pbs_tape::scsi::{spc, testing, Completion, DataDirection, ScsiError, ScsiTransport};
use ptape_fuzz::exercise;

/// A device that answers each data-in command with the next piece of the
/// input: one length byte (0xFF: CHECK CONDITION without sense), then
/// that many bytes (fewer when the input runs out).
struct ScriptedDevice<'a> {
    script: &'a [u8],
    max_transfer: usize,
}

impl ScsiTransport for ScriptedDevice<'_> {
    fn execute(
        &mut self,
        _cdb: &[u8],
        data: DataDirection<'_>,
        _timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        let Some((&len, rest)) = self.script.split_first() else {
            return Err(ScsiError::NoSense);
        };
        if len == 0xff {
            self.script = rest;
            return Err(ScsiError::NoSense);
        }
        let (answer, rest) = rest.split_at((len as usize).min(rest.len()));
        self.script = rest;
        testing::complete(Ok(answer.to_vec()), data)
    }

    fn max_transfer(&self) -> usize {
        self.max_transfer
    }

    fn path(&self) -> &str {
        "fuzz"
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, script)) = data.split_first() else {
        return;
    };
    let mut dev = ScriptedDevice {
        script,
        max_transfer: 64 + usize::from(selector >> 4) * 512,
    };
    let t: &mut dyn ScsiTransport = &mut dev;
    match selector % 12 {
        0 => exercise(spc::inquiry(t)),
        1 => exercise(spc::request_sense(t)),
        2 => {
            if let Ok(page) = spc::vpd_page(t, 0x83) {
                assert!(page.len() >= 4 && page[1] == 0x83);
            }
        }
        3 => exercise(spc::supported_vpd_pages(t)),
        4 => exercise(spc::unit_serial_number(t)),
        5 => {
            if let Ok(designators) = spc::device_identification(t) {
                for d in &designators {
                    let _ = (d.type_name(), d.to_text());
                }
            }
        }
        6 => exercise(spc::mode_sense6(t, 0x10, 0, false)),
        7 => exercise(spc::mode_sense10(t, 0x0f, 0, true)),
        8 => {
            if let Ok(page) = spc::log_sense(t, 0x2e, 0) {
                assert!(page.len() >= 4);
            }
        }
        9 => exercise(spc::supported_log_pages(t)),
        10 => exercise(spc::report_luns(t)),
        _ => {
            for d in spc::parse_designators(script) {
                let _ = (d.type_name(), d.to_text());
            }
        }
    }
});
