//! Reading media sets back and checking them (`ptape verify`): every
//! archive the catalog records is located and read completely; block
//! framing (magic, CRC32C, sequence, end-of-stream, filemark), content
//! headers and every chunk digest are checked, and what was read is
//! compared with the catalog's rows. Damage in one archive does not stop
//! the check of the next one.

use pbs_tape::format::{read_media_set_label, scan_tape, ScannedContent};
use uuid::Uuid;

use crate::catalog::{self, Catalog, CatalogError, MediaRecord, MediaStatus, TapeCatalog};
use crate::chunking::digest_to_hex;
use crate::devices::{DeviceError, TapeDevices};
use crate::keys::{KeyAccess, KeyError, ReadKeys};
use crate::reading::{load_checked, locate, unload_read, TapeAccessError};
use crate::stream::index::SnapshotIndex;
use crate::writer::WriterEvents;

/// Errors that stop a verification (damage does not: it is reported).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("media set {0} does not exist")]
    UnknownMediaSet(Uuid),
    #[error("pool {0:?} has no media set")]
    EmptyPool(String),
    #[error("the catalog holds no media set to verify")]
    Nothing,
    #[error(transparent)]
    Devices(Box<DeviceError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// An encrypted media set's key is missing or cannot be loaded.
    #[error(transparent)]
    Key(Box<KeyError>),
    /// The set's reader registration (see [`crate::lock::SetReadLock`]).
    #[error(transparent)]
    Lock(Box<crate::lock::LockError>),
}

impl From<KeyError> for VerifyError {
    fn from(e: KeyError) -> Self {
        VerifyError::Key(Box::new(e))
    }
}

impl From<DeviceError> for VerifyError {
    fn from(e: DeviceError) -> Self {
        VerifyError::Devices(Box::new(e))
    }
}

/// Which media sets to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifySelection {
    MediaSet(Uuid),
    Pool(String),
    All,
}

/// The check of one archive (tape file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArchiveCheck {
    pub file_number: u64,
    pub content: catalog::ContentType,
    pub uuid: Uuid,
    /// Entries read and verified.
    pub entries: u64,
    /// `None`: intact.
    pub error: Option<String>,
}

/// Overall state of one tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapeState {
    Ok,
    Damaged,
    /// Not in the library: not verified.
    Offline,
}

/// The check of one tape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TapeCheck {
    pub label: String,
    pub media: Uuid,
    pub media_set: Option<Uuid>,
    pub seq_nr: Option<u32>,
    pub state: TapeState,
    pub archives: Vec<ArchiveCheck>,
    /// Chunks whose digest was recomputed and matched.
    pub chunks: u64,
    pub chunk_bytes: u64,
    /// Tape-level problems (labels, loading).
    pub errors: Vec<String>,
    /// The check failed and the tape was marked `damaged` in the catalog
    /// by this verification (false when it already was damaged or retired).
    pub marked_damaged: bool,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub media_sets: Vec<Uuid>,
    pub tapes: Vec<TapeCheck>,
    /// True when every tape was read and nothing was damaged.
    pub ok: bool,
}

/// Verifies the selected media sets; see the module documentation. Keys
/// of encrypted sets come from the default key store (keys without a
/// passphrase); [`verify_with_keys`] names where.
pub fn verify<D: TapeDevices>(
    devices: D,
    catalog: &Catalog,
    selection: &VerifySelection,
    events: &mut dyn WriterEvents,
) -> Result<VerifyReport, VerifyError> {
    verify_with_keys(devices, catalog, selection, &KeyAccess::default(), events)
}

/// [`verify`], the keys of encrypted media sets opened through `keys`: each
/// tape's set key is loaded into the drive after its labels are read; a
/// missing key stops the verification before any data is read.
pub fn verify_with_keys<D: TapeDevices>(
    mut devices: D,
    catalog: &Catalog,
    selection: &VerifySelection,
    keys: &KeyAccess,
    events: &mut dyn WriterEvents,
) -> Result<VerifyReport, VerifyError> {
    let mut keys = ReadKeys::new(keys.clone());
    let sets: Vec<Uuid> = match selection {
        VerifySelection::MediaSet(uuid) => {
            catalog
                .media_set(*uuid)?
                .ok_or(VerifyError::UnknownMediaSet(*uuid))?;
            vec![*uuid]
        }
        VerifySelection::Pool(pool) => {
            crate::pool::get_pool(catalog, pool)
                .map_err(|_| VerifyError::EmptyPool(pool.clone()))?;
            let sets: Vec<Uuid> = catalog
                .media_sets(Some(pool))?
                .iter()
                .map(|s| s.uuid)
                .collect();
            if sets.is_empty() {
                return Err(VerifyError::EmptyPool(pool.clone()));
            }
            sets
        }
        VerifySelection::All => {
            let sets: Vec<Uuid> = catalog.media_sets(None)?.iter().map(|s| s.uuid).collect();
            if sets.is_empty() {
                return Err(VerifyError::Nothing);
            }
            sets
        }
    };
    let online = devices.online_labels()?;
    let mut tapes = Vec::new();
    for set in &sets {
        // Registered as read: no backup reuses the set's tapes meanwhile
        // (a set forgotten just before has no tapes left to check).
        let _reading = crate::lock::SetReadLock::acquire(catalog.path(), *set)
            .map_err(|e| VerifyError::Lock(Box::new(e)))?;
        for media in catalog.media_of_set(*set)? {
            let mut check = TapeCheck {
                label: media.label.clone(),
                media: media.uuid,
                media_set: media.media_set,
                seq_nr: media.seq_nr,
                state: TapeState::Ok,
                archives: Vec::new(),
                chunks: 0,
                chunk_bytes: 0,
                errors: Vec::new(),
                marked_damaged: false,
            };
            if !online.contains(&media.label) {
                check.state = TapeState::Offline;
                check.errors.push("not online: not verified".into());
            } else {
                events.tape(&media.label, media.seq_nr.unwrap_or(0));
                verify_tape(&mut devices, catalog, &media, &mut check, &mut keys, events)?;
                if !check.errors.is_empty() || check.archives.iter().any(|a| a.error.is_some()) {
                    check.state = TapeState::Damaged;
                    let drive = devices.drive_name();
                    check.marked_damaged = mark_damaged(catalog, &media, &check, &drive, events)?;
                }
            }
            tapes.push(check);
        }
    }
    let ok = tapes.iter().all(|t| t.state == TapeState::Ok);
    Ok(VerifyReport {
        media_sets: sets,
        tapes,
        ok,
    })
}

/// A tape that failed its check is marked `damaged`: no job writes to it
/// again and its chunks no longer count for deduplication (the next backup
/// writes them again). Returns whether the status changed.
fn mark_damaged(
    catalog: &Catalog,
    media: &MediaRecord,
    check: &TapeCheck,
    drive: &str,
    events: &mut dyn WriterEvents,
) -> Result<bool, VerifyError> {
    if matches!(media.status, MediaStatus::Damaged | MediaStatus::Retired) {
        return Ok(false);
    }
    catalog.set_media_status(media.uuid, MediaStatus::Damaged)?;
    let first_problem = check.errors.first().cloned().or_else(|| {
        check.archives.iter().find_map(|a| {
            a.error
                .as_ref()
                .map(|e| format!("file {} ({}): {e}", a.file_number, a.content))
        })
    });
    events.tape_damaged(&crate::notify::TapeDamaged {
        label: media.label.clone(),
        reason: format!(
            "failed verification (was {}){}",
            media.status,
            first_problem.map(|p| format!(": {p}")).unwrap_or_default()
        ),
        drive: Some(drive.to_string()),
        job: None,
    });
    Ok(true)
}

/// Loads one tape and checks its labels and every catalogued archive.
fn verify_tape<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    media: &MediaRecord,
    check: &mut TapeCheck,
    keys: &mut ReadKeys,
    events: &mut dyn WriterEvents,
) -> Result<(), VerifyError> {
    let label = &media.label;
    let mut tape = match load_checked(devices, media) {
        Ok(t) => t,
        Err(e @ (TapeAccessError::WrongMedia { .. } | TapeAccessError::Format { .. })) => {
            check.errors.push(e.to_string());
            return Ok(());
        }
        Err(TapeAccessError::Device { source, .. }) => return Err((*source).into()),
        Err(TapeAccessError::Key(e)) => return Err(VerifyError::Key(e)),
    };
    match read_media_set_label(&mut tape) {
        Ok(Some(l)) if Some(l.uuid) == media.media_set => {
            // The set's key before its data (a missing key stops here).
            if let Err(e) = keys.prepare(&mut tape, label, &l) {
                let _ = unload_read(devices, tape, label, keys);
                return Err(e.into());
            }
        }
        Ok(other) => check.errors.push(format!(
            "media set label names {}, the catalog expects {:?}",
            other.map_or("no media set".into(), |l| l.uuid.to_string()),
            media.media_set
        )),
        Err(e) => check.errors.push(format!("media set label: {e}")),
    }
    for archive in catalog.archives_of_media(media.uuid)? {
        let mut result = ArchiveCheck {
            file_number: archive.file_number,
            content: archive.content,
            uuid: archive.uuid,
            entries: 0,
            error: None,
        };
        match check_archive(&mut tape, label, catalog, &archive, &mut result, check) {
            Ok(()) => {}
            Err(message) => {
                events.note(&format!("{label} file {}: {message}", archive.file_number));
                result.error = Some(message);
            }
        }
        check.archives.push(result);
    }
    match unload_read(devices, tape, label, keys) {
        Ok(()) => Ok(()),
        Err(TapeAccessError::Device { source, .. }) => Err((*source).into()),
        Err(TapeAccessError::Key(e)) => Err(VerifyError::Key(e)),
        Err(e) => {
            check.errors.push(e.to_string());
            Ok(())
        }
    }
}

/// Reads one archive completely and compares it with its catalog rows.
fn check_archive<T: pbs_tape::format::TapeRead + crate::devices::TapeMotion>(
    tape: &mut T,
    label: &str,
    catalog: &Catalog,
    archive: &catalog::ArchiveRecord,
    result: &mut ArchiveCheck,
    check: &mut TapeCheck,
) -> Result<(), String> {
    locate(tape, label, archive.file_number).map_err(|e| e.to_string())?;
    let file = match scan_tape(tape, archive.file_number).next() {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("end of data where the catalog records an archive".into()),
    };
    if file.header.uuid != archive.uuid {
        return Err(format!(
            "archive UUID {} on tape, the catalog records {}",
            file.header.uuid, archive.uuid
        ));
    }
    match (file.content, archive.content) {
        (
            ScannedContent::ChunkArchive {
                digests,
                chunk_bytes,
                continues_on_next_tape,
                ..
            },
            catalog::ContentType::Chunks,
        ) => {
            result.entries = digests.len() as u64;
            let listed = catalog
                .chunks_of_archive(archive.media, archive.file_number)
                .map_err(|e| e.to_string())?;
            if listed != digests {
                let first_diff = listed
                    .iter()
                    .zip(&digests)
                    .position(|(a, b)| a != b)
                    .unwrap_or(listed.len().min(digests.len()));
                return Err(format!(
                    "the tape holds {} chunks, the catalog lists {}; first difference at entry {first_diff}{}",
                    digests.len(),
                    listed.len(),
                    digests
                        .get(first_diff)
                        .map(|d| format!(" (tape: {})", digest_to_hex(d)))
                        .unwrap_or_default()
                ));
            }
            if continues_on_next_tape == archive.complete {
                return Err(format!(
                    "the archive {} on the next tape, the catalog says it {}",
                    if continues_on_next_tape {
                        "continues"
                    } else {
                        "ends"
                    },
                    if archive.complete {
                        "ends here"
                    } else {
                        "continues"
                    }
                ));
            }
            // Counted only once the archive matched its catalog rows.
            check.chunks += digests.len() as u64;
            check.chunk_bytes += chunk_bytes;
        }
        (ScannedContent::SnapshotArchive(s), catalog::ContentType::Snapshot) => {
            SnapshotIndex::read(&s.manifest[..])
                .map_err(|e| format!("snapshot {}: {e}", s.snapshot))?;
            result.entries = 1;
        }
        (ScannedContent::CatalogArchive(c), catalog::ContentType::Catalog) => {
            TapeCatalog::decode(&c.data).map_err(|e| format!("catalog archive: {e}"))?;
            result.entries = 1;
        }
        (_, expected) => {
            return Err(format!(
                "the tape holds a {}, the catalog records {expected} content",
                file.header.content_type
            ))
        }
    }
    Ok(())
}
