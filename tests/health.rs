//! Tape health (emulated library, real CDBs): a tape that is damaged,
//! retired or failed verification no longer counts for deduplication, its
//! chunks are written again, and restores read the healthy copies.
//! TapeAlert flags (raised by the emulated drive in LOG SENSE page 0x2E)
//! are read at load and when a job is done with a tape: critical media
//! flags mark the tape damaged (the job moves on, or fails after writing
//! there), cleaning flags are reported or cleaned with `--auto-clean`.

mod restore_util;
mod sweep_util;

use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::CartridgeKind;
use ptape::backup::run_backup;
use ptape::catalog::{Catalog, MediaStatus};
use ptape::library::LibraryDevices;
use ptape::pool::media::set_status;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::verify::{verify, TapeState, VerifySelection};
use ptape::writer::{NoEvents, WriterEvents};
use restore_util::{
    assert_same_tree, backup_options, library_devices, library_resolved, take_offline,
};
use sweep_util::{error_chain, Lab, Setup};

fn three_tapes() -> Setup {
    Setup {
        tapes: 3,
        ..Setup::single_tape()
    }
}

/// Restores `snapshot` into a new directory and compares it with the source.
fn restore_ok(lab: &Lab, snapshot: &str, context: &str) {
    let out = lab.tmp.path().join(format!("restore-{context}"));
    run_restore(
        lab.devices(),
        &lab.catalog,
        &RestoreOptions::new(snapshot, &out),
        &mut NoEvents,
    )
    .unwrap_or_else(|e| panic!("{context}: restore of {snapshot}: {}", error_chain(&e)));
    assert_same_tree(&lab.src, &out.join(lab.src.file_name().unwrap()));
}

fn take_out(lab: &Lab, label: &str) {
    take_offline(&lab.lib, label);
    assert!(lab.lib.read_state().unwrap().locate(label).is_none());
}

fn unhealthy_tape_is_not_deduplicated_against(status: MediaStatus) {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    assert_eq!(first.tapes, vec!["SW0001L9".to_string()]);
    assert!(first.chunks_written > 0);

    set_status(&lab.catalog, "SW0001L9", status).unwrap();
    let second = lab.backup("host-again").unwrap();
    // Every chunk of the tree was written again, on another tape.
    // (the tree repeats some chunks itself: those count as deduplicated
    // in both jobs alike).
    assert_eq!(
        second.chunks_deduplicated, first.chunks_deduplicated,
        "deduplicated against a {status} tape"
    );
    assert_eq!(second.chunks_written, first.chunks_written);
    assert!(!second.tapes.contains(&"SW0001L9".to_string()));

    // The new snapshot restores without the unhealthy tape.
    take_out(&lab, "SW0001L9");
    restore_ok(&lab, &second.snapshot, &format!("without-{status}"));
}

#[test]
fn damaged_tape_chunks_are_written_again() {
    unhealthy_tape_is_not_deduplicated_against(MediaStatus::Damaged);
}

#[test]
fn retired_tape_chunks_are_written_again() {
    unhealthy_tape_is_not_deduplicated_against(MediaStatus::Retired);
}

#[test]
fn healthy_full_tape_still_counts() {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    set_status(&lab.catalog, "SW0001L9", MediaStatus::Full).unwrap();
    let second = lab.backup("host-again").unwrap();
    assert_eq!(second.chunks_written, 0);
    assert_eq!(
        second.chunks_deduplicated,
        first.chunks_written + first.chunks_deduplicated
    );
}

/// Records the tapes marked damaged.
#[derive(Default)]
struct Damaged(Vec<ptape::notify::TapeDamaged>);
impl ptape::writer::WriterEvents for Damaged {
    fn tape_damaged(&mut self, event: &ptape::notify::TapeDamaged) {
        self.0.push(event.clone());
    }
}

/// A tape whose archive cannot be read fails verification and is marked
/// damaged; the next backup of the same tree writes every chunk again and
/// restores without it.
#[test]
fn failed_verify_marks_the_tape_damaged() {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    // The first READ of the verification fails (03/11/00).
    lab.arm(FaultKind::ReadError, 0);
    let mut events = Damaged::default();
    let report = verify(
        lab.devices(),
        &lab.catalog,
        &VerifySelection::All,
        &mut events,
    )
    .unwrap();
    // The writer-events hook (notifications) heard of it.
    assert_eq!(events.0.len(), 1);
    assert_eq!(events.0[0].label, "SW0001L9");
    assert!(events.0[0].reason.starts_with("failed verification (was "));
    assert!(!report.ok);
    let tape = &report.tapes[0];
    assert_eq!(tape.label, "SW0001L9");
    assert_eq!(tape.state, TapeState::Damaged);
    assert!(tape.marked_damaged);
    let media = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Damaged);

    let second = lab.backup("host-again").unwrap();
    assert_eq!(second.chunks_written, first.chunks_written);
    assert_eq!(second.chunks_deduplicated, first.chunks_deduplicated);
    take_out(&lab, "SW0001L9");
    restore_ok(&lab, &second.snapshot, "after-verify");

    // A second verification does not mark it again (it already is).
    lab.lib.clear_faults().unwrap();
    let again = verify(
        lab.devices(),
        &lab.catalog,
        &VerifySelection::All,
        &mut NoEvents,
    )
    .unwrap();
    assert!(again.tapes.iter().all(|t| !t.marked_damaged));
}

/// A clean verification changes no status.
#[test]
fn passed_verify_keeps_the_status() {
    let mut lab = Lab::new(three_tapes());
    lab.backup("host").unwrap();
    let report = verify(
        lab.devices(),
        &lab.catalog,
        &VerifySelection::All,
        &mut NoEvents,
    )
    .unwrap();
    assert!(report.ok, "{report:?}");
    let media = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Writable);
}

const MEDIA_ALERT: u64 = 1 << 3; // TapeAlert flag 4, MEDIA (critical)
const CLEAN_NOW: u64 = 1 << 19; // TapeAlert flag 20, CLEAN_NOW
const NO_REMOVAL: u64 = 1 << 9; // TapeAlert flag 10 (information)
const CLEANING_MEDIA: u64 = 1 << 10; // TapeAlert flag 11 (information)

fn raise_alert(lab: &Lab, flags: u64) {
    lab.arm(FaultKind::TapeAlert(flags), 0);
}

/// The drive reports MEDIA when the set's tape is loaded for appending:
/// that tape is marked damaged, the job moves on to another tape, writes
/// every chunk again there and finishes with a warning.
#[test]
fn critical_media_alert_at_load_moves_the_job_to_another_tape() {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    assert_eq!(first.tapes, ["SW0001L9"]);
    raise_alert(&lab, MEDIA_ALERT);
    let second = lab.backup("host-again").unwrap();
    assert!(lab.fault_fired());
    assert_eq!(second.tapes, ["SW0002L9"]);
    assert_eq!(second.warnings, 1, "the damaged tape is a warning");
    assert_eq!(second.chunks_written, first.chunks_written);
    let media = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Damaged);
    take_out(&lab, "SW0001L9");
    restore_ok(&lab, &second.snapshot, "alert-at-load");
}

/// Information flags (11 CLEANING_MEDIA, left raised by mhVTL after its
/// cleaning cartridge was unloaded; 10 NO_REMOVAL while a job holds the
/// cartridge) say nothing about the data: the job succeeds without a
/// warning and the tape stays writable.
#[test]
fn information_alerts_are_no_warning() {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    raise_alert(&lab, CLEANING_MEDIA | NO_REMOVAL);
    let second = lab.backup("host-again").unwrap();
    assert!(lab.fault_fired());
    assert_eq!(second.warnings, 0);
    assert_eq!(second.tapes, first.tapes);
    let media = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Writable);
    restore_ok(&lab, &second.snapshot, "information-alert");
}

/// Every tape the drive reports damaged: the job fails with the flag's
/// text and lists the tapes passed over.
#[test]
fn critical_media_alert_on_every_tape_fails_with_the_flag_text() {
    let mut lab = Lab::new(Setup {
        tapes: 1,
        ..Setup::single_tape()
    });
    lab.backup("host").unwrap();
    raise_alert(&lab, MEDIA_ALERT);
    let err = lab.backup("host-again").unwrap_err();
    let text = error_chain(&err);
    assert!(text.contains("TapeAlert 4 MEDIA"), "{text}");
    assert!(text.contains("SW0001L9"), "{text}");
    assert_eq!(lab.snapshot_names().len(), 1);
}

/// Raises `flags` when the job writes its first new chunk.
struct AlertWhileWriting<'a> {
    lab: &'a Lab,
    flags: u64,
    armed: bool,
}

impl WriterEvents for AlertWhileWriting<'_> {
    fn chunk(&mut self, _len: u64, written: bool) {
        if written && !self.armed {
            self.armed = true;
            self.lab.arm(FaultKind::TapeAlert(self.flags), 0);
        }
    }
}

/// The drive reports MEDIA while the job writes: when the job is done
/// with the tape it is marked damaged and the job fails (no snapshot); the
/// next backup writes everything again on another tape and restores.
#[test]
fn critical_media_alert_after_writing_fails_the_job() {
    let mut lab = Lab::new(three_tapes());
    let first = lab.backup("host").unwrap();
    std::fs::write(
        lab.src.join("new.bin"),
        restore_util::random_bytes(300_000, 5),
    )
    .unwrap();
    let options = lab.options("host-more");
    let mut events = AlertWhileWriting {
        lab: &lab,
        flags: MEDIA_ALERT,
        armed: false,
    };
    let mut catalog = Catalog::open(&lab.tmp.path().join("catalog.db")).unwrap();
    let err = run_backup(lab.devices(), &mut catalog, &options, &mut events).unwrap_err();
    drop(catalog);
    assert!(events.armed && lab.fault_fired());
    let text = error_chain(&err);
    assert!(
        text.contains("SW0001L9 is damaged") && text.contains("TapeAlert 4 MEDIA"),
        "{text}"
    );
    assert_eq!(lab.snapshot_names(), vec![first.snapshot]);
    let media = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(media.status, MediaStatus::Damaged);

    let again = lab.backup("host-more").unwrap();
    assert_eq!(again.tapes, ["SW0002L9"]);
    take_out(&lab, "SW0001L9");
    restore_ok(&lab, &again.snapshot, "after-alert");
}

/// CLEAN_NOW at load: without `--auto-clean` the job finishes with a
/// warning that says how to clean; with it, the drive is cleaned with the
/// library's cleaning cartridge after the job.
#[test]
fn cleaning_alert_is_reported_or_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = restore_util::make_named_library(
        &tmp.path().join("lib"),
        2,
        256 * restore_util::MIB,
        "CL",
        "PTAPECLEAN",
        true,
    );
    let src = restore_util::make_tree(&tmp.path().join("src"), 200_000);
    let mut catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
    let uses = |lib: &Library| match lib.read_state().unwrap().cartridges["CLN001L1"].kind {
        CartridgeKind::Cleaning { uses_left } => uses_left,
        ref other => panic!("{other:?}"),
    };
    let before = uses(&lib);
    let arm = |lib: &Library| {
        lib.arm_fault(FaultSpec {
            device: DeviceId::Drive(0),
            kind: FaultKind::TapeAlert(CLEAN_NOW),
            after: 0,
        })
        .unwrap()
    };

    arm(&lib);
    let mut notes = Notes::default();
    let plain = library_devices(&lib);
    let r = run_backup(plain, &mut catalog, &backup_options(&src, "a"), &mut notes).unwrap();
    assert_eq!(r.warnings, 1);
    assert!(
        notes
            .0
            .iter()
            .any(|n| n.contains("needs cleaning") && n.contains("--auto-clean")),
        "{:?}",
        notes.0
    );
    assert_eq!(uses(&lib), before, "not cleaned without --auto-clean");

    arm(&lib);
    let mut notes = Notes::default();
    let mut resolved = library_resolved(&lib);
    resolved.auto_clean = true;
    let devices = LibraryDevices::from_resolved(resolved).unwrap();
    let r = run_backup(
        devices,
        &mut catalog,
        &backup_options(&src, "b"),
        &mut notes,
    )
    .unwrap();
    assert_eq!(r.warnings, 0, "{:?}", notes.0);
    assert_eq!(uses(&lib), before - 1, "cleaned once");
    assert!(
        notes.0.iter().any(|n| n.contains("cleaned with CLN001L1")),
        "{:?}",
        notes.0
    );
    // The cleaning cartridge is back in its slot.
    assert!(matches!(
        lib.read_state().unwrap().locate("CLN001L1"),
        Some(pbs_tape::emulator::state::Location::Slot(_))
    ));
}

/// Every note and warning of a job.
#[derive(Default)]
struct Notes(Vec<String>);

impl WriterEvents for Notes {
    fn note(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}
