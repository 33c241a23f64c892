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
use pbs_tape::drive::log_page::parse_log_page;
use pbs_tape::drive::mam::{attribute_def, decode_attribute_values};
use pbs_tape::drive::mam::{read_cartridge_memory, write_attribute, MamValue};
use pbs_tape::drive::mode_pages::{
    read_mode_settings, set_block_size, set_buffer_mode, set_compression,
};
use pbs_tape::drive::tape_alert::{decode_tape_alert_page, decode_tape_alert_response};
use pbs_tape::drive::tape_alert::{read_tape_alert_flags, TapeAlertFlags};
use pbs_tape::drive::volume_statistics::read_volume_statistics;
use pbs_tape::drive::DriveError;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::scsi::{DataDirection, ScsiTransport, SenseKey};

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

/// The emulator encodes LOG SENSE and READ ATTRIBUTE answers with its own
/// byte-level encoders and its own attribute table (`emulator::spc_wire`,
/// `ssc_info::attribute`); the drive layer decodes them with its own: two
/// readings of SPC-5/SSC-5 that must agree on every page and attribute.
#[test]
fn emulator_log_and_mam_answers_parse_with_the_drive_layer() {
    let fx = fixture();
    let mut dev = fx.open();
    write_attribute(&mut dev, DEV, 0x0808, "pool").unwrap();
    let raw = |dev: &mut pbs_tape::emulator::EmulatedDevice, cdb: &[u8], alloc: usize| {
        let mut buf = vec![0u8; alloc];
        let c = dev
            .execute(cdb, DataDirection::FromDevice(&mut buf), T)
            .unwrap();
        buf.truncate(c.transferred);
        buf
    };
    let log_sense = |page: u8| [0x4d, 0, 0x40 | page, 0, 0, 0, 0, 0xff, 0xf0, 0];

    // Supported pages: every listed page parses as the page asked for,
    // each parameter's length is what its format needs.
    let supported = raw(&mut dev, &log_sense(0x00), 0xfff0);
    assert_eq!(usize::from(supported[3]), supported.len() - 4);
    for &page in &supported[4..] {
        if page == 0 {
            continue;
        }
        let bytes = raw(&mut dev, &log_sense(page), 0xfff0);
        let parsed = parse_log_page(&bytes, page, "log page").unwrap();
        assert!(!parsed.truncated, "page {page:#04x}");
        assert!(!parsed.parameters.is_empty(), "page {page:#04x}");
        let codes: Vec<u16> = parsed.parameters.iter().map(|p| p.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted, "page {page:#04x}: parameters ascending");
    }

    // Volume statistics: every parameter is one the drive layer names.
    let stats = read_volume_statistics(&mut dev, DEV).unwrap();
    assert!(stats.other.is_empty(), "{:?}", stats.other);
    assert_eq!(stats.page_valid, Some(true));
    assert_eq!(stats.total_native_capacity, Some(64 * MIB / 1_000_000));
    assert_eq!(stats.approximate_native_capacity_of_partitions.len(), 1);
    assert_eq!(
        stats.approximate_native_capacity_of_partitions[0].value,
        64 * MIB / 1_000_000
    );
    assert!(stats
        .volume_barcode
        .as_deref()
        .is_some_and(|b| !b.is_empty()));

    // TapeAlert page and TapeAlert response agree (no flags on a fresh drive).
    let response = decode_tape_alert_response(&raw(&mut dev, &log_sense(0x12), 0xfff0)).unwrap();
    let page = decode_tape_alert_page(&raw(&mut dev, &log_sense(0x2e), 0xfff0)).unwrap();
    assert_eq!(response, page);
    assert_eq!(
        read_tape_alert_flags(&mut dev, DEV).unwrap(),
        TapeAlertFlags::empty()
    );
    assert_eq!(read_tape_capacity(&mut dev, DEV).unwrap().maximum_mib, 64);

    // Cartridge memory: each attribute the emulator sends has the FORMAT
    // and length of the drive layer's table of standard attributes.
    let mut cdb = [0u8; 16];
    cdb[0] = 0x8c;
    cdb[10..14].copy_from_slice(&65536u32.to_be_bytes());
    let bytes = raw(&mut dev, &cdb, 65536);
    let attrs = decode_attribute_values(&bytes).unwrap();
    assert!(attrs.len() >= 20, "{} attributes", attrs.len());
    let mut pos = 4;
    for a in &attrs {
        let id = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]);
        let len = usize::from(u16::from_be_bytes([bytes[pos + 3], bytes[pos + 4]]));
        assert_eq!(id, a.id);
        let def = attribute_def(id).unwrap_or_else(|| panic!("{id:#06x} not standard"));
        assert_eq!(a.format, def.format, "{id:#06x} ({})", def.name);
        assert_eq!(a.read_only, def.read_only, "{id:#06x} ({})", def.name);
        if let Some(l) = def.length {
            assert_eq!(len, usize::from(l), "{id:#06x} ({}) length", def.name);
        }
        pos += 5 + len;
    }
    assert_eq!(pos, bytes.len());
    assert_eq!(read_cartridge_memory(&mut dev, DEV).unwrap(), attrs);
}
