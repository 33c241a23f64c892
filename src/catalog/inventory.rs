//! Catalog queries for pools, media and media sets.

use rusqlite::{params, OptionalExtension, Row};
use uuid::Uuid;

use super::model::*;
use super::{parse_text, parse_uuid, Catalog, CatalogError};

const MEDIA_COLUMNS: &str =
    "uuid, label, pool, media_set, seq_nr, status, location, location_name, bytes_used, labelled";

const SET_COLUMNS: &str = "uuid, pool, created, status, closed, last_write, encryption_key";

const POOL_COLUMNS: &str = "name, allocation, retention, template, comment, encrypt, created";

fn media_from_row(row: &Row<'_>) -> rusqlite::Result<Result<MediaRecord, CatalogError>> {
    let uuid: String = row.get(0)?;
    let label: String = row.get(1)?;
    let pool: Option<String> = row.get(2)?;
    let set: Option<String> = row.get(3)?;
    let seq_nr: Option<u32> = row.get(4)?;
    let status: String = row.get(5)?;
    let location: String = row.get(6)?;
    let location_name: Option<String> = row.get(7)?;
    let bytes_used: i64 = row.get(8)?;
    let labelled: i64 = row.get(9)?;
    Ok((|| {
        Ok(MediaRecord {
            uuid: parse_uuid(&uuid)?,
            label,
            pool,
            media_set: set.as_deref().map(parse_uuid).transpose()?,
            seq_nr,
            status: parse_text(&status)?,
            location: parse_text(&location)?,
            location_name,
            bytes_used: bytes_used as u64,
            labelled,
        })
    })())
}

fn set_from_row(row: &Row<'_>) -> rusqlite::Result<Result<MediaSetRecord, CatalogError>> {
    let uuid: String = row.get(0)?;
    let pool: String = row.get(1)?;
    let created: i64 = row.get(2)?;
    let status: String = row.get(3)?;
    let closed: Option<i64> = row.get(4)?;
    let last_write: Option<i64> = row.get(5)?;
    let encrypt: Option<String> = row.get(6)?;
    Ok((|| {
        let status = parse_text(&status)?;
        // A set closed without a recorded time (by an older ptape, or by
        // hand) counts as closed since its start.
        let closed = match status {
            MediaSetStatus::Closed => closed.or(Some(created)),
            MediaSetStatus::Writable => closed,
        };
        Ok(MediaSetRecord {
            uuid: parse_uuid(&uuid)?,
            pool,
            created,
            status,
            closed,
            last_write,
            encrypt,
        })
    })())
}

fn pool_from_row(row: &Row<'_>) -> rusqlite::Result<Result<PoolRecord, CatalogError>> {
    let name: String = row.get(0)?;
    let allocation: String = row.get(1)?;
    let retention: String = row.get(2)?;
    let template: Option<String> = row.get(3)?;
    let comment: Option<String> = row.get(4)?;
    let encrypt: Option<String> = row.get(5)?;
    let created: i64 = row.get(6)?;
    let policy = |e: PolicyError| CatalogError::Corrupt(format!("pool {name:?}: {e}"));
    Ok((|| {
        Ok(PoolRecord {
            allocation: allocation.parse().map_err(policy)?,
            retention: retention.parse().map_err(policy)?,
            name: name.clone(),
            template,
            comment,
            encrypt,
            created,
        })
    })())
}

/// Collects `query_map` results whose rows convert fallibly.
fn collect<T>(
    rows: impl Iterator<Item = rusqlite::Result<Result<T, CatalogError>>>,
) -> Result<Vec<T>, CatalogError> {
    rows.map(|r| r?).collect()
}

impl Catalog {
    /// Inserts a pool.
    pub fn insert_pool(&self, pool: &PoolRecord) -> Result<(), CatalogError> {
        if self.pool(&pool.name)?.is_some() {
            return Err(CatalogError::PoolExists(pool.name.clone()));
        }
        self.conn.execute(
            &format!("INSERT INTO pools ({POOL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                pool.name,
                pool.allocation.to_string(),
                pool.retention.to_string(),
                pool.template,
                pool.comment,
                pool.encrypt,
                pool.created
            ],
        )?;
        Ok(())
    }

    /// Replaces a pool's settings (everything but its name and creation time).
    pub fn update_pool(&self, pool: &PoolRecord) -> Result<(), CatalogError> {
        let n = self.conn.execute(
            "UPDATE pools SET allocation = ?2, retention = ?3, template = ?4, comment = ?5,
                 encrypt = ?6 WHERE name = ?1",
            params![
                pool.name,
                pool.allocation.to_string(),
                pool.retention.to_string(),
                pool.template,
                pool.comment,
                pool.encrypt
            ],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownPool(pool.name.clone()));
        }
        Ok(())
    }

    /// Removes a pool and its media sets, which must have no tapes any more
    /// (the caller checks and explains; the database refuses otherwise).
    pub fn delete_pool_with_empty_sets(&self, name: &str) -> Result<(), CatalogError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM media_sets WHERE pool = ?1", [name])?;
        let n = tx.execute("DELETE FROM pools WHERE name = ?1", [name])?;
        if n == 0 {
            return Err(CatalogError::UnknownPool(name.to_string()));
        }
        tx.commit()?;
        Ok(())
    }

    /// The pool with this name.
    pub fn pool(&self, name: &str) -> Result<Option<PoolRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {POOL_COLUMNS} FROM pools WHERE name = ?1"),
                [name],
                pool_from_row,
            )
            .optional()?
            .transpose()
    }

    /// All pools by name.
    pub fn pools(&self) -> Result<Vec<PoolRecord>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {POOL_COLUMNS} FROM pools ORDER BY name"))?;
        let rows = stmt.query_map([], pool_from_row)?;
        collect(rows)
    }

    /// Records a newly labelled tape.
    pub fn insert_media(&self, media: &MediaRecord) -> Result<(), CatalogError> {
        if self.media_by_label(&media.label)?.is_some() {
            return Err(CatalogError::MediaExists(media.label.clone()));
        }
        if let Some(pool) = &media.pool {
            if self.pool(pool)?.is_none() {
                return Err(CatalogError::UnknownPool(pool.clone()));
            }
        }
        self.conn.execute(
            &format!(
                "INSERT INTO media ({MEDIA_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                media.uuid.to_string(),
                media.label,
                media.pool,
                media.media_set.map(|u| u.to_string()),
                media.seq_nr,
                media.status.as_str(),
                media.location.as_str(),
                media.location_name,
                media.bytes_used as i64,
                media.labelled
            ],
        )?;
        Ok(())
    }

    /// Forgets a tape before it is relabelled or destroyed: in ONE
    /// transaction, its media set is forgotten as a whole
    /// ([`Catalog::forget_media_set`]: every snapshot that depends on any of
    /// its tapes, every archive and chunk row of them) and the tape's row is
    /// removed. Call it before anything is written to the tape: a crash in
    /// between leaves a tape the catalog no longer trusts, never rows that
    /// point at overwritten data.
    pub fn delete_media(&self, uuid: Uuid) -> Result<(), CatalogError> {
        let tx = self.conn.unchecked_transaction()?;
        let set: Option<String> = tx
            .query_row(
                "SELECT media_set FROM media WHERE uuid = ?1",
                [uuid.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(set) = set {
            forget_set(&tx, &set)?;
        }
        forget_contents(&tx, uuid)?;
        tx.execute("DELETE FROM media WHERE uuid = ?1", [uuid.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a media set as a whole, in ONE transaction, before one of
    /// its tapes is overwritten: every snapshot of the set, every archive
    /// and chunk row of its tapes; the tapes stay labelled but leave the
    /// set (free; full ones writable again, damaged and retired ones stay
    /// so); the set's row is replaced by a
    /// row in `forgotten_media_sets` (so a tape still carrying its media
    /// set label is known to hold nothing the catalog counts on). Returns
    /// the labels of the tapes that left the set.
    pub fn forget_media_set(&self, set: Uuid) -> Result<Vec<String>, CatalogError> {
        let tx = self.conn.unchecked_transaction()?;
        let labels = forget_set(&tx, &set.to_string())?;
        tx.commit()?;
        Ok(labels)
    }

    /// True when this media set was forgotten ([`Catalog::forget_media_set`]).
    pub fn is_forgotten_media_set(&self, set: Uuid) -> Result<bool, CatalogError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM forgotten_media_sets WHERE uuid = ?1)",
            [set.to_string()],
            |r| r.get(0),
        )?)
    }

    /// The tape with this label (barcode).
    pub fn media_by_label(&self, label: &str) -> Result<Option<MediaRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {MEDIA_COLUMNS} FROM media WHERE label = ?1"),
                [label],
                media_from_row,
            )
            .optional()?
            .transpose()
    }

    /// The tape with this UUID.
    pub fn media_by_uuid(&self, uuid: Uuid) -> Result<Option<MediaRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {MEDIA_COLUMNS} FROM media WHERE uuid = ?1"),
                [uuid.to_string()],
                media_from_row,
            )
            .optional()?
            .transpose()
    }

    /// All tapes, by label.
    pub fn media_list(&self) -> Result<Vec<MediaRecord>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {MEDIA_COLUMNS} FROM media ORDER BY label"))?;
        let rows = stmt.query_map([], media_from_row)?;
        collect(rows)
    }

    /// The tapes of a media set, by sequence number.
    pub fn media_of_set(&self, set: Uuid) -> Result<Vec<MediaRecord>, CatalogError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {MEDIA_COLUMNS} FROM media WHERE media_set = ?1 ORDER BY seq_nr"
        ))?;
        let rows = stmt.query_map([set.to_string()], media_from_row)?;
        collect(rows)
    }

    /// Marks every writable tape of media set `set` but its last one (by
    /// sequence number) full: a job moves to the next tape of a set only
    /// when the one before is finished. Returns the labels marked.
    pub fn mark_earlier_members_full(&self, set: Uuid) -> Result<Vec<String>, CatalogError> {
        let mut stmt = self.conn.prepare(
            "UPDATE media SET status = 'full'
             WHERE media_set = ?1 AND status = 'writable'
               AND seq_nr < (SELECT max(seq_nr) FROM media WHERE media_set = ?1)
             RETURNING label",
        )?;
        let rows = stmt.query_map([set.to_string()], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets a tape's status.
    pub fn set_media_status(&self, uuid: Uuid, status: MediaStatus) -> Result<(), CatalogError> {
        let n = self.conn.execute(
            "UPDATE media SET status = ?2 WHERE uuid = ?1",
            params![uuid.to_string(), status.as_str()],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownMedia(uuid.to_string()));
        }
        Ok(())
    }

    /// Sets a tape's location: `name` is the changer of an online tape,
    /// the vault of a vaulted one (ignored for offline).
    pub fn set_media_location(
        &self,
        uuid: Uuid,
        location: MediaLocation,
        name: Option<&str>,
    ) -> Result<(), CatalogError> {
        let name = match location {
            MediaLocation::Offline => None,
            _ => name,
        };
        let n = self.conn.execute(
            "UPDATE media SET location = ?2, location_name = ?3 WHERE uuid = ?1",
            params![uuid.to_string(), location.as_str(), name],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownMedia(uuid.to_string()));
        }
        Ok(())
    }

    /// Brings locations up to date from what changer `changer` holds now
    /// (`online`: the labels in its drives and storage slots): those tapes
    /// are online in it (even when they were recorded in a vault: they are
    /// back); tapes recorded online in it but not seen are offline. Tapes
    /// online in other changers and vaulted tapes not seen are unchanged.
    /// Returns the labels whose location changed.
    pub fn sync_media_locations(
        &self,
        changer: &str,
        online: &[String],
    ) -> Result<Vec<String>, CatalogError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut changed = Vec::new();
        for media in self.media_list()? {
            let present = online.contains(&media.label);
            let in_this_changer = media.location == MediaLocation::Online
                && media.location_name.as_deref().is_none_or(|n| n == changer);
            let (location, name) = match (present, in_this_changer) {
                (true, _) => (MediaLocation::Online, Some(changer)),
                (false, true) => (MediaLocation::Offline, None),
                (false, false) => continue,
            };
            if location != media.location || name != media.location_name.as_deref() {
                tx.execute(
                    "UPDATE media SET location = ?2, location_name = ?3 WHERE uuid = ?1",
                    params![media.uuid.to_string(), location.as_str(), name],
                )?;
                changed.push(media.label);
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Marks tapes recorded online in `changer` offline (the changer is
    /// gone from the configuration). Returns their labels.
    pub fn forget_changer_locations(&self, changer: &str) -> Result<Vec<String>, CatalogError> {
        let mut labels = Vec::new();
        for media in self.media_list()? {
            if media.location == MediaLocation::Online
                && media.location_name.as_deref() == Some(changer)
            {
                self.set_media_location(media.uuid, MediaLocation::Offline, None)?;
                labels.push(media.label);
            }
        }
        Ok(labels)
    }

    /// Records that a tape joined a media set at position `seq_nr` (after
    /// its media set label was written and flushed).
    pub fn assign_media_to_set(
        &self,
        media: Uuid,
        set: &MediaSetRecord,
        seq_nr: u32,
    ) -> Result<(), CatalogError> {
        let n = self.conn.execute(
            "UPDATE media SET pool = ?2, media_set = ?3, seq_nr = ?4, status = 'writable', bytes_used = 0
             WHERE uuid = ?1",
            params![media.to_string(), set.pool, set.uuid.to_string(), seq_nr],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownMedia(media.to_string()));
        }
        Ok(())
    }

    /// Inserts a media set.
    pub fn insert_media_set(&self, set: &MediaSetRecord) -> Result<(), CatalogError> {
        if self.pool(&set.pool)?.is_none() {
            return Err(CatalogError::UnknownPool(set.pool.clone()));
        }
        self.conn.execute(
            &format!(
                "INSERT OR IGNORE INTO media_sets ({SET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                set.uuid.to_string(),
                set.pool,
                set.created,
                set.status.as_str(),
                set.closed,
                set.last_write,
                set.encrypt
            ],
        )?;
        Ok(())
    }

    /// The media set with this UUID.
    pub fn media_set(&self, uuid: Uuid) -> Result<Option<MediaSetRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {SET_COLUMNS} FROM media_sets WHERE uuid = ?1"),
                [uuid.to_string()],
                set_from_row,
            )
            .optional()?
            .transpose()
    }

    /// The media sets of a pool (all pools when `None`), oldest first.
    pub fn media_sets(&self, pool: Option<&str>) -> Result<Vec<MediaSetRecord>, CatalogError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SET_COLUMNS} FROM media_sets
             WHERE ?1 IS NULL OR pool = ?1 ORDER BY created, rowid"
        ))?;
        let rows = stmt.query_map([pool], set_from_row)?;
        collect(rows)
    }

    /// The pool's writable media set, if any (the newest one).
    pub fn writable_media_set(&self, pool: &str) -> Result<Option<MediaSetRecord>, CatalogError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {SET_COLUMNS} FROM media_sets
                     WHERE pool = ?1 AND status = 'writable' ORDER BY created DESC, rowid DESC LIMIT 1"
                ),
                [pool],
                set_from_row,
            )
            .optional()?
            .transpose()
    }

    /// Closes a media set at `time` (seconds since the epoch): no further
    /// backups are appended to it, its writable tapes become full.
    /// Closing a closed set keeps its first close time.
    pub fn close_media_set(&self, uuid: Uuid, time: i64) -> Result<(), CatalogError> {
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "UPDATE media_sets SET status = 'closed', closed = coalesce(closed, ?2) WHERE uuid = ?1",
            params![uuid.to_string(), time],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownMediaSet(uuid));
        }
        tx.execute(
            "UPDATE media SET status = 'full' WHERE media_set = ?1 AND status = 'writable'",
            [uuid.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records that an archive was committed to the set at `time`.
    pub fn record_media_set_write(&self, uuid: Uuid, time: i64) -> Result<(), CatalogError> {
        self.conn.execute(
            "UPDATE media_sets SET last_write = max(coalesce(last_write, ?2), ?2) WHERE uuid = ?1",
            params![uuid.to_string(), time],
        )?;
        Ok(())
    }

    /// How many tapes, media sets and snapshots refer to a pool.
    pub fn pool_usage(&self, pool: &str) -> Result<PoolUsage, CatalogError> {
        let count = |sql: &str| -> Result<u64, CatalogError> {
            let n: i64 = self.conn.query_row(sql, [pool], |r| r.get(0))?;
            Ok(n as u64)
        };
        Ok(PoolUsage {
            media: count("SELECT count(*) FROM media WHERE pool = ?1")?,
            media_sets: count("SELECT count(*) FROM media_sets WHERE pool = ?1")?,
            snapshots: count("SELECT count(*) FROM snapshots WHERE pool = ?1")?,
        })
    }
}

/// What refers to a pool ([`Catalog::pool_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PoolUsage {
    pub media: u64,
    pub media_sets: u64,
    pub snapshots: u64,
}

/// The body of [`Catalog::forget_media_set`], inside an open transaction.
fn forget_set(tx: &rusqlite::Transaction<'_>, set: &str) -> Result<Vec<String>, CatalogError> {
    let mut labels = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT uuid, label FROM media WHERE media_set = ?1")?;
        let rows = stmt.query_map([set], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (uuid, label) = row?;
            forget_contents(tx, parse_uuid(&uuid)?)?;
            labels.push(label);
        }
    }
    tx.execute("DELETE FROM snapshots WHERE media_set = ?1", [set])?;
    tx.execute(
        "UPDATE media SET media_set = NULL, seq_nr = NULL, bytes_used = 0,
             status = CASE status WHEN 'full' THEN 'writable' ELSE status END
         WHERE media_set = ?1",
        [set],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO forgotten_media_sets (uuid, pool, created, forgotten)
         SELECT uuid, pool, created, ?2 FROM media_sets WHERE uuid = ?1",
        params![set, super::now_epoch()],
    )?;
    tx.execute("DELETE FROM media_sets WHERE uuid = ?1", [set])?;
    Ok(labels)
}

fn forget_contents(tx: &rusqlite::Transaction<'_>, uuid: Uuid) -> Result<(), CatalogError> {
    let id = uuid.to_string();
    tx.execute("DELETE FROM snapshots WHERE media = ?1", [&id])?;
    tx.execute("DELETE FROM chunks WHERE media = ?1", [&id])?;
    tx.execute("DELETE FROM archives WHERE media = ?1", [&id])?;
    Ok(())
}
