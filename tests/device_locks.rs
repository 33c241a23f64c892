//! Exclusive devices (issue 10 item 5), through the emulated library:
//! PREVENT MEDIUM REMOVAL held while a job has a tape loaded and released
//! on every exit path (observed in the emulator's state, and by the
//! changer refusing to take the tape: 05/5302), and two concurrent jobs on
//! one pool writing different tapes (pool lock + media locks).

mod common;
mod restore_util;

use pbs_tape::changer::MediaChanger;
use pbs_tape::drive::LtoDrive;
use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use ptape::backup::run_backup;
use ptape::catalog::Catalog;
use ptape::config::ResolvedDrive;
use ptape::devices::TapeDevices;
use ptape::library::LibraryDevices;
use ptape::writer::{NoEvents, WriterEvents};

const MIB: u64 = 1024 * 1024;

/// A library with `drives` drives and cartridges LK0001L9..LK0004L9.
fn library(dir: &std::path::Path, drives: usize) -> Library {
    let config = LibraryConfig {
        drives,
        slots: 8,
        ie_slots: 1,
        capacity: 256 * MIB,
        early_warning: MIB,
        serial: "PTAPELOCKS".into(),
        ..LibraryConfig::default()
    };
    let barcodes: Vec<String> = (1..=4).map(|i| format!("LK{i:04}L9")).collect();
    Library::create(dir, config, &barcodes, &[]).unwrap()
}

fn devices(lib: &Library, drive: usize) -> LibraryDevices {
    LibraryDevices::from_resolved(ResolvedDrive {
        name: format!("drive{drive}"),
        path: lib.drive_device_path(drive).display().to_string(),
        changer: Some("changer".into()),
        changer_path: Some(lib.changer_device_path().display().to_string()),
        changer_drivenum: drive as u32,
        embedded: false,
        ..Default::default()
    })
    .unwrap()
}

fn prevented(lib: &Library, drive: usize) -> bool {
    lib.read_state().unwrap().drives[drive].removal_prevented
}

fn in_drive(lib: &Library, drive: usize) -> Option<String> {
    lib.read_state().unwrap().drives[drive].cartridge.clone()
}

#[test]
fn removal_is_prevented_while_loaded_and_allowed_on_every_exit_path() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(&tmp.path().join("lib"), 1);
    let mut devs = devices(&lib, 0);

    // Loaded for a job: prevented, and the changer cannot take it.
    let tape = devs.load("LK0001L9").unwrap();
    assert!(prevented(&lib, 0));
    let mut changer = MediaChanger::open(&lib.changer_device_path().display().to_string()).unwrap();
    let err = changer.unload(0, None).unwrap_err().to_string();
    assert!(
        err.contains("5302"),
        "MOVE MEDIUM out of a locked drive: {err}"
    );
    assert_eq!(in_drive(&lib, 0).as_deref(), Some("LK0001L9"));

    // Explicit release: unload allows removal, then the changer moves it.
    devs.unload(tape).unwrap();
    assert!(!prevented(&lib, 0));
    assert_eq!(in_drive(&lib, 0), None);

    // An error path: the job drops the tape without unloading it.
    let tape = devs.load("LK0002L9").unwrap();
    assert!(prevented(&lib, 0));
    drop(tape);
    assert!(
        !prevented(&lib, 0),
        "dropping the handle must allow removal"
    );

    // A prevention left behind (a job killed with SIGKILL, `pmt lock`):
    // the next load through the changer allows removal before unloading.
    let mut raw = LtoDrive::open(&lib.drive_device_path(0).display().to_string()).unwrap();
    raw.lock().unwrap();
    drop(raw);
    assert!(prevented(&lib, 0));
    let tape = devs.load("LK0003L9").unwrap();
    assert_eq!(in_drive(&lib, 0).as_deref(), Some("LK0003L9"));
    devs.unload(tape).unwrap();
    assert!(!prevented(&lib, 0));
}

#[test]
fn a_backup_holds_prevention_while_writing_and_releases_it_after_success_and_failure() {
    /// Records whether the drive was locked whenever the job reported progress.
    struct Watch<'a> {
        lib: &'a Library,
        seen: Vec<bool>,
    }
    impl WriterEvents for Watch<'_> {
        fn chunk(&mut self, _len: u64, _written: bool) {
            if self.seen.len() < 50 {
                self.seen.push(prevented(self.lib, 0));
            }
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(&tmp.path().join("lib"), 1);
    let src = common::make_tree(&tmp.path().join("src"), 4 * MIB as usize);
    let mut catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
    let options = restore_util::backup_options(&src, "ok");
    let mut watch = Watch {
        lib: &lib,
        seen: Vec::new(),
    };
    run_backup(devices(&lib, 0), &mut catalog, &options, &mut watch).unwrap();
    assert!(
        !watch.seen.is_empty() && watch.seen.iter().all(|p| *p),
        "{:?}",
        watch.seen
    );
    assert!(!prevented(&lib, 0), "released after the job");

    // A job that fails mid-write (injected write error) releases it too.
    lib.arm_fault(pbs_tape::emulator::fault::FaultSpec {
        device: pbs_tape::emulator::fault::DeviceId::Drive(0),
        kind: pbs_tape::emulator::fault::FaultKind::WriteError,
        after: 3,
    })
    .unwrap();
    let src2 = common::make_tree(&tmp.path().join("src2"), 6 * MIB as usize);
    let options = restore_util::backup_options(&src2, "broken");
    assert!(run_backup(devices(&lib, 0), &mut catalog, &options, &mut NoEvents).is_err());
    assert!(!prevented(&lib, 0), "released after the failed job");
}

#[test]
fn concurrent_backups_on_one_pool_write_different_tapes() {
    /// Runs job B (drive 1) as soon as job A (drive 0) has its tape.
    struct StartOther<'a> {
        lib: &'a Library,
        catalog_path: std::path::PathBuf,
        src: std::path::PathBuf,
        other: Option<Result<Vec<String>, String>>,
    }
    impl WriterEvents for StartOther<'_> {
        fn tape(&mut self, _label: &str, _seq: u32) {
            if self.other.is_some() {
                return;
            }
            let mut catalog = Catalog::open(&self.catalog_path).unwrap();
            let options = restore_util::backup_options(&self.src, "b");
            let result = run_backup(devices(self.lib, 1), &mut catalog, &options, &mut NoEvents);
            self.other = Some(result.map(|r| r.tapes).map_err(|e| e.to_string()));
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(&tmp.path().join("lib"), 2);
    let catalog_path = tmp.path().join("catalog.db");
    let src_a = common::make_tree(&tmp.path().join("a"), 3 * MIB as usize);
    let src_b = common::make_tree(&tmp.path().join("b"), 2 * MIB as usize);
    let mut catalog = Catalog::open(&catalog_path).unwrap();
    // The pool's set exists and LK0001L9 is its writable last tape.
    let first = run_backup(
        devices(&lib, 0),
        &mut catalog,
        &restore_util::backup_options(&src_a, "first"),
        &mut NoEvents,
    )
    .unwrap();
    assert_eq!(first.tapes, ["LK0001L9"]);

    let mut events = StartOther {
        lib: &lib,
        catalog_path: catalog_path.clone(),
        src: src_b,
        other: None,
    };
    let a = run_backup(
        devices(&lib, 0),
        &mut catalog,
        &restore_util::backup_options(&src_a, "a"),
        &mut events,
    )
    .unwrap();
    let b = events.other.expect("job B ran while A held its tape");
    let b = b.unwrap_or_else(|e| panic!("job B failed: {e}"));
    assert_eq!(a.tapes, ["LK0001L9"], "A appends to the set's tape");
    assert_eq!(b, ["LK0002L9"], "B takes the next tape, not A's");
    assert_eq!(a.media_set, first.media_set);
}

#[test]
fn a_scheduler_hands_in_the_drive_lock_it_holds() {
    use ptape::library::LockOptions;
    use ptape::lock::{DeviceLock, DeviceRole, WaitPolicy};
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(&tmp.path().join("lib"), 2);
    let resolved = |drive: usize| ResolvedDrive {
        name: format!("drive{drive}"),
        path: lib.drive_device_path(drive).display().to_string(),
        changer: Some("changer".into()),
        changer_path: Some(lib.changer_device_path().display().to_string()),
        changer_drivenum: drive as u32,
        ..Default::default()
    };
    let take = |drive: usize| {
        DeviceLock::acquire(
            DeviceRole::Drive,
            &format!("drive{drive}"),
            &resolved(drive).path,
            "ptape job run x",
            WaitPolicy::NoWait,
        )
        .unwrap()
    };
    // Taking the drive again in this process conflicts with the lock held...
    let held = take(0);
    let err = LibraryDevices::from_resolved(resolved(0)).unwrap_err();
    assert!(err.to_string().contains("is in use by pid"), "{err}");
    // ...handing it in works, and a lock of another drive is refused.
    let mut devs =
        LibraryDevices::from_resolved_holding(resolved(0), held, LockOptions::default()).unwrap();
    let tape = devs.load("LK0001L9").unwrap();
    devs.unload(tape).unwrap();
    let err = LibraryDevices::from_resolved_holding(resolved(0), take(1), LockOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("not this drive"), "{err}");
    // Dropping the devices releases the drive.
    drop(devs);
    drop(take(0));
}
