//! The format through `LtoDrive` on the emulated drive: round trip, block
//! size limits, positioning by tape file, appending at end of data.

mod barrier_util;
mod format_util;

use barrier_util::{EmuTape, MIB};
use format_util::{archive_chunks, media_label, media_set_label, scan_all, write_archive};
use pbs_tape::format::{
    read_media_label, read_media_set_label, ChunkArchiveReader, ContentType, FormatError,
    MediaWriter, ScannedContent, WriterConfig,
};

fn config(block_size: usize) -> WriterConfig {
    WriterConfig {
        block_size,
        ..WriterConfig::default()
    }
}

#[test]
fn round_trip_locate_and_append_on_the_emulated_drive() {
    let emu = EmuTape::new(256 * MIB, 16 * MIB);
    let chunks = archive_chunks();
    let mut w = MediaWriter::new(emu.drive(), config(1 << 20)).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    w.write_media_set_label(&media_set_label(3)).unwrap();
    let archive = write_archive(&mut w, &chunks).unwrap();
    w.write_snapshot_archive("host/a/2025", b"manifest")
        .unwrap();
    w.write_catalog_archive(media_label("TAPE01L9").uuid, b"rows")
        .unwrap();
    let committed = w.commit().unwrap();
    assert_eq!(committed.len(), 5);
    assert_eq!(
        committed.iter().map(|a| a.file_number).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    drop(w);

    let mut drive = emu.drive();
    drive.rewind().unwrap();
    assert_eq!(
        read_media_label(&mut drive).unwrap(),
        Some(media_label("TAPE01L9"))
    );
    assert_eq!(
        read_media_set_label(&mut drive).unwrap(),
        Some(media_set_label(3))
    );
    drive.locate_file(2).unwrap();
    let entries: Vec<_> = ChunkArchiveReader::new(&mut drive)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries.len(), chunks.len());
    for (e, (data, digest)) in entries.iter().zip(&chunks) {
        assert_eq!((&e.digest, &e.data), (digest, data));
    }
    assert_eq!(
        entries.iter().map(|e| e.digest).collect::<Vec<_>>(),
        archive.digests
    );

    // Append at end of data.
    drive.move_to_eod().unwrap();
    let mut w = MediaWriter::new(drive, config(256 * 1024)).unwrap();
    let appended = w.write_snapshot_archive("host/b/2025", b"second").unwrap();
    assert_eq!(appended.file_number, 5);
    assert_eq!(appended.first_object, committed[4].end_object);
    assert_eq!(w.commit().unwrap(), vec![appended]);
    let mut drive = w.into_tape();
    drive.rewind().unwrap();
    let files: Vec<_> = scan_all(&mut drive)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let kinds: Vec<_> = files.iter().map(|f| f.header.content_type).collect();
    assert_eq!(
        kinds,
        vec![
            ContentType::MediaLabel,
            ContentType::MediaSetLabel,
            ContentType::ChunkArchive,
            ContentType::SnapshotArchive,
            ContentType::CatalogArchive,
            ContentType::SnapshotArchive,
        ]
    );
    match &files[5].content {
        ScannedContent::SnapshotArchive(s) => assert_eq!(s.manifest, b"second"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn block_size_beyond_the_drive_is_refused() {
    let emu = EmuTape::new(64 * MIB, MIB);
    let drive = emu.drive();
    let max = drive.max_block_size();
    let too_big = (max + 1).next_power_of_two();
    match MediaWriter::new(drive, config(too_big)) {
        Err(FormatError::InvalidBlockSize { size, max: m, .. }) => {
            assert_eq!(size, too_big);
            assert!(m <= max);
        }
        other => panic!("expected InvalidBlockSize, got {other:?}"),
    }
}
