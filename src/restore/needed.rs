//! Which tapes a restore needs, and where they are (`ptape restore
//! --list-media SNAPSHOT`), from the catalog alone: no tape is read.
//!
//! With the snapshot's index in the local file index, the list is exact:
//! the tape holding the snapshot archive and every tape holding a chunk
//! the snapshot refers to (the first copy in set order, as the catalog
//! records it). Without it, every tape of the media set up to the one
//! holding the snapshot archive (a snapshot refers only to chunks written
//! before it), marked as not exact.

use std::collections::{BTreeMap, HashSet};

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::RestoreError;
use crate::catalog::{Catalog, CatalogError, MediaLocation, MediaRecord, MediaStatus};
use crate::chunking::Digest;

/// One tape a restore needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeededTape {
    pub label: String,
    pub seq_nr: Option<u32>,
    pub status: MediaStatus,
    pub location: MediaLocation,
    /// The changer (online) or vault the tape is in.
    pub location_name: Option<String>,
    /// True for the tape holding the snapshot archive (read first).
    pub snapshot_archive: bool,
    /// Chunks of the snapshot read from it (`None`: not known, the list
    /// is not exact).
    pub chunks: Option<u64>,
}

/// The tapes a restore of one snapshot needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeededMedia {
    pub snapshot: String,
    pub media_set: Uuid,
    /// False when the snapshot's index is not in the local file index:
    /// the list then holds every tape that may be needed.
    pub exact: bool,
    pub tapes: Vec<NeededTape>,
    /// Labels of the needed tapes that are not online.
    pub offline: Vec<String>,
}

/// See the module documentation.
pub fn media_needed(catalog: &Catalog, snapshot: &str) -> Result<NeededMedia, RestoreError> {
    let snap = catalog
        .snapshot(snapshot)?
        .ok_or_else(|| RestoreError::UnknownSnapshot(snapshot.to_string()))?;
    let members = catalog.media_of_set(snap.media_set)?;
    let index_tape = members
        .iter()
        .find(|m| m.uuid == snap.media)
        .ok_or(RestoreError::UnknownMedia(snap.media))?
        .clone();
    let index = catalog
        .file_index()
        .filter(|fi| fi.has(snap.archive))
        .and_then(|fi| fi.snapshot(snap.archive).ok());
    let mut chunks: BTreeMap<Uuid, u64> = BTreeMap::new();
    let exact = match &index {
        Some(index) => {
            let needed: HashSet<Digest> = index.unique_digests().into_iter().collect();
            let mut stmt = catalog.connection().prepare(
                "SELECT c.digest, c.media FROM chunks c JOIN media m ON m.uuid = c.media
                 WHERE m.media_set = ?1 ORDER BY m.seq_nr, c.file_number",
            )?;
            let mut rows = stmt.query(params![snap.media_set.to_string()])?;
            let mut seen = HashSet::new();
            while let Some(row) = rows.next()? {
                let blob: Vec<u8> = row.get(0)?;
                let Ok(digest) = <Digest>::try_from(blob.as_slice()) else {
                    return Err(CatalogError::Corrupt(format!(
                        "chunk digest of {} bytes",
                        blob.len()
                    ))
                    .into());
                };
                if !needed.contains(&digest) || !seen.insert(digest) {
                    continue;
                }
                let media: String = row.get(1)?;
                let media = Uuid::parse_str(&media)
                    .map_err(|e| CatalogError::Corrupt(format!("media UUID {media:?}: {e}")))?;
                *chunks.entry(media).or_default() += 1;
            }
            true
        }
        None => false,
    };
    let wanted = |m: &MediaRecord| {
        m.uuid == snap.media
            || if exact {
                chunks.contains_key(&m.uuid)
            } else {
                m.seq_nr <= index_tape.seq_nr
            }
    };
    let tapes: Vec<NeededTape> = members
        .iter()
        .filter(|m| wanted(m))
        .map(|m| NeededTape {
            label: m.label.clone(),
            seq_nr: m.seq_nr,
            status: m.status,
            location: m.location,
            location_name: m.location_name.clone(),
            snapshot_archive: m.uuid == snap.media,
            chunks: exact.then(|| chunks.get(&m.uuid).copied().unwrap_or(0)),
        })
        .collect();
    let offline = tapes
        .iter()
        .filter(|t| t.location != MediaLocation::Online)
        .map(|t| t.label.clone())
        .collect();
    Ok(NeededMedia {
        snapshot: snap.name,
        media_set: snap.media_set,
        exact,
        tapes,
        offline,
    })
}
