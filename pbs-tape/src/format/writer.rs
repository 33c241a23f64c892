//! [`MediaWriter`]: writes labels and archives to one tape and implements
//! the finish barrier.
//!
//! Two explicit steps, each returning a `Result`:
//! 1. finishing an archive writes its end-of-stream block and a buffered
//!    filemark and yields a [`PendingArchive`] (not yet durable);
//! 2. [`MediaWriter::commit`] flushes the drive (WRITE FILEMARKS 0 without
//!    IMMED), reads the position back and checks it, waits for the explicit
//!    outcome of every registered producer, and only then returns the
//!    archives that are now on the medium. Only those may go into a catalog.
//!
//! After any error the writer is poisoned: every further call fails. The one
//! exception is [`FormatError::MediumFull`] from `start_*`, which writes
//! nothing and leaves pending archives committable.

use serde::{Deserialize, Serialize};

use super::block::validate_block_size;
use super::block_writer::BlockWriter;
use super::chunk_writer::ChunkArchiveWriter;
use super::constants::{
    DEFAULT_ARCHIVE_CAP, DEFAULT_BLOCK_SIZE, DEFAULT_COMMIT_INTERVAL, MAX_BLOB_LEN,
};
use super::content::{encode_content_start, ContentType};
use super::cursor::TapeCursor;
use super::error::FormatError;
use super::label::{MediaLabel, MediaSetLabel, LABEL_BLOCK_SIZE};
use super::pending::PendingArchive;
use super::producer::{ProducerSet, ProducerToken};
use super::tape::{TapePosition, TapeWrite};

/// Writer settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterConfig {
    /// Data block size: a power of two from 64 KiB to the drive's maximum.
    pub block_size: usize,
    /// A chunk archive reports "archive full" once it holds this many bytes.
    pub archive_cap: u64,
    /// [`MediaWriter::commit_due`] turns true after this many bytes.
    pub commit_interval: u64,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            block_size: DEFAULT_BLOCK_SIZE,
            archive_cap: DEFAULT_ARCHIVE_CAP,
            commit_interval: DEFAULT_COMMIT_INTERVAL,
        }
    }
}

impl WriterConfig {
    /// Check the settings against a device's largest block.
    pub fn validate(&self, device_max_block: usize) -> Result<(), FormatError> {
        validate_block_size(self.block_size, device_max_block)?;
        if self.archive_cap == 0 {
            return Err(FormatError::InvalidConfig("archive cap must be > 0".into()));
        }
        if self.commit_interval == 0 {
            return Err(FormatError::InvalidConfig(
                "commit interval must be > 0".into(),
            ));
        }
        Ok(())
    }
}

/// Snapshot archive body (JSON after the content header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotArchiveInfo {
    pub snapshot: String,
    pub data_len: u64,
}

/// Catalog archive body (JSON after the content header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogArchiveInfo {
    /// UUID of the medium whose catalog this is.
    pub media_uuid: uuid::Uuid,
    pub data_len: u64,
}

/// Writes one tape; see the module documentation.
#[derive(Debug)]
pub struct MediaWriter<T: TapeWrite> {
    pub(crate) cursor: TapeCursor<T>,
    pub(crate) config: WriterConfig,
    pub(crate) pending: Vec<PendingArchive>,
    pub(crate) bytes_since_commit: u64,
    producers: ProducerSet,
}

impl<T: TapeWrite> MediaWriter<T> {
    /// Start writing at the tape's current position (read with READ POSITION).
    pub fn new(tape: T, config: WriterConfig) -> Result<Self, FormatError> {
        config.validate(tape.max_block_size())?;
        Ok(MediaWriter {
            cursor: TapeCursor::new(tape)?,
            config,
            pending: Vec::new(),
            bytes_since_commit: 0,
            producers: ProducerSet::new(),
        })
    }

    /// Register a producer that feeds this writer; it must report through
    /// the token before [`MediaWriter::commit`] can succeed.
    pub fn register_producer(&self, name: impl Into<String>) -> ProducerToken {
        self.producers.register(name)
    }

    /// The producer set (to register producers from elsewhere).
    pub fn producers(&self) -> &ProducerSet {
        &self.producers
    }

    /// Write the media label as tape file 0 (the tape must be at BOT).
    pub fn write_media_label(&mut self, label: &MediaLabel) -> Result<PendingArchive, FormatError> {
        self.require_file(ContentType::MediaLabel, 0)?;
        let start = encode_content_start(ContentType::MediaLabel, label.uuid, label);
        self.write_whole(
            ContentType::MediaLabel,
            label.uuid,
            start,
            (&mut std::io::empty(), 0),
            LABEL_BLOCK_SIZE,
            None,
        )
    }

    /// Write the media set label as tape file 1 (right after the media label).
    pub fn write_media_set_label(
        &mut self,
        label: &MediaSetLabel,
    ) -> Result<PendingArchive, FormatError> {
        self.require_file(ContentType::MediaSetLabel, 1)?;
        let start = encode_content_start(ContentType::MediaSetLabel, label.uuid, label);
        self.write_whole(
            ContentType::MediaSetLabel,
            label.uuid,
            start,
            (&mut std::io::empty(), 0),
            LABEL_BLOCK_SIZE,
            None,
        )
    }

    /// Start a chunk archive (one tape file). `store` names the chunk store
    /// (recorded in the archive's JSON body).
    pub fn start_chunk_archive(
        &mut self,
        store: &str,
    ) -> Result<ChunkArchiveWriter<'_, T>, FormatError> {
        self.refuse_when_full()?;
        ChunkArchiveWriter::start(self, store)
    }

    /// Write a snapshot archive: the snapshot's index (opaque bytes).
    pub fn write_snapshot_archive(
        &mut self,
        snapshot: &str,
        index: &[u8],
    ) -> Result<PendingArchive, FormatError> {
        self.write_snapshot_archive_from(snapshot, &mut &index[..], index.len() as u64)
    }

    /// Write a snapshot archive whose `len` bytes of index are streamed
    /// from `data` (never held whole in memory).
    pub fn write_snapshot_archive_from(
        &mut self,
        snapshot: &str,
        data: &mut dyn std::io::Read,
        len: u64,
    ) -> Result<PendingArchive, FormatError> {
        self.refuse_when_full()?;
        let uuid = uuid::Uuid::new_v4();
        let info = SnapshotArchiveInfo {
            snapshot: snapshot.to_string(),
            data_len: len,
        };
        let start = encode_content_start(ContentType::SnapshotArchive, uuid, &info);
        let block_size = self.config.block_size;
        self.write_whole(
            ContentType::SnapshotArchive,
            uuid,
            start,
            (data, len),
            block_size,
            Some(snapshot.to_string()),
        )
    }

    /// Write a catalog archive: this tape's catalog rows (opaque bytes).
    pub fn write_catalog_archive(
        &mut self,
        media_uuid: uuid::Uuid,
        data: &[u8],
    ) -> Result<PendingArchive, FormatError> {
        self.refuse_when_full()?;
        let uuid = uuid::Uuid::new_v4();
        let info = CatalogArchiveInfo {
            media_uuid,
            data_len: data.len() as u64,
        };
        let start = encode_content_start(ContentType::CatalogArchive, uuid, &info);
        let block_size = self.config.block_size;
        self.write_whole(
            ContentType::CatalogArchive,
            uuid,
            start,
            (&mut &data[..], data.len() as u64),
            block_size,
            None,
        )
    }

    /// True once the medium passed early warning: commit, then continue on
    /// the next tape of the media set.
    pub fn medium_full(&self) -> bool {
        self.cursor.early_warning()
    }

    /// True at a commit point: early warning, or `commit_interval` bytes
    /// written since the last commit.
    pub fn commit_due(&self) -> bool {
        self.medium_full() || self.bytes_since_commit >= self.config.commit_interval
    }

    /// Archives finished since the last commit (not durable yet).
    pub fn pending(&self) -> &[PendingArchive] {
        &self.pending
    }

    /// True when an earlier error poisoned the writer.
    pub fn is_poisoned(&self) -> bool {
        self.cursor.check().is_err()
    }

    /// Where the tape must be after everything written so far.
    pub fn expected_position(&self) -> TapePosition {
        self.cursor.expected_position()
    }

    /// The settings.
    pub fn config(&self) -> &WriterConfig {
        &self.config
    }

    /// Full barrier (job end): flush, verify the position, wait for every
    /// registered producer's outcome; then return the archives that are now
    /// durable (and forget them). Any failure poisons the writer and returns
    /// no archive.
    pub fn commit(&mut self) -> Result<Vec<PendingArchive>, FormatError> {
        self.cursor.flush_and_verify()?;
        if let Err(e) = self.producers.wait_all() {
            self.cursor.poison(&e);
            return Err(e);
        }
        Ok(self.take_committed())
    }

    /// Intermediate commit point (early warning, every `commit_interval`
    /// bytes) while producers are still running: flush and verify the
    /// position like [`MediaWriter::commit`], and fail if any producer has
    /// already reported failure or vanished, but do not wait for running
    /// producers. The returned archives hold only digest-verified chunks;
    /// the job itself is successful only after [`MediaWriter::commit`].
    pub fn checkpoint(&mut self) -> Result<Vec<PendingArchive>, FormatError> {
        self.cursor.flush_and_verify()?;
        if let Some(e) = self.producers.first_failure() {
            self.cursor.poison(&e);
            return Err(e);
        }
        Ok(self.take_committed())
    }

    /// The device underneath, for commands beside the data stream that
    /// neither move the tape nor write (SECURITY PROTOCOL IN/OUT: the
    /// drive's encryption key and state). Never write through it.
    pub fn device_mut(&mut self) -> &mut T {
        self.cursor.device_mut()
    }

    /// Give the tape back. Pending archives are NOT committed: nothing is
    /// written and nothing is reported.
    pub fn into_tape(self) -> T {
        self.cursor.into_inner()
    }

    fn take_committed(&mut self) -> Vec<PendingArchive> {
        self.bytes_since_commit = 0;
        std::mem::take(&mut self.pending)
    }

    fn refuse_when_full(&self) -> Result<(), FormatError> {
        self.cursor.check()?;
        if self.medium_full() {
            return Err(FormatError::MediumFull);
        }
        Ok(())
    }

    fn require_file(&mut self, content: ContentType, file: u64) -> Result<(), FormatError> {
        self.cursor.check()?;
        let at = self.cursor.expected_position();
        if at.file_number != file {
            let err = FormatError::WrongFile { content, file, at };
            self.cursor.poison(&err);
            return Err(err);
        }
        Ok(())
    }

    /// Write a non-spanning tape file: content start, then the `len`
    /// bytes of `data`, whole (past early warning if need be).
    fn write_whole(
        &mut self,
        content_type: ContentType,
        uuid: uuid::Uuid,
        start: Result<Vec<u8>, FormatError>,
        (data, len): (&mut dyn std::io::Read, u64),
        block_size: usize,
        snapshot: Option<String>,
    ) -> Result<PendingArchive, FormatError> {
        self.cursor.check()?;
        let result = start.and_then(|start| {
            if len > MAX_BLOB_LEN {
                return Err(FormatError::TooLarge {
                    what: "archive data",
                    len,
                    max: MAX_BLOB_LEN,
                });
            }
            let begin = self.cursor.expected_position();
            let mut stream = BlockWriter::new(&mut self.cursor, block_size, false);
            stream.write(&start)?;
            let mut buf = vec![0u8; block_size.min(len.max(1) as usize)];
            let mut left = len;
            while left > 0 {
                let want = buf.len().min(left.min(usize::MAX as u64) as usize);
                let got = match data.read(&mut buf[..want]) {
                    Ok(0) => {
                        return Err(FormatError::TruncatedContent {
                            what: "archive data",
                            got: (len - left) as usize,
                            need: len as usize,
                        })
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(FormatError::BadContentBody {
                            what: "archive data source",
                            message: e.to_string(),
                        })
                    }
                };
                stream.write(&buf[..got])?;
                left -= got as u64;
            }
            let summary = stream.finish(false, 0)?;
            Ok(PendingArchive {
                content_type,
                uuid,
                file_number: begin.file_number,
                first_object: begin.logical_object,
                end_object: self.cursor.expected_position().logical_object,
                blocks: summary.blocks,
                stream_bytes: summary.bytes,
                digests: Vec::new(),
                positions: Vec::new(),
                chunk_bytes: 0,
                continues_on_next_tape: false,
                snapshot,
            })
        });
        match result {
            Ok(archive) => {
                self.bytes_since_commit += archive.stream_bytes;
                self.pending.push(archive.clone());
                Ok(archive)
            }
            Err(e) => {
                self.cursor.poison(&e);
                Err(e)
            }
        }
    }
}
