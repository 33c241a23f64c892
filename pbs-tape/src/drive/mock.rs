//! A scripted SCSI transport for unit tests of the drive layer: answers
//! INQUIRY, VPD 0x80 and READ BLOCK LIMITS like a tape drive, every other
//! command from a queue, and records every CDB.

use std::collections::VecDeque;
use std::time::Duration;

use super::lto::LtoDrive;
use crate::scsi::discovery::PERIPHERAL_TYPE_TAPE;
use crate::scsi::opcodes;
use crate::scsi::testing::{check_condition, complete, prefix_answer};
pub(crate) use crate::scsi::testing::{Answer, CdbLog};
use crate::scsi::{Completion, DataDirection, ScsiError, ScsiTransport};

/// A transport that answers INQUIRY, VPD 0x80 and READ BLOCK LIMITS like
/// a tape drive, every other command from a queue of scripted answers
/// (GOOD with no data when the queue is empty), and records every CDB.
/// Completion follows [`crate::scsi::testing::complete`].
pub(crate) struct Mock {
    pub(crate) peripheral_type: u8,
    /// Answers for every CDB starting with the given bytes (checked before
    /// the built-in INQUIRY / READ BLOCK LIMITS answers and the queue).
    pub(crate) fixed: Vec<(Vec<u8>, Answer)>,
    pub(crate) script: VecDeque<Answer>,
    pub(crate) log: CdbLog,
}

/// What a tape drive of `peripheral_type` answers to INQUIRY, VPD page
/// 0x80 and READ BLOCK LIMITS; `None` for every other CDB.
fn tape_drive_answer(peripheral_type: u8, cdb: &[u8]) -> Option<Answer> {
    match (cdb[0], cdb[1] & 1, cdb[2]) {
        (opcodes::INQUIRY, 0, _) => {
            let mut d = vec![0u8; 36];
            d[0] = peripheral_type;
            d[4] = 31;
            d[8..16].copy_from_slice(b"MOCK    ");
            d[16..32].copy_from_slice(b"ULTRIUM-TD9     ");
            d[32..36].copy_from_slice(b"0001");
            Some(Ok(d))
        }
        (opcodes::INQUIRY, 1, 0x80) => Some(Ok(b"\x01\x80\x00\x04S123".to_vec())),
        (opcodes::READ_BLOCK_LIMITS, _, _) => Some(Ok(vec![0, 0x10, 0, 0, 0, 1])),
        _ => None,
    }
}

impl ScsiTransport for Mock {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataDirection<'_>,
        _timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        self.log.lock().unwrap().push(cdb.to_vec());
        let answer = prefix_answer(&self.fixed, cdb)
            .or_else(|| tape_drive_answer(self.peripheral_type, cdb))
            .unwrap_or_else(|| self.script.pop_front().unwrap_or(Ok(Vec::new())));
        complete(answer.map_err(check_condition), data)
    }

    fn max_transfer(&self) -> usize {
        512 * 1024
    }

    fn path(&self) -> &str {
        "/mock/drive0"
    }
}

pub(crate) fn mock_drive(script: Vec<Answer>) -> (LtoDrive, CdbLog) {
    mock_drive_with(Vec::new(), script)
}

/// A drive on a [`Mock`] with `fixed` answers by CDB prefix and a queue of
/// answers for everything else; the log starts empty after open.
pub(crate) fn mock_drive_with(
    fixed: Vec<(Vec<u8>, Answer)>,
    script: Vec<Answer>,
) -> (LtoDrive, CdbLog) {
    let log = CdbLog::default();
    let mock = Mock {
        peripheral_type: PERIPHERAL_TYPE_TAPE,
        fixed,
        script: script.into(),
        log: log.clone(),
    };
    let drive = LtoDrive::from_transport(Box::new(mock)).expect("open mock drive");
    log.lock().unwrap().clear();
    (drive, log)
}

pub(crate) fn opcodes_sent(log: &CdbLog) -> Vec<u8> {
    log.lock().unwrap().iter().map(|c| c[0]).collect()
}

pub(crate) fn long_form(flags: u8, object: u64, file: u64) -> Vec<u8> {
    let mut d = vec![flags, 0, 0, 0, 0, 0, 0, 0];
    d.extend_from_slice(&object.to_be_bytes());
    d.extend_from_slice(&file.to_be_bytes());
    d.extend_from_slice(&[0; 8]);
    d
}
