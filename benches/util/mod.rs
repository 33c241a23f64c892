//! Shared by the ptape benchmarks: sizes from the environment, scratch
//! directories, incompressible data, peak RSS.
#![allow(dead_code)]

use std::path::PathBuf;

/// `VAR` parsed as a number, else `default`.
pub fn env_f64(var: &str, default: f64) -> f64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A scratch directory under `$PTAPE_BENCH_DIR` (default: the system temp
/// directory), removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    let base = std::env::var_os("PTAPE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base).expect("create the benchmark directory");
    tempfile::Builder::new()
        .prefix("ptape-bench-")
        .tempdir_in(base)
        .expect("create a scratch directory")
}

/// Fills `buf` with incompressible bytes (xorshift64*), continuing `state`.
pub fn fill_random(buf: &mut [u8], state: &mut u64) {
    for word in buf.chunks_mut(8) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        word.copy_from_slice(&v[..word.len()]);
    }
}

/// A `/proc/self/status` field in KiB (`VmHWM`: peak resident set).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// MB/s (10^6 bytes per second).
pub fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / secs.max(1e-9) / 1e6
}
