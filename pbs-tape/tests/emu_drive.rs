//! CDB-level tests of the emulated drive's data path (SSC).

mod emu_util;

use emu_util::*;
use pbs_tape::emulator::open_device;
use pbs_tape::scsi::{DataDirection, DeviceError, ScsiError, ScsiTransport, SenseKey};

const MIB: u64 = 1 << 20;

#[test]
fn write_filemark_read_back_with_filemark_and_eod_sense() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(1000, 1)).unwrap();
    write(&mut dev, &block(262_144, 2)).unwrap();
    wfm(&mut dev, 1, false).unwrap();
    write(&mut dev, &block(10, 3)).unwrap();
    wfm(&mut dev, 1, true).unwrap();
    assert_eq!(position(&mut dev), (5, 2, false, false));
    rewind(&mut dev).unwrap();
    assert_eq!(position(&mut dev), (0, 0, true, false));
    assert_eq!(read(&mut dev, 65536).unwrap(), block(1000, 1));
    assert_eq!(read(&mut dev, 300_000).unwrap(), block(262_144, 2));
    let s = assert_sense(read(&mut dev, 100), SenseKey::NoSense, 0, 1);
    assert!(s.filemark);
    assert_eq!(s.information, Some(100));
    assert_eq!(position(&mut dev), (3, 1, false, false));
    assert_eq!(read(&mut dev, 100).unwrap(), block(10, 3));
    let s = sense_of(read(&mut dev, 100));
    assert!(s.filemark);
    let s = assert_sense(read(&mut dev, 100), SenseKey::BlankCheck, 0, 5);
    assert_eq!(s.information, Some(100));
}

#[test]
fn short_and_long_reads_report_ili_with_residual() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(100, 1)).unwrap();
    write(&mut dev, &block(500, 2)).unwrap();
    write(&mut dev, &block(64, 3)).unwrap();
    rewind(&mut dev).unwrap();
    // Short block, SILI=0: ILI, INFORMATION = requested - actual, data moved.
    let mut buf = vec![0u8; 400];
    let err = read_raw(&mut dev, 400, false, &mut buf).unwrap_err();
    match err {
        ScsiError::CheckCondition {
            sense,
            transferred,
            residual,
        } => {
            assert!(sense.ili && sense.is(SenseKey::NoSense, 0, 0), "{sense}");
            assert_eq!(sense.information, Some(300));
            assert_eq!((transferred, residual), (100, 300));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&buf[..100], &block(100, 1)[..]);
    // Long block vs short buffer: negative residual, buffer filled.
    let mut buf = vec![0u8; 200];
    let s = sense_of(read_raw(&mut dev, 200, false, &mut buf));
    assert!(s.ili);
    assert_eq!(s.information.map(|i| i as u32 as i32), Some(-300));
    assert_eq!(&buf[..], &block(500, 2)[..200]);
    // SILI=1 suppresses ILI for a short block.
    let mut buf = vec![0u8; 1000];
    let c = read_raw(&mut dev, 1000, true, &mut buf).unwrap();
    assert_eq!((c.transferred, c.residual), (64, 936));
    assert_eq!(position(&mut dev).0, 3);
}

#[test]
fn space_blocks_filemarks_eod_and_bot() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    // Layout: B0 B1 FM(2) B3 B4 FM(5) B6 | EOD at 7
    for (i, rec) in ["b", "b", "f", "b", "b", "f", "b"].iter().enumerate() {
        if *rec == "b" {
            write(&mut dev, &block(100, i as u8)).unwrap();
        } else {
            wfm(&mut dev, 1, true).unwrap();
        }
    }
    rewind(&mut dev).unwrap();
    space6(&mut dev, 0, 1).unwrap();
    assert_eq!(position(&mut dev).0, 1);
    // Spacing 5 blocks hits the filemark at 2 after one block.
    let s = assert_sense(space6(&mut dev, 0, 5), SenseKey::NoSense, 0, 1);
    assert!(s.filemark);
    assert_eq!(s.information, Some(4));
    assert_eq!(position(&mut dev).0, 3);
    // Forward over one filemark: after FM at 5.
    space6(&mut dev, 1, 1).unwrap();
    assert_eq!(position(&mut dev), (6, 2, false, false));
    // Backward one filemark: on the BOT side of FM 5.
    space6(&mut dev, 1, -1).unwrap();
    assert_eq!(position(&mut dev).0, 5);
    // Backward blocks from 5: B4, B3, then FM at 2 stops with residual.
    let s = sense_of(space6(&mut dev, 0, -4));
    assert!(s.filemark);
    assert_eq!(s.information, Some(2));
    assert_eq!(position(&mut dev).0, 2);
    // Backward past BOT.
    let s = assert_sense(space6(&mut dev, 0, -10), SenseKey::NoSense, 0, 4);
    assert!(s.eom);
    assert_eq!(s.information, Some(8));
    assert_eq!(position(&mut dev).0, 0);
    // Filemarks forward past the last: BLANK CHECK at EOD with residual.
    let s = assert_sense(space16(&mut dev, 1, 5), SenseKey::BlankCheck, 0, 5);
    assert_eq!(s.information, Some(3));
    assert_eq!(position(&mut dev).0, 7);
    // Backward filemarks past BOT: 00/0004.
    let s = assert_sense(space16(&mut dev, 1, -3), SenseKey::NoSense, 0, 4);
    assert_eq!(s.information, Some(1));
    // End of data.
    space16(&mut dev, 3, 0).unwrap();
    assert_eq!(position(&mut dev), (7, 2, false, false));
    // Blocks past EOD.
    locate16(&mut dev, 0, 6).unwrap();
    let s = assert_sense(space6(&mut dev, 0, 3), SenseKey::BlankCheck, 0, 5);
    assert_eq!(s.information, Some(2));
}

#[test]
fn locate_to_object_file_and_eod() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    for f in 0..3u8 {
        write(&mut dev, &block(50, f)).unwrap();
        write(&mut dev, &block(60, f)).unwrap();
        wfm(&mut dev, 1, true).unwrap();
    }
    locate16(&mut dev, 1, 2).unwrap();
    assert_eq!(position(&mut dev), (6, 2, false, false));
    assert_eq!(read(&mut dev, 100).unwrap(), block(50, 2));
    locate16(&mut dev, 0, 4).unwrap();
    assert_eq!(read(&mut dev, 100).unwrap(), block(60, 1));
    locate16(&mut dev, 3, 0).unwrap();
    assert_eq!(position(&mut dev).0, 9);
    assert_sense(locate16(&mut dev, 0, 99), SenseKey::BlankCheck, 0, 5);
    assert_sense(locate16(&mut dev, 1, 4), SenseKey::BlankCheck, 0, 5);
    assert_eq!(position(&mut dev).0, 9);
    // Reserved destination type.
    let s = assert_sense(locate16(&mut dev, 2, 0), SenseKey::IllegalRequest, 0x24, 0);
    assert!(s.sense_key_specific.is_some());
}

#[test]
fn short_form_read_position_counts_the_buffer() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(1000, 1)).unwrap();
    write(&mut dev, &block(24, 1)).unwrap();
    let mut buf = [0u8; 20];
    let cdb = [0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let c = dev
        .execute(&cdb, DataDirection::FromDevice(&mut buf), T)
        .unwrap();
    assert_eq!(c.transferred, 20);
    assert_eq!(u32::from_be_bytes(buf[4..8].try_into().unwrap()), 2);
    assert_eq!(u32::from_be_bytes(buf[8..12].try_into().unwrap()), 0);
    assert_eq!(&buf[13..16], &[0, 0, 2]);
    assert_eq!(u32::from_be_bytes(buf[16..20].try_into().unwrap()), 1024);
    wfm(&mut dev, 0, false).unwrap();
    dev.execute(&cdb, DataDirection::FromDevice(&mut buf), T)
        .unwrap();
    assert_eq!(u32::from_be_bytes(buf[8..12].try_into().unwrap()), 2);
    assert_eq!(u32::from_be_bytes(buf[16..20].try_into().unwrap()), 0);
}

#[test]
fn writing_in_the_middle_truncates() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    for i in 0..5 {
        write(&mut dev, &block(100, i)).unwrap();
    }
    locate16(&mut dev, 0, 2).unwrap();
    write(&mut dev, &block(7, 9)).unwrap();
    rewind(&mut dev).unwrap();
    space16(&mut dev, 3, 0).unwrap();
    assert_eq!(position(&mut dev).0, 3);
    locate16(&mut dev, 0, 2).unwrap();
    assert_eq!(read(&mut dev, 100).unwrap(), block(7, 9));
    assert_sense(read(&mut dev, 100), SenseKey::BlankCheck, 0, 5);
}

#[test]
fn position_persists_across_processes_and_drive_is_exclusive() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(100, 1)).unwrap();
    wfm(&mut dev, 1, false).unwrap();
    write(&mut dev, &block(100, 2)).unwrap();
    match open_device(&fx.drive_path()) {
        Err(ScsiError::Device(DeviceError::Busy { .. })) => {}
        other => panic!("second open should be busy: {other:?}"),
    }
    drop(dev);
    let mut dev = open_device(&fx.drive_path()).unwrap();
    // Same cartridge: no unit attention, same position, buffer was flushed.
    assert_eq!(position(&mut dev), (3, 1, false, false));
    space6(&mut dev, 0, -1).unwrap();
    assert_eq!(read(&mut dev, 100).unwrap(), block(100, 2));
}

#[test]
fn unit_attention_after_load_and_no_medium() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = open_device(&fx.drive_path()).unwrap();
    // INQUIRY is not affected by the unit attention.
    let mut inq = [0u8; 36];
    dev.execute(
        &[0x12, 0, 0, 0, 36, 0],
        DataDirection::FromDevice(&mut inq),
        T,
    )
    .unwrap();
    assert_eq!(inq[0], 0x01);
    assert_sense(tur(&mut dev), SenseKey::UnitAttention, 0x28, 0);
    tur(&mut dev).unwrap();
    fx.lib.remove(0).unwrap();
    assert_sense(tur(&mut dev), SenseKey::NotReady, 0x3a, 0);
    assert_sense(write(&mut dev, &[1, 2, 3]), SenseKey::NotReady, 0x3a, 0);
    fx.lib.insert(0, "OTHER1L9").unwrap();
    assert_sense(tur(&mut dev), SenseKey::UnitAttention, 0x28, 0);
    tur(&mut dev).unwrap();
}

#[test]
fn unload_load_and_prevent_removal() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(100, 1)).unwrap();
    exec(&mut dev, &[0x1e, 0, 0, 0, 1, 0]).unwrap();
    assert!(fx.lib.read_state().unwrap().drives[0].removal_prevented);
    assert_sense(
        exec(&mut dev, &[0x1b, 0, 0, 0, 0, 0]),
        SenseKey::IllegalRequest,
        0x53,
        2,
    );
    assert!(fx.lib.remove(0).is_err());
    exec(&mut dev, &[0x1e, 0, 0, 0, 0, 0]).unwrap();
    exec(&mut dev, &[0x1b, 0, 0, 0, 0, 0]).unwrap();
    let st = fx.lib.read_state().unwrap();
    assert!(!st.drives[0].loaded);
    assert_eq!(st.drives[0].cartridge.as_deref(), Some("TAPE01L9"));
    assert_sense(tur(&mut dev), SenseKey::NotReady, 0x3a, 0);
    exec(&mut dev, &[0x1b, 0, 0, 0, 1, 0]).unwrap();
    tur(&mut dev).unwrap();
    // Unloaded and loaded again from outside (as the changer does): a new
    // medium for the host, even when it is the same cartridge.
    exec(&mut dev, &[0x1b, 0, 0, 0, 0, 0]).unwrap();
    fx.lib
        .update(|s| {
            s.drives[0].loaded = true;
            Ok(())
        })
        .unwrap();
    assert_sense(tur(&mut dev), SenseKey::UnitAttention, 0x28, 0);
    tur(&mut dev).unwrap();
    // The buffered block was written by the unload.
    assert_eq!(read(&mut dev, 100).unwrap(), block(100, 1));
    assert_eq!(fx.lib.read_medium_info("TAPE01L9").unwrap().load_count, 2);
}

#[test]
fn early_warning_then_volume_overflow() {
    // Early warning from 724 KiB on, end at 1 MiB; blocks of 300 KiB.
    let fx = Fixture::standalone(MIB, 300 * 1024);
    let mut dev = fx.open();
    let blk = block(300 * 1024, 1);
    write(&mut dev, &blk).unwrap();
    write(&mut dev, &blk).unwrap();
    // Third block ends inside the early warning zone: success with EOM.
    let r = write(&mut dev, &blk);
    let s = assert_sense(r, SenseKey::NoSense, 0, 2);
    assert!(s.eom);
    assert!(position(&mut dev).3, "EOP set in the early warning zone");
    // Fourth would pass the capacity: VOLUME OVERFLOW, nothing written.
    let s = assert_sense(write(&mut dev, &blk), SenseKey::VolumeOverflow, 0, 2);
    assert!(s.eom);
    assert_eq!(position(&mut dev).0, 3);
    // Filemarks still fit (small cost) and report early warning.
    assert_sense(wfm(&mut dev, 1, false), SenseKey::NoSense, 0, 2);
    rewind(&mut dev).unwrap();
    space16(&mut dev, 3, 0).unwrap();
    assert_eq!(position(&mut dev).0, 4);
}

#[test]
fn write_protected_cartridge_refuses_writes() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    write(&mut dev, &block(10, 1)).unwrap();
    rewind(&mut dev).unwrap();
    fx.lib.set_write_protect("TAPE01L9", true).unwrap();
    assert_sense(
        write(&mut dev, &block(10, 2)),
        SenseKey::DataProtect,
        0x27,
        0,
    );
    assert_sense(wfm(&mut dev, 1, false), SenseKey::DataProtect, 0x27, 0);
    assert_sense(
        exec(&mut dev, &[0x19, 1, 0, 0, 0, 0]),
        SenseKey::DataProtect,
        0x27,
        0,
    );
    assert_eq!(read(&mut dev, 100).unwrap(), block(10, 1));
}

#[test]
fn erase_and_format_discard_data() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    for i in 0..4 {
        write(&mut dev, &block(10, i)).unwrap();
    }
    locate16(&mut dev, 0, 2).unwrap();
    exec(&mut dev, &[0x19, 0, 0, 0, 0, 0]).unwrap();
    space16(&mut dev, 3, 0).unwrap();
    assert_eq!(position(&mut dev).0, 2);
    rewind(&mut dev).unwrap();
    exec(&mut dev, &[0x04, 0, 0, 0, 0, 0]).unwrap();
    assert_sense(read(&mut dev, 10), SenseKey::BlankCheck, 0, 5);
}

#[test]
fn read_block_limits_reports_max_transfer() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    let mut buf = [0u8; 6];
    dev.execute(
        &[0x05, 0, 0, 0, 0, 0],
        DataDirection::FromDevice(&mut buf),
        T,
    )
    .unwrap();
    assert_eq!(&buf[1..4], &[0x10, 0, 0]);
    assert_eq!(&buf[4..6], &[0, 1]);
    assert_eq!(dev.max_transfer(), 1 << 20);
    let big = vec![0u8; (1 << 20) + 1];
    assert!(matches!(
        write(&mut dev, &big),
        Err(ScsiError::TransferTooLarge { .. })
    ));
}

#[test]
fn fixed_block_mode_counts_blocks() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    // Set the block size the way MODE SELECT leaves it: in driveN.json.
    {
        let mut dev = fx.open();
        tur(&mut dev).unwrap();
    }
    let path = fx.lib.drive_state_path(0);
    let mut file: pbs_tape::emulator::DriveFile =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    file.settings.block_size = 512;
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let mut dev = open_device(&fx.drive_path()).unwrap();
    let data = block(512 * 3, 4);
    write_fixed(&mut dev, 3, &data).unwrap();
    wfm(&mut dev, 1, true).unwrap();
    assert_eq!(position(&mut dev).0, 4);
    rewind(&mut dev).unwrap();
    let mut buf = vec![0u8; 512 * 5];
    let cdb = [0x08, 1, 0, 0, 5, 0];
    let s = match dev.execute(&cdb, DataDirection::FromDevice(&mut buf), T) {
        Err(ScsiError::CheckCondition {
            sense, transferred, ..
        }) => {
            assert_eq!(transferred, 512 * 3);
            sense
        }
        other => panic!("{other:?}"),
    };
    assert!(s.filemark);
    assert_eq!(s.information, Some(2));
    assert_eq!(&buf[..512 * 3], &data[..]);
    // FIXED=1 with SILI=1 is refused.
    assert_sense(
        dev.execute(
            &[0x08, 3, 0, 0, 1, 0],
            DataDirection::FromDevice(&mut buf),
            T,
        ),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
}

#[test]
fn fixed_block_only_personality_refuses_variable_blocks() {
    let mut config = pbs_tape::emulator::state::LibraryConfig {
        slots: 0,
        ie_slots: 0,
        ..Default::default()
    };
    config.drive_personality.fixed_block_only = true;
    let fx = Fixture::with_config(config);
    let mut dev = fx.open();
    let s = assert_sense(
        write(&mut dev, &[1, 2, 3]),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
    assert_eq!(s.sense_key_specific, Some([0x48, 0, 1]));
    // FIXED=1 with block size 0 is refused as well.
    assert_sense(
        write_fixed(&mut dev, 1, &[0; 512]),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
}

#[test]
fn malformed_cdbs_are_refused_with_the_right_sense() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = fx.open();
    // Unknown opcode.
    assert_sense(
        exec(&mut dev, &[0xff, 0, 0, 0, 0, 0]),
        SenseKey::IllegalRequest,
        0x20,
        0,
    );
    assert_sense(
        exec(&mut dev, &[0x60, 0, 0, 0, 0, 0]),
        SenseKey::IllegalRequest,
        0x20,
        0,
    );
    // Wrong CDB length for the opcode group.
    let s = assert_sense(
        exec(&mut dev, &[0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
    assert_eq!(s.sense_key_specific, Some([0x40, 0, 0]));
    // Reserved bit in REWIND byte 1.
    let s = assert_sense(
        exec(&mut dev, &[0x01, 0x80, 0, 0, 0, 0]),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
    assert_eq!(s.sense_key_specific, Some([0x48 | 7, 0, 1]));
    // LINK bit in the control byte.
    assert_sense(
        exec(&mut dev, &[0x00, 0, 0, 0, 0, 1]),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
    // SPACE with setmarks code.
    assert_sense(space6(&mut dev, 4, 1), SenseKey::IllegalRequest, 0x24, 0);
    // READ POSITION with an unknown service action.
    let mut buf = [0u8; 32];
    assert_sense(
        dev.execute(
            &[0x34, 0x1f, 0, 0, 0, 0, 0, 0, 32, 0],
            DataDirection::FromDevice(&mut buf),
            T,
        ),
        SenseKey::IllegalRequest,
        0x24,
        0,
    );
    // Transport-level refusals.
    assert!(matches!(exec(&mut dev, &[]), Err(ScsiError::InvalidCdb(0))));
    assert!(matches!(
        exec(&mut dev, &[0; 17]),
        Err(ScsiError::InvalidCdb(17))
    ));
    // The drive still works.
    tur(&mut dev).unwrap();
}

#[test]
fn request_sense_returns_pending_unit_attention_once() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    let mut dev = open_device(&fx.drive_path()).unwrap();
    let mut buf = [0u8; 18];
    let c = dev
        .execute(
            &[0x03, 0, 0, 0, 18, 0],
            DataDirection::FromDevice(&mut buf),
            T,
        )
        .unwrap();
    assert_eq!(c.transferred, 18);
    assert_eq!((buf[2] & 0x0f, buf[12]), (6, 0x28));
    tur(&mut dev).unwrap();
    dev.execute(
        &[0x03, 0, 0, 0, 18, 0],
        DataDirection::FromDevice(&mut buf),
        T,
    )
    .unwrap();
    assert_eq!((buf[2] & 0x0f, buf[12]), (0, 0));
}

/// Change the persisted drive settings between two opens, as MODE SELECT /
/// SECURITY PROTOCOL OUT would leave them.
fn edit_settings(
    fx: &Fixture,
    f: impl FnOnce(&mut pbs_tape::emulator::drive_state::DriveSettings),
) {
    let path = fx.lib.drive_state_path(0);
    let mut file: pbs_tape::emulator::DriveFile =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut file.settings);
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
}

fn encryption(
    key: u8,
    decryption_mode: u8,
) -> Option<pbs_tape::emulator::drive_state::EncryptionSettings> {
    Some(pbs_tape::emulator::drive_state::EncryptionSettings {
        algorithm_index: 1,
        encryption_mode: 2,
        decryption_mode,
        key_hex: pbs_tape::emulator::crypto::encode_key_hex(&[key; 32]),
        clear_key_on_demount: false,
    })
}

#[test]
fn encrypted_blocks_need_the_right_key() {
    let fx = Fixture::standalone(64 * MIB, 8 * MIB);
    drop(fx.open());
    edit_settings(&fx, |s| s.encryption = encryption(7, 2));
    let mut dev = open_device(&fx.drive_path()).unwrap();
    write(&mut dev, &block(5000, 1)).unwrap();
    wfm(&mut dev, 1, false).unwrap();
    rewind(&mut dev).unwrap();
    assert_eq!(read(&mut dev, 8000).unwrap(), block(5000, 1));
    drop(dev);
    // The medium holds ciphertext, not the data.
    let raw = std::fs::read(fx.lib.tape_image_path("TAPE01L9")).unwrap();
    assert!(!raw.windows(64).any(|w| w == &block(5000, 1)[..64]));
    // No key: 7/7401; wrong key: 7/7403.
    edit_settings(&fx, |s| s.encryption = None);
    let mut dev = open_device(&fx.drive_path()).unwrap();
    rewind(&mut dev).unwrap();
    assert_sense(read(&mut dev, 8000), SenseKey::DataProtect, 0x74, 0x01);
    drop(dev);
    edit_settings(&fx, |s| s.encryption = encryption(8, 2));
    let mut dev = open_device(&fx.drive_path()).unwrap();
    rewind(&mut dev).unwrap();
    assert_sense(read(&mut dev, 8000), SenseKey::DataProtect, 0x74, 0x03);
}

/// Throughput of the data path (not a timed assertion: it prints MB/s).
/// `EMU_BENCH_MIB=4096 cargo test --release -p pbs-tape --test emu_drive -- --ignored --nocapture bench`
#[test]
#[ignore]
fn bench_write_read_throughput() {
    let mib: u64 = std::env::var("EMU_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let fx = Fixture::standalone((mib + 256) * MIB, 64 * MIB);
    let mut dev = fx.open();
    // Random-looking data larger than any buffer.
    let blocks: Vec<Vec<u8>> = (0..16).map(|i| block(256 * 1024, i)).collect();
    let n = mib * 4;
    let start = std::time::Instant::now();
    for i in 0..n {
        write(&mut dev, &blocks[(i % 16) as usize]).unwrap();
    }
    wfm(&mut dev, 1, false).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "write: {mib} MiB in {secs:.2} s = {:.0} MiB/s",
        mib as f64 / secs
    );
    rewind(&mut dev).unwrap();
    let start = std::time::Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    for _ in 0..n {
        read_raw(&mut dev, 256 * 1024, false, &mut buf).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "read:  {mib} MiB in {secs:.2} s = {:.0} MiB/s",
        mib as f64 / secs
    );
    // Plain file for comparison.
    let path = fx.dir().join("plain");
    let start = std::time::Instant::now();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&path).unwrap();
        for i in 0..n {
            f.write_all(&blocks[(i % 16) as usize]).unwrap();
        }
        f.sync_data().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "plain file write: {mib} MiB in {secs:.2} s = {:.0} MiB/s",
        mib as f64 / secs
    );
}

/// The emulator's READ POSITION / READ BLOCK LIMITS bytes decode with the
/// drive layer's decoders (two independent implementations of one layout).
#[test]
fn replies_decode_with_the_drive_layer() {
    use pbs_tape::drive::{BlockLimits, Position};
    let fx = Fixture::standalone(4 * MIB, MIB);
    let mut dev = fx.open();
    for i in 0..3 {
        write(&mut dev, &block(1 << 20, i)).unwrap();
    }
    // The filemark crosses the early warning point (3 MiB).
    assert_sense(wfm(&mut dev, 1, true), SenseKey::NoSense, 0, 2);
    let mut buf = [0u8; 32];
    dev.execute(
        &[0x34, 0x06, 0, 0, 0, 0, 0, 0, 32, 0],
        DataDirection::FromDevice(&mut buf),
        T,
    )
    .unwrap();
    let p = Position::decode_long(&buf).unwrap();
    assert_eq!(
        (p.logical_object, p.file_number, p.partition),
        (4, Some(1), 0)
    );
    assert!(!p.bop);
    assert!(p.eop, "3 MiB of 4 MiB with 1 MiB early warning");
    let mut buf = [0u8; 6];
    dev.execute(
        &[0x05, 0, 0, 0, 0, 0],
        DataDirection::FromDevice(&mut buf),
        T,
    )
    .unwrap();
    let limits = BlockLimits::decode(&buf).unwrap();
    assert_eq!(limits.max_block_length, 1 << 20);
    assert_eq!(limits.min_block_length, 1);
}
