//! Restoring a snapshot (or parts of it) from tape into a directory.
//!
//! 1. The snapshot index (summary and the two chunk indexes) is read from
//!    the snapshot archive on tape.
//! 2. The metadata stream is put together in an unnamed temporary file:
//!    its chunks are read from tape ([`fetch`]) and written at their
//!    stream offsets.
//! 3. Planning pass over the metadata: the selection (`--path` prefixes,
//!    else everything), refusals (unsafe paths, existing files without
//!    `--overwrite`) before anything is written, and which payload chunks
//!    hold bytes of selected files (for each such chunk, the metadata
//!    offset of the first entry that needs it).
//! 4. Directories are created (never through a symbolic link found in the
//!    target). Every needed payload chunk is read once, in tape position
//!    order, each tape loaded once; its bytes go straight into the
//!    temporary files of the entries whose ranges it covers (found from
//!    the chunk's first entry on). All-zero blocks are not written: holes
//!    of sparse files stay holes.
//! 5. Final pass: each entry gets its size, owner (as root), mode,
//!    extended attributes, ACLs, capabilities and mtime and is renamed to
//!    its name; links, fifos and device nodes are made; directories get
//!    their metadata once their subtree is done.
//!
//! Damage stops only what it touches: a chunk that cannot be read loses
//! the files that need it (their temporaries are removed and their paths
//! listed in [`RestoreResult::damaged`]); everything else is restored.
//! Nothing in memory grows with the number of files: the passes stream the
//! metadata from the temporary file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use pbs_tape::format::read_snapshot_archive;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, MediaRecord, SnapshotRecord};
use crate::chunking::Digest;
use crate::devices::{DeviceError, TapeDevices};
use crate::keys::{KeyAccess, ReadKeys};
use crate::reading::{load_for_reading, locate, unload_read, TapeAccessError};
use crate::stream::entry::RawPath;
use crate::stream::entry::{Entry, EntryReader, Kind};
use crate::stream::index::{chunks_covering, IndexError, SnapshotIndex};
use crate::writer::WriterEvents;

mod fetch;
mod metadata;
mod needed;
mod reindex;

use fetch::SetReader;
use metadata::{apply_metadata, make_node};
pub use needed::{media_needed, NeededMedia, NeededTape};
pub use reindex::rebuild_file_index;

/// Errors of a restore.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("no snapshot named {0:?} in the catalog (see ptape snapshots)")]
    UnknownSnapshot(String),
    #[error("tapes needed for this restore are not online: {}; put them into the library and retry (or let the restore wait for them with --wait[=SECS])", .labels.join(", "))]
    MediaOffline { labels: Vec<String> },
    /// The tapes asked for did not come while the restore waited.
    #[error(transparent)]
    TapesNotInserted(crate::media_request::RequestError),
    #[error("the catalog names media {0}, which it does not list")]
    UnknownMedia(Uuid),
    #[error("path {0:?} is not in the snapshot")]
    PathNotInSnapshot(String),
    #[error(
        "the snapshot holds an unsafe path {0:?} (absolute or with '..'); refusing to restore it"
    )]
    UnsafePath(String),
    #[error("{0} exists; use --overwrite to replace existing files")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tape(#[from] TapeAccessError),
    #[error(transparent)]
    Devices(Box<DeviceError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("snapshot {snapshot}: {source}")]
    Index {
        snapshot: String,
        #[source]
        source: IndexError,
    },
    #[error("snapshot {0}: {1}")]
    Invalid(String, String),
    /// The set's reader registration (see [`crate::lock::SetReadLock`]).
    #[error(transparent)]
    Lock(Box<crate::lock::LockError>),
    /// The snapshot's media set expired and was forgotten for reuse while
    /// the restore started.
    #[error("snapshot {0} is no longer in the catalog: its media set expired and a backup is reusing its tapes")]
    Forgotten(String),
}

impl From<rusqlite::Error> for RestoreError {
    fn from(e: rusqlite::Error) -> Self {
        RestoreError::Catalog(CatalogError::Sqlite(e))
    }
}

impl From<DeviceError> for RestoreError {
    fn from(e: DeviceError) -> Self {
        RestoreError::Devices(Box::new(e))
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RestoreError + '_ {
    move |source| RestoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to restore and where.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Snapshot name (`POOL/ID/TIME`).
    pub snapshot: String,
    /// Directory the snapshot's entries are restored under.
    pub target: PathBuf,
    /// Only these snapshot paths (and everything below them); empty: all.
    pub paths: Vec<String>,
    /// Replace existing files instead of refusing.
    pub overwrite: bool,
    /// Where the keys of encrypted media sets are found.
    pub keys: KeyAccess,
    /// How long to wait for tapes that must be inserted.
    pub wait: crate::media_request::WaitForTapes,
}

impl RestoreOptions {
    pub fn new(snapshot: &str, target: &Path) -> Self {
        RestoreOptions {
            snapshot: snapshot.to_string(),
            target: target.to_path_buf(),
            paths: Vec::new(),
            overwrite: false,
            keys: KeyAccess::default(),
            wait: crate::media_request::WaitForTapes::default(),
        }
    }
}

/// A finished restore.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreResult {
    pub snapshot: String,
    pub target: PathBuf,
    /// Entries restored (all kinds).
    pub entries: u64,
    /// Regular files restored and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// Chunks read from tape (metadata and payload, each once).
    pub chunks: u64,
    /// Tapes read, in order.
    pub tapes: Vec<String>,
    /// Entries restored not quite as they were (e.g. device nodes without
    /// root, attributes the target file system refused).
    pub warnings: Vec<String>,
    /// Paths that could not be restored because data they need is
    /// damaged or missing (and what was lost). Empty on full success.
    pub damaged: Vec<String>,
}

/// The relative path of an entry, refused unless every component is a
/// plain name (no root, `..`, `.` or empty component).
fn safe_relative(path: &RawPath) -> Result<PathBuf, RestoreError> {
    let ok = path
        .0
        .split(|&b| b == b'/')
        .all(|c| !c.is_empty() && c != b"." && c != b"..");
    if ok {
        Ok(path.as_path().to_path_buf())
    } else {
        Err(RestoreError::UnsafePath(path.to_string()))
    }
}

/// True when `path` is `prefix` or below it.
fn under(path: &[u8], prefix: &[u8]) -> bool {
    path == prefix || (path.starts_with(prefix) && path.get(prefix.len()) == Some(&b'/'))
}

/// Creates `target/rel` and the directories above it without ever
/// following a symbolic link (or using any other non-directory) found in
/// the target tree: with `overwrite` such an object is removed and a real
/// directory made in its place; without, it is refused. So a link planted
/// in the target (`target/data -> /etc`) can never lead a restore out of
/// the target.
fn make_dirs_beneath(target: &Path, rel: &Path, overwrite: bool) -> Result<(), RestoreError> {
    let mut path = target.to_path_buf();
    for component in rel.components() {
        path.push(component);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) if overwrite => {
                std::fs::remove_file(&path).map_err(io_err(&path))?;
            }
            Ok(_) => return Err(RestoreError::Exists(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Raced: only a real directory will do.
                let m = std::fs::symlink_metadata(&path).map_err(io_err(&path))?;
                if !m.is_dir() {
                    return Err(RestoreError::Exists(path));
                }
            }
            Err(e) => return Err(io_err(&path)(e)),
        }
    }
    Ok(())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// How a selected entry is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// A regular file with payload range `[start, end)` (also a hard link
    /// whose file is not selected: the first such link becomes the file).
    File { start: u64, end: u64 },
    /// A hard link to this (selected, earlier) path.
    Link(RawPath),
    /// Anything else, as its kind says.
    Other,
}

/// The selection: which entries, and what hard links become.
struct Selection {
    prefixes: Vec<Vec<u8>>,
    /// Hard-link target outside the selection -> the selected path that
    /// became the file.
    moved: HashMap<RawPath, RawPath>,
}

impl Selection {
    fn new(paths: &[String]) -> Self {
        Selection {
            prefixes: paths
                .iter()
                .map(|p| p.trim_end_matches('/').as_bytes().to_vec())
                .collect(),
            moved: HashMap::new(),
        }
    }

    fn selects(&self, path: &[u8]) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|p| under(path, p))
    }

    /// The role of `e`, `None` when not selected. Call in metadata order:
    /// the first link of an unselected file becomes that file.
    fn role(&mut self, e: &Entry) -> Option<Role> {
        if !self.selects(&e.path.0) {
            return None;
        }
        Some(match e.kind {
            Kind::File => Role::File {
                start: e.offset,
                end: e.offset.saturating_add(e.size),
            },
            Kind::Hardlink => {
                let target = e.link.clone().unwrap_or_default();
                if self.selects(&target.0) {
                    Role::Link(target)
                } else if let Some(first) = self.moved.get(&target) {
                    Role::Link(first.clone())
                } else {
                    self.moved.insert(target, e.path.clone());
                    Role::File {
                        start: e.offset,
                        end: e.offset.saturating_add(e.size),
                    }
                }
            }
            _ => Role::Other,
        })
    }
}

/// The temporary name of the file restored from the entry at metadata
/// offset `at`, in its final directory.
fn temp_path(final_path: &Path, at: u64) -> PathBuf {
    let parent = final_path.parent().unwrap_or(Path::new("."));
    parent.join(format!(".ptape-restore-{}-{at}.tmp", std::process::id()))
}

/// Restores a snapshot; see the module documentation.
pub fn run_restore<D: TapeDevices>(
    mut devices: D,
    catalog: &Catalog,
    options: &RestoreOptions,
    events: &mut dyn WriterEvents,
) -> Result<RestoreResult, RestoreError> {
    let (snapshot, _reading) = snapshot_for_reading(catalog, &options.snapshot)?;
    let mut keys = ReadKeys::new(options.keys.clone());
    let reason = format!("restore of {}", snapshot.name);
    let (index, mut reader) = start_reading(
        &mut devices,
        catalog,
        &snapshot,
        &mut keys,
        &reason,
        &options.wait,
        events,
    )?;
    let result = restore_from_index(&mut reader, &snapshot, &index, options, events);
    let (tapes, chunks) = (reader.tapes_read.clone(), reader.chunks_read);
    // The key is cleared before the tape leaves, whatever happened.
    let closed = reader.close();
    if result.is_ok() {
        closed?;
    }
    let mut result = result?;
    result.tapes = tapes;
    result.chunks = chunks;
    Ok(result)
}

/// The snapshot named `name`, with its media set registered as being read
/// (a backup does not reuse the set's tapes while the lock is held). The
/// snapshot is looked up again under the lock: a set forgotten for reuse
/// meanwhile fails here, before any tape is touched.
fn snapshot_for_reading(
    catalog: &Catalog,
    name: &str,
) -> Result<(SnapshotRecord, crate::lock::SetReadLock), RestoreError> {
    let snapshot = catalog
        .snapshot(name)?
        .ok_or_else(|| RestoreError::UnknownSnapshot(name.to_string()))?;
    let lock = crate::lock::SetReadLock::acquire(catalog.path(), snapshot.media_set)
        .map_err(|e| RestoreError::Lock(Box::new(e)))?;
    match catalog.snapshot(name)? {
        Some(again) if again.media_set == snapshot.media_set => Ok((again, lock)),
        _ => Err(RestoreError::Forgotten(name.to_string())),
    }
}

/// Reads the snapshot index of `snapshot` and returns it with a reader of
/// its media set, the snapshot's tape loaded (close the reader to unload
/// it and clear its key).
fn start_reading<'a, D: TapeDevices>(
    devices: &'a mut D,
    catalog: &'a Catalog,
    snapshot: &SnapshotRecord,
    keys: &'a mut ReadKeys,
    reason: &str,
    wait: &crate::media_request::WaitForTapes,
    events: &mut dyn WriterEvents,
) -> Result<(SnapshotIndex, SetReader<'a, D>), RestoreError> {
    let (index, loaded) = read_index(devices, catalog, snapshot, keys, reason, wait, events)?;
    let prepared = devices
        .online_labels()
        .map_err(RestoreError::from)
        .and_then(|online| Ok((online, catalog.media_of_set(snapshot.media_set)?)));
    let (online, set_media) = match prepared {
        Ok(p) => p,
        Err(e) => {
            let (tape, media) = loaded;
            let _ = unload_read(devices, tape, &media.label, keys);
            return Err(e);
        }
    };
    let mut reader = SetReader::new(
        devices,
        online,
        set_media,
        Some(loaded),
        catalog,
        snapshot.media_set,
        keys,
    );
    reader.wait = *wait;
    reader.reason = reason.to_string();
    Ok((index, reader))
}

/// Reads the snapshot archive of `snapshot` from its tape (left loaded).
fn read_index<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    snapshot: &SnapshotRecord,
    keys: &mut ReadKeys,
    reason: &str,
    wait: &crate::media_request::WaitForTapes,
    events: &mut dyn WriterEvents,
) -> Result<(SnapshotIndex, (D::Tape, MediaRecord)), RestoreError> {
    let media = catalog
        .media_by_uuid(snapshot.media)?
        .ok_or(RestoreError::UnknownMedia(snapshot.media))?;
    fetch::wait_for_all(
        devices,
        catalog,
        vec![media.label.clone()],
        reason,
        wait,
        events,
    )?;
    let mut tape = load_for_reading(devices, &media, keys)?;
    let read = locate(&mut tape, &media.label, snapshot.file_number).and_then(|()| {
        read_snapshot_archive(&mut tape).map_err(|e| TapeAccessError::format(&media.label, e))
    });
    let checked = read.map_err(RestoreError::from).and_then(|archive| {
        // The tape file must be the catalogued snapshot archive.
        let same_uuid = snapshot.archive.is_nil() || archive.uuid == snapshot.archive;
        if archive.snapshot != snapshot.name || !same_uuid {
            return Err(RestoreError::Invalid(
                snapshot.name.clone(),
                format!(
                    "{} file {} holds snapshot {} (archive {}), the catalog expects archive {}",
                    media.label,
                    snapshot.file_number,
                    archive.snapshot,
                    archive.uuid,
                    snapshot.archive
                ),
            ));
        }
        SnapshotIndex::read(&archive.manifest[..]).map_err(|source| RestoreError::Index {
            snapshot: snapshot.name.clone(),
            source,
        })
    });
    match checked {
        Ok(index) => Ok((index, (tape, media))),
        Err(e) => {
            let _ = unload_read(devices, tape, &media.label, keys);
            Err(e)
        }
    }
}

/// What the planning pass found.
struct Plan {
    /// Payload chunk -> metadata offset of the first selected entry that
    /// needs it (`u64::MAX`: not needed).
    first: Vec<u64>,
    /// Hard links restored as files whose bytes lie before entries met
    /// earlier: (metadata offset, start, end). Few: only links of files
    /// outside the selection.
    moved_files: Vec<(u64, u64, u64)>,
}

fn restore_from_index<D: TapeDevices>(
    reader: &mut SetReader<'_, D>,
    snapshot: &SnapshotRecord,
    index: &SnapshotIndex,
    options: &RestoreOptions,
    events: &mut dyn WriterEvents,
) -> Result<RestoreResult, RestoreError> {
    let target = &options.target;
    let mut damaged = Vec::new();
    let mut warnings = Vec::new();

    // 2. The metadata stream, from tape into a temporary file.
    let meta_path = std::env::temp_dir();
    let meta = tempfile::tempfile_in(&meta_path).map_err(io_err(&meta_path))?;
    meta.set_len(index.summary.metadata_bytes)
        .map_err(io_err(&meta_path))?;
    let mut places: HashMap<Digest, Vec<u64>> = HashMap::new();
    for e in &index.metadata {
        places.entry(e.digest).or_default().push(e.offset);
    }
    let needed: HashSet<Digest> = places.keys().copied().collect();
    if options.paths.is_empty() {
        // A whole snapshot needs every chunk: name every missing tape
        // before reading any.
        let mut all = needed.clone();
        all.extend(index.payload.iter().map(|e| e.digest));
        let all_plan = reader.plan(&all)?.0;
        reader.check_online(&all_plan, events)?;
    }
    let (plan, mut lost) = reader.plan(&needed)?;
    reader.check_online(&plan, events)?;
    let (lost_meta, problems, recovered) = reader.fetch(
        &plan,
        &mut |digest, data| {
            for &at in places.get(digest).map(Vec::as_slice).unwrap_or(&[]) {
                meta.write_all_at(data, at).map_err(io_err(&meta_path))?;
            }
            Ok(())
        },
        events,
    )?;
    lost.extend(lost_meta);
    damaged.extend(problems);
    warnings.extend(recovered);
    if !lost.is_empty() {
        damaged.push(format!(
            "{} metadata chunks of the snapshot could not be read: the entries stored in them are not restored",
            lost.len()
        ));
    }
    let entries = |from: u64| -> Result<EntryReader<BufReader<File>>, RestoreError> {
        let mut f = meta.try_clone().map_err(io_err(&meta_path))?;
        f.seek(SeekFrom::Start(from)).map_err(io_err(&meta_path))?;
        Ok(EntryReader::new(BufReader::new(f), from))
    };
    let next = |r: &mut EntryReader<BufReader<File>>| {
        r.next_entry()
            .map_err(|e| RestoreError::Invalid(snapshot.name.clone(), e.to_string()))
    };

    // 3. Plan: selection, refusals, needed payload chunks.
    let mut selection = Selection::new(&options.paths);
    let mut matched = vec![false; selection.prefixes.len()];
    let mut plan_state = Plan {
        first: vec![u64::MAX; index.payload.len()],
        moved_files: Vec::new(),
    };
    let mut r = entries(0)?;
    let mut last_file_end = 0u64;
    while let Some((at, e)) = next(&mut r)? {
        for (i, p) in selection.prefixes.iter().enumerate() {
            matched[i] |= under(&e.path.0, p);
        }
        let Some(role) = selection.role(&e) else {
            continue;
        };
        let path = target.join(safe_relative(&e.path)?);
        if !options.overwrite {
            if let Ok(m) = std::fs::symlink_metadata(&path) {
                if !(m.is_dir() && e.kind == Kind::Dir) {
                    return Err(RestoreError::Exists(path));
                }
            }
        }
        if let Role::File { start, end } = role {
            if start < last_file_end || e.kind == Kind::Hardlink {
                plan_state.moved_files.push((at, start, end));
            }
            last_file_end = last_file_end.max(end);
            for k in chunks_covering(&index.payload, start, end) {
                plan_state.first[k] = plan_state.first[k].min(at);
            }
        }
    }
    for s in r.skipped() {
        damaged.push(format!(
            "metadata stream bytes {}..{} are damaged: the entries stored there are not restored",
            s.from, s.to
        ));
    }
    if let Some(i) = matched.iter().position(|m| !m) {
        return Err(RestoreError::PathNotInSnapshot(options.paths[i].clone()));
    }
    let mut needed = HashSet::new();
    for (k, e) in index.payload.iter().enumerate() {
        if plan_state.first[k] != u64::MAX {
            needed.insert(e.digest);
        }
    }
    let (payload_plan, missing) = reader.plan(&needed)?;
    reader.check_online(&payload_plan, events)?;

    // 4. Directories, then the payload chunks straight into the files.
    std::fs::create_dir_all(target).map_err(io_err(target))?;
    let mut selection = Selection::new(&options.paths);
    let mut r = entries(0)?;
    let mut last_parent: Option<PathBuf> = None;
    while let Some((_, e)) = next(&mut r)? {
        if selection.role(&e).is_none() {
            continue;
        }
        let rel = safe_relative(&e.path)?;
        if e.kind == Kind::Dir {
            make_dirs_beneath(target, &rel, options.overwrite)?;
        } else {
            let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
            if last_parent.as_ref() != Some(&parent) {
                make_dirs_beneath(target, &parent, options.overwrite)?;
                last_parent = Some(parent);
            }
        }
    }
    let mut by_digest: HashMap<Digest, Vec<usize>> = HashMap::new();
    for (k, e) in index.payload.iter().enumerate() {
        if plan_state.first[k] != u64::MAX {
            by_digest.entry(e.digest).or_default().push(k);
        }
    }
    let mut writer = PayloadWriter {
        target,
        paths: &options.paths,
        open: None,
    };
    let (lost_payload, problems, recovered) = reader.fetch(
        &payload_plan,
        &mut |digest, data| {
            for &k in by_digest.get(digest).map(Vec::as_slice).unwrap_or(&[]) {
                let chunk = &index.payload[k];
                writer.place(
                    &entries,
                    &next,
                    plan_state.first[k],
                    &plan_state.moved_files,
                    chunk.offset,
                    data,
                )?;
            }
            Ok(())
        },
        events,
    )?;
    writer.open = None;
    damaged.extend(problems);
    warnings.extend(recovered);
    let lost_chunks: BTreeSet<usize> = index
        .payload
        .iter()
        .enumerate()
        .filter(|(k, e)| {
            plan_state.first[*k] != u64::MAX
                && (missing.contains(&e.digest) || lost_payload.contains(&e.digest))
        })
        .map(|(k, _)| k)
        .collect();

    // 5. Final pass: sizes, metadata, names; directories last.
    let root = is_root();
    let mut selection = Selection::new(&options.paths);
    let mut r = entries(0)?;
    let mut dirs: Vec<(RawPath, Entry)> = Vec::new();
    let mut lost_paths: HashSet<RawPath> = HashSet::new();
    let (mut count, mut files, mut bytes) = (0u64, 0u64, 0u64);
    let finish_dirs = |dirs: &mut Vec<(RawPath, Entry)>,
                       upto: Option<&RawPath>,
                       warnings: &mut Vec<String>|
     -> Result<(), RestoreError> {
        while let Some((p, _)) = dirs.last() {
            if upto.is_some_and(|u| under(&u.0, &p.0)) {
                break;
            }
            let (_, e) = dirs.pop().unwrap_or_else(|| unreachable!());
            let path = target.join(safe_relative(&e.path)?);
            apply_metadata(&path, &e, root, warnings)?;
        }
        Ok(())
    };
    while let Some((at, e)) = next(&mut r)? {
        let Some(role) = selection.role(&e) else {
            continue;
        };
        finish_dirs(&mut dirs, Some(&e.path), &mut warnings)?;
        let path = target.join(safe_relative(&e.path)?);
        let temp = temp_path(&path, at);
        count += 1;
        match (&role, e.kind) {
            (_, Kind::Dir) => dirs.push((e.path.clone(), e.clone())),
            (Role::File { start, end }, _) => {
                if chunks_covering(&index.payload, *start, *end).any(|k| lost_chunks.contains(&k)) {
                    let _ = std::fs::remove_file(&temp);
                    lost_paths.insert(e.path.clone());
                    damaged.push(format!(
                        "{}: its data is damaged or missing on tape",
                        e.path
                    ));
                    count -= 1;
                    continue;
                }
                let f = File::options()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&temp)
                    .map_err(io_err(&temp))?;
                f.set_len(e.size).map_err(io_err(&temp))?;
                drop(f);
                apply_metadata(&temp, &e, root, &mut warnings)?;
                std::fs::rename(&temp, &path).map_err(io_err(&path))?;
                files += 1;
                bytes = bytes.saturating_add(e.size);
            }
            (Role::Link(first), _) => {
                if lost_paths.contains(first) {
                    damaged.push(format!("{}: hard link of damaged {first}", e.path));
                    count -= 1;
                    continue;
                }
                let first = target.join(safe_relative(first)?);
                std::fs::hard_link(&first, &temp).map_err(io_err(&temp))?;
                std::fs::rename(&temp, &path).map_err(io_err(&path))?;
            }
            (_, Kind::Symlink) => {
                let link = e.link.clone().unwrap_or_default();
                std::os::unix::fs::symlink(link.as_path(), &temp).map_err(io_err(&temp))?;
                apply_metadata(&temp, &e, root, &mut warnings)?;
                std::fs::rename(&temp, &path).map_err(io_err(&path))?;
            }
            (_, Kind::Fifo | Kind::CharDevice | Kind::BlockDevice) => match make_node(&temp, &e) {
                Ok(()) => {
                    apply_metadata(&temp, &e, root, &mut warnings)?;
                    std::fs::rename(&temp, &path).map_err(io_err(&path))?;
                }
                Err(err) => {
                    count -= 1;
                    warnings.push(format!("{}: not restored: {err}", e.path));
                }
            },
            _ => {
                count -= 1;
                warnings.push(format!("{}: sockets are not restored", e.path));
            }
        }
    }
    finish_dirs(&mut dirs, None, &mut warnings)?;
    for w in &warnings {
        events.note(w);
    }
    Ok(RestoreResult {
        snapshot: snapshot.name.clone(),
        target: target.clone(),
        entries: count,
        files,
        bytes,
        chunks: 0,
        tapes: Vec::new(),
        warnings,
        damaged,
    })
}

/// A metadata reader from a stream offset.
type Entries = EntryReader<BufReader<File>>;
/// Reads the next entry of an [`Entries`].
type NextEntry<'a> = dyn Fn(&mut Entries) -> Result<Option<(u64, Entry)>, RestoreError> + 'a;

/// Puts payload chunk bytes into the restored files' temporaries.
struct PayloadWriter<'a> {
    target: &'a Path,
    paths: &'a [String],
    /// The temporary written last (most chunks go to one file in a row).
    open: Option<(PathBuf, File)>,
}

/// Blocks of this size that are all zeros are not written.
const HOLE_BLOCK: usize = 4096;

impl PayloadWriter<'_> {
    /// Writes the chunk at payload offset `offset` into every selected
    /// file it covers, scanning the metadata from `first`.
    fn place(
        &mut self,
        entries: &dyn Fn(u64) -> Result<EntryReader<BufReader<File>>, RestoreError>,
        next: &NextEntry<'_>,
        first: u64,
        moved: &[(u64, u64, u64)],
        offset: u64,
        data: &[u8],
    ) -> Result<(), RestoreError> {
        let end = offset + data.len() as u64;
        // Links restored as files point back at earlier bytes.
        for &(at, start, stop) in moved {
            if start < end && offset < stop {
                let mut r = entries(at)?;
                if let Some((_, e)) = next(&mut r)? {
                    self.write(&e, at, start, offset, data)?;
                }
            }
        }
        let mut r = entries(first)?;
        let mut selection = Selection::new(self.paths);
        while let Some((at, e)) = next(&mut r)? {
            if e.kind != Kind::File {
                continue;
            }
            if e.offset >= end {
                break;
            }
            let stop = e.offset.saturating_add(e.size);
            if stop <= offset || selection.role(&e).is_none() {
                continue;
            }
            if moved.iter().any(|m| m.0 == at) {
                continue;
            }
            self.write(&e, at, e.offset, offset, data)?;
        }
        Ok(())
    }

    /// Writes the part of chunk `data` (at payload `offset`) that falls
    /// into the file of `e` (whose bytes start at payload `start`).
    fn write(
        &mut self,
        e: &Entry,
        at: u64,
        start: u64,
        offset: u64,
        data: &[u8],
    ) -> Result<(), RestoreError> {
        let stop = start.saturating_add(e.size);
        let from = start.max(offset);
        let to = stop.min(offset + data.len() as u64);
        if from >= to {
            return Ok(());
        }
        let bytes = &data[(from - offset) as usize..(to - offset) as usize];
        let file_pos = from - start;
        if is_zero(bytes) {
            return Ok(());
        }
        let path = temp_path(&self.target.join(safe_relative(&e.path)?), at);
        let file = match self.open.take() {
            Some((p, f)) if p == path => (p, f),
            _ => {
                let f = File::options()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(io_err(&path))?;
                (path, f)
            }
        };
        let (path, f) = &file;
        for (from, to) in data_runs(bytes, file_pos) {
            f.write_all_at(&bytes[from..to], file_pos + from as u64)
                .map_err(io_err(path))?;
        }
        self.open = Some(file);
        Ok(())
    }
}

/// The byte ranges of `bytes` (which go to file offset `file_pos`) to
/// write: runs of consecutive file-aligned [`HOLE_BLOCK`]s that are not
/// all zeros, each written with one call (all-zero blocks are skipped, so
/// holes stay holes).
fn data_runs(bytes: &[u8], file_pos: u64) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let into_block = ((file_pos + pos as u64) % HOLE_BLOCK as u64) as usize;
        let block_end = (pos + HOLE_BLOCK - into_block).min(bytes.len());
        if !is_zero(&bytes[pos..block_end]) {
            match runs.last_mut() {
                Some(run) if run.1 == pos => run.1 = block_end,
                _ => runs.push((pos, block_end)),
            }
        }
        pos = block_end;
    }
    runs
}

/// True when every byte is zero (compared a word at a time).
fn is_zero(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(16);
    let zero_words = words
        .by_ref()
        .all(|w| u128::from_ne_bytes(w.try_into().unwrap_or([1; 16])) == 0);
    zero_words && words.remainder().iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_runs_join_blocks_and_skip_zero_blocks() {
        let b = HOLE_BLOCK;
        let mut bytes = vec![0u8; 5 * b];
        bytes[10] = 1; // block 0
        bytes[b + 5] = 1; // block 1
        bytes[4 * b - 1] = 1; // block 3
        assert_eq!(data_runs(&bytes, 0), vec![(0, 2 * b), (3 * b, 4 * b)]);
        // At a file offset inside a block: blocks are aligned to the file.
        assert_eq!(
            data_runs(&bytes[..b], 100),
            vec![(0, b - 100), (b - 100, b)]
                .into_iter()
                .filter(|&(from, to)| !is_zero(&bytes[from..to]))
                .collect::<Vec<_>>()
        );
        assert!(data_runs(&vec![0u8; 3 * b + 7], 0).is_empty());
        assert_eq!(data_runs(&[7u8; 33], 5), vec![(0, 33)]);
        assert!(is_zero(&[0u8; 31]));
        assert!(!is_zero(&[
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
        ]));
    }

    fn entry(path: &str, kind: Kind, offset: u64, size: u64, link: Option<&str>) -> Entry {
        let mut e = Entry::new(RawPath(path.as_bytes().to_vec()), kind);
        e.offset = offset;
        e.size = size;
        e.link = link.map(|l| RawPath(l.as_bytes().to_vec()));
        e
    }

    #[test]
    fn selection_by_prefix_turns_outside_hard_links_into_files() {
        let mut s = Selection::new(&["d/b/".into()]);
        let file = entry("d/a/f", Kind::File, 10, 5, None);
        assert_eq!(s.role(&entry("d", Kind::Dir, 0, 0, None)), None);
        assert_eq!(s.role(&file), None);
        assert_eq!(s.role(&entry("d/ab", Kind::Dir, 0, 0, None)), None);
        assert_eq!(
            s.role(&entry("d/b", Kind::Dir, 0, 0, None)),
            Some(Role::Other)
        );
        assert_eq!(
            s.role(&entry("d/b/l1", Kind::Hardlink, 10, 5, Some("d/a/f"))),
            Some(Role::File { start: 10, end: 15 })
        );
        assert_eq!(
            s.role(&entry("d/b/l2", Kind::Hardlink, 10, 5, Some("d/a/f"))),
            Some(Role::Link(RawPath(b"d/b/l1".to_vec())))
        );
        // "d/a" does not select "d/ab".
        let mut s = Selection::new(&["d/a".into()]);
        assert!(s.role(&entry("d/ab", Kind::Dir, 0, 0, None)).is_none());
        assert!(s.role(&entry("d/a/f", Kind::File, 0, 0, None)).is_some());
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "a/./b"] {
            let r = safe_relative(&RawPath(bad.as_bytes().to_vec()));
            assert!(matches!(r, Err(RestoreError::UnsafePath(_))), "{bad}");
        }
        assert_eq!(
            safe_relative(&RawPath(b"a/b".to_vec())).unwrap(),
            PathBuf::from("a/b")
        );
    }
}
