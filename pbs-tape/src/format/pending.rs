//! [`PendingArchive`]: an archive that is written (buffered) but not yet
//! known to be on the medium. Only [`super::MediaWriter::commit`] (or
//! `checkpoint`) turns pending archives into durable ones.

use serde::{Deserialize, Serialize};

use super::chunk_entry::EntryPosition;
use super::content::ContentType;

/// One finished tape file, as recorded by the writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingArchive {
    pub content_type: ContentType,
    /// UUID from the content header.
    pub uuid: uuid::Uuid,
    /// Tape file number of this archive.
    pub file_number: u64,
    /// Logical object number of its first block.
    pub first_object: u64,
    /// Logical object number after its filemark (= first object of the next file).
    pub end_object: u64,
    /// Blocks written, including the end-of-stream block (not the filemark).
    pub blocks: u32,
    /// Payload bytes of the stream (content header, body and data).
    pub stream_bytes: u64,
    /// Chunk archives: the digests of the entries complete on this tape, in
    /// tape order. Empty for other content types.
    pub digests: Vec<[u8; 32]>,
    /// Chunk archives: where each entry of `digests` starts in the archive
    /// (same order and length as `digests`).
    #[serde(default)]
    pub positions: Vec<EntryPosition>,
    /// Chunk archives: sum of the chunk data lengths in `digests`.
    pub chunk_bytes: u64,
    /// The archive was ended at early warning and continues on the next tape.
    pub continues_on_next_tape: bool,
    /// Snapshot archives: the snapshot name.
    pub snapshot: Option<String>,
}
