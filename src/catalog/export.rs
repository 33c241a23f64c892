//! The catalog archive payload: every catalog row of one tape, written to
//! the tape when it is finished or the job ends, and imported back by a
//! catalog scan when the database is lost.
//!
//! Encoding: JSON of [`TapeCatalog`], `version` [`TAPE_CATALOG_VERSION`],
//! digests as lower-case hex.

use pbs_tape::format::EntryPosition;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::archives::{insert_archive, ArchiveCommit};
use super::model::*;
use super::{Catalog, CatalogError};
use crate::chunking::ChunkDigest;

/// Version of the catalog archive payload.
pub const TAPE_CATALOG_VERSION: u32 = 1;

/// One archive with its chunk digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveExport {
    #[serde(flatten)]
    pub archive: ArchiveRecord,
    pub chunks: Vec<ChunkDigest>,
    /// Where each of `chunks` starts in the archive, `[block, offset]`
    /// (same length as `chunks`); absent when not known for every chunk.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "positions_as_pairs"
    )]
    pub positions: Vec<EntryPosition>,
}

/// Entry positions as compact `[block, offset]` pairs.
mod positions_as_pairs {
    use pbs_tape::format::EntryPosition;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(p: &[EntryPosition], s: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<[u32; 2]> = p.iter().map(|p| [p.block, p.offset]).collect();
        pairs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EntryPosition>, D::Error> {
        let pairs = Vec::<[u32; 2]>::deserialize(d)?;
        Ok(pairs
            .into_iter()
            .map(|[block, offset]| EntryPosition { block, offset })
            .collect())
    }
}

/// The catalog rows of one tape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeCatalog {
    pub version: u32,
    pub media: MediaRecord,
    pub media_set: Option<MediaSetRecord>,
    pub pool: Option<PoolRecord>,
    pub archives: Vec<ArchiveExport>,
    pub snapshots: Vec<SnapshotRecord>,
}

impl TapeCatalog {
    pub fn encode(&self) -> Result<Vec<u8>, CatalogError> {
        Ok(serde_json::to_vec(self)?)
    }

    pub fn decode(bytes: &[u8]) -> Result<TapeCatalog, CatalogError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let v: VersionOnly = serde_json::from_slice(bytes)?;
        if v.version != TAPE_CATALOG_VERSION {
            return Err(CatalogError::PayloadVersion(v.version));
        }
        Ok(serde_json::from_slice(bytes)?)
    }
}

impl Catalog {
    /// Collects the rows of one tape (identified by UUID).
    pub fn export_tape(&self, media: Uuid) -> Result<TapeCatalog, CatalogError> {
        self.export_tape_after(media, None)
    }

    /// The rows of one tape that its catalog archives do not describe yet:
    /// the archives and snapshots after its last committed catalog
    /// archive (all of them when it has none). A job's catalog archive of
    /// a tape it appended to holds these: the rows it added (and those of
    /// a failed job before it), never again what an earlier catalog
    /// archive on that tape holds.
    pub fn export_tape_new_rows(&self, media: Uuid) -> Result<TapeCatalog, CatalogError> {
        let last_catalog = self
            .archives_of_media(media)?
            .iter()
            .filter(|a| a.content == super::ContentType::Catalog)
            .map(|a| a.file_number)
            .max();
        self.export_tape_after(media, last_catalog)
    }

    /// [`Self::export_tape`] of the tape files after `after` only.
    fn export_tape_after(
        &self,
        media: Uuid,
        after: Option<u64>,
    ) -> Result<TapeCatalog, CatalogError> {
        let wanted = |file: u64| match after {
            None => true,
            Some(a) => file > a,
        };
        let record = self
            .media_by_uuid(media)?
            .ok_or_else(|| CatalogError::UnknownMedia(media.to_string()))?;
        let media_set = record
            .media_set
            .map(|s| self.media_set(s))
            .transpose()?
            .flatten();
        let pool = record
            .pool
            .as_deref()
            .map(|p| self.pool(p))
            .transpose()?
            .flatten();
        let archives = self
            .archives_of_media(media)?
            .into_iter()
            .filter(|a| wanted(a.file_number))
            .map(|archive| {
                let rows = self.chunk_positions_of_archive(media, archive.file_number)?;
                let positions = rows
                    .iter()
                    .map(|(_, p)| *p)
                    .collect::<Option<Vec<_>>>()
                    .unwrap_or_default();
                let chunks = rows.into_iter().map(|(d, _)| ChunkDigest(d)).collect();
                Ok(ArchiveExport {
                    archive,
                    chunks,
                    positions,
                })
            })
            .collect::<Result<_, CatalogError>>()?;
        let snapshots = self
            .snapshots(None)?
            .into_iter()
            .filter(|s| s.media == media && wanted(s.file_number))
            .collect();
        Ok(TapeCatalog {
            version: TAPE_CATALOG_VERSION,
            media: record,
            media_set,
            pool,
            archives,
            snapshots,
        })
    }

    /// Imports a tape's rows (from its catalog archive) in one transaction.
    /// Rows already present are kept; missing pool, media set and media
    /// rows are created. Returns the number of archives added.
    pub fn import_tape(&mut self, tape: &TapeCatalog) -> Result<usize, CatalogError> {
        let tx = self.conn.transaction()?;
        if let Some(p) = &tape.pool {
            tx.execute(
                "INSERT OR IGNORE INTO pools
                     (name, allocation, retention, template, comment, encrypt, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    p.name,
                    p.allocation.to_string(),
                    p.retention.to_string(),
                    p.template,
                    p.comment,
                    p.encrypt,
                    p.created
                ],
            )?;
        }
        if let Some(s) = &tape.media_set {
            tx.execute(
                "INSERT OR IGNORE INTO pools (name, allocation, retention, created)
                 VALUES (?1, 'continue', 'keep', ?2)",
                params![s.pool, s.created],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO media_sets
                     (uuid, pool, created, status, closed, last_write, encryption_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s.uuid.to_string(),
                    s.pool,
                    s.created,
                    s.status.as_str(),
                    s.closed,
                    s.last_write,
                    s.encrypt
                ],
            )?;
        }
        let m = &tape.media;
        let existing: Option<String> = tx
            .query_row("SELECT uuid FROM media WHERE label = ?1", [&m.label], |r| {
                r.get(0)
            })
            .ok();
        match existing {
            Some(uuid) if uuid != m.uuid.to_string() => {
                return Err(CatalogError::MediaExists(m.label.clone()));
            }
            Some(_) => {
                // A tape the archive records as finished stays finished (a
                // rescan never makes a full tape writable again).
                if m.status == MediaStatus::Full {
                    tx.execute(
                        "UPDATE media SET status = 'full'
                         WHERE uuid = ?1 AND status = 'writable' AND media_set IS ?2",
                        params![m.uuid.to_string(), m.media_set.map(|u| u.to_string())],
                    )?;
                }
            }
            None => {
                tx.execute(
                    "INSERT INTO media (uuid, label, pool, media_set, seq_nr, status, location,
                         location_name, bytes_used, labelled)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9)",
                    params![
                        m.uuid.to_string(),
                        m.label,
                        m.pool,
                        m.media_set.map(|u| u.to_string()),
                        m.seq_nr,
                        m.status.as_str(),
                        m.location.as_str(),
                        m.location_name,
                        m.labelled
                    ],
                )?;
            }
        }
        let mut added = 0;
        for a in &tape.archives {
            let present: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM archives WHERE media = ?1 AND file_number = ?2)",
                params![a.archive.media.to_string(), a.archive.file_number as i64],
                |r| r.get(0),
            )?;
            if present {
                continue;
            }
            let snapshot = tape
                .snapshots
                .iter()
                .find(|s| s.media == a.archive.media && s.file_number == a.archive.file_number)
                .cloned();
            insert_archive(
                &tx,
                &ArchiveCommit {
                    archive: a.archive.clone(),
                    chunks: a.chunks.iter().map(|c| c.0).collect(),
                    positions: a.positions.clone(),
                    snapshot,
                },
            )?;
            added += 1;
        }
        tx.commit()?;
        Ok(added)
    }
}
