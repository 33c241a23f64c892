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

/// The migration list: entry `i` upgrades version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

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
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), CatalogError> {
    let current = schema_version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(CatalogError::TooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for version in current..target.min(SCHEMA_VERSION) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}
