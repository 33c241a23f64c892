//! End-to-end backup throughput: a tree of random data backed up by ptape
//! to the emulated library (chunking, SHA-256, framing, SCSI CDBs through
//! the emulated drive, catalog commits) against `tar cf` of the same tree
//! to a file, plus the peak RSS of the backup (this process). With
//! `PTAPE_BENCH_WRITE_PATH=1` it also times the tape write path alone (the
//! same bytes as ready-made chunks through the format layer and the
//! emulated drive, with the final commit): no backup can be faster.
//!
//! Size: `PTAPE_BENCH_GIB` (default 4; e.g. 0.25 for a quick run);
//! scratch space: `PTAPE_BENCH_DIR` (default: the temp directory).
//! Run: `cargo bench -p ptape --bench backup_throughput`.

mod util;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::format::{ChunkWrite, MediaWriter, WriterConfig};
use ptape::backup::{run_backup, BackupOptions};
use ptape::catalog::Catalog;
use ptape::config::ResolvedDrive;
use ptape::devices::TapeDevices;
use ptape::library::LibraryDevices;
use ptape::writer::NoEvents;

const FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Writes `total` bytes of random data as 64 MiB files (and a few small
/// ones) under `dir`, one MiB buffer at a time.
fn make_tree(dir: &Path, total: u64) -> u64 {
    let mut state = 0x5EED_u64;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut written = 0;
    let mut n = 0;
    while written < total {
        let sub = dir.join(format!("d{}", n / 16));
        std::fs::create_dir_all(&sub).expect("create source dir");
        let mut f = std::fs::File::create(sub.join(format!("f{n:04}.bin"))).expect("create file");
        let size = FILE_SIZE.min(total - written);
        let mut left = size;
        while left > 0 {
            let step = left.min(buf.len() as u64) as usize;
            util::fill_random(&mut buf[..step], &mut state);
            f.write_all(&buf[..step]).expect("write source data");
            left -= step as u64;
        }
        written += size;
        n += 1;
    }
    for i in 0..64 {
        std::fs::write(
            dir.join(format!("small{i}.txt")),
            format!("small file {i}\n"),
        )
        .expect("write small file");
    }
    written
}

/// A one-drive emulated library in `dir` for `bytes` of data, and its devices.
fn emulated_library(dir: &Path, bytes: u64, barcodes: &[&str]) -> (Library, LibraryDevices) {
    let config = LibraryConfig {
        drives: 1,
        slots: 2,
        ie_slots: 0,
        capacity: bytes * 2 + (1 << 30),
        early_warning: 64 * 1024 * 1024,
        serial: "PTAPEBENCH".into(),
        ..LibraryConfig::default()
    };
    let barcodes: Vec<String> = barcodes.iter().map(|b| b.to_string()).collect();
    let lib = Library::create(dir, config, &barcodes, &[]).expect("create the emulated library");
    let devices = LibraryDevices::from_resolved(ResolvedDrive {
        name: "drive0".into(),
        path: lib.drive_device_path(0).display().to_string(),
        changer: Some("changer".into()),
        changer_path: Some(lib.changer_device_path().display().to_string()),
        changer_drivenum: 0,
        embedded: false,
        ..Default::default()
    })
    .expect("open the emulated drive");
    (lib, devices)
}

/// Seconds to write `bytes` as 4 MiB chunks (ready-made, digests not
/// computed) in one chunk archive through the format layer to the emulated
/// drive, including the final commit (flush and fsync).
fn tape_write_path_secs(dir: &Path, bytes: u64) -> f64 {
    let (_lib, mut devices) = emulated_library(dir, bytes, &["WP0001L9"]);
    let tape = devices.load("WP0001L9").expect("load the cartridge");
    let mut writer = MediaWriter::new(tape, WriterConfig::default()).expect("media writer");
    let mut state = 0xC0FFEE_u64;
    let chunks: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            let mut c = vec![0u8; 4 << 20];
            util::fill_random(&mut c, &mut state);
            c
        })
        .collect();
    let t = Instant::now();
    let mut archive = writer.start_chunk_archive("bench").expect("start archive");
    let mut left = bytes;
    let mut n = 0u64;
    while left > 0 {
        let chunk = &chunks[(n % 4) as usize];
        let chunk = &chunk[..chunk.len().min(left as usize)];
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&n.to_be_bytes());
        match archive.add_chunk(&digest, chunk).expect("write chunk") {
            ChunkWrite::Stored { .. } => {}
            ChunkWrite::MediumFull { .. } => panic!("cartridge too small"),
        }
        left -= chunk.len() as u64;
        n += 1;
    }
    archive.finish().expect("finish archive");
    writer.commit().expect("commit");
    t.elapsed().as_secs_f64()
}

fn main() {
    let gib = util::env_f64("PTAPE_BENCH_GIB", 4.0);
    let total = (gib * 1024.0 * 1024.0 * 1024.0) as u64;
    let scratch = util::scratch();
    let src = scratch.path().join("src");
    println!(
        "backup_throughput: {gib} GiB of random data in {}",
        scratch.path().display()
    );
    let bytes = make_tree(&src, total);

    // On request, the tape write path alone (before tar: it adds as much
    // data to the page cache and the disk as a backup).
    let path_secs = (util::env_f64("PTAPE_BENCH_WRITE_PATH", 0.0) > 0.0)
        .then(|| tape_write_path_secs(&scratch.path().join("lib-write-path"), bytes));

    // tar cf of the same tree to a file.

    let tar_file = scratch.path().join("tree.tar");
    let t = Instant::now();
    let status = std::process::Command::new("tar")
        .arg("cf")
        .arg(&tar_file)
        .arg("-C")
        .arg(scratch.path())
        .arg("src")
        .status()
        .expect("run tar");
    assert!(status.success(), "tar failed");
    let tar_secs = t.elapsed().as_secs_f64();
    std::fs::remove_file(&tar_file).expect("remove tar file");

    // ptape backup to an emulated library large enough for the tree.
    let (_lib, devices) = emulated_library(
        &scratch.path().join("lib"),
        bytes,
        &["BN0001L9", "BN0002L9"],
    );
    let mut catalog = Catalog::open(&scratch.path().join("catalog.db")).expect("open catalog");
    let mut options = BackupOptions::new("default", vec![src.clone()]);
    options.id = Some("bench".into());
    let rss_before = util::proc_status_kib("VmHWM:").unwrap_or(0);
    let t = Instant::now();
    let result = run_backup(devices, &mut catalog, &options, &mut NoEvents).expect("backup");
    let backup_secs = t.elapsed().as_secs_f64();
    let hwm = util::proc_status_kib("VmHWM:").unwrap_or(0);
    assert_eq!(
        result.total_bytes,
        bytes
            + (0..64)
                .map(|i| format!("small file {i}\n").len() as u64)
                .sum::<u64>()
    );

    let tar_rate = util::mb_per_s(bytes, tar_secs);
    let ptape_rate = util::mb_per_s(bytes, backup_secs);
    println!("  source bytes          {bytes}");
    println!("  tar cf to a file      {tar_secs:8.2} s  {tar_rate:8.1} MB/s");
    println!(
        "  ptape backup          {backup_secs:8.2} s  {ptape_rate:8.1} MB/s  ({} chunks on {})",
        result.chunks_written,
        result.tapes.join(", ")
    );
    println!("  ratio ptape/tar       {:8.2}", ptape_rate / tar_rate);
    if let Some(path_secs) = path_secs {
        let path_rate = util::mb_per_s(bytes, path_secs);
        println!(
            "  tape write path alone {path_secs:8.2} s  {path_rate:8.1} MB/s  (ratio to tar {:.2}: the ceiling)",
            path_rate / tar_rate
        );
    }
    println!(
        "  peak RSS (VmHWM)      {:8.1} MiB (before the backup: {:.1} MiB; target < 256 MiB)",
        hwm as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
}
