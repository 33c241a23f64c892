//! Where the writer may write, proven from the tape itself before the
//! first write of every session on a tape.
//!
//! Every proof starts a writing session on the tape
//! ([`TapeMotion::begin_write_session`]): from then on a reset or a medium
//! change reported by the drive makes every command at the tape position
//! fail, so the job stops naming the event instead of writing at BOT or on
//! another cartridge. Then:
//!
//! - **Appending** to a tape of the media set ([`prove_append_point`]): the
//!   media label (file 0) must carry the catalog's media UUID and the media
//!   set label (file 1) the set's UUID. The tape is compared with the
//!   catalog up to end of data: every complete tape file (ended by its
//!   filemark) after the catalog's last archive is an archive the catalog
//!   does not know (a crash after the barrier but before the catalog
//!   commit, or a catalog restored from an older copy); it is read
//!   completely and imported before anything is appended. One that cannot
//!   be read stops the job (`ptape catalog scan` is needed). Only data after
//!   the last filemark (an archive a crashed job never finished) may be
//!   overwritten. A tape that ends before the catalog's last archive stops
//!   the job: data the catalog counts on is gone.
//! - **Joining** the set ([`prove_join_point`]): a labelled tape's file 1 may
//!   be overwritten only when it holds nothing the catalog counts on: no
//!   media set label, the label of a set the catalog forgot or of the
//!   expired set the caller forgets before writing, or a set label with no
//!   complete archive after it (a job that failed right after writing it).
//!   Any other set label means the catalog is older than the tape.
//! - **A blank cartridge** ([`prove_blank`]): end of data at BOT.
//!
//! Each proof ends with LOCATE to the point it found and READ POSITION
//! back: file number and logical object must be the ones expected.

use pbs_tape::format::{
    read_media_label, read_media_set_label, FormatError, MediaSetLabel, TapePosition, TapeRead,
    TapeWrite,
};
use uuid::Uuid;

use super::{format_err, tape_err, WriterError, WriterEvents};
use crate::catalog::{ArchiveCommit, Catalog, MediaRecord};
use crate::chunking::Digest;
use crate::devices::TapeMotion;
use crate::reading::peek_content_header;
use crate::scan::{self, ScanError};

/// A tape the writer may use, and what the proof found on the way.
#[derive(Debug)]
pub(super) struct AppendPoint {
    /// Where the next archive goes (the tape is positioned there).
    pub position: TapePosition,
    /// Chunks of the archives imported into the catalog on the way.
    pub imported_chunks: Vec<Digest>,
}

/// READ POSITION, as a writer error.
fn position<T: TapeWrite>(tape: &mut T, label: &str) -> Result<TapePosition, WriterError> {
    tape.position().map_err(tape_err(label))
}

/// Rewinds and checks the media label (file 0) is the catalog's tape;
/// returns the position after it (the start of file 1).
fn check_media_label<T: TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    media: &MediaRecord,
) -> Result<TapePosition, WriterError> {
    let label = &media.label;
    tape.rewind().map_err(tape_err(label))?;
    match read_media_label(tape).map_err(format_err(label))? {
        Some(l) if l.uuid == media.uuid => position(tape, label),
        other => Err(WriterError::WrongMedia {
            label: label.clone(),
            expected: media.uuid,
            found: other.map_or("no media label (blank)".into(), |l| {
                format!("{} ({})", l.uuid, l.label_text)
            }),
        }),
    }
}

/// LOCATE to the start of tape file `wanted.file_number` and READ POSITION
/// back: both numbers must be `wanted`.
fn locate_and_prove<T: TapeWrite + TapeMotion>(
    tape: &mut T,
    label: &str,
    wanted: TapePosition,
) -> Result<TapePosition, WriterError> {
    tape.locate_file(wanted.file_number)
        .map_err(tape_err(label))?;
    let found = position(tape, label)?;
    if found != wanted {
        return Err(WriterError::PositionNotProven {
            label: label.to_string(),
            wanted,
            found,
        });
    }
    Ok(found)
}

/// Proves where the next archive of media set `set` goes on `media` (see
/// the module documentation), importing the complete archives the catalog
/// does not know; leaves the tape there. `after_labels` runs once both
/// labels are checked, before anything behind them is read.
pub(super) fn prove_append_point<T: TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    catalog: &mut Catalog,
    media: &MediaRecord,
    set: Uuid,
    drive: &str,
    events: &mut dyn WriterEvents,
    after_labels: &mut dyn FnMut(&mut T, &MediaSetLabel) -> Result<(), WriterError>,
) -> Result<AppendPoint, WriterError> {
    let label = media.label.as_str();
    tape.begin_write_session();
    check_media_label(tape, media)?;
    let set_label = match read_media_set_label(tape).map_err(format_err(label))? {
        Some(l) if l.uuid == set => l,
        other => {
            return Err(WriterError::WrongMedia {
                label: label.to_string(),
                expected: set,
                found: other.map_or("no media set label".into(), |l| {
                    format!("media set {}", l.uuid)
                }),
            })
        }
    };
    let labels_end = position(tape, label)?;
    // The labels are read (unencrypted): the caller loads the set's key
    // before any archive is read or written.
    after_labels(tape, &set_label)?;
    // The catalog's idea of the end: after its last archive.
    let archives = catalog.archives_of_media(media.uuid)?;
    let mut next = match archives.last() {
        Some(a) => TapePosition {
            file_number: a.file_number + 1,
            logical_object: a.last_object + 1,
        },
        None => labels_end,
    };
    // The tape's: end of data.
    tape.move_to_eod().map_err(tape_err(label))?;
    let eod = position(tape, label)?;
    if eod.file_number < next.file_number {
        return Err(WriterError::TapeBehindCatalog {
            label: label.to_string(),
            end_of_data: eod,
            catalog_end: next,
        });
    }
    let mut imported_chunks = Vec::new();
    for file in next.file_number..eod.file_number {
        let commit = import_archive(tape, media, &set_label, file, drive)?;
        events.note(&format!(
            "tape {label}: file {file} holds a complete {} archive the catalog did not know; imported",
            commit.archive.content
        ));
        catalog.commit_archive(&commit)?;
        next = TapePosition {
            file_number: file + 1,
            logical_object: commit.archive.last_object + 1,
        };
        imported_chunks.extend(commit.chunks);
    }
    if eod.logical_object < next.logical_object {
        return Err(WriterError::PositionNotProven {
            label: label.to_string(),
            wanted: next,
            found: eod,
        });
    }
    if eod.logical_object > next.logical_object {
        events.note(&format!(
            "tape {label}: {} blocks after file {} are what a failed job left unfinished; overwritten",
            eod.logical_object - next.logical_object,
            next.file_number.saturating_sub(1)
        ));
    }
    let position = locate_and_prove(tape, label, next)?;
    Ok(AppendPoint {
        position,
        imported_chunks,
    })
}

/// Reads tape file `file` (complete: a filemark follows it) and builds its
/// catalog rows; anything that is not a readable ptape archive stops the
/// job.
fn import_archive<T: TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    media: &MediaRecord,
    set: &MediaSetLabel,
    file: u64,
    drive: &str,
) -> Result<ArchiveCommit, WriterError> {
    let label = media.label.as_str();
    let unknown = |reason: String| WriterError::UnknownArchive {
        label: label.to_string(),
        file,
        reason,
        drive: drive.to_string(),
    };
    tape.locate_file(file).map_err(tape_err(label))?;
    let header = match peek_content_header(tape) {
        Ok(Some(h)) => h,
        Ok(None) => {
            return Err(unknown(
                "end of data where a filemark said a file is".into(),
            ))
        }
        Err(e) => return Err(unknown(format!("not a ptape archive: {e}"))),
    };
    let (export, snapshot) = scan::read_archive(tape, label, file, &header, media.uuid, set)
        .map_err(|e| match e {
            ScanError::Catalog(e) => WriterError::Catalog(e),
            other => unknown(other.to_string()),
        })?;
    Ok(ArchiveCommit {
        archive: export.archive,
        chunks: export.chunks.into_iter().map(|c| c.0).collect(),
        positions: export.positions,
        snapshot,
    })
}

/// Proves that `media` (a catalogued tape that is in no media set, or in
/// the expired set `forgetting` the caller forgets before writing) may
/// take a media set label at file 1 (see the module documentation);
/// leaves the tape there.
pub(super) fn prove_join_point<T: TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    catalog: &Catalog,
    media: &MediaRecord,
    forgetting: Option<Uuid>,
    drive: &str,
) -> Result<(), WriterError> {
    let label = media.label.as_str();
    tape.begin_write_session();
    let file_1 = check_media_label(tape, media)?;
    match read_media_set_label(tape) {
        Ok(None) => {}
        Ok(Some(on_tape)) => {
            let forgotten =
                forgetting == Some(on_tape.uuid) || catalog.is_forgotten_media_set(on_tape.uuid)?;
            // A set label with no complete archive after it (a job that
            // failed right after writing it) holds nothing either.
            if !forgotten && !labels_only(tape, label)? {
                return Err(WriterError::UnknownMediaSetOnTape {
                    label: label.to_string(),
                    set: on_tape.uuid,
                    pool: on_tape.pool,
                    drive: drive.to_string(),
                });
            }
        }
        Err(e) => {
            // Unreadable: an unfinished media set label of a crashed job
            // (nothing after it) may go; a complete file may not.
            if !nothing_after(tape, label, 1)? {
                return Err(WriterError::ForeignData {
                    label: label.to_string(),
                    file: 1,
                    reason: e.to_string(),
                });
            }
        }
    }
    locate_and_prove(tape, label, file_1)?;
    Ok(())
}

/// True when no complete tape file follows file `last` (end of data is in
/// file `last + 1` at the latest: what is there was never finished).
fn nothing_after<T: TapeWrite + TapeMotion>(
    tape: &mut T,
    label: &str,
    last: u64,
) -> Result<bool, WriterError> {
    tape.move_to_eod().map_err(tape_err(label))?;
    Ok(position(tape, label)?.file_number <= last + 1)
}

/// True when the tape holds its two labels and no complete archive.
fn labels_only<T: TapeWrite + TapeMotion>(tape: &mut T, label: &str) -> Result<bool, WriterError> {
    nothing_after(tape, label, 1)
}

/// Proves a cartridge the catalog does not know is blank (end of data at
/// BOT) and leaves it at BOT. Not blank is [`WriterError::ForeignData`].
pub(super) fn prove_blank<T: TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    label: &str,
) -> Result<(), WriterError> {
    tape.begin_write_session();
    tape.rewind().map_err(tape_err(label))?;
    match read_media_label(tape) {
        Ok(None) => {}
        Ok(Some(l)) => {
            return Err(WriterError::ForeignData {
                label: label.to_string(),
                file: 0,
                reason: format!("it carries media label {} ({})", l.uuid, l.label_text),
            })
        }
        Err(e @ FormatError::Tape { .. }) => return Err(format_err(label)(e)),
        Err(e) => {
            return Err(WriterError::ForeignData {
                label: label.to_string(),
                file: 0,
                reason: e.to_string(),
            })
        }
    }
    locate_and_prove(tape, label, TapePosition::default())?;
    Ok(())
}
