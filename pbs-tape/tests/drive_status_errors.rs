//! DriveStatus and the error paths of LtoDrive against the emulated drive:
//! no medium, write protection, deferred errors, read errors, options.

mod drive_util;

use drive_util::{pattern, DriveFixture, BARCODE};
use pbs_tape::drive::status::MediumState;
use pbs_tape::drive::tape_file::{read_tape_file, write_tape_file, FileEnd, TapeFileError};
use pbs_tape::drive::{DriveError, DriveOptions, ReadEvent};
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};

#[test]
fn status_with_cartridge() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    let s = drive.status().unwrap();
    assert_eq!(s.medium_state, MediumState::Ready);
    assert!(s.medium_present);
    assert_eq!(s.write_protected, Some(false));
    assert_eq!(s.block_size, Some(0));
    assert_eq!(s.file_number, Some(0));
    assert_eq!(s.block_number, Some(0));
    assert_eq!(s.logical_object_number, Some(0));
    assert_eq!(s.bot, Some(true));
    let generation = f.lib.read_state().unwrap().config.lto_generation;
    assert_eq!(s.lto_generation, Some(generation));
    assert!(s.density_code.is_some());
    assert!(s.serial.is_some());

    drive.write_block(&pattern(1, 100)).unwrap();
    drive.write_filemarks(1, false).unwrap();
    drive.write_block(&pattern(2, 100)).unwrap();
    let s = drive.status().unwrap();
    assert_eq!(s.file_number, Some(1));
    assert_eq!(s.logical_object_number, Some(3));
    assert_eq!(s.block_number, None, "not known in file 1 without moving");
    assert_eq!(s.bot, Some(false));
}

#[test]
fn status_without_cartridge_is_not_an_error() {
    let f = DriveFixture::empty();
    let mut drive = f.open();
    let s = drive.status().unwrap();
    assert_eq!(s.medium_state, MediumState::NoMedium);
    assert!(!s.medium_present);
    assert_eq!(s.file_number, None);
    assert_eq!(s.write_protected, None);
}

#[test]
fn commands_without_cartridge_say_no_medium() {
    let f = DriveFixture::empty();
    let mut drive = f.open();
    assert!(matches!(
        drive.write_block(b"data"),
        Err(DriveError::NoMedium { .. })
    ));
    assert!(matches!(drive.rewind(), Err(DriveError::NoMedium { .. })));
    let err = drive.read_position().unwrap_err();
    assert!(matches!(err, DriveError::NoMedium { .. }), "{err:?}");
    assert!(err.to_string().contains("no medium"), "{err}");
}

#[test]
fn write_protected_cartridge() {
    let f = DriveFixture::new();
    f.lib.set_write_protect(BARCODE, true).unwrap();
    let mut drive = f.open();
    let err = drive.write_block(b"data").unwrap_err();
    assert!(matches!(err, DriveError::WriteProtected { .. }), "{err:?}");
    assert!(err.to_string().contains("write protected"));
    assert!(matches!(
        drive.write_filemarks(1, false),
        Err(DriveError::WriteProtected { .. })
    ));
    assert_eq!(drive.status().unwrap().write_protected, Some(true));
}

#[test]
fn deferred_write_error_surfaces_at_flush() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    f.lib
        .arm_fault(FaultSpec {
            device: DeviceId::Drive(0),
            kind: FaultKind::DeferredWriteError,
            after: 1,
        })
        .unwrap();
    drive.write_block(&pattern(1, 100)).unwrap();
    drive.write_block(&pattern(2, 100)).unwrap();
    let err = drive.flush().unwrap_err();
    let sense = err.scsi_error().and_then(|e| e.sense()).expect("sense");
    assert!(sense.deferred, "{err}");
    assert!(err.to_string().contains("deferred error"), "{err}");
}

#[test]
fn read_error_is_never_end_of_data() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.set_variable_block_mode().unwrap();
    drive.write_block(&pattern(1, 100)).unwrap();
    drive.write_filemarks(1, false).unwrap();
    drive.rewind().unwrap();
    f.lib
        .arm_fault(FaultSpec {
            device: DeviceId::Drive(0),
            kind: FaultKind::ReadError,
            after: 0,
        })
        .unwrap();
    let mut buf = vec![0u8; 1000];
    let err = drive.read_block(&mut buf).unwrap_err();
    // The medium error, with the position the drive reports after it (the
    // head stays before the block): never end of data.
    let DriveError::AtBlock {
        block: 0,
        file: Some(0),
        source,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(
        matches!(
            **source,
            DriveError::Scsi {
                command: "READ(6)",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("MEDIUM ERROR"), "{err}");
    assert!(
        err.to_string()
            .contains("information 1000 (position after the error: block 0, file 0)"),
        "{err}"
    );
}

#[test]
fn options_change_what_status_reports() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive
        .set_options(&DriveOptions {
            block_size: Some(4096),
            compression: Some(false),
            buffer_mode: Some(0),
        })
        .unwrap();
    let s = drive.status().unwrap();
    assert_eq!(s.block_size, Some(4096));
    assert_eq!(s.compression, Some(false));
    assert_eq!(s.buffer_mode, Some(0));
    drive.set_options(&DriveOptions::DEFAULTS).unwrap();
    let s = drive.status().unwrap();
    assert_eq!(s.block_size, Some(0));
    assert_eq!(s.compression, Some(true));
    assert_eq!(s.buffer_mode, Some(1));
}

#[test]
fn lock_blocks_removal_until_unlock_and_eject_unloads() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    drive.lock().unwrap();
    assert!(f.lib.read_state().unwrap().drives[0].removal_prevented);
    drive.unlock().unwrap();
    assert!(!f.lib.read_state().unwrap().drives[0].removal_prevented);
    drive.lock().unwrap();
    drive.eject().unwrap();
    let state = f.lib.read_state().unwrap();
    assert!(!state.drives[0].removal_prevented);
    assert!(!state.drives[0].loaded);
    drive.load().unwrap();
    assert!(f.lib.read_state().unwrap().drives[0].loaded);
    assert!(drive.read_position().unwrap().bop);
}

#[test]
fn tape_files_round_trip_through_streams() {
    let f = DriveFixture::new();
    let mut drive = f.open();
    let first = pattern(7, 300_000);
    let second = pattern(8, 4096);
    let s1 = write_tape_file(&mut drive, &mut &first[..], 65536).unwrap();
    assert_eq!((s1.blocks, s1.bytes), (5, 300_000));
    let s2 = write_tape_file(&mut drive, &mut &second[..], 4096).unwrap();
    assert_eq!(s2.blocks, 1);
    drive.rewind().unwrap();
    let mut out = Vec::new();
    let r1 = read_tape_file(&mut drive, &mut out).unwrap();
    assert_eq!(out, first);
    assert_eq!((r1.blocks, r1.end), (5, FileEnd::Filemark));
    assert_eq!(drive.read_position().unwrap().file_number, Some(1));
    let mut out = Vec::new();
    read_tape_file(&mut drive, &mut out).unwrap();
    assert_eq!(out, second);
    let mut out = Vec::new();
    assert!(matches!(
        read_tape_file(&mut drive, &mut out),
        Err(TapeFileError::NoFile { .. })
    ));
    let mut buf = vec![0u8; 10];
    assert_eq!(drive.read_block(&mut buf).unwrap(), ReadEvent::EndOfData);
}
