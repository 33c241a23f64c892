//! Catalog queries for archives, chunk locations and snapshots.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;

use pbs_tape::format::EntryPosition;

use super::model::*;
use super::{digest_from_blob, parse_text, parse_uuid, Catalog, CatalogError};
use crate::chunking::Digest;

/// Everything recorded for one archive (one tape file) when the format
/// layer's finish barrier returned it as durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveCommit {
    pub archive: ArchiveRecord,
    /// Chunks whose entries are complete in this tape file.
    pub chunks: Vec<Digest>,
    /// Where each of `chunks` starts in the archive (same length), or
    /// empty when not known (the chunks are then read sequentially).
    pub positions: Vec<EntryPosition>,
    /// The snapshot whose index this archive holds.
    pub snapshot: Option<SnapshotRecord>,
}

const ARCHIVE_COLUMNS: &str =
    "uuid, media, file_number, content, first_object, last_object, complete, entries, bytes";

const SNAPSHOT_COLUMNS: &str =
    "name, pool, time, media_set, media, file_number, archive, entries, total_bytes";

fn archive_from_row(row: &Row<'_>) -> rusqlite::Result<Result<ArchiveRecord, CatalogError>> {
    let uuid: String = row.get(0)?;
    let media: String = row.get(1)?;
    let file_number: i64 = row.get(2)?;
    let content: String = row.get(3)?;
    let first: i64 = row.get(4)?;
    let last: i64 = row.get(5)?;
    let complete: bool = row.get(6)?;
    let entries: i64 = row.get(7)?;
    let bytes: i64 = row.get(8)?;
    Ok((|| {
        Ok(ArchiveRecord {
            uuid: parse_uuid(&uuid)?,
            media: parse_uuid(&media)?,
            file_number: file_number as u64,
            content: parse_text(&content)?,
            first_object: first as u64,
            last_object: last as u64,
            complete,
            entries: entries as u64,
            bytes: bytes as u64,
        })
    })())
}

fn snapshot_from_row(row: &Row<'_>) -> rusqlite::Result<Result<SnapshotRecord, CatalogError>> {
    let name: String = row.get(0)?;
    let pool: String = row.get(1)?;
    let time: i64 = row.get(2)?;
    let set: String = row.get(3)?;
    let media: String = row.get(4)?;
    let file_number: i64 = row.get(5)?;
    let archive: String = row.get(6)?;
    let entries: i64 = row.get(7)?;
    let total_bytes: i64 = row.get(8)?;
    Ok((|| {
        Ok(SnapshotRecord {
            name,
            pool,
            time,
            media_set: parse_uuid(&set)?,
            media: parse_uuid(&media)?,
            file_number: file_number as u64,
            archive: parse_uuid(&archive)?,
            entries: entries as u64,
            total_bytes: total_bytes as u64,
        })
    })())
}

impl Catalog {
    /// Records one durable archive: its row, its chunk locations, its
    /// snapshot and the tape's bytes used, all in ONE transaction. Call
    /// only with a record the finish barrier returned as committed.
    pub fn commit_archive(&mut self, commit: &ArchiveCommit) -> Result<(), CatalogError> {
        self.commit_archives(std::slice::from_ref(commit))
    }

    /// [`Catalog::commit_archive`] for the archives of one barrier commit,
    /// all in one transaction.
    pub fn commit_archives(&mut self, commits: &[ArchiveCommit]) -> Result<(), CatalogError> {
        let tx = self.conn.transaction()?;
        for commit in commits {
            insert_archive(&tx, commit)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The digests of every chunk stored on the healthy tapes of a media
    /// set (status `writable` or `full`), loaded once per job for the
    /// "already on tape" test. Chunks on a damaged, retired or unknown tape
    /// do not count: a job writes them again.
    pub fn media_set_digests(&self, set: Uuid) -> Result<HashSet<Digest>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "SELECT c.digest FROM chunks c JOIN media m ON m.uuid = c.media
             WHERE m.media_set = ?1 AND m.status IN ('writable', 'full')",
        )?;
        let rows = stmt.query_map([set.to_string()], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|blob| digest_from_blob(&blob?)).collect()
    }

    /// The archives of a tape, by file number.
    pub fn archives_of_media(&self, media: Uuid) -> Result<Vec<ArchiveRecord>, CatalogError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ARCHIVE_COLUMNS} FROM archives WHERE media = ?1 ORDER BY file_number"
        ))?;
        let rows = stmt.query_map([media.to_string()], archive_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// The tape parts of one archive (several when it spans tapes), in
    /// media-set order.
    pub fn archive_parts(&self, archive: Uuid) -> Result<Vec<ArchiveRecord>, CatalogError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT a.{} FROM archives a JOIN media m ON m.uuid = a.media
             WHERE a.uuid = ?1 ORDER BY m.seq_nr, a.file_number",
            ARCHIVE_COLUMNS.replace(", ", ", a.")
        ))?;
        let rows = stmt.query_map([archive.to_string()], archive_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// The chunk digests stored in one tape file.
    pub fn chunks_of_archive(
        &self,
        media: Uuid,
        file_number: u64,
    ) -> Result<Vec<Digest>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "SELECT digest FROM chunks WHERE media = ?1 AND file_number = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![media.to_string(), file_number as i64], |r| {
            r.get::<_, Vec<u8>>(0)
        })?;
        rows.map(|blob| digest_from_blob(&blob?)).collect()
    }

    /// The chunks of one tape file in tape order, each with where it
    /// starts in the archive (`None`: not recorded).
    pub fn chunk_positions_of_archive(
        &self,
        media: Uuid,
        file_number: u64,
    ) -> Result<Vec<(Digest, Option<EntryPosition>)>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "SELECT digest, block, block_offset FROM chunks
             WHERE media = ?1 AND file_number = ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![media.to_string(), file_number as i64], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (blob, block, offset) = row?;
            Ok((digest_from_blob(&blob)?, entry_position(block, offset)?))
        })
        .collect()
    }

    /// Where a chunk is stored (every copy), optionally only in one media set.
    pub fn chunk_locations(
        &self,
        digest: &Digest,
        set: Option<Uuid>,
    ) -> Result<Vec<ChunkLocation>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "SELECT c.media, c.file_number, c.archive FROM chunks c JOIN media m ON m.uuid = c.media
             WHERE c.digest = ?1 AND (?2 IS NULL OR m.media_set = ?2)
             ORDER BY m.media_set, m.seq_nr, c.file_number",
        )?;
        let rows = stmt.query_map(
            params![digest.as_slice(), set.map(|s| s.to_string())],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )?;
        rows.map(|r| {
            let (media, file_number, archive) = r?;
            Ok(ChunkLocation {
                digest: *digest,
                media: parse_uuid(&media)?,
                file_number: file_number as u64,
                archive: parse_uuid(&archive)?,
            })
        })
        .collect()
    }

    /// Snapshots, newest first, of one pool or all.
    pub fn snapshots(&self, pool: Option<&str>) -> Result<Vec<SnapshotRecord>, CatalogError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE ?1 IS NULL OR pool = ?1
             ORDER BY time DESC, name DESC"
        ))?;
        let rows = stmt.query_map([pool], snapshot_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// Remove the row of snapshot `name` in `media_set` (its archive and
    /// chunk rows stay: they describe data that is on tape). Used when a job
    /// fails after its snapshot was committed, so a failed job never lists a
    /// snapshot. Returns whether a row was removed.
    pub fn forget_snapshot(&self, name: &str, media_set: Uuid) -> Result<bool, CatalogError> {
        let removed = self.conn.execute(
            "DELETE FROM snapshots WHERE name = ?1 AND media_set = ?2",
            params![name, media_set.to_string()],
        )?;
        Ok(removed > 0)
    }

    /// The snapshot with this name (the newest copy when in several sets).
    pub fn snapshot(&self, name: &str) -> Result<Option<SnapshotRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE name = ?1
                     ORDER BY time DESC LIMIT 1"
                ),
                [name],
                snapshot_from_row,
            )
            .optional()?
            .transpose()
    }
}

/// Inserts one archive's rows inside an open transaction (shared by
/// [`Catalog::commit_archive`] and the catalog archive import).
pub(super) fn insert_archive(
    tx: &rusqlite::Transaction<'_>,
    commit: &ArchiveCommit,
) -> Result<(), CatalogError> {
    let a = &commit.archive;
    let media = a.media.to_string();
    tx.prepare_cached(&format!(
        "INSERT INTO archives ({ARCHIVE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        a.uuid.to_string(),
        media,
        a.file_number as i64,
        a.content.as_str(),
        a.first_object as i64,
        a.last_object as i64,
        a.complete,
        a.entries as i64,
        a.bytes as i64
    ])?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO chunks
                 (digest, media, file_number, seq, archive, block, block_offset)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let archive = a.uuid.to_string();
        let positions =
            (commit.positions.len() == commit.chunks.len()).then_some(&commit.positions);
        for (seq, digest) in commit.chunks.iter().enumerate() {
            let at = positions.map(|p| p[seq]);
            stmt.execute(params![
                digest.as_slice(),
                media,
                a.file_number as i64,
                seq as i64,
                archive,
                at.map(|p| i64::from(p.block)),
                at.map(|p| i64::from(p.offset)),
            ])?;
        }
    }
    if let Some(s) = &commit.snapshot {
        tx.execute(
            &format!(
                "INSERT INTO snapshots ({SNAPSHOT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                s.name,
                s.pool,
                s.time,
                s.media_set.to_string(),
                s.media.to_string(),
                s.file_number as i64,
                s.archive.to_string(),
                s.entries as i64,
                s.total_bytes as i64
            ],
        )?;
    }
    let n = tx
        .prepare_cached("UPDATE media SET bytes_used = bytes_used + ?2 WHERE uuid = ?1")?
        .execute(params![media, a.bytes as i64])?;
    if n == 0 {
        return Err(CatalogError::UnknownMedia(media));
    }
    Ok(())
}

/// An entry position from its two catalog columns (both NULL: unknown).
pub fn entry_position(
    block: Option<i64>,
    offset: Option<i64>,
) -> Result<Option<EntryPosition>, CatalogError> {
    match (block, offset) {
        (Some(block), Some(offset)) => {
            let block = u32::try_from(block)
                .map_err(|_| CatalogError::Corrupt(format!("chunk entry block {block}")))?;
            let offset = u32::try_from(offset)
                .map_err(|_| CatalogError::Corrupt(format!("chunk entry offset {offset}")))?;
            Ok(Some(EntryPosition { block, offset }))
        }
        _ => Ok(None),
    }
}
