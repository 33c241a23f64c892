//! The two small traits the format is written against: [`TapeWrite`] and
//! [`TapeRead`], plus the position and error types they share.
//!
//! `LtoDrive` implements them (see [`super::drive_adapter`]), so do the
//! in-memory [`super::MemoryTape`] and the file-backed [`super::FileTape`].

use crate::drive::DriveError;

/// Position of the tape head as SSC READ POSITION reports it.
///
/// `logical_object` counts blocks *and* filemarks from the beginning of the
/// partition; `file_number` counts filemarks (SSC-4 7.7: logical file
/// identifier).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub struct TapePosition {
    pub file_number: u64,
    pub logical_object: u64,
}

impl std::fmt::Display for TapePosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "file {} object {}",
            self.file_number, self.logical_object
        )
    }
}

/// Result of a successful write of a block or filemark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written (or accepted into the drive buffer).
    Written,
    /// Written, and the medium passed its early-warning point: finish what
    /// is open and continue on another tape.
    EarlyWarning,
}

/// What one read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// A block of this many bytes is at the start of the buffer.
    Block(usize),
    /// A filemark: the end of the current tape file.
    Filemark,
    /// End of recorded data (BLANK CHECK).
    EndOfData,
}

/// Why a tape operation failed (below the format layer).
#[derive(Debug, thiserror::Error)]
pub enum TapeIoError {
    /// The LTO drive reported an error (including hard end of medium).
    #[error(transparent)]
    Drive(Box<DriveError>),
    /// Physical end of medium on a non-drive tape (memory or file tape).
    #[error("end of medium reached on {device}")]
    EndOfMedium { device: String },
    /// A block larger than the read buffer (SSC: ILI with negative residual).
    #[error("block of {block} bytes does not fit the read buffer of {buffer} bytes on {device}")]
    BlockLargerThanBuffer {
        device: String,
        block: usize,
        buffer: usize,
    },
    /// A block larger than the device accepts.
    #[error("block of {len} bytes exceeds the largest block {max} bytes of {device}")]
    BlockTooLarge {
        device: String,
        len: usize,
        max: usize,
    },
    /// A tape image file does not decode.
    #[error("tape image {device}: {message}")]
    Image { device: String, message: String },
    /// I/O on a file tape failed.
    #[error("tape image {device}: {source}")]
    Io {
        device: String,
        #[source]
        source: std::io::Error,
    },
    /// The read-ahead thread stopped or panicked ([`super::ReadAhead`]).
    #[error("read-ahead thread for {device}: {message}")]
    ReadAhead { device: String, message: String },
}

impl TapeIoError {
    /// True for a hard end of medium (SSC VOLUME OVERFLOW): data may be lost.
    pub fn is_end_of_medium(&self) -> bool {
        matches!(self, TapeIoError::EndOfMedium { .. })
            || matches!(self, TapeIoError::Drive(e) if matches!(**e, DriveError::EndOfMedium { .. }))
    }
}

impl From<DriveError> for TapeIoError {
    fn from(e: DriveError) -> Self {
        TapeIoError::Drive(Box::new(e))
    }
}

/// Limits shared by readers and writers.
pub trait TapeLimits {
    /// Largest block this device reads or writes, bytes.
    fn max_block_size(&self) -> usize;
    /// Name of the device for messages.
    fn device_name(&self) -> String;
}

/// A tape that accepts blocks and filemarks, in variable-block mode.
pub trait TapeWrite: TapeLimits {
    /// Write one block. Early warning is a success ([`WriteOutcome::EarlyWarning`]).
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError>;
    /// Write one filemark; `immediate` lets a drive return before the buffer
    /// reaches the medium (SSC WRITE FILEMARKS IMMED=1).
    fn write_filemark(&mut self, immediate: bool) -> Result<WriteOutcome, TapeIoError>;
    /// Write every buffered block and filemark to the medium and report any
    /// deferred error (SSC: WRITE FILEMARKS count 0, IMMED=0).
    fn flush(&mut self) -> Result<(), TapeIoError>;
    /// Read the current position (SSC READ POSITION).
    fn position(&mut self) -> Result<TapePosition, TapeIoError>;
}

/// A tape that returns blocks, filemarks and end of data.
pub trait TapeRead: TapeLimits {
    /// Read the next block into `buf`. After [`ReadOutcome::Block`]`(n)`
    /// only `buf[..n]` is defined; after any other outcome (or an error)
    /// the whole buffer is: a read through the Linux sg driver that moves
    /// no data may still copy a whole bounce buffer back over it.
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError>;
}

impl<T: TapeLimits + ?Sized> TapeLimits for &mut T {
    fn max_block_size(&self) -> usize {
        (**self).max_block_size()
    }
    fn device_name(&self) -> String {
        (**self).device_name()
    }
}

impl<T: TapeWrite + ?Sized> TapeWrite for &mut T {
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError> {
        (**self).write_block(block)
    }
    fn write_filemark(&mut self, immediate: bool) -> Result<WriteOutcome, TapeIoError> {
        (**self).write_filemark(immediate)
    }
    fn flush(&mut self) -> Result<(), TapeIoError> {
        (**self).flush()
    }
    fn position(&mut self) -> Result<TapePosition, TapeIoError> {
        (**self).position()
    }
}

impl<T: TapeRead + ?Sized> TapeRead for &mut T {
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError> {
        (**self).read_block(buf)
    }
}
