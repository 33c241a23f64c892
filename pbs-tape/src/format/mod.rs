//! The on-tape format and the checked finish barrier.
//!
//! A tape is a sequence of tape files separated by filemarks: file 0 the
//! [`MediaLabel`], file 1 the [`MediaSetLabel`] (once assigned), then one
//! archive per file (chunk, snapshot or catalog archive). Each file is one
//! *stream* of checksummed blocks (`docs/format.md` specifies every byte).
//!
//! Writing (the finish barrier):
//!
//! ```
//! use pbs_tape::format::{MediaWriter, MemoryTape, WriterConfig, ChunkWrite, sha256};
//! # fn main() -> Result<(), pbs_tape::format::FormatError> {
//! let mut writer = MediaWriter::new(MemoryTape::new(), WriterConfig::default())?;
//! let token = writer.register_producer("reader");
//! let mut archive = writer.start_chunk_archive("store1")?;
//! let data = b"chunk bytes".to_vec();
//! match archive.add_chunk(&sha256(&data), &data)? {
//!     ChunkWrite::Stored { .. } => {}
//!     ChunkWrite::MediumFull { .. } => { /* finish, commit, next tape */ }
//! }
//! let pending = archive.finish()?;          // step 1: buffered, not durable
//! token.complete(Ok::<(), String>(()));     // the producer reports
//! let durable = writer.commit()?;           // step 2: flush, check, wait
//! assert_eq!(durable, vec![pending]);       // only now: update the catalog
//! # Ok(()) }
//! ```

mod blob_reader;
pub mod block;
mod block_reader;
mod block_writer;
mod chunk_entry;
mod chunk_reader;
mod chunk_writer;
pub mod constants;
mod content;
mod cursor;
mod drive_adapter;

mod error;
mod file_tape;
pub mod image;
mod key_config;
mod label;
mod memory_tape;
mod pending;
mod producer;
mod read_ahead;
mod scan;
mod tape;
mod writer;

pub use blob_reader::{
    read_catalog_archive, read_snapshot_archive, CatalogArchive, SnapshotArchive,
};
pub use block::BLOCK_HEADER_LEN;
pub use block_reader::{BlockReader, StreamEnd};
pub use block_writer::{BlockWriter, StreamSummary};
pub use chunk_entry::{hex, sha256, EntryHeader, EntryPosition, ENTRY_HEADER_LEN};
pub use chunk_reader::{ChunkArchiveReader, ChunkEntry};
pub use chunk_writer::{ChunkArchiveInfo, ChunkArchiveWriter, ChunkWrite};
pub use content::{ContentHeader, ContentType, CONTENT_HEADER_LEN};
pub use cursor::TapeCursor;
pub use error::FormatError;
pub use file_tape::FileTape;
pub use key_config::{KdfParams, KeyConfig};
pub use label::{
    read_media_label, read_media_set_label, MediaLabel, MediaSetLabel, LABEL_BLOCK_SIZE,
};
pub use memory_tape::MemoryTape;
pub use pending::PendingArchive;
pub use producer::{ProducerSet, ProducerToken};
pub use read_ahead::ReadAhead;
pub use scan::{scan_tape, ScannedContent, ScannedFile, TapeScanner};
pub use tape::{
    ReadOutcome, TapeIoError, TapeLimits, TapePosition, TapeRead, TapeWrite, WriteOutcome,
};
pub use writer::{CatalogArchiveInfo, MediaWriter, SnapshotArchiveInfo, WriterConfig};

#[cfg(test)]
mod tests;
