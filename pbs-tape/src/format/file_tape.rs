//! [`FileTape`]: a tape stored in a plain file in the image format of
//! [`super::image`], streamed (not held in memory). It is the "plain file"
//! target of the throughput benchmark and a fast tape for tests.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::constants::{IMAGE_MAGIC, IMAGE_RECORD_BLOCK, IMAGE_RECORD_FILEMARK, MAX_BLOCK_SIZE};
use super::image::{block_record_prefix, BLOCK_RECORD_PREFIX};
use super::tape::{
    ReadOutcome, TapeIoError, TapeLimits, TapePosition, TapeRead, TapeWrite, WriteOutcome,
};

/// A tape image file.
#[derive(Debug)]
pub struct FileTape {
    file: File,
    path: PathBuf,
    /// Byte offset of the next record.
    offset: u64,
    position: TapePosition,
    /// The next write must first cut the file at `offset`.
    truncate_on_write: bool,
    sync_on_flush: bool,
    max_block: usize,
}

impl FileTape {
    /// Create (or overwrite) an empty tape image.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, TapeIoError> {
        let path = path.as_ref().to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|source| io_error(&path, source))?;
        file.write_all(&IMAGE_MAGIC)
            .map_err(|source| io_error(&path, source))?;
        Ok(Self::at_bot(file, path))
    }

    /// Open an existing tape image at the beginning of tape.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TapeIoError> {
        let path = path.as_ref().to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| io_error(&path, source))?;
        let mut magic = [0u8; 8];
        file.read_exact(&mut magic)
            .map_err(|source| io_error(&path, source))?;
        if magic != IMAGE_MAGIC {
            return Err(TapeIoError::Image {
                device: path.display().to_string(),
                message: "missing PTAPEIMG magic".into(),
            });
        }
        Ok(Self::at_bot(file, path))
    }

    fn at_bot(file: File, path: PathBuf) -> Self {
        FileTape {
            file,
            path,
            offset: IMAGE_MAGIC.len() as u64,
            position: TapePosition::default(),
            truncate_on_write: true,
            sync_on_flush: true,
            max_block: MAX_BLOCK_SIZE,
        }
    }

    /// Whether [`TapeWrite::flush`] calls `fsync` (default true).
    pub fn set_sync_on_flush(&mut self, sync: bool) {
        self.sync_on_flush = sync;
    }

    /// Back to the beginning of tape.
    pub fn rewind(&mut self) -> Result<(), TapeIoError> {
        self.offset = IMAGE_MAGIC.len() as u64;
        self.position = TapePosition::default();
        self.truncate_on_write = true;
        self.seek()
    }

    fn seek(&mut self) -> Result<(), TapeIoError> {
        self.file
            .seek(SeekFrom::Start(self.offset))
            .map_err(|source| io_error(&self.path, source))?;
        Ok(())
    }

    fn corrupt(&self, message: String) -> TapeIoError {
        TapeIoError::Image {
            device: self.device_name(),
            message,
        }
    }

    fn prepare_write(&mut self) -> Result<(), TapeIoError> {
        if self.truncate_on_write {
            self.file
                .set_len(self.offset)
                .map_err(|source| io_error(&self.path, source))?;
            self.seek()?;
            self.truncate_on_write = false;
        }
        Ok(())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> TapeIoError {
    TapeIoError::Io {
        device: path.display().to_string(),
        source,
    }
}

impl TapeLimits for FileTape {
    fn max_block_size(&self) -> usize {
        self.max_block
    }
    fn device_name(&self) -> String {
        self.path.display().to_string()
    }
}

impl TapeWrite for FileTape {
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError> {
        if block.len() > self.max_block {
            return Err(TapeIoError::BlockTooLarge {
                device: self.device_name(),
                len: block.len(),
                max: self.max_block,
            });
        }
        self.prepare_write()?;
        let prefix = block_record_prefix(block.len()).map_err(|m| self.corrupt(m))?;
        self.file
            .write_all(&prefix)
            .and_then(|_| self.file.write_all(block))
            .map_err(|source| io_error(&self.path, source))?;
        self.offset += (BLOCK_RECORD_PREFIX + block.len()) as u64;
        self.position.logical_object += 1;
        Ok(WriteOutcome::Written)
    }

    fn write_filemark(&mut self, _immediate: bool) -> Result<WriteOutcome, TapeIoError> {
        self.prepare_write()?;
        self.file
            .write_all(&[IMAGE_RECORD_FILEMARK])
            .map_err(|source| io_error(&self.path, source))?;
        self.offset += 1;
        self.position.logical_object += 1;
        self.position.file_number += 1;
        Ok(WriteOutcome::Written)
    }

    fn flush(&mut self) -> Result<(), TapeIoError> {
        if self.sync_on_flush {
            self.file
                .sync_data()
                .map_err(|source| io_error(&self.path, source))?;
        }
        Ok(())
    }

    fn position(&mut self) -> Result<TapePosition, TapeIoError> {
        Ok(self.position)
    }
}

impl TapeRead for FileTape {
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError> {
        self.truncate_on_write = true;
        let mut tag = [0u8; 1];
        match self.file.read(&mut tag) {
            Ok(0) => return Ok(ReadOutcome::EndOfData),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return self.read_block(buf),
            Err(source) => return Err(io_error(&self.path, source)),
        }
        match tag[0] {
            IMAGE_RECORD_FILEMARK => {
                self.offset += 1;
                self.position.logical_object += 1;
                self.position.file_number += 1;
                Ok(ReadOutcome::Filemark)
            }
            IMAGE_RECORD_BLOCK => {
                let mut len = [0u8; 4];
                self.file.read_exact(&mut len).map_err(|e| {
                    self.corrupt(format!("truncated record at offset {}: {e}", self.offset))
                })?;
                let len = u32::from_be_bytes(len) as usize;
                if len > buf.len() {
                    return Err(TapeIoError::BlockLargerThanBuffer {
                        device: self.device_name(),
                        block: len,
                        buffer: buf.len(),
                    });
                }
                self.file.read_exact(&mut buf[..len]).map_err(|e| {
                    self.corrupt(format!("truncated block at offset {}: {e}", self.offset))
                })?;
                self.offset += (BLOCK_RECORD_PREFIX + len) as u64;
                self.position.logical_object += 1;
                Ok(ReadOutcome::Block(len))
            }
            other => Err(self.corrupt(format!(
                "unknown record tag {other:#04x} at offset {}",
                self.offset
            ))),
        }
    }
}
