//! A backup job: sources -> chunks -> tapes of a pool, then the snapshot.
//!
//! Snapshot names are `POOL/ID/TIME`: the pool, an identifier of the
//! backed-up machine or data (default: the host name) and the job's start
//! time in UTC, RFC 3339 to the second (`default/web1/2026-11-25T12:00:00Z`).
//! A name taken (in the catalog, or reserved by a running job) moves to the
//! next free second ([`reserve_snapshot_name`]): names never collide.
//!
//! The job succeeds only when the format layer's final barrier returned the
//! snapshot archive as durable and its rows are in the catalog. On any
//! failure the job returns the error; the catalog then holds rows only for
//! archives an earlier barrier proved to be on tape.

use std::path::PathBuf;

use pbs_tape::format::WriterConfig;

use crate::catalog::Catalog;
use crate::chunking::ChunkerConfig;
use crate::devices::TapeDevices;
use crate::source::{spawn_with_hasher, HashFn, SourceConfig, DEFAULT_CHANNEL_CHUNKS};
use crate::stream::exclude::Excludes;
use crate::stream::reference::load_reference;
use crate::stream::walk::{check_sources, WalkOptions};
use crate::writer::{
    JobSummary, PoolWriter, SnapshotData, WriterError, WriterEvents, WriterOptions,
};

/// Errors of a backup job.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup source given")]
    NoSources,
    #[error("invalid snapshot id {0:?}: use letters, digits, '-', '_' and '.', no '/'")]
    InvalidId(String),
    #[error("no free snapshot name for {0} within {SNAPSHOT_NAME_TRIES} seconds of the job's start; retry")]
    SnapshotExists(String),
    #[error("reserving the snapshot name: {0}")]
    NameLock(#[from] crate::lock::LockError),
    #[error(transparent)]
    Sources(#[from] crate::stream::walk::WalkError),
    #[error(transparent)]
    Excludes(#[from] crate::stream::exclude::ExcludeError),
    #[error("cannot start the source reader: {0}")]
    Spawn(#[source] std::io::Error),
    #[error(transparent)]
    Chunker(#[from] crate::chunking::ChunkError),
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

/// What to back up and how.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub pool: String,
    pub sources: Vec<PathBuf>,
    /// Middle part of the snapshot name (default: host name).
    pub id: Option<String>,
    pub new_media_set: bool,
    /// Label blank changer cartridges into the set when needed.
    pub auto_label: bool,
    pub chunker: ChunkerConfig,
    pub format: WriterConfig,
    /// Where "now" comes from: the snapshot time, media set start and
    /// close times, expiry.
    pub clock: crate::schedule::Clock,
    /// Chunks buffered between the source reader and the tape writer.
    pub channel_chunks: usize,
    /// Threads computing chunk digests (0: one per CPU, at most
    /// [`crate::source::MAX_AUTO_HASH_WORKERS`]).
    pub hash_workers: usize,
    /// Gitignore-style patterns of paths to leave out (`--exclude`;
    /// [`crate::stream::exclude`] has the rules). Directories' own
    /// `.ptapeignore` files apply as well.
    pub excludes: Vec<String>,
    /// Stay on each source's file system (`--one-file-system`).
    pub one_file_system: bool,
    /// Fail the job at the first warning instead of finishing with
    /// warnings (`--fail-on-warning`).
    pub fail_on_warning: bool,
    /// Where the key of an encrypting pool is found, with its passphrase.
    pub keys: crate::keys::KeyAccess,
    /// How long to wait for a tape that must be inserted (`--wait`).
    pub wait: crate::media_request::WaitForTapes,
    /// Read every file, even those unchanged since the previous snapshot
    /// of the same pool and id (`--full-read`).
    pub full_read: bool,
    /// See [`WalkOptions::before_read`] (tests).
    #[doc(hidden)]
    pub before_read: Option<fn(&std::path::Path)>,
}

impl BackupOptions {
    pub fn new(pool: &str, sources: Vec<PathBuf>) -> Self {
        BackupOptions {
            pool: pool.to_string(),
            sources,
            id: None,
            new_media_set: false,
            auto_label: true,
            chunker: ChunkerConfig::default(),
            format: WriterConfig::default(),
            clock: crate::schedule::Clock::System,
            channel_chunks: DEFAULT_CHANNEL_CHUNKS,
            hash_workers: 0,
            excludes: Vec::new(),
            one_file_system: false,
            fail_on_warning: false,
            wait: crate::media_request::WaitForTapes::default(),
            full_read: false,
            before_read: None,
            keys: crate::keys::KeyAccess::default(),
        }
    }
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupResult {
    pub snapshot: String,
    pub media_set: uuid::Uuid,
    pub tapes: Vec<String>,
    /// Entries in the snapshot (every kind) and its regular files.
    pub entries: u64,
    pub files: u64,
    /// Bytes of the regular files.
    pub total_bytes: u64,
    /// Chunks of the metadata and the payload stream (new or not).
    pub metadata_chunks: u64,
    pub payload_chunks: u64,
    pub chunks_written: u64,
    pub chunks_deduplicated: u64,
    pub bytes_written: u64,
    /// The previous snapshot whose chunks unchanged files reused (none:
    /// every file was read).
    pub reference: Option<String>,
    /// Unchanged files not read, and the payload bytes taken over from
    /// the reference for them (padding included).
    pub reused_files: u64,
    pub reused_bytes: u64,
    /// Bytes read from the source files.
    pub read_bytes: u64,
    /// Problems that did not stop the job (each was reported as a
    /// warning event): the job "finished with warnings".
    pub warnings: u64,
}

/// The host name, or `localhost` when it cannot be read.
pub fn default_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().split('.').next().unwrap_or_default().to_string())
        .filter(|h| is_valid_id(h))
        .unwrap_or_else(|| "localhost".to_string())
}

fn is_valid_id(id: &str) -> bool {
    crate::config::validate_name(id).is_ok()
}

/// `POOL/ID/TIME` for a start time in seconds since the epoch.
pub fn snapshot_name(pool: &str, id: &str, time: i64) -> String {
    let ts = jiff::Timestamp::from_second(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{pool}/{id}/{}", ts.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

/// The parts of a snapshot name `POOL/ID/TIME`: pool, id and the time
/// in seconds since the epoch. `None` when the name does not have that
/// form (a name read from a tape is checked like user input: pool and id
/// must be valid names, the time RFC 3339 in UTC).
pub fn parse_snapshot_name(name: &str) -> Option<(&str, &str, i64)> {
    let mut parts = name.split('/');
    let (pool, id, time) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_valid_id(pool) || !is_valid_id(id) {
        return None;
    }
    let time = time.parse::<jiff::Timestamp>().ok()?.as_second();
    Some((pool, id, time))
}

/// How many names (start time, then each next second) a job tries.
pub const SNAPSHOT_NAME_TRIES: i64 = 600;

/// A snapshot name reserved by a running job: a lock file beside the
/// catalog (`locks/snapshot-NAME.lock`) held until the job ends.
#[derive(Debug)]
pub struct NameReservation {
    lock: Option<crate::lock::LockFile>,
}

impl NameReservation {
    /// The snapshot is committed: the catalog holds the name from now on,
    /// so the lock file can go (a job that locks the removed file still
    /// finds the name in the catalog and takes the next one).
    pub fn committed(mut self) {
        if let Some(lock) = self.lock.take() {
            let _ = std::fs::remove_file(lock.path());
            lock.release();
        }
    }
}

/// Reserves the snapshot name of a job of `pool`/`id` started at `time`:
/// `POOL/ID/TIME`, or when that name is taken (in the catalog, or reserved
/// by a running job) the next free second's, so two backups of one pool
/// and id started in the same second both get a name of their own.
/// Returns the name, its time and the reservation. An in-memory catalog
/// (private to this process) needs no reservation.
pub fn reserve_snapshot_name(
    catalog: &Catalog,
    pool: &str,
    id: &str,
    time: i64,
) -> Result<(String, i64, NameReservation), BackupError> {
    let dir = match catalog.path() {
        Some(path) => Some(crate::lock::pool::locks_dir_for(Some(path))?),
        None => None,
    };
    for t in time..time.saturating_add(SNAPSHOT_NAME_TRIES) {
        let name = snapshot_name(pool, id, t);
        if catalog.snapshot(&name)?.is_some() {
            continue;
        }
        let Some(dir) = &dir else {
            return Ok((name, t, NameReservation { lock: None }));
        };
        let path = dir.join(format!(
            "snapshot-{}.lock",
            crate::lock::file_name_part(&name)
        ));
        let lock = match crate::lock::LockFile::acquire(
            &path,
            &format!("snapshot name {name}"),
            &crate::lock::Holder::this_process("ptape backup"),
            crate::lock::WaitPolicy::NoWait,
        ) {
            Ok(lock) => lock,
            Err(e) if e.is_busy() => continue,
            Err(e) => return Err(e.into()),
        };
        // Committed by a job that finished while we took the lock?
        if catalog.snapshot(&name)?.is_some() {
            continue;
        }
        return Ok((name, t, NameReservation { lock: Some(lock) }));
    }
    Err(BackupError::SnapshotExists(snapshot_name(pool, id, time)))
}

/// Runs a backup job on `devices`; see the module documentation.
pub fn run_backup<D: TapeDevices>(
    devices: D,
    catalog: &mut Catalog,
    options: &BackupOptions,
    events: &mut dyn WriterEvents,
) -> Result<BackupResult, BackupError> {
    run_backup_hashing(devices, catalog, options, events, crate::chunking::sha256)
}

/// Stores the committed snapshot's index and its staged metadata chunks
/// in the local file index.
fn publish_index(
    catalog: &Catalog,
    name: &str,
    staging: crate::catalog::file_index::Staging,
    index: &mut std::fs::File,
) -> Result<(), String> {
    use std::io::Seek;
    let record = catalog
        .snapshot(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("snapshot {name} is not in the catalog"))?;
    index.rewind().map_err(|e| e.to_string())?;
    staging
        .publish(record.archive, index)
        .map_err(|e| e.to_string())
}

/// [`run_backup`] with another digest function (tests inject failures).
fn run_backup_hashing<D: TapeDevices>(
    devices: D,
    catalog: &mut Catalog,
    options: &BackupOptions,
    events: &mut dyn WriterEvents,
    hash: HashFn,
) -> Result<BackupResult, BackupError> {
    if options.sources.is_empty() {
        return Err(BackupError::NoSources);
    }
    options.chunker.validate()?;
    // Before any tape is touched.
    let sources = check_sources(&options.sources)?;
    let walk = WalkOptions {
        one_file_system: options.one_file_system,
        excludes: Excludes::new(&options.excludes)?,
        fail_on_warning: options.fail_on_warning,
        before_read: options.before_read,
    };
    let id = match &options.id {
        Some(id) if is_valid_id(id) => id.clone(),
        Some(id) => return Err(BackupError::InvalidId(id.clone())),
        None => default_id(),
    };
    let (name, time, reservation) =
        reserve_snapshot_name(catalog, &options.pool, &id, options.clock.now_epoch())?;
    let mut writer_options = WriterOptions::new(&options.pool);
    writer_options.new_media_set = options.new_media_set;
    writer_options.auto_label = options.auto_label;
    writer_options.format = options.format.clone();
    writer_options.clock = options.clock;
    writer_options.keys = options.keys.clone();
    writer_options.wait = options.wait;
    let mut index_note = None;
    let staging = match catalog.file_index().map(|i| i.stage()).transpose() {
        Ok(s) => s,
        Err(e) => {
            index_note = Some(e.to_string());
            None
        }
    };
    let mut writer = PoolWriter::new(devices, catalog, writer_options, events)?;
    let reference = if options.full_read {
        None
    } else {
        match load_reference(writer.catalog(), &options.pool, &id, |d| {
            writer.in_media_set(d)
        }) {
            Ok(r) => {
                writer.note(&format!(
                    "incremental: files unchanged since {} are not read ({} of its {} payload chunks are in this media set)",
                    r.name,
                    r.usable_chunks(),
                    r.payload.len()
                ));
                Some(r)
            }
            Err(why) => {
                writer.note(&format!("every file is read: {why}"));
                None
            }
        }
    };
    let reference_name = reference.as_ref().map(|r| r.name.clone());
    let source = SourceConfig {
        sources,
        walk,
        staging,
        chunker: options.chunker,
        queue_chunks: options.channel_chunks,
        hash_workers: options.hash_workers,
        reference,
    };
    let mut reader = spawn_with_hasher(source, |n| writer.register_producer(n), hash)
        .map_err(BackupError::Spawn)?;
    let written = writer.write_chunks(&mut reader);
    // Stops the producers if the writer failed, and waits for them.
    let finished = reader.finish();
    let mut streams = match (written, finished) {
        (Ok(streams), Ok(())) => streams,
        // The producers' own account of a failure says more than the
        // writer's view of a stopped pipeline.
        (Err(WriterError::Source(_)) | Ok(_), Err(message)) => {
            writer.abort();
            return Err(WriterError::Source(message).into());
        }
        (Err(e), _) => {
            writer.abort();
            return Err(e.into());
        }
    };
    let mut summary = streams.summary(&name, time, options.chunker);
    summary.sources = options
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    summary.excludes = options.excludes.clone();
    summary.reference = reference_name
        .clone()
        .filter(|_| streams.stats.reused_files > 0);
    let (index, len) = match streams.write_index(&summary) {
        Ok(spooled) => spooled,
        Err(message) => {
            writer.abort();
            return Err(WriterError::Source(message).into());
        }
    };
    let mut data = SnapshotData {
        name: name.clone(),
        entries: summary.entries,
        total_bytes: summary.file_bytes,
        index,
        len,
    };
    let mut job: JobSummary = writer.finish_job(&mut data, time)?;
    reservation.committed();
    // The snapshot is committed: fill the local file index.
    let indexed = match (
        streams.staging.take(),
        streams.index_failure.take(),
        index_note,
    ) {
        (Some(staging), None, None) => publish_index(catalog, &name, staging, &mut data.index),
        (_, a, b) => Err(a.or(b).unwrap_or_default()),
    };
    if let Err(why) = indexed {
        job.warnings += 1;
        events.warning(&format!(
            "{name}: the local file index was not updated ({why}); run ptape catalog scan to rebuild it"
        ));
    }
    Ok(BackupResult {
        snapshot: name,
        media_set: job.media_set,
        tapes: job.tapes,
        entries: summary.entries,
        files: summary.files,
        total_bytes: summary.file_bytes,
        metadata_chunks: summary.metadata_chunks,
        payload_chunks: summary.payload_chunks,
        chunks_written: job.chunks_written,
        chunks_deduplicated: job.chunks_deduplicated,
        bytes_written: job.bytes_written,
        reference: summary.reference.clone(),
        reused_files: streams.stats.reused_files,
        reused_bytes: streams.stats.reused_bytes,
        read_bytes: streams.stats.read_bytes,
        warnings: job.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_pool_id_utc_time() {
        assert_eq!(
            snapshot_name("default", "web1", 1_795_608_000),
            "default/web1/2026-11-25T12:00:00Z"
        );
        assert!(is_valid_id(&default_id()));
        assert!(!is_valid_id("a/b"));
    }

    /// Chunk data starting with this kills the hashing thread.
    const POISON: &[u8] = b"POISONED CHUNK";

    fn poisoned_hash(data: &[u8]) -> crate::chunking::Digest {
        if data.windows(POISON.len()).any(|w| w == POISON) {
            panic!("injected hasher failure");
        }
        crate::chunking::sha256(data)
    }

    /// A hashing thread dying mid-job fails the job; the catalog then
    /// holds rows only for chunks committed (and read back) from tape.
    #[test]
    fn a_failing_hasher_fails_the_job_without_rows_for_lost_data() {
        use rand::{RngCore, SeedableRng};
        use std::collections::HashSet;

        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let mut data = vec![0u8; 3 << 20];
        rand::rngs::StdRng::seed_from_u64(11).fill_bytes(&mut data);
        std::fs::write(src.join("a"), &data).unwrap();
        let mut poisoned = POISON.to_vec();
        poisoned.extend_from_slice(&data[..100_000]);
        std::fs::write(src.join("z"), &poisoned).unwrap();

        let mut catalog = Catalog::open_in_memory().unwrap();
        let mut devices = crate::devices::MemoryDevices::blank("HF", 1, u64::MAX);
        let mut options = BackupOptions::new("default", vec![src]);
        options.id = Some("x".into());
        options.hash_workers = 2;
        options.chunker = ChunkerConfig {
            min: 16 * 1024,
            avg: 64 * 1024,
            max: 256 * 1024,
        };
        // Checkpoints while `a` is written: some rows become durable.
        options.format = WriterConfig {
            block_size: 64 * 1024,
            archive_cap: 512 * 1024,
            commit_interval: 1024 * 1024,
        };
        let err = run_backup_hashing(
            &mut devices,
            &mut catalog,
            &options,
            &mut crate::writer::NoEvents,
            poisoned_hash,
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("chunk hasher"), "{message}");
        assert!(catalog.snapshots(None).unwrap().is_empty());

        // Every chunk row is in a chunk archive read back from the tape.
        let rows: i64 = catalog
            .connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap();
        let media = catalog.media_by_label("HF0001L9").unwrap().unwrap();
        let set = media.media_set.unwrap();
        let tape = devices.cartridges.get_mut("HF0001L9").unwrap();
        let mut on_tape = HashSet::new();
        for a in catalog.archives_of_media(media.uuid).unwrap() {
            if a.content != crate::catalog::ContentType::Chunks {
                continue;
            }
            tape.locate_file(a.file_number).unwrap();
            let mut reader = pbs_tape::format::ChunkArchiveReader::new(tape).unwrap();
            while let Some(entry) = reader.next_entry().unwrap() {
                on_tape.insert(entry.digest);
            }
        }
        let recorded = catalog.media_set_digests(set).unwrap();
        assert!(rows > 0, "no checkpoint before the failure");
        assert_eq!(recorded.len() as i64, rows);
        assert_eq!(recorded, on_tape);
    }
}
