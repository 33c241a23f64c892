//! `device::open_transport`: path errors, emulated devices behind the unit
//! attention retry, and non-sg files.

use pbs_tape::device::open_transport;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{open_device, Library};
use pbs_tape::scsi::{spc, DeviceError, ScsiError, SenseKey};

#[test]
fn missing_path_is_not_found_naming_it() {
    let err = open_transport("/nonexistent/ptape/nst0").unwrap_err();
    match err {
        ScsiError::Device(DeviceError::NotFound { path }) => {
            assert_eq!(path, "/nonexistent/ptape/nst0")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        open_transport(""),
        Err(ScsiError::Device(DeviceError::Invalid { .. }))
    ));
}

#[test]
fn regular_file_is_rejected_with_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let sg = dir.path().join("sg7");
    std::fs::write(&sg, b"not a device").unwrap();
    let err = open_transport(sg.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, ScsiError::Device(DeviceError::NotSgDevice { .. })),
        "{err:?}"
    );
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, b"hello").unwrap();
    let err = open_transport(other.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, ScsiError::Device(DeviceError::Invalid { .. })),
        "{err:?}"
    );
}

/// A standalone emulated drive with a cartridge just inserted: its first
/// command gets UNIT ATTENTION 6/28/00 (medium may have changed).
fn library_with_inserted_cartridge(dir: &std::path::Path) -> Library {
    let config = LibraryConfig {
        slots: 0,
        ie_slots: 0,
        serial: "PTAPETEST01".into(),
        ..LibraryConfig::default()
    };
    let lib = Library::create(dir, config, &[], &[]).unwrap();
    lib.insert(0, "AAA001L9").unwrap();
    lib
}

#[test]
fn raw_emulated_drive_reports_unit_attention_first() {
    // Control for the next test: without the wrapper the condition surfaces.
    let dir = tempfile::tempdir().unwrap();
    let lib = library_with_inserted_cartridge(dir.path());
    let mut raw = open_device(&lib.drive_device_path(0)).unwrap();
    let err = spc::test_unit_ready(&mut raw).unwrap_err();
    assert!(
        err.sense()
            .is_some_and(|s| s.key == SenseKey::UnitAttention && s.asc == 0x28),
        "{err:?}"
    );
}

#[test]
fn open_transport_retries_unit_attention_on_emulated_drive() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library_with_inserted_cartridge(dir.path());
    let drive = lib.drive_device_path(0);
    let mut t = open_transport(drive.to_str().unwrap()).unwrap();
    assert_eq!(t.path(), drive.to_str().unwrap());
    spc::test_unit_ready(&mut *t).unwrap();
    let inq = spc::inquiry(&mut *t).unwrap();
    assert_eq!(inq.peripheral_type, 1);
    assert!(inq.removable);
}

#[test]
fn open_transport_opens_emulated_changer() {
    let dir = tempfile::tempdir().unwrap();
    let config = LibraryConfig {
        serial: "PTAPETEST02".into(),
        ..LibraryConfig::default()
    };
    let lib = Library::create(dir.path(), config, &["AAA001L9".to_string()], &[]).unwrap();
    let mut c = open_transport(lib.changer_device_path().to_str().unwrap()).unwrap();
    let inq = spc::inquiry(&mut *c).unwrap();
    assert_eq!(inq.peripheral_type, 8);
    assert_eq!(spc::unit_serial_number(&mut *c).unwrap(), "PTAPETEST02");
}
