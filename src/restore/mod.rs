//! Restoring a snapshot (or parts of it) from tape into a directory.
//!
//! 1. The snapshot's manifest is read from its tape (located by file number).
//! 2. The selection (`--path` prefixes, else everything) is planned: which
//!    chunks are needed, which tape files hold them (from the catalog),
//!    which tapes must be loaded. Tapes that are not online are reported
//!    together, before anything is written.
//! 3. Every regular file is created under a temporary name, sized to its
//!    final length. Each tape is loaded once; its archives are read in
//!    position order (LOCATE to each, never rewind-and-space). Every chunk
//!    is verified (SHA-256) by the reader and written to every place it is
//!    needed whose offset is known; a chunk that is needed further on in a
//!    file whose earlier chunks have not arrived yet is kept in a spool
//!    file (on disk, next to the data), so memory holds one chunk at a time.
//!    All-zero chunks are not written: sparse files stay sparse.
//! 4. Metadata is applied (owner when root, mode, mtime), files are renamed
//!    to their final names, links, fifos and device nodes created, and
//!    directories get their metadata last (deepest first).
//!
//! On failure every temporary file is removed: under the target only
//! complete files (and directories) remain.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use pbs_tape::format::{read_snapshot_archive, ChunkArchiveReader};
use rusqlite::params;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, MediaRecord, SnapshotRecord};
use crate::chunking::{digest_to_hex, Digest};
use crate::devices::{DeviceError, TapeDevices};
use crate::manifest::{Entry, EntryKind, Manifest, ManifestError, RawPath};
use crate::reading::{load_checked, locate, TapeAccessError};
use crate::writer::WriterEvents;

mod assemble;
mod metadata;

use assemble::{Assembler, FileJob};
use metadata::{apply_metadata, make_node};

/// Errors of a restore.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("no snapshot named {0:?} in the catalog (see ptape snapshots)")]
    UnknownSnapshot(String),
    #[error("tapes needed for this restore are not online: {}; put them into the library and retry", .labels.join(", "))]
    MediaOffline { labels: Vec<String> },
    #[error("the catalog names media {0}, which it does not list")]
    UnknownMedia(Uuid),
    #[error("path {0:?} is not in the snapshot")]
    PathNotInSnapshot(String),
    #[error(
        "the manifest holds an unsafe path {0:?} (absolute or with '..'); refusing to restore it"
    )]
    UnsafePath(String),
    #[error("{0} exists; use --overwrite to replace existing files")]
    Exists(PathBuf),
    #[error("chunk {digest} of {path} is not recorded on any tape of the media set")]
    ChunkNotCatalogued { digest: String, path: String },
    #[error(
        "chunk {digest} was not found where the catalog places it (tape {label}, file {file})"
    )]
    ChunkMissing {
        digest: String,
        label: String,
        file: u64,
    },
    #[error("{path}: restored {got} bytes, the manifest says {want}")]
    SizeMismatch { path: PathBuf, got: u64, want: u64 },
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
    #[error("snapshot manifest: {0}")]
    Manifest(#[from] ManifestError),
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
    /// Only these manifest paths (and everything below them); empty: all.
    pub paths: Vec<String>,
    /// Replace existing files instead of refusing.
    pub overwrite: bool,
}

impl RestoreOptions {
    pub fn new(snapshot: &str, target: &Path) -> Self {
        RestoreOptions {
            snapshot: snapshot.to_string(),
            target: target.to_path_buf(),
            paths: Vec::new(),
            overwrite: false,
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
    /// Chunk entries written (each unique chunk once, however often used).
    pub chunks: u64,
    /// Tapes read, in order.
    pub tapes: Vec<String>,
    /// Entries that could not be restored as they were (e.g. device nodes
    /// without root).
    pub warnings: Vec<String>,
}

/// Reads the manifest of `snapshot` from tape. Leaves the tape loaded and
/// returns it with its media record.
fn read_manifest<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    snapshot: &SnapshotRecord,
) -> Result<(Manifest, D::Tape, MediaRecord), RestoreError> {
    let media = catalog
        .media_by_uuid(snapshot.media)?
        .ok_or(RestoreError::UnknownMedia(snapshot.media))?;
    let online = devices.online_labels()?;
    if !online.contains(&media.label) {
        return Err(RestoreError::MediaOffline {
            labels: vec![media.label],
        });
    }
    let mut tape = load_checked(devices, &media)?;
    let read = locate(&mut tape, &media.label, snapshot.file_number).and_then(|()| {
        read_snapshot_archive(&mut tape).map_err(|e| TapeAccessError::format(&media.label, e))
    });
    let archive = match read {
        Ok(a) => a,
        Err(e) => {
            let _ = devices.unload(tape);
            return Err(e.into());
        }
    };
    // The tape file must be the catalogued snapshot archive, not another
    // snapshot's manifest.
    let same_uuid = snapshot.archive.is_nil() || archive.uuid == snapshot.archive;
    if archive.snapshot != snapshot.name || !same_uuid {
        let _ = devices.unload(tape);
        return Err(RestoreError::Manifest(ManifestError::Invalid(format!(
            "{} file {} holds snapshot {} (archive {}), the catalog expects {} (archive {})",
            media.label,
            snapshot.file_number,
            archive.snapshot,
            archive.uuid,
            snapshot.name,
            snapshot.archive
        ))));
    }
    match Manifest::decode(&archive.manifest) {
        Ok(m) => Ok((m, tape, media)),
        Err(e) => {
            let _ = devices.unload(tape);
            Err(e.into())
        }
    }
}

/// The relative path of a manifest entry, refused unless every component
/// is a plain name (no root, `..`, `.` or empty component).
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

/// True when `path` is `prefix` or below it.
fn under(path: &RawPath, prefix: &[u8]) -> bool {
    path.0 == prefix || (path.0.starts_with(prefix) && path.0.get(prefix.len()) == Some(&b'/'))
}

/// The entries to restore: all, or those under the given paths. A hard
/// link whose file is not selected becomes that file (the first such link)
/// or a link to that first one.
pub fn select_entries(manifest: &Manifest, paths: &[String]) -> Result<Vec<Entry>, RestoreError> {
    if paths.is_empty() {
        return Ok(manifest.entries.clone());
    }
    let prefixes: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| p.trim_end_matches('/').as_bytes().to_vec())
        .collect();
    for (text, prefix) in paths.iter().zip(&prefixes) {
        if !manifest.entries.iter().any(|e| under(&e.path, prefix)) {
            return Err(RestoreError::PathNotInSnapshot(text.clone()));
        }
    }
    let files: HashMap<&RawPath, &Entry> = manifest
        .entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::File { .. }))
        .map(|e| (&e.path, e))
        .collect();
    let mut moved: HashMap<RawPath, RawPath> = HashMap::new();
    let mut selected = Vec::new();
    for e in &manifest.entries {
        if !prefixes.iter().any(|p| under(&e.path, p)) {
            continue;
        }
        let mut e = e.clone();
        if let EntryKind::Hardlink { target } = &e.kind {
            if !prefixes.iter().any(|p| under(target, p)) {
                match (moved.get(target), files.get(target)) {
                    (Some(first), _) => {
                        e.kind = EntryKind::Hardlink {
                            target: first.clone(),
                        }
                    }
                    (None, Some(file)) => {
                        moved.insert(target.clone(), e.path.clone());
                        e.kind = file.kind.clone();
                        e.size = file.size;
                    }
                    (None, None) => {
                        return Err(RestoreError::Manifest(ManifestError::Invalid(format!(
                            "hard link {} names no file",
                            e.path
                        ))))
                    }
                }
            }
        }
        selected.push(e);
    }
    Ok(selected)
}

/// Where each needed chunk is read from: tape (by media UUID) -> tape
/// files -> digests.
#[derive(Debug, Default)]
struct ReadPlan {
    /// media -> file number -> digests needed from that file.
    files: BTreeMap<Uuid, BTreeMap<u64, HashSet<Digest>>>,
}

/// Finds, for each digest, one tape file of the media set holding it;
/// copies on online tapes are preferred.
fn plan_reads(
    catalog: &Catalog,
    set: Uuid,
    needed: &HashSet<Digest>,
    online_media: &HashSet<Uuid>,
) -> Result<(ReadPlan, HashSet<Digest>), CatalogError> {
    let mut stmt = catalog.connection().prepare(
        "SELECT c.digest, c.media, c.file_number FROM chunks c JOIN media m ON m.uuid = c.media
         WHERE m.media_set = ?1 ORDER BY m.seq_nr, c.file_number",
    )?;
    let mut rows = stmt.query(params![set.to_string()])?;
    let mut chosen: HashMap<Digest, (Uuid, u64)> = HashMap::new();
    while let Some(row) = rows.next()? {
        let blob: Vec<u8> = row.get(0)?;
        let Ok(digest) = <Digest>::try_from(blob.as_slice()) else {
            return Err(CatalogError::Corrupt(format!(
                "chunk digest of {} bytes",
                blob.len()
            )));
        };
        if !needed.contains(&digest) {
            continue;
        }
        let media: String = row.get(1)?;
        let media = Uuid::parse_str(&media)
            .map_err(|e| CatalogError::Corrupt(format!("media UUID {media:?}: {e}")))?;
        let file: i64 = row.get(2)?;
        let better = match chosen.get(&digest) {
            None => true,
            Some((m, _)) => !online_media.contains(m) && online_media.contains(&media),
        };
        if better {
            chosen.insert(digest, (media, file as u64));
        }
    }
    let mut plan = ReadPlan::default();
    for (digest, (media, file)) in &chosen {
        plan.files
            .entry(*media)
            .or_default()
            .entry(*file)
            .or_default()
            .insert(*digest);
    }
    let missing = needed
        .iter()
        .filter(|d| !chosen.contains_key(*d))
        .copied()
        .collect();
    Ok((plan, missing))
}

/// Temporary files created so far; removed unless disarmed.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Restores a snapshot; see the module documentation.
pub fn run_restore<D: TapeDevices>(
    mut devices: D,
    catalog: &Catalog,
    options: &RestoreOptions,
    events: &mut dyn WriterEvents,
) -> Result<RestoreResult, RestoreError> {
    let snapshot = catalog
        .snapshot(&options.snapshot)?
        .ok_or_else(|| RestoreError::UnknownSnapshot(options.snapshot.clone()))?;
    let (manifest, tape, manifest_media) = read_manifest(&mut devices, catalog, &snapshot)?;
    let mut loaded = Some((tape, manifest_media));
    let result = restore_with_manifest(
        &mut devices,
        &mut loaded,
        catalog,
        &snapshot,
        &manifest,
        options,
        events,
    );
    if let Some((tape, _)) = loaded.take() {
        let unloaded = devices.unload(tape);
        if result.is_ok() {
            unloaded?;
        }
    }
    result
}

fn restore_with_manifest<D: TapeDevices>(
    devices: &mut D,
    loaded: &mut Option<(D::Tape, MediaRecord)>,
    catalog: &Catalog,
    snapshot: &SnapshotRecord,
    manifest: &Manifest,
    options: &RestoreOptions,
    events: &mut dyn WriterEvents,
) -> Result<RestoreResult, RestoreError> {
    let entries = select_entries(manifest, &options.paths)?;
    let target = &options.target;
    let mut finals = Vec::with_capacity(entries.len());
    for e in &entries {
        finals.push(target.join(safe_relative(&e.path)?));
    }
    if !options.overwrite {
        for (e, path) in entries.iter().zip(&finals) {
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if !(meta.is_dir() && matches!(e.kind, EntryKind::Dir)) {
                    return Err(RestoreError::Exists(path.clone()));
                }
            }
        }
    }

    // Plan the reads; refuse before writing anything when tapes are missing.
    let mut needed = HashSet::new();
    for e in &entries {
        if let EntryKind::File { chunks } = &e.kind {
            needed.extend(chunks.iter().map(|c| c.0));
        }
    }
    let online: HashSet<String> = devices.online_labels()?.into_iter().collect();
    let set_media = catalog.media_of_set(snapshot.media_set)?;
    let online_media: HashSet<Uuid> = set_media
        .iter()
        .filter(|m| online.contains(&m.label))
        .map(|m| m.uuid)
        .collect();
    let (plan, missing) = plan_reads(catalog, snapshot.media_set, &needed, &online_media)?;
    if let Some(d) = missing.iter().next() {
        let path = entries
            .iter()
            .find(|e| matches!(&e.kind, EntryKind::File { chunks } if chunks.iter().any(|c| c.0 == *d)))
            .map(|e| e.path.to_string())
            .unwrap_or_default();
        return Err(RestoreError::ChunkNotCatalogued {
            digest: digest_to_hex(d),
            path,
        });
    }
    let mut tapes: Vec<&MediaRecord> = Vec::new();
    for media in plan.files.keys() {
        let record = set_media
            .iter()
            .find(|m| m.uuid == *media)
            .ok_or(RestoreError::UnknownMedia(*media))?;
        tapes.push(record);
    }
    // The tape in the drive first, then the media set's order.
    let in_drive = loaded.as_ref().map(|(_, m)| m.uuid);
    tapes.sort_by_key(|m| (Some(m.uuid) != in_drive, m.seq_nr));
    let offline: Vec<String> = tapes
        .iter()
        .filter(|m| !online.contains(&m.label))
        .map(|m| m.label.clone())
        .collect();
    if !offline.is_empty() {
        return Err(RestoreError::MediaOffline { labels: offline });
    }

    // Directories and temporary files.
    std::fs::create_dir_all(target).map_err(io_err(target))?;
    let rels: Vec<PathBuf> = entries
        .iter()
        .map(|e| safe_relative(&e.path))
        .collect::<Result<_, _>>()?;
    let mut temps = TempFiles(Vec::new());
    let mut jobs = Vec::new();
    let mut job_of_entry = HashMap::new();
    for (i, (e, path)) in entries.iter().zip(&finals).enumerate() {
        let parent = path.parent().unwrap_or(target);
        let rel = &rels[i];
        match &e.kind {
            EntryKind::Dir => make_dirs_beneath(target, rel, options.overwrite)?,
            _ => make_dirs_beneath(
                target,
                rel.parent().unwrap_or(Path::new("")),
                options.overwrite,
            )?,
        }
        if let EntryKind::File { chunks } = &e.kind {
            let temp = parent.join(format!(".ptape-restore-{}-{i}.tmp", std::process::id()));
            let f = File::options()
                .write(true)
                .create_new(true)
                .open(&temp)
                .map_err(io_err(&temp))?;
            temps.0.push(temp.clone());
            f.set_len(e.size).map_err(io_err(&temp))?;
            job_of_entry.insert(i, jobs.len());
            jobs.push(FileJob {
                temp,
                chunks: chunks.iter().map(|c| c.0).collect(),
                size: e.size,
                next: 0,
                offset: 0,
            });
        }
    }
    let spool = target.join(format!(".ptape-restore-{}.spool", std::process::id()));
    let mut assembler = Assembler::new(jobs, spool);
    // Files without chunks (empty) are complete already.
    for i in 0..assembler.jobs.len() {
        assembler.advance(i, None)?;
    }

    // Read the tapes.
    let mut chunks_read = 0u64;
    let mut tapes_read = Vec::new();
    let result = (|| {
        for media in &tapes {
            let files = &plan.files[&media.uuid];
            let mut tape = match loaded.take() {
                Some((tape, m)) if m.uuid == media.uuid => tape,
                Some((tape, m)) => {
                    devices
                        .unload(tape)
                        .map_err(|e| TapeAccessError::device(&m.label, e))?;
                    load_checked(devices, media)?
                }
                None => load_checked(devices, media)?,
            };
            let label = &media.label;
            events.tape(label, media.seq_nr.unwrap_or(0));
            tapes_read.push(label.clone());
            let outcome = (|| {
                for (&file, digests) in files {
                    locate(&mut tape, label, file)?;
                    let mut reader = ChunkArchiveReader::new(&mut tape)
                        .map_err(|e| TapeAccessError::format(label, e))?;
                    let mut left = digests.iter().filter(|d| assembler.wants(d)).count();
                    while left > 0 {
                        let Some(entry) = reader
                            .next_entry()
                            .map_err(|e| TapeAccessError::format(label, e))?
                        else {
                            break;
                        };
                        if digests.contains(&entry.digest) && assembler.wants(&entry.digest) {
                            assembler.accept(entry.digest, &entry.data)?;
                            chunks_read += 1;
                            left -= 1;
                            events.chunk(entry.data.len() as u64, true);
                        }
                    }
                    if let Some(d) = digests.iter().find(|d| assembler.wants(d)) {
                        return Err(RestoreError::ChunkMissing {
                            digest: digest_to_hex(d),
                            label: label.clone(),
                            file,
                        });
                    }
                }
                Ok(())
            })();
            *loaded = Some((tape, (*media).clone()));
            outcome?;
        }
        assembler.finish()
    })();
    if let Err(e) = result {
        assembler.spool.remove();
        return Err(e);
    }

    // Metadata, final names, links; directories last.
    let root = is_root();
    let mut warnings = Vec::new();
    let mut files = 0;
    let mut bytes: u64 = 0;
    for (i, (e, path)) in entries.iter().zip(&finals).enumerate() {
        let parent = path.parent().unwrap_or(target);
        let temp = parent.join(format!(".ptape-restore-{}-{i}.node", std::process::id()));
        match &e.kind {
            EntryKind::Dir => {}
            EntryKind::File { .. } => {
                let job = &assembler.jobs[job_of_entry[&i]];
                apply_metadata(&job.temp, e, root, false)?;
                std::fs::rename(&job.temp, path).map_err(io_err(path))?;
                files += 1;
                bytes = bytes.saturating_add(e.size);
            }
            EntryKind::Symlink { target: link } => {
                std::os::unix::fs::symlink(link.as_path(), &temp).map_err(io_err(&temp))?;
                temps.0.push(temp.clone());
                apply_metadata(&temp, e, root, true)?;
                std::fs::rename(&temp, path).map_err(io_err(path))?;
            }
            EntryKind::Hardlink { target: first } => {
                let first = target.join(safe_relative(first)?);
                std::fs::hard_link(&first, &temp).map_err(io_err(&temp))?;
                temps.0.push(temp.clone());
                std::fs::rename(&temp, path).map_err(io_err(path))?;
            }
            EntryKind::Fifo | EntryKind::CharDevice { .. } | EntryKind::BlockDevice { .. } => {
                match make_node(&temp, e) {
                    Ok(()) => {
                        temps.0.push(temp.clone());
                        apply_metadata(&temp, e, root, false)?;
                        std::fs::rename(&temp, path).map_err(io_err(path))?;
                    }
                    Err(err) => warnings.push(format!("{}: not restored: {err}", e.path)),
                }
            }
            EntryKind::Socket => {
                warnings.push(format!("{}: sockets are not restored", e.path));
            }
        }
    }
    for (e, path) in entries.iter().zip(&finals).rev() {
        if matches!(e.kind, EntryKind::Dir) {
            apply_metadata(path, e, root, false)?;
        }
    }
    for w in &warnings {
        events.note(w);
    }
    Ok(RestoreResult {
        snapshot: snapshot.name.clone(),
        target: target.clone(),
        entries: entries.len() as u64,
        files,
        bytes,
        chunks: chunks_read,
        tapes: tapes_read,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunking::ChunkerConfig;
    use crate::manifest::{ChunkDigest, MANIFEST_VERSION};

    fn entry(path: &str, kind: EntryKind) -> Entry {
        Entry {
            path: RawPath(path.as_bytes().to_vec()),
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime_ns: 0,
            size: 0,
            incomplete: false,
        }
    }

    fn manifest(entries: Vec<Entry>) -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            snapshot: "p/h/t".into(),
            chunker: ChunkerConfig::default(),
            entries,
        }
    }

    #[test]
    fn selection_by_prefix_turns_outside_hard_links_into_files() {
        let file = EntryKind::File {
            chunks: vec![ChunkDigest([1; 32])],
        };
        let link = || EntryKind::Hardlink {
            target: RawPath(b"d/a/f".to_vec()),
        };
        let m = manifest(vec![
            entry("d", EntryKind::Dir),
            entry("d/a", EntryKind::Dir),
            entry("d/a/f", file.clone()),
            entry("d/ab", EntryKind::Dir),
            entry("d/b", EntryKind::Dir),
            entry("d/b/l1", link()),
            entry("d/b/l2", link()),
        ]);
        let sel = select_entries(&m, &["d/b/".into()]).unwrap();
        let paths: Vec<String> = sel.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, ["d/b", "d/b/l1", "d/b/l2"]);
        assert_eq!(sel[1].kind, file);
        assert_eq!(
            sel[2].kind,
            EntryKind::Hardlink {
                target: RawPath(b"d/b/l1".to_vec())
            }
        );
        // "d/a" does not select "d/ab".
        let sel = select_entries(&m, &["d/a".into()]).unwrap();
        assert_eq!(sel.len(), 2);
        assert!(matches!(
            select_entries(&m, &["nope".into()]),
            Err(RestoreError::PathNotInSnapshot(p)) if p == "nope"
        ));
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
