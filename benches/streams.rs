//! The stream format's targets (issue 15, item 7), each measured against
//! `tar` of the same tree in the same run, on tmpfs when `/dev/shm` exists
//! (source tree, tar file, emulated tapes and restores alike):
//!
//! - (a) 1 GiB in 64 MiB random files: backup vs `tar cf` (target >= 1.0x),
//!   restore vs `tar xf` (target >= 1.0x);
//! - (b) 50,000 files of 100 to 8,000 bytes: backup vs `tar cf` (target
//!   >= 0.8x), payload chunks <= payload bytes / 1 MiB + 64;
//! - (c) the same small-file tree backed up again unchanged: >= 5x faster
//!   than the first run, < 5 % of the payload bytes read; then with one
//!   file changed: new chunk data <= 2 x 16 MiB;
//! - (d) peak RSS < 256 MiB for 2 million empty and tiny files, backup and
//!   restore (the peak is reset between them through /proc/self/clear_refs).
//!
//! Each line prints the measured figure, the target and `met`/`NOT MET`.
//! Parts (a) to (c) also print the CPU seconds of tar (a waited-for child)
//! and of ptape (all threads of this process) and their ratio: on a
//! shared, loaded machine wall-clock ratios swing by 3x between runs,
//! the CPU ratios by about 10 %.
//! Sizes: `PTAPE_BENCH_STREAMS_GIB` (a; default 1), `PTAPE_BENCH_SMALL_FILES`
//! (b, c; default 50000), `PTAPE_BENCH_TINY_FILES` (d; default 2000000);
//! `PTAPE_BENCH_PARTS` picks parts (default `abcd`); `PTAPE_BENCH_DIR`
//! overrides the scratch place.
//! Run: `cargo bench -p ptape --bench streams`.

mod util;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use ptape::backup::{run_backup, BackupOptions, BackupResult};
use ptape::catalog::Catalog;
use ptape::config::ResolvedDrive;
use ptape::library::LibraryDevices;
use ptape::restore::{run_restore, RestoreOptions, RestoreResult};
use ptape::schedule::Clock;
use ptape::writer::NoEvents;

const MIB: u64 = 1024 * 1024;

/// Scratch space: `$PTAPE_BENCH_DIR`, else /dev/shm when it exists, else
/// the temp directory.
fn scratch() -> tempfile::TempDir {
    if std::env::var_os("PTAPE_BENCH_DIR").is_none() && Path::new("/dev/shm").is_dir() {
        return tempfile::Builder::new()
            .prefix("ptape-bench-")
            .tempdir_in("/dev/shm")
            .expect("create a scratch directory in /dev/shm");
    }
    util::scratch()
}

/// One backup target: an emulated library and a catalog (with its file
/// index) in `dir`.
struct Target {
    lib: Library,
    catalog: Catalog,
    runs: i64,
}

impl Target {
    fn new(dir: &Path, capacity: u64) -> Target {
        let config = LibraryConfig {
            drives: 1,
            slots: 2,
            ie_slots: 0,
            capacity,
            early_warning: 64 * MIB,
            serial: "PTAPEBENCH".into(),
            ..LibraryConfig::default()
        };
        let barcodes = vec!["BS0001L9".to_string(), "BS0002L9".to_string()];
        let lib = Library::create(&dir.join("lib"), config, &barcodes, &[])
            .expect("create the emulated library");
        let catalog = Catalog::open(&dir.join("catalog.db")).expect("open the catalog");
        Target {
            lib,
            catalog,
            runs: 0,
        }
    }

    fn devices(&self) -> LibraryDevices {
        LibraryDevices::from_resolved(ResolvedDrive {
            name: "drive0".into(),
            path: self.lib.drive_device_path(0).display().to_string(),
            changer: Some("changer".into()),
            changer_path: Some(self.lib.changer_device_path().display().to_string()),
            changer_drivenum: 0,
            embedded: false,
            ..Default::default()
        })
        .expect("open the emulated drive")
    }

    /// Backs `src` up (snapshot id `bench`, one second after the last).
    fn backup(&mut self, src: &Path) -> (BackupResult, f64) {
        self.runs += 1;
        let mut options = BackupOptions::new("default", vec![src.to_path_buf()]);
        options.id = Some("bench".into());
        let at = jiff::Timestamp::now().as_second() + self.runs;
        options.clock = Clock::Fixed(jiff::Timestamp::from_second(at).expect("time"));
        let devices = self.devices();
        let t = Instant::now();
        let result =
            run_backup(devices, &mut self.catalog, &options, &mut NoEvents).expect("backup");
        (result, t.elapsed().as_secs_f64())
    }

    fn restore(&self, snapshot: &str, to: &Path) -> (RestoreResult, f64) {
        let options = RestoreOptions::new(snapshot, to);
        let devices = self.devices();
        let t = Instant::now();
        let result = run_restore(devices, &self.catalog, &options, &mut NoEvents).expect("restore");
        assert!(result.damaged.is_empty(), "{:?}", result.damaged);
        (result, t.elapsed().as_secs_f64())
    }
}

/// CPU seconds (user + system) used so far by this process (all its
/// threads) and by its waited-for children (tar), from /proc/self/stat.
/// On a loaded machine these are steadier than wall times: the CPU ratio
/// says how much work ptape does per byte compared with tar.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime, stime, cutime, cstime are fields 14-17 (1-based); `rest`
    // starts at field 3.
    let tick = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map_or(100.0, |t| t as f64);
    let at = |i: usize| f.get(i - 3).copied().unwrap_or(0.0) / tick;
    (at(14) + at(15), at(16) + at(17))
}

/// Runs `f`, returning its result and the CPU seconds it took (this
/// process's threads plus children waited for meanwhile).
fn cpu_of<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let (s0, c0) = cpu_seconds();
    let out = f();
    let (s1, c1) = cpu_seconds();
    (out, (s1 - s0) + (c1 - c0))
}

fn tar(args: &[&str], dir: &Path) -> f64 {
    let t = Instant::now();
    let status = std::process::Command::new("tar")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar {args:?} failed");
    t.elapsed().as_secs_f64()
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT MET"
    }
}

/// Flushes dirty pages before a timing (on tmpfs a no-op in effect).
fn settle() {
    nix::unistd::sync();
}

/// Resets the peak RSS (VmHWM) of this process.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_rss_mib() -> f64 {
    util::proc_status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
}

/// (a): 64 MiB random files.
fn part_a(root: &Path) {
    let gib = util::env_f64("PTAPE_BENCH_STREAMS_GIB", 1.0);
    let total = (gib * 1024.0 * MIB as f64) as u64;
    let src = root.join("a/src");
    std::fs::create_dir_all(&src).expect("mkdir");
    let mut state = 0xA11CE_u64;
    let mut buf = vec![0u8; MIB as usize];
    let (mut written, mut n) = (0u64, 0);
    while written < total {
        let mut f = std::fs::File::create(src.join(format!("f{n:03}.bin"))).expect("create");
        let size = (64 * MIB).min(total - written);
        let mut left = size;
        while left > 0 {
            let step = left.min(MIB) as usize;
            util::fill_random(&mut buf[..step], &mut state);
            f.write_all(&buf[..step]).expect("write");
            left -= step as u64;
        }
        written += size;
        n += 1;
    }
    let dir = root.join("a");
    settle();
    let (tar_c, tar_c_cpu) = cpu_of(|| tar(&["cf", "tree.tar", "src"], &dir));
    std::fs::create_dir_all(dir.join("untar")).expect("mkdir");
    settle();
    let (tar_x, tar_x_cpu) = cpu_of(|| tar(&["xf", "../tree.tar"], &dir.join("untar")));
    std::fs::remove_dir_all(dir.join("untar")).expect("rm");
    std::fs::remove_file(dir.join("tree.tar")).expect("rm");
    let mut target = Target::new(&dir.join("t"), total * 2 + (1 << 30));
    settle();
    let ((b, backup), backup_cpu) = cpu_of(|| target.backup(&src));
    settle();
    let ((r, restore), restore_cpu) = cpu_of(|| target.restore(&b.snapshot, &dir.join("restored")));
    assert_eq!(r.bytes, written);
    let (cr, xr) = (tar_c / backup, tar_x / restore);
    println!("(a) {gib} GiB in {n} random files of 64 MiB ({written} bytes)");
    println!("    tar cf        {tar_c:7.2} s   ptape backup  {backup:7.2} s   ratio {cr:5.2} (target >= 1.00: {})", verdict(cr >= 1.0));
    println!("    tar xf        {tar_x:7.2} s   ptape restore {restore:7.2} s   ratio {xr:5.2} (target >= 1.00: {})", verdict(xr >= 1.0));
    println!(
        "    {} payload chunks, {} bytes written",
        b.payload_chunks, b.bytes_written
    );
    println!(
        "    CPU seconds: tar cf {tar_c_cpu:.2}, backup {backup_cpu:.2} (ratio {:.2}); tar xf {tar_x_cpu:.2}, restore {restore_cpu:.2} (ratio {:.2})",
        tar_c_cpu / backup_cpu.max(0.01),
        tar_x_cpu / restore_cpu.max(0.01)
    );
    std::fs::remove_dir_all(&dir).expect("rm");
}

/// `n` files of `min..=max` bytes (random data) in directories of 1000;
/// returns their bytes.
fn small_tree(src: &Path, n: u64, min: u64, max: u64) -> u64 {
    let mut state = 0x5A11_u64;
    let mut buf = vec![0u8; max as usize];
    let mut total = 0;
    for i in 0..n {
        let dir = src.join(format!("d{:03}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&dir).expect("mkdir");
        }
        let len = if max == 0 {
            0
        } else {
            min + (i.wrapping_mul(2_654_435_761) % (max - min + 1))
        } as usize;
        util::fill_random(&mut buf[..len], &mut state);
        std::fs::write(dir.join(format!("f{i:07}")), &buf[..len]).expect("write");
        total += len as u64;
    }
    total
}

/// (b) and (c): 50,000 small files.
fn part_bc(root: &Path) {
    let n = util::env_f64("PTAPE_BENCH_SMALL_FILES", 50_000.0) as u64;
    let dir = root.join("b");
    let src = dir.join("src");
    let bytes = small_tree(&src, n, 100, 8000);
    settle();
    let (tar_c, tar_c_cpu) = cpu_of(|| tar(&["cf", "tree.tar", "src"], &dir));
    std::fs::remove_file(dir.join("tree.tar")).expect("rm");
    let mut target = Target::new(&dir.join("t"), 4 * bytes + (1 << 30));
    settle();
    let ((first, t1), t1_cpu) = cpu_of(|| target.backup(&src));
    let ratio = tar_c / t1;
    let chunk_limit = first.total_bytes / MIB + 64;
    println!("(b) {n} files of 100 to 8000 bytes ({bytes} bytes)");
    println!("    tar cf        {tar_c:7.2} s   ptape backup  {t1:7.2} s   ratio {ratio:5.2} (target >= 0.80: {})", verdict(ratio >= 0.8));
    println!(
        "    payload chunks {} (target <= {chunk_limit}: {}), metadata chunks {}",
        first.payload_chunks,
        verdict(first.payload_chunks <= chunk_limit),
        first.metadata_chunks
    );
    println!(
        "    CPU seconds: tar cf {tar_c_cpu:.2}, backup {t1_cpu:.2} (ratio {:.2})",
        tar_c_cpu / t1_cpu.max(0.01)
    );
    settle();
    let ((second, t2), t2_cpu) = cpu_of(|| target.backup(&src));
    let speedup = t1 / t2;
    let read_share = second.read_bytes as f64 / bytes.max(1) as f64 * 100.0;
    println!(
        "(c) the same tree again, unchanged (reference {:?})",
        second.reference
    );
    println!("    first run     {t1:7.2} s   second run    {t2:7.2} s   {speedup:5.1}x faster (target >= 5x: {})", verdict(speedup >= 5.0));
    println!(
        "    CPU seconds: first run {t1_cpu:.2}, second run {t2_cpu:.2} ({:.1}x less)",
        t1_cpu / t2_cpu.max(0.01)
    );
    println!(
        "    read {} of {bytes} payload bytes = {read_share:.2} % (target < 5 %: {}); {} new chunks",
        second.read_bytes,
        verdict(read_share < 5.0),
        second.chunks_written
    );
    // One file in the middle changed (new bytes, new size).
    let victim = src.join(format!("d{:03}/f{:07}", (n / 2) / 1000, n / 2));
    std::fs::write(&victim, vec![0x5Au8; 7777]).expect("change a file");
    settle();
    let (third, t3) = target.backup(&src);
    println!(
        "    one file changed: {t3:.2} s, read {} bytes, new chunk data {} bytes in {} chunks (target <= {}: {}), {} reused files, {} bytes of reused chunks",
        third.read_bytes,
        third.bytes_written,
        third.chunks_written,
        32 * MIB,
        verdict(third.bytes_written <= 32 * MIB),
        third.reused_files,
        third.reused_bytes
    );
    std::fs::remove_dir_all(&dir).expect("rm");
}

/// (d): 2 million empty and tiny files.
fn part_d(root: &Path) {
    let n = util::env_f64("PTAPE_BENCH_TINY_FILES", 2_000_000.0) as u64;
    let dir = root.join("d");
    let src = dir.join("src");
    let t = Instant::now();
    let bytes = small_tree(&src, n, 0, 16);
    println!(
        "(d) {n} empty and tiny files ({bytes} bytes; made in {:.0} s)",
        t.elapsed().as_secs_f64()
    );
    let mut target = Target::new(&dir.join("t"), 8 << 30);
    let reset = reset_peak_rss();
    let before = util::proc_status_kib("VmRSS:").unwrap_or(0) as f64 / 1024.0;
    let (b, secs) = target.backup(&src);
    let backup_peak = peak_rss_mib();
    println!(
        "    backup  {secs:7.1} s   peak RSS {backup_peak:7.1} MiB (RSS before {before:.1} MiB{}; target < 256 MiB: {}), {} metadata chunks",
        if reset { ", peak reset" } else { ", peak NOT reset: includes earlier parts" },
        verdict(backup_peak < 256.0),
        b.metadata_chunks
    );
    // The source goes before the restore: two trees of 2 million files
    // would not fit tmpfs's inode limit (about 3 million on 24 GiB).
    std::fs::remove_dir_all(&src).expect("rm");
    let reset = reset_peak_rss();
    let (r, secs) = target.restore(&b.snapshot, &dir.join("restored"));
    let restore_peak = peak_rss_mib();
    assert_eq!(r.files, n);
    println!(
        "    restore {secs:7.1} s   peak RSS {restore_peak:7.1} MiB ({}; target < 256 MiB: {})",
        if reset {
            "peak reset"
        } else {
            "peak NOT reset"
        },
        verdict(restore_peak < 256.0)
    );
    std::fs::remove_dir_all(&dir).expect("rm");
}

fn main() {
    let parts = std::env::var("PTAPE_BENCH_PARTS").unwrap_or_else(|_| "abcd".into());
    let root = scratch();
    println!("streams benchmark in {}", root.path().display());
    if parts.contains('a') {
        part_a(root.path());
    }
    if parts.contains('b') || parts.contains('c') {
        part_bc(root.path());
    }
    if parts.contains('d') {
        part_d(root.path());
    }
}
