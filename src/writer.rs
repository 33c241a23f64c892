//! The pool writer: puts chunks, snapshot indexes and catalog archives
//! onto the tapes of a pool's media set, through the format layer's finish
//! barrier, and records in the catalog only what the barrier returned as
//! durable.
//!
//! Which media set and which tape are the pool's business
//! ([`crate::pool`]): the writer asks [`pool::choose_media_set`] for the set
//! and [`pool::plan_next_tape`] for the tapes, best first, and mounts the
//! first one that is here and proves fit; it knows nothing of allocation
//! or retention.
//!
//! Before the first write on a tape the position is proven from the tape
//! itself, and the tape compared with the catalog (see [`append`]). A tape
//! of an expired media set is reused only after the catalog forgot that
//! set as a whole. A tape that joins the media set gets its media set
//! label (file 1), committed before the catalog records the membership. At
//! early warning
//! the open chunk archive is finished, everything is committed, the tape
//! is marked full and unloaded, and the next tape is loaded; the entry in
//! flight is rewritten there.
//!
//! Encryption: before anything is written on a loaded tape, an unencrypted
//! pool refuses a drive with a key left active by someone else; an
//! encrypting pool checks the drive can take its key (AES-256-GCM,
//! application-managed) and clears a key left active. The media set's key
//! ([`SetKey`]: opened before any tape is touched) goes into the drive
//! after the unencrypted labels and before the first data block, also
//! when appending; the media set label records its fingerprint and
//! passphrase-wrapped copy. The drive's encryption state is checked
//! before each archive, and the key is cleared before every unload and
//! when the writer is dropped on any error path.

use std::collections::HashSet;
use std::io::Seek;

use pbs_tape::drive::tape_alert::TapeAlertFlags;
use pbs_tape::format::{
    ChunkWrite, ContentType, FormatError, MediaLabel, MediaSetLabel, MediaWriter, PendingArchive,
    ProducerSet, ProducerToken, TapePosition, WriterConfig,
};
use uuid::Uuid;

use crate::catalog::{
    self, ArchiveCommit, ArchiveRecord, Catalog, CatalogError, MediaLocation, MediaRecord,
    MediaSetRecord, MediaStatus, PoolRecord, SnapshotRecord,
};
use crate::chunking::Digest;
use crate::devices::{DeviceError, TapeDevices};
use crate::keys::drive::{self as key_drive, DriveKeyError, LoadedKey};
use crate::keys::{KeyAccess, KeyError, SetKey};
use crate::lock::{MediaLock, PoolLock, WaitPolicy};
use crate::media_request::{self, Need, RequestError, TapeRequest, WaitForTapes};
use crate::pool::{self, JoinReason, MediaSetChoice, Moment, PoolError, Reach, TapeChoice};
use crate::reading::TapeAccessError;
use crate::schedule::Clock;
use crate::source::{SourceChunk, SourceItem, SourceReader, SourceStop, Streams};

mod append;
pub mod health;
mod overflow;

/// Name of the chunk store recorded in chunk archives.
pub const CHUNK_STORE: &str = "ptape";

/// Errors of the pool writer.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// Reading, writing or moving a tape failed (format or device layer).
    #[error(transparent)]
    Tape(#[from] TapeAccessError),
    #[error(transparent)]
    Devices(Box<DeviceError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The pool's allocation lock could not be taken (another job holds
    /// it past the wait, or the lock directory is unusable).
    #[error(transparent)]
    Lock(Box<crate::lock::LockError>),
    #[error("no writable tape for pool {pool:?}: label a tape for the pool (ptape label) or load a blank cartridge")]
    NoWritableMedia { pool: String },
    /// The tape the job needs did not come (see [`crate::media_request`]).
    #[error("{0}")]
    TapeNotInserted(#[from] RequestError),
    /// Every candidate tape was found damaged (TapeAlert) when loaded.
    #[error("no writable tape for pool {pool:?}: {reasons}")]
    NoHealthyMedia { pool: String, reasons: String },
    /// The drive raised critical media TapeAlert flags for a tape this job
    /// wrote: it is marked damaged and the job fails (its data there is at
    /// risk; the next job writes the chunks again on another tape).
    #[error("tape {label} is damaged, the drive reports {alerts}; it is marked damaged and the job failed (the next backup writes its data again on another tape)")]
    TapeDamaged { label: String, alerts: String },
    #[error("tape {label}: the cartridge carries media UUID {found}, the catalog expects {expected}; refusing to write")]
    WrongMedia {
        label: String,
        expected: Uuid,
        found: String,
    },
    #[error("reading the backup sources failed: {0}")]
    Source(String),
    /// The job was asked to stop; what was written before is committed.
    #[error("stopped on request after a barrier commit; the snapshot was not written")]
    Stopped,
    /// The finish barrier did not return an archive the job depends on.
    #[error("the finish barrier did not commit {0}")]
    NotCommitted(String),
    /// The tape ends before the catalog's last archive.
    #[error("tape {label} ends at {end_of_data}, but the catalog records archives up to {catalog_end}: data the catalog counts on is not on the tape; nothing written. Check the tape with `ptape verify` (a tape that fails it is marked damaged)")]
    TapeBehindCatalog {
        label: String,
        end_of_data: TapePosition,
        catalog_end: TapePosition,
    },
    /// A complete archive the catalog does not know could not be imported.
    #[error("tape {label} holds an archive the catalog does not know at file {file}, and it cannot be read ({reason}); refusing to write after it. Run `ptape catalog scan --drive {drive}` and check the tape")]
    UnknownArchive {
        label: String,
        file: u64,
        reason: String,
        drive: String,
    },
    /// The tape carries a media set the catalog does not know.
    #[error("tape {label} carries media set {set} of pool {pool:?}, which the catalog does not know (a catalog older than the tape?); refusing to overwrite it. Run `ptape catalog scan --drive {drive}`")]
    UnknownMediaSetOnTape {
        label: String,
        set: Uuid,
        pool: String,
        drive: String,
    },
    /// The tape holds data that is not ptape's where the writer would write.
    #[error("tape {label} holds data at file {file} that ptape cannot account for ({reason}); refusing to overwrite it")]
    ForeignData {
        label: String,
        file: u64,
        reason: String,
    },
    /// Opening the media set's key failed (missing, wrong passphrase).
    #[error("media set key: {0}")]
    Key(Box<KeyError>),
    /// The drive cannot, or must not, encrypt as the pool needs.
    #[error(transparent)]
    DriveKey(Box<DriveKeyError>),
    /// The tape's media set label names another key than the catalog.
    #[error("tape {label}: its media set label names encryption key {found}, the catalog's media set {set} key {expected}; refusing to append")]
    KeyMismatch {
        label: String,
        set: Uuid,
        expected: String,
        found: String,
    },
    /// LOCATE did not end where the tape-vs-catalog comparison said.
    #[error("tape {label}: positioning for writing ended at {found}, expected {wanted}; the write position is not proven, nothing written")]
    PositionNotProven {
        label: String,
        wanted: TapePosition,
        found: TapePosition,
    },
}

/// What a job tells about its progress.
pub trait WriterEvents {
    /// A tape was loaded and is being written (sequence number in its set).
    fn tape(&mut self, _label: &str, _seq_nr: u32) {}
    /// A chunk of `len` source bytes was processed; `written` is false when
    /// it was already in the media set.
    fn chunk(&mut self, _len: u64, _written: bool) {}
    /// Something worth a line in the job log.
    fn note(&mut self, _message: &str) {}
    /// The job needs tapes that are not here ("please insert LABEL into
    /// CHANGER/DRIVE"); it waits for them as its [`WaitForTapes`] allows.
    /// Job logs and notifications subscribe here.
    fn tape_needed(&mut self, request: &TapeRequest) {
        self.note(&request.message());
    }
    /// A problem that did not stop the job (it ends "finished with
    /// warnings"): a source file vanished, could not be read or changed.
    fn warning(&mut self, message: &str) {
        self.note(&format!("warning: {message}"));
    }
    /// Asked after each chunk (written or found in the media set): true
    /// ends the chunk archive being written there (complete, only
    /// shorter), commits what was written with a barrier and stops the job
    /// ([`WriterError::Stopped`]; no snapshot is recorded). A job's SIGTERM
    /// ends up here. Keep it cheap (a flag).
    fn stop_requested(&mut self) -> bool {
        false
    }
    /// The drive reported TapeAlert cleaning flags.
    fn drive_needs_cleaning(&mut self, event: &crate::notify::DriveNeedsCleaning) {
        self.note(&format!(
            "drive {} needs cleaning (TapeAlert: {})",
            event.drive,
            event.flags.join(", ")
        ));
    }
    /// A tape was marked damaged in the catalog.
    fn tape_damaged(&mut self, event: &crate::notify::TapeDamaged) {
        self.note(&format!(
            "tape {} marked damaged: {}",
            event.label, event.reason
        ));
    }
}

/// Events nobody listens to.
#[derive(Debug, Default)]
pub struct NoEvents;
impl WriterEvents for NoEvents {}

/// Settings of a pool writer.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    pub pool: String,
    /// Start a new media set even when the pool's policy would continue.
    pub new_media_set: bool,
    /// Label blank cartridges of the changer into the set when needed.
    pub auto_label: bool,
    pub format: WriterConfig,
    /// Where "now" comes from (set start and close times, expiry).
    pub clock: Clock,
    /// The time zone calendar allocations are matched in.
    pub time_zone: jiff::tz::TimeZone,
    /// Where the key of an encrypted pool is found, with its passphrase.
    pub keys: KeyAccess,
    /// How long to wait for a tape that must be inserted.
    pub wait: WaitForTapes,
}

impl WriterOptions {
    pub fn new(pool: &str) -> Self {
        WriterOptions {
            pool: pool.to_string(),
            new_media_set: false,
            auto_label: true,
            format: WriterConfig::default(),
            clock: Clock::System,
            time_zone: jiff::tz::TimeZone::system(),
            keys: KeyAccess::default(),
            wait: WaitForTapes::default(),
        }
    }
}

struct Mounted<T: pbs_tape::format::TapeWrite> {
    media: MediaRecord,
    writer: MediaWriter<T>,
    /// The media set's key in the drive (encrypted sets).
    key: Option<LoadedKey>,
}

/// What a finished job wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    pub media_set: Uuid,
    /// Labels of the tapes written, in order.
    pub tapes: Vec<String>,
    pub chunks_written: u64,
    pub chunks_deduplicated: u64,
    pub bytes_written: u64,
    /// Warnings the source reader reported.
    pub warnings: u64,
}

/// The snapshot archive a job ends with.
#[derive(Debug)]
pub struct SnapshotData {
    /// `POOL/ID/TIME`.
    pub name: String,
    /// Entries and regular-file bytes (the catalog's snapshot row).
    pub entries: u64,
    pub total_bytes: u64,
    /// The snapshot index ([`crate::stream::index`]) and its length.
    pub index: std::fs::File,
    pub len: u64,
}

/// Writes one job's data to a pool's media set. See the module docs.
pub struct PoolWriter<'a, D: TapeDevices> {
    devices: D,
    catalog: &'a mut Catalog,
    events: &'a mut dyn WriterEvents,
    options: WriterOptions,
    pool: PoolRecord,
    set: MediaSetRecord,
    set_in_catalog: bool,
    /// The media set's key; `None`: the set is not encrypted.
    set_key: Option<SetKey>,
    /// Chunks of the media set: committed ones plus those written by this job.
    known: HashSet<Digest>,
    producers: ProducerSet,
    mounted: Option<Mounted<D::Tape>>,
    summary: JobSummary,
    /// Held from choosing the media set until the first tape is mounted,
    /// and again while a later tape is chosen: allocation on a pool is one
    /// job at a time (see [`crate::lock::pool`]).
    pool_lock: Option<PoolLock>,
    /// Tapes this job mounted, held until the job ends so that a
    /// concurrent job on the pool takes the next one.
    media_locks: Vec<MediaLock>,
    /// Cleaning flags the drive raised during the job.
    cleaning: TapeAlertFlags,
    /// The chunk archive being written: where it starts, what it holds.
    open_archive: Option<OpenArchive>,
    /// Chunks read back from a tape that overflowed, to write again.
    replay: Option<overflow::Replay>,
    /// A tape overflowed in this job: from then on every finished archive
    /// is committed (and archives are capped at a quarter of what that
    /// tape held), so the next overflow loses at most one archive.
    overflowed: bool,
    /// The source's end (or another stop) seen by an archive that then
    /// overflowed while it was ended: handed back once its chunks are
    /// written again.
    held_stop: Option<Stop>,
    /// Why tapes were passed over (critical TapeAlert flags at load).
    passed_over: Vec<String>,
}

/// A chunk archive that is not finished yet.
struct OpenArchive {
    /// Its tape file number.
    file: u64,
    /// The chunks stored in it so far, and their bytes.
    digests: Vec<Digest>,
    bytes: u64,
    /// Copies of the last chunks stored: their bytes may still be in the
    /// writer's block buffer, not on tape (at least two blocks' worth).
    recent: std::collections::VecDeque<(Digest, Vec<u8>)>,
    recent_bytes: usize,
}

impl OpenArchive {
    fn stored(&mut self, digest: Digest, data: &[u8], block_size: usize) {
        self.digests.push(digest);
        self.bytes += data.len() as u64;
        self.recent.push_back((digest, data.to_vec()));
        self.recent_bytes += data.len();
        while let Some((_, front)) = self.recent.front() {
            if self.recent_bytes - front.len() < 2 * block_size {
                break;
            }
            self.recent_bytes -= front.len();
            self.recent.pop_front();
        }
    }
}

/// Why the chunk loop handed control back.
enum Stop {
    Done(Box<Streams>),
    SourceGone(SourceStop),
    ArchiveFull,
    TapeFull,
    /// [`WriterEvents::stop_requested`] said stop: the archive being
    /// written was ended early (complete, only shorter).
    Requested,
    /// Writing only what an overflow left to write again (no source):
    /// all of it is written.
    ReplayDone,
}

fn format_err(label: &str) -> impl FnOnce(FormatError) -> WriterError + '_ {
    move |source| TapeAccessError::format(label, source).into()
}

fn device_err(label: &str) -> impl FnOnce(DeviceError) -> WriterError + '_ {
    move |source| TapeAccessError::device(label, source).into()
}

impl From<KeyError> for WriterError {
    fn from(e: KeyError) -> Self {
        WriterError::Key(Box::new(e))
    }
}

impl From<DriveKeyError> for WriterError {
    fn from(e: DriveKeyError) -> Self {
        WriterError::DriveKey(Box::new(e))
    }
}

impl From<DeviceError> for WriterError {
    fn from(e: DeviceError) -> Self {
        WriterError::Devices(Box::new(e))
    }
}

fn tape_err(label: &str) -> impl FnOnce(pbs_tape::format::TapeIoError) -> WriterError + '_ {
    move |source| TapeAccessError::device(label, DeviceError::from(source)).into()
}

impl<'a, D: TapeDevices> PoolWriter<'a, D> {
    /// Prepares a job: picks the media set (per the pool's policy) and loads
    /// its chunk digests once. No tape is touched yet.
    pub fn new(
        devices: D,
        catalog: &'a mut Catalog,
        options: WriterOptions,
        events: &'a mut dyn WriterEvents,
    ) -> Result<Self, WriterError> {
        let pool = pool::get_pool(catalog, &options.pool)?;
        let pool_lock = lock_pool(catalog, &pool.name)?;
        let now = Moment::new(options.clock.now_epoch(), options.time_zone.clone());
        let choice = pool::choose_media_set(catalog, &pool, options.new_media_set, &now)?;
        if let MediaSetChoice::New(_, reason) = &choice {
            events.note(&reason.to_string());
        }
        let (set, set_in_catalog, known) = match choice {
            MediaSetChoice::Existing(set) => {
                let known = catalog.media_set_digests(set.uuid)?;
                (set, true, known)
            }
            MediaSetChoice::New(set, _) => (set, false, HashSet::new()),
        };
        // Before any tape is touched: a missing key or a wrong passphrase
        // fails the job here.
        let set_key = match &set.encrypt {
            Some(fp) => {
                let key = SetKey::open(&options.keys, fp, set.uuid)?;
                events.note(&format!(
                    "media set {} is encrypted with key {}",
                    set.uuid,
                    key.fingerprint.short()
                ));
                Some(key)
            }
            None => None,
        };
        Ok(PoolWriter {
            devices,
            catalog,
            events,
            summary: JobSummary {
                media_set: set.uuid,
                tapes: Vec::new(),
                chunks_written: 0,
                chunks_deduplicated: 0,
                bytes_written: 0,
                warnings: 0,
            },
            options,
            pool,
            set,
            set_in_catalog,
            set_key,
            known,
            producers: ProducerSet::new(),
            mounted: None,
            pool_lock,
            media_locks: Vec::new(),
            cleaning: TapeAlertFlags::empty(),
            open_archive: None,
            replay: None,
            overflowed: false,
            held_stop: None,
            passed_over: Vec::new(),
        })
    }

    /// The catalog (read-only use while the job runs).
    pub fn catalog(&self) -> &Catalog {
        self.catalog
    }

    /// A line for the job log.
    pub fn note(&mut self, message: &str) {
        self.events.note(message);
    }

    /// True when another job holds tape `label` (it writes it now).
    fn in_use_elsewhere(&self, label: &str) -> bool {
        !self.media_locks.iter().any(|m| m.label() == label)
            && self
                .pool_lock
                .as_ref()
                .is_some_and(|lock| lock.media_in_use(label))
    }

    /// The media set this job writes into.
    pub fn media_set(&self) -> &MediaSetRecord {
        &self.set
    }

    /// The pool.
    pub fn pool(&self) -> &PoolRecord {
        &self.pool
    }

    /// True when chunk `digest` is in the job's media set (committed, or
    /// written by this job).
    pub fn in_media_set(&self, digest: &Digest) -> bool {
        self.known.contains(digest)
    }

    /// Registers a producer whose explicit outcome the final commit waits for.
    pub fn register_producer(&self, name: &str) -> ProducerToken {
        self.producers.register(name)
    }

    /// Writes every chunk from `items` (both streams) that is not yet in
    /// the media set, until the source is done; returns its streams.
    pub fn write_chunks(&mut self, items: &mut SourceReader) -> Result<Box<Streams>, WriterError> {
        let mut carry: Option<SourceChunk> = None;
        loop {
            self.ensure_mounted()?;
            self.check_encryption()?;
            let stop = match self.chunk_loop(Some(&mut *items), &mut carry) {
                Ok(stop) => stop,
                Err(e) if is_volume_overflow(&e) => {
                    // The tape ended inside an archive: go on with the
                    // next tape, writing what was lost again.
                    self.recover_from_overflow(e)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match stop {
                Stop::Done(streams) => return Ok(streams),
                Stop::SourceGone(SourceStop::Invalid(why)) => return Err(WriterError::Source(why)),
                Stop::SourceGone(SourceStop::Stopped) => {
                    let why = match self.producers.first_failure() {
                        Some(e) => e.to_string(),
                        None => {
                            "the source reader stopped before the end of its streams".to_string()
                        }
                    };
                    return Err(WriterError::Source(why));
                }
                Stop::Requested => {
                    self.events
                        .note("stop requested: committing what was written, then stopping");
                    self.checkpoint(None)?;
                    return Err(WriterError::Stopped);
                }
                Stop::ArchiveFull => {
                    if self.events.stop_requested() {
                        self.checkpoint(None)?;
                        return Err(WriterError::Stopped);
                    }
                    if self.overflowed
                        || self.mounted.as_ref().is_some_and(|m| m.writer.commit_due())
                    {
                        self.checkpoint(None)?;
                    }
                }
                Stop::TapeFull => {
                    self.checkpoint(None)?;
                    self.retire_mounted(MediaStatus::Full)?;
                }
                Stop::ReplayDone => {
                    return Err(WriterError::Source(
                        "the chunk writer lost its source".to_string(),
                    ))
                }
            }
        }
    }

    /// Writes what an overflow after the source's end left to write again
    /// (see [`Self::recover_from_overflow`]), on the next tapes, each
    /// archive committed.
    fn write_replay(&mut self) -> Result<(), WriterError> {
        let mut carry: Option<SourceChunk> = None;
        while self.replay.is_some() || carry.is_some() {
            self.ensure_mounted()?;
            self.check_encryption()?;
            match self.chunk_loop(None, &mut carry) {
                Ok(Stop::ReplayDone) => {
                    self.checkpoint(None)?;
                    break;
                }
                // Finishing: the job ends anyway.
                Ok(Stop::ArchiveFull | Stop::Requested) => self.checkpoint(None)?,
                Ok(Stop::TapeFull) => {
                    self.checkpoint(None)?;
                    self.retire_mounted(MediaStatus::Full)?;
                }
                Ok(Stop::SourceGone(SourceStop::Invalid(why))) => {
                    return Err(WriterError::Source(why))
                }
                Ok(Stop::Done(_) | Stop::SourceGone(SourceStop::Stopped)) => {
                    return Err(WriterError::Source(
                        "the chunk writer found a source while writing chunks again".to_string(),
                    ))
                }
                Err(e) if is_volume_overflow(&e) => self.recover_from_overflow(e)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes one chunk archive on the mounted tape: started at the first
    /// chunk not yet in the media set, ended when the source is done, the
    /// archive reached its cap, or the tape its early warning.
    fn chunk_loop(
        &mut self,
        mut items: Option<&mut SourceReader>,
        carry: &mut Option<SourceChunk>,
    ) -> Result<Stop, WriterError> {
        let Some(mounted) = self.mounted.as_mut() else {
            return Ok(Stop::TapeFull);
        };
        let label = mounted.media.label.clone();
        let known = &mut self.known;
        let events = &mut *self.events;
        let summary = &mut self.summary;
        let replay = &mut self.replay;
        let open = &mut self.open_archive;
        let held = &mut self.held_stop;
        let first = match next_new_chunk(
            items.as_deref_mut(),
            carry,
            replay,
            held,
            known,
            events,
            summary,
        ) {
            Ok(c) => c,
            Err(stop) => return Ok(stop),
        };
        let block_size = mounted.writer.config().block_size;
        *open = Some(OpenArchive {
            file: mounted.writer.expected_position().file_number,
            digests: Vec::new(),
            bytes: 0,
            recent: Default::default(),
            recent_bytes: 0,
        });
        let mut archive = match mounted.writer.start_chunk_archive(CHUNK_STORE) {
            Ok(w) => w,
            Err(FormatError::MediumFull) => {
                *open = None;
                *carry = Some(first);
                return Ok(Stop::TapeFull);
            }
            Err(e) => {
                *carry = Some(first);
                return Err(format_err(&label)(e));
            }
        };
        *carry = Some(first);
        let stop = loop {
            let chunk = match next_new_chunk(
                items.as_deref_mut(),
                carry,
                replay,
                held,
                known,
                events,
                summary,
            ) {
                Ok(c) => c,
                Err(stop) => break stop,
            };
            let outcome = match archive.add_chunk(&chunk.digest, chunk.data()) {
                Ok(outcome) => outcome,
                Err(e) => {
                    // Not stored: written again with the next tape.
                    *carry = Some(chunk);
                    return Err(format_err(&label)(e));
                }
            };
            let len = chunk.data().len() as u64;
            if matches!(
                outcome,
                ChunkWrite::Stored { .. } | ChunkWrite::MediumFull { stored: true }
            ) {
                known.insert(chunk.digest);
                summary.chunks_written += 1;
                summary.bytes_written += len;
                events.chunk(len, true);
                if let Some(o) = open.as_mut() {
                    o.stored(chunk.digest, chunk.data(), block_size);
                }
            }
            match outcome {
                // Asked after every chunk (a flag in a job): a stop does
                // not wait for an archive of several GiB to fill.
                ChunkWrite::Stored {
                    archive_full: false,
                } if events.stop_requested() => break Stop::Requested,
                ChunkWrite::Stored {
                    archive_full: false,
                } => {}
                ChunkWrite::Stored { archive_full: true } => break Stop::ArchiveFull,
                ChunkWrite::MediumFull { stored } => {
                    if !stored {
                        *carry = Some(chunk);
                    }
                    break Stop::TapeFull;
                }
            }
        };
        if let Err(e) = archive.finish() {
            // Ending the archive failed (e.g. VOLUME OVERFLOW): what made
            // it end still holds after its chunks are written again.
            if !matches!(stop, Stop::ArchiveFull | Stop::TapeFull) {
                *held = Some(stop);
            }
            return Err(format_err(&label)(e));
        }
        *open = None;
        Ok(stop)
    }

    /// The mounted tape hit VOLUME OVERFLOW (`err`) in a chunk archive:
    /// what was written since the last commit is read back (see
    /// [`overflow`]), the tape marked full and unloaded, and those chunks
    /// are written again on the next tape; they no longer count as written
    /// (nor known) until then. When they cannot all be read back the job
    /// fails with `err`.
    fn recover_from_overflow(&mut self, err: WriterError) -> Result<(), WriterError> {
        let open = self.open_archive.take();
        let Some(mounted) = self.mounted.take() else {
            return Err(err);
        };
        let label = mounted.media.label.clone();
        let mut files = Vec::new();
        let mut lost: HashSet<Digest> = HashSet::new();
        let mut lost_bytes = 0;
        let mut other = None;
        for p in mounted.writer.pending() {
            if p.content_type == ContentType::ChunkArchive {
                files.push(p.file_number);
                lost.extend(p.digests.iter().copied());
                lost_bytes += p.chunk_bytes;
            } else {
                other = Some(p.file_number);
            }
        }
        if let Some(o) = &open {
            files.push(o.file);
            lost.extend(o.digests.iter().copied());
            lost_bytes += o.bytes;
        }
        self.catalog
            .set_media_status(mounted.media.uuid, MediaStatus::Full)?;
        // A tape of this kind holds about this much: later archives stay
        // well below it, so that each one is committed before the next
        // tape's end and the job makes progress even when nothing on this
        // one was committed.
        let position = mounted.writer.expected_position();
        let block = mounted.writer.config().block_size as u64;
        let held = position.logical_object.saturating_sub(position.file_number) * block;
        let cap = (held / 4).max(4 * block);
        if cap < self.options.format.archive_cap {
            self.options.format.archive_cap = cap;
        }
        // The last chunks may never have left the block buffer: their
        // copies are here; the rest is read back from the tape.
        let recent: Vec<(Digest, Vec<u8>)> = open
            .map(|o| o.recent.into_iter().collect())
            .unwrap_or_default();
        let mut from_tape = lost.clone();
        for (d, _) in &recent {
            from_tape.remove(d);
        }
        let mut tape = mounted.writer.into_tape();
        let replay = match other {
            Some(file) => Err(format!(
                "file {file}, not a chunk archive, was written since the last commit"
            )),
            None => overflow::read_back(&mut tape, &files, &from_tape, recent),
        };
        let unloaded = self.unload_tape(tape, &label);
        let replay = match replay {
            Ok(r) => r,
            Err(why) => {
                self.events.note(&format!(
                    "tape {label} reached its physical end (VOLUME OVERFLOW), marked full; {why}"
                ));
                return Err(err);
            }
        };
        unloaded?;
        for d in &lost {
            self.known.remove(d);
        }
        self.summary.chunks_written = self
            .summary
            .chunks_written
            .saturating_sub(lost.len() as u64);
        self.summary.bytes_written = self.summary.bytes_written.saturating_sub(lost_bytes);
        self.events.note(&format!(
            "tape {label} reached its physical end (VOLUME OVERFLOW) inside an archive: marked full; \
             the {} chunks written there since the last commit are written again on the next tape",
            replay.left()
        ));
        // What was read back goes first; a chunk left over from before
        // (the one whose write failed) stays in the carry.
        // Chunks an earlier overflow left to write again come after them.
        let earlier = self.replay.take();
        self.replay = Some(replay.then(earlier));
        self.overflowed = true;
        Ok(())
    }

    /// Writes the snapshot archive (the snapshot index, streamed from its
    /// file) and runs the full barrier: only after it succeeded is the
    /// snapshot recorded. Then writes the catalog archives of the tapes
    /// this job wrote.
    pub fn finish_job(
        mut self,
        data: &mut SnapshotData,
        time: i64,
    ) -> Result<JobSummary, WriterError> {
        let snapshot = SnapshotRecord {
            name: data.name.clone(),
            pool: self.pool.name.clone(),
            time,
            media_set: self.set.uuid,
            // Filled in from the durable archive record.
            media: Uuid::nil(),
            file_number: 0,
            archive: Uuid::nil(),
            entries: data.entries,
            total_bytes: data.total_bytes,
        };
        loop {
            self.mounted()?;
            self.check_encryption()?;
            let mounted = self.mounted()?;
            let label = mounted.media.label.clone();
            data.index
                .rewind()
                .map_err(|e| WriterError::Source(format!("rewinding the snapshot index: {e}")))?;
            match mounted
                .writer
                .write_snapshot_archive_from(&data.name, &mut data.index, data.len)
            {
                Ok(_) => break,
                Err(FormatError::MediumFull) => {
                    self.checkpoint(None)?;
                    self.retire_mounted(MediaStatus::Full)?;
                }
                Err(e) => {
                    let err = format_err(&label)(e);
                    if !is_volume_overflow(&err) {
                        return Err(err);
                    }
                    // The tape ended inside the snapshot archive: the
                    // chunks not yet committed go to the next tape first.
                    self.recover_from_overflow(err)?;
                    self.write_replay()?;
                }
            }
        }
        self.commit(Some(&snapshot))?;
        if let Err(err) = self.finish_after_snapshot() {
            // The snapshot's data is durable and stays catalogued, but a
            // failed job must not list a snapshot: take its row back.
            if let Err(undo) = self
                .catalog
                .forget_snapshot(&snapshot.name, snapshot.media_set)
            {
                self.events.note(&format!(
                    "could not remove the snapshot row of failed job {}: {undo}",
                    snapshot.name
                ));
            }
            return Err(err);
        }
        Ok(self.summary.clone())
    }

    /// The job's last steps after its snapshot is committed: the catalog
    /// archives, closing an always-new media set, unloading the tape. Any
    /// failure here fails the job.
    fn finish_after_snapshot(&mut self) -> Result<(), WriterError> {
        self.write_catalog_archives()?;
        pool::job_finished(self.catalog, &self.pool, self.set.uuid, &self.moment())?;
        if let Some(mounted) = self.mounted.take() {
            self.done_with(mounted, None)?;
        }
        self.clean_if_asked();
        Ok(())
    }

    /// Writes, on the tape in the drive, one catalog archive for each tape
    /// this job wrote (all rows of a tape it finished, else the rows it
    /// added: see [`Catalog::export_tape_new_rows`]), then commits them. A tape past early warning takes
    /// no more archives: the catalog can then still be rebuilt by reading
    /// the archives themselves.
    fn write_catalog_archives(&mut self) -> Result<(), WriterError> {
        let Some(mounted) = self.mounted.as_mut() else {
            return Ok(());
        };
        let label = mounted.media.label.clone();
        let mut written = false;
        for tape_label in self.summary.tapes.clone() {
            let Some(media) = self.catalog.media_by_label(&tape_label)? else {
                continue;
            };
            // A finished tape gets one catalog archive with all its rows;
            // one still taking data only the rows no catalog archive on it
            // describes yet (what this job added).
            let rows = if media.status == MediaStatus::Full {
                self.catalog.export_tape(media.uuid)?
            } else {
                self.catalog.export_tape_new_rows(media.uuid)?
            };
            let payload = rows.encode()?;
            match mounted.writer.write_catalog_archive(media.uuid, &payload) {
                Ok(_) => written = true,
                Err(FormatError::MediumFull) => {
                    self.events.note(&format!(
                        "tape {label} is past early warning: catalog archive of {tape_label} not written"
                    ));
                    break;
                }
                Err(e) => {
                    let err = format_err(&label)(e);
                    if !is_volume_overflow(&err) {
                        return Err(err);
                    }
                    // The snapshot is committed; catalog archives only
                    // spare a scan the full read of the archives.
                    self.catalog
                        .set_media_status(mounted.media.uuid, MediaStatus::Full)?;
                    self.events.note(&format!(
                        "tape {label} reached its physical end (VOLUME OVERFLOW) in the catalog archives: marked full; they are not written (ptape catalog scan reads the archives instead)"
                    ));
                    return Ok(());
                }
            }
        }
        if written {
            self.commit(None)?;
        }
        Ok(())
    }

    /// Full barrier: flush, verify, wait for every producer; record.
    fn commit(&mut self, snapshot: Option<&SnapshotRecord>) -> Result<(), WriterError> {
        self.barrier(true, snapshot)
    }

    /// Intermediate barrier (producers still running); record.
    fn checkpoint(&mut self, snapshot: Option<&SnapshotRecord>) -> Result<(), WriterError> {
        self.barrier(false, snapshot)
    }

    fn barrier(
        &mut self,
        full: bool,
        snapshot: Option<&SnapshotRecord>,
    ) -> Result<(), WriterError> {
        let Some(mounted) = self.mounted.as_mut() else {
            if let Some(s) = snapshot {
                return Err(WriterError::NotCommitted(format!(
                    "snapshot {}: no tape is mounted",
                    s.name
                )));
            }
            // Nothing to flush, but a full barrier still needs every
            // producer's explicit outcome.
            if full {
                self.producers
                    .wait_all()
                    .map_err(|e| WriterError::Source(e.to_string()))?;
            }
            return Ok(());
        };
        let label = mounted.media.label.clone();
        let result = if full {
            // The job's producers report to our set; the writer's own set
            // covers producers registered on it directly.
            self.producers
                .wait_all()
                .and_then(|()| mounted.writer.commit())
        } else {
            match self.producers.first_failure() {
                Some(e) => Err(e),
                None => mounted.writer.checkpoint(),
            }
        };
        let durable = result.map_err(format_err(&label))?;
        let media = mounted.media.uuid;
        let commits: Vec<ArchiveCommit> = durable
            .iter()
            .filter_map(|p| archive_commit(p, media, snapshot))
            .collect();
        self.catalog.commit_archives(&commits)?;
        if self.set_in_catalog && !commits.is_empty() {
            let now = self.options.clock.now_epoch();
            self.catalog.record_media_set_write(self.set.uuid, now)?;
        }
        // The durable archives are recorded; but a job is OK only when its
        // snapshot archive is among them.
        if let Some(s) = snapshot {
            if !commits.iter().any(|c| c.snapshot.is_some()) {
                return Err(WriterError::NotCommitted(format!(
                    "snapshot archive of {}",
                    s.name
                )));
            }
        }
        Ok(())
    }

    /// Reads the drive's TapeAlert flags for the loaded tape `media` and
    /// acts on them (see [`health`]). Returns the critical media flags when
    /// the tape was marked damaged because of them.
    fn check_alerts(
        &mut self,
        tape: &mut D::Tape,
        media: Option<&MediaRecord>,
        label: &str,
    ) -> Result<Option<String>, WriterError> {
        let flags = match self.devices.tape_alerts(tape) {
            Ok(flags) => flags,
            Err(e) => {
                self.events
                    .note(&format!("tape {label}: TapeAlert flags not read: {e}"));
                return Ok(None);
            }
        };
        let alerts = health::Alerts::classify(flags);
        if !alerts.cleaning.is_empty() {
            self.cleaning |= alerts.cleaning;
            self.events.note(&format!(
                "drive {} asks for cleaning: {}",
                self.devices.drive_name(),
                health::describe(alerts.cleaning)
            ));
        }
        if !alerts.information.is_empty() {
            self.events.note(&format!(
                "drive {} with tape {label}: {}",
                self.devices.drive_name(),
                health::describe(alerts.information)
            ));
        }
        if !alerts.other.is_empty() {
            self.summary.warnings += 1;
            self.events.warning(&format!(
                "drive {} with tape {label}: {}",
                self.devices.drive_name(),
                health::describe(alerts.other)
            ));
        }
        if alerts.media_damage.is_empty() {
            return Ok(None);
        }
        let text = health::describe(alerts.media_damage);
        self.summary.warnings += 1;
        match media {
            Some(media) => {
                self.catalog
                    .set_media_status(media.uuid, MediaStatus::Damaged)?;
                // Its chunks no longer count: the job writes them again.
                if self.set_in_catalog {
                    self.known = self.catalog.media_set_digests(self.set.uuid)?;
                }
                // Logged by the hook; a --notify target hears of it.
                self.events.tape_damaged(&crate::notify::TapeDamaged {
                    label: label.to_string(),
                    reason: format!("the drive reports {text}"),
                    drive: Some(self.devices.drive_name()),
                    job: None,
                });
            }
            // Not in the catalog yet (a blank cartridge): nothing to mark.
            None => self.events.warning(&format!(
                "tape {label} passed over, the drive reports {text}"
            )),
        }
        Ok(Some(text))
    }

    /// Done with the mounted tape: TapeAlert flags checked, then marked
    /// (`status`, when given) and unloaded. Critical media flags mark it
    /// damaged instead and fail the job: what it holds is at risk.
    fn done_with(
        &mut self,
        mounted: Mounted<D::Tape>,
        status: Option<MediaStatus>,
    ) -> Result<(), WriterError> {
        let label = mounted.media.label.clone();
        let mut tape = mounted.writer.into_tape();
        let damage = match self.check_alerts(&mut tape, Some(&mounted.media), &label) {
            Ok(d) => d,
            Err(e) => {
                let _ = self.unload_tape(tape, &label);
                return Err(e);
            }
        };
        if damage.is_none() {
            if let Some(status) = status {
                self.catalog.set_media_status(mounted.media.uuid, status)?;
                self.events.note(&format!("tape {label} is {status}"));
            }
        }
        self.unload_tape(tape, &label)?;
        match damage {
            Some(alerts) => Err(WriterError::TapeDamaged { label, alerts }),
            None => Ok(()),
        }
    }

    /// After the last unload: cleans the drive when it asked for it and is
    /// configured to be cleaned automatically, else reports it.
    fn clean_if_asked(&mut self) {
        if self.cleaning.is_empty() {
            return;
        }
        let drive = self.devices.drive_name();
        let why = health::describe(self.cleaning);
        let event = crate::notify::DriveNeedsCleaning {
            drive: drive.clone(),
            changer: self.devices.changer_name(),
            flags: self
                .cleaning
                .entries()
                .iter()
                .map(|e| format!("{} {}", e.flag, e.name.replace('_', " ")))
                .collect(),
            job: None,
        };
        if !self.devices.auto_clean() {
            self.events.drive_needs_cleaning(&event);
            self.summary.warnings += 1;
            self.events.warning(&format!(
                "drive {drive} needs cleaning ({why}): clean it (pmtx clean) or let ptape do it (ptape drive update {drive} --auto-clean)"
            ));
            return;
        }
        match self.devices.clean_drive() {
            Ok(Some(cartridge)) => {
                self.cleaning = TapeAlertFlags::empty();
                self.events
                    .note(&format!("drive {drive} cleaned with {cartridge} ({why})"));
            }
            Ok(None) => {
                self.summary.warnings += 1;
                self.events.drive_needs_cleaning(&event);
                self.events.warning(&format!(
                    "drive {drive} needs cleaning ({why}), but its library has no usable cleaning cartridge"
                ));
            }
            Err(e) => {
                self.summary.warnings += 1;
                self.events.drive_needs_cleaning(&event);
                self.events.warning(&format!(
                    "drive {drive} needs cleaning ({why}); cleaning failed: {e}"
                ));
            }
        }
    }

    /// Marks the mounted tape (full or damaged) and unloads it; a tape the
    /// drive reports damaged (TapeAlert) fails the job.
    fn retire_mounted(&mut self, status: MediaStatus) -> Result<(), WriterError> {
        if let Some(mounted) = self.mounted.take() {
            self.done_with(mounted, Some(status))?;
        }
        Ok(())
    }

    /// The mounted tape, loading one when none is.
    fn mounted(&mut self) -> Result<&mut Mounted<D::Tape>, WriterError> {
        self.ensure_mounted()?;
        self.mounted
            .as_mut()
            .ok_or_else(|| WriterError::NoWritableMedia {
                pool: self.pool.name.clone(),
            })
    }

    fn ensure_mounted(&mut self) -> Result<(), WriterError> {
        if self.mounted.is_some() {
            return Ok(());
        }
        if self.pool_lock.is_none() {
            self.pool_lock = lock_pool(self.catalog, &self.pool.name)?;
        }
        let mounted = self.mount_next_tape()?;
        let label = &mounted.media.label;
        if !self.media_locks.iter().any(|m| m.label() == label) {
            if let Some(lock) = &self.pool_lock {
                let held = lock
                    .hold_media(label)
                    .map_err(|e| WriterError::Lock(Box::new(e)))?;
                self.media_locks.push(held);
            }
        }
        // The tape is ours and in the catalog: others may allocate now.
        self.pool_lock = None;
        let seq = mounted.media.seq_nr.unwrap_or(0);
        self.events.tape(&mounted.media.label, seq);
        if !self.summary.tapes.contains(&mounted.media.label) {
            self.summary.tapes.push(mounted.media.label.clone());
        }
        self.mounted = Some(mounted);
        Ok(())
    }

    /// Asks the pool for the next tape ([`pool::plan_next_tape`]) and
    /// mounts the first of its choices that is here and proves fit: the
    /// set's last tape when it still takes data, else a tape that joins
    /// the set.
    fn mount_next_tape(&mut self) -> Result<Mounted<D::Tape>, WriterError> {
        let mut asked = false;
        loop {
            let online = self.online_labels()?;
            let plan = self.plan(&online)?;
            // The set's last tape, unless another job is writing it now:
            // then the next one joins the set.
            if let Some(last) = plan.append.filter(|m| !self.in_use_elsewhere(&m.label)) {
                if !online.contains(&last.label) {
                    if asked {
                        return Err(self.not_online(vec![last.label]));
                    }
                    let why = format!(
                        "backup to pool '{}' appends to media set {}",
                        self.pool.name, self.set.uuid
                    );
                    self.ask_for(vec![last.label], why)?;
                    asked = true;
                    continue;
                }
                match self.mount_for_append(last)? {
                    Some(mounted) => return Ok(mounted),
                    // Found damaged at load: plan again without it.
                    None => continue,
                }
            }
            for choice in plan.join {
                let mounted = match choice {
                    TapeChoice::Join { media, why }
                        if online.contains(&media.label)
                            && !self.in_use_elsewhere(&media.label) =>
                    {
                        self.mount_joining(media, why)?
                    }
                    TapeChoice::LabelBlank(barcode) if !self.in_use_elsewhere(&barcode) => {
                        self.mount_blank(&barcode)?
                    }
                    _ => None,
                };
                if let Some(mounted) = mounted {
                    return Ok(mounted);
                }
            }
            // Nothing here will do: ask for the tapes that would.
            let labels: Vec<String> = plan.insert.into_iter().map(|m| m.label).collect();
            if labels.is_empty() && !self.passed_over.is_empty() {
                return Err(WriterError::NoHealthyMedia {
                    pool: self.pool.name.clone(),
                    reasons: format!(
                        "the drive reported damage on {}",
                        self.passed_over.join("; ")
                    ),
                });
            }
            if labels.is_empty() {
                return Err(WriterError::NoWritableMedia {
                    pool: self.pool.name.clone(),
                });
            }
            if asked {
                return Err(self.not_online(labels));
            }
            let why = format!("backup to pool '{}' needs a tape", self.pool.name);
            self.ask_for(labels, why)?;
            asked = true;
        }
    }

    /// What the pool offers for the next tape, given what is online.
    fn plan(&mut self, online: &[String]) -> Result<pool::TapePlan, WriterError> {
        let reach = match self.devices.changer_name() {
            Some(name) => Reach::Changer { name },
            // A standalone drive lists the label of the tape it holds.
            None => Reach::Standalone {
                loaded: online.first().cloned(),
            },
        };
        let mut blank = Vec::new();
        if self.options.auto_label && self.devices.can_autolabel() {
            for label in online {
                if self.catalog.media_by_label(label)?.is_none() {
                    blank.push(label.clone());
                }
            }
        }
        let set = self.set_in_catalog.then_some(&self.set);
        Ok(pool::plan_next_tape(
            self.catalog,
            &self.pool.name,
            set,
            &reach,
            &blank,
            &self.moment(),
        )?)
    }

    fn tape_request(&self, labels: Vec<String>, reason: String) -> TapeRequest {
        TapeRequest {
            labels,
            need: Need::Any,
            changer: self.devices.changer_name(),
            drive: self.devices.drive_name(),
            reason,
        }
    }

    /// Asks for one of `labels` and waits per the job's policy; the
    /// catalog's locations follow what the changer holds afterwards.
    fn ask_for(&mut self, labels: Vec<String>, reason: String) -> Result<(), WriterError> {
        let request = self.tape_request(labels, reason);
        let wait = self.options.wait;
        media_request::wait_for_tapes(&mut self.devices, &request, &wait, &mut *self.events)?;
        Ok(())
    }

    /// The tapes came, but still cannot be used (e.g. the wrong one is in
    /// a standalone drive).
    fn not_online(&self, labels: Vec<String>) -> WriterError {
        let request = self.tape_request(
            labels.clone(),
            format!("backup to pool '{}'", self.pool.name),
        );
        WriterError::TapeNotInserted(RequestError::NotInserted {
            request: Box::new(request),
            missing: labels,
            policy: self.options.wait.policy,
            waited: std::time::Duration::ZERO,
        })
    }

    /// TapeAlert flags of a tape just loaded ([`Self::check_alerts`]):
    /// `false` when it is damaged (marked, unloaded, passed over).
    fn healthy_at_load(
        &mut self,
        tape: &mut Option<D::Tape>,
        media: Option<&MediaRecord>,
        label: &str,
    ) -> Result<bool, WriterError> {
        let Some(t) = tape.as_mut() else {
            return Ok(false);
        };
        match self.check_alerts(t, media, label) {
            Ok(None) => Ok(true),
            Ok(Some(alerts)) => {
                self.passed_over.push(format!("{label}: {alerts}"));
                if let Some(t) = tape.take() {
                    self.unload_tape(t, label)?;
                }
                Ok(false)
            }
            Err(e) => {
                if let Some(t) = tape.take() {
                    let _ = self.unload_tape(t, label);
                }
                Err(e)
            }
        }
    }

    fn mount_for_append(
        &mut self,
        media: MediaRecord,
    ) -> Result<Option<Mounted<D::Tape>>, WriterError> {
        let label = media.label.clone();
        let mut loaded = Some(self.load_for_writing(&label)?);
        if !self.healthy_at_load(&mut loaded, Some(&media), &label)? {
            return Ok(None);
        }
        let Some(mut tape) = loaded else {
            return Ok(None);
        };
        let drive = self.devices.drive_name();
        let mut key = None;
        let set_key = &self.set_key;
        let set_uuid = self.set.uuid;
        // The key goes in after the labels are read, before the archives
        // behind them are read (imported) or written.
        let mut after_labels = |tape: &mut D::Tape, on_tape: &MediaSetLabel| {
            key = load_set_key(tape, set_key, set_uuid, &label, on_tape)?;
            Ok(())
        };
        let proof = append::prove_append_point(
            &mut tape,
            self.catalog,
            &media,
            self.set.uuid,
            &drive,
            &mut *self.events,
            &mut after_labels,
        );
        let point = match proof {
            Ok(point) => point,
            Err(e) => {
                let _ = self.unload_tape(tape, &label);
                return Err(e);
            }
        };
        self.known.extend(point.imported_chunks);
        let writer = match new_media_writer(tape, &self.options.format) {
            Ok(w) => w,
            Err(e) => return Err(format_err(&label)(e)),
        };
        if writer.expected_position() != point.position {
            let found = writer.expected_position();
            let _ = self.unload_tape(writer.into_tape(), &label);
            return Err(WriterError::PositionNotProven {
                label,
                wanted: point.position,
                found,
            });
        }
        let media = self
            .catalog
            .media_by_uuid(media.uuid)?
            .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
        self.record_location_here(media.uuid)?;
        Ok(Some(Mounted { media, writer, key }))
    }

    /// Loads `label` for writing and sets its drive up (see
    /// [`crate::keys::job::prepare_drive_for_writing`]) before anything
    /// is read or written.
    fn load_for_writing(&mut self, label: &str) -> Result<D::Tape, WriterError> {
        let mut tape = self.devices.load(label).map_err(device_err(label))?;
        let encrypting = self.set_key.is_some();
        match crate::keys::job::prepare_drive_for_writing(&mut tape, encrypting) {
            Ok(None) => Ok(tape),
            Ok(Some(note)) => {
                self.events.note(&note);
                Ok(tape)
            }
            Err(e) => {
                let _ = self.devices.unload(tape);
                Err(e.into())
            }
        }
    }

    /// Unloads `tape`; an encrypting job clears the drive's key first.
    fn unload_tape(&mut self, mut tape: D::Tape, label: &str) -> Result<(), WriterError> {
        let cleared = match self.set_key {
            Some(_) => key_drive::clear_drive_key(&mut tape),
            None => Ok(()),
        };
        self.devices.unload(tape).map_err(device_err(label))?;
        cleared?;
        Ok(())
    }

    /// Before an archive is written: the drive still encrypts with the
    /// media set's key.
    fn check_encryption(&mut self) -> Result<(), WriterError> {
        if let Some(mounted) = self.mounted.as_mut() {
            if let Some(key) = &mounted.key {
                key_drive::check_loaded(mounted.writer.device_mut(), key)?;
            }
        }
        Ok(())
    }

    /// The labels that can be loaded now; with a changer, the catalog's
    /// online/offline locations are brought up to date on the way.
    fn online_labels(&mut self) -> Result<Vec<String>, WriterError> {
        let online = self.devices.online_labels()?;
        if let Some(changer) = self.devices.changer_name() {
            self.catalog.sync_media_locations(&changer, &online)?;
        }
        Ok(online)
    }

    /// Loads a catalogued tape the pool chose to join the set, proves its
    /// file 1 may be overwritten and adds it to the set. `None`: the tape
    /// is not what the catalog says (skipped, unloaded).
    fn mount_joining(
        &mut self,
        media: MediaRecord,
        why: JoinReason,
    ) -> Result<Option<Mounted<D::Tape>>, WriterError> {
        let label = media.label.clone();
        let drive = self.devices.drive_name();
        let mut loaded = Some(self.load_for_writing(&label)?);
        if !self.healthy_at_load(&mut loaded, Some(&media), &label)? {
            return Ok(None);
        }
        let Some(mut tape) = loaded else {
            return Ok(None);
        };
        match append::prove_join_point(&mut tape, self.catalog, &media, media.media_set, &drive) {
            Ok(()) => {}
            Err(
                e @ (WriterError::WrongMedia { .. }
                | WriterError::UnknownMediaSetOnTape { .. }
                | WriterError::ForeignData { .. }),
            ) => {
                self.events.note(&format!("skipped: {e}"));
                self.unload_tape(tape, &label)?;
                return Ok(None);
            }
            Err(e) => {
                let _ = self.unload_tape(tape, &label);
                return Err(e);
            }
        }
        // Forget before overwrite: an expired set goes as a whole before
        // its tape's file 1 is written; never while a restore reads it
        // (it holds the set's read lock: the tape is skipped).
        if let JoinReason::Expired { set: old } = why {
            let _reuse = match self.reuse_lock(old) {
                Ok(lock) => lock,
                Err(e) if e.is_busy() => {
                    self.events.note(&format!(
                        "skipped {label}: media set {old} is being read by a restore"
                    ));
                    self.unload_tape(tape, &label)?;
                    return Ok(None);
                }
                Err(e) => {
                    let _ = self.unload_tape(tape, &label);
                    return Err(WriterError::Lock(Box::new(e)));
                }
            };
            let freed = self.catalog.forget_media_set(old)?;
            self.events.note(&format!(
                "media set {old} expired: forgotten (tapes {}) before {label} is overwritten",
                freed.join(", ")
            ));
        }
        let writer = new_media_writer(tape, &self.options.format).map_err(format_err(&label))?;
        self.join_set(writer, media, None).map(Some)
    }

    /// The exclusive lock on expired set `set` while it is forgotten.
    fn reuse_lock(&self, set: Uuid) -> Result<crate::lock::SetReuseLock, crate::lock::LockError> {
        let dir = crate::lock::pool::locks_dir_for(self.catalog.path())?;
        crate::lock::SetReuseLock::acquire_in(&dir, set, &crate::lock::process_command())
    }

    /// Loads a blank cartridge of the changer, proves it blank, labels it
    /// for the pool and adds it to the set. `None`: it is not blank
    /// (skipped, unloaded; never overwritten).
    fn mount_blank(&mut self, label: &str) -> Result<Option<Mounted<D::Tape>>, WriterError> {
        let mut loaded = Some(self.load_for_writing(label)?);
        if !self.healthy_at_load(&mut loaded, None, label)? {
            return Ok(None);
        }
        let Some(mut tape) = loaded else {
            return Ok(None);
        };
        match append::prove_blank(&mut tape, label) {
            Ok(()) => {}
            Err(e @ WriterError::ForeignData { .. }) => {
                self.events.note(&format!(
                    "cartridge {label} is not blank and not in the catalog: skipped ({e})"
                ));
                self.unload_tape(tape, label)?;
                return Ok(None);
            }
            Err(e) => {
                let _ = self.unload_tape(tape, label);
                return Err(e);
            }
        }
        let now = self.moment();
        let changer = self.devices.changer_name();
        let media = MediaRecord::new_labelled(
            Uuid::new_v4(),
            label,
            Some(&self.pool.name),
            MediaLocation::Online,
            changer.as_deref(),
            now.time,
        );
        let mut writer = new_media_writer(tape, &self.options.format).map_err(format_err(label))?;
        writer
            .write_media_label(&MediaLabel {
                label_text: label.to_string(),
                uuid: media.uuid,
                ctime: now.time,
            })
            .map_err(format_err(label))?;
        self.events
            .note(&format!("labelled blank cartridge {label}"));
        self.join_set(writer, media, Some(())).map(Some)
    }

    /// Writes the media set label (file 1), commits it, then records the
    /// tape (when `new_label`), the media set and the membership.
    fn join_set(
        &mut self,
        mut writer: MediaWriter<D::Tape>,
        media: MediaRecord,
        new_label: Option<()>,
    ) -> Result<Mounted<D::Tape>, WriterError> {
        let label = media.label.clone();
        let seq_nr = if self.set_in_catalog {
            self.catalog.media_of_set(self.set.uuid)?.len() as u32
        } else {
            0
        };
        writer
            .write_media_set_label(&MediaSetLabel {
                pool: self.pool.name.clone(),
                uuid: self.set.uuid,
                seq_nr: u64::from(seq_nr),
                ctime: self.set.created,
                encryption_key_fingerprint: self
                    .set_key
                    .as_ref()
                    .map(|k| k.fingerprint.to_string()),
                key_config: self.set_key.as_ref().map(|k| k.config.clone()),
            })
            .map_err(format_err(&label))?;
        writer.checkpoint().map_err(format_err(&label))?;
        // The labels are on tape, unencrypted: now the key, before the
        // first data block.
        let key = match &self.set_key {
            Some(set_key) => Some(load_key(writer.device_mut(), set_key)?),
            None => None,
        };
        if new_label.is_some() {
            self.catalog.insert_media(&media)?;
        }
        if !self.set_in_catalog {
            pool::start_media_set(self.catalog, &self.set)?;
            self.set_in_catalog = true;
        }
        self.catalog
            .assign_media_to_set(media.uuid, &self.set, seq_nr)?;
        self.record_location_here(media.uuid)?;
        let media = self
            .catalog
            .media_by_uuid(media.uuid)?
            .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
        Ok(Mounted { media, writer, key })
    }

    /// "Now" for the pool's policy.
    fn moment(&self) -> Moment {
        Moment::new(
            self.options.clock.now_epoch(),
            self.options.time_zone.clone(),
        )
    }

    /// Records that the loaded tape is here: online in the changer, or
    /// offline in a standalone drive.
    fn record_location_here(&mut self, media: Uuid) -> Result<(), WriterError> {
        let changer = self.devices.changer_name();
        let location = match changer {
            Some(_) => MediaLocation::Online,
            None => MediaLocation::Offline,
        };
        self.catalog
            .set_media_location(media, location, changer.as_deref())?;
        Ok(())
    }

    /// Gives up: unloads the tape without committing anything pending.
    pub fn abort(mut self) {
        if let Some(mounted) = self.mounted.take() {
            let label = mounted.media.label.clone();
            let tape = mounted.writer.into_tape();
            if let Err(e) = self.unload_tape(tape, &label) {
                self.events.note(&format!("tape {label}: {e}"));
            }
        }
    }
}

/// On every exit path (a failed job drops its writer): an encrypting job
/// leaves no key in the drive.
impl<D: TapeDevices> Drop for PoolWriter<'_, D> {
    fn drop(&mut self) {
        if self.set_key.is_none() {
            return;
        }
        if let Some(mounted) = self.mounted.as_mut() {
            if let Err(e) = key_drive::clear_drive_key(mounted.writer.device_mut()) {
                let label = mounted.media.label.clone();
                self.events.note(&format!(
                    "tape {label}: clearing the drive's encryption key failed: {e}"
                ));
            }
        }
    }
}

/// Loads the media set's key into the drive; a failure after the key may
/// have gone in clears it again.
fn load_key(
    tape: &mut dyn crate::keys::HardwareEncryption,
    key: &SetKey,
) -> Result<LoadedKey, WriterError> {
    match key_drive::load_drive_key(tape, key.drive_key()) {
        Ok(loaded) => Ok(loaded),
        Err(e) => {
            let _ = key_drive::clear_drive_key(tape);
            Err(e.into())
        }
    }
}

/// When appending: the tape's media set label must name the set's key;
/// then the key goes into the drive.
fn load_set_key(
    tape: &mut dyn crate::keys::HardwareEncryption,
    set_key: &Option<SetKey>,
    set: Uuid,
    label: &str,
    on_tape: &MediaSetLabel,
) -> Result<Option<LoadedKey>, WriterError> {
    let expected = set_key.as_ref().map(|k| k.fingerprint.to_string());
    let found = on_tape
        .encryption_key_fingerprint
        .as_deref()
        .map(|f| f.parse::<crate::keys::Fingerprint>().map(|f| f.to_string()))
        .transpose()?;
    if expected != found {
        return Err(WriterError::KeyMismatch {
            label: label.to_string(),
            set,
            expected: expected.unwrap_or_else(|| "none".into()),
            found: found.unwrap_or_else(|| "none".into()),
        });
    }
    match set_key {
        Some(k) => Ok(Some(load_key(tape, k)?)),
        None => Ok(None),
    }
}

/// The pool's allocation lock. Allocation by another job takes a load and
/// a label check, so this waits for it (at least [`POOL_LOCK_MIN_WAIT`],
/// longer when the process waits longer for devices). An in-memory catalog
/// is this process's alone: nothing to lock.
fn lock_pool(catalog: &Catalog, pool: &str) -> Result<Option<PoolLock>, WriterError> {
    if catalog.path().is_none() {
        return Ok(None);
    }
    let wait = match crate::lock::process_wait().limit() {
        None => WaitPolicy::FOREVER,
        Some(limit) => WaitPolicy::Wait(Some(limit.max(POOL_LOCK_MIN_WAIT))),
    };
    PoolLock::acquire(catalog.path(), pool, &crate::lock::process_command(), wait)
        .map(Some)
        .map_err(|e| WriterError::Lock(Box::new(e)))
}

/// Shortest wait for another job's allocation on the same pool.
pub const POOL_LOCK_MIN_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// True when the tape reached its physical end (SSC VOLUME OVERFLOW).
fn is_volume_overflow(e: &WriterError) -> bool {
    match e {
        WriterError::Tape(TapeAccessError::Format { source, .. }) => source.is_end_of_medium(),
        WriterError::Tape(TapeAccessError::Device { source, .. }) => match &**source {
            DeviceError::Tape(t) => t.is_end_of_medium(),
            DeviceError::Drive { source, .. } => {
                matches!(**source, pbs_tape::drive::DriveError::EndOfMedium { .. })
            }
            _ => false,
        },
        _ => false,
    }
}

/// A media writer with the job's settings, the block size fitted to the drive.
fn new_media_writer<T: pbs_tape::format::TapeWrite>(
    tape: T,
    config: &WriterConfig,
) -> Result<MediaWriter<T>, FormatError> {
    let config = WriterConfig {
        block_size: crate::inventory::fit_block_size(config.block_size, tape.max_block_size()),
        ..config.clone()
    };
    MediaWriter::new(tape, config)
}

/// The next chunk that must be written (the carried one first, then the
/// source's chunks not yet in the media set), or why there is none.
fn next_new_chunk(
    items: Option<&mut SourceReader>,
    carry: &mut Option<SourceChunk>,
    replay: &mut Option<overflow::Replay>,
    held: &mut Option<Stop>,
    known: &HashSet<Digest>,
    events: &mut dyn WriterEvents,
    summary: &mut JobSummary,
) -> Result<SourceChunk, Stop> {
    if let Some(c) = carry.take() {
        return Ok(c);
    }
    if let Some(r) = replay.as_mut() {
        match r.next_chunk() {
            Ok(Some(c)) => return Ok(c),
            Ok(None) => *replay = None,
            Err(why) => return Err(Stop::SourceGone(SourceStop::Invalid(why))),
        }
    }
    // The source already ended (its last archive then overflowed).
    if let Some(stop) = held.take() {
        return Err(stop);
    }
    let Some(items) = items else {
        return Err(Stop::ReplayDone);
    };
    loop {
        match items.next_item() {
            Ok(SourceItem::Chunk(c)) if known.contains(&c.digest) => {
                summary.chunks_deduplicated += 1;
                events.chunk(c.data().len() as u64, false);
                // A run that only finds known chunks stops as promptly.
                if events.stop_requested() {
                    return Err(Stop::Requested);
                }
            }
            Ok(SourceItem::Chunk(c)) => return Ok(c),
            // Taken over from the reference only when in the media set;
            // anything else would record a snapshot whose bytes are nowhere.
            Ok(SourceItem::Reused { digest, len }) if known.contains(&digest) => {
                summary.chunks_deduplicated += 1;
                events.chunk(len, false);
                if events.stop_requested() {
                    return Err(Stop::Requested);
                }
            }
            Ok(SourceItem::Reused { digest, .. }) => {
                return Err(Stop::SourceGone(SourceStop::Invalid(format!(
                    "reused chunk {} is not in the media set",
                    crate::chunking::digest_to_hex(&digest)
                ))))
            }
            Ok(SourceItem::Warning(w)) => {
                summary.warnings += 1;
                events.warning(&w);
            }
            Ok(SourceItem::Note(n)) => events.note(&n),
            Ok(SourceItem::Done(streams)) => return Err(Stop::Done(streams)),
            Err(stop) => return Err(Stop::SourceGone(stop)),
        }
    }
}

/// The catalog rows of one durable archive; `None` for labels.
fn archive_commit(
    p: &PendingArchive,
    media: Uuid,
    snapshot: Option<&SnapshotRecord>,
) -> Option<ArchiveCommit> {
    let content = match p.content_type {
        ContentType::ChunkArchive => catalog::ContentType::Chunks,
        ContentType::SnapshotArchive => catalog::ContentType::Snapshot,
        ContentType::CatalogArchive => catalog::ContentType::Catalog,
        ContentType::MediaLabel | ContentType::MediaSetLabel => return None,
    };
    let snapshot = match (content, snapshot) {
        (catalog::ContentType::Snapshot, Some(s)) if p.snapshot.as_deref() == Some(&s.name) => {
            Some(SnapshotRecord {
                media,
                file_number: p.file_number,
                archive: p.uuid,
                ..s.clone()
            })
        }
        _ => None,
    };
    let entries = match content {
        catalog::ContentType::Chunks => p.digests.len() as u64,
        _ => 1,
    };
    Some(ArchiveCommit {
        archive: ArchiveRecord {
            uuid: p.uuid,
            media,
            file_number: p.file_number,
            content,
            first_object: p.first_object,
            last_object: p.end_object.saturating_sub(1),
            complete: !p.continues_on_next_tape,
            entries,
            bytes: p.stream_bytes,
        },
        chunks: p.digests.clone(),
        positions: p.positions.clone(),
        snapshot,
    })
}
