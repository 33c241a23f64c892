//! Catalog schema and its migrations, tracked with `PRAGMA user_version`.
//!
//! [`MIGRATIONS`]`[i]` upgrades a database from version `i` to `i + 1`;
//! a new database runs them all. Never edit a released migration: append one.

use rusqlite::Connection;

use super::CatalogError;

/// Version 1: pools, media, media sets, archives, chunks, snapshots.
const V1: &str = "
CREATE TABLE pools (
    name            TEXT PRIMARY KEY,
    allocation      TEXT NOT NULL CHECK (allocation IN ('continue', 'always-new')),
    retention_days  INTEGER,
    created         INTEGER NOT NULL
);
INSERT INTO pools (name, allocation, retention_days, created)
    VALUES ('default', 'continue', NULL, strftime('%s', 'now'));

CREATE TABLE media_sets (
    uuid     TEXT PRIMARY KEY,
    pool     TEXT NOT NULL REFERENCES pools(name),
    created  INTEGER NOT NULL,
    status   TEXT NOT NULL CHECK (status IN ('writable', 'closed'))
);
CREATE INDEX media_sets_pool ON media_sets(pool, status);

CREATE TABLE media (
    uuid        TEXT PRIMARY KEY,
    label       TEXT NOT NULL UNIQUE,
    pool        TEXT REFERENCES pools(name),
    media_set   TEXT REFERENCES media_sets(uuid),
    seq_nr      INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('writable', 'full', 'retired', 'damaged')),
    location    TEXT NOT NULL CHECK (location IN ('online', 'offline', 'vault')),
    bytes_used  INTEGER NOT NULL DEFAULT 0,
    labelled    INTEGER NOT NULL,
    UNIQUE (media_set, seq_nr)
);

CREATE TABLE archives (
    uuid          TEXT NOT NULL,
    media         TEXT NOT NULL REFERENCES media(uuid) ON DELETE CASCADE,
    file_number   INTEGER NOT NULL,
    content       TEXT NOT NULL CHECK (content IN ('chunks', 'snapshot', 'catalog')),
    first_object  INTEGER NOT NULL,
    last_object   INTEGER NOT NULL,
    complete      INTEGER NOT NULL,
    entries       INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    PRIMARY KEY (media, file_number)
);

CREATE TABLE chunks (
    digest       BLOB NOT NULL CHECK (length(digest) = 32),
    media        TEXT NOT NULL,
    file_number  INTEGER NOT NULL,
    archive      TEXT NOT NULL,
    PRIMARY KEY (digest, media, file_number),
    FOREIGN KEY (media, file_number) REFERENCES archives(media, file_number) ON DELETE CASCADE
);

CREATE TABLE snapshots (
    name         TEXT NOT NULL,
    pool         TEXT NOT NULL,
    time         INTEGER NOT NULL,
    media_set    TEXT NOT NULL REFERENCES media_sets(uuid),
    media        TEXT NOT NULL,
    file_number  INTEGER NOT NULL,
    archive      TEXT NOT NULL,
    PRIMARY KEY (name, media_set),
    FOREIGN KEY (media, file_number) REFERENCES archives(media, file_number) ON DELETE CASCADE
);
";

/// Version 2: snapshot statistics, lookup indexes for restore and scans.
const V2: &str = "
ALTER TABLE snapshots ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN total_bytes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chunks_by_digest ON chunks(digest);
CREATE INDEX archives_by_uuid ON archives(uuid);
CREATE INDEX media_by_set ON media(media_set, seq_nr);
";

/// Version 3: chunk rows keyed by tape file instead of by digest.
///
/// Versions 1-2 stored chunk rows in three B-trees, two of them keyed first
/// by the random 32-byte digest (the primary key and `chunks_by_digest`):
/// every insert landed on a random page of each, so the insert rate
/// collapsed once they outgrew the page cache. No lookup at scale needs a
/// digest-first key: jobs load a media set's chunks at once, restore and
/// verify read by media set or tape file. The table is rebuilt as ONE
/// `WITHOUT ROWID` B-tree keyed by `(media, file_number, digest)` (the old
/// primary key's columns, so `INSERT OR IGNORE` drops the same duplicates),
/// where the rows of one commit are neighbours. `seq` orders a tape file's
/// chunks in tape order (their index in the archive; migrated rows keep
/// their old rowid, which had that order). Deleting an archive finds its
/// chunk rows through the key instead of a table scan.
const V3: &str = "
CREATE TABLE chunks_v3 (
    media        TEXT NOT NULL,
    file_number  INTEGER NOT NULL,
    digest       BLOB NOT NULL CHECK (length(digest) = 32),
    seq          INTEGER NOT NULL,
    archive      TEXT NOT NULL,
    PRIMARY KEY (media, file_number, digest),
    FOREIGN KEY (media, file_number) REFERENCES archives(media, file_number) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO chunks_v3 (media, file_number, digest, seq, archive)
    SELECT media, file_number, digest, rowid, archive FROM chunks;
DROP TABLE chunks;
ALTER TABLE chunks_v3 RENAME TO chunks;
";

/// Version 4: media sets forgotten as a whole before one of their tapes
/// was overwritten or relabelled. A tape whose media set label names one of
/// them holds nothing the catalog counts on; any other set label the
/// catalog does not know means the catalog is older than the tape, and the
/// tape is not overwritten.
const V4: &str = "
CREATE TABLE forgotten_media_sets (
    uuid       TEXT PRIMARY KEY,
    pool       TEXT NOT NULL,
    created    INTEGER NOT NULL,
    forgotten  INTEGER NOT NULL
);
";

/// Version 5: tape encryption. `pools.encrypt` is the fingerprint of the
/// key a pool's backups are encrypted with (NULL: not encrypted);
/// `media_sets.encryption_key` the fingerprint a media set was written
/// with (NULL: not encrypted).
const V5: &str = "
ALTER TABLE pools ADD COLUMN encrypt TEXT;
ALTER TABLE media_sets ADD COLUMN encryption_key TEXT;
";

/// Version 6: pools and media sets for the whole media set lifecycle.
///
/// - `pools`: `allocation` takes `continue`, `always` or a calendar event
///   (was `continue`/`always-new`), `retention` is `keep`, `overwrite` or a
///   time span (was a number of days, counted from the set's creation; a
///   pool that kept N days keeps `Nd`, now counted from the set's close);
///   the media set name `template`, a `comment` (the key fingerprint
///   `encrypt` of version 5 is kept). The table is rebuilt (its CHECK
///   changes).
/// - `media_sets`: `closed` (when it stopped being written: retention
///   counts from there; sets closed before this version count from their
///   creation, as they did), `last_write`.
/// - `media`: status `unknown` (a label of a media set the catalog does
///   not know), `location_name` (the changer of an online tape, the vault
///   of a vaulted one). Rebuilt for the CHECK.
const V6: &str = "
CREATE TABLE pools_v4 (
    name        TEXT PRIMARY KEY,
    allocation  TEXT NOT NULL,
    retention   TEXT NOT NULL,
    template    TEXT,
    comment     TEXT,
    encrypt     TEXT,
    created     INTEGER NOT NULL
);
INSERT INTO pools_v4 (name, allocation, retention, encrypt, created)
    SELECT name,
           CASE allocation WHEN 'always-new' THEN 'always' ELSE allocation END,
           CASE WHEN retention_days IS NULL THEN 'keep' ELSE retention_days || 'd' END,
           encrypt,
           created
    FROM pools;
DROP TABLE pools;
ALTER TABLE pools_v4 RENAME TO pools;

ALTER TABLE media_sets ADD COLUMN closed INTEGER;
ALTER TABLE media_sets ADD COLUMN last_write INTEGER;
UPDATE media_sets SET closed = created WHERE status = 'closed';

CREATE TABLE media_v4 (
    uuid           TEXT PRIMARY KEY,
    label          TEXT NOT NULL UNIQUE,
    pool           TEXT REFERENCES pools(name),
    media_set      TEXT REFERENCES media_sets(uuid),
    seq_nr         INTEGER,
    status         TEXT NOT NULL
                   CHECK (status IN ('writable', 'full', 'retired', 'damaged', 'unknown')),
    location       TEXT NOT NULL CHECK (location IN ('online', 'offline', 'vault')),
    location_name  TEXT,
    bytes_used     INTEGER NOT NULL DEFAULT 0,
    labelled       INTEGER NOT NULL,
    UNIQUE (media_set, seq_nr)
);
INSERT INTO media_v4 (uuid, label, pool, media_set, seq_nr, status, location, bytes_used, labelled)
    SELECT uuid, label, pool, media_set, seq_nr, status, location, bytes_used, labelled FROM media;
DROP TABLE media;
ALTER TABLE media_v4 RENAME TO media;
CREATE INDEX media_by_set ON media(media_set, seq_nr);
";

/// Version 7: scheduled jobs (`ptape job`, `ptape daemon`).
///
/// - `job_runs`: one row per run of a job, written `running` when the run
///   starts and given its outcome when it ends; a run whose process died
///   is set `interrupted` by the next `ptape daemon` (or `job` command).
///   `tapes` is a JSON array of labels; times are epoch milliseconds.
/// - `job_state`: when a job was created and when its schedule last
///   changed (the scheduler counts the next run from the latest of these
///   and the last run's start).
const V7: &str = "
CREATE TABLE job_runs (
    run            INTEGER PRIMARY KEY AUTOINCREMENT,
    job            TEXT NOT NULL,
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER,
    state          TEXT NOT NULL
                   CHECK (state IN ('running', 'ok', 'warnings', 'error', 'interrupted')),
    message        TEXT,
    snapshot       TEXT,
    tapes          TEXT NOT NULL DEFAULT '[]',
    bytes_written  INTEGER NOT NULL DEFAULT 0,
    warnings       INTEGER NOT NULL DEFAULT 0,
    drive          TEXT,
    scheduled      INTEGER NOT NULL DEFAULT 0,
    pid            INTEGER
);
CREATE INDEX job_runs_by_job ON job_runs(job, run);
CREATE TABLE job_state (
    job               TEXT PRIMARY KEY,
    created           INTEGER NOT NULL,
    schedule          TEXT NOT NULL,
    schedule_changed  INTEGER
);
";

/// Version 8: where each chunk entry starts inside its chunk archive
/// (`pbs_tape::format::EntryPosition`): `block` is the sequence number of
/// the block within the archive (the archive's `first_object` + `block`
/// is the logical object to LOCATE to), `block_offset` the entry header's
/// offset in that block's payload. A restore reads a chunk by LOCATE
/// instead of reading its archive from the start. NULL for rows written
/// before this version (read sequentially, as before; `ptape catalog
/// scan` of the tape fills them in for archives it reads).
const V8: &str = "
ALTER TABLE chunks ADD COLUMN block INTEGER;
ALTER TABLE chunks ADD COLUMN block_offset INTEGER;
";

/// The migration list: entry `i` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8];

/// The schema version this ptape writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Current `user_version` of the database.
pub fn schema_version(conn: &Connection) -> Result<u32, CatalogError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database to [`SCHEMA_VERSION`], each step in its own
/// transaction together with its `user_version` bump. Refuses databases
/// written by a newer ptape.
pub fn migrate(conn: &mut Connection) -> Result<(), CatalogError> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Brings the database to `target` (tests create old versions with it).
///
/// Foreign keys are off while migrations run: a migration may rebuild a
/// table to change its constraints (create, copy, drop, rename: SQLite's
/// documented procedure), and dropping a referenced table would otherwise
/// cascade or fail. Each migration's transaction commits only when
/// `PRAGMA foreign_key_check` finds nothing.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), CatalogError> {
    let current = schema_version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(CatalogError::TooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    let target = target.min(SCHEMA_VERSION);
    if current >= target {
        return Ok(());
    }
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = (current..target).try_for_each(|version| {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        let violations: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if violations > 0 {
            return Err(CatalogError::Corrupt(format!(
                "migration to schema version {} leaves {violations} rows whose references are broken",
                version + 1
            )));
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        Ok(())
    });
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ArchiveCommit, ArchiveRecord, Catalog, ContentType};
    use pbs_tape::format::EntryPosition;

    const SET: &str = "6f1f7f6e-0000-4000-8000-000000000001";
    const MEDIA: &str = "6f1f7f6e-0000-4000-8000-000000000002";

    fn digest(byte: u8) -> [u8; 32] {
        [byte; 32]
    }

    /// A version 2 database with one tape holding two chunk archives whose
    /// digests are not in sorted order.
    fn version_2_database(path: &std::path::Path) {
        let mut conn = Connection::open(path).unwrap();
        migrate_to(&mut conn, 2).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 2);
        conn.execute_batch(&format!(
            "INSERT INTO media_sets VALUES ('{SET}', 'default', 5, 'writable');
             INSERT INTO media (uuid, label, pool, media_set, seq_nr, status, location, bytes_used, labelled)
               VALUES ('{MEDIA}', 'OLD002L9', 'default', '{SET}', 0, 'writable', 'online', 20, 5);
             INSERT INTO archives VALUES ('6f1f7f6e-0000-4000-8000-000000000003',
               '{MEDIA}', 1, 'chunks', 0, 2, 1, 3, 10);
             INSERT INTO archives VALUES ('6f1f7f6e-0000-4000-8000-000000000004',
               '{MEDIA}', 2, 'chunks', 0, 0, 1, 1, 10);"
        ))
        .unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO chunks (digest, media, file_number, archive) VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap();
        for (byte, file, archive) in [
            (9u8, 1i64, "6f1f7f6e-0000-4000-8000-000000000003"),
            (1, 1, "6f1f7f6e-0000-4000-8000-000000000003"),
            (5, 1, "6f1f7f6e-0000-4000-8000-000000000003"),
            (3, 2, "6f1f7f6e-0000-4000-8000-000000000004"),
        ] {
            insert
                .execute(rusqlite::params![
                    digest(byte).as_slice(),
                    MEDIA,
                    file,
                    archive
                ])
                .unwrap();
        }
    }

    fn index_names(catalog: &Catalog) -> Vec<String> {
        let mut stmt = catalog
            .connection()
            .prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'chunks' AND type = 'index'")
            .unwrap();
        let names = stmt.query_map([], |r| r.get(0)).unwrap();
        names.map(|n| n.unwrap()).collect()
    }

    #[test]
    fn version_2_chunks_upgrade_keeping_rows_and_tape_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        version_2_database(&path);

        let mut catalog = Catalog::open(&path).unwrap();
        assert_eq!(catalog.schema_version().unwrap(), SCHEMA_VERSION);
        let media = uuid::Uuid::parse_str(MEDIA).unwrap();
        assert_eq!(
            catalog.chunks_of_archive(media, 1).unwrap(),
            vec![digest(9), digest(1), digest(5)]
        );
        assert_eq!(
            catalog.chunks_of_archive(media, 2).unwrap(),
            vec![digest(3)]
        );
        // Rows from before version 8 have no entry positions.
        assert_eq!(
            catalog.chunk_positions_of_archive(media, 2).unwrap(),
            vec![(digest(3), None)]
        );
        let set = uuid::Uuid::parse_str(SET).unwrap();
        assert_eq!(
            catalog.media_set_digests(set).unwrap(),
            [9, 1, 5, 3].map(digest).into_iter().collect()
        );
        let located = catalog.chunk_locations(&digest(5), Some(set)).unwrap();
        assert_eq!(
            located
                .iter()
                .map(|l| (l.media, l.file_number))
                .collect::<Vec<_>>(),
            vec![(media, 1)]
        );
        // Neither digest-first B-tree of version 2 is left: the table is its
        // only B-tree.
        assert!(index_names(&catalog).is_empty());

        // New archives after the upgrade: tape order kept, a digest repeated
        // within one tape file recorded once, as before.
        catalog
            .commit_archive(&ArchiveCommit {
                archive: ArchiveRecord {
                    uuid: uuid::Uuid::new_v4(),
                    media,
                    file_number: 3,
                    content: ContentType::Chunks,
                    first_object: 0,
                    last_object: 3,
                    complete: true,
                    entries: 4,
                    bytes: 40,
                },
                chunks: [7, 2, 7, 4].map(digest).to_vec(),
                positions: [(0, 100), (1, 7), (3, 0), (3, 9000)]
                    .map(|(block, offset)| EntryPosition { block, offset })
                    .to_vec(),
                snapshot: None,
            })
            .unwrap();
        assert_eq!(
            catalog.chunks_of_archive(media, 3).unwrap(),
            vec![digest(7), digest(2), digest(4)]
        );
        // The first copy's position is kept with its row.
        let at = |block, offset| Some(EntryPosition { block, offset });
        assert_eq!(
            catalog.chunk_positions_of_archive(media, 3).unwrap(),
            vec![
                (digest(7), at(0, 100)),
                (digest(2), at(1, 7)),
                (digest(4), at(3, 9000))
            ]
        );
        let rows: i64 = catalog
            .connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 7);

        // Forgetting the tape's media set removes its chunk rows.
        catalog.forget_media_set(set).unwrap();
        assert!(catalog.media_set_digests(set).unwrap().is_empty());
    }

    #[test]
    fn version_5_pools_media_sets_and_media_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "foreign_keys", true).unwrap();
            migrate_to(&mut conn, 5).unwrap();
            conn.execute_batch(&format!(
                "INSERT INTO pools (name, allocation, retention_days, created, encrypt)
                   VALUES ('weekly', 'always-new', 30, 7, 'aa:bb');
                 INSERT INTO media_sets (uuid, pool, created, status) VALUES ('{SET}', 'weekly', 5, 'closed');
                 INSERT INTO media (uuid, label, pool, media_set, seq_nr, status, location, bytes_used, labelled)
                   VALUES ('{MEDIA}', 'OLD002L9', 'weekly', '{SET}', 0, 'full', 'vault', 20, 5);
                 INSERT INTO archives VALUES ('6f1f7f6e-0000-4000-8000-000000000003',
                   '{MEDIA}', 1, 'chunks', 0, 2, 1, 3, 10);"
            ))
            .unwrap();
        }
        let catalog = Catalog::open(&path).unwrap();
        assert_eq!(catalog.schema_version().unwrap(), SCHEMA_VERSION);
        let weekly = catalog.pool("weekly").unwrap().unwrap();
        assert_eq!(weekly.allocation.to_string(), "always");
        assert_eq!(weekly.retention.to_string(), "30d");
        assert_eq!(weekly.created, 7);
        assert_eq!(weekly.encrypt.as_deref(), Some("aa:bb"));
        let default = catalog.pool("default").unwrap().unwrap();
        assert_eq!(default.retention.to_string(), "keep");
        let set = catalog
            .media_set(uuid::Uuid::parse_str(SET).unwrap())
            .unwrap()
            .unwrap();
        // Closed before the upgrade: retention keeps counting from creation.
        assert_eq!(set.closed, Some(5));
        let media = catalog.media_by_label("OLD002L9").unwrap().unwrap();
        assert_eq!(media.location_name, None);
        assert_eq!(media.bytes_used, 20);
        assert_eq!(media.media_set, Some(set.uuid));
        let conn = catalog.connection();
        let violations: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0);
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are on again after the migration");
        // The rebuilt media table is still the archives' parent: deleting a
        // tape cascades, an unknown pool is refused.
        catalog.delete_media(media.uuid).unwrap();
        let archives: i64 = conn
            .query_row("SELECT count(*) FROM archives", [], |r| r.get(0))
            .unwrap();
        assert_eq!(archives, 0);
        assert!(conn
            .execute(
                "INSERT INTO media (uuid, label, pool, status, location, labelled)
                 VALUES ('x', 'X', 'nope', 'writable', 'offline', 0)",
                [],
            )
            .is_err());
        assert!(conn
            .execute(
                "INSERT INTO media (uuid, label, status, location, labelled)
                 VALUES ('y', 'Y', 'unknown', 'offline', 0)",
                [],
            )
            .is_ok());
    }

    #[test]
    fn catalog_connections_use_wal_full_sync_and_bounded_cache() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("catalog.db")).unwrap();
        let conn = catalog.connection();
        let pragma = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        // synchronous: 2 = FULL (every commit is on disk when it returns).
        assert_eq!(pragma("synchronous"), 2);
        assert_eq!(pragma("cache_size"), -crate::catalog::CACHE_KIB);
        assert_eq!(pragma("foreign_keys"), 1);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
