//! Rows of the media catalog as Rust types, and their text forms in SQL.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chunking::Digest;
use crate::schedule::{CalendarEvent, CalendarEventError, TimeSpan, TimeSpanError};

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
        /// Takes data: free, reserved for a pool, or the last tape of the
        /// pool's current media set.
        Writable = "writable",
        /// Holds data and takes no more (early warning reached, or its media
        /// set was closed); written again only after its set expired.
        Full = "full",
        /// Out of service for good; never written.
        Retired = "retired",
        /// Failed (a critical tape alert, a write error); never written.
        Damaged = "damaged",
        /// Carries a ptape label of a media set the catalog does not know;
        /// never written (`ptape catalog scan` reads what it holds).
        Unknown = "unknown",
    }
);

text_enum!(
    /// Where a tape is. With a name ([`MediaRecord::location_name`]): the
    /// changer of an online tape, the vault of a vaulted one.
    MediaLocation {
        /// In a slot or drive of a changer (a library).
        Online = "online",
        /// Outside any library: on a shelf, or in a standalone drive.
        Offline = "offline",
        /// Stored in a vault (off-site); never written.
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
    /// What a tape archive holds.
    ContentType {
        Chunks = "chunks",
        Snapshot = "snapshot",
        Catalog = "catalog",
    }
);

/// A media pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PoolRecordWire")]
pub struct PoolRecord {
    pub name: String,
    /// When a new media set starts.
    pub allocation: Allocation,
    /// How long a closed media set is kept before its tapes are reused.
    pub retention: Retention,
    /// Media set names: strftime of the set's start (local time), `%id%`
    /// for the set's UUID; `None` for [`DEFAULT_MEDIA_SET_TEMPLATE`].
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Fingerprint of the tape encryption key new media sets are written
    /// with (`aa:bb:...`, 32 bytes); `None`: not encrypted.
    #[serde(default)]
    pub encrypt: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
}

/// The media set name template of pools without one (the reference
/// design's: the C locale's date and time of the set's start).
pub const DEFAULT_MEDIA_SET_TEMPLATE: &str = "%c";

/// [`PoolRecord`] as it may appear in catalog archives written by older
/// versions (allocation `always-new`, `retention_days`).
#[derive(Deserialize)]
struct PoolRecordWire {
    name: String,
    allocation: Allocation,
    #[serde(default)]
    retention: Option<Retention>,
    #[serde(default)]
    retention_days: Option<u32>,
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    encrypt: Option<String>,
    created: i64,
}

impl From<PoolRecordWire> for PoolRecord {
    fn from(w: PoolRecordWire) -> PoolRecord {
        let retention = w.retention.unwrap_or_else(|| match w.retention_days {
            None => Retention::Keep,
            Some(days) => Retention::Span(
                format!("{days}d")
                    .parse()
                    .expect("a whole number of days is a time span"),
            ),
        });
        PoolRecord {
            name: w.name,
            allocation: w.allocation,
            retention,
            template: w.template,
            comment: w.comment,
            encrypt: w.encrypt,
            created: w.created,
        }
    }
}

/// An allocation or retention policy that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "invalid allocation {text:?}: use 'continue', 'always' or a calendar event ({source})"
    )]
    Allocation {
        text: String,
        #[source]
        source: CalendarEventError,
    },
    #[error("invalid retention {text:?}: use 'keep', 'overwrite' or a time span like '30d', '8w', '1y' ({source})")]
    Retention {
        text: String,
        #[source]
        source: TimeSpanError,
    },
}

/// When a pool starts a new media set (besides the reasons that force one,
/// see [`crate::pool`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    /// Keep appending to the current media set.
    Continue,
    /// Start a new media set for every backup job.
    Always,
    /// Start a new media set at the first backup after the calendar
    /// event's next occurrence following the set's start.
    Calendar(CalendarEvent),
}

impl std::str::FromStr for Allocation {
    type Err = PolicyError;
    /// `continue`, `always` (also the old `always-new`), or a calendar event.
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        match s.trim() {
            "continue" => Ok(Allocation::Continue),
            "always" | "always-new" => Ok(Allocation::Always),
            other => {
                other
                    .parse()
                    .map(Allocation::Calendar)
                    .map_err(|source| PolicyError::Allocation {
                        text: s.to_string(),
                        source,
                    })
            }
        }
    }
}

impl std::fmt::Display for Allocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Allocation::Continue => f.write_str("continue"),
            Allocation::Always => f.write_str("always"),
            Allocation::Calendar(event) => event.fmt(f),
        }
    }
}

/// How long a closed media set is kept before its tapes may be reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    /// Forever (until an operator destroys or relabels the tapes).
    Keep,
    /// Reusable as soon as the set is closed.
    Overwrite,
    /// Reusable this long after the set was closed.
    Span(TimeSpan),
}

impl std::str::FromStr for Retention {
    type Err = PolicyError;
    /// `keep`, `overwrite`, or a time span (`30d`, `8 weeks`, `1y`).
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        match s.trim() {
            "keep" => Ok(Retention::Keep),
            "overwrite" => Ok(Retention::Overwrite),
            other => other
                .parse()
                .map(Retention::Span)
                .map_err(|source| PolicyError::Retention {
                    text: s.to_string(),
                    source,
                }),
        }
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retention::Keep => f.write_str("keep"),
            Retention::Overwrite => f.write_str("overwrite"),
            Retention::Span(span) => span.fmt(f),
        }
    }
}

/// Serialized as their text forms.
macro_rules! serde_as_text {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}
serde_as_text!(Allocation, Retention);

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
    /// The changer an online tape is in, the vault a vaulted tape is in.
    #[serde(default)]
    pub location_name: Option<String>,
    /// Bytes of committed archives on the tape.
    pub bytes_used: u64,
    /// Labelling time, seconds since the Unix epoch.
    pub labelled: i64,
}

impl MediaRecord {
    /// A tape just labelled (free when `pool` is `None`), writable, in no
    /// media set, with the location given.
    pub fn new_labelled(
        uuid: Uuid,
        label: &str,
        pool: Option<&str>,
        location: MediaLocation,
        location_name: Option<&str>,
        labelled: i64,
    ) -> MediaRecord {
        MediaRecord {
            uuid,
            label: label.to_string(),
            pool: pool.map(str::to_string),
            media_set: None,
            seq_nr: None,
            status: MediaStatus::Writable,
            location,
            location_name: location_name.map(str::to_string),
            bytes_used: 0,
            labelled,
        }
    }

    /// The location as shown: `online (lib1)`, `vault (offsite)`, `offline`.
    pub fn location_text(&self) -> String {
        match &self.location_name {
            Some(name) => format!("{} ({name})", self.location),
            None => self.location.to_string(),
        }
    }
}

/// A media set: the tapes of one pool written as one sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSetRecord {
    pub uuid: Uuid,
    pub pool: String,
    /// Start time (its first tape joined), seconds since the Unix epoch.
    pub created: i64,
    pub status: MediaSetStatus,
    /// When the set was closed (a newer set started, `ptape media-set
    /// close`, the end of an `always` job); `None` while open.
    #[serde(default)]
    pub closed: Option<i64>,
    /// When an archive was last committed to the set.
    #[serde(default)]
    pub last_write: Option<i64>,
    /// Fingerprint of the key the set is encrypted with.
    #[serde(default)]
    pub encrypt: Option<String>,
}

impl MediaSetRecord {
    /// A new, open media set of `pool` starting at `created`.
    pub fn new(pool: &str, created: i64, encrypt: Option<String>) -> MediaSetRecord {
        MediaSetRecord {
            uuid: Uuid::new_v4(),
            pool: pool.to_string(),
            created,
            status: MediaSetStatus::Writable,
            closed: None,
            last_write: None,
            encrypt,
        }
    }
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
