//! Test support: a scripted [`ScsiTransport`] that answers CDBs from
//! canned data, records every CDB and data-out buffer, and completes
//! data-in commands like a real device (the answer cut to the allocation
//! length, the rest reported as residual).
//!
//! Public (but hidden from the docs) so that unit tests, the integration
//! tests of this crate and the crates above can share one implementation.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Completion, DataDirection, ScsiError, ScsiTransport, SenseData};

/// A scripted answer: data-in bytes, or CHECK CONDITION with this sense.
pub type Answer = Result<Vec<u8>, SenseData>;

/// The CDBs a transport received, in order; shared so a test can read it
/// after the transport moved into a drive or changer.
pub type CdbLog = Arc<Mutex<Vec<Vec<u8>>>>;

/// Computes the full answer to a CDB (before the allocation length cut).
pub type Responder = Box<dyn FnMut(&[u8]) -> Result<Vec<u8>, ScsiError> + Send>;

/// CHECK CONDITION with `sense`, nothing transferred.
pub fn check_condition(sense: SenseData) -> ScsiError {
    ScsiError::CheckCondition {
        sense,
        transferred: 0,
        residual: 0,
    }
}

/// Complete a command like a device would: data-in gets the answer cut to
/// the buffer (the rest of the buffer is residual), data-out and no-data
/// commands transfer everything; an error answer is returned as is.
pub fn complete(
    answer: Result<Vec<u8>, ScsiError>,
    data: DataDirection<'_>,
) -> Result<Completion, ScsiError> {
    let bytes = answer?;
    match data {
        DataDirection::FromDevice(buf) => {
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            Ok(Completion {
                transferred: n,
                residual: buf.len() - n,
            })
        }
        other => Ok(Completion {
            transferred: other.len(),
            residual: 0,
        }),
    }
}

/// The answer of the first entry of `fixed` whose prefix `cdb` starts with.
pub fn prefix_answer(fixed: &[(Vec<u8>, Answer)], cdb: &[u8]) -> Option<Answer> {
    fixed
        .iter()
        .find(|(prefix, _)| cdb.starts_with(prefix))
        .map(|(_, answer)| answer.clone())
}

/// A transport that answers each CDB from, in this order: the first fixed
/// answer whose prefix the CDB starts with, the responder (if set), the
/// queue of scripted answers, else GOOD with no data.
pub struct ScriptedTransport {
    fixed: Vec<(Vec<u8>, Answer)>,
    responder: Option<Responder>,
    script: VecDeque<Answer>,
    log: CdbLog,
    data_out: Vec<(Vec<u8>, Vec<u8>)>,
    max_transfer: usize,
    path: String,
}

impl ScriptedTransport {
    /// An empty script: every command completes GOOD with no data.
    /// `max_transfer` is 512 KiB until [`Self::with_max_transfer`].
    pub fn new(path: &str) -> Self {
        ScriptedTransport {
            fixed: Vec::new(),
            responder: None,
            script: VecDeque::new(),
            log: CdbLog::default(),
            data_out: Vec::new(),
            max_transfer: 512 * 1024,
            path: path.to_string(),
        }
    }

    /// Answer every CDB starting with `prefix` with `answer` (first match wins).
    pub fn on(mut self, prefix: &[u8], answer: Answer) -> Self {
        self.fixed.push((prefix.to_vec(), answer));
        self
    }

    /// Answer the CDBs no fixed answer matched with `responder`.
    pub fn respond_with(
        mut self,
        responder: impl FnMut(&[u8]) -> Result<Vec<u8>, ScsiError> + Send + 'static,
    ) -> Self {
        self.responder = Some(Box::new(responder));
        self
    }

    /// Queue answers for the CDBs neither a fixed answer nor the responder took.
    pub fn queue(mut self, answers: impl IntoIterator<Item = Answer>) -> Self {
        self.script.extend(answers);
        self
    }

    /// The transfer limit the transport reports.
    pub fn with_max_transfer(mut self, max_transfer: usize) -> Self {
        self.max_transfer = max_transfer;
        self
    }

    /// A handle on the CDB log that stays valid after the transport moved.
    pub fn log(&self) -> CdbLog {
        self.log.clone()
    }

    /// Every CDB received so far, in order.
    pub fn cdbs(&self) -> Vec<Vec<u8>> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every data-out command: its CDB and the bytes sent.
    pub fn data_out(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.data_out
    }

    fn answer(&mut self, cdb: &[u8]) -> Result<Vec<u8>, ScsiError> {
        if let Some(answer) = prefix_answer(&self.fixed, cdb) {
            return answer.map_err(check_condition);
        }
        if let Some(responder) = self.responder.as_mut() {
            return responder(cdb);
        }
        self.script
            .pop_front()
            .unwrap_or(Ok(Vec::new()))
            .map_err(check_condition)
    }
}

impl ScsiTransport for ScriptedTransport {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataDirection<'_>,
        _timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        if let Ok(mut log) = self.log.lock() {
            log.push(cdb.to_vec());
        }
        if let DataDirection::ToDevice(bytes) = &data {
            self.data_out.push((cdb.to_vec(), bytes.to_vec()));
        }
        let answer = self.answer(cdb);
        complete(answer, data)
    }

    fn max_transfer(&self) -> usize {
        self.max_transfer
    }

    fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::SenseKey;

    fn run(t: &mut ScriptedTransport, cdb: &[u8], alloc: usize) -> Result<Vec<u8>, ScsiError> {
        let mut buf = vec![0u8; alloc];
        let c = t.execute(
            cdb,
            DataDirection::FromDevice(&mut buf),
            Duration::from_secs(1),
        )?;
        assert_eq!(c.transferred + c.residual, alloc);
        buf.truncate(c.transferred);
        Ok(buf)
    }

    #[test]
    fn fixed_then_responder_then_queue() {
        let not_ready = SenseData::new(SenseKey::NotReady, 0x3a, 0);
        let mut t = ScriptedTransport::new("t")
            .on(&[0x12], Ok(vec![1, 2, 3, 4]))
            .on(&[0x00], Err(not_ready))
            .queue([Ok(vec![9])]);
        assert_eq!(run(&mut t, &[0x12, 0], 2).unwrap(), [1, 2]);
        assert!(run(&mut t, &[0x00], 0)
            .unwrap_err()
            .sense()
            .is_some_and(|s| s.is(SenseKey::NotReady, 0x3a, 0)));
        assert_eq!(run(&mut t, &[0x08], 4).unwrap(), [9]);
        assert_eq!(run(&mut t, &[0x08], 4).unwrap(), Vec::<u8>::new());
        assert_eq!(t.cdbs().len(), 4);

        let mut t = ScriptedTransport::new("r").respond_with(|cdb| Ok(vec![cdb[0]; 3]));
        assert_eq!(run(&mut t, &[0x5a], 8).unwrap(), [0x5a; 3]);
    }

    #[test]
    fn records_data_out() {
        let mut t = ScriptedTransport::new("t").with_max_transfer(4096);
        let c = t
            .execute(
                &[0x55, 0x10],
                DataDirection::ToDevice(&[7, 8]),
                Duration::from_secs(1),
            )
            .unwrap();
        assert_eq!((c.transferred, c.residual), (2, 0));
        assert_eq!(t.data_out(), [(vec![0x55, 0x10], vec![7, 8])]);
        assert_eq!((t.max_transfer(), t.path()), (4096, "t"));
    }
}
