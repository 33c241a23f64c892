//! Tape health (emulated library, real CDBs): a tape that is damaged,
//! retired or failed verification no longer counts for deduplication, its
//! chunks are written again, and restores read the healthy copies.

mod restore_util;
mod sweep_util;

use pbs_tape::emulator::fault::FaultKind;
use ptape::catalog::MediaStatus;
use ptape::pool::media::set_status;
use ptape::restore::{run_restore, RestoreOptions};
use ptape::verify::{verify, TapeState, VerifySelection};
use ptape::writer::NoEvents;
use restore_util::assert_same_tree;
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

/// Takes the cartridge `label` out of the library (import/export slot,
/// then out): a restore that still needed it could not load it.
fn take_out(lab: &Lab, label: &str) {
    lab.lib
        .update(|state| {
            for slot in state.slots.iter_mut() {
                if slot.as_deref() == Some(label) {
                    *slot = None;
                }
            }
            Ok(())
        })
        .unwrap();
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
