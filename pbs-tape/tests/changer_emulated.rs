//! `pbs_tape::changer` end to end against the emulated changer, for several
//! changer personalities (element address bases, barcode reader, DVCID):
//! status, moves with their checks, the sense of every illegal move (and an
//! unchanged library after it), injected hardware faults, multi-request
//! element status, drive mapping and cleaning.

use std::path::Path;
use std::time::Duration;

use pbs_tape::changer::{
    self, clean_drive, commands, map_drives_with, ChangerError, MediaChanger, Place, Step,
};
use pbs_tape::emulator::device::{open_device, EmulatedDevice};
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::{drive_serial, Library};
use pbs_tape::emulator::state::{ChangerPersonality, LibraryConfig, LibraryState};
use pbs_tape::scsi::{opcodes, spc, DataDirection, ScsiTransport, SenseKey};

fn barcodes(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("ABC{i:03}L9")).collect()
}

fn library(dir: &Path, config: LibraryConfig, data: usize, cleaning: &[&str]) -> Library {
    let cleaning: Vec<String> = cleaning.iter().map(|s| s.to_string()).collect();
    Library::create(dir, config, &barcodes(data), &cleaning).unwrap()
}

fn config(drives: usize, slots: usize, ie_slots: usize) -> LibraryConfig {
    LibraryConfig {
        drives,
        slots,
        ie_slots,
        serial: "EMUCHG01".into(),
        ..LibraryConfig::default()
    }
}

fn changer(lib: &Library) -> MediaChanger<EmulatedDevice> {
    MediaChanger::new(open_device(&lib.changer_device_path()).unwrap())
}

/// Ejects through the emulated drive: LOAD UNLOAD with LOAD=0.
fn with_ejector(
    lib: &Library,
    mut c: MediaChanger<EmulatedDevice>,
) -> MediaChanger<EmulatedDevice> {
    let lib = lib.clone();
    c.set_ejector(Box::new(move |drive| {
        let mut d = open_device(&lib.drive_device_path(drive.index))?;
        let cdb = [opcodes::LOAD_UNLOAD, 0, 0, 0, 0, 0];
        // The first command after the load reports UNIT ATTENTION 28/00.
        if d.execute(&cdb, DataDirection::None, Duration::from_secs(60))
            .is_err()
        {
            d.execute(&cdb, DataDirection::None, Duration::from_secs(60))?;
        }
        Ok(())
    }));
    c
}

fn sense_of(e: &ChangerError) -> (u8, u8, u8) {
    let s = e.sense().unwrap_or_else(|| panic!("no sense in {e}"));
    (s.key.code(), s.asc, s.ascq)
}

/// Layout-only view of the state (generation excluded).
fn layout(lib: &Library) -> LibraryState {
    let mut s = lib.read_state().unwrap();
    s.generation = 0;
    s
}

#[test]
fn status_reports_every_element_with_default_personality() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(2, 8, 2), 5, &["CLN001L1"]);
    let s = changer(&lib).status().unwrap();
    assert_eq!(s.transports.len(), 1);
    assert_eq!(s.slots.len(), 8);
    assert_eq!(s.import_export.len(), 2);
    assert_eq!(s.import_export[0].number, 9);
    assert_eq!(s.slots[0].barcode.as_deref(), Some("ABC001L9"));
    assert_eq!(s.slots[5].barcode.as_deref(), Some("CLN001L1"));
    assert!(!s.slots[6].full);
    assert_eq!(s.drives.len(), 2);
    assert_eq!(
        s.drives[1].serial.as_deref(),
        Some(drive_serial("EMUCHG01", 1).as_str())
    );
    let p = ChangerPersonality::default();
    assert_eq!(s.slots[0].address, p.slot_base);
    assert_eq!(s.drives[0].address, p.drive_base);
}

#[test]
fn load_unload_round_trip_with_source_slot() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 8, 1), 5, &[]);
    let mut c = changer(&lib);
    let m = c.load_slot(3, 0).unwrap();
    assert_eq!((m.from, m.to), (Place::Slot(3), Place::Drive(0)));
    let s = c.status().unwrap();
    assert_eq!(s.drives[0].barcode.as_deref(), Some("ABC003L9"));
    assert_eq!(s.drives[0].source_slot, Some(3));
    assert!(!s.slots[2].full);
    assert!(
        lib.read_state().unwrap().drives[0].loaded,
        "autoload on insertion"
    );

    // Without an ejector the changer refuses: the drive holds the cartridge.
    let err = c.unload(0, None).unwrap_err();
    assert_eq!(sense_of(&err), (5, 0x53, 0x02));
    let mut c = with_ejector(&lib, c);
    let m = c.unload(0, None).unwrap();
    assert_eq!(m.to, Place::Slot(3));
    let s = c.status().unwrap();
    assert!(!s.drives[0].full);
    assert_eq!(s.slots[2].barcode.as_deref(), Some("ABC003L9"));
}

#[test]
fn checked_moves_give_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 8, 1), 2, &["CLN009L1"]);
    let mut c = changer(&lib);
    assert_eq!(
        c.load_slot(5, 0).unwrap_err().to_string(),
        "slot 5 is empty"
    );
    assert!(matches!(
        c.load_slot(99, 0),
        Err(ChangerError::NoSuchSlot { .. })
    ));
    assert!(matches!(
        c.load_slot(1, 3),
        Err(ChangerError::NoSuchDrive { .. })
    ));
    assert_eq!(
        c.load_barcode("ABC009L9", 0).unwrap_err().to_string(),
        "cartridge ABC009L9 not found"
    );
    assert!(matches!(
        c.load_barcode("CLN009L1", 0),
        Err(ChangerError::CleaningCartridge { .. })
    ));
    c.load_barcode("ABC002L9", 0).unwrap();
    assert_eq!(
        c.load_slot(1, 0).unwrap_err().to_string(),
        "drive 0 is full (ABC002L9)"
    );
    assert_eq!(c.transfer(1, 4).unwrap().to, Place::Slot(4));
    assert_eq!(c.transfer(5, 6).unwrap_err().to_string(), "slot 5 is empty");
    assert_eq!(
        c.transfer(3, 4).unwrap_err().to_string(),
        "slot 4 is full (ABC001L9)"
    );
}

#[test]
fn illegal_raw_moves_give_smc_sense_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 4, 1), 2, &[]);
    let p = ChangerPersonality::default();
    let mut t = open_device(&lib.changer_device_path()).unwrap();
    let before = layout(&lib);
    let cases = [
        (p.slot_base + 3, p.drive_base, (5, 0x3b, 0x0e)), // source empty
        (p.slot_base, p.slot_base + 1, (5, 0x3b, 0x0d)),  // destination full
        (0x7777, p.drive_base, (5, 0x21, 0x01)),          // no such element
        (p.slot_base, p.transport_base, (5, 0x21, 0x01)), // the transport is no destination
    ];
    for (src, dst, want) in cases {
        let err = commands::move_medium(&mut t, 0, src, dst).unwrap_err();
        assert_eq!(sense_of(&err), want, "move {src:#x} -> {dst:#x}");
        assert_eq!(layout(&lib), before);
    }
    let err = commands::exchange_medium(&mut t, 0, p.slot_base, p.slot_base + 2, p.slot_base)
        .unwrap_err();
    assert_eq!(sense_of(&err), (5, 0x3b, 0x0e));
    assert_eq!(layout(&lib), before);
}

#[test]
fn injected_hardware_fault_fails_one_move_only() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 4, 1), 2, &[]);
    lib.arm_fault(FaultSpec {
        device: DeviceId::Changer,
        kind: FaultKind::MoveHardwareError,
        after: 0,
    })
    .unwrap();
    let mut c = changer(&lib);
    let before = lib.read_state().unwrap();
    let err = c.load_slot(1, 0).unwrap_err();
    assert_eq!(sense_of(&err), (4, 0x15, 0x01));
    let after = lib.read_state().unwrap();
    assert_eq!(after.slots, before.slots);
    assert_eq!(after.drives, before.drives);
    assert!(after.faults.is_empty(), "the fault fired once");
    c.load_slot(1, 0).unwrap();
}

#[test]
fn exchange_import_export_and_stepping() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 6, 2), 4, &[]);
    let mut c = with_ejector(&lib, changer(&lib));
    let moves = c.exchange(1, 2, None).unwrap();
    assert_eq!(moves.len(), 2);
    let s = c.status().unwrap();
    assert_eq!(s.slots[0].barcode.as_deref(), Some("ABC002L9"));
    assert_eq!(s.slots[1].barcode.as_deref(), Some("ABC001L9"));

    let m = c.export("ABC003L9").unwrap();
    assert_eq!(m.to, Place::Slot(7));
    assert!(matches!(
        c.export("ABC003L9"),
        Err(ChangerError::WrongLocation { .. })
    ));
    lib.import("NEW001L9").unwrap();
    let m = c.import("NEW001L9").unwrap();
    assert_eq!((m.from, m.to), (Place::Slot(8), Place::Slot(3)));

    // first, next, next, previous, last (slots: 2, 1, NEW, 4, -, -)
    assert_eq!(c.step(0, Step::First).unwrap()[0].from, Place::Slot(1));
    let m = c.step(0, Step::Next).unwrap();
    assert_eq!((m[0].to, m[1].from), (Place::Slot(1), Place::Slot(2)));
    let m = c.step(0, Step::Previous).unwrap();
    assert_eq!((m[0].to, m[1].from), (Place::Slot(2), Place::Slot(1)));
    assert!(matches!(
        c.step(0, Step::Last),
        Err(ChangerError::DriveFull { .. })
    ));
    assert!(matches!(
        c.step(0, Step::Previous),
        Err(ChangerError::NoCartridge { .. })
    ));
    // The refused step moved nothing: the drive still holds ABC002L9.
    let st = c.status().unwrap();
    assert_eq!(st.drives[0].barcode.as_deref(), Some("ABC002L9"));
    c.unload(0, None).unwrap();
    assert_eq!(c.step(0, Step::Last).unwrap()[0].from, Place::Slot(4));
}

#[test]
fn personality_without_barcode_reader_or_dvcid() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(2, 6, 0);
    cfg.changer_personality = ChangerPersonality {
        barcode_reader: false,
        dvcid: false,
        transport_base: 1,
        slot_base: 1000,
        ie_base: 10,
        drive_base: 500,
    };
    let lib = library(tmp.path(), cfg, 3, &[]);
    let mut c = changer(&lib);
    let s = c.status().unwrap();
    assert_eq!(s.slots.len(), 6);
    assert!(s.import_export.is_empty());
    assert!(s.slots.iter().all(|s| s.barcode.is_none()));
    assert_eq!(s.slots.iter().filter(|s| s.full).count(), 3);
    assert!(s.drives.iter().all(|d| d.serial.is_none()));
    assert_eq!((s.slots[0].address, s.drives[1].address), (1000, 501));
    c.load_slot(2, 1).unwrap();
    let s = c.status().unwrap();
    assert!(s.drives[1].full);
    assert_eq!(s.drives[1].source_slot, Some(2));
    assert!(matches!(
        c.load_barcode("ABC001L9", 0),
        Err(ChangerError::BarcodeNotFound { .. })
    ));
}

#[test]
fn large_library_is_read_in_several_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(4, 700, 8);
    // 512-byte transfers: about ten storage descriptors per reply.
    cfg.max_transfer = 512;
    let lib = library(tmp.path(), cfg, 650, &[]);
    let s = changer(&lib).status().unwrap();
    assert_eq!(s.slots.len(), 700);
    assert_eq!(s.import_export.len(), 8);
    assert_eq!(s.drives.len(), 4);
    assert_eq!(s.slots[649].barcode.as_deref(), Some("ABC650L9"));
    assert!(!s.slots[650].full);
    let numbers: Vec<usize> = s.slots.iter().map(|s| s.number).collect();
    assert_eq!(numbers, (1..=700).collect::<Vec<_>>());
}

#[test]
fn drives_map_to_their_devices_by_serial() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(3, 4, 0), 0, &[]);
    let s = changer(&lib).status().unwrap();
    // Candidates in a shuffled order, as a device scan may list them.
    let candidates: Vec<String> = [2, 0, 1]
        .iter()
        .map(|i| lib.drive_device_path(*i).display().to_string())
        .collect();
    let map = map_drives_with(&s, &candidates, |p| {
        let mut t = open_device(Path::new(p)).ok()?;
        spc::unit_serial_number(&mut t).ok()
    });
    let want: Vec<(usize, String)> = (0..3)
        .map(|i| (i, lib.drive_device_path(i).display().to_string()))
        .collect();
    assert_eq!(map, want);
    // The same through the device layer (open_transport + VPD 0x80),
    // with a candidate that is no device at all.
    let mut with_junk = candidates.clone();
    with_junk.push(tmp.path().join("state.json").display().to_string());
    assert_eq!(changer::map_drives(&s, &with_junk), want);
    // The candidates of an emulated changer are its drives.
    let found = pbs_tape::discovery::candidate_drive_devices(
        &lib.changer_device_path().display().to_string(),
    );
    assert_eq!(changer::map_drives(&s, &found), want);
}

#[test]
fn cleaning_uses_a_cleaning_cartridge_and_reports_expiry() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 6, 0), 2, &["CLN001L1"]);
    lib.update(|s| {
        if let Some(c) = s.cartridges.get_mut("CLN001L1") {
            c.kind = pbs_tape::emulator::state::CartridgeKind::Cleaning { uses_left: 1 };
        }
        Ok(())
    })
    .unwrap();
    let mut c = changer(&lib);
    let report = clean_drive(&mut c, 0, Duration::from_secs(30)).unwrap();
    assert_eq!((report.barcode.as_str(), report.slot), ("CLN001L1", 3));
    let st = lib.read_state().unwrap();
    assert_eq!(st.slots[2].as_deref(), Some("CLN001L1"));
    assert!(st.drives[0].cartridge.is_none());
    assert_eq!(
        st.cartridges["CLN001L1"].kind,
        pbs_tape::emulator::state::CartridgeKind::Cleaning { uses_left: 0 }
    );
    let err = clean_drive(&mut c, 0, Duration::from_secs(30)).unwrap_err();
    assert!(
        matches!(err, ChangerError::CleaningCartridgeExpired { .. }),
        "{err}"
    );
    let s = err.sense().unwrap();
    assert_eq!((s.key, s.asc, s.ascq), (SenseKey::MediumError, 0x30, 0x13));
    assert!(changer::is_cleaning_barcode(&report.barcode));
}

#[test]
fn raw_smc_commands_of_the_emulated_changer() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 4, 1), 2, &[]);
    let p = ChangerPersonality::default();
    let mut t = open_device(&lib.changer_device_path()).unwrap();
    let run = |t: &mut EmulatedDevice, cdb: &[u8], buf: &mut [u8]| {
        let dir = if buf.is_empty() {
            DataDirection::None
        } else {
            DataDirection::FromDevice(buf)
        };
        t.execute(cdb, dir, Duration::from_secs(60))
    };
    let key = |r: Result<_, pbs_tape::scsi::ScsiError>| {
        let e = r.unwrap_err();
        let s = e.sense().unwrap();
        (s.key.code(), s.asc, s.ascq)
    };

    // MODE SENSE(10) all pages: 0x1D, 0x1E, 0x1F after an 8-byte header.
    let mut buf = [0u8; 255];
    let cdb = [opcodes::MODE_SENSE_10, 0x08, 0x3f, 0, 0, 0, 0, 0, 255, 0];
    let n = run(&mut t, &cdb, &mut buf).unwrap().transferred;
    let a = changer::ElementAddressAssignment::from_mode_data(&buf[..n], 8).unwrap();
    assert_eq!((a.storage.first, a.storage.count), (p.slot_base, 4));
    assert_eq!(n, 8 + 20 + 4 + 20);
    assert_eq!((buf[28], buf[32]), (0x1e, 0x1f));
    let cdb = [opcodes::MODE_SENSE_6, 0x08, 0x22, 0, 255, 0];
    assert_eq!(key(run(&mut t, &cdb, &mut buf)), (5, 0x24, 0x00));

    // READ ELEMENT STATUS: the allocation length truncates (3 bytes).
    let mut small = [0u8; 100];
    let cdb = [
        opcodes::READ_ELEMENT_STATUS,
        0x12,
        0,
        0,
        0,
        20,
        0,
        0,
        0,
        30,
        0,
        0,
    ];
    let done = run(&mut t, &cdb, &mut small).unwrap();
    assert_eq!((done.transferred, done.residual), (30, 70));
    let r = changer::parse_element_status(&small[..30]).unwrap();
    assert!(r.truncated);
    assert!(r.elements.is_empty(), "30 bytes hold no 48-byte descriptor");
    // element type 7 does not exist
    let cdb = [
        opcodes::READ_ELEMENT_STATUS,
        0x07,
        0,
        0,
        0,
        20,
        0,
        0,
        0,
        100,
        0,
        0,
    ];
    assert_eq!(key(run(&mut t, &cdb, &mut small)), (5, 0x24, 0x00));

    // INITIALIZE ELEMENT STATUS (WITH RANGE), POSITION TO ELEMENT
    run(
        &mut t,
        &[opcodes::INITIALIZE_ELEMENT_STATUS, 0, 0, 0, 0, 0],
        &mut [],
    )
    .unwrap();
    let [hi, lo] = p.slot_base.to_be_bytes();
    let range = [
        opcodes::INITIALIZE_ELEMENT_STATUS_WITH_RANGE,
        1,
        hi,
        lo,
        0,
        0,
        0,
        4,
        0,
        0,
    ];
    run(&mut t, &range, &mut []).unwrap();
    let bad = [
        opcodes::INITIALIZE_ELEMENT_STATUS_WITH_RANGE,
        1,
        0x77,
        0x77,
        0,
        0,
        0,
        4,
        0,
        0,
    ];
    assert_eq!(key(run(&mut t, &bad, &mut [])), (5, 0x21, 0x01));
    commands::position_to_element(&mut t, 0, p.slot_base + 1).unwrap();
    let err = commands::position_to_element(&mut t, 0, 0x7777).unwrap_err();
    assert_eq!(sense_of(&err), (5, 0x21, 0x01));

    // PREVENT ALLOW MEDIUM REMOVAL is remembered in the library state.
    commands::prevent_allow_medium_removal(&mut t, true).unwrap();
    assert!(lib.read_state().unwrap().changer_removal_prevented);
    commands::prevent_allow_medium_removal(&mut t, false).unwrap();
    assert!(!lib.read_state().unwrap().changer_removal_prevented);

    // Unknown opcode
    assert_eq!(
        key(run(&mut t, &[0xEE, 0, 0, 0, 0, 0], &mut [])),
        (5, 0x20, 0x00)
    );
}

#[test]
fn open_checks_the_device_type() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), config(1, 4, 0), 1, &[]);
    let drive = lib.drive_device_path(0).display().to_string();
    assert!(matches!(
        MediaChanger::open(&drive),
        Err(ChangerError::NotAChanger {
            peripheral_type: 1,
            ..
        })
    ));
    let missing = tmp.path().join("nope").display().to_string();
    assert!(matches!(
        MediaChanger::open(&missing),
        Err(ChangerError::Open { .. })
    ));
    let path = lib.changer_device_path().display().to_string();
    let s = MediaChanger::open(&path).unwrap().status().unwrap();
    assert_eq!(s.slots[0].barcode.as_deref(), Some("ABC001L9"));
}
