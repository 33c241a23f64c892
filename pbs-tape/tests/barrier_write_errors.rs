//! Finish barrier against the emulator: a write error at every block index
//! of a 20-block archive, and a deferred write error reported by the flush
//! itself. Never a success; the commit list holds exactly what reached the
//! tape (the tape is read back to prove it).

mod barrier_util;
mod format_util;

use barrier_util::{EmuTape, MIB};
use format_util::{
    archive_chunks, media_label, scan_all, small_config, write_archive, ARCHIVE_BLOCKS,
};
use pbs_tape::emulator::fault::FaultKind;
use pbs_tape::format::{
    image::TapeRecord, ContentType, FormatError, MediaWriter, MemoryTape, ScannedContent,
};

#[test]
fn the_test_archive_is_twenty_blocks() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    let a = write_archive(&mut w, &archive_chunks()).unwrap();
    assert_eq!(a.blocks as u64, ARCHIVE_BLOCKS);
    let tape = w.into_tape();
    let blocks = tape
        .records()
        .iter()
        .filter(|r| matches!(r, TapeRecord::Block(_)))
        .count();
    assert_eq!(blocks as u64, ARCHIVE_BLOCKS);
}

/// Label committed, then the archive with `kind` armed at archive block `k`.
/// Returns the label commit list and the result of finish + commit.
fn run_with_fault(
    emu: &EmuTape,
    kind: FaultKind,
    k: u64,
) -> (
    Vec<pbs_tape::format::PendingArchive>,
    Result<Vec<pbs_tape::format::PendingArchive>, FormatError>,
) {
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    let label_commit = w.commit().unwrap();
    // The fault fires on the (k+1)-th WRITE(6) after arming: archive block k.
    emu.arm(kind, k);
    let result = write_archive(&mut w, &archive_chunks()).and_then(|_| w.commit());
    if result.is_err() {
        assert!(w.is_poisoned());
        assert!(w.commit().is_err(), "a poisoned writer must never commit");
        assert!(w.write_snapshot_archive("x", b"y").is_err());
    }
    (label_commit, result)
}

/// Read the tape back: the label, then an archive cut short after `k`
/// blocks (nothing at all when `k == 0`).
fn assert_tape_holds_label_and_cut_archive(emu: &EmuTape, k: u64) {
    let mut drive = emu.drive();
    drive.rewind().unwrap();
    let files = scan_all(&mut drive);
    match &files[0] {
        Ok(f) => assert!(matches!(f.content, ScannedContent::MediaLabel(_))),
        Err(e) => panic!("label unreadable: {e}"),
    }
    if k == 0 {
        assert_eq!(
            files.len(),
            1,
            "nothing after the label: {:?}",
            files.get(1)
        );
    } else {
        assert_eq!(files.len(), 2);
        match &files[1] {
            Err(FormatError::StreamCutShort {
                at: "end of data",
                blocks,
            }) => assert_eq!(*blocks as u64, k),
            other => panic!("block {k}: expected a cut-short stream, got {other:?}"),
        }
    }
}

#[test]
fn write_error_at_every_block_index() {
    for k in 0..ARCHIVE_BLOCKS {
        let emu = EmuTape::new(64 * MIB, MIB);
        let (label_commit, result) = run_with_fault(&emu, FaultKind::WriteError, k);
        assert_eq!(label_commit.len(), 1);
        assert_eq!(label_commit[0].content_type, ContentType::MediaLabel);
        match result {
            Err(FormatError::Tape { op, .. }) => assert_eq!(op, "write block", "block {k}"),
            other => panic!("block {k}: expected a write error, got {other:?}"),
        }
        assert_tape_holds_label_and_cut_archive(&emu, k);
    }
}

#[test]
fn deferred_write_error_in_the_flush_at_every_block_index() {
    for k in 0..ARCHIVE_BLOCKS {
        let emu = EmuTape::new(64 * MIB, MIB);
        let (_, result) = run_with_fault(&emu, FaultKind::DeferredWriteError, k);
        match result {
            Err(FormatError::Tape { op, .. }) => {
                assert_eq!(op, "flush (WRITE FILEMARKS 0)", "block {k}")
            }
            other => panic!("block {k}: expected the flush to fail, got {other:?}"),
        }
        assert_tape_holds_label_and_cut_archive(&emu, k);
    }
}
