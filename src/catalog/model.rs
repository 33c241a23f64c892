//! Rows of the media catalog as Rust types, and their text forms in SQL.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chunking::Digest;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// All values, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the catalog and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "invalid {} {other:?} (expected one of: {})",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// Whether a tape may receive more data.
    MediaStatus {
        Writable = "writable",
        Full = "full",
        Retired = "retired",
        Damaged = "damaged",
    }
);

text_enum!(
    /// Where a tape is.
    MediaLocation {
        /// In a library slot or drive.
        Online = "online",
        /// Known but not in the library.
        Offline = "offline",
        /// Stored off-site.
        Vault = "vault",
    }
);

text_enum!(
    /// Whether a media set still receives backups.
    MediaSetStatus {
        Writable = "writable",
        Closed = "closed",
    }
);

text_enum!(
    /// A pool's media set allocation policy.
    Allocation {
        /// Keep appending to the current media set.
        Continue = "continue",
        /// Start a new media set for every backup job.
        AlwaysNew = "always-new",
    }
);

text_enum!(
    /// What a tape archive holds.
    ContentType {
        Chunks = "chunks",
        Snapshot = "snapshot",
        Catalog = "catalog",
    }
);

/// A media pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRecord {
    pub name: String,
    pub allocation: Allocation,
    /// Retention: `None` keeps media sets forever; `Some(days)` lets a
    /// closed media set be overwritten that many days after its creation.
    pub retention_days: Option<u32>,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
}

/// One labelled tape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub uuid: Uuid,
    /// Label text, the barcode for library tapes.
    pub label: String,
    /// Pool the tape was labelled for (`None`: free for any pool).
    pub pool: Option<String>,
    pub media_set: Option<Uuid>,
    /// Position in its media set, from 0.
    pub seq_nr: Option<u32>,
    pub status: MediaStatus,
    pub location: MediaLocation,
    /// Bytes of committed archives on the tape.
    pub bytes_used: u64,
    /// Labelling time, seconds since the Unix epoch.
    pub labelled: i64,
}

/// A media set: the tapes of one pool written as one sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSetRecord {
    pub uuid: Uuid,
    pub pool: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    pub status: MediaSetStatus,
}

/// One committed tape archive (one tape file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    pub uuid: Uuid,
    pub media: Uuid,
    /// Tape file number (filemark count from the beginning of the tape).
    pub file_number: u64,
    pub content: ContentType,
    /// First and last logical object (entry) of the archive in this tape
    /// file: an archive spanning tapes has one row per tape part.
    pub first_object: u64,
    pub last_object: u64,
    /// Set when the archive ends on this tape with its end marker.
    pub complete: bool,
    /// Entries (chunks, snapshot indexes) stored in this tape file.
    pub entries: u64,
    /// Payload bytes stored in this tape file.
    pub bytes: u64,
}

/// A snapshot and where its manifest sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// `POOL/HOST/TIME`.
    pub name: String,
    pub pool: String,
    /// Snapshot time, seconds since the Unix epoch.
    pub time: i64,
    pub media_set: Uuid,
    pub media: Uuid,
    pub file_number: u64,
    pub archive: Uuid,
    /// Number of snapshot entries and bytes of regular files.
    pub entries: u64,
    pub total_bytes: u64,
}

/// Where one chunk is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkLocation {
    pub digest: Digest,
    pub media: Uuid,
    pub file_number: u64,
    pub archive: Uuid,
}
