//! Reading chunks off the tapes of a media set for a restore: which tape
//! file holds each wanted chunk (from the catalog), each tape loaded once,
//! its files read in position order (LOCATE to each, never
//! rewind-and-space), every chunk verified by the format reader and handed
//! over. Where the catalog records each chunk's position in its archive
//! (catalog version 8), the reader LOCATEs to the first needed chunk and
//! again past long runs of chunks it does not need, instead of reading
//! the archive from its start; without positions (older catalogs), or
//! when the drive is not where a position says, the archive is read from
//! its start as before. A damaged archive costs only the chunks that could not be read:
//! they are reported as lost, the rest of the restore goes on.

use std::collections::{BTreeMap, HashMap, HashSet};

use crossbeam_channel::bounded;

use pbs_tape::format::{ChunkArchiveReader, EntryPosition, FormatError, TapeWrite};
use rusqlite::params;
use uuid::Uuid;

use super::RestoreError;
use crate::catalog::{entry_position, Catalog, CatalogError, MediaRecord, MediaStatus};
use crate::chunking::Digest;
use crate::devices::{TapeDevices, TapeMotion};
use crate::keys::ReadKeys;
use crate::media_request::{self, Need, RequestError, TapeRequest, WaitForTapes};
use crate::reading::{load_for_reading, locate, unload_read, TapeAccessError};
use crate::writer::WriterEvents;

/// Takes one verified chunk (digest, bytes).
pub(super) type Deliver<'d> = dyn FnMut(&Digest, &[u8]) -> Result<(), RestoreError> + 'd;

/// Takes one verified chunk read from tape (on the reading thread).
type Take<'d> = dyn FnMut(Digest, Vec<u8>) -> Result<(), RestoreError> + 'd;

/// Verified chunks queued between the reading thread and the writer.
const CHUNKS_IN_FLIGHT: usize = 2;

/// What a fetch could not do: the planned digests not read, one message
/// per damaged archive that lost needed chunks, one per damaged archive
/// whose needed chunks were all read around the damage.
pub(super) type Fetched = (HashSet<Digest>, Vec<String>, Vec<String>);

/// Which tape files to read: media -> file number -> what to read there.
#[derive(Debug, Default)]
pub(super) struct ReadPlan {
    files: BTreeMap<Uuid, BTreeMap<u64, FilePlan>>,
}

/// The chunks to read from one tape file.
#[derive(Debug, Default)]
struct FilePlan {
    /// Logical object number of the archive's first block (from the
    /// catalog's archive row).
    first_object: Option<u64>,
    /// Each needed digest and where its entry starts, when recorded.
    digests: HashMap<Digest, Option<EntryPosition>>,
}

/// The tapes of one media set, read for one restore. The tape in the
/// drive stays loaded between fetches.
pub(super) struct SetReader<'a, D: TapeDevices> {
    pub(super) devices: &'a mut D,
    pub(super) loaded: Option<(D::Tape, MediaRecord)>,
    catalog: &'a Catalog,
    set: Uuid,
    set_media: Vec<MediaRecord>,
    online: HashSet<String>,
    /// How long to wait for tapes that must be inserted.
    pub(super) wait: WaitForTapes,
    /// What is restored, for the "please insert" request.
    pub(super) reason: String,
    /// Labels of the tapes read, in order, without repeats.
    pub(super) tapes_read: Vec<String>,
    /// Chunks handed over.
    pub(super) chunks_read: u64,
    /// The key of the set, loaded into the drive after each tape's labels.
    keys: &'a mut ReadKeys,
}

impl<'a, D: TapeDevices> SetReader<'a, D> {
    /// `online`: the labels that can be loaded; `set_media`: the set's
    /// tapes; `loaded`: the tape in the drive, ready for reading.
    pub(super) fn new(
        devices: &'a mut D,
        online: Vec<String>,
        set_media: Vec<MediaRecord>,
        loaded: Option<(D::Tape, MediaRecord)>,
        catalog: &'a Catalog,
        set: Uuid,
        keys: &'a mut ReadKeys,
    ) -> Self {
        SetReader {
            set_media,
            devices,
            loaded,
            catalog,
            set,
            online: online.into_iter().collect(),
            wait: WaitForTapes::default(),
            reason: "restore".to_string(),
            tapes_read: Vec::new(),
            chunks_read: 0,
            keys,
        }
    }

    /// Finds one tape file holding each of `needed` (copies on online
    /// tapes preferred); returns the plan and the digests no tape holds.
    pub(super) fn plan(
        &self,
        needed: &HashSet<Digest>,
    ) -> Result<(ReadPlan, HashSet<Digest>), RestoreError> {
        // A copy's rank: on a healthy tape (writable or full) first, then
        // online; a damaged or retired tape is read only for chunks no
        // healthy tape holds.
        let rank: HashMap<Uuid, (bool, bool)> = self
            .set_media
            .iter()
            .map(|m| {
                let healthy = matches!(m.status, MediaStatus::Writable | MediaStatus::Full);
                (m.uuid, (healthy, self.online.contains(&m.label)))
            })
            .collect();
        let rank_of = |m: &Uuid| rank.get(m).copied().unwrap_or((false, false));
        let mut stmt = self.catalog.connection().prepare(
            "SELECT c.digest, c.media, c.file_number, c.block, c.block_offset, a.first_object
             FROM chunks c JOIN media m ON m.uuid = c.media
             LEFT JOIN archives a ON a.media = c.media AND a.file_number = c.file_number
             WHERE m.media_set = ?1 ORDER BY m.seq_nr, c.file_number",
        )?;
        let mut rows = stmt.query(params![self.set.to_string()])?;
        type Copy = (Uuid, u64, Option<EntryPosition>, Option<u64>);
        let mut chosen: HashMap<Digest, Copy> = HashMap::new();
        while let Some(row) = rows.next()? {
            let blob: Vec<u8> = row.get(0)?;
            let digest = <Digest>::try_from(blob.as_slice()).map_err(|_| {
                CatalogError::Corrupt(format!("chunk digest of {} bytes", blob.len()))
            })?;
            if !needed.contains(&digest) {
                continue;
            }
            let media: String = row.get(1)?;
            let media = Uuid::parse_str(&media)
                .map_err(|e| CatalogError::Corrupt(format!("media UUID {media:?}: {e}")))?;
            let file: i64 = row.get(2)?;
            let position = entry_position(row.get(3)?, row.get(4)?)?;
            let first_object: Option<i64> = row.get(5)?;
            let better = match chosen.get(&digest) {
                None => true,
                Some((m, ..)) => rank_of(m) < rank_of(&media),
            };
            if better {
                chosen.insert(
                    digest,
                    (media, file as u64, position, first_object.map(|o| o as u64)),
                );
            }
        }
        let mut plan = ReadPlan::default();
        for (digest, (media, file, position, first_object)) in &chosen {
            let file = plan
                .files
                .entry(*media)
                .or_default()
                .entry(*file)
                .or_default();
            file.first_object = file.first_object.or(*first_object);
            file.digests.insert(*digest, *position);
        }
        let missing = needed
            .iter()
            .filter(|d| !chosen.contains_key(*d))
            .copied()
            .collect();
        Ok((plan, missing))
    }

    /// The plan's tapes in reading order (the one in the drive first, then
    /// by position in the set). Tapes that are not online are asked for
    /// (all at once) and waited for as the restore's [`WaitForTapes`]
    /// allows; nothing is read before every one is here.
    fn tapes(
        &mut self,
        plan: &ReadPlan,
        events: &mut dyn WriterEvents,
    ) -> Result<Vec<MediaRecord>, RestoreError> {
        let mut tapes = Vec::new();
        for media in plan.files.keys() {
            let record = self
                .set_media
                .iter()
                .find(|m| m.uuid == *media)
                .ok_or(RestoreError::UnknownMedia(*media))?;
            tapes.push(record.clone());
        }
        let in_drive = self.loaded.as_ref().map(|(_, m)| m.uuid);
        tapes.sort_by_key(|m| (Some(m.uuid) != in_drive, m.seq_nr));
        let offline: Vec<String> = tapes
            .iter()
            .filter(|m| !self.online.contains(&m.label) && Some(m.uuid) != in_drive)
            .map(|m| m.label.clone())
            .collect();
        if !offline.is_empty() {
            let online = wait_for_all(
                &mut *self.devices,
                self.catalog,
                offline,
                &self.reason,
                &self.wait,
                events,
            )?;
            self.online = online.into_iter().collect();
        }
        Ok(tapes)
    }

    /// Unloads the tape in the drive, its key cleared first.
    pub(super) fn close(mut self) -> Result<(), RestoreError> {
        if let Some((tape, media)) = self.loaded.take() {
            unload_read(self.devices, tape, &media.label, self.keys)?;
        }
        Ok(())
    }

    /// Asks for the plan's tapes that are not online and waits for them
    /// (nothing is read).
    pub(super) fn check_online(
        &mut self,
        plan: &ReadPlan,
        events: &mut dyn WriterEvents,
    ) -> Result<(), RestoreError> {
        self.tapes(plan, events).map(|_| ())
    }

    /// Loads `media` (unloading another tape first) unless it is in the drive.
    fn mount(&mut self, media: &MediaRecord) -> Result<D::Tape, RestoreError> {
        match self.loaded.take() {
            Some((tape, m)) if m.uuid == media.uuid => Ok(tape),
            Some((tape, m)) => {
                unload_read(self.devices, tape, &m.label, self.keys)?;
                Ok(load_for_reading(self.devices, media, self.keys)?)
            }
            None => Ok(load_for_reading(self.devices, media, self.keys)?),
        }
    }

    /// Reads the plan's chunks and hands each one to `deliver` once.
    /// Returns the planned digests that could not be read, a message per
    /// damaged archive that lost chunks the restore needs, and one per
    /// damaged archive whose needed chunks were all read around the damage.
    pub(super) fn fetch(
        &mut self,
        plan: &ReadPlan,
        deliver: &mut Deliver<'_>,
        events: &mut dyn WriterEvents,
    ) -> Result<Fetched, RestoreError> {
        let mut lost = HashSet::new();
        let mut problems = Vec::new();
        let mut recovered = Vec::new();
        for media in self.tapes(plan, events)? {
            let mut tape = self.mount(&media)?;
            let label = media.label.clone();
            if !self.tapes_read.contains(&label) {
                events.tape(&label, media.seq_nr.unwrap_or(0));
                self.tapes_read.push(label.clone());
            }
            // The tape is read (and every chunk verified) on a thread of
            // its own while this one writes the chunks out: reading and
            // SHA-256 overlap with the restore's file writes.
            let files = &plan.files[&media.uuid];
            let (tape, outcomes, delivered) = std::thread::scope(|scope| {
                let (tx, rx) = bounded::<(Digest, Vec<u8>)>(CHUNKS_IN_FLIGHT);
                let label = label.as_str();
                let reader = scope.spawn(move || {
                    let mut outcomes = Vec::new();
                    for (&file, wanted) in files {
                        let mut left: HashSet<Digest> = wanted.digests.keys().copied().collect();
                        let read =
                            read_file(&mut tape, label, file, wanted, &mut left, &mut |d, data| {
                                tx.send((d, data)).map_err(|_| {
                                    RestoreError::Invalid(
                                        label.to_string(),
                                        "the restore stopped taking chunks".into(),
                                    )
                                })
                            });
                        let stop = read.is_err();
                        outcomes.push((read, left));
                        if stop {
                            break;
                        }
                    }
                    (tape, outcomes)
                });
                let mut delivered = Ok(());
                for (digest, data) in rx.iter() {
                    self.chunks_read += 1;
                    events.chunk(data.len() as u64, true);
                    if let Err(e) = deliver(&digest, &data) {
                        delivered = Err(e);
                        break;
                    }
                }
                drop(rx);
                match reader.join() {
                    Ok((tape, outcomes)) => (tape, outcomes, delivered),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            });
            self.loaded = Some((tape, media));
            delivered?;
            for (read, left) in outcomes {
                match read {
                    Ok(None) => {}
                    Ok(Some(problem)) => {
                        events.note(&problem);
                        if left.is_empty() {
                            recovered.push(problem);
                        } else {
                            problems.push(problem);
                        }
                    }
                    Err(e) => return Err(e),
                }
                lost.extend(left);
            }
        }
        Ok((lost, problems, recovered))
    }
}

/// Most unreadable blocks skipped in one tape file before giving up on it.
const MAX_SKIPS: u32 = 64;

/// A gap of more blocks than this between two needed chunks of one
/// archive is crossed by LOCATE; shorter gaps are read through (streaming
/// a few MiB costs less than repositioning the tape).
const READ_THROUGH_BLOCKS: u32 = 256;

/// Reads tape file `file`, delivering the digests in `left` (and removing
/// them): by position where `wanted` records them ([`read_positioned`]),
/// the rest (or all, when that fails) by reading the file from its start.
/// Damage is returned as a message, other errors (the restore's own, a
/// drive that fails to position) as errors. A block the drive cannot read
/// is skipped (LOCATE past it) and reading goes on with the next intact
/// chunk.
fn read_file<T: pbs_tape::format::TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    label: &str,
    file: u64,
    wanted: &FilePlan,
    left: &mut HashSet<Digest>,
    deliver: &mut Take<'_>,
) -> Result<Option<String>, RestoreError> {
    if let Some(first_object) = wanted.first_object {
        read_positioned(tape, first_object, wanted, left, deliver)?;
        if left.is_empty() {
            return Ok(None);
        }
    }
    read_sequential(tape, label, file, left, deliver)
}

/// Reads the chunks of `left` whose positions `wanted` records: LOCATE to
/// the archive's first object + the entry's block, read the position
/// back, open the archive at the entry and read on while the next needed
/// entry is near; LOCATE again across longer gaps. Stops quietly (the
/// caller reads the rest from the file's start) when the drive is not
/// where it was sent, a block is not the one the position names, the
/// archive is damaged there, or it ends before a recorded position: the
/// sequential reader then handles (and reports) whatever it was.
fn read_positioned<T: pbs_tape::format::TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    first_object: u64,
    wanted: &FilePlan,
    left: &mut HashSet<Digest>,
    deliver: &mut Take<'_>,
) -> Result<(), RestoreError> {
    let mut targets: Vec<(EntryPosition, Digest)> = left
        .iter()
        .filter_map(|d| wanted.digests.get(d).copied().flatten().map(|p| (p, *d)))
        .collect();
    targets.sort();
    let mut next = 0;
    while next < targets.len() {
        let (position, _) = targets[next];
        let object = first_object + u64::from(position.block);
        // A drive that cannot go there (a position the catalog got
        // wrong) or is not there afterwards: read from the file's start,
        // which reports a real drive problem itself.
        if tape.locate_object(object).is_err()
            || tape.position().map(|p| p.logical_object).ok() != Some(object)
        {
            return Ok(());
        }
        let Ok(mut reader) = ChunkArchiveReader::at_entry(tape, position) else {
            return Ok(());
        };
        loop {
            let entry = match reader.next_entry() {
                Ok(Some(entry)) => entry,
                Ok(None) | Err(_) => return Ok(()),
            };
            let Some(here) = reader.entry_position() else {
                return Ok(());
            };
            if left.remove(&entry.digest) {
                deliver(entry.digest, entry.data)?;
            }
            while next < targets.len()
                && (targets[next].0 <= here || !left.contains(&targets[next].1))
            {
                next += 1;
            }
            if next == targets.len() {
                return Ok(());
            }
            let ahead = targets[next].0.block;
            if ahead > reader.next_position().block + READ_THROUGH_BLOCKS {
                break;
            }
        }
    }
    Ok(())
}

/// Reads tape file `file` from its start for the digests in `left`; see
/// [`read_file`].
fn read_sequential<T: pbs_tape::format::TapeRead + TapeWrite + TapeMotion>(
    tape: &mut T,
    label: &str,
    file: u64,
    left: &mut HashSet<Digest>,
    deliver: &mut Take<'_>,
) -> Result<Option<String>, RestoreError> {
    locate(tape, label, file)?;
    let mut damage: Option<String> = None;
    let mut skips = 0;
    let mut resume = false;
    loop {
        let mut reader = if resume {
            ChunkArchiveReader::resume(tape)
        } else {
            match ChunkArchiveReader::new(tape) {
                Ok(r) => r,
                Err(e) => return Ok(Some(format!("tape {label} file {file}: {e}"))),
            }
        };
        let mut unreadable = false;
        while !left.is_empty() {
            match reader.next_entry_resync() {
                Ok(Some(entry)) => {
                    if left.remove(&entry.digest) {
                        deliver(entry.digest, entry.data)?;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    damage.get_or_insert(format!("tape {label} file {file}: {e}"));
                    if matches!(e, FormatError::Tape { .. }) {
                        unreadable = true;
                        break;
                    }
                    if !reader.can_resync() {
                        break;
                    }
                }
            }
        }
        drop(reader);
        if !unreadable || left.is_empty() || skips >= MAX_SKIPS {
            break;
        }
        // Past the block the drive could not read (where it stopped).
        skips += 1;
        let at = tape
            .position()
            .map_err(|e| TapeAccessError::io(label, e))?
            .logical_object;
        tape.locate_object(at + 1)
            .map_err(|e| TapeAccessError::io(label, e))?;
        resume = true;
    }
    Ok(damage.map(|d| {
        if left.is_empty() {
            format!("{d}; every chunk needed from it was read around the damage")
        } else {
            format!("{d}; {} chunks needed from it are lost", left.len())
        }
    }))
}

/// Asks for every tape of `labels` and waits for them; a restore that
/// gives up names the tapes still missing. The catalog's locations follow
/// what the changer holds afterwards.
pub(super) fn wait_for_all<D: TapeDevices + ?Sized>(
    devices: &mut D,
    catalog: &Catalog,
    labels: Vec<String>,
    reason: &str,
    wait: &WaitForTapes,
    events: &mut dyn WriterEvents,
) -> Result<Vec<String>, RestoreError> {
    let request = TapeRequest {
        labels,
        need: Need::All,
        changer: devices.changer_name(),
        drive: devices.drive_name(),
        reason: reason.to_string(),
    };
    let online =
        media_request::wait_for_tapes(devices, &request, wait, events).map_err(|e| match e {
            RequestError::NotInserted {
                missing, policy, ..
            } if !policy.waits() => RestoreError::MediaOffline { labels: missing },
            other => RestoreError::TapesNotInserted(other),
        })?;
    if let Some(changer) = &request.changer {
        catalog.sync_media_locations(changer, &online)?;
    }
    Ok(online)
}
