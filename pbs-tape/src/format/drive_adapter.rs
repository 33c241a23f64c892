//! [`TapeWrite`] and [`TapeRead`] for [`LtoDrive`]: the format talks to a
//! real (or emulated) drive through these adapter impls.

use crate::drive::{DriveError, LtoDrive, ReadEvent, WriteStatus};

use super::tape::{
    ReadOutcome, TapeIoError, TapeLimits, TapePosition, TapeRead, TapeWrite, WriteOutcome,
};

fn outcome(status: WriteStatus) -> WriteOutcome {
    match status {
        WriteStatus::Ok => WriteOutcome::Written,
        WriteStatus::EarlyWarning => WriteOutcome::EarlyWarning,
    }
}

impl TapeLimits for LtoDrive {
    fn max_block_size(&self) -> usize {
        LtoDrive::max_block_size(self)
    }
    fn device_name(&self) -> String {
        self.path().to_string()
    }
}

impl TapeWrite for LtoDrive {
    /// WRITE(6) (opcode 0Ah, SSC-5 7.11), variable-block mode; early warning
    /// (0/00/02 with EOM) is [`WriteOutcome::EarlyWarning`].
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError> {
        Ok(outcome(LtoDrive::write_block(self, block)?))
    }
    /// WRITE FILEMARKS(6) (opcode 10h, SSC-5 7.12), count 1.
    fn write_filemark(&mut self, immediate: bool) -> Result<WriteOutcome, TapeIoError> {
        Ok(outcome(self.write_filemarks(1, immediate)?))
    }
    /// WRITE FILEMARKS(6) (opcode 10h, SSC-5 7.12), count 0, IMMED=0:
    /// the buffer reaches the medium; deferred errors surface here.
    fn flush(&mut self) -> Result<(), TapeIoError> {
        Ok(LtoDrive::flush(self)?)
    }
    /// READ POSITION (opcode 34h, SSC-5 7.7), long form; on a drive with
    /// only the short form, the logical object comes from the drive and the
    /// file number from the filemarks this handle counted since a known
    /// point (BOT, a located file). The finish barrier's check is the
    /// logical object, which counts every block and filemark written.
    fn position(&mut self) -> Result<TapePosition, TapeIoError> {
        let p = self.read_position()?;
        let file_number = p.file_number.or(self.tracked_file_number()).ok_or_else(|| {
            DriveError::PositionUnknown {
                device: self.path().to_string(),
                reason: format!(
                    "the drive answers only the short form of READ POSITION (no file number) at logical object {}, and the tape was not positioned from a known file (rewind or locate a file first)",
                    p.logical_object
                ),
            }
        })?;
        Ok(TapePosition {
            file_number,
            logical_object: p.logical_object,
        })
    }
}

impl TapeRead for LtoDrive {
    /// READ(6) (opcode 08h, SSC-5 7.4), variable-block mode; a medium
    /// error stays an error, never end of data.
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError> {
        Ok(match LtoDrive::read_block(self, buf)? {
            ReadEvent::Block(len) => ReadOutcome::Block(len),
            ReadEvent::Filemark => ReadOutcome::Filemark,
            ReadEvent::EndOfData => ReadOutcome::EndOfData,
        })
    }
}
