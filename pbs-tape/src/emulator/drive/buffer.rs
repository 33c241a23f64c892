//! The drive's write buffer: records accepted by WRITE / WRITE FILEMARKS
//! (IMMED) that have not reached the tape image yet, and the drain that
//! writes them (reporting a deferred write error when one was armed).

use super::super::cdb::CheckCondition;
use super::super::image::{BlockInfo, FILEMARK_COST};
use super::sense::{cc, image_write_failure, write_error};
use super::EmulatedDrive;

/// One record waiting in the write buffer.
#[derive(Debug)]
pub(super) enum Buffered {
    Block(Vec<u8>, BlockInfo),
    Filemarks(u64),
}

/// The drive's write buffer.
#[derive(Debug, Default)]
pub(super) struct WriteBuffer {
    pub(super) records: Vec<Buffered>,
    /// Logical objects buffered.
    pub(super) objects: u64,
    /// Payload bytes buffered.
    pub(super) bytes: u64,
    /// Filemarks buffered.
    pub(super) filemarks: u64,
    /// Index into `records` of the first record hit by a deferred write error.
    pub(super) poison_at: Option<usize>,
    /// Buffers of drained blocks kept for reuse, so a streaming write does
    /// not allocate (and page-fault in) a fresh buffer for every block.
    spare: Vec<Vec<u8>>,
}

/// Most drained block buffers kept for reuse (bounded like the buffer itself).
const MAX_SPARE_BUFFERS: usize = 256;

impl WriteBuffer {
    /// Medium space the buffered records will take.
    pub(super) fn cost(&self) -> u64 {
        self.bytes + self.filemarks * FILEMARK_COST
    }

    /// Forget every buffered record (the spare buffers stay for reuse).
    pub(super) fn clear(&mut self) {
        let spare = std::mem::take(&mut self.spare);
        *self = WriteBuffer {
            spare,
            ..WriteBuffer::default()
        };
    }

    /// A copy of `data` in a reused buffer when one is spare.
    pub(super) fn copy_block(&mut self, data: &[u8]) -> Vec<u8> {
        match self.spare.pop() {
            Some(mut buf) => {
                buf.clear();
                buf.extend_from_slice(data);
                buf
            }
            None => data.to_vec(),
        }
    }

    /// Keep a drained block's buffer for [`WriteBuffer::copy_block`].
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < MAX_SPARE_BUFFERS {
            self.spare.push(buf);
        }
    }

    pub(super) fn push_block(&mut self, data: Vec<u8>, info: BlockInfo) {
        self.bytes += data.len() as u64;
        self.objects += 1;
        self.records.push(Buffered::Block(data, info));
    }

    pub(super) fn push_filemarks(&mut self, n: u64) {
        self.filemarks += n;
        self.objects += n;
        self.records.push(Buffered::Filemarks(n));
    }
}

impl EmulatedDrive {
    /// Write the buffer to the image (`sync`: and fsync it). A deferred
    /// write error armed on a buffered block is reported here (response
    /// code 0x71) and that block and everything after it is lost.
    pub(super) fn drain(&mut self, sync: bool) -> Result<(), CheckCondition> {
        let poison = self.buffer.poison_at.take();
        let records = std::mem::take(&mut self.buffer.records);
        self.buffer.clear();
        let Some(m) = self.medium.as_mut() else {
            return Ok(());
        };
        if records.is_empty() {
            return if sync {
                m.image.sync()
            } else {
                m.image.flush()
            }
            .map_err(image_write_failure);
        }
        let mut deferred = false;
        for (i, record) in records.into_iter().enumerate() {
            if Some(i) == poison {
                deferred = true;
                break;
            }
            match record {
                Buffered::Block(data, info) => {
                    let written = m.image.append_block(&data, info);
                    self.buffer.recycle(data);
                    written
                }
                Buffered::Filemarks(n) => m.image.append_filemarks(n),
            }
            .map_err(image_write_failure)?;
        }
        if sync {
            m.image.sync()
        } else {
            m.image.flush()
        }
        .map_err(image_write_failure)?;
        self.file.position = m.image.len();
        if deferred {
            m.info.write_errors += 1;
            m.info_dirty = true;
            return Err(cc(write_error().deferred()));
        }
        Ok(())
    }
}
