//! Power loss after archives were finished but before the commit: they are
//! not in any commit list, and reading the tape back shows they are gone,
//! while archives committed earlier are there.

mod barrier_util;
mod format_util;

use barrier_util::{EmuTape, MIB};
use format_util::{chunk, media_label, scan_all, small_config, write_archive};
use pbs_tape::emulator::fault::FaultKind;
use pbs_tape::format::{ContentType, FormatError, MediaWriter, ScannedContent};

#[test]
fn power_loss_before_commit_loses_only_uncommitted_archives() {
    let emu = EmuTape::new(64 * MIB, MIB);
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    let first: Vec<_> = (0..5).map(|i| chunk(i, 30_000)).collect();
    let committed_archive = write_archive(&mut w, &first).unwrap();
    let committed = w.commit().unwrap();
    assert_eq!(committed.len(), 2);
    assert_eq!(committed[1], committed_archive);

    // Two more archives, finished (buffered) but not committed.
    let second: Vec<_> = (5..10).map(|i| chunk(i, 30_000)).collect();
    let third: Vec<_> = (10..12).map(|i| chunk(i, 30_000)).collect();
    write_archive(&mut w, &second).unwrap();
    write_archive(&mut w, &third).unwrap();
    assert_eq!(w.pending().len(), 2);

    emu.arm(FaultKind::PowerLoss, 0);
    // The flush fails (UNIT ATTENTION), or, if the drive layer retried it
    // on the now empty buffer, the position check catches the loss.
    let result = w.commit();
    assert!(
        matches!(
            &result,
            Err(FormatError::Tape { .. } | FormatError::PositionMismatch { .. })
        ),
        "commit after power loss must fail: {result:?}"
    );
    assert!(w.is_poisoned());
    assert!(w.commit().is_err());
    drop(w);

    // Read back: label and the committed archive; nothing else.
    let mut drive = emu.drive();
    drive.rewind().unwrap();
    let files: Vec<_> = scan_all(&mut drive)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].header.content_type, ContentType::MediaLabel);
    match &files[1].content {
        ScannedContent::ChunkArchive { digests, .. } => {
            assert_eq!(digests, &committed_archive.digests)
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(files[1].header.uuid, committed_archive.uuid);
}

#[test]
fn power_loss_before_the_first_commit_commits_nothing() {
    let emu = EmuTape::new(64 * MIB, MIB);
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    write_archive(&mut w, &[chunk(1, 1000)]).unwrap();
    emu.arm(FaultKind::PowerLoss, 0);
    assert!(w.commit().is_err());
    drop(w);
    let mut drive = emu.drive();
    drive.rewind().unwrap();
    assert!(scan_all(&mut drive).is_empty(), "the tape must be blank");
}
