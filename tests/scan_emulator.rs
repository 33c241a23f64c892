//! Catalog rebuild from tapes alone: after losing the database, a scan of
//! the emulated library brings back media, archives, chunk locations and
//! snapshots (fast path from catalog archives, full read when the catalog
//! archive is damaged), and restore works from the rebuilt catalog.

mod restore_util;

use std::collections::BTreeSet;
use std::path::PathBuf;

use pbs_tape::emulator::library::Library;
use ptape::backup::{run_backup, BackupResult};
use ptape::catalog::{Catalog, MediaLocation};
use ptape::library::LibraryDevices;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::scan::{scan_tapes, ScanReport};
use ptape::writer::NoEvents;
use restore_util::{
    assert_same_tree, backup_options, library_devices, make_library, make_tree, take_offline, MIB,
};

struct Lab {
    tmp: tempfile::TempDir,
    lib: Library,
    src: PathBuf,
}

impl Lab {
    fn new(tapes: usize, capacity: u64) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), tapes, capacity);
        let src = make_tree(&tmp.path().join("src"), 21 * MIB as usize);
        Lab { tmp, lib, src }
    }

    fn devices(&self) -> LibraryDevices {
        library_devices(&self.lib)
    }

    fn catalog(&self, name: &str) -> Catalog {
        Catalog::open(&self.tmp.path().join(name)).unwrap()
    }

    fn backup(&self, catalog: &mut Catalog) -> BackupResult {
        let o = backup_options(&self.src, "scan");
        run_backup(self.devices(), catalog, &o, &mut NoEvents).unwrap()
    }

    fn scan(&self, catalog: &mut Catalog) -> ScanReport {
        scan_tapes(self.devices(), catalog, None, true, &mut NoEvents).unwrap()
    }

    fn restore_and_compare(&self, catalog: &Catalog, snapshot: &str, dir: &str) {
        let out = self.tmp.path().join(dir);
        run_restore(
            self.devices(),
            catalog,
            &RestoreOptions::new(snapshot, &out),
            &mut NoEvents,
        )
        .unwrap();
        assert_same_tree(&self.src, &out.join("data"));
    }
}

/// (label, file number, content, uuid, entries) of every archive, and the
/// chunk rows, of a catalog.
type ChunkRows = BTreeSet<(String, i64, Vec<u8>)>;

fn rows(catalog: &Catalog) -> (BTreeSet<String>, ChunkRows) {
    let mut archives = BTreeSet::new();
    for m in catalog.media_list().unwrap() {
        for a in catalog.archives_of_media(m.uuid).unwrap() {
            archives.insert(format!(
                "{} {} {} {} {} {}",
                m.label, a.file_number, a.content, a.uuid, a.entries, a.complete
            ));
        }
    }
    let mut stmt = catalog
        .connection()
        .prepare("SELECT media, file_number, digest FROM chunks")
        .unwrap();
    let chunks = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (archives, chunks)
}

#[test]
fn scan_rebuilds_a_spanning_media_set_from_its_catalog_archives() {
    let lab = Lab::new(5, 10 * MIB);
    let mut original = lab.catalog("original.db");
    let backup = lab.backup(&mut original);
    assert!(backup.tapes.len() >= 3, "{:?}", backup.tapes);

    let mut rebuilt = lab.catalog("rebuilt.db");
    let report = lab.scan(&mut rebuilt);
    let (orig_archives, orig_chunks) = rows(&original);
    let (new_archives, new_chunks) = rows(&rebuilt);
    // Everything the original catalog knew (the rebuilt one also lists the
    // catalog archives themselves).
    assert!(
        orig_archives.is_subset(&new_archives),
        "{orig_archives:?}\n{new_archives:?}"
    );
    assert_eq!(orig_chunks, new_chunks);
    assert_eq!(
        rebuilt.snapshot(&backup.snapshot).unwrap().unwrap(),
        original.snapshot(&backup.snapshot).unwrap().unwrap()
    );
    // The last tape's catalog archives described the earlier tapes: none
    // of their chunk archives had to be read completely.
    let last = backup.tapes.last().unwrap();
    for t in report
        .tapes
        .iter()
        .filter(|t| backup.tapes.contains(&t.label))
    {
        if &t.label != last {
            assert_eq!(t.full_reads, 0, "{t:?}");
        }
    }
    assert!(report.tapes.iter().any(|t| t.catalog_archives > 0));
    lab.restore_and_compare(&rebuilt, &backup.snapshot, "out");

    // Scanning again adds nothing.
    let again = lab.scan(&mut rebuilt);
    assert!(
        again.tapes.iter().all(|t| t.archives_added == 0),
        "{again:?}"
    );
    assert_eq!(rows(&rebuilt).1, new_chunks);
}

#[test]
fn damaged_catalog_archive_falls_back_to_a_full_read() {
    let lab = Lab::new(2, 512 * MIB);
    let mut original = lab.catalog("original.db");
    let backup = lab.backup(&mut original);
    assert_eq!(backup.tapes, ["BK0001L9"]);
    // The catalog archive is the last file: damage its last block.
    let image = lab.lib.tape_image_path("BK0001L9");
    let mut bytes = std::fs::read(&image).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n - 40..n - 8] {
        *b ^= 0x5A;
    }
    std::fs::write(&image, bytes).unwrap();

    let mut rebuilt = lab.catalog("rebuilt.db");
    let report = lab.scan(&mut rebuilt);
    let tape = report.tapes.iter().find(|t| t.label == "BK0001L9").unwrap();
    assert_eq!(tape.catalog_archives, 0, "{tape:?}");
    assert!(tape.notes.iter().any(|n| n.contains("damaged")), "{tape:?}");
    // Every chunk archive and the snapshot archive were read completely.
    let data_archives = original
        .archives_of_media(original.media_by_label("BK0001L9").unwrap().unwrap().uuid)
        .unwrap()
        .iter()
        .filter(|a| a.content != ptape::catalog::ContentType::Catalog)
        .count() as u64;
    assert!(tape.full_reads >= data_archives, "{tape:?}");
    assert_eq!(rows(&original).1, rows(&rebuilt).1);
    // Reading the chunk archives recorded where each entry starts, the
    // same positions the backup recorded.
    let positions = |c: &Catalog| -> Vec<(Vec<u8>, Option<i64>, Option<i64>)> {
        let mut stmt = c
            .connection()
            .prepare(
                "SELECT digest, block, block_offset FROM chunks ORDER BY media, file_number, seq",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let scanned = positions(&rebuilt);
    assert!(!scanned.is_empty());
    assert!(scanned.iter().all(|(_, b, o)| b.is_some() && o.is_some()));
    assert_eq!(scanned, positions(&original));
    assert!(rebuilt.snapshot(&backup.snapshot).unwrap().is_some());
    lab.restore_and_compare(&rebuilt, &backup.snapshot, "out");
}

#[test]
fn tapes_described_elsewhere_but_not_online_are_marked_offline() {
    let lab = Lab::new(5, 10 * MIB);
    let mut original = lab.catalog("original.db");
    let backup = lab.backup(&mut original);
    let first = backup.tapes[0].clone();
    take_offline(&lab.lib, &first);
    let mut rebuilt = lab.catalog("rebuilt.db");
    let report = lab.scan(&mut rebuilt);
    assert!(report.tapes.iter().all(|t| t.label != first));
    let media = rebuilt.media_by_label(&first).unwrap().unwrap();
    assert_eq!(media.location, MediaLocation::Offline);
    assert_eq!(media.media_set, Some(backup.media_set));
}

/// Writes data that is not ptape's (one block, one filemark) at the start
/// of cartridge `label`.
fn write_foreign(lab: &Lab, label: &str) {
    use ptape::devices::TapeDevices;
    let mut devices = lab.devices();
    let mut drive = devices.load(label).unwrap();
    drive.write_block(&[0x42; 4096]).unwrap();
    drive.write_filemarks(1, false).unwrap();
    devices.unload(drive).unwrap();
}

#[test]
fn scan_goes_on_past_foreign_blank_and_unreadable_tapes() {
    let lab = Lab::new(5, 512 * MIB);
    write_foreign(&lab, "BK0001L9");
    write_foreign(&lab, "BK0003L9");
    let mut original = lab.catalog("original.db");
    let backup = lab.backup(&mut original);
    assert_eq!(backup.tapes, ["BK0002L9"]);

    // The first READ of the scan (BK0001's first block) fails 03/11/00.
    lab.lib
        .arm_fault(pbs_tape::emulator::fault::FaultSpec {
            device: pbs_tape::emulator::fault::DeviceId::Drive(0),
            kind: pbs_tape::emulator::fault::FaultKind::ReadError,
            after: 0,
        })
        .unwrap();
    let mut rebuilt = lab.catalog("rebuilt.db");
    let report = lab.scan(&mut rebuilt);
    let state = |label: &str| {
        let t = report.tapes.iter().find(|t| t.label == label).unwrap();
        (t.state, t.notes.join("; "))
    };
    use ptape::scan::TapeScanState as S;
    assert_eq!(state("BK0001L9").0, S::Damaged, "{:?}", state("BK0001L9"));
    assert_eq!(state("BK0002L9").0, S::Scanned, "{:?}", state("BK0002L9"));
    let (foreign, why) = state("BK0003L9");
    assert_eq!(foreign, S::Foreign, "{why}");
    assert!(why.contains("not a ptape tape"), "{why}");
    assert_eq!(state("BK0004L9").0, S::Blank);
    assert_eq!(state("BK0005L9").0, S::Blank);
    // The tape after the damaged and foreign ones was scanned completely.
    assert_eq!(rows(&original).1, rows(&rebuilt).1);
    lab.restore_and_compare(&rebuilt, &backup.snapshot, "out");
    // Neither the foreign nor the unreadable cartridge entered the catalog.
    assert!(rebuilt.media_by_label("BK0001L9").unwrap().is_none());
    assert!(rebuilt.media_by_label("BK0003L9").unwrap().is_none());
}

/// A tape finished by a later job carries its own catalog archive from
/// the job that left it writable; the later job's catalog archive (on the
/// next tape) says it is full, and so must the rebuilt catalog.
#[test]
fn rescan_keeps_full_tapes_full() {
    let lab = Lab::new(6, 16 * MIB);
    let mut original = lab.catalog("original.db");
    let first = lab.backup(&mut original);
    assert_eq!(first.tapes.len(), 2, "{:?}", first.tapes);
    // New data: the second job appends to the set's last tape, fills it
    // and goes on with the next one.
    std::fs::write(
        lab.src.join("more.bin"),
        restore_util::random_bytes(14 * MIB as usize, 99),
    )
    .unwrap();
    let o = backup_options(&lab.src, "scan-more");
    let second = run_backup(lab.devices(), &mut original, &o, &mut NoEvents).unwrap();
    assert_eq!(second.tapes[0], first.tapes[1], "{:?}", second.tapes);
    assert!(second.tapes.len() >= 2, "{:?}", second.tapes);
    let mut labels: Vec<String> = first.tapes.clone();
    labels.extend(second.tapes.iter().skip(1).cloned());
    let status = |catalog: &Catalog| {
        labels
            .iter()
            .map(|l| {
                (
                    l.clone(),
                    catalog.media_by_label(l).unwrap().unwrap().status,
                )
            })
            .collect::<Vec<_>>()
    };
    let before = status(&original);
    assert!(
        before
            .iter()
            .take(before.len() - 1)
            .all(|(_, s)| *s == ptape::catalog::MediaStatus::Full),
        "{before:?}"
    );

    // Into an empty catalog, and again over the rebuilt one.
    let mut rebuilt = lab.catalog("rebuilt.db");
    lab.scan(&mut rebuilt);
    assert_eq!(status(&rebuilt), before);
    lab.scan(&mut rebuilt);
    assert_eq!(status(&rebuilt), before);
    // And over the original.
    lab.scan(&mut original);
    assert_eq!(status(&original), before);
}
