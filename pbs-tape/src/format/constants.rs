//! Every magic number and size limit of the on-tape format, in one place.
//! `docs/format.md` specifies what each one means.

/// Magic at the start of every block header.
pub const BLOCK_MAGIC: [u8; 8] = *b"PTAPEBLK";
/// Version of the block header layout.
pub const BLOCK_VERSION: u16 = 1;

/// Smallest allowed data block size (also the largest label block).
pub const MIN_BLOCK_SIZE: usize = 64 * 1024;
/// Default data block size.
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;
/// Largest block size the format allows (a drive may allow less).
pub const MAX_BLOCK_SIZE: usize = 16 * 1024 * 1024;

/// Content header magics, one per content type.
pub const MEDIA_LABEL_MAGIC: [u8; 8] = *b"PTMLABEL";
pub const MEDIA_SET_LABEL_MAGIC: [u8; 8] = *b"PTMSETLB";
pub const CHUNK_ARCHIVE_MAGIC: [u8; 8] = *b"PTCHUNKS";
pub const SNAPSHOT_ARCHIVE_MAGIC: [u8; 8] = *b"PTSNAPSH";
pub const CATALOG_ARCHIVE_MAGIC: [u8; 8] = *b"PTCATLOG";
/// The on-tape format version, carried by every tape file's content
/// header. Version 2: snapshots are two chunked streams (metadata and
/// payload) and the snapshot archive holds their chunk indexes; version 1
/// (one chunk list per file and a JSON manifest) is refused.
pub const CONTENT_VERSION: u32 = 2;
/// Largest JSON body of a content header.
pub const MAX_CONTENT_BODY: u64 = 60 * 1024;

/// Magic at the start of every chunk archive entry.
pub const ENTRY_MAGIC: [u8; 8] = *b"PTCHUNK1";
/// Largest chunk a chunk archive entry may hold.
pub const MAX_CHUNK_LEN: u64 = 64 * 1024 * 1024;
/// Largest opaque payload of a snapshot or catalog archive.
pub const MAX_BLOB_LEN: u64 = 1024 * 1024 * 1024;

/// Magic at the start of a tape image file ([`super::FileTape`], [`super::MemoryTape`]).
pub const IMAGE_MAGIC: [u8; 8] = *b"PTAPEIMG";
/// Record tag of a block in a tape image.
pub const IMAGE_RECORD_BLOCK: u8 = 0x42; // 'B'
/// Record tag of a filemark in a tape image.
pub const IMAGE_RECORD_FILEMARK: u8 = 0x46; // 'F'

/// Default size cap of one chunk archive (a failure costs at most this much).
pub const DEFAULT_ARCHIVE_CAP: u64 = 4 * 1024 * 1024 * 1024;
/// Default interval between commits (flush + position check), bytes.
pub const DEFAULT_COMMIT_INTERVAL: u64 = 128 * 1024 * 1024 * 1024;
