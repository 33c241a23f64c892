//! The stream format through the emulated library: small files packed into
//! few chunks, single-path restores that read only the chunks covering the
//! path, and restores that go on around damage.

mod restore_util;

use std::path::{Path, PathBuf};

use ptape::backup::{run_backup, BackupResult};
use ptape::catalog::Catalog;
use ptape::chunking::ChunkerConfig;
use ptape::restore::{run_restore, RestoreOptions, RestoreResult};
use ptape::writer::NoEvents;
use restore_util::{backup_options, library_devices, make_library, random_bytes, MIB};

struct Lab {
    tmp: tempfile::TempDir,
    lib: pbs_tape::emulator::library::Library,
    catalog: Catalog,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), 2, 512 * MIB);
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        Lab { tmp, lib, catalog }
    }

    fn backup(&mut self, src: &Path, id: &str, chunker: ChunkerConfig) -> BackupResult {
        let mut o = backup_options(src, id);
        o.chunker = chunker;
        run_backup(
            library_devices(&self.lib),
            &mut self.catalog,
            &o,
            &mut NoEvents,
        )
        .unwrap()
    }

    fn restore(&self, snapshot: &str, out: &str, paths: &[&str]) -> RestoreResult {
        let mut o = RestoreOptions::new(snapshot, &self.tmp.path().join(out));
        o.paths = paths.iter().map(|p| p.to_string()).collect();
        run_restore(library_devices(&self.lib), &self.catalog, &o, &mut NoEvents).unwrap()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
}

const KIB: u32 = 1024;

/// min 64 KiB, avg 256 KiB, max 1 MiB: the default's proportions, scaled
/// down so that a test tree spans many chunks.
fn quarter_mib() -> ChunkerConfig {
    ChunkerConfig {
        min: 64 * KIB,
        avg: 256 * KIB,
        max: 1024 * KIB,
    }
}

/// 3000 files of 100 to 8000 bytes in 30 directories.
fn small_files(root: &Path) -> u64 {
    let mut total = 0u64;
    for i in 0..3000u64 {
        let dir = root.join(format!("d{:02}", i % 30));
        std::fs::create_dir_all(&dir).unwrap();
        let len = 100 + (i * 2654435761 % 7901) as usize;
        std::fs::write(dir.join(format!("f{i:05}")), random_bytes(len, i + 1)).unwrap();
        total += len as u64;
    }
    total
}

#[test]
fn small_files_pack_into_chunks_by_bytes_not_by_files() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    let bytes = small_files(&src);
    let result = lab.backup(&src, "small", quarter_mib());
    assert_eq!(result.files, 3000);
    assert_eq!(result.total_bytes, bytes);
    // Chunks follow bytes: at most one per `min` bytes (plus the last).
    let min = u64::from(quarter_mib().min);
    assert!(
        result.payload_chunks <= bytes / min + 1,
        "{} payload chunks for {bytes} bytes",
        result.payload_chunks
    );
    assert!(result.payload_chunks < 100, "{}", result.payload_chunks);
    assert!(result.metadata_chunks <= 3, "{}", result.metadata_chunks);
    // Each chunk is one catalog row.
    let rows: i64 = lab
        .catalog
        .connection()
        .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as u64, result.chunks_written);
    assert!(rows as u64 <= result.payload_chunks + result.metadata_chunks);

    let restored = lab.restore(&result.snapshot, "out", &[]);
    assert_eq!(restored.files, 3000);
    restore_util::assert_same_tree(&src, &lab.path("out/data"));
}

#[test]
fn a_file_changed_in_the_middle_dedups_everything_else() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    small_files(&src);
    let first = lab.backup(&src, "a", quarter_mib());
    // Same size, new bytes, in the middle of the tree.
    let victim = src.join("d15/f01515");
    let len = std::fs::metadata(&victim).unwrap().len() as usize;
    std::fs::write(&victim, random_bytes(len, 999_999)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = lab.backup(&src, "b", quarter_mib());
    // Content-defined cuts resynchronise: only the chunks around the change
    // (payload and metadata) are new.
    assert!(
        second.chunks_written <= 4,
        "{} new chunks of {} (first run {})",
        second.chunks_written,
        second.payload_chunks + second.metadata_chunks,
        first.chunks_written
    );
    assert!(second.bytes_written <= 4 * u64::from(quarter_mib().max));
    let restored = lab.restore(&second.snapshot, "out", &[]);
    assert_eq!(restored.files, 3000);
    restore_util::assert_same_tree(&src, &lab.path("out/data"));
}

#[test]
fn a_single_path_restore_reads_only_the_chunks_covering_it() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..12u64 {
        std::fs::write(
            src.join(format!("big{i:02}")),
            random_bytes(2 * MIB as usize, i),
        )
        .unwrap();
    }
    let backup = lab.backup(&src, "big", quarter_mib());
    assert!(backup.payload_chunks >= 24, "{}", backup.payload_chunks);
    let r = lab.restore(&backup.snapshot, "one", &["data/big06"]);
    assert_eq!(r.files, 1);
    assert_eq!(
        std::fs::read(lab.path("one/data/big06")).unwrap(),
        random_bytes(2 * MIB as usize, 6)
    );
    assert!(!lab.path("one/data/big05").exists());
    // 2 MiB of file: at most 2 MiB / min + 2 payload chunks, plus the
    // metadata chunks; far fewer than the snapshot's.
    let covering = 2 * MIB / u64::from(quarter_mib().min) + 2;
    assert!(
        r.chunks <= covering + backup.metadata_chunks,
        "{} chunks read, {covering} cover the file",
        r.chunks
    );
    assert!(r.chunks < backup.payload_chunks / 2, "{}", r.chunks);
}

#[test]
fn a_damaged_block_loses_only_the_files_that_need_it() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..8u64 {
        std::fs::write(
            src.join(format!("f{i}")),
            random_bytes(3 * MIB as usize, 100 + i),
        )
        .unwrap();
    }
    std::fs::write(src.join("small"), b"tiny").unwrap();
    let backup = lab.backup(&src, "dmg", quarter_mib());
    restore_util::corrupt_image(&lab.lib, "BK0001L9");

    let r = lab.restore(&backup.snapshot, "all", &[]);
    assert!(!r.damaged.is_empty(), "the damage went unnoticed");
    let lost: Vec<String> = (0..8)
        .map(|i| format!("data/f{i}"))
        .filter(|p| r.damaged.iter().any(|d| d.starts_with(&format!("{p}:"))))
        .collect();
    assert!(!lost.is_empty() && lost.len() <= 2, "{:?}", r.damaged);
    let out = lab.path("all");
    for i in 0..8u64 {
        let p = format!("data/f{i}");
        if lost.contains(&p) {
            assert!(!out.join(&p).exists(), "{p} is damaged but was written");
        } else {
            assert_eq!(
                std::fs::read(out.join(&p)).unwrap(),
                random_bytes(3 * MIB as usize, 100 + i),
                "{p}"
            );
        }
    }
    assert_eq!(std::fs::read(out.join("data/small")).unwrap(), b"tiny");
    assert!(restore_util_leftovers(&out).is_empty());

    // A path the damage does not touch restores cleanly.
    let intact = (0..8)
        .map(|i| format!("data/f{i}"))
        .find(|p| !lost.contains(p))
        .unwrap();
    let r = lab.restore(&backup.snapshot, "one", &[&intact]);
    assert!(r.damaged.is_empty(), "{:?}", r.damaged);
    assert_eq!(r.files, 1);
}

/// Restore temporaries left anywhere under `dir`.
fn restore_util_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".ptape-restore"))
        {
            found.push(p.clone());
        }
        if p.is_dir() && !p.is_symlink() {
            found.extend(restore_util_leftovers(&p));
        }
    }
    found
}

/// Bytes the emulated drive read from `label` so far (its lifetime
/// counter, saved when the tape is unloaded).
fn bytes_read(lab: &Lab, label: &str) -> u64 {
    lab.lib.read_medium_info(label).unwrap().lifetime_bytes_read
}

#[test]
fn a_path_at_the_end_of_a_big_archive_is_read_by_locate() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..16u64 {
        std::fs::write(
            src.join(format!("big{i:02}")),
            random_bytes(2 * MIB as usize, 500 + i),
        )
        .unwrap();
    }
    // One chunk archive holds the whole snapshot (32 MiB in 64 KiB blocks).
    let mut o = backup_options(&src, "locate");
    o.chunker = quarter_mib();
    o.format.archive_cap = 256 * MIB;
    o.format.commit_interval = 256 * MIB;
    let backup = run_backup(
        library_devices(&lab.lib),
        &mut lab.catalog,
        &o,
        &mut NoEvents,
    )
    .unwrap();
    let archives: i64 = lab
        .catalog
        .connection()
        .query_row(
            "SELECT count(*) FROM archives WHERE content = 'chunks'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(archives, 1, "the test needs one big chunk archive");
    let rows = |c: &Catalog| -> Vec<(Vec<u8>, i64, i64)> {
        let mut stmt = c
            .connection()
            .prepare("SELECT digest, block, block_offset FROM chunks WHERE block IS NOT NULL ORDER BY digest")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let written = rows(&lab.catalog);
    assert_eq!(written.len() as u64, backup.chunks_written);

    let last = random_bytes(2 * MIB as usize, 515);
    let restore_last = |lab: &Lab, out: &str| -> u64 {
        let before = bytes_read(lab, "BK0001L9");
        let r = lab.restore(&backup.snapshot, out, &["data/big15"]);
        assert_eq!(r.files, 1);
        assert!(r.damaged.is_empty(), "{:?}", r.damaged);
        assert_eq!(
            std::fs::read(lab.path(out).join("data/big15")).unwrap(),
            last
        );
        bytes_read(lab, "BK0001L9") - before
    };
    let located = restore_last(&lab, "by-position");
    // A whole restore reads the chunk archive once: the metadata chunk
    // (written after the payload) by position, then the payload chunks
    // from the first on, instead of the archive twice from its start.
    let whole_restore = |lab: &Lab, out: &str| -> u64 {
        let before = bytes_read(lab, "BK0001L9");
        let r = lab.restore(&backup.snapshot, out, &[]);
        assert_eq!(r.files, 16);
        assert!(r.damaged.is_empty(), "{:?}", r.damaged);
        restore_util::assert_same_tree(&src, &lab.path(out).join("data"));
        bytes_read(lab, "BK0001L9") - before
    };
    let chunk_bytes: i64 = lab
        .catalog
        .connection()
        .query_row(
            "SELECT sum(bytes) FROM archives WHERE content = 'chunks'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let chunk_bytes = chunk_bytes as u64;
    let whole = whole_restore(&lab, "whole-by-position");
    assert!(
        whole < chunk_bytes + chunk_bytes / 10,
        "a whole restore read {whole} bytes of a {chunk_bytes}-byte archive"
    );

    // Positions that are wrong (a catalog that disagrees with the tape)
    // are noticed and the archive is read from its start.
    lab.catalog
        .connection()
        .execute("UPDATE chunks SET block = block + 3", [])
        .unwrap();
    restore_last(&lab, "wrong-positions");

    // A catalog without positions (written before version 8) reads the
    // archive from its start up to the last needed chunk.
    lab.catalog
        .connection()
        .execute("UPDATE chunks SET block = NULL, block_offset = NULL", [])
        .unwrap();
    let sequential = restore_last(&lab, "sequential");
    let whole_sequential = whole_restore(&lab, "whole-sequential");
    assert!(
        whole_sequential > chunk_bytes + chunk_bytes / 2,
        "without positions a whole restore read only {whole_sequential} bytes"
    );
    assert!(
        sequential > 30 * MIB,
        "the sequential read took only {sequential} bytes"
    );
    // The file's 2 MiB, the metadata and the snapshot archive: a fraction
    // of the archive.
    assert!(
        located * 4 < sequential,
        "by position {located} bytes, sequentially {sequential}"
    );

    // A scan of the tape into an empty catalog records the positions again.
    let mut rebuilt = Catalog::open(&lab.path("rebuilt.db")).unwrap();
    ptape::scan::scan_tapes(
        library_devices(&lab.lib),
        &mut rebuilt,
        None,
        true,
        &mut NoEvents,
    )
    .unwrap();
    // The positions the backup recorded are the ones the scan read.
    assert_eq!(rows(&rebuilt), written);
    lab.catalog = rebuilt;
    let after_scan = restore_last(&lab, "after-scan");
    assert!(
        after_scan * 4 < sequential,
        "{after_scan} bytes after the scan"
    );
    eprintln!(
        "bytes read: by position {located}, sequentially {sequential}, after a scan {after_scan}; \
         whole restore {whole} by position, {whole_sequential} without, chunk archive {chunk_bytes}"
    );
}
