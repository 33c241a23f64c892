//! [`BlockReader`]: reads one stream (one tape file) block by block, checks
//! every block, and hands out the payload bytes.

use super::block::{check_block, BLOCK_HEADER_LEN};
use super::constants::MAX_BLOCK_SIZE;
use super::error::FormatError;
use super::tape::{ReadOutcome, TapeRead};

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// The writer ended the stream early; it continues on another tape.
    pub incomplete: bool,
    /// Record count from the end-of-stream block.
    pub record_count: u64,
    /// Blocks in the stream.
    pub blocks: u32,
}

/// Reads the payload of one stream. Every block is checked (magic, version,
/// length, CRC32C, sequence); the stream must end with an end-of-stream
/// block followed by a filemark, which is consumed, so the tape is left at
/// the start of the next file.
#[derive(Debug)]
pub struct BlockReader<'a, R: TapeRead> {
    tape: &'a mut R,
    buf: Vec<u8>,
    /// Where the filemark after an end-of-stream block is read: a read that
    /// returns no block may still overwrite its whole buffer (SG_IO copies
    /// a bounce buffer back), and `buf` holds the last block's payload.
    probe: Vec<u8>,
    start: usize,
    end: usize,
    next_sequence: u32,
    ended: Option<StreamEnd>,
    allow_incomplete: bool,
    /// Go on after a damaged or missing block (see [`Self::set_resync`]).
    resync: bool,
    /// Opened at a block other than the first ([`Self::at_block`]).
    started_mid_stream: bool,
}

impl<'a, R: TapeRead> BlockReader<'a, R> {
    /// A reader that refuses streams marked incomplete
    /// ([`FormatError::StreamIncomplete`] at their end).
    pub fn new(tape: &'a mut R) -> Self {
        Self::with_incomplete(tape, false)
    }

    /// A reader that accepts incomplete streams when `allow_incomplete`
    /// (chunk archives that continue on the next tape).
    pub fn with_incomplete(tape: &'a mut R, allow_incomplete: bool) -> Self {
        BlockReader {
            tape,
            buf: Vec::new(),
            probe: Vec::new(),
            start: 0,
            end: 0,
            next_sequence: 0,
            ended: None,
            allow_incomplete,
            resync: false,
            started_mid_stream: false,
        }
    }

    /// A reader for a stream whose block `sequence` is the next object at
    /// the tape's position (the caller LOCATEd there): reading starts
    /// with that block, and a block with any other sequence number is a
    /// gap or duplicate error, so a wrong position is noticed.
    pub fn at_block(tape: &'a mut R, sequence: u32, allow_incomplete: bool) -> Self {
        let mut reader = Self::with_incomplete(tape, allow_incomplete);
        reader.next_sequence = sequence;
        reader.started_mid_stream = sequence > 0;
        reader
    }

    /// Where the next payload byte comes from: (block sequence, offset
    /// in that block's payload).
    pub fn next_byte_position(&self) -> (u32, u32) {
        if self.start < self.end {
            (
                self.next_sequence - 1,
                (self.start - BLOCK_HEADER_LEN) as u32,
            )
        } else {
            (self.next_sequence, 0)
        }
    }

    /// Skips `n` payload bytes of the block just read (not past its end).
    pub fn skip_in_block(&mut self, n: usize) -> Result<(), FormatError> {
        if self.start + n > self.end {
            return Err(FormatError::EntryOutsideBlock {
                block: self.next_sequence.saturating_sub(1),
                offset: n as u32,
                payload: self.end.saturating_sub(BLOCK_HEADER_LEN),
            });
        }
        self.start += n;
        Ok(())
    }

    /// Read the first block. `Ok(false)`: the tape is at end of data, no
    /// stream here. A filemark instead of a block is
    /// [`FormatError::StreamCutShort`].
    pub fn begin(&mut self) -> Result<bool, FormatError> {
        if (self.next_sequence > 0 && !self.started_mid_stream) || self.ended.is_some() {
            return Ok(true);
        }
        match self.fetch_raw()? {
            ReadOutcome::EndOfData => Ok(false),
            outcome => {
                self.started_mid_stream = false;
                self.accept(outcome)?;
                Ok(true)
            }
        }
    }

    fn fetch_raw(&mut self) -> Result<ReadOutcome, FormatError> {
        Self::read_into(self.tape, &mut self.buf)
    }

    /// Read the next object into `buf` (allocated on first use with the
    /// device's largest block). Whatever the outcome, the old contents of
    /// `buf` are gone.
    fn read_into(tape: &mut R, buf: &mut Vec<u8>) -> Result<ReadOutcome, FormatError> {
        if buf.is_empty() {
            let size = tape
                .max_block_size()
                .clamp(BLOCK_HEADER_LEN, MAX_BLOCK_SIZE);
            *buf = vec![0u8; size];
        }
        tape.read_block(buf)
            .map_err(|e| FormatError::tape("read block", e))
    }

    fn accept(&mut self, outcome: ReadOutcome) -> Result<(), FormatError> {
        let len = match outcome {
            ReadOutcome::Block(len) => len,
            ReadOutcome::Filemark => {
                return Err(FormatError::StreamCutShort {
                    at: "filemark",
                    blocks: self.next_sequence,
                })
            }
            ReadOutcome::EndOfData => {
                return Err(FormatError::StreamCutShort {
                    at: "end of data",
                    blocks: self.next_sequence,
                })
            }
        };
        let mut gap = None;
        let block = match check_block(&self.buf[..len], self.next_sequence) {
            Ok(block) => block,
            // Blocks are missing: their bytes are lost, this one is good.
            Err(e @ FormatError::SequenceGap { found, .. }) if self.resync => {
                gap = Some(e);
                check_block(&self.buf[..len], found)?
            }
            // Read twice: the copy is dropped.
            Err(FormatError::DuplicateBlock { .. }) if self.resync => {
                self.start = self.end;
                return Ok(());
            }
            Err(e) if self.resync && is_block_damage(&e) => {
                // The block is dropped; its bytes are lost, the next
                // block carries on.
                self.next_sequence += 1;
                self.start = self.end;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.next_sequence = block.sequence + 1;
        self.start = BLOCK_HEADER_LEN;
        self.end = BLOCK_HEADER_LEN + block.payload_len;
        if block.end_of_stream() {
            self.ended = Some(StreamEnd {
                incomplete: block.incomplete(),
                record_count: block.record_count,
                blocks: self.next_sequence,
            });
            // The payload of this last block is still to be handed out:
            // the filemark is read into another buffer.
            match Self::read_into(self.tape, &mut self.probe)? {
                ReadOutcome::Filemark => {}
                ReadOutcome::EndOfData => {
                    return Err(FormatError::MissingFilemark {
                        found: "end of data",
                    })
                }
                ReadOutcome::Block(_) => {
                    return Err(FormatError::MissingFilemark { found: "a block" })
                }
            }
        }
        match gap {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Copy up to `out.len()` payload bytes; 0 means the stream ended
    /// (and, for an incomplete stream with a strict reader, an error).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, FormatError> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.start < self.end {
                let n = (self.end - self.start).min(out.len());
                out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
                self.start += n;
                return Ok(n);
            }
            if let Some(end) = self.ended {
                if end.incomplete && !self.allow_incomplete {
                    return Err(FormatError::StreamIncomplete {
                        records: end.record_count,
                    });
                }
                return Ok(0);
            }
            let outcome = self.fetch_raw()?;
            self.accept(outcome)?;
        }
    }

    /// Fill `out` as far as the stream goes; returns the bytes filled
    /// (less than `out.len()` only at the end of the stream).
    pub fn read_fill(&mut self, out: &mut [u8]) -> Result<usize, FormatError> {
        let mut filled = 0;
        while filled < out.len() {
            let n = self.read(&mut out[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(filled)
    }

    /// Read the rest of the stream, discarding it; returns the bytes skipped.
    pub fn skip_to_end(&mut self) -> Result<u64, FormatError> {
        let mut skipped = 0u64;
        loop {
            skipped += (self.end - self.start) as u64;
            self.start = self.end;
            if self.ended.is_some() {
                // Let `read` apply the incomplete check.
                self.read(&mut [0u8; 1])?;
                return Ok(skipped);
            }
            let outcome = self.fetch_raw()?;
            self.accept(outcome)?;
        }
    }

    /// Require the end of the stream here: no payload byte may follow.
    pub fn expect_end(&mut self, what: &'static str) -> Result<StreamEnd, FormatError> {
        let rest = self.skip_to_end()?;
        if rest > 0 {
            return Err(FormatError::TrailingData { what, len: rest });
        }
        self.stream_end().ok_or(FormatError::StreamCutShort {
            at: "end of data",
            blocks: self.next_sequence,
        })
    }

    /// How the stream ended, once its end-of-stream block was read.
    pub fn stream_end(&self) -> Option<StreamEnd> {
        self.ended
    }

    /// True once the end-of-stream block was read and its payload consumed.
    pub fn at_end(&self) -> bool {
        self.ended.is_some() && self.start == self.end
    }
}

/// A block that is unusable by itself (its neighbours may be fine).
fn is_block_damage(e: &FormatError) -> bool {
    matches!(
        e,
        FormatError::BlockTooShort { .. }
            | FormatError::BadBlockMagic { .. }
            | FormatError::UnsupportedBlockVersion { .. }
            | FormatError::UnknownBlockFlags { .. }
            | FormatError::BadBlockLength { .. }
            | FormatError::ChecksumMismatch { .. }
    )
}

impl<R: TapeRead> BlockReader<'_, R> {
    /// With `resync`, a damaged block (checksum, framing) or missing blocks
    /// are reported once as an error and reading goes on with the next good
    /// block: the stream then lacks the lost blocks' bytes. Repeated blocks
    /// are dropped silently.
    pub fn set_resync(&mut self, resync: bool) {
        self.resync = resync;
    }

    /// Change whether an incomplete stream is accepted (e.g. once the
    /// content header says what the stream is).
    pub fn set_allow_incomplete(&mut self, allow: bool) {
        self.allow_incomplete = allow;
    }

    /// Start a stream that must be there: end of data is
    /// [`FormatError::StreamCutShort`].
    pub fn begin_required(&mut self) -> Result<(), FormatError> {
        if self.begin()? {
            Ok(())
        } else {
            Err(FormatError::StreamCutShort {
                at: "end of data",
                blocks: 0,
            })
        }
    }
}
