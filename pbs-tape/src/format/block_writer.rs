//! [`BlockWriter`]: cuts a byte stream into checksummed blocks of a fixed
//! size and ends it with an end-of-stream block and a filemark.

use super::block::{seal_block, BLOCK_HEADER_LEN, FLAG_END_OF_STREAM, FLAG_INCOMPLETE};
use super::cursor::TapeCursor;
use super::error::FormatError;
use super::tape::{TapePosition, TapeWrite, WriteOutcome};

/// What [`BlockWriter::finish`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSummary {
    /// Blocks written, including the end-of-stream block.
    pub blocks: u32,
    /// Payload bytes in the stream.
    pub bytes: u64,
}

/// Writes one stream (one tape file) as blocks of `block_size` bytes.
///
/// With `stop_at_early_warning`, [`BlockWriter::write`] stops consuming
/// input right after the block write that reported early warning: the
/// buffer is then empty, everything consumed is on tape, and the caller
/// ends the stream at its last complete record.
#[derive(Debug)]
pub struct BlockWriter<'a, T: TapeWrite> {
    cursor: &'a mut TapeCursor<T>,
    block: Vec<u8>,
    block_size: usize,
    sequence: u32,
    bytes: u64,
    stop_at_early_warning: bool,
    stopped: bool,
}

impl<'a, T: TapeWrite> BlockWriter<'a, T> {
    /// `block_size` must be validated by the caller ([`super::block::validate_block_size`]).
    pub fn new(
        cursor: &'a mut TapeCursor<T>,
        block_size: usize,
        stop_at_early_warning: bool,
    ) -> Self {
        let mut block = Vec::with_capacity(block_size);
        block.resize(BLOCK_HEADER_LEN, 0);
        BlockWriter {
            cursor,
            block,
            block_size,
            sequence: 0,
            bytes: 0,
            stop_at_early_warning,
            stopped: false,
        }
    }

    /// Append `data`; returns how many bytes were consumed (all of them,
    /// unless the writer stopped at early warning).
    pub fn write(&mut self, mut data: &[u8]) -> Result<usize, FormatError> {
        self.cursor.check()?;
        let mut consumed = 0;
        while !data.is_empty() && !self.stopped {
            let room = self.block_size - self.block.len();
            let n = room.min(data.len());
            self.block.extend_from_slice(&data[..n]);
            data = &data[n..];
            consumed += n;
            self.bytes += n as u64;
            if self.block.len() == self.block_size {
                let outcome = self.emit(0, 0)?;
                if outcome == WriteOutcome::EarlyWarning && self.stop_at_early_warning {
                    self.stopped = true;
                }
            }
        }
        Ok(consumed)
    }

    /// True when the writer stopped at early warning (see [`BlockWriter::new`]).
    pub fn stopped_at_early_warning(&self) -> bool {
        self.stopped
    }

    /// Where the next payload byte goes: the sequence number of the block
    /// being filled and the offset within its payload (a full block is
    /// written at once, so the offset is always inside the block).
    pub fn next_byte_position(&self) -> (u32, u32) {
        (self.sequence, (self.block.len() - BLOCK_HEADER_LEN) as u32)
    }

    /// Payload bytes consumed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn emit(&mut self, flags: u16, record_count: u64) -> Result<WriteOutcome, FormatError> {
        seal_block(&mut self.block, self.sequence, flags, record_count);
        let outcome = self.cursor.write_block(&self.block)?;
        self.sequence += 1;
        self.block.truncate(BLOCK_HEADER_LEN);
        Ok(outcome)
    }

    /// Write the end-of-stream block (with whatever payload is buffered,
    /// `record_count`, and the incomplete flag if asked) and a filemark
    /// with IMMED (buffered; made durable only by a later flush).
    pub fn finish(self, incomplete: bool, record_count: u64) -> Result<StreamSummary, FormatError> {
        self.finish_at(incomplete, record_count)
            .map(|(summary, _)| summary)
    }

    /// [`BlockWriter::finish`], also returning the expected position after the filemark.
    pub fn finish_at(
        mut self,
        incomplete: bool,
        record_count: u64,
    ) -> Result<(StreamSummary, TapePosition), FormatError> {
        self.cursor.check()?;
        let mut flags = FLAG_END_OF_STREAM;
        if incomplete {
            flags |= FLAG_INCOMPLETE;
        }
        self.emit(flags, record_count)?;
        self.cursor.write_filemark(true)?;
        let summary = StreamSummary {
            blocks: self.sequence,
            bytes: self.bytes,
        };
        Ok((summary, self.cursor.expected_position()))
    }

    /// Poison the tape cursor (the stream is abandoned).
    pub fn poison(&mut self, cause: &FormatError) {
        self.cursor.poison(cause);
    }
}
