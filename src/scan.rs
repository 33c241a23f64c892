//! Rebuilding the media catalog from the tapes alone (`ptape catalog scan`).
//!
//! Pass 1, for every tape: read the media label and media set label, then
//! walk the tape files reading only each file's content header (LOCATE to
//! each file); catalog archives are read whole and imported (they carry
//! the rows of the tapes a job wrote: all rows of a tape it finished, the
//! rows it added to one still taking data; so one tape may bring the rows
//! of others). Pass 2: every chunk or snapshot archive that no catalog archive
//! described (none written, or damaged) is read completely (each chunk
//! verified) and its rows are built from what was read. A tape is loaded a
//! second time only when it needs such a full read.

use std::collections::HashSet;

use pbs_tape::format::{
    read_catalog_archive, read_media_set_label, scan_tape, ContentHeader, ContentType, MediaLabel,
    MediaSetLabel, ScannedContent, TapeWrite,
};
use uuid::Uuid;

use crate::catalog::export::{ArchiveExport, TAPE_CATALOG_VERSION};
use crate::catalog::{
    self, ArchiveRecord, Catalog, CatalogError, MediaLocation, MediaRecord, MediaSetRecord,
    MediaSetStatus, MediaStatus, SnapshotRecord, TapeCatalog,
};
use crate::chunking::ChunkDigest;
use crate::devices::{DeviceError, TapeDevices, TapeMotion};
use crate::keys::{HardwareEncryption, KeyAccess, ReadKeys};
use crate::pool::config_file::{RestoredPool, SettingsSource};
use crate::reading::{locate, peek_content_header, prepare_keys, unload_read, TapeAccessError};
use crate::stream::index::SnapshotIndex;
use crate::writer::WriterEvents;

mod trust;

/// Errors that stop a catalog scan (damage on one tape does not: it is
/// reported in that tape's notes).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("no cartridge to scan: {0}")]
    NoTapes(String),
    #[error(transparent)]
    Tape(#[from] TapeAccessError),
    #[error(transparent)]
    Devices(Box<DeviceError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<DeviceError> for ScanError {
    fn from(e: DeviceError) -> Self {
        ScanError::Devices(Box::new(e))
    }
}

/// What kind of cartridge a scanned tape turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapeScanState {
    /// A ptape tape of a media set: its archives are in the catalog.
    Scanned,
    /// A ptape media label, but no media set yet.
    Labelled,
    /// Nothing written.
    Blank,
    /// Data that is not ptape's (or labels with invalid names): skipped.
    Foreign,
    /// It could not be loaded or read (damage noted): skipped or partly
    /// scanned.
    Damaged,
    /// A ptape tape the catalog knows by another UUID: skipped.
    Conflict,
    /// Its media set is encrypted with a key that is not in the key store
    /// (or cannot be opened): tape and set recorded from the labels, no
    /// archive read.
    KeyMissing,
}

impl TapeScanState {
    /// The name JSON output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TapeScanState::Scanned => "scanned",
            TapeScanState::Labelled => "labelled",
            TapeScanState::Blank => "blank",
            TapeScanState::Foreign => "foreign",
            TapeScanState::Damaged => "damaged",
            TapeScanState::Conflict => "conflict",
            TapeScanState::KeyMissing => "key-missing",
        }
    }
}

/// What the scan learned from one tape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TapeScanReport {
    pub label: String,
    pub state: TapeScanState,
    /// `None`: blank cartridge.
    pub media: Option<Uuid>,
    pub media_set: Option<Uuid>,
    pub seq_nr: Option<u64>,
    /// Tape files after the labels.
    pub files: u64,
    /// Catalog archives found on this tape and imported.
    pub catalog_archives: u64,
    /// Archives read completely because no catalog archive described them.
    pub full_reads: u64,
    /// Archive rows added to the catalog from this tape.
    pub archives_added: u64,
    /// Damage and other remarks.
    pub notes: Vec<String>,
    /// Pools whose settings a catalog archive of this tape carried.
    #[serde(skip)]
    pools_with_settings: Vec<String>,
}

/// The outcome of a scan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanReport {
    pub tapes: Vec<TapeScanReport>,
    /// Snapshots in the catalog after the scan.
    pub snapshots: u64,
    /// Snapshots whose local file index was rebuilt from tape.
    pub file_indexes_rebuilt: u64,
    /// Pools the scan created (the catalog did not hold them), and where
    /// their settings came from (`tape`: a catalog archive; `defaults`:
    /// nothing recorded them). `ptape catalog scan` then applies
    /// `pools.toml` ([`crate::pool::config_file::restore_pools`]).
    pub pools: Vec<RestoredPool>,
}

/// One tape after pass 1.
struct Walked {
    label: MediaLabel,
    set: MediaSetLabel,
    files: Vec<(u64, ContentHeader)>,
    /// Rows of the catalog archives read in pass 1 (no second read needed).
    catalog_files: Vec<ArchiveRecord>,
    report: usize,
}

/// Scans the tapes `labels` (all online cartridges when `None`) and adds
/// what they hold to `catalog`. With `mark_missing_offline`, catalogued
/// tapes that are not online afterwards are marked offline. Keys of
/// encrypted media sets come from the default key store (keys without a
/// passphrase); [`scan_tapes_with_keys`] names where.
pub fn scan_tapes<D: TapeDevices>(
    devices: D,
    catalog: &mut Catalog,
    labels: Option<Vec<String>>,
    mark_missing_offline: bool,
    events: &mut dyn WriterEvents,
) -> Result<ScanReport, ScanError> {
    let keys = KeyAccess::default();
    scan_tapes_with_keys(
        devices,
        catalog,
        labels,
        mark_missing_offline,
        &keys,
        events,
    )
}

/// [`scan_tapes`], the keys of encrypted media sets opened through `keys`:
/// each tape's set key is loaded after its labels are read; a missing key
/// stops the scan before that tape's data is read.
pub fn scan_tapes_with_keys<D: TapeDevices>(
    mut devices: D,
    catalog: &mut Catalog,
    labels: Option<Vec<String>>,
    mark_missing_offline: bool,
    keys: &KeyAccess,
    events: &mut dyn WriterEvents,
) -> Result<ScanReport, ScanError> {
    let mut keys = ReadKeys::new(keys.clone());
    let pools_before: HashSet<String> = catalog.pools()?.into_iter().map(|p| p.name).collect();
    let online = devices.online_labels()?;
    let changer = devices.changer_name();
    let labels = labels.unwrap_or_else(|| online.clone());
    if labels.is_empty() {
        return Err(ScanError::NoTapes(
            "the drive is empty and no changer lists a cartridge".into(),
        ));
    }
    let mut reports = Vec::new();
    let mut walked = Vec::new();
    for label in &labels {
        events.tape(label, 0);
        let mut report = TapeScanReport {
            label: label.clone(),
            state: TapeScanState::Scanned,
            media: None,
            media_set: None,
            seq_nr: None,
            files: 0,
            catalog_archives: 0,
            full_reads: 0,
            archives_added: 0,
            notes: Vec::new(),
            pools_with_settings: Vec::new(),
        };
        // One cartridge that cannot be loaded or read does not stop the
        // scan of the others; a missing key does (nothing of its data is
        // read).
        match devices.load(label) {
            Ok(mut tape) => {
                let outcome = walk_tape(
                    &mut tape,
                    catalog,
                    changer.as_deref(),
                    &mut report,
                    &mut keys,
                );
                unload_read(&mut devices, tape, label, &mut keys)?;
                match outcome {
                    Ok(Some(mut w)) => {
                        w.report = reports.len();
                        walked.push(w);
                    }
                    Ok(None) => {}
                    Err(ScanError::Tape(e)) => {
                        report.state = TapeScanState::Damaged;
                        report.notes.push(format!("damaged: {e}; skipped"));
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => {
                report.state = TapeScanState::Damaged;
                report.notes.push(format!("cannot be loaded: {e}; skipped"));
            }
        }
        for n in &report.notes {
            events.note(&format!("{label}: {n}"));
        }
        reports.push(report);
    }
    // Pass 2: read whatever no catalog archive described.
    for w in &walked {
        let report = &mut reports[w.report];
        let known: HashSet<u64> = catalog
            .archives_of_media(w.label.uuid)?
            .iter()
            .map(|a| a.file_number)
            .collect();
        let mut tape_catalog = tape_catalog_of(w, catalog)?;
        for a in w
            .catalog_files
            .iter()
            .filter(|a| !known.contains(&a.file_number))
        {
            tape_catalog.archives.push(ArchiveExport {
                archive: a.clone(),
                chunks: Vec::new(),
                positions: Vec::new(),
            });
        }
        let read: HashSet<u64> = w.catalog_files.iter().map(|a| a.file_number).collect();
        let missing: Vec<&(u64, ContentHeader)> = w
            .files
            .iter()
            .filter(|(n, _)| !known.contains(n) && !read.contains(n))
            .collect();
        if !missing.is_empty() {
            let label = report.label.clone();
            let mut tape = devices
                .load(&label)
                .map_err(|e| TapeAccessError::device(&label, e))?;
            if let Err(e) = prepare_keys(&mut tape, &label, &mut keys) {
                let _ = unload_read(&mut devices, tape, &label, &mut keys);
                return Err(e.into());
            }
            for (n, header) in missing {
                match read_archive(&mut tape, &label, *n, header, w.label.uuid, &w.set) {
                    Ok((archive, snapshot)) => {
                        report.full_reads += 1;
                        tape_catalog.archives.push(archive);
                        tape_catalog.snapshots.extend(snapshot);
                    }
                    Err(e) => report.notes.push(format!("file {n}: {e}")),
                }
            }
            unload_read(&mut devices, tape, &label, &mut keys)?;
        }
        report.archives_added += import(catalog, &tape_catalog, report)?;
        // A tape the catalog knew in another (or no) set: the labels win.
        let set = tape_catalog.media_set.as_ref();
        if let (Some(m), Some(set)) = (catalog.media_by_uuid(w.label.uuid)?, set) {
            if m.media_set != Some(set.uuid) {
                catalog.assign_media_to_set(m.uuid, set, tape_catalog.media.seq_nr.unwrap_or(0))?;
            }
        }
        set_location_here(catalog, w.label.uuid, changer.as_deref())?;
    }
    // Tapes a later tape of their set followed are finished.
    let sets: HashSet<Uuid> = walked.iter().map(|w| w.set.uuid).collect();
    for set in sets {
        for label in catalog.mark_earlier_members_full(set)? {
            events.note(&format!(
                "{label}: a later tape of media set {set} follows it: marked full"
            ));
        }
    }
    let mut indexes_rebuilt = 0;
    if let Some(file_index) = catalog.file_index() {
        for s in catalog.snapshots(None)? {
            let complete = file_index
                .snapshot(s.archive)
                .is_ok_and(|i| file_index.has_chunks(&i));
            if complete {
                continue;
            }
            match crate::restore::rebuild_file_index(
                &mut devices,
                catalog,
                &s,
                &file_index,
                &mut keys,
                events,
            ) {
                Ok(()) => indexes_rebuilt += 1,
                Err(e) => events.note(&format!("file index of {}: not rebuilt: {e}", s.name)),
            }
        }
    }
    if mark_missing_offline {
        if let Some(changer) = &changer {
            catalog.sync_media_locations(changer, &online)?;
        }
    }
    let pools = pools_created(catalog, &pools_before, &reports)?;
    Ok(ScanReport {
        tapes: reports,
        snapshots: catalog.snapshots(None)?.len() as u64,
        file_indexes_rebuilt: indexes_rebuilt,
        pools,
    })
}

/// The pools the scan created. One that no catalog archive described got
/// the defaults; it takes the encryption key of its newest media set, so
/// the next backup does not start an unencrypted set for a pool whose
/// tapes were encrypted.
fn pools_created(
    catalog: &Catalog,
    before: &HashSet<String>,
    reports: &[TapeScanReport],
) -> Result<Vec<RestoredPool>, CatalogError> {
    let mut created = Vec::new();
    for pool in catalog.pools()? {
        if before.contains(&pool.name) {
            continue;
        }
        let described = reports
            .iter()
            .any(|r| r.pools_with_settings.contains(&pool.name));
        let settings = if described {
            SettingsSource::Tape
        } else {
            let newest_key = catalog
                .media_sets(Some(&pool.name))?
                .into_iter()
                .max_by_key(|s| s.created)
                .and_then(|s| s.encrypt);
            if newest_key.is_some() && pool.encrypt.is_none() {
                catalog.update_pool(&crate::catalog::PoolRecord {
                    encrypt: newest_key,
                    ..pool.clone()
                })?;
            }
            SettingsSource::Defaults
        };
        created.push(RestoredPool {
            name: pool.name,
            settings,
        });
    }
    Ok(created)
}

/// Pass 1 on the loaded (rewound) tape: labels, file headers, catalog
/// archives imported.
fn walk_tape<T: pbs_tape::format::TapeRead + TapeMotion + TapeWrite + HardwareEncryption>(
    tape: &mut T,
    catalog: &mut Catalog,
    changer: Option<&str>,
    report: &mut TapeScanReport,
    keys: &mut ReadKeys,
) -> Result<Option<Walked>, ScanError> {
    let label = report.label.clone();
    let fmt = |e| TapeAccessError::format(&label, e);
    let media_label = match pbs_tape::format::read_media_label(tape) {
        Ok(Some(l)) => l,
        Ok(None) => {
            report.state = TapeScanState::Blank;
            report.notes.push("blank cartridge".into());
            return Ok(None);
        }
        Err(e @ pbs_tape::format::FormatError::Tape { .. }) => return Err(fmt(e).into()),
        Err(e) => {
            report.state = TapeScanState::Foreign;
            report.notes.push(format!(
                "not a ptape tape (no ptape media label at its start: {e}): skipped"
            ));
            return Ok(None);
        }
    };
    if let Err(why) = trust::check_media_label(&media_label) {
        report.state = TapeScanState::Foreign;
        report.notes.push(format!("{why}: skipped"));
        return Ok(None);
    }
    report.media = Some(media_label.uuid);
    if media_label.label_text != label {
        report.notes.push(format!(
            "the media label says {:?}; recorded under barcode {label}",
            media_label.label_text
        ));
    }
    if let Some(known) = catalog.media_by_label(&label)? {
        if known.uuid != media_label.uuid {
            report.notes.push(format!(
                "the catalog knows {label} as media {}, the tape carries {}: skipped (relabelled?)",
                known.uuid, media_label.uuid
            ));
            report.state = TapeScanState::Conflict;
            return Ok(None);
        }
    }
    let set = match read_media_set_label(tape) {
        Ok(set) => set,
        Err(e @ pbs_tape::format::FormatError::Tape { .. }) => return Err(fmt(e).into()),
        Err(e) => {
            report.state = TapeScanState::Foreign;
            report.notes.push(format!(
                "file 1 is not a ptape media set label ({e}): skipped"
            ));
            return Ok(None);
        }
    };
    if let Some(why) = set.as_ref().and_then(|s| trust::check_set_label(s).err()) {
        report.state = TapeScanState::Foreign;
        report.notes.push(format!("{why}: skipped"));
        return Ok(None);
    }
    let Some(set) = set else {
        if catalog.media_by_uuid(media_label.uuid)?.is_none() {
            let (location, name) = location_here(changer);
            catalog.insert_media(&MediaRecord::new_labelled(
                media_label.uuid,
                &label,
                None,
                location,
                name,
                media_label.ctime,
            ))?;
        }
        report.state = TapeScanState::Labelled;
        report.notes.push("labelled, in no media set".into());
        return Ok(None);
    };
    report.media_set = Some(set.uuid);
    report.seq_nr = Some(set.seq_nr);
    // The set's key before its data. Without it no data is read: the tape
    // and its set are recorded from the labels (the set's key fingerprint
    // with them), the note says which key to bring back, and the scan goes
    // on with the next tape.
    let prepared = keys.prepare(tape, &label, &set);
    if let (Err(e), Some(_)) = (&prepared, &set.encryption_key_fingerprint) {
        let walked = Walked {
            label: media_label,
            set,
            files: Vec::new(),
            catalog_files: Vec::new(),
            report: 0,
        };
        let rows = tape_catalog_of(&walked, catalog)?;
        import(catalog, &rows, report)?;
        set_location_here(catalog, walked.label.uuid, changer)?;
        report.state = TapeScanState::KeyMissing;
        report.notes.push(format!(
            "{e}; its archives were not read: scan it again once the key is back"
        ));
        return Ok(None);
    }
    prepared.map_err(TapeAccessError::from)?;
    let mut files = Vec::new();
    let mut catalog_files = Vec::new();
    for n in 2.. {
        if let Err(e) = tape.locate_file(n) {
            // The last file has no filemark: an archive cut short by a
            // crash or by the tape's physical end (VOLUME OVERFLOW). Its
            // rows were never committed; the files before it are read.
            if n > 2 && is_end_of_data(&e) {
                report.notes.push(format!(
                    "file {} ends without a filemark (cut short by a crash or the end of the tape): not imported",
                    n - 1
                ));
                break;
            }
            return Err(TapeAccessError::io(&label, e).into());
        }
        let header = match peek_content_header(tape) {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                report.notes.push(format!(
                    "file {n}: damaged, its content header is unreadable: {e}"
                ));
                continue;
            }
        };
        files.push((n, header));
        if header.content_type != ContentType::CatalogArchive {
            continue;
        }
        locate(tape, &label, n)?;
        let first = object_position(tape, &label)?;
        let decoded = read_catalog_archive(tape)
            .map_err(|e| e.to_string())
            .and_then(|a| {
                let tc = TapeCatalog::decode(&a.data).map_err(|e| e.to_string())?;
                Ok((tc, a.data.len() as u64))
            });
        let decoded = decoded.and_then(|(tc, bytes)| {
            trust::trusted_rows(tc, &set)
                .map(|(tc, notes)| (tc, bytes, notes))
                .map_err(|why| format!("not trusted: {why}"))
        });
        match decoded {
            Ok((tc, bytes, notes)) => {
                for note in notes {
                    report.notes.push(format!("file {n}: catalog archive: {note}"));
                }
                let end = object_position(tape, &label)?;
                catalog_files.push(ArchiveRecord {
                    uuid: header.uuid,
                    media: media_label.uuid,
                    file_number: n,
                    content: catalog::ContentType::Catalog,
                    first_object: first,
                    last_object: end.saturating_sub(1),
                    complete: true,
                    entries: 1,
                    bytes,
                });
                report.catalog_archives += 1;
                let added = import(catalog, &tc, report)?;
                if tc.media.uuid == media_label.uuid {
                    report.archives_added += added;
                }
            }
            Err(e) => report.notes.push(format!(
                "file {n}: catalog archive damaged or not usable ({e}): the tape's archives are read instead"
            )),
        }
    }
    report.files = files.len() as u64;
    Ok(Some(Walked {
        label: media_label,
        set,
        files,
        catalog_files,
        report: 0,
    }))
}

/// A LOCATE/SPACE to a tape file that ran into the end of data.
fn is_end_of_data(e: &pbs_tape::format::TapeIoError) -> bool {
    use pbs_tape::drive::{DriveError, SpaceStop};
    match e {
        pbs_tape::format::TapeIoError::Drive(d) => matches!(
            **d,
            DriveError::SpaceStopped {
                shortfall: pbs_tape::drive::SpaceShortfall {
                    stop: SpaceStop::EndOfData,
                    ..
                },
                ..
            }
        ),
        _ => false,
    }
}

/// The logical object the tape is at (READ POSITION).
fn object_position<T: TapeWrite>(tape: &mut T, label: &str) -> Result<u64, TapeAccessError> {
    tape.position()
        .map(|p| p.logical_object)
        .map_err(|e| TapeAccessError::io(label, e))
}

/// Imports rows; a conflict (label known with another UUID) is noted.
fn import(
    catalog: &mut Catalog,
    tc: &TapeCatalog,
    report: &mut TapeScanReport,
) -> Result<u64, ScanError> {
    match catalog.import_tape(tc) {
        Ok(n) => {
            if let Some(pool) = &tc.pool {
                report.pools_with_settings.push(pool.name.clone());
            }
            Ok(n as u64)
        }
        Err(CatalogError::MediaExists(label)) => {
            report.notes.push(format!(
                "catalog rows of {label} not imported: the catalog knows another tape by that label"
            ));
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a tape loaded through `devices` is: online in their changer, or
/// offline (in a standalone drive).
fn location_here(changer: Option<&str>) -> (MediaLocation, Option<&str>) {
    match changer {
        Some(name) => (MediaLocation::Online, Some(name)),
        None => (MediaLocation::Offline, None),
    }
}

fn set_location_here(
    catalog: &Catalog,
    media: uuid::Uuid,
    changer: Option<&str>,
) -> Result<(), CatalogError> {
    let (location, name) = location_here(changer);
    catalog.set_media_location(media, location, name)
}

/// The rows of a walked tape as its labels describe it, without archives.
fn tape_catalog_of(w: &Walked, catalog: &Catalog) -> Result<TapeCatalog, ScanError> {
    let set = MediaSetRecord {
        uuid: w.set.uuid,
        pool: w.set.pool.clone(),
        created: w.set.ctime,
        status: MediaSetStatus::Writable,
        closed: None,
        last_write: None,
        encrypt: w.set.encryption_key_fingerprint.clone(),
    };
    let known = catalog.media_by_uuid(w.label.uuid)?;
    let media = MediaRecord {
        uuid: w.label.uuid,
        label: known
            .map(|m| m.label)
            .unwrap_or_else(|| w.label.label_text.clone()),
        pool: Some(set.pool.clone()),
        media_set: Some(set.uuid),
        seq_nr: u32::try_from(w.set.seq_nr).ok(),
        status: MediaStatus::Writable,
        location: MediaLocation::Online,
        location_name: None,
        bytes_used: 0,
        labelled: w.label.ctime,
    };
    Ok(TapeCatalog {
        version: TAPE_CATALOG_VERSION,
        media,
        media_set: Some(set),
        pool: None,
        archives: Vec::new(),
        snapshots: Vec::new(),
    })
}

/// Reads tape file `n` (whose content header is `header`) of tape
/// `media` in media set `set` completely and builds its catalog rows:
/// every chunk of a chunk archive is verified, a snapshot archive's
/// manifest decoded. Also used by the writer to import an archive the
/// catalog does not know before it appends after it.
pub(crate) fn read_archive<T: pbs_tape::format::TapeRead + TapeMotion + TapeWrite>(
    tape: &mut T,
    label: &str,
    n: u64,
    header: &ContentHeader,
    media: Uuid,
    set: &MediaSetLabel,
) -> Result<(ArchiveExport, Option<SnapshotRecord>), ScanError> {
    locate(tape, label, n)?;
    let first = object_position(tape, label)?;
    let scanned = scan_tape(tape, n)
        .next()
        .ok_or_else(|| {
            TapeAccessError::format(
                label,
                pbs_tape::format::FormatError::StreamCutShort {
                    at: "end of data",
                    blocks: 0,
                },
            )
        })?
        .map_err(|e| TapeAccessError::format(label, e))?;
    let end = object_position(tape, label)?;
    let mut record = ArchiveRecord {
        uuid: header.uuid,
        media,
        file_number: n,
        content: catalog::ContentType::Chunks,
        first_object: first,
        last_object: end.saturating_sub(1),
        complete: true,
        entries: 1,
        bytes: 0,
    };
    let mut chunks = Vec::new();
    let mut positions = Vec::new();
    let mut snapshot = None;
    match scanned.content {
        ScannedContent::ChunkArchive {
            digests,
            positions: entry_positions,
            chunk_bytes,
            continues_on_next_tape,
            ..
        } => {
            record.entries = digests.len() as u64;
            record.bytes = chunk_bytes;
            record.complete = !continues_on_next_tape;
            chunks = digests.into_iter().map(ChunkDigest).collect();
            positions = entry_positions;
        }
        ScannedContent::SnapshotArchive(s) => {
            record.content = catalog::ContentType::Snapshot;
            record.bytes = s.manifest.len() as u64;
            let index = SnapshotIndex::read(&s.manifest[..]).map_err(|e| {
                TapeAccessError::format(
                    label,
                    pbs_tape::format::FormatError::BadContentBody {
                        what: "snapshot index",
                        message: e.to_string(),
                    },
                )
            })?;
            snapshot = Some(SnapshotRecord {
                time: snapshot_time(&s.snapshot).unwrap_or(set.ctime),
                name: s.snapshot,
                pool: set.pool.clone(),
                media_set: set.uuid,
                media,
                file_number: n,
                archive: header.uuid,
                entries: index.summary.entries,
                total_bytes: index.summary.file_bytes,
            });
        }
        ScannedContent::CatalogArchive(c) => {
            record.content = catalog::ContentType::Catalog;
            record.bytes = c.data.len() as u64;
        }
        ScannedContent::MediaLabel(_) | ScannedContent::MediaSetLabel(_) => {
            return Err(TapeAccessError::format(
                label,
                pbs_tape::format::FormatError::WrongContentType {
                    expected: ContentType::ChunkArchive,
                    found: header.content_type,
                },
            )
            .into())
        }
    }
    Ok((
        ArchiveExport {
            archive: record,
            chunks,
            positions,
        },
        snapshot,
    ))
}

/// The time part of `POOL/ID/TIME`, seconds since the epoch.
fn snapshot_time(name: &str) -> Option<i64> {
    crate::backup::parse_snapshot_name(name).map(|(_, _, time)| time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_time_comes_from_the_name() {
        assert_eq!(
            snapshot_time("default/web1/2026-11-25T12:00:00Z"),
            Some(1_795_608_000)
        );
        assert_eq!(snapshot_time("garbage"), None);
        assert_eq!(snapshot_time("default/../2026-11-25T12:00:00Z"), None);
        assert_eq!(snapshot_time("a/b/c/2026-11-25T12:00:00Z"), None);
    }
}
