//! Shared by the fault sweeps: a small emulated library with a fresh
//! catalog per scenario, command counting from a clean run, and the checks
//! every scenario ends with (catalog rows against what the tapes hold,
//! no snapshot of a failed job, a clean re-run restores byte-identical).
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::PathBuf;

use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::{DrivePersonality, LibraryConfig};
use pbs_tape::format::{read_catalog_archive, read_snapshot_archive, ChunkArchiveReader};
use ptape::backup::{run_backup, BackupError, BackupOptions, BackupResult};
use ptape::catalog::{Catalog, ContentType, TapeCatalog};
use ptape::chunking::Digest;
use ptape::devices::TapeDevices;
use ptape::library::LibraryDevices;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::stream::index::SnapshotIndex;
use ptape::writer::NoEvents;

use crate::restore_util::{assert_same_tree, backup_options, library_devices, make_tree, MIB};

/// A count no sweep reaches: armed to count commands without firing.
const NEVER: u64 = 1 << 40;

/// The shape of the library and the data of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub tapes: usize,
    pub capacity: u64,
    pub early_warning: u64,
    /// Size of the random file in the source tree.
    pub large: usize,
    /// The drive answers only the short form of READ POSITION.
    pub short_position: bool,
}

impl Setup {
    /// One roomy tape, ~2 MiB of data in several archives and checkpoints.
    pub fn single_tape() -> Setup {
        Setup {
            tapes: 2,
            capacity: 256 * MIB,
            early_warning: MIB,
            large: 2 * MIB as usize,
            short_position: false,
        }
    }

    /// The same on a drive with only the short form of READ POSITION.
    pub fn short_position() -> Setup {
        Setup {
            short_position: true,
            ..Setup::single_tape()
        }
    }
}

/// One scenario: a fresh library, source tree and catalog in a temp dir.
pub struct Lab {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
    pub src: PathBuf,
    pub catalog: Catalog,
}

/// Commands a clean backup issued to the drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandCount {
    /// WRITE(6) commands (what write faults count).
    pub writes: u64,
    /// Every command (what power loss and timeout count).
    pub all: u64,
}

impl Lab {
    pub fn new(setup: Setup) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let config = LibraryConfig {
            drives: 1,
            slots: 6,
            ie_slots: 1,
            capacity: setup.capacity,
            early_warning: setup.early_warning,
            serial: "PTAPESWEEP".into(),
            drive_personality: DrivePersonality {
                short_position_only: setup.short_position,
                ..DrivePersonality::default()
            },
            ..LibraryConfig::default()
        };
        let barcodes: Vec<String> = (1..=setup.tapes).map(|i| format!("SW{i:04}L9")).collect();
        let lib = Library::create(&tmp.path().join("lib"), config, &barcodes, &[]).unwrap();
        let src = make_tree(&tmp.path().join("src"), setup.large);
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        Lab {
            tmp,
            lib,
            src,
            catalog,
        }
    }

    pub fn devices(&self) -> LibraryDevices {
        library_devices(&self.lib)
    }

    /// Small chunks, blocks and archives: many archives and checkpoints.
    pub fn options(&self, id: &str) -> BackupOptions {
        let mut o = backup_options(&self.src, id);
        o.hash_workers = 2;
        o.format.archive_cap = 512 * 1024;
        o.format.commit_interval = 768 * 1024;
        o
    }

    pub fn backup(&mut self, id: &str) -> Result<BackupResult, BackupError> {
        let devices = self.devices();
        let options = self.options(id);
        run_backup(devices, &mut self.catalog, &options, &mut NoEvents)
    }

    pub fn arm(&self, kind: FaultKind, after: u64) {
        self.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind,
                after,
            })
            .unwrap();
    }

    /// True when no armed fault is left (a fired fault is removed).
    pub fn fault_fired(&self) -> bool {
        self.lib.read_state().unwrap().faults.is_empty()
    }

    /// Runs a clean backup (must succeed) and counts the drive commands it
    /// issued with two faults armed too far out to fire.
    pub fn count_clean_run(&mut self, id: &str) -> (BackupResult, CommandCount) {
        self.arm(FaultKind::WriteError, NEVER);
        self.arm(FaultKind::Timeout, NEVER);
        let result = self.backup(id).unwrap();
        let state = self.lib.read_state().unwrap();
        let left = |kind: FaultKind| {
            state
                .faults
                .iter()
                .find(|f| f.kind == kind)
                .map(|f| f.after)
                .unwrap()
        };
        let count = CommandCount {
            writes: NEVER - left(FaultKind::WriteError),
            all: NEVER - left(FaultKind::Timeout),
        };
        self.lib.clear_faults().unwrap();
        (result, count)
    }

    /// The 0-based drive command index of the `write`-th WRITE(6) of this
    /// lab's backup: a write fault fires there while a far-out timeout
    /// counts every command. Consumes the lab's first backup.
    pub fn command_index_of_write(&mut self, write: u64) -> u64 {
        self.arm(FaultKind::WriteError, write);
        self.arm(FaultKind::Timeout, NEVER);
        assert!(
            self.backup("probe").is_err(),
            "write {write} is past the job"
        );
        let state = self.lib.read_state().unwrap();
        let left = state
            .faults
            .iter()
            .find(|f| f.kind == FaultKind::Timeout)
            .map(|f| f.after)
            .unwrap();
        self.lib.clear_faults().unwrap();
        // The failing WRITE itself was counted too.
        NEVER - left - 1
    }

    pub fn snapshot_names(&self) -> Vec<String> {
        self.catalog
            .snapshots(None)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    /// Reads back every archive the catalog records and checks it against
    /// its rows: chunk archives hold exactly the listed entries and every
    /// entry's data hashes to its digest; snapshot and catalog archives
    /// decode; every snapshot row points at its own snapshot archive whose
    /// manifest only uses chunks found on the tapes. Returns the digests
    /// found on tape.
    pub fn verify_catalog_against_tapes(&self, context: &str) -> HashSet<Digest> {
        self.lib.clear_faults().unwrap();
        let mut devices = self.devices();
        let mut found = HashSet::new();
        let mut manifests = Vec::new();
        let snapshots = self.catalog.snapshots(None).unwrap();
        for media in self.catalog.media_list().unwrap() {
            let archives = self.catalog.archives_of_media(media.uuid).unwrap();
            if archives.is_empty() {
                continue;
            }
            let mut tape = devices.load(&media.label).unwrap();
            for a in archives {
                let at = format!("{context}: {} file {}", media.label, a.file_number);
                tape.locate_file(a.file_number).unwrap();
                match a.content {
                    ContentType::Chunks => {
                        let mut reader = ChunkArchiveReader::new(&mut tape)
                            .unwrap_or_else(|e| panic!("{at}: {e}"));
                        let mut on_tape = Vec::new();
                        while let Some(e) =
                            reader.next_entry().unwrap_or_else(|e| panic!("{at}: {e}"))
                        {
                            assert_eq!(ptape::chunking::sha256(&e.data), e.digest, "{at}");
                            on_tape.push(e.digest);
                        }
                        assert_eq!(reader.continues_on_next_tape(), !a.complete, "{at}");
                        let listed = self
                            .catalog
                            .chunks_of_archive(media.uuid, a.file_number)
                            .unwrap();
                        assert_eq!(listed, on_tape, "{at}");
                        found.extend(on_tape);
                    }
                    ContentType::Snapshot => {
                        let s = read_snapshot_archive(&mut tape)
                            .unwrap_or_else(|e| panic!("{at}: {e}"));
                        let manifest = SnapshotIndex::read(&s.manifest[..]).unwrap();
                        // A job that failed after its snapshot archive was
                        // committed leaves the archive (data on tape) but no
                        // snapshot row; a listed snapshot must point here.
                        if let Some(row) = snapshots
                            .iter()
                            .find(|r| r.name == manifest.summary.snapshot)
                        {
                            assert_eq!(
                                (row.media, row.file_number),
                                (media.uuid, a.file_number),
                                "{at}"
                            );
                        }
                        manifests.push(manifest);
                    }
                    ContentType::Catalog => {
                        let c =
                            read_catalog_archive(&mut tape).unwrap_or_else(|e| panic!("{at}: {e}"));
                        TapeCatalog::decode(&c.data).unwrap();
                    }
                }
            }
            devices.unload(tape).unwrap();
        }
        for row in &snapshots {
            assert!(
                manifests.iter().any(|m| m.summary.snapshot == row.name),
                "{context}: snapshot row {} without its archive on tape",
                row.name
            );
        }
        for m in &manifests {
            for d in m.unique_digests() {
                assert!(
                    found.contains(&d),
                    "{context}: {} uses a lost chunk",
                    m.summary.snapshot
                );
            }
        }
        // Every chunk row of every media set was found on tape.
        let recorded: HashSet<Digest> = self
            .catalog
            .media_list()
            .unwrap()
            .iter()
            .filter_map(|m| m.media_set)
            .flat_map(|s| self.catalog.media_set_digests(s).unwrap())
            .collect();
        assert!(
            recorded.is_subset(&found),
            "{context}: rows for lost chunks"
        );
        found
    }

    /// A backup without faults after whatever happened before succeeds, its
    /// rows match the tapes and its restore is byte-identical to the source.
    pub fn rerun_and_restore(&mut self, context: &str, id: &str, restore: bool) -> BackupResult {
        self.lib.clear_faults().unwrap();
        let result = self
            .backup(id)
            .unwrap_or_else(|e| panic!("{context}: re-run failed: {}", error_chain(&e)));
        self.verify_catalog_against_tapes(context);
        if restore {
            self.restore_identical(context, &result.snapshot);
        }
        result
    }

    /// Restores `snapshot` and compares it with the source tree.
    pub fn restore_identical(&self, context: &str, snapshot: &str) {
        let out = self
            .tmp
            .path()
            .join(format!("restore-{}", snapshot.replace('/', "_")));
        run_restore(
            self.devices(),
            &self.catalog,
            &RestoreOptions::new(snapshot, &out),
            &mut NoEvents,
        )
        .unwrap_or_else(|e| panic!("{context}: restore of {snapshot} failed: {e}"));
        assert_same_tree(&self.src, &out.join("data"));
    }

    /// Write indices (0-based WRITE(6) count) of the first and last block
    /// of every archive the catalog records.
    pub fn archive_write_bounds(&self) -> Vec<(u64, u64)> {
        let mut bounds = Vec::new();
        for media in self.catalog.media_list().unwrap() {
            for a in self.catalog.archives_of_media(media.uuid).unwrap() {
                // Each filemark before the archive is one logical object.
                bounds.push((
                    a.first_object.saturating_sub(a.file_number),
                    a.last_object.saturating_sub(a.file_number),
                ));
            }
        }
        bounds
    }
}

/// An error and all its sources, `: `-separated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

/// `0..=last` sampled: every point of `exhaustive` ranges, every `stride`-th
/// point elsewhere, and `last` itself.
pub fn sample_points(
    last: u64,
    stride: u64,
    exhaustive: &[std::ops::RangeInclusive<u64>],
) -> Vec<u64> {
    (0..=last)
        .filter(|p| p % stride == 0 || *p == last || exhaustive.iter().any(|r| r.contains(p)))
        .collect()
}
