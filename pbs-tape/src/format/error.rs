//! [`FormatError`]: every way reading or writing the on-tape format fails.

use super::content::ContentType;
use super::tape::{TapeIoError, TapePosition};

/// Why reading or writing the on-tape format failed. Each kind of damage has
/// its own variant so that callers and tests can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The tape (drive, memory or file) failed while doing `op`.
    #[error("{op} failed: {source}")]
    Tape {
        op: &'static str,
        #[source]
        source: TapeIoError,
    },
    /// A block size that is not a power of two in the allowed range.
    #[error("invalid block size {size}: must be a power of two between {min} and {max} bytes")]
    InvalidBlockSize { size: usize, min: usize, max: usize },
    /// A configuration value out of range.
    #[error("invalid writer configuration: {0}")]
    InvalidConfig(String),

    /// A recorded entry position points past the payload of its block.
    #[error("entry position block {block} offset {offset} lies outside the block's {payload} payload bytes")]
    EntryOutsideBlock {
        block: u32,
        offset: u32,
        payload: usize,
    },

    // --- block framing ---
    /// A block shorter than the block header.
    #[error("block {sequence} is {len} bytes, shorter than the {header} byte block header")]
    BlockTooShort {
        sequence: u32,
        len: usize,
        header: usize,
    },
    /// The block does not start with the block magic.
    #[error("block {sequence}: wrong block magic {found:02x?}")]
    BadBlockMagic { sequence: u32, found: [u8; 8] },
    /// A block header version this reader does not know.
    #[error("block {sequence}: unsupported block format version {version}")]
    UnsupportedBlockVersion { sequence: u32, version: u16 },
    /// Unknown flag bits in a block header.
    #[error("block {sequence}: unknown block flags {flags:#06x}")]
    UnknownBlockFlags { sequence: u32, flags: u16 },
    /// The block length on tape disagrees with the header's payload length.
    #[error(
        "block {sequence}: header says {payload_len} payload bytes, but the block holds {actual}"
    )]
    BadBlockLength {
        sequence: u32,
        payload_len: u32,
        actual: usize,
    },
    /// CRC32C over header and payload does not match.
    #[error(
        "block {sequence}: checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    ChecksumMismatch {
        sequence: u32,
        stored: u32,
        computed: u32,
    },
    /// A block is missing: the sequence jumped forward.
    #[error("missing block: expected sequence {expected}, found {found}")]
    SequenceGap { expected: u32, found: u32 },
    /// A block was read twice (sequence went backwards or repeated).
    #[error("duplicate block: expected sequence {expected}, found {found}")]
    DuplicateBlock { expected: u32, found: u32 },
    /// The stream ended (filemark or end of data) before its end-of-stream block.
    #[error("stream cut short: {at} after {blocks} blocks, before the end-of-stream block")]
    StreamCutShort { at: &'static str, blocks: u32 },
    /// The stream is marked incomplete (it continues on another tape) where
    /// a complete one is required.
    #[error("stream is marked incomplete ({records} records): it continues on another tape")]
    StreamIncomplete { records: u64 },
    /// After the end-of-stream block the tape holds no filemark.
    #[error("no filemark after the end-of-stream block (found {found})")]
    MissingFilemark { found: &'static str },

    // --- content ---
    /// The content header magic is not one of ours.
    #[error("unknown content header magic {found:02x?}")]
    BadContentMagic { found: [u8; 8] },
    /// A tape file written in another on-tape format version.
    #[error(
        "written in ptape on-tape format version {0}; this ptape reads and writes version {current} only (tapes of other versions must be relabelled: ptape label --force)",
        current = super::constants::CONTENT_VERSION
    )]
    UnsupportedContentVersion(u32),
    /// A file of another content type than expected.
    #[error("expected a {expected} but found a {found}")]
    WrongContentType {
        expected: ContentType,
        found: ContentType,
    },
    /// The stream ends inside the content header or its body.
    #[error("stream ends inside the {what} ({got} of {need} bytes)")]
    TruncatedContent {
        what: &'static str,
        got: usize,
        need: usize,
    },
    /// A content body larger than the format allows.
    #[error("{what} of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        what: &'static str,
        len: u64,
        max: u64,
    },
    /// The JSON body of a content header does not decode.
    #[error("bad {what}: {message}")]
    BadContentBody { what: &'static str, message: String },
    /// Bytes after the end of a content that must be exact.
    #[error("{len} unexpected bytes after the {what}")]
    TrailingData { what: &'static str, len: u64 },

    // --- chunk archive ---
    /// A chunk entry does not start with the entry magic.
    #[error("chunk entry {index}: wrong entry magic {found:02x?}")]
    BadEntryMagic { index: u64, found: [u8; 8] },
    /// SHA-256 of the chunk data does not equal the recorded digest.
    #[error("chunk entry {index}: digest mismatch (recorded {recorded}, computed {computed})")]
    DigestMismatch {
        index: u64,
        recorded: String,
        computed: String,
    },
    /// A complete stream ends inside a chunk entry.
    #[error("chunk entry {index} is truncated: the archive ends inside it")]
    TruncatedEntry { index: u64 },
    /// The end-of-stream record count disagrees with the entries read.
    #[error("archive says it holds {recorded} entries, but {found} were read")]
    RecordCountMismatch { recorded: u64, found: u64 },

    // --- writer and finish barrier ---
    /// The writer failed earlier; every further call fails.
    #[error("tape writer is poisoned by an earlier error: {cause}")]
    Poisoned { cause: String },
    /// The medium passed early warning: no new archive may start on it.
    #[error("the medium passed early warning: continue on the next tape")]
    MediumFull,
    /// After flushing, the drive is not where the writer expected it.
    #[error("position mismatch after flush: expected {expected}, drive reports {actual}")]
    PositionMismatch {
        expected: TapePosition,
        actual: TapePosition,
    },
    /// A producer reported failure.
    #[error("producer {name} failed: {message}")]
    ProducerFailed { name: String, message: String },
    /// A producer went away (token dropped) without reporting its outcome.
    #[error("producer {name} ended without reporting an outcome")]
    ProducerVanished { name: String },
    /// A label or archive must start at a given tape file.
    #[error("a {content} belongs in tape file {file}, but the tape is at {at}")]
    WrongFile {
        content: ContentType,
        file: u64,
        at: TapePosition,
    },
    /// An archive writer was dropped without `finish`.
    #[error("{content} archive abandoned without finish")]
    ArchiveAbandoned { content: ContentType },
}

impl FormatError {
    /// Wrap a tape error with the operation that failed.
    pub fn tape(op: &'static str, source: TapeIoError) -> Self {
        FormatError::Tape { op, source }
    }

    /// True when the tape hit the physical end of medium.
    pub fn is_end_of_medium(&self) -> bool {
        matches!(self, FormatError::Tape { source, .. } if source.is_end_of_medium())
    }
}
