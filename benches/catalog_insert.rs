//! Catalog insert rate: chunk rows committed through `Catalog::commit_archives`
//! against a bare rusqlite loop on the same schema, connection settings
//! (`catalog::configure`), statements and transaction batching (one
//! transaction per archive of `BATCH` chunks). Prints rows/s of both, their
//! ratio, the database sizes (with WAL) and the peak RSS after the catalog
//! run. The catalog commits with `synchronous = FULL` (every commit synced
//! before the job reports it); the bare loop runs once more with `NORMAL`
//! to show what that costs per commit.
//!
//! Rows: `PTAPE_BENCH_ROWS` (default 10 000 000; e.g. 1000000 for a quick
//! run). Run: `cargo bench -p ptape --bench catalog_insert`.

mod util;

use std::time::Instant;

use ptape::catalog::{
    self, schema, ArchiveCommit, ArchiveRecord, Catalog, ContentType, MediaLocation, MediaRecord,
    MediaStatus,
};
use rusqlite::{params, Connection};
use uuid::Uuid;

/// Chunk rows per archive (per transaction).
const BATCH: u64 = 10_000;

fn digests(n: u64, state: &mut u64) -> Vec<[u8; 32]> {
    (0..n)
        .map(|_| {
            let mut d = [0u8; 32];
            util::fill_random(&mut d, state);
            d
        })
        .collect()
}

fn archive(media: Uuid, file_number: u64, entries: u64) -> ArchiveRecord {
    ArchiveRecord {
        uuid: Uuid::new_v4(),
        media,
        file_number,
        content: ContentType::Chunks,
        first_object: 0,
        last_object: 0,
        complete: true,
        entries,
        bytes: entries * 65536,
    }
}

fn media(label: &str) -> MediaRecord {
    MediaRecord {
        uuid: Uuid::new_v4(),
        label: label.into(),
        pool: None,
        media_set: None,
        seq_nr: None,
        status: MediaStatus::Writable,
        location: MediaLocation::Online,
        location_name: None,
        bytes_used: 0,
        labelled: 0,
    }
}

fn through_catalog(dir: &std::path::Path, rows: u64) -> f64 {
    let mut catalog = Catalog::open(&dir.join("catalog.db")).expect("open catalog");
    let m = media("CA0001L9");
    catalog.insert_media(&m).expect("insert media");
    let mut state = 1;
    let t = Instant::now();
    let mut done = 0;
    let mut file = 2;
    while done < rows {
        let n = BATCH.min(rows - done);
        let commit = ArchiveCommit {
            archive: archive(m.uuid, file, n),
            chunks: digests(n, &mut state),
            positions: Vec::new(),
            snapshot: None,
        };
        catalog.commit_archives(&[commit]).expect("commit archive");
        done += n;
        file += 1;
    }
    t.elapsed().as_secs_f64()
}

/// The bare loop into `dir/name`, with the catalog's pragmas except
/// `synchronous` (`FULL`, the catalog's, or `NORMAL` to measure its cost).
fn bare_rusqlite(dir: &std::path::Path, name: &str, synchronous: &str, rows: u64) -> f64 {
    let mut conn = Connection::open(dir.join(name)).expect("open bare db");
    catalog::configure(&mut conn).expect("catalog pragmas");
    conn.pragma_update(None, "synchronous", synchronous)
        .expect("synchronous");
    schema::migrate(&mut conn).expect("schema");
    let m = media("BA0001L9");
    conn.execute(
        "INSERT INTO media (uuid, label, status, location, bytes_used, labelled)
         VALUES (?1, ?2, 'writable', 'online', 0, 0)",
        params![m.uuid.to_string(), m.label],
    )
    .expect("insert media");
    let media_text = m.uuid.to_string();
    let mut state = 1;
    let t = Instant::now();
    let mut done = 0;
    let mut file = 2i64;
    while done < rows {
        let n = BATCH.min(rows - done);
        let a = archive(m.uuid, file as u64, n);
        let chunks = digests(n, &mut state);
        let tx = conn.transaction().expect("transaction");
        let archive_text = a.uuid.to_string();
        tx.prepare_cached(
            "INSERT INTO archives (uuid, media, file_number, content, first_object, last_object,
             complete, entries, bytes) VALUES (?1, ?2, ?3, 'chunks', 0, 0, 1, ?4, ?5)",
        )
        .expect("prepare")
        .execute(params![
            archive_text,
            media_text,
            file,
            n as i64,
            (n * 65536) as i64
        ])
        .expect("insert archive");
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO chunks (digest, media, file_number, seq, archive)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .expect("prepare");
            for (seq, d) in chunks.iter().enumerate() {
                stmt.execute(params![
                    d.as_slice(),
                    media_text,
                    file,
                    seq as i64,
                    archive_text
                ])
                .expect("insert chunk");
            }
        }
        tx.prepare_cached("UPDATE media SET bytes_used = bytes_used + ?2 WHERE uuid = ?1")
            .expect("prepare")
            .execute(params![media_text, (n * 65536) as i64])
            .expect("update media");
        tx.commit().expect("commit");
        done += n;
        file += 1;
    }
    t.elapsed().as_secs_f64()
}

/// Bytes of a database with its WAL.
fn database_size(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [db.as_os_str(), wal.as_os_str()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    let rows = util::env_f64("PTAPE_BENCH_ROWS", 10_000_000.0) as u64;
    let scratch = util::scratch();
    println!(
        "catalog_insert: {rows} chunk rows, {BATCH} per transaction, schema v{}, cache {} MiB",
        schema::SCHEMA_VERSION,
        catalog::CACHE_KIB / 1024
    );
    let catalog_secs = through_catalog(scratch.path(), rows);
    let catalog_rss = util::proc_status_kib("VmHWM").unwrap_or(0);
    let bare_secs = bare_rusqlite(scratch.path(), "bare.db", "FULL", rows);
    let normal_secs = bare_rusqlite(scratch.path(), "normal.db", "NORMAL", rows);
    let catalog_rate = rows as f64 / catalog_secs;
    let bare_rate = rows as f64 / bare_secs;
    let normal_rate = rows as f64 / normal_secs;
    let commits = rows.div_ceil(BATCH) as f64;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "  Catalog::commit_archives  {catalog_secs:8.2} s  {catalog_rate:12.0} rows/s  db {:8.1} MiB  peak RSS {:6.1} MiB",
        mib(database_size(&scratch.path().join("catalog.db"))),
        catalog_rss as f64 / 1024.0
    );
    println!(
        "  bare rusqlite loop        {bare_secs:8.2} s  {bare_rate:12.0} rows/s  db {:8.1} MiB",
        mib(database_size(&scratch.path().join("bare.db")))
    );
    println!("  bare loop, sync NORMAL    {normal_secs:8.2} s  {normal_rate:12.0} rows/s",);
    println!(
        "  ratio catalog/bare        {:8.2}",
        catalog_rate / bare_rate
    );
    println!(
        "  cost of synchronous=FULL  ratio FULL/NORMAL {:5.2}, {:+.2} ms per commit",
        bare_rate / normal_rate,
        (bare_secs - normal_secs) / commits * 1000.0
    );
}
