//! [`TapeCursor`]: the one place where the writer touches the tape. It
//! tracks the position the tape must be at, remembers early warning, and is
//! poisoned by the first error: after that every call fails.

use super::error::FormatError;
use super::tape::{TapePosition, TapeWrite, WriteOutcome};

/// A [`TapeWrite`] with the expected position and a poison flag.
#[derive(Debug)]
pub struct TapeCursor<T: TapeWrite> {
    tape: T,
    expected: TapePosition,
    early_warning: bool,
    poisoned: Option<String>,
}

impl<T: TapeWrite> TapeCursor<T> {
    /// Start at the tape's current position (read once with READ POSITION).
    pub fn new(mut tape: T) -> Result<Self, FormatError> {
        let expected = tape
            .position()
            .map_err(|e| FormatError::tape("READ POSITION", e))?;
        Ok(TapeCursor {
            tape,
            expected,
            early_warning: false,
            poisoned: None,
        })
    }

    /// Fail if poisoned.
    pub fn check(&self) -> Result<(), FormatError> {
        match &self.poisoned {
            Some(cause) => Err(FormatError::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Poison the cursor (the first cause is kept).
    pub fn poison(&mut self, cause: &FormatError) {
        if self.poisoned.is_none() {
            self.poisoned = Some(cause.to_string());
        }
    }

    /// Run `f`, poisoning on error.
    fn guarded<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, FormatError>,
    ) -> Result<R, FormatError> {
        self.check()?;
        let result = f(self);
        if let Err(e) = &result {
            self.poison(e);
        }
        result
    }

    /// Write one block; counts it into the expected position.
    pub fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, FormatError> {
        self.guarded(|c| {
            let outcome = c
                .tape
                .write_block(block)
                .map_err(|e| FormatError::tape("write block", e))?;
            c.advance(outcome, false);
            Ok(outcome)
        })
    }

    /// Write one filemark (buffered when `immediate`).
    pub fn write_filemark(&mut self, immediate: bool) -> Result<WriteOutcome, FormatError> {
        self.guarded(|c| {
            let outcome = c
                .tape
                .write_filemark(immediate)
                .map_err(|e| FormatError::tape("write filemark", e))?;
            c.advance(outcome, true);
            Ok(outcome)
        })
    }

    fn advance(&mut self, outcome: WriteOutcome, filemark: bool) {
        self.expected.logical_object += 1;
        if filemark {
            self.expected.file_number += 1;
        }
        if outcome == WriteOutcome::EarlyWarning {
            self.early_warning = true;
        }
    }

    /// Flush the drive (WRITE FILEMARKS 0, IMMED=0), read the position back
    /// and check it is the expected one.
    pub fn flush_and_verify(&mut self) -> Result<TapePosition, FormatError> {
        self.guarded(|c| {
            c.tape
                .flush()
                .map_err(|e| FormatError::tape("flush (WRITE FILEMARKS 0)", e))?;
            let actual = c
                .tape
                .position()
                .map_err(|e| FormatError::tape("READ POSITION", e))?;
            if actual != c.expected {
                return Err(FormatError::PositionMismatch {
                    expected: c.expected,
                    actual,
                });
            }
            Ok(actual)
        })
    }

    /// Where the tape must be after everything written so far.
    pub fn expected_position(&self) -> TapePosition {
        self.expected
    }

    /// True once any write reported early warning.
    pub fn early_warning(&self) -> bool {
        self.early_warning
    }

    /// Largest block the tape accepts.
    pub fn max_block_size(&self) -> usize {
        self.tape.max_block_size()
    }

    /// The tape underneath (read-only access, e.g. for its name).
    pub fn tape(&self) -> &T {
        &self.tape
    }

    /// The device underneath, for commands that neither move the tape
    /// nor write (e.g. the drive's encryption state).
    pub fn device_mut(&mut self) -> &mut T {
        &mut self.tape
    }

    /// Give the tape back.
    pub fn into_inner(self) -> T {
        self.tape
    }
}
