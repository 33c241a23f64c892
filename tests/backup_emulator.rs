//! Backup jobs against the emulated tape library (real CDBs through the
//! drive and changer layers): catalog rows checked against what is read
//! back from the tapes, deduplication, spanning, and injected faults.

mod common;
mod restore_util;

use std::collections::HashSet;

use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::Library;
use pbs_tape::format::{read_catalog_archive, read_snapshot_archive, ChunkArchiveReader};
use ptape::backup::{run_backup, BackupError, BackupOptions, BackupResult};
use ptape::catalog::{Catalog, ContentType, TapeCatalog};
use ptape::chunking::Digest;
use ptape::devices::TapeDevices;
use ptape::library::LibraryDevices;
use ptape::stream::index::SnapshotIndex;
use ptape::writer::NoEvents;

const MIB: u64 = 1024 * 1024;

struct Lab {
    _tmp: tempfile::TempDir,
    lib: Library,
    src: std::path::PathBuf,
    catalog: Catalog,
}

impl Lab {
    /// A library of `tapes` cartridges of `capacity` bytes (early warning
    /// 1 MiB before the end) and a source tree with a `large`-byte file.
    fn new(tapes: usize, capacity: u64, large: usize) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = restore_util::make_named_library(
            &tmp.path().join("lib"),
            tapes,
            capacity,
            "BK",
            "PTAPETEST",
            true,
        );
        let src = common::make_tree(&tmp.path().join("src"), large);
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        Lab {
            _tmp: tmp,
            lib,
            src,
            catalog,
        }
    }

    fn devices(&self) -> LibraryDevices {
        restore_util::library_devices(&self.lib)
    }

    fn options(&self, id: &str) -> BackupOptions {
        restore_util::backup_options(&self.src, id)
    }

    fn backup(&mut self, id: &str) -> Result<BackupResult, BackupError> {
        let devices = self.devices();
        let options = self.options(id);
        run_backup(devices, &mut self.catalog, &options, &mut NoEvents)
    }

    fn arm(&self, kind: FaultKind, after: u64) {
        self.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind,
                after,
            })
            .unwrap();
    }

    fn chunk_rows(&self) -> i64 {
        self.catalog
            .connection()
            .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
            .unwrap()
    }

    /// Reads back every archive the catalog records and checks it: chunk
    /// archives hold (at least, when incomplete: exactly the complete)
    /// entries the catalog lists, snapshot and catalog archives decode.
    /// Returns every chunk digest found on the tapes.
    fn verify_catalog_against_tapes(&self) -> HashSet<Digest> {
        self.lib.clear_faults().unwrap();
        let mut devices = self.devices();
        let mut found = HashSet::new();
        for media in self.catalog.media_list().unwrap() {
            let archives = self.catalog.archives_of_media(media.uuid).unwrap();
            if archives.is_empty() {
                continue;
            }
            let mut tape = devices.load(&media.label).unwrap();
            for a in archives {
                tape.locate_file(a.file_number).unwrap();
                match a.content {
                    ContentType::Chunks => {
                        let mut reader = ChunkArchiveReader::new(&mut tape).unwrap();
                        let mut on_tape = Vec::new();
                        while let Some(e) = reader.next_entry().unwrap() {
                            on_tape.push(e.digest);
                        }
                        assert_eq!(reader.continues_on_next_tape(), !a.complete);
                        let listed = self
                            .catalog
                            .chunks_of_archive(media.uuid, a.file_number)
                            .unwrap();
                        assert_eq!(listed, on_tape, "{} file {}", media.label, a.file_number);
                        found.extend(on_tape);
                    }
                    ContentType::Snapshot => {
                        let s = read_snapshot_archive(&mut tape).unwrap();
                        SnapshotIndex::read(&s.manifest[..]).unwrap();
                    }
                    ContentType::Catalog => {
                        let c = read_catalog_archive(&mut tape).unwrap();
                        TapeCatalog::decode(&c.data).unwrap();
                    }
                }
            }
            devices.unload(tape).unwrap();
        }
        found
    }
}

#[test]
fn backup_then_dedup_with_rows_matching_the_tape() {
    let mut lab = Lab::new(3, 512 * MIB, 21 * MIB as usize);
    let first = lab.backup("one").unwrap();
    assert_eq!(first.tapes, ["BK0001L9"]);
    let snap = lab.catalog.snapshot(&first.snapshot).unwrap().unwrap();
    let found = lab.verify_catalog_against_tapes();
    // The chunk rows are exactly the set of unique digests of the manifest.
    let mut devices = lab.devices();
    let label = lab
        .catalog
        .media_by_uuid(snap.media)
        .unwrap()
        .unwrap()
        .label;
    let mut tape = devices.load(&label).unwrap();
    tape.locate_file(snap.file_number).unwrap();
    let manifest =
        SnapshotIndex::read(&read_snapshot_archive(&mut tape).unwrap().manifest[..]).unwrap();
    devices.unload(tape).unwrap();
    // One handle on the drive per process: the next backup locks it again.
    drop(devices);
    let unique: HashSet<Digest> = manifest.unique_digests().into_iter().collect();
    assert_eq!(
        lab.catalog.media_set_digests(first.media_set).unwrap(),
        unique
    );
    assert_eq!(found, unique);
    assert!(manifest.summary.file_bytes > 24 * MIB);

    let rows = lab.chunk_rows();
    let second = lab.backup("two").unwrap();
    assert_eq!(second.chunks_written, 0);
    assert_eq!(lab.chunk_rows(), rows);
    assert_eq!(lab.catalog.snapshots(None).unwrap().len(), 2);
    lab.verify_catalog_against_tapes();
}

#[test]
fn backup_spans_three_tapes_through_the_changer() {
    // 10 MiB cartridges, early warning at 9 MiB: ~25 MiB of data.
    let mut lab = Lab::new(5, 10 * MIB, 21 * MIB as usize);
    let result = lab.backup("span").unwrap();
    assert!(result.tapes.len() >= 3, "{:?}", result.tapes);
    let members = lab.catalog.media_of_set(result.media_set).unwrap();
    assert_eq!(members.len(), result.tapes.len());
    let found = lab.verify_catalog_against_tapes();
    assert_eq!(
        found,
        lab.catalog.media_set_digests(result.media_set).unwrap()
    );
    // Every tape went back to a slot; the drive is empty.
    let state = lab.lib.read_state().unwrap();
    assert!(state.drives[0].cartridge.is_none());
}

/// A fault during a real backup: the job fails with the decoded sense,
/// no snapshot is recorded, and every recorded chunk is on tape.
fn fault_leaves_only_durable_rows(kind: FaultKind, after: u64, expect: &str) -> usize {
    let mut lab = Lab::new(3, 512 * MIB, 21 * MIB as usize);
    lab.arm(kind, after);
    let err = lab.backup("fault").unwrap_err();
    let message = error_chain(&err);
    assert!(
        message.to_lowercase().contains(expect),
        "{kind:?}: {message}"
    );
    assert!(lab.catalog.snapshots(None).unwrap().is_empty());
    let found = lab.verify_catalog_against_tapes();
    let recorded: HashSet<Digest> = lab
        .catalog
        .media_list()
        .unwrap()
        .iter()
        .filter_map(|m| m.media_set)
        .flat_map(|s| lab.catalog.media_set_digests(s).unwrap())
        .collect();
    assert!(recorded.is_subset(&found));
    recorded.len()
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

#[test]
fn write_error_fails_the_job_without_rows_for_lost_data() {
    // 150 blocks of 64 KiB: several checkpoints passed before the fault.
    let committed = fault_leaves_only_durable_rows(FaultKind::WriteError, 150, "write error");
    assert!(committed > 0);
}

#[test]
fn deferred_write_error_fails_the_job_without_rows_for_lost_data() {
    let committed =
        fault_leaves_only_durable_rows(FaultKind::DeferredWriteError, 150, "write error");
    assert!(committed > 0);
}

#[test]
fn power_loss_fails_the_job_without_rows_for_lost_data() {
    let committed = fault_leaves_only_durable_rows(FaultKind::PowerLoss, 300, "");
    assert!(committed > 0);
}

#[test]
fn cleaning_cartridges_are_never_used() {
    let mut lab = Lab::new(0, 512 * MIB, 1024);
    let err = lab.backup("cln").unwrap_err();
    assert!(error_chain(&err).contains("no writable tape"), "{err}");
    let state = lab.lib.read_state().unwrap();
    assert!(state.drives[0].cartridge.is_none());
}

#[test]
fn appending_needs_the_last_tape_of_the_set_online() {
    let mut lab = Lab::new(2, 512 * MIB, 1024);
    let first = lab.backup("one").unwrap();
    assert_eq!(first.tapes, ["BK0001L9"]);
    // The operator takes the tape out of the library.
    let transport =
        pbs_tape::device::open_transport(&lab.lib.changer_device_path().display().to_string())
            .unwrap();
    let mut changer = pbs_tape::changer::MediaChanger::new(transport);
    changer.export("BK0001L9").unwrap();
    let err = lab.backup("two").unwrap_err();
    let message = error_chain(&err);
    assert!(
        message.contains("BK0001L9") && message.contains("not online"),
        "{message}"
    );
    assert_eq!(
        lab.catalog
            .media_by_label("BK0001L9")
            .unwrap()
            .unwrap()
            .location,
        ptape::catalog::MediaLocation::Offline
    );
    assert_eq!(lab.catalog.snapshots(None).unwrap().len(), 1);
}
