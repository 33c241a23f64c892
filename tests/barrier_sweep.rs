//! Fault sweep of the finish barrier through `ptape::backup` against the
//! emulated library (real CDBs through drive and changer layers).
//!
//! For each fault kind (write error, deferred write error, power loss,
//! timeout) and for the commands of a clean run of the same backup
//! (counted first: WRITE(6) for write faults, every drive command for
//! power loss and timeout; every point around the first WRITE, around every
//! archive boundary and in the job end, a stride elsewhere), in a fresh library and
//! catalog: a fault that fired fails the job, or, if the job says OK, its
//! snapshot restores byte-identical; a failed job records no snapshot;
//! every catalog row points at data read back from tape with matching
//! digests; a clean re-run succeeds and restores byte-identical. Early
//! warning at many points spans to the next tape and never fails a job.

mod restore_util;
mod sweep_util;

use pbs_tape::emulator::fault::{FaultClass, FaultKind};
use restore_util::MIB;
use sweep_util::{error_chain, sample_points, Lab, Setup};

/// What one fault point did.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The fault fired and the job failed cleanly.
    Failed,
    /// The fault never fired (past the job's last command); job OK.
    NotFired,
    /// The fault fired where nothing was pending (load, or after the
    /// final barrier) and the job said OK: its snapshot was restored
    /// byte-identical, so the success label is true.
    HarmlessOk,
    /// The job failed after its snapshot was committed (catalog archive
    /// or unload at the job end) but the catalog lists the snapshot.
    FailedWithSnapshot,
}

/// Runs a backup with `kind` armed after `after` commands and checks the
/// outcome; panics (with the scenario in the message) on a violation.
fn fault_point(setup: Setup, kind: FaultKind, after: u64, restore: bool) -> Outcome {
    let context = format!("{kind} after {after}");
    let mut lab = Lab::new(setup);
    lab.arm(kind, after);
    let result = lab.backup("fault");
    let fired = lab.fault_fired();
    lab.lib.clear_faults().unwrap();
    let outcome = match (&result, fired) {
        (Err(e), false) => panic!("{context}: failed without a fault: {}", error_chain(e)),
        (Ok(_), false) => Outcome::NotFired,
        (Ok(r), true) => {
            lab.verify_catalog_against_tapes(&context);
            lab.restore_identical(&context, &r.snapshot);
            Outcome::HarmlessOk
        }
        (Err(_), true) if lab.snapshot_names().is_empty() => Outcome::Failed,
        (Err(_), true) => Outcome::FailedWithSnapshot,
    };
    lab.verify_catalog_against_tapes(&context);
    lab.rerun_and_restore(&context, "rerun", restore);
    outcome
}

/// Where the phases of a clean run lie, in the units a fault counts
/// (WRITE(6) commands for write faults, every command otherwise).
#[derive(Debug, Clone, Copy)]
struct Phases {
    /// The first WRITE(6) (the media label): before it nothing is pending.
    first_write: u64,
    /// The first WRITE(6) of the catalog archives, written after the
    /// snapshot archive's barrier committed the snapshot row.
    job_end: u64,
    /// Commands of the clean run: a fault armed after them never fires.
    last: u64,
}

impl Phases {
    /// Counts a clean run of `setup` (it ends with one catalog archive of
    /// one block for each tape written); also returns the tapes written.
    fn measure(setup: Setup, kind: FaultKind) -> (Phases, Lab, usize) {
        let mut lab = Lab::new(setup);
        let (result, count) = lab.count_clean_run("clean");
        let tapes = result.tapes.len() as u64;
        let last_write = count.writes - tapes;
        let phases = match kind.class() {
            FaultClass::Write => Phases {
                first_write: 0,
                job_end: last_write,
                last: count.writes,
            },
            _ => Phases {
                first_write: Lab::new(setup).command_index_of_write(0),
                job_end: Lab::new(setup).command_index_of_write(last_write),
                last: count.all,
            },
        };
        (phases, lab, result.tapes.len())
    }

    /// Every point around the start, the archive boundaries and the job
    /// end; a stride elsewhere.
    fn points(&self, kind: FaultKind, lab: &Lab, stride: u64) -> Vec<u64> {
        let mut exhaustive = vec![
            0..=1,
            self.first_write.saturating_sub(2)..=self.first_write + 2,
            self.job_end.saturating_sub(3)..=self.last,
        ];
        if kind.class() == FaultClass::Write {
            for (first, last) in lab.archive_write_bounds() {
                exhaustive.push(first.saturating_sub(1)..=first + 1);
                exhaustive.push(last.saturating_sub(1)..=last + 1);
            }
        }
        sample_points(self.last, stride, &exhaustive)
    }

    /// Panics when `outcome` is not allowed at `after`.
    fn check(&self, kind: FaultKind, after: u64, outcome: &Outcome) {
        let allowed: &[Outcome] = if after >= self.last {
            &[Outcome::NotFired]
        } else if after < self.first_write {
            &[Outcome::Failed, Outcome::HarmlessOk]
        } else if after < self.job_end {
            &[Outcome::Failed]
        } else {
            // At the job end a timeout on a command that needs no answer
            // (the final unload's identification) may pass harmlessly.
            &[Outcome::Failed, Outcome::HarmlessOk]
        };
        assert!(
            allowed.contains(outcome),
            "{kind} after {after} ({self:?}): {outcome:?}, allowed {allowed:?}"
        );
    }
}

fn sweep(kind: FaultKind, stride: u64) {
    sweep_setup(Setup::single_tape(), kind, stride);
}

fn sweep_setup(setup: Setup, kind: FaultKind, stride: u64) {
    let (phases, lab, _) = Phases::measure(setup, kind);
    let points = phases.points(kind, &lab, stride);
    let mut outcomes = Vec::new();
    for (i, &after) in points.iter().enumerate() {
        let outcome = fault_point(setup, kind, after, i % 4 == 0);
        phases.check(kind, after, &outcome);
        outcomes.push((after, outcome));
    }
    let failed = outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Failed)
        .count();
    eprintln!(
        "{kind}: {} points ({phases:?}), {failed} failed cleanly: {outcomes:?}",
        points.len()
    );
}

#[test]
fn write_error_at_every_write() {
    sweep(FaultKind::WriteError, 5);
}

#[test]
fn deferred_write_error_at_every_write() {
    sweep(FaultKind::DeferredWriteError, 5);
}

#[test]
fn power_loss_at_every_command() {
    sweep(FaultKind::PowerLoss, 7);
}

#[test]
fn timeout_at_every_command() {
    sweep(FaultKind::Timeout, 7);
}

/// A drive with only the short form of READ POSITION (no file number):
/// the barrier checks the logical object, which counts every block and
/// filemark, so lost buffered data still fails the job.
#[test]
fn power_loss_at_every_command_short_position_form() {
    sweep_setup(Setup::short_position(), FaultKind::PowerLoss, 11);
}

#[test]
fn deferred_write_error_at_every_write_short_position_form() {
    sweep_setup(Setup::short_position(), FaultKind::DeferredWriteError, 9);
}

/// The job end: a failure while the catalog archive is written or the tape
/// unloaded, after the snapshot archive's barrier committed its row.
#[test]
fn failure_at_job_end_leaves_no_snapshot_row() {
    let setup = Setup::single_tape();
    let mut bad = Vec::new();
    for kind in [
        FaultKind::WriteError,
        FaultKind::DeferredWriteError,
        FaultKind::PowerLoss,
        FaultKind::Timeout,
    ] {
        let (phases, _, _) = Phases::measure(setup, kind);
        for after in phases.job_end..phases.last {
            if fault_point(setup, kind, after, false) == Outcome::FailedWithSnapshot {
                bad.push(format!("{kind} after {after}"));
            }
        }
    }
    assert!(bad.is_empty(), "failed jobs with a snapshot row: {bad:?}");
}

/// Small tapes: early warning at many points of the job (labels, chunk
/// archives, snapshot and catalog archives) spans, the job succeeds, its
/// rows match the tapes and it restores byte-identical.
#[test]
fn early_warning_anywhere_spans_not_fails() {
    let mut spans = Vec::new();
    for step in 0..8u64 {
        let setup = Setup {
            tapes: 6,
            capacity: 1280 * 1024 + step * 192 * 1024,
            early_warning: 512 * 1024,
            large: 2 * MIB as usize,
            short_position: step % 2 == 1,
        };
        let context = format!(
            "capacity {} (short position: {})",
            setup.capacity, setup.short_position
        );
        let mut lab = Lab::new(setup);
        let result = lab
            .backup("span")
            .unwrap_or_else(|e| panic!("{context}: {}", error_chain(&e)));
        lab.verify_catalog_against_tapes(&context);
        lab.restore_identical(&context, &result.snapshot);
        spans.push(result.tapes.len());
    }
    // The sweep really moved early warning across the job.
    assert!(spans.iter().any(|&n| n >= 3), "{spans:?}");
    assert!(spans.iter().any(|&n| n <= 2), "{spans:?}");
}

/// Write errors while the backup spans small tapes: on the first tape, at
/// the switch, and on the tape it spanned to.
#[test]
fn write_error_while_spanning() {
    let setup = Setup {
        tapes: 6,
        capacity: 1536 * 1024,
        early_warning: 512 * 1024,
        large: 2 * MIB as usize,
        short_position: false,
    };
    let (phases, lab, tapes) = Phases::measure(setup, FaultKind::WriteError);
    assert!(tapes >= 2, "the clean run did not span: {tapes} tape(s)");
    let mut failed = 0;
    for (i, after) in phases
        .points(FaultKind::WriteError, &lab, 12)
        .into_iter()
        .enumerate()
    {
        let outcome = fault_point(setup, FaultKind::WriteError, after, i % 6 == 0);
        phases.check(FaultKind::WriteError, after, &outcome);
        failed += usize::from(outcome == Outcome::Failed);
    }
    assert!(failed > 0);
}
