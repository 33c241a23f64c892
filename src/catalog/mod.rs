//! The media catalog: SQLite (WAL mode) database of pools, media, media
//! sets, archives, chunk locations and snapshots.
//!
//! Rules the rest of ptape relies on:
//! - rows describing data on tape are inserted only by
//!   [`Catalog::commit_archive`], in one transaction, after the format
//!   layer's finish barrier returned the archive as durable;
//! - the chunk set of a media set is loaded once per job
//!   ([`Catalog::media_set_digests`]), never queried per chunk;
//! - a tape's rows can be exported as the catalog archive payload
//!   ([`TapeCatalog`]) and imported back.
//!
//! Modules: [`schema`] (migrations), [`model`] (row types), `inventory`
//! (pools, media, media sets), `archives` (archives, chunks, snapshots),
//! [`export`] (catalog archive payload), `encryption` (the keys of pools
//! and media sets).

mod archives;
pub mod browse;
mod encryption;
pub mod export;
pub mod file_index;
mod inventory;
pub mod model;
pub mod schema;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use archives::{entry_position, ArchiveCommit};
pub use export::TapeCatalog;
pub use inventory::PoolUsage;
pub use model::*;

/// Errors of the media catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the catalog directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the catalog has schema version {found}, newer than this ptape supports ({supported})"
    )]
    TooNew { found: u32, supported: u32 },
    #[error("pool {0:?} does not exist")]
    UnknownPool(String),
    #[error("pool {0:?} already exists")]
    PoolExists(String),
    #[error("no media with label or UUID {0:?} in the catalog")]
    UnknownMedia(String),
    #[error("media label {0:?} is already in the catalog")]
    MediaExists(String),
    #[error("media set {0} does not exist")]
    UnknownMediaSet(uuid::Uuid),
    #[error("corrupt catalog row: {0}")]
    Corrupt(String),
    #[error("invalid catalog archive payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("unsupported catalog archive version {0}")]
    PayloadVersion(u32),
}

/// An open media catalog.
pub struct Catalog {
    conn: Connection,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.path).finish()
    }
}

impl Catalog {
    /// Opens (creating when missing) the catalog at `path`, switches it to
    /// WAL mode and migrates it to the current schema.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| CatalogError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// Opens the catalog at the configured location ([`crate::config::catalog_path`]).
    pub fn open_default() -> Result<Catalog, crate::Error> {
        Ok(Catalog::open(&crate::config::catalog_path()?)?)
    }

    /// A private in-memory catalog (tests, scratch imports).
    pub fn open_in_memory() -> Result<Catalog, CatalogError> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<Catalog, CatalogError> {
        configure(&mut conn)?;
        schema::migrate(&mut conn)?;
        Ok(Catalog { conn, path })
    }

    /// The database file, `None` for in-memory catalogs.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, CatalogError> {
        schema::schema_version(&self.conn)
    }

    /// The local file index beside the database (`None` for in-memory
    /// catalogs).
    pub fn file_index(&self) -> Option<file_index::FileIndex> {
        self.path.as_deref().map(file_index::FileIndex::beside)
    }

    /// The underlying connection, for read-only queries of sibling modules
    /// (restore, verify, scan).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Page cache of a catalog connection in KiB (`PRAGMA cache_size` takes
/// it negated). A commit touches only the pages at the end of its tape
/// file's key range (about 1.3 MiB per 10 000 chunk rows), so inserts need
/// little; the cache is sized for reads: a catalog of 10^7 chunk rows is
/// about 1.3 GiB, whose interior B-tree pages take about 25 MiB, and 64 MiB
/// keeps them all with room for leaves. SQLite fills the cache lazily, and
/// 64 MiB is a quarter of the 256 MiB peak RSS a backup job may use (the
/// job also holds its media set's digests in memory).
pub const CACHE_KIB: i64 = 64 * 1024;

/// Applies the settings every catalog connection uses (the benchmark's bare
/// rusqlite loop calls it too):
/// - WAL: readers (`ptape media list`) never block the backup writer;
/// - `synchronous = FULL`: every commit fsyncs the WAL before it returns,
///   so an archive or snapshot a job reported is still recorded after a
///   crash or power loss (with `NORMAL` the last transactions could be
///   lost, and the writer would then append over data the catalog forgot).
///   Commits happen at barrier points, not per chunk: the cost is one
///   fsync per barrier (the catalog benchmark measures it);
/// - a bounded page cache of [`CACHE_KIB`];
/// - temporary tables and sorts stay on disk (`temp_store` default): the
///   only large one, a media set's distinct digests, must not grow the
///   process by the size of the set;
/// - foreign keys enforced; a 30 s busy timeout;
/// - transactions begin IMMEDIATE: one that reads and then writes takes
///   the write lock at its start, so two jobs committing at once wait for
///   each other (busy timeout) instead of one failing with "database is
///   locked" when its read snapshot cannot be upgraded (SQLITE_BUSY_SNAPSHOT
///   in WAL mode is returned at once, without the busy handler).
pub fn configure(conn: &mut Connection) -> Result<(), CatalogError> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn parse_uuid(text: &str) -> Result<uuid::Uuid, CatalogError> {
    uuid::Uuid::parse_str(text).map_err(|e| CatalogError::Corrupt(format!("UUID {text:?}: {e}")))
}

fn parse_text<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, CatalogError> {
    text.parse().map_err(CatalogError::Corrupt)
}

fn digest_from_blob(blob: &[u8]) -> Result<crate::chunking::Digest, CatalogError> {
    blob.try_into()
        .map_err(|_| CatalogError::Corrupt(format!("chunk digest of {} bytes", blob.len())))
}

/// Seconds since the Unix epoch, now.
pub fn now_epoch() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction takes the write lock when it begins: a second
    /// connection cannot write in between (it waits on the busy timeout),
    /// so the first one's later write never fails on a stale snapshot.
    #[test]
    fn transactions_take_the_write_lock_at_begin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let mut a = Catalog::open(&path).unwrap();
        let b = Catalog::open(&path).unwrap();
        b.conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        let tx = a.conn.transaction().unwrap();
        let _: i64 = tx
            .query_row("SELECT count(*) FROM pools", [], |r| r.get(0))
            .unwrap();
        let err = b.conn.execute("DELETE FROM pools", []);
        assert!(
            matches!(
                err,
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy
            ),
            "{err:?}"
        );
        tx.execute("DELETE FROM pools", []).unwrap();
        tx.commit().unwrap();
    }
}
