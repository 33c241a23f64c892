//! VOLUME OVERFLOW (the physical end of the tape) inside a chunk archive:
//! the drive's early warning came too late to close the archive. Nothing
//! written there since the last commit counts: those chunks are read back,
//! the tape is marked full, and the job goes on with the next tape of the
//! set, writing them again there. The backup succeeds, its catalog rows
//! are exactly the committed archives, and it restores byte-identical.

mod restore_util;
mod sweep_util;

use pbs_tape::format::ContentType;
use ptape::backup::run_backup;
use ptape::catalog::Catalog;
use ptape::catalog::MediaStatus;
use ptape::scan::{scan_tapes, TapeScanState};
use ptape::writer::NoEvents;
use ptape::writer::WriterEvents;
use sweep_util::{error_chain, Lab, Setup};

const KIB: u64 = 1024;

/// Early warning 4 KiB before the end: the next 64 KiB block after it
/// runs into the end of the tape, in the middle of a chunk archive.
fn small_tapes() -> Setup {
    Setup {
        tapes: 4,
        early_warning: 4 * KIB,
        capacity: 1536 * KIB,
        ..Setup::single_tape()
    }
}

#[test]
fn volume_overflow_mid_archive_continues_on_the_next_tape() {
    let mut lab = Lab::new(small_tapes());
    let options = lab.options("host");
    let mut notes = Notes::default();
    let result = run_backup(lab.devices(), &mut lab.catalog, &options, &mut notes)
        .unwrap_or_else(|e| panic!("backup failed: {}\n{:#?}", error_chain(&e), notes.0));
    assert!(
        notes
            .0
            .iter()
            .any(|n| n.contains("SW0001L9 reached its physical end (VOLUME OVERFLOW)")),
        "{:#?}",
        notes.0
    );
    assert!(result.tapes.len() >= 2, "{:?}", result.tapes);
    assert_eq!(result.tapes[0], "SW0001L9");
    let first = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(first.status, MediaStatus::Full);
    for label in &result.tapes[1..] {
        let m = lab.catalog.media_by_label(label).unwrap().unwrap();
        assert_eq!(m.media_set, first.media_set, "{label}");
    }

    // The overflowed tape physically holds more chunk archives (the ones
    // cut short or never committed) than the catalog lists.
    let listed = lab
        .catalog
        .archives_of_media(first.uuid)
        .unwrap()
        .iter()
        .filter(|a| a.content == ptape::catalog::ContentType::Chunks)
        .count();
    let on_tape = chunk_archives_on_tape(&lab, "SW0001L9");
    assert!(
        on_tape > listed,
        "no uncommitted archive on SW0001L9: {on_tape} on tape, {listed} listed"
    );

    // Every row matches what is on tape, every chunk of the snapshot is
    // in a committed archive, and each was counted once.
    let found = lab.verify_catalog_against_tapes("after overflow");
    assert_eq!(found.len() as u64, result.chunks_written);
    lab.restore_identical("after overflow", &result.snapshot);

    // A catalog rebuilt from the tapes alone: the overflowed tape is read
    // up to its unterminated last file (not damaged), nothing of that file
    // is imported, and the snapshot restores.
    let mut rebuilt = Catalog::open(&lab.tmp.path().join("rebuilt.db")).unwrap();
    let report = scan_tapes(lab.devices(), &mut rebuilt, None, true, &mut NoEvents).unwrap();
    let first_report = report.tapes.iter().find(|t| t.label == "SW0001L9").unwrap();
    assert_eq!(
        first_report.state,
        TapeScanState::Scanned,
        "{first_report:?}"
    );
    assert!(
        first_report
            .notes
            .iter()
            .any(|n| n.contains("ends without a filemark")),
        "{first_report:?}"
    );
    lab.catalog = rebuilt;
    let found = lab.verify_catalog_against_tapes("after rescan");
    assert_eq!(found.len() as u64, result.chunks_written);
    let earlier = lab
        .tmp
        .path()
        .join(format!("restore-{}", result.snapshot.replace('/', "_")));
    std::fs::remove_dir_all(earlier).unwrap();
    lab.restore_identical("after rescan", &result.snapshot);
}

/// Chunk archives found by scanning the tape from file 0 (the last one
/// may be cut short).
fn chunk_archives_on_tape(lab: &Lab, label: &str) -> usize {
    use ptape::devices::TapeDevices;
    let mut devices = lab.devices();
    let mut tape = devices.load(label).unwrap();
    let count = pbs_tape::format::scan_tape(&mut tape, 0)
        .filter(|f| match f {
            Ok(f) => f.header.content_type == ContentType::ChunkArchive,
            // The archive the tape's end cut short.
            Err(_) => true,
        })
        .count();
    devices.unload(tape).unwrap();
    count
}

/// Every note and warning of a job.
#[derive(Default)]
struct Notes(Vec<String>);

impl WriterEvents for Notes {
    fn note(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

/// With the default archive cap (4 GiB) and commit interval, nothing on
/// the first tape was committed when it overflowed: all of it is written
/// again, in archives capped at a quarter of what that tape held, each
/// committed, so the job gets through.
#[test]
fn volume_overflow_before_any_commit_still_gets_through() {
    let mut lab = Lab::new(Setup {
        tapes: 5,
        ..small_tapes()
    });
    let mut options = lab.options("host");
    options.format.archive_cap = pbs_tape::format::WriterConfig::default().archive_cap;
    options.format.commit_interval = pbs_tape::format::WriterConfig::default().commit_interval;
    let mut notes = Notes::default();
    let result = run_backup(lab.devices(), &mut lab.catalog, &options, &mut notes)
        .unwrap_or_else(|e| panic!("backup failed: {}\n{:#?}", error_chain(&e), notes.0));
    assert!(result.tapes.len() >= 2, "{:?}", result.tapes);
    let first = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(first.status, MediaStatus::Full);
    let found = lab.verify_catalog_against_tapes("overflow before any commit");
    assert_eq!(found.len() as u64, result.chunks_written);
    lab.restore_identical("overflow before any commit", &result.snapshot);
}

/// The source's last chunks fill the last archive, and ending that
/// archive (its end-of-stream block and filemark) runs into the end of the
/// tape: the source's end, seen before the overflow, still ends the job
/// once the archive's chunks are written again on the next tape (the job
/// failed with "the source reader stopped before the end of its streams").
/// 1436 KiB puts the overflow there for this source tree.
#[test]
fn volume_overflow_while_ending_the_last_archive_keeps_the_source_end() {
    let mut lab = Lab::new(Setup {
        tapes: 5,
        capacity: 1436 * KIB,
        ..small_tapes()
    });
    let options = lab.options("host");
    let mut notes = Notes::default();
    let result = run_backup(lab.devices(), &mut lab.catalog, &options, &mut notes)
        .unwrap_or_else(|e| panic!("backup failed: {}\n{:#?}", error_chain(&e), notes.0));
    assert!(
        notes.0.iter().any(|n| n.contains("(VOLUME OVERFLOW)")),
        "{:#?}",
        notes.0
    );
    let found = lab.verify_catalog_against_tapes("overflow at the archive's end");
    assert_eq!(found.len() as u64, result.chunks_written);
    lab.restore_identical("overflow at the archive's end", &result.snapshot);
}

/// The tape's end anywhere in the job's writes: a sweep over cartridge
/// sizes puts VOLUME OVERFLOW in chunk archives, at their ends, in the
/// snapshot archive and in the catalog archives. Every backup succeeds,
/// its rows match the tapes and it restores byte-identical.
#[test]
fn volume_overflow_anywhere_never_fails_the_job() {
    for k in (1380..1540).step_by(8) {
        let mut lab = Lab::new(Setup {
            tapes: 5,
            capacity: k * KIB,
            ..small_tapes()
        });
        let options = lab.options("host");
        let mut notes = Notes::default();
        let context = format!("capacity {k} KiB");
        let result = run_backup(lab.devices(), &mut lab.catalog, &options, &mut notes)
            .unwrap_or_else(|e| panic!("{context}: {}\n{:#?}", error_chain(&e), notes.0));
        let found = lab.verify_catalog_against_tapes(&context);
        assert_eq!(found.len() as u64, result.chunks_written, "{context}");
        lab.restore_identical(&context, &result.snapshot);
    }
}
