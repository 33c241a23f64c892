//! The catalog archives a job writes at its end: for a tape it appended to
//! (one that still takes data) only the rows it added, never again what an
//! earlier job's catalog archive on that tape holds; for a tape it
//! finished (full), one archive with all of that tape's rows. A catalog
//! rebuilt from the tapes alone (`catalog scan` after losing the database)
//! still restores every snapshot.

mod restore_util;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pbs_tape::emulator::library::Library;
use pbs_tape::format::{scan_tape, ScannedContent};
use ptape::backup::{run_backup, BackupResult};
use ptape::catalog::{Catalog, ContentType, MediaStatus, TapeCatalog};
use ptape::devices::TapeDevices;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::scan::scan_tapes;
use ptape::writer::NoEvents;
use restore_util::{
    assert_same_tree, backup_options, library_devices, make_library, make_tree, random_bytes, MIB,
};

struct Lab {
    tmp: tempfile::TempDir,
    lib: Library,
}

impl Lab {
    fn new(tapes: usize, capacity: u64) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), tapes, capacity);
        Lab { tmp, lib }
    }

    /// A source tree `NAME/data` with a large file of `large` bytes and
    /// one of `extra` bytes seeded by `seed` (so trees differ).
    fn tree(&self, name: &str, large: usize, extra: usize, seed: u64) -> PathBuf {
        let src = make_tree(&self.tmp.path().join(name), large);
        std::fs::write(src.join("extra.bin"), random_bytes(extra, seed)).unwrap();
        src
    }

    fn backup(&self, catalog: &mut Catalog, src: &Path, id: &str) -> BackupResult {
        run_backup(
            library_devices(&self.lib),
            catalog,
            &backup_options(src, id),
            &mut NoEvents,
        )
        .unwrap()
    }

    /// The catalog archives on tape `label`, in tape order.
    fn catalog_archives(&self, label: &str) -> Vec<TapeCatalog> {
        let mut devices = library_devices(&self.lib);
        let mut tape = devices.load(label).unwrap();
        let found = scan_tape(&mut tape, 0)
            .map(|f| f.unwrap())
            .filter_map(|f| match f.content {
                ScannedContent::CatalogArchive(c) => Some(TapeCatalog::decode(&c.data).unwrap()),
                _ => None,
            })
            .collect();
        devices.unload(tape).unwrap();
        found
    }

    /// A new catalog rebuilt from the tapes; every snapshot of `backups`
    /// restores identical to its source.
    fn rescan_and_restore(&self, backups: &[(&BackupResult, &Path)]) {
        let mut rebuilt = Catalog::open(&self.tmp.path().join("rebuilt.db")).unwrap();
        scan_tapes(
            library_devices(&self.lib),
            &mut rebuilt,
            None,
            true,
            &mut NoEvents,
        )
        .unwrap();
        for (i, (backup, src)) in backups.iter().enumerate() {
            let out = self.tmp.path().join(format!("out-{i}"));
            run_restore(
                library_devices(&self.lib),
                &rebuilt,
                &RestoreOptions::new(&backup.snapshot, &out),
                &mut NoEvents,
            )
            .unwrap_or_else(|e| panic!("restore of {}: {e}", backup.snapshot));
            assert_same_tree(src, &out.join("data"));
        }
    }
}

fn archive_files(tc: &TapeCatalog) -> BTreeSet<u64> {
    tc.archives.iter().map(|a| a.archive.file_number).collect()
}

fn snapshot_names(tc: &TapeCatalog) -> Vec<String> {
    tc.snapshots.iter().map(|s| s.name.clone()).collect()
}

#[test]
fn a_second_job_on_a_tape_does_not_repeat_the_first_jobs_rows() {
    let lab = Lab::new(2, 512 * MIB);
    let mut catalog = Catalog::open(&lab.tmp.path().join("catalog.db")).unwrap();
    let src_a = lab.tree("a", MIB as usize, 300_000, 11);
    let src_b = lab.tree("b", MIB as usize, 3 * MIB as usize, 12);
    let a = lab.backup(&mut catalog, &src_a, "a");
    let b = lab.backup(&mut catalog, &src_b, "b");
    assert_eq!(a.tapes, ["BK0001L9"]);
    assert_eq!(b.tapes, ["BK0001L9"]);

    let archives = lab.catalog_archives("BK0001L9");
    assert_eq!(archives.len(), 2, "one catalog archive per job");
    let (first, second) = (&archives[0], &archives[1]);
    assert_eq!(snapshot_names(first), vec![a.snapshot.clone()]);
    assert_eq!(snapshot_names(second), vec![b.snapshot.clone()]);
    let first_files = archive_files(first);
    let second_files = archive_files(second);
    assert!(!first_files.is_empty() && !second_files.is_empty());
    // The second job's rows start after the first job's catalog archive.
    let first_catalog_file = *first_files.iter().max().unwrap() + 1;
    assert!(
        second_files.iter().all(|&f| f > first_catalog_file),
        "{first_files:?} / {second_files:?}"
    );
    // Together they describe every chunk and snapshot archive the catalog
    // knows of the tape.
    let media = catalog.media_by_label("BK0001L9").unwrap().unwrap();
    let known: BTreeSet<u64> = catalog
        .archives_of_media(media.uuid)
        .unwrap()
        .iter()
        .filter(|a| a.content != ContentType::Catalog)
        .map(|a| a.file_number)
        .collect();
    let described: BTreeSet<u64> = first_files.union(&second_files).copied().collect();
    assert_eq!(described, known);

    drop(catalog);
    lab.rescan_and_restore(&[(&a, &src_a), (&b, &src_b)]);
}

#[test]
fn a_finished_tape_gets_a_catalog_archive_with_all_its_rows() {
    let lab = Lab::new(4, 10 * MIB);
    let mut catalog = Catalog::open(&lab.tmp.path().join("catalog.db")).unwrap();
    let src_a = lab.tree("a", MIB as usize, 300_000, 21);
    let src_b = lab.tree("b", 12 * MIB as usize, 300_000, 22);
    let a = lab.backup(&mut catalog, &src_a, "a");
    let b = lab.backup(&mut catalog, &src_b, "b");
    assert_eq!(a.tapes, ["BK0001L9"]);
    assert_eq!(b.tapes[0], "BK0001L9", "{:?}", b.tapes);
    assert!(b.tapes.len() >= 2, "{:?}", b.tapes);
    let first = catalog.media_by_label("BK0001L9").unwrap().unwrap();
    assert_eq!(first.status, MediaStatus::Full);

    // The job's last tape describes the finished first tape whole: the
    // first job's rows too.
    let last = b.tapes.last().unwrap();
    let of_first: Vec<TapeCatalog> = lab
        .catalog_archives(last)
        .into_iter()
        .filter(|tc| tc.media.uuid == first.uuid)
        .collect();
    assert_eq!(of_first.len(), 1);
    let all: BTreeSet<u64> = catalog
        .archives_of_media(first.uuid)
        .unwrap()
        .iter()
        .map(|a| a.file_number)
        .collect();
    assert_eq!(archive_files(&of_first[0]), all);
    let mut names = snapshot_names(&of_first[0]);
    names.sort();
    assert!(names.contains(&a.snapshot), "{names:?}");

    drop(catalog);
    lab.rescan_and_restore(&[(&a, &src_a), (&b, &src_b)]);
}
