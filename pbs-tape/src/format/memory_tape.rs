//! [`MemoryTape`]: a tape held in memory, with optional early warning and
//! capacity, for tests and fuzzing. Same semantics as a drive in
//! variable-block mode: writing truncates everything after the position.

use super::constants::MAX_BLOCK_SIZE;
use super::image::{decode_image, encode_image, TapeRecord};
use super::tape::{
    ReadOutcome, TapeIoError, TapeLimits, TapePosition, TapeRead, TapeWrite, WriteOutcome,
};

/// An in-memory tape.
#[derive(Debug, Clone)]
pub struct MemoryTape {
    records: Vec<TapeRecord>,
    /// Index of the next record (= logical object number).
    pos: usize,
    file_number: u64,
    /// Block bytes before `pos`.
    used: u64,
    max_block: usize,
    early_warning_at: Option<u64>,
    capacity: Option<u64>,
}

impl Default for MemoryTape {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTape {
    /// An empty tape of unlimited size.
    pub fn new() -> Self {
        MemoryTape {
            records: Vec::new(),
            pos: 0,
            file_number: 0,
            used: 0,
            max_block: MAX_BLOCK_SIZE,
            early_warning_at: None,
            capacity: None,
        }
    }

    /// A tape from image bytes (see [`super::image`]), positioned at BOT.
    pub fn from_image(bytes: &[u8]) -> Result<Self, TapeIoError> {
        let records = decode_image(bytes).map_err(|message| TapeIoError::Image {
            device: "memory tape".into(),
            message,
        })?;
        Ok(MemoryTape {
            records,
            ..Self::new()
        })
    }

    /// The tape as image bytes.
    pub fn to_image(&self) -> Vec<u8> {
        encode_image(&self.records)
    }

    /// Writes report early warning once `bytes` block bytes are on the tape.
    pub fn with_early_warning(mut self, bytes: u64) -> Self {
        self.early_warning_at = Some(bytes);
        self
    }

    /// A block write that would pass `bytes` fails with end of medium.
    pub fn with_capacity(mut self, bytes: u64) -> Self {
        self.capacity = Some(bytes);
        self
    }

    /// Largest block read or written.
    pub fn with_max_block_size(mut self, max: usize) -> Self {
        self.max_block = max;
        self
    }

    /// The records on the tape.
    pub fn records(&self) -> &[TapeRecord] {
        &self.records
    }

    /// Mutable records (to damage a tape in tests).
    pub fn records_mut(&mut self) -> &mut Vec<TapeRecord> {
        &mut self.records
    }

    /// Back to the beginning of tape.
    pub fn rewind(&mut self) {
        self.pos = 0;
        self.file_number = 0;
        self.used = 0;
    }

    /// Position at logical object `object` (block or filemark number).
    pub fn locate_object(&mut self, object: u64) -> Result<(), TapeIoError> {
        self.rewind();
        while (self.pos as u64) < object {
            match self.records.get(self.pos) {
                Some(TapeRecord::Filemark) => self.file_number += 1,
                Some(TapeRecord::Block(b)) => self.used += b.len() as u64,
                None => {
                    return Err(TapeIoError::Image {
                        device: self.device_name(),
                        message: format!("logical object {object} does not exist"),
                    })
                }
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// Position at the start of tape file `n` (after the n-th filemark).
    pub fn locate_file(&mut self, n: u64) -> Result<(), TapeIoError> {
        self.rewind();
        while self.file_number < n {
            match self.records.get(self.pos) {
                Some(TapeRecord::Filemark) => self.file_number += 1,
                Some(TapeRecord::Block(b)) => self.used += b.len() as u64,
                None => {
                    return Err(TapeIoError::Image {
                        device: self.device_name(),
                        message: format!("tape file {n} does not exist"),
                    })
                }
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// To end of data (after the last record).
    pub fn move_to_eod(&mut self) {
        while let Some(record) = self.records.get(self.pos) {
            match record {
                TapeRecord::Filemark => self.file_number += 1,
                TapeRecord::Block(b) => self.used += b.len() as u64,
            }
            self.pos += 1;
        }
    }

    fn append(&mut self, record: TapeRecord) -> WriteOutcome {
        self.records.truncate(self.pos);
        if let TapeRecord::Block(b) = &record {
            self.used += b.len() as u64;
        } else {
            self.file_number += 1;
        }
        self.records.push(record);
        self.pos += 1;
        match self.early_warning_at {
            Some(ew) if self.used >= ew => WriteOutcome::EarlyWarning,
            _ => WriteOutcome::Written,
        }
    }
}

impl TapeLimits for MemoryTape {
    fn max_block_size(&self) -> usize {
        self.max_block
    }
    fn device_name(&self) -> String {
        "memory tape".into()
    }
}

impl TapeWrite for MemoryTape {
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError> {
        if block.len() > self.max_block {
            return Err(TapeIoError::BlockTooLarge {
                device: self.device_name(),
                len: block.len(),
                max: self.max_block,
            });
        }
        if let Some(cap) = self.capacity {
            if self.used + block.len() as u64 > cap {
                self.records.truncate(self.pos);
                return Err(TapeIoError::EndOfMedium {
                    device: self.device_name(),
                });
            }
        }
        Ok(self.append(TapeRecord::Block(block.to_vec())))
    }

    fn write_filemark(&mut self, _immediate: bool) -> Result<WriteOutcome, TapeIoError> {
        Ok(self.append(TapeRecord::Filemark))
    }

    fn flush(&mut self) -> Result<(), TapeIoError> {
        Ok(())
    }

    fn position(&mut self) -> Result<TapePosition, TapeIoError> {
        Ok(TapePosition {
            file_number: self.file_number,
            logical_object: self.pos as u64,
        })
    }
}

impl TapeRead for MemoryTape {
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError> {
        let outcome = match self.records.get(self.pos) {
            None => {
                // Like SG_IO, a read without a block leaves the buffer undefined.
                buf.fill(0);
                return Ok(ReadOutcome::EndOfData);
            }
            Some(TapeRecord::Filemark) => {
                buf.fill(0);
                self.file_number += 1;
                ReadOutcome::Filemark
            }
            Some(TapeRecord::Block(b)) => {
                if b.len() > buf.len() {
                    return Err(TapeIoError::BlockLargerThanBuffer {
                        device: self.device_name(),
                        block: b.len(),
                        buffer: buf.len(),
                    });
                }
                buf[..b.len()].copy_from_slice(b);
                self.used += b.len() as u64;
                ReadOutcome::Block(b.len())
            }
        };
        self.pos += 1;
        Ok(outcome)
    }
}
