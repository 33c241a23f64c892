//! [`ChunkArchiveWriter`]: writes one chunk archive (one tape file) of
//! entries `(SHA-256 digest, length, data)`, and spans at early warning.
//!
//! When a block write reports early warning, the writer stops at once: the
//! entry in flight is not counted (unless its last byte was in that very
//! block), [`ChunkWrite::MediumFull`] says whether it was stored, and
//! [`ChunkArchiveWriter::finish`] ends the archive with an end-of-stream
//! block marked incomplete whose record count is the number of entries
//! complete on this tape. The caller commits, loads the next tape and
//! writes the entries that were not stored there.

use serde::{Deserialize, Serialize};
use zerocopy::IntoBytes;

use super::block_writer::BlockWriter;
use super::chunk_entry::{check_chunk_len, EntryHeader, EntryPosition};
use super::content::{encode_content_start, ContentType};
use super::error::FormatError;
use super::pending::PendingArchive;
use super::tape::{TapePosition, TapeWrite};
use super::writer::MediaWriter;

/// Chunk archive body (JSON after the content header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkArchiveInfo {
    /// Name of the chunk store the chunks come from.
    pub store: String,
}

/// Outcome of [`ChunkArchiveWriter::add_chunk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkWrite {
    /// The entry is in the archive. When `archive_full`, the archive
    /// reached its size cap: finish it (and commit if due), start another.
    Stored { archive_full: bool },
    /// The medium passed early warning. `stored` says whether this entry is
    /// complete in the archive; if not, write it on the next tape. Finish
    /// the archive, commit, and change tapes.
    MediumFull { stored: bool },
}

/// Writes one chunk archive; see the module documentation. Dropping it
/// without [`ChunkArchiveWriter::finish`] poisons the [`MediaWriter`].
pub struct ChunkArchiveWriter<'a, T: TapeWrite> {
    stream: Option<BlockWriter<'a, T>>,
    pending: &'a mut Vec<PendingArchive>,
    bytes_since_commit: &'a mut u64,
    archive_cap: u64,
    begin: TapePosition,
    uuid: uuid::Uuid,
    digests: Vec<[u8; 32]>,
    /// Where each entry of `digests` starts.
    positions: Vec<EntryPosition>,
    chunk_bytes: u64,
}

impl<'a, T: TapeWrite> ChunkArchiveWriter<'a, T> {
    pub(crate) fn start(writer: &'a mut MediaWriter<T>, store: &str) -> Result<Self, FormatError> {
        let uuid = uuid::Uuid::new_v4();
        let begin = writer.cursor.expected_position();
        let block_size = writer.config.block_size;
        let archive_cap = writer.config.archive_cap;
        let start = encode_content_start(
            ContentType::ChunkArchive,
            uuid,
            &ChunkArchiveInfo {
                store: store.to_string(),
            },
        );
        let start = match start {
            Ok(s) => s,
            Err(e) => {
                writer.cursor.poison(&e);
                return Err(e);
            }
        };
        let mut this = ChunkArchiveWriter {
            stream: Some(BlockWriter::new(&mut writer.cursor, block_size, true)),
            pending: &mut writer.pending,
            bytes_since_commit: &mut writer.bytes_since_commit,
            archive_cap,
            begin,
            uuid,
            digests: Vec::new(),
            positions: Vec::new(),
            chunk_bytes: 0,
        };
        // The content start is smaller than a block: early warning cannot
        // stop it part way (a block is written only when full).
        this.stream_mut()?.write(&start)?;
        Ok(this)
    }

    fn stream_mut(&mut self) -> Result<&mut BlockWriter<'a, T>, FormatError> {
        self.stream.as_mut().ok_or(FormatError::ArchiveAbandoned {
            content: ContentType::ChunkArchive,
        })
    }

    /// UUID of this archive (from its content header).
    pub fn uuid(&self) -> uuid::Uuid {
        self.uuid
    }

    /// Entries stored so far.
    pub fn entries(&self) -> usize {
        self.digests.len()
    }

    /// Append one entry. `digest` must be the SHA-256 of `data` (readers
    /// verify it). See [`ChunkWrite`] for what to do next.
    pub fn add_chunk(&mut self, digest: &[u8; 32], data: &[u8]) -> Result<ChunkWrite, FormatError> {
        let archive_cap = self.archive_cap;
        let stream = self.stream_mut()?;
        if stream.stopped_at_early_warning() {
            return Ok(ChunkWrite::MediumFull { stored: false });
        }
        if let Err(e) = check_chunk_len(data.len() as u64) {
            stream.poison(&e);
            return Err(e);
        }
        let (block, offset) = stream.next_byte_position();
        let header = EntryHeader::new(*digest, data.len() as u64);
        let header = header.as_bytes();
        let mut stored = stream.write(header)? == header.len();
        if stored {
            stored = stream.write(data)? == data.len();
        }
        let stopped = stream.stopped_at_early_warning();
        let bytes = stream.bytes();
        if stored {
            self.digests.push(*digest);
            self.positions.push(EntryPosition { block, offset });
            self.chunk_bytes += data.len() as u64;
        }
        if stopped {
            return Ok(ChunkWrite::MediumFull { stored });
        }
        Ok(ChunkWrite::Stored {
            archive_full: bytes >= archive_cap,
        })
    }

    /// End the archive: end-of-stream block (incomplete if it stopped at
    /// early warning) and a buffered filemark. The returned record is also
    /// kept by the [`MediaWriter`] until the next commit.
    pub fn finish(mut self) -> Result<PendingArchive, FormatError> {
        let stream = self.stream.take().ok_or(FormatError::ArchiveAbandoned {
            content: ContentType::ChunkArchive,
        })?;
        let incomplete = stream.stopped_at_early_warning();
        let (summary, end) = stream.finish_at(incomplete, self.digests.len() as u64)?;
        let archive = PendingArchive {
            content_type: ContentType::ChunkArchive,
            uuid: self.uuid,
            file_number: self.begin.file_number,
            first_object: self.begin.logical_object,
            end_object: end.logical_object,
            blocks: summary.blocks,
            stream_bytes: summary.bytes,
            digests: std::mem::take(&mut self.digests),
            positions: std::mem::take(&mut self.positions),
            chunk_bytes: self.chunk_bytes,
            continues_on_next_tape: incomplete,
            snapshot: None,
        };
        *self.bytes_since_commit += archive.stream_bytes;
        self.pending.push(archive.clone());
        Ok(archive)
    }
}

impl<T: TapeWrite> Drop for ChunkArchiveWriter<'_, T> {
    fn drop(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            stream.poison(&FormatError::ArchiveAbandoned {
                content: ContentType::ChunkArchive,
            });
        }
    }
}
