//! What a file is besides its bytes, through the emulated library:
//! extended attributes, POSIX ACLs (access and default), file capabilities,
//! sparse files (holes recreated), fifos and device nodes, backed up and
//! restored. Parts the test file system or the user cannot do are skipped
//! with a message (capabilities and device nodes need root).

mod restore_util;

use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use ptape::backup::run_backup;
use ptape::catalog::Catalog;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::writer::NoEvents;
use restore_util::{backup_options, library_devices, make_library, random_bytes, MIB};

const ACL_USER_OBJ: u16 = 0x01;
const ACL_USER: u16 = 0x02;
const ACL_GROUP_OBJ: u16 = 0x04;
const ACL_MASK: u16 = 0x10;
const ACL_OTHER: u16 = 0x20;
const ACL_UNDEFINED_ID: u32 = u32::MAX;

/// A `system.posix_acl_*` value (Linux posix_acl_xattr format, version 2):
/// owner rw, user 4242 r, group r, mask r, other none.
fn acl_value() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (ACL_USER_OBJ, 6u16, ACL_UNDEFINED_ID),
        (ACL_USER, 4, 4242),
        (ACL_GROUP_OBJ, 4, ACL_UNDEFINED_ID),
        (ACL_MASK, 4, ACL_UNDEFINED_ID),
        (ACL_OTHER, 0, ACL_UNDEFINED_ID),
    ] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

/// `security.capability` (VFS_CAP_REVISION_2, effective): cap_net_bind_service.
fn caps_value() -> Vec<u8> {
    let mut v = (0x0200_0000u32 | 1).to_le_bytes().to_vec();
    for word in [1u32 << 10, 0, 0, 0] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v
}

fn set(path: &Path, name: &str, value: &[u8]) -> Result<(), String> {
    xattr::set(path, OsStr::new(name), value)
        .map_err(|e| format!("{name} on {}: {e}", path.display()))
}

fn get(path: &Path, name: &str) -> Option<Vec<u8>> {
    xattr::get(path, OsStr::new(name)).unwrap()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn attributes_sparse_files_and_special_files_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = make_library(&tmp.path().join("lib"), 2, 512 * MIB);
    let mut catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
    let src = tmp.path().join("src/data");
    std::fs::create_dir_all(src.join("shared")).unwrap();
    let mut checks: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    let mut skipped = Vec::new();

    std::fs::write(src.join("tagged"), b"with attributes").unwrap();
    match set(&src.join("tagged"), "user.comment", b"kept \x00 binary") {
        Ok(()) => {
            set(&src.join("tagged"), "user.empty", b"").unwrap();
            checks.push(("tagged", "user.comment", b"kept \x00 binary".to_vec()));
            checks.push(("tagged", "user.empty", Vec::new()));
            // On a directory too.
            set(&src.join("shared"), "user.dir", b"d").unwrap();
            checks.push(("shared", "user.dir", b"d".to_vec()));
        }
        Err(e) => skipped.push(format!("user extended attributes: {e}")),
    }
    std::fs::write(src.join("acl"), b"with an ACL").unwrap();
    match set(&src.join("acl"), "system.posix_acl_access", &acl_value()) {
        Ok(()) => {
            checks.push(("acl", "system.posix_acl_access", acl_value()));
            set(
                &src.join("shared"),
                "system.posix_acl_default",
                &acl_value(),
            )
            .unwrap();
            checks.push(("shared", "system.posix_acl_default", acl_value()));
        }
        Err(e) => skipped.push(format!("POSIX ACLs: {e}")),
    }
    std::fs::write(src.join("capable"), b"#!/bin/sh\n").unwrap();
    if is_root() {
        match set(&src.join("capable"), "security.capability", &caps_value()) {
            Ok(()) => checks.push(("capable", "security.capability", caps_value())),
            Err(e) => skipped.push(format!("file capabilities: {e}")),
        }
    } else {
        skipped.push("file capabilities: not root".into());
    }

    // Sparse: 8 MiB with two islands of data.
    let island = random_bytes(100_000, 77);
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(src.join("sparse.img")).unwrap();
        f.seek(SeekFrom::Start(MIB)).unwrap();
        f.write_all(&island).unwrap();
        f.seek(SeekFrom::Start(6 * MIB)).unwrap();
        f.write_all(&island).unwrap();
        f.set_len(8 * MIB).unwrap();
    }
    let sparse_src = std::fs::metadata(src.join("sparse.img")).unwrap();
    let source_is_sparse = sparse_src.blocks() * 512 < sparse_src.len() / 2;

    nix::unistd::mkfifo(
        &src.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    let device = if is_root() {
        use nix::sys::stat::{makedev, mknod, Mode, SFlag};
        match mknod(
            &src.join("null"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            makedev(1, 3),
        ) {
            Ok(()) => true,
            Err(e) => {
                skipped.push(format!("device nodes: mknod: {e}"));
                false
            }
        }
    } else {
        skipped.push("device nodes: not root".into());
        false
    };

    let options = backup_options(&src, "attrs");
    let backup = run_backup(library_devices(&lib), &mut catalog, &options, &mut NoEvents).unwrap();
    assert_eq!(backup.warnings, 0);
    let out = tmp.path().join("out");
    let r = run_restore(
        library_devices(&lib),
        &catalog,
        &RestoreOptions::new(&backup.snapshot, &out),
        &mut NoEvents,
    )
    .unwrap();
    assert!(r.damaged.is_empty(), "{:?}", r.damaged);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let restored = out.join("data");

    for (file, name, value) in &checks {
        assert_eq!(
            get(&restored.join(file), name).as_deref(),
            Some(value.as_slice()),
            "{file}: {name}"
        );
    }
    // Nothing added either.
    let names = |p: &Path| {
        let mut v: Vec<_> = xattr::list(p).unwrap().collect();
        v.sort();
        v
    };
    for file in ["tagged", "acl", "capable", "shared"] {
        assert_eq!(
            names(&src.join(file)),
            names(&restored.join(file)),
            "{file}"
        );
    }

    let sparse = restored.join("sparse.img");
    let bytes = std::fs::read(&sparse).unwrap();
    assert_eq!(bytes, std::fs::read(src.join("sparse.img")).unwrap());
    let meta = std::fs::metadata(&sparse).unwrap();
    assert_eq!(meta.len(), 8 * MIB);
    assert!(
        meta.blocks() * 512 <= 2 * (2 * 100_000 + 2 * 4096 + 65536),
        "holes not recreated: {} blocks of 512 bytes for 200,000 bytes of data",
        meta.blocks()
    );
    if !source_is_sparse {
        skipped.push("sparse source: the test file system filled the holes".into());
    }

    assert!(std::fs::symlink_metadata(restored.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(
        std::fs::symlink_metadata(restored.join("fifo"))
            .unwrap()
            .mode()
            & 0o7777,
        0o640
    );
    if device {
        let m = std::fs::symlink_metadata(restored.join("null")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), nix::sys::stat::makedev(1, 3));
    }
    // The rest as a tree (its comparison reads every non-directory: no
    // fifos or devices).
    for special in ["fifo", "null"] {
        let _ = std::fs::remove_file(src.join(special));
        let _ = std::fs::remove_file(restored.join(special));
    }
    restore_util::assert_same_tree(&src, &restored);
    for s in skipped {
        eprintln!("skipped: {s}");
    }
}
