//! Throughput of the framing layer: write and read N GiB (env
//! `PTAPE_BENCH_GIB`, default 4; fractions allowed) of chunk archives of
//! random, incompressible data to a plain file (`FileTape`) and to the
//! emulated drive (`LtoDrive`), beside `dd bs=256K` of the same bytes in
//! the same run. Target: framing >= 0.9 x dd.
//!
//! Run: `cargo bench -p pbs-tape --bench format_throughput`.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use pbs_tape::drive::LtoDrive;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::Library;
use pbs_tape::format::{
    sha256, ChunkArchiveReader, ChunkWrite, FileTape, MediaWriter, ReadAhead, TapeRead, TapeWrite,
    WriterConfig,
};
use rand::RngCore;

const MIB: u64 = 1 << 20;
const CHUNK: usize = 4 << 20;
const POOL: usize = 64 << 20;

/// Random chunks: 4 MiB windows of a 64 MiB random pool, digests precomputed
/// (hashing is the producer's job, not the framing layer's).
struct Chunks {
    pool: Vec<u8>,
    digests: Vec<[u8; 32]>,
}

impl Chunks {
    fn new() -> Self {
        let mut pool = vec![0u8; POOL];
        rand::thread_rng().fill_bytes(&mut pool);
        let digests = (0..Self::count())
            .map(|i| sha256(Self::window(&pool, i)))
            .collect();
        Chunks { pool, digests }
    }
    fn count() -> usize {
        (POOL - CHUNK) / MIB as usize + 1
    }
    fn window(pool: &[u8], i: usize) -> &[u8] {
        &pool[i * MIB as usize..][..CHUNK]
    }
    fn get(&self, n: u64) -> (&[u8], &[u8; 32]) {
        let i = (n as usize) % Self::count();
        (Self::window(&self.pool, i), &self.digests[i])
    }
}

/// Write `bytes` of chunk data as archives, then commit. Returns chunks written.
fn write_archives<T: TapeWrite>(tape: T, chunks: &Chunks, bytes: u64) -> (u64, T) {
    let mut w = MediaWriter::new(tape, WriterConfig::default()).expect("writer");
    let total = bytes / CHUNK as u64;
    let mut n = 0;
    while n < total {
        let mut a = w.start_chunk_archive("bench").expect("archive");
        while n < total {
            let (data, digest) = chunks.get(n);
            n += 1;
            match a.add_chunk(digest, data).expect("add chunk") {
                ChunkWrite::Stored { archive_full } if !archive_full => {}
                ChunkWrite::Stored { .. } => break,
                ChunkWrite::MediumFull { .. } => panic!("medium full: raise the capacity"),
            }
        }
        a.finish().expect("finish");
    }
    w.commit().expect("commit");
    (n, w.into_tape())
}

/// Read every archive to end of data, verifying each chunk; returns chunks read.
fn read_archives<R: TapeRead>(tape: &mut R) -> u64 {
    let mut n = 0;
    loop {
        let mut reader = match ChunkArchiveReader::new(tape) {
            Ok(r) => r,
            Err(pbs_tape::format::FormatError::StreamCutShort { blocks: 0, .. }) => return n,
            Err(e) => panic!("read: {e}"),
        };
        while let Some(_entry) = reader.next_entry().expect("entry") {
            n += 1;
        }
    }
}

/// Reads overlap with verification: blocks are read in a second thread.
fn read_ahead<R: TapeRead + Send + 'static>(tape: R) -> ReadAhead<R> {
    ReadAhead::new(tape, 8)
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn timed<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed().as_secs_f64())
}

/// Drop a file from the page cache so the next read comes from disk.
fn drop_cache(path: &Path) {
    if let Ok(f) = File::open(path) {
        let _ = f.sync_all();
        let _ = nix::fcntl::posix_fadvise(
            f.as_raw_fd(),
            0,
            0,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        );
    }
}

fn dd(args: &[&str]) -> f64 {
    let (status, secs) = timed(|| {
        Command::new("dd")
            .args(args)
            .arg("bs=256K")
            .arg("status=none")
            .status()
            .expect("run dd")
    });
    assert!(status.success(), "dd {args:?} failed");
    secs
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

struct Row {
    name: &'static str,
    write: f64,
    read: f64,
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let gib: f64 = std::env::var("PTAPE_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4.0);
    let bytes = ((gib * (1u64 << 30) as f64) as u64).max(CHUNK as u64);
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "format_throughput: {:.2} GiB of random 4 MiB chunks, 256 KiB blocks, in {}",
        gib,
        dir.path().display()
    );
    let chunks = Chunks::new();

    // Plain file through the framing layer.
    let plain: PathBuf = dir.path().join("plain.img");
    let ((n, _), w_secs) =
        timed(|| write_archives(FileTape::create(&plain).expect("create"), &chunks, bytes));
    let data = n * CHUNK as u64;
    // dd of the same bytes: copy the (cached) image, synced.
    let copy = dir.path().join("dd.out");
    let dd_w = dd(&[
        &format!("if={}", plain.display()),
        &format!("of={}", copy.display()),
        "conv=fdatasync",
    ]);
    let image_bytes = size(&plain);
    drop_cache(&plain);
    let (read_n, r_secs) =
        timed(|| read_archives(&mut read_ahead(FileTape::open(&plain).expect("open"))));
    assert_eq!(read_n, n);
    // Again, now from the page cache: the framing layer's own CPU cost.
    let (_, r_warm) =
        timed(|| read_archives(&mut read_ahead(FileTape::open(&plain).expect("open"))));
    drop_cache(&copy);
    let dd_r = dd(&[&format!("if={}", copy.display()), "of=/dev/null"]);
    let dd_r_warm = dd(&[&format!("if={}", copy.display()), "of=/dev/null"]);
    let dd_row = Row {
        name: "dd bs=256K",
        write: mbps(image_bytes, dd_w),
        read: mbps(image_bytes, dd_r),
    };
    let plain_row = Row {
        name: "framing -> plain file",
        write: mbps(data, w_secs),
        read: mbps(data, r_secs),
    };
    let (dd_warm, plain_warm) = (mbps(image_bytes, dd_r_warm), mbps(data, r_warm));
    let _ = std::fs::remove_file(&copy);
    let _ = std::fs::remove_file(&plain);

    // Emulated drive through LtoDrive.
    let lib_dir = dir.path().join("lib");
    let config = LibraryConfig {
        slots: 0,
        ie_slots: 0,
        capacity: bytes * 2 + (1 << 30),
        early_warning: 64 * MIB,
        ..LibraryConfig::default()
    };
    let lib = Library::create(&lib_dir, config, &[], &[]).expect("library");
    lib.insert(0, "BENCH1L9").expect("insert");
    let open = || {
        let mut d =
            LtoDrive::open(&lib.drive_device_path(0).to_string_lossy()).expect("open drive");
        let _ = d.test_unit_ready();
        d
    };
    let ((n_emu, drive), w_emu) = timed(|| write_archives(open(), &chunks, bytes));
    drop(drive);
    drop_cache(&lib.tape_image_path("BENCH1L9"));
    let mut drive = open();
    drive.rewind().expect("rewind");
    let (read_emu, r_emu) = timed(|| read_archives(&mut read_ahead(drive)));
    assert_eq!(read_emu, n_emu);
    let emu_row = Row {
        name: "framing -> emulator",
        write: mbps(n_emu * CHUNK as u64, w_emu),
        read: mbps(n_emu * CHUNK as u64, r_emu),
    };

    // Component costs, to say what limits the framing layer.
    let sample = &chunks.pool[..32 << 20];
    let (_, sha_secs) = timed(|| sha256(sample));
    let (_, crc_secs) = timed(|| crc32c::crc32c(sample));

    println!();
    println!(
        "{:<24} {:>12} {:>12} {:>12} {:>12}",
        "target", "write MB/s", "read MB/s", "write/dd", "read/dd"
    );
    for row in [&dd_row, &plain_row, &emu_row] {
        println!(
            "{:<24} {:>12.0} {:>12.0} {:>12.2} {:>12.2}",
            row.name,
            row.write,
            row.read,
            row.write / dd_row.write,
            row.read / dd_row.read
        );
    }
    println!(
        "page-cached reads: dd {dd_warm:.0} MB/s, framing {plain_warm:.0} MB/s (ratio {:.2})",
        plain_warm / dd_warm
    );
    println!();
    println!(
        "sha256 (read-side verification): {:.0} MB/s",
        mbps(sample.len() as u64, sha_secs)
    );
    println!(
        "crc32c (every block, both sides): {:.0} MB/s",
        mbps(sample.len() as u64, crc_secs)
    );
    for row in [&plain_row, &emu_row] {
        if row.read / dd_row.read < 0.9 {
            println!(
                "{}: read below 0.9 x dd: every chunk is verified with SHA-256 ({:.0} MB/s on this CPU) in the reading thread (blocks are read ahead in a second one; this machine has {} cores)",
                row.name,
                mbps(sample.len() as u64, sha_secs),
                std::thread::available_parallelism().map_or(1, |n| n.get())
            );
        }
        if row.write / dd_row.write < 0.9 {
            println!(
                "{}: write below 0.9 x dd: one copy into the block buffer plus CRC32C per block, single thread, and the target's own cost",
                row.name
            );
        }
    }
}
