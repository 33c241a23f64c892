//! Restores from the emulated library (real CDBs through the drive and
//! changer layers): byte-identical trees with metadata and link structure,
//! partial restores, deduplicated second backups, restores spanning three
//! tapes, offline tapes and refusal to overwrite.

mod restore_util;

use std::path::{Path, PathBuf};

use pbs_tape::emulator::library::Library;
use ptape::backup::{run_backup, BackupResult};
use ptape::catalog::Catalog;
use ptape::library::LibraryDevices;
use ptape::restore::{run_restore, RestoreError, RestoreOptions, RestoreResult};
use ptape::writer::NoEvents;
use restore_util::{
    assert_same_tree, backup_options, library_devices, make_library, make_tree, take_offline, MIB,
};

struct Lab {
    tmp: tempfile::TempDir,
    lib: Library,
    src: PathBuf,
    catalog: Catalog,
}

impl Lab {
    fn new(tapes: usize, capacity: u64, large: usize) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), tapes, capacity);
        let src = make_tree(&tmp.path().join("src"), large);
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        Lab {
            tmp,
            lib,
            src,
            catalog,
        }
    }

    fn devices(&self) -> LibraryDevices {
        library_devices(&self.lib)
    }

    fn backup(&mut self, id: &str) -> BackupResult {
        let o = backup_options(&self.src, id);
        run_backup(self.devices(), &mut self.catalog, &o, &mut NoEvents).unwrap()
    }

    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn restore(&self, options: &RestoreOptions) -> Result<RestoreResult, RestoreError> {
        run_restore(self.devices(), &self.catalog, options, &mut NoEvents)
    }

    fn chunk_rows(&self) -> i64 {
        self.catalog
            .connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap()
    }
}

/// Every path under `dir` whose name marks it as a restore temporary.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".ptape-restore"))
        {
            found.push(p.clone());
        }
        if p.is_dir() && !p.is_symlink() {
            found.extend(leftovers(&p));
        }
    }
    found
}

#[test]
fn restore_is_byte_identical_with_metadata_and_links() {
    let mut lab = Lab::new(2, 512 * MIB, 21 * MIB as usize);
    let backup = lab.backup("full");
    let out = lab.out("out");
    let result = lab
        .restore(&RestoreOptions::new(&backup.snapshot, &out))
        .unwrap();
    assert_same_tree(&lab.src, &out.join("data"));
    assert_eq!(result.tapes, ["BK0001L9"]);
    assert!(result.bytes > 21 * MIB);
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
    // The sparse file was restored without writing its zeros.
    let sparse = std::fs::metadata(out.join("data/sparse.img")).unwrap();
    assert!(std::os::unix::fs::MetadataExt::blocks(&sparse) * 512 < MIB);

    // Restoring over it is refused (nothing touched), then allowed.
    std::fs::write(out.join("data/docs/a.txt"), b"changed").unwrap();
    let err = lab
        .restore(&RestoreOptions::new(&backup.snapshot, &out))
        .unwrap_err();
    assert!(matches!(err, RestoreError::Exists(_)), "{err}");
    assert!(err.to_string().contains("--overwrite"), "{err}");
    assert_eq!(
        std::fs::read(out.join("data/docs/a.txt")).unwrap(),
        b"changed"
    );
    let mut options = RestoreOptions::new(&backup.snapshot, &out);
    options.overwrite = true;
    lab.restore(&options).unwrap();
    assert_same_tree(&lab.src, &out.join("data"));
    assert!(leftovers(&out).is_empty());

    // The comparison is strict: one changed mode is caught.
    use std::os::unix::fs::PermissionsExt;
    let probe = out.join("data/run.sh");
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o700)).unwrap();
    let strict = std::panic::catch_unwind(|| assert_same_tree(&lab.src, &out.join("data")));
    assert!(strict.is_err());
}

#[test]
fn partial_restore_takes_only_the_selected_paths() {
    let mut lab = Lab::new(2, 512 * MIB, 21 * MIB as usize);
    let backup = lab.backup("part");
    let out = lab.out("part");
    let mut options = RestoreOptions::new(&backup.snapshot, &out);
    options.paths = vec!["data/docs".into()];
    let result = lab.restore(&options).unwrap();
    assert_same_tree(&lab.src.join("docs"), &out.join("data/docs"));
    let top: Vec<_> = std::fs::read_dir(out.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(top, ["docs"]);
    // docs/large-again.bin is a hard link of large.bin (not selected): it
    // came back as the file itself.
    assert!(result.bytes > 21 * MIB);

    options.paths = vec!["data/no-such".into()];
    let err = lab.restore(&options).unwrap_err();
    assert!(matches!(err, RestoreError::PathNotInSnapshot(ref p) if p == "data/no-such"));
}

#[test]
fn second_backup_adds_no_chunks_and_both_restore() {
    let mut lab = Lab::new(2, 512 * MIB, 21 * MIB as usize);
    let first = lab.backup("one");
    let rows = lab.chunk_rows();
    let media_rows = lab.catalog.media_set_digests(first.media_set).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = lab.backup("two");
    assert_eq!(second.chunks_written, 0);
    assert_eq!(second.bytes_written, 0);
    assert_eq!(lab.chunk_rows(), rows);
    assert_eq!(
        lab.catalog.media_set_digests(second.media_set).unwrap(),
        media_rows
    );
    for (snap, dir) in [(&first.snapshot, "one"), (&second.snapshot, "two")] {
        let out = lab.out(dir);
        lab.restore(&RestoreOptions::new(snap, &out)).unwrap();
        assert_same_tree(&lab.src, &out.join("data"));
    }
}

#[test]
fn restore_spanning_three_tapes_loads_each_once() {
    // 10 MiB cartridges, early warning at 9 MiB: ~25 MiB of data.
    let mut lab = Lab::new(5, 10 * MIB, 21 * MIB as usize);
    let backup = lab.backup("span");
    assert!(backup.tapes.len() >= 3, "{:?}", backup.tapes);
    let out = lab.out("span");
    let result = lab
        .restore(&RestoreOptions::new(&backup.snapshot, &out))
        .unwrap();
    assert_same_tree(&lab.src, &out.join("data"));
    let mut unique = result.tapes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), result.tapes.len(), "{:?}", result.tapes);
    assert_eq!(unique.len(), backup.tapes.len());
    let state = lab.lib.read_state().unwrap();
    assert!(state.drives[0].cartridge.is_none());
}

#[test]
fn offline_tape_is_named_and_nothing_is_written() {
    let mut lab = Lab::new(5, 10 * MIB, 21 * MIB as usize);
    let backup = lab.backup("offline");
    assert!(backup.tapes.len() >= 3, "{:?}", backup.tapes);
    let first = backup.tapes[0].clone();
    take_offline(&lab.lib, &first);
    let out = lab.out("offline");
    let err = lab
        .restore(&RestoreOptions::new(&backup.snapshot, &out))
        .unwrap_err();
    match &err {
        RestoreError::MediaOffline { labels } => assert_eq!(labels, std::slice::from_ref(&first)),
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().contains(&first), "{err}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());

    // A partial restore that needs only the other tapes works.
    let mut options = RestoreOptions::new(&backup.snapshot, &out);
    options.paths = vec!["data/private".into()];
    let result = lab.restore(&options).unwrap();
    assert!(!result.tapes.contains(&first), "{:?}", result.tapes);
    assert_same_tree(&lab.src.join("private"), &out.join("data/private"));
}

#[test]
fn unknown_snapshot_is_a_clear_error() {
    let lab = Lab::new(1, 512 * MIB, 1024);
    let err = lab
        .restore(&RestoreOptions::new(
            "default/x/2000-01-01T00:00:00Z",
            &lab.out("x"),
        ))
        .unwrap_err();
    assert!(matches!(err, RestoreError::UnknownSnapshot(_)), "{err}");
}

#[test]
fn incremental_snapshot_with_chunks_out_of_tape_order_restores() {
    let mut lab = Lab::new(2, 512 * MIB, 21 * MIB as usize);
    lab.backup("base");
    // A new beginning of the large file: its first chunk is written by the
    // second backup (after everything else on tape), the rest is found in
    // the first backup's archives, which are read first.
    let large = lab.src.join("large.bin");
    let mut data = restore_util::random_bytes(300_000, 99);
    data.extend(std::fs::read(&large).unwrap());
    std::fs::write(&large, &data).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = lab.backup("incr");
    assert!(second.chunks_written > 0 && second.chunks_deduplicated > 0);
    let out = lab.out("incr");
    let result = lab
        .restore(&RestoreOptions::new(&second.snapshot, &out))
        .unwrap();
    assert_eq!(result.tapes, ["BK0001L9"]);
    assert_same_tree(&lab.src, &out.join("data"));
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
}
