//! An unrecovered read error on the emulated drive is an error of the
//! reader, never a silent end of the archive (that would truncate restores).

mod barrier_util;
mod format_util;

use barrier_util::{EmuTape, MIB};
use format_util::{archive_chunks, media_label, small_config, write_archive};
use pbs_tape::emulator::fault::FaultKind;
use pbs_tape::format::{read_media_label, ChunkArchiveReader, FormatError, MediaWriter};

#[test]
fn read_error_inside_an_archive_is_an_error_not_its_end() {
    let emu = EmuTape::new(64 * MIB, MIB);
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    let archive = write_archive(&mut w, &archive_chunks()).unwrap();
    assert_eq!(w.commit().unwrap().len(), 2);
    drop(w);

    for k in [0u64, 5, 19] {
        let mut drive = emu.drive();
        drive.rewind().unwrap();
        assert!(read_media_label(&mut drive).unwrap().is_some());
        // Fires on the (k+1)-th READ from here: archive block k.
        emu.arm(FaultKind::ReadError, k);
        let mut reader = match ChunkArchiveReader::new(&mut drive) {
            Ok(r) => r,
            Err(e) => {
                assert_eq!(k, 0, "{e}");
                assert!(matches!(
                    e,
                    FormatError::Tape {
                        op: "read block",
                        ..
                    }
                ));
                continue;
            }
        };
        let mut good = 0;
        let err = loop {
            match reader.next_entry() {
                Ok(Some(entry)) => {
                    assert_eq!(entry.digest, archive.digests[good]);
                    good += 1;
                }
                Ok(None) => panic!("block {k}: read error taken for the end of the archive"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(
                err,
                FormatError::Tape {
                    op: "read block",
                    ..
                }
            ),
            "block {k}: {err:?}"
        );
        assert!(good < archive.digests.len());
    }
}
