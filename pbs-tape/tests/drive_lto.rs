//! LtoDrive against the emulated drive: data path, positioning, sense
//! interpretation end to end.

mod drive_util;

use drive_util::{pattern, DriveFixture};
use pbs_tape::drive::{DriveError, ReadEvent, SpaceStop, WriteStatus};

/// Write `files` tape files; file `f` holds blocks of sizes `sizes`, block
/// `b` filled with `pattern(f * 100 + b, size)`.
fn write_files(drive: &mut pbs_tape::drive::LtoDrive, files: u32, sizes: &[usize]) {
    for f in 0..files {
        for (b, &size) in sizes.iter().enumerate() {
            let status = drive
                .write_block(&pattern(f * 100 + b as u32, size))
                .unwrap();
            assert_eq!(status, WriteStatus::Ok);
        }
        drive.write_filemarks(1, false).unwrap();
    }
}

#[test]
fn open_reads_identity_and_limits() {
    let f = DriveFixture::new();
    let drive = f.open();
    let id = drive.identity();
    assert!(!id.vendor.is_empty());
    assert!(!id.product.is_empty());
    assert!(id.serial.as_deref().is_some_and(|s| !s.is_empty()));
    let limits = drive.block_limits().expect("block limits read at open");
    assert!(drive.max_block_size() > 0);
    assert!(drive.max_block_size() <= limits.max_block_length as usize);
    assert!(drive.max_block_size() <= f.lib.read_state().unwrap().config.max_transfer);
}

#[test]
fn write_and_read_back_files_with_events() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    drive.rewind().unwrap();
    let sizes = [65536, 1000, 3];
    write_files(&mut drive, 2, &sizes);
    drive.rewind().unwrap();
    let mut buf = vec![0u8; 65536];
    for file in 0..2u32 {
        for (b, &size) in sizes.iter().enumerate() {
            assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::Block(size));
            assert_eq!(&buf[..size], &pattern(file * 100 + b as u32, size)[..]);
        }
        assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::Filemark);
    }
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::EndOfData);
}

#[test]
fn block_longer_than_buffer_is_an_error_with_both_lengths() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    drive.write_block(&pattern(1, 5000)).unwrap();
    drive.write_block(&pattern(2, 10)).unwrap();
    drive.write_filemarks(1, false).unwrap();
    drive.rewind().unwrap();
    let mut small = vec![0u8; 1000];
    match drive.read_block(&mut small) {
        Err(DriveError::BlockLargerThanBuffer { len, buffer, .. }) => {
            assert_eq!((len, buffer), (5000, 1000))
        }
        other => panic!("expected BlockLargerThanBuffer, got {other:?}"),
    }
    // The drive moved past the long block: the next block reads normally.
    assert_eq!(drive.read_block(&mut small).unwrap(), ReadEvent::Block(10));
}

#[test]
fn positions_and_spacing() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    drive.rewind().unwrap();
    let pos = drive.read_position().unwrap();
    assert!(pos.bop);
    assert_eq!((pos.file_number, pos.logical_object), (Some(0), 0));
    write_files(&mut drive, 3, &[512, 512, 512]);
    // 3 files of 3 blocks + filemark = 12 objects.
    let pos = drive.read_position().unwrap();
    assert_eq!((pos.file_number, pos.logical_object), (Some(3), 12));
    assert!(!pos.bop);

    drive.rewind().unwrap();
    drive.space_filemarks(2).unwrap();
    let pos = drive.read_position().unwrap();
    assert_eq!((pos.file_number, pos.logical_object), (Some(2), 8));

    drive.space_filemarks(-1).unwrap();
    let pos = drive.read_position().unwrap();
    // Before filemark 2 (the end of file 1).
    assert_eq!((pos.file_number, pos.logical_object), (Some(1), 7));

    drive.space_filemarks_other_side(1).unwrap();
    let pos = drive.read_position().unwrap();
    assert_eq!(
        (pos.file_number, pos.logical_object),
        (Some(1), 7),
        "fsfm 1"
    );

    drive.space_filemarks_other_side(-1).unwrap();
    let pos = drive.read_position().unwrap();
    assert_eq!(
        (pos.file_number, pos.logical_object),
        (Some(1), 4),
        "bsfm 1"
    );

    drive.space_blocks(2).unwrap();
    assert_eq!(drive.read_position().unwrap().logical_object, 6);
    drive.space_blocks(-1).unwrap();
    assert_eq!(drive.read_position().unwrap().logical_object, 5);

    drive.move_to_eod().unwrap();
    let pos = drive.read_position().unwrap();
    assert_eq!((pos.file_number, pos.logical_object), (Some(3), 12));

    drive.locate(5).unwrap();
    assert_eq!(drive.read_position().unwrap().logical_object, 5);

    drive.locate_file(2).unwrap();
    let pos = drive.read_position().unwrap();
    assert_eq!((pos.file_number, pos.logical_object), (Some(2), 8));
    let mut buf = vec![0u8; 512];
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::Block(512));
    assert_eq!(buf, pattern(200, 512));

    drive.locate_file(0).unwrap();
    assert!(drive.read_position().unwrap().bop);
}

#[test]
fn space_stops_are_clear_errors() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    write_files(&mut drive, 1, &[100, 100, 100]);
    drive.rewind().unwrap();
    let err = drive.space_blocks(5).unwrap_err();
    match &err {
        DriveError::SpaceStopped { shortfall, .. } => {
            assert_eq!(shortfall.stop, SpaceStop::Filemark);
            assert_eq!(shortfall.done, Some(3));
            assert_eq!(shortfall.requested, 5);
        }
        other => panic!("expected SpaceStopped, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("space stopped at filemark after 3 of 5 blocks"),
        "{err}"
    );
    // Past the filemark now: file 1 at end of data.
    drive.rewind().unwrap();
    let err = drive.space_filemarks(2).unwrap_err();
    match &err {
        DriveError::SpaceStopped { shortfall, .. } => {
            assert_eq!(shortfall.stop, SpaceStop::EndOfData);
            assert_eq!(shortfall.done, Some(1));
        }
        other => panic!("expected SpaceStopped, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("end of data reached after 1 of 2 filemarks"),
        "{err}"
    );
    // Backwards into BOP.
    drive.rewind().unwrap();
    drive.space_blocks(2).unwrap();
    let err = drive.space_blocks(-5).unwrap_err();
    match &err {
        DriveError::SpaceStopped { shortfall, .. } => {
            assert_eq!(shortfall.stop, SpaceStop::BeginningOfMedium);
            assert_eq!(shortfall.done, Some(2));
        }
        other => panic!("expected SpaceStopped, got {other:?}"),
    }
    assert!(drive.read_position().unwrap().bop);
}

#[test]
fn too_large_block_is_refused_before_any_command() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    let max = drive.max_block_size();
    let before = drive.read_position().unwrap();
    match drive.write_block(&vec![0u8; max + 1]) {
        Err(DriveError::BlockTooLarge { len, max: m, .. }) => assert_eq!((len, m), (max + 1, max)),
        other => panic!("expected BlockTooLarge, got {other:?}"),
    }
    assert_eq!(drive.read_position().unwrap(), before);
    // The largest block itself goes through and reads back.
    drive.write_block(&pattern(9, max)).unwrap();
    drive.write_filemarks(1, false).unwrap();
    drive.rewind().unwrap();
    let mut buf = vec![0u8; max];
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::Block(max));
    assert_eq!(buf, pattern(9, max));
}

#[test]
fn erase_short_writes_end_of_data_here() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    write_files(&mut drive, 2, &[100]);
    drive.rewind().unwrap();
    drive.space_filemarks(1).unwrap();
    drive.erase(false).unwrap();
    drive.rewind().unwrap();
    drive.space_filemarks(1).unwrap();
    let mut buf = vec![0u8; 100];
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::EndOfData);
}

#[test]
fn format_empties_the_cartridge() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    write_files(&mut drive, 2, &[100]);
    drive.format(true).unwrap();
    let pos = drive.read_position().unwrap();
    assert!(pos.bop);
    let mut buf = vec![0u8; 100];
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::EndOfData);
}

#[test]
fn early_warning_then_end_of_medium() {
    use pbs_tape::emulator::state::LibraryConfig;
    let f = DriveFixture::with_config(LibraryConfig {
        slots: 0,
        ie_slots: 0,
        capacity: 1 << 20,
        early_warning: 256 << 10,
        ..LibraryConfig::default()
    });
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    let block = pattern(3, 64 << 10);
    let mut written = 0usize;
    let mut first_warning = None;
    let end = loop {
        match drive.write_block(&block) {
            Ok(WriteStatus::Ok) => assert!(first_warning.is_none(), "Ok after early warning"),
            Ok(WriteStatus::EarlyWarning) => {
                first_warning.get_or_insert(written);
            }
            Err(e) => break e,
        }
        written += 1;
        assert!(written < 64, "no end of medium on a 1 MiB cartridge");
    };
    let warned_at = first_warning.expect("early warning before the end");
    assert!(
        warned_at > 0 && warned_at < written,
        "{warned_at} of {written}"
    );
    assert!(matches!(end, DriveError::EndOfMedium { .. }), "{end:?}");
    assert!(end.to_string().contains("end of medium"), "{end}");
}
