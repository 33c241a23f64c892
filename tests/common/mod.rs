//! Shared helpers of the ptape library tests: a generated source tree.
#![allow(dead_code)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use rand::{RngCore, SeedableRng};

/// Deterministic random bytes (incompressible, no accidental dedup).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

/// Builds `root/data` with every kind of entry a backup must handle:
/// empty dir, small and 0-byte files, a large file of `large` random bytes,
/// a sparse file, symlinks, hard links and unicode names. Returns `root/data`.
pub fn make_tree(root: &Path, large: usize) -> PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(data.join("empty-dir")).unwrap();
    std::fs::create_dir_all(data.join("docs/nested")).unwrap();
    std::fs::write(data.join("docs/a.txt"), b"alpha\n").unwrap();
    std::fs::write(data.join("docs/nested/b.txt"), b"beta beta\n").unwrap();
    std::fs::write(data.join("zero-bytes"), b"").unwrap();
    std::fs::write(data.join("große_datei_日本語.txt"), "unicode ✓\n").unwrap();
    std::fs::write(data.join("large.bin"), random_bytes(large, 7)).unwrap();
    let sparse = std::fs::File::create(data.join("sparse.img")).unwrap();
    sparse.set_len(3 * 1024 * 1024 + 17).unwrap();
    symlink("docs/a.txt", data.join("link-to-a")).unwrap();
    symlink("/nonexistent/target", data.join("dangling")).unwrap();
    std::fs::hard_link(data.join("docs/a.txt"), data.join("hard-a")).unwrap();
    data
}
