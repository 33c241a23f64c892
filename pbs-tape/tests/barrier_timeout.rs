//! A command that never answers (transport timeout) during an archive or
//! in the flush: no success is reported and nothing is committed; the
//! tape is read back to show the committed part is intact.

mod barrier_util;
mod format_util;

use barrier_util::{EmuTape, MIB};
use format_util::{archive_chunks, media_label, scan_all, small_config, write_archive};
use pbs_tape::emulator::fault::FaultKind;
use pbs_tape::format::{FormatError, MediaWriter, ScannedContent};

fn label_survives(emu: &EmuTape) {
    let mut drive = emu.drive();
    drive.rewind().unwrap();
    let files = scan_all(&mut drive);
    match &files[0] {
        Ok(f) => assert!(matches!(f.content, ScannedContent::MediaLabel(_))),
        Err(e) => panic!("label unreadable: {e}"),
    }
}

#[test]
fn timeout_while_writing_an_archive_fails_and_poisons() {
    for after in [0u64, 7, 19] {
        let emu = EmuTape::new(64 * MIB, MIB);
        let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
        w.write_media_label(&media_label("TAPE01L9")).unwrap();
        assert_eq!(w.commit().unwrap().len(), 1);
        // Timeout faults count every command: the (after+1)-th from here.
        emu.arm(FaultKind::Timeout, after);
        let result = write_archive(&mut w, &archive_chunks()).and_then(|_| w.commit());
        assert!(
            matches!(result, Err(FormatError::Tape { .. })),
            "after {after}: {result:?}"
        );
        assert!(w.is_poisoned());
        assert!(w.commit().is_err());
        drop(w);
        label_survives(&emu);
    }
}

#[test]
fn timeout_in_the_flush_commits_nothing() {
    let emu = EmuTape::new(64 * MIB, MIB);
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    assert_eq!(w.commit().unwrap().len(), 1);
    write_archive(&mut w, &archive_chunks()).unwrap();
    emu.arm(FaultKind::Timeout, 0); // the flush never answers
    match w.commit() {
        Err(FormatError::Tape { op, .. }) => assert_eq!(op, "flush (WRITE FILEMARKS 0)"),
        other => panic!("expected the flush to fail, got {other:?}"),
    }
    assert_eq!(w.pending().len(), 1, "the archive stays uncommitted");
    assert!(w.commit().is_err());
    drop(w);
    label_survives(&emu);
}
