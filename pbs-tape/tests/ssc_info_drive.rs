//! End to end: the drive layer's information commands (mode pages, MAM,
//! TapeAlert, volume statistics, capacity, density, encryption) against the
//! emulated drive opened with `emulator::open_device`.

mod emu_util;

use emu_util::*;
use pbs_tape::drive::capacity::read_tape_capacity;
use pbs_tape::drive::density::report_density_support;
use pbs_tape::drive::encryption::{
    clear_encryption, encryption_capabilities, encryption_status, parse_key_file,
    set_encryption_key,
};
use pbs_tape::drive::mam::{read_cartridge_memory, write_attribute, MamValue};
use pbs_tape::drive::mode_pages::{
    read_mode_settings, set_block_size, set_buffer_mode, set_compression,
};
use pbs_tape::drive::tape_alert::{read_tape_alert_flags, TapeAlertFlags};
use pbs_tape::drive::volume_statistics::read_volume_statistics;
use pbs_tape::drive::DriveError;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::scsi::SenseKey;

const MIB: u64 = 1 << 20;
const DEV: &str = "drive0";

fn fixture() -> Fixture {
    Fixture::standalone(64 * MIB, 8 * MIB)
}

#[test]
fn mode_settings_change_and_persist() {
    let fx = fixture();
    let mut dev = fx.open();
    let s = read_mode_settings(&mut dev, DEV).unwrap();
    assert_eq!(s.density_code, 0x60);
    assert_eq!(s.block_length, 0);
    assert_eq!(s.buffer_mode, 1);
    assert!(s.compression.unwrap().enabled);
    assert!(!s.write_protected);

    set_block_size(&mut dev, DEV, 65536).unwrap();
    set_compression(&mut dev, DEV, false).unwrap();
    set_buffer_mode(&mut dev, DEV, 0).unwrap();
    drop(dev);
    let mut dev = fx.open();
    let s = read_mode_settings(&mut dev, DEV).unwrap();
    assert_eq!(s.block_length, 65536);
    assert_eq!(s.buffer_mode, 0);
    assert!(!s.compression.unwrap().enabled);
    // Fixed-block mode now: a 65536-byte block is one block.
    write_fixed(&mut dev, 1, &block(65536, 7)).unwrap();

    let err = set_block_size(&mut dev, DEV, 0x80_0000).unwrap_err();
    let sense = err.scsi_error().and_then(|e| e.sense()).cloned().unwrap();
    assert!(sense.is(SenseKey::IllegalRequest, 0x26, 0), "{err}");
    assert!(set_buffer_mode(&mut dev, DEV, 9).is_err());
}

#[test]
fn cartridge_memory_host_attributes_persist() {
    let fx = fixture();
    let mut dev = fx.open();
    write_attribute(&mut dev, DEV, 0x0800, "PTAPE").unwrap();
    write_attribute(&mut dev, DEV, 0x0806, "TAPE01L9").unwrap();
    write_attribute(&mut dev, DEV, 0x0808, "daily pool").unwrap();
    drop(dev);
    let mut dev = fx.open();
    let attrs = read_cartridge_memory(&mut dev, DEV).unwrap();
    let get = |id: u16| {
        attrs
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("{id:#06x}"))
    };
    assert_eq!(
        get(0x0800).value,
        MamValue::Text {
            value: "PTAPE".into()
        }
    );
    assert_eq!(
        get(0x0806).value,
        MamValue::Text {
            value: "TAPE01L9".into()
        }
    );
    assert_eq!(
        get(0x0808).value,
        MamValue::Text {
            value: "daily pool".into()
        }
    );
    assert_eq!(
        get(0x0001).value,
        MamValue::Number {
            value: 64,
            unit: "MiB"
        }
    );
    assert!(matches!(get(0x0003).value, MamValue::Number { value: n, unit: "count" } if n >= 1));
    assert_eq!(
        get(0x0405).value,
        MamValue::Number {
            value: 0x60,
            unit: "code"
        }
    );
    assert!(get(0x0401).read_only);
    assert_eq!(get(0x0401).name, "medium_serial_number");
    // Read-only attributes are refused before any CDB.
    assert!(matches!(
        write_attribute(&mut dev, DEV, 0x0401, "X"),
        Err(DriveError::InvalidArgument(_))
    ));
}

#[test]
fn statistics_and_capacity_follow_writes() {
    let fx = fixture();
    let mut dev = fx.open();
    let before = read_tape_capacity(&mut dev, DEV).unwrap();
    assert_eq!(before.maximum_mib, 64);
    assert_eq!(before.remaining_mib, 64);
    for i in 0..4 {
        write(&mut dev, &block(1 << 20, i)).unwrap();
    }
    wfm(&mut dev, 1, false).unwrap();
    let after = read_tape_capacity(&mut dev, DEV).unwrap();
    assert!(after.remaining_mib <= 60, "{after:?}");
    let stats = read_volume_statistics(&mut dev, DEV).unwrap();
    assert_eq!(stats.volume_barcode.as_deref(), Some("TAPE01L9"));
    assert!(stats.volume_mounts.unwrap() >= 1);
    assert_eq!(stats.lifetime_mbytes_written, Some(4 * MIB / 1_000_000));
    assert_eq!(stats.write_protect, Some(false));
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["volume_barcode"], "TAPE01L9");
    assert_eq!(
        read_tape_alert_flags(&mut dev, DEV).unwrap(),
        TapeAlertFlags::empty()
    );
}

#[test]
fn density_support() {
    let fx = fixture();
    let mut dev = fx.open();
    let all = report_density_support(&mut dev, DEV, false).unwrap();
    assert_eq!(
        all.iter()
            .map(|d| d.primary_density_code)
            .collect::<Vec<_>>(),
        vec![0x5e, 0x60]
    );
    let media = report_density_support(&mut dev, DEV, true).unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].density_name, "U-932");
    assert_eq!(u64::from(media[0].capacity_mb), 64 * MIB / 1_000_000);
}

#[test]
fn encryption_round_trip_and_wrong_key() {
    let fx = fixture();
    let mut dev = fx.open();
    let caps = encryption_capabilities(&mut dev, DEV).unwrap();
    let index = caps.aes256_gcm_index().unwrap();
    assert_ne!(index, 1, "callers must look the index up");
    let key = parse_key_file(&b"11".repeat(32)).unwrap();
    set_encryption_key(&mut dev, DEV, &key).unwrap();
    let st = encryption_status(&mut dev, DEV).unwrap();
    assert!(st.encrypting);
    assert_eq!(st.algorithm_index, index);
    write(&mut dev, &block(4096, 9)).unwrap();
    wfm(&mut dev, 1, false).unwrap();
    rewind(&mut dev).unwrap();
    assert_eq!(read(&mut dev, 8192).unwrap(), block(4096, 9));

    // Another key: incorrect data encryption key.
    set_encryption_key(&mut dev, DEV, &[0x22; 32]).unwrap();
    rewind(&mut dev).unwrap();
    assert_sense(read(&mut dev, 8192), SenseKey::DataProtect, 0x74, 0x03);
    // No key at all: unable to decrypt.
    clear_encryption(&mut dev, DEV).unwrap();
    assert!(!encryption_status(&mut dev, DEV).unwrap().encrypting);
    rewind(&mut dev).unwrap();
    assert_sense(read(&mut dev, 8192), SenseKey::DataProtect, 0x74, 0x01);
}

#[test]
fn personalities_without_features_say_not_supported() {
    let mut config = LibraryConfig {
        slots: 0,
        ie_slots: 0,
        capacity: 64 * MIB,
        early_warning: 8 * MIB,
        ..LibraryConfig::default()
    };
    config.drive_personality.log_sense = false;
    config.drive_personality.mam = false;
    config.drive_personality.encryption = false;
    let fx = Fixture::with_config(config);
    let mut dev = fx.open();
    let not_supported = |r: Result<(), DriveError>| match r {
        Err(DriveError::NotSupported { feature, .. }) => feature,
        other => panic!("expected NotSupported, got {other:?}"),
    };
    let f = not_supported(read_volume_statistics(&mut dev, DEV).map(|_| ()));
    assert!(f.contains("0x17"), "{f}");
    not_supported(read_tape_capacity(&mut dev, DEV).map(|_| ()));
    not_supported(read_tape_alert_flags(&mut dev, DEV).map(|_| ()));
    not_supported(read_cartridge_memory(&mut dev, DEV).map(|_| ()));
    not_supported(write_attribute(&mut dev, DEV, 0x0800, "P"));
    not_supported(encryption_status(&mut dev, DEV).map(|_| ()));
    not_supported(set_encryption_key(&mut dev, DEV, &[1; 32]));
    // Mode pages and density work on every personality.
    assert_eq!(
        read_mode_settings(&mut dev, DEV).unwrap().density_code,
        0x60
    );
}
