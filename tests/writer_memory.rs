//! Pool writer and backup job against in-memory cartridges: catalog rows,
//! deduplication, spanning, and the tape contents read back.

mod common;

use std::collections::HashSet;

use pbs_tape::format::{
    read_media_label, read_media_set_label, read_snapshot_archive, ChunkArchiveReader, WriterConfig,
};
use ptape::backup::{run_backup, BackupOptions};
use ptape::catalog::{Catalog, ContentType, MediaStatus};
use ptape::chunking::{ChunkerConfig, Digest};
use ptape::devices::MemoryDevices;
use ptape::stream::index::SnapshotIndex;
use ptape::writer::NoEvents;

fn small_chunks() -> ChunkerConfig {
    ChunkerConfig {
        min: 16 * 1024,
        avg: 64 * 1024,
        max: 256 * 1024,
    }
}

fn options(pool: &str, src: std::path::PathBuf, id: &str) -> BackupOptions {
    let mut o = BackupOptions::new(pool, vec![src]);
    o.id = Some(id.into());
    o.chunker = small_chunks();
    o.format = WriterConfig {
        block_size: 64 * 1024,
        archive_cap: 4 * 1024 * 1024,
        commit_interval: 8 * 1024 * 1024,
    };
    o
}

fn set_digests(cat: &Catalog, set: uuid::Uuid) -> HashSet<Digest> {
    cat.media_set_digests(set).unwrap()
}

/// Reads every chunk archive of a tape and returns the digests found.
fn digests_on_tape(devices: &mut MemoryDevices, label: &str, cat: &Catalog) -> Vec<Digest> {
    let media = cat.media_by_label(label).unwrap().unwrap();
    let tape = devices.cartridges.get_mut(label).unwrap();
    let mut found = Vec::new();
    for a in cat.archives_of_media(media.uuid).unwrap() {
        if a.content != ContentType::Chunks {
            continue;
        }
        tape.locate_file(a.file_number).unwrap();
        let mut reader = ChunkArchiveReader::new(tape).unwrap();
        while let Some(entry) = reader.next_entry().unwrap() {
            found.push(entry.digest);
        }
    }
    found
}

#[test]
fn backup_records_exactly_what_is_on_tape_and_dedups_the_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 6 * 1024 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 4, u64::MAX);

    let first = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src.clone(), "host1"),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(first.tapes, vec!["PT0001L9".to_string()]);
    assert!(first.snapshot.starts_with("default/host1/"));
    assert!(first.chunks_written > 50);

    // The snapshot row points at a snapshot archive whose manifest lists
    // exactly the chunks recorded for the media set.
    let snap = cat.snapshot(&first.snapshot).unwrap().unwrap();
    let media = cat.media_by_uuid(snap.media).unwrap().unwrap();
    assert_eq!(media.label, "PT0001L9");
    assert_eq!(media.seq_nr, Some(0));
    let tape = devices.cartridges.get_mut("PT0001L9").unwrap();
    tape.locate_file(snap.file_number).unwrap();
    let archive = read_snapshot_archive(tape).unwrap();
    let manifest = SnapshotIndex::read(&archive.manifest[..]).unwrap();
    assert_eq!(manifest.summary.snapshot, first.snapshot);
    let unique: HashSet<Digest> = manifest.unique_digests().into_iter().collect();
    assert_eq!(set_digests(&cat, first.media_set), unique);
    assert_eq!(snap.total_bytes, manifest.summary.file_bytes);
    assert_eq!(
        manifest.summary.file_bytes,
        (6 * 1024 * 1024 + (3 * 1024 * 1024 + 17) + 6 + 10 + 12) as u64
    );

    // Every archive is complete; the chunks read back equal the catalog's.
    let archives = cat.archives_of_media(media.uuid).unwrap();
    assert!(archives.iter().all(|a| a.complete));
    assert!(archives.iter().any(|a| a.content == ContentType::Catalog));
    let on_tape: HashSet<Digest> = digests_on_tape(&mut devices, "PT0001L9", &cat)
        .into_iter()
        .collect();
    assert_eq!(on_tape, unique);

    // Labels on the tape match the catalog.
    let tape = devices.cartridges.get_mut("PT0001L9").unwrap();
    tape.rewind();
    assert_eq!(read_media_label(tape).unwrap().unwrap().uuid, media.uuid);
    tape.locate_file(1).unwrap();
    let set_label = read_media_set_label(tape).unwrap().unwrap();
    assert_eq!(set_label.uuid, first.media_set);
    assert_eq!(set_label.pool, "default");

    // Second run of the same tree: nothing new to write, same chunk rows.
    let chunk_rows = |cat: &Catalog| -> i64 {
        cat.connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap()
    };
    let rows_before = chunk_rows(&cat);
    let second = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src, "host2"),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(second.media_set, first.media_set);
    assert_eq!(second.chunks_written, 0);
    assert_eq!(second.bytes_written, 0);
    assert!(second.chunks_deduplicated > 0);
    assert_eq!(chunk_rows(&cat), rows_before);
    assert_eq!(cat.snapshots(None).unwrap().len(), 2);
    // Appended to the same tape.
    assert_eq!(second.tapes, vec!["PT0001L9".to_string()]);
}

#[test]
fn backup_spans_three_tapes_at_early_warning() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 20 * 1024 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    // Early warning after 9 MiB: 23+ MiB of data needs three tapes.
    let mut devices = MemoryDevices::blank("SP", 5, 9 * 1024 * 1024);
    let result = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src, "span"),
        &mut NoEvents,
    )
    .unwrap();
    assert!(result.tapes.len() >= 3, "{:?}", result.tapes);
    let set_tapes = cat.media_of_set(result.media_set).unwrap();
    let seqs: Vec<Option<u32>> = set_tapes.iter().map(|m| m.seq_nr).collect();
    assert_eq!(
        seqs,
        (0..set_tapes.len() as u32).map(Some).collect::<Vec<_>>()
    );
    for m in &set_tapes[..set_tapes.len() - 1] {
        assert_eq!(m.status, MediaStatus::Full, "{}", m.label);
    }
    assert_eq!(set_tapes.last().unwrap().status, MediaStatus::Writable);
    // Some chunk archive continued on the next tape.
    let mut incomplete = 0;
    for m in &set_tapes {
        incomplete += cat
            .archives_of_media(m.uuid)
            .unwrap()
            .iter()
            .filter(|a| !a.complete)
            .count();
    }
    assert!(incomplete >= 2, "{incomplete}");
    // Chunks read back from all tapes equal the chunk rows of the set, and
    // each chunk is stored once.
    let mut all = Vec::new();
    for m in &set_tapes {
        all.extend(digests_on_tape(&mut devices, &m.label, &cat));
    }
    let unique: HashSet<Digest> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a chunk was stored twice");
    assert_eq!(unique, set_digests(&cat, result.media_set));
    assert_eq!(result.chunks_written as usize, all.len());
}

#[test]
fn new_media_set_and_always_new_pools_use_other_tapes() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 100 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("NS", 3, u64::MAX);
    let first = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src.clone(), "a"),
        &mut NoEvents,
    )
    .unwrap();
    let mut opts = options("default", src, "b");
    opts.new_media_set = true;
    let second = run_backup(&mut devices, &mut cat, &opts, &mut NoEvents).unwrap();
    assert_ne!(first.media_set, second.media_set);
    assert_ne!(first.tapes, second.tapes);
    // A new set starts without the old set's chunks: all are written again.
    assert_eq!(second.chunks_written, first.chunks_written);
    assert_eq!(
        cat.media_set_digests(second.media_set).unwrap(),
        cat.media_set_digests(first.media_set).unwrap()
    );
}

#[test]
fn missing_source_fails_and_records_no_snapshot() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("MS", 1, u64::MAX);
    let err = run_backup(
        &mut devices,
        &mut cat,
        &options("default", "/nonexistent/ptape-src".into(), "x"),
        &mut NoEvents,
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/ptape-src"), "{err}");
    assert!(cat.snapshots(None).unwrap().is_empty());
    let chunks: i64 = cat
        .connection()
        .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(chunks, 0);
}

#[test]
fn expired_media_sets_are_reused_live_ones_never() {
    use ptape::pool::{create_pool, PoolSettings};
    use ptape::schedule::Clock;
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 100 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let settings = PoolSettings {
        allocation: "always".parse().unwrap(),
        retention: "1d".parse().unwrap(),
        ..PoolSettings::default()
    };
    create_pool(&cat, "daily", settings, 0).unwrap();
    let mut devices = MemoryDevices::blank("RT", 1, u64::MAX);
    let at = |id: &str, time: i64| {
        let mut o = options("daily", src.clone(), id);
        o.clock = Clock::fixed_epoch(time);
        o
    };
    let t0 = 1_800_000_000;
    let first = run_backup(&mut devices, &mut cat, &at("a", t0), &mut NoEvents).unwrap();
    assert_eq!(first.tapes, ["RT0001L9"]);

    // always: a second job needs a new set; the only tape is in a set that
    // closed when its job ended and is within its retention.
    let err = run_backup(&mut devices, &mut cat, &at("b", t0 + 86_399), &mut NoEvents).unwrap_err();
    assert!(err.to_string().contains("no writable tape"), "{err}");
    assert_eq!(cat.snapshots(None).unwrap().len(), 1);

    // A day after the first job ended the old set has expired: its tape is
    // reused and the catalog forgets what was on it.
    let third = run_backup(&mut devices, &mut cat, &at("c", t0 + 86_400), &mut NoEvents).unwrap();
    assert_eq!(third.tapes, ["RT0001L9"]);
    assert_ne!(third.media_set, first.media_set);
    let names: Vec<String> = cat
        .snapshots(None)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, std::slice::from_ref(&third.snapshot));
    assert!(cat.media_set_digests(first.media_set).unwrap().is_empty());
    assert_eq!(
        cat.media_by_label("RT0001L9").unwrap().unwrap().media_set,
        Some(third.media_set)
    );
}

/// Asks to stop once `after` chunks were written (a job's SIGTERM).
struct StopAfter {
    after: u64,
    written: u64,
    asked: u64,
    notes: Vec<String>,
}

impl ptape::writer::WriterEvents for StopAfter {
    fn chunk(&mut self, _len: u64, written: bool) {
        self.written += u64::from(written);
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
    fn stop_requested(&mut self) -> bool {
        self.asked += 1;
        self.written >= self.after
    }
}

#[test]
fn a_stop_request_ends_the_archive_at_the_next_chunk_commits_it_and_records_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 6 * 1024 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("ST", 2, u64::MAX);
    let chunk_rows = |cat: &Catalog| -> i64 {
        cat.connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap()
    };
    let mut stopper = StopAfter {
        after: 10,
        written: 0,
        asked: 0,
        notes: Vec::new(),
    };
    let err = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src.clone(), "host"),
        &mut stopper,
    )
    .unwrap_err();
    assert!(err.to_string().contains("stopped on request"), "{err}");
    assert!(
        stopper
            .notes
            .iter()
            .any(|n| n.starts_with("stop requested")),
        "{:?}",
        stopper.notes
    );
    // Stopped right after the 10th chunk (the 4 MiB archive holds ~60),
    // and those 10 are committed: in the catalog and on the tape.
    assert_eq!(stopper.written, 10);
    assert_eq!(chunk_rows(&cat), 10);
    assert!(cat.snapshots(None).unwrap().is_empty());
    let media = cat.media_by_label("ST0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Writable);
    let archives = cat.archives_of_media(media.uuid).unwrap();
    assert!(archives.iter().all(|a| a.complete), "{archives:?}");
    let on_tape: HashSet<Digest> = digests_on_tape(&mut devices, "ST0001L9", &cat)
        .into_iter()
        .collect();
    assert_eq!(on_tape.len(), 10);
    let set = cat.media_sets(None).unwrap()[0].uuid;
    assert_eq!(on_tape, set_digests(&cat, set));

    // The next run appends to the same tape and takes the 10 over.
    let next = run_backup(
        &mut devices,
        &mut cat,
        &options("default", src.clone(), "host"),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(next.tapes, ["ST0001L9"]);
    assert_eq!(next.media_set, set);
    assert!(next.chunks_deduplicated >= 10, "{next:?}");
    let snap = cat.snapshot(&next.snapshot).unwrap().unwrap();
    let tape = devices.cartridges.get_mut("ST0001L9").unwrap();
    tape.locate_file(snap.file_number).unwrap();
    let archive = read_snapshot_archive(tape).unwrap();
    let manifest = SnapshotIndex::read(&archive.manifest[..]).unwrap();
    let unique: HashSet<Digest> = manifest.unique_digests().into_iter().collect();
    assert_eq!(set_digests(&cat, set), unique);

    // A run that finds only known chunks stops as promptly.
    let rows = chunk_rows(&cat);
    let mut at_once = StopAfter {
        after: 0,
        written: 0,
        asked: 0,
        notes: Vec::new(),
    };
    let mut later = options("default", src, "host");
    later.clock = ptape::schedule::Clock::fixed_epoch(jiff::Timestamp::now().as_second() + 60);
    let err = run_backup(&mut devices, &mut cat, &later, &mut at_once).unwrap_err();
    assert!(err.to_string().contains("stopped on request"), "{err}");
    assert_eq!(at_once.asked, 1);
    assert_eq!(chunk_rows(&cat), rows);
    assert_eq!(cat.snapshots(None).unwrap().len(), 1);
}
