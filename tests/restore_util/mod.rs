//! Shared by the restore and scan tests (library and CLI): a generated
//! source tree with every kind of entry and varied metadata, a tree
//! comparison that checks bytes, modes, mtimes and link structure, and an
//! emulated library to back up to.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::format::WriterConfig;
use ptape::backup::BackupOptions;
use ptape::chunking::ChunkerConfig;
use ptape::config::ResolvedDrive;
use ptape::library::LibraryDevices;

pub const MIB: u64 = 1024 * 1024;

/// Deterministic incompressible bytes (xorshift64*), no two seeds alike.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn set_mtime(path: &Path, secs: u64) {
    let f = std::fs::File::open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::new(secs, 123_456_789))
        .unwrap();
}

/// Builds `root/data`: an empty directory, small and 0-byte files, a
/// `large`-byte random file, a sparse file, symlinks (one dangling), a
/// hard-link pair, unicode names, unusual modes and old mtimes.
pub fn make_tree(root: &Path, large: usize) -> PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(data.join("empty-dir")).unwrap();
    std::fs::create_dir_all(data.join("docs/nested")).unwrap();
    std::fs::create_dir_all(data.join("private")).unwrap();
    std::fs::write(data.join("docs/a.txt"), b"alpha\n").unwrap();
    std::fs::write(data.join("docs/nested/b.txt"), b"beta beta\n").unwrap();
    std::fs::write(data.join("docs/nested/copy-of-a.txt"), b"alpha\n").unwrap();
    std::fs::write(data.join("zero-bytes"), b"").unwrap();
    std::fs::write(data.join("große_datei_日本語.txt"), "unicode ✓\n").unwrap();
    std::fs::write(data.join("large.bin"), random_bytes(large, 7)).unwrap();
    std::fs::write(data.join("private/secret"), random_bytes(70_000, 9)).unwrap();
    std::fs::write(data.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    let sparse = std::fs::File::create(data.join("sparse.img")).unwrap();
    sparse.set_len(3 * MIB + 17).unwrap();
    drop(sparse);
    symlink("docs/a.txt", data.join("link-to-a")).unwrap();
    symlink("/nonexistent/target", data.join("dangling")).unwrap();
    std::fs::hard_link(data.join("docs/a.txt"), data.join("hard-a")).unwrap();
    std::fs::hard_link(data.join("large.bin"), data.join("docs/large-again.bin")).unwrap();
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(data.join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode("private/secret", 0o600);
    mode("run.sh", 0o755);
    mode("zero-bytes", 0o640);
    for (i, p) in [
        "docs/a.txt",
        "large.bin",
        "sparse.img",
        "zero-bytes",
        "run.sh",
    ]
    .iter()
    .enumerate()
    {
        set_mtime(&data.join(p), 1_000_000_000 + i as u64 * 86_400);
    }
    for (i, d) in ["docs/nested", "docs", "empty-dir", "private"]
        .iter()
        .enumerate()
    {
        set_mtime(&data.join(d), 1_200_000_000 + i as u64 * 3600);
    }
    mode("private", 0o750);
    data
}

/// What the comparison looks at for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
        mtime: (i64, i64),
    },
    File {
        mode: u32,
        mtime: (i64, i64),
        len: u64,
    },
    Symlink {
        target: PathBuf,
        mtime: (i64, i64),
    },
}

/// Every path under `root` (relative) with its metadata; hard-link groups
/// (paths sharing an inode) as sets.
pub fn describe(root: &Path) -> (BTreeMap<PathBuf, Node>, BTreeSet<BTreeSet<PathBuf>>) {
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut BTreeMap<PathBuf, Node>,
        inodes: &mut BTreeMap<u64, BTreeSet<PathBuf>>,
    ) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let mtime = (m.mtime(), m.mtime_nsec());
            let mode = m.mode() & 0o7777;
            if m.is_dir() {
                out.insert(rel, Node::Dir { mode, mtime });
                walk(root, &path, out, inodes);
            } else if m.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, Node::Symlink { target, mtime });
            } else {
                inodes.entry(m.ino()).or_default().insert(rel.clone());
                out.insert(
                    rel,
                    Node::File {
                        mode,
                        mtime,
                        len: m.len(),
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut inodes = BTreeMap::new();
    walk(root, root, &mut out, &mut inodes);
    let groups = inodes.into_values().filter(|g| g.len() > 1).collect();
    (out, groups)
}

/// Asserts that `restored` equals `original`: the same paths, kinds,
/// modes, mtimes (to the nanosecond), symlink targets, file bytes and
/// hard-link groups.
pub fn assert_same_tree(original: &Path, restored: &Path) {
    let (a, ga) = describe(original);
    let (b, gb) = describe(restored);
    let pa: Vec<_> = a.keys().collect();
    let pb: Vec<_> = b.keys().collect();
    assert_eq!(pa, pb, "paths differ");
    for (path, node) in &a {
        assert_eq!(Some(node), b.get(path), "{}", path.display());
        if let Node::File { .. } = node {
            let x = std::fs::read(original.join(path)).unwrap();
            let y = std::fs::read(restored.join(path)).unwrap();
            assert!(x == y, "{}: contents differ", path.display());
        }
    }
    assert_eq!(ga, gb, "hard-link groups differ");
}

/// An emulated library of `tapes` data cartridges `BK0001L9`... of
/// `capacity` bytes each (early warning 1 MiB before the end).
pub fn make_library(dir: &Path, tapes: usize, capacity: u64) -> Library {
    make_named_library(dir, tapes, capacity, "BK", "PTAPERESTORE", false)
}

/// An emulated library with one drive, 8 slots and an import/export slot:
/// `tapes` data cartridges `PREFIX0001L9`... of `capacity` bytes each
/// (early warning 1 MiB before the end), and with `cleaning` a cleaning
/// cartridge `CLN001L1`.
pub fn make_named_library(
    dir: &Path,
    tapes: usize,
    capacity: u64,
    prefix: &str,
    serial: &str,
    cleaning: bool,
) -> Library {
    let config = LibraryConfig {
        drives: 1,
        slots: 8,
        ie_slots: 1,
        capacity,
        early_warning: MIB,
        serial: serial.into(),
        ..LibraryConfig::default()
    };
    let barcodes: Vec<String> = (1..=tapes).map(|i| format!("{prefix}{i:04}L9")).collect();
    let cln: Vec<String> = if cleaning {
        vec!["CLN001L1".into()]
    } else {
        vec![]
    };
    Library::create(dir, config, &barcodes, &cln).unwrap()
}

/// Takes a cartridge out of the library (its slot is emptied; the
/// cartridge and its image stay on the shelf).
pub fn take_offline(lib: &Library, barcode: &str) {
    lib.update(|state| {
        for slot in state.slots.iter_mut() {
            if slot.as_deref() == Some(barcode) {
                *slot = None;
            }
        }
        Ok(())
    })
    .unwrap();
}

/// Flips bytes in the middle of a cartridge's tape image (inside block
/// payloads, past the labels).
pub fn corrupt_image(lib: &Library, barcode: &str) {
    let path = lib.tape_image_path(barcode);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4 * MIB as usize, "image too small to damage");
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
}

/// Drive 0 and the changer of `lib` as a resolved drive configuration.
pub fn library_resolved(lib: &Library) -> ResolvedDrive {
    ResolvedDrive {
        name: "drive0".into(),
        path: lib.drive_device_path(0).display().to_string(),
        changer: Some("changer".into()),
        changer_path: Some(lib.changer_device_path().display().to_string()),
        changer_drivenum: 0,
        embedded: false,
        ..Default::default()
    }
}

/// Drive 0 and the changer of `lib` as ptape's library devices.
pub fn library_devices(lib: &Library) -> LibraryDevices {
    LibraryDevices::from_resolved(library_resolved(lib)).unwrap()
}

/// Options for a backup of `src` as snapshot `id` into pool "default",
/// with small chunks, blocks and archives so that a tree of a few tens of
/// MiB spans several archives.
pub fn backup_options(src: &Path, id: &str) -> BackupOptions {
    let mut o = BackupOptions::new("default", vec![src.to_path_buf()]);
    o.id = Some(id.into());
    o.chunker = ChunkerConfig {
        min: 16 * 1024,
        avg: 64 * 1024,
        max: 256 * 1024,
    };
    o.format = WriterConfig {
        block_size: 64 * 1024,
        archive_cap: 2 * MIB,
        commit_interval: 3 * MIB,
    };
    o
}
