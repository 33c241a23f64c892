//! Library state under concurrency: separate `Library` handles (as separate
//! processes would have) update the state at the same time; no update is
//! lost and readers never see a torn `state.json`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{EmuError, Library};

#[test]
fn concurrent_updates_are_not_lost_and_reads_are_never_torn() {
    let tmp = tempfile::tempdir().unwrap();
    let config = LibraryConfig {
        slots: 4,
        ie_slots: 4,
        ..LibraryConfig::default()
    };
    Library::create(tmp.path(), config, &[], &[]).unwrap();
    let g0 = Library::open(tmp.path())
        .unwrap()
        .read_state()
        .unwrap()
        .generation;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let dir = tmp.path().to_path_buf();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let lib = Library::open(&dir).unwrap();
            let mut reads = 0u64;
            let mut last = 0;
            while !stop.load(Ordering::Relaxed) {
                let st = lib.read_state().expect("state.json is always complete");
                assert!(st.generation >= last, "generation never goes back");
                last = st.generation;
                reads += 1;
            }
            reads
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let dir = tmp.path().to_path_buf();
            std::thread::spawn(move || {
                let lib = Library::open(&dir).unwrap();
                for i in 0..25 {
                    let barcode = format!("T{t}X{i:03}L9");
                    let slot = lib.import(&barcode).unwrap();
                    assert_eq!(lib.take(slot).unwrap(), barcode);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let st = Library::open(tmp.path()).unwrap().read_state().unwrap();
    assert_eq!(
        st.generation,
        g0 + 200,
        "every import and take counted once"
    );
    assert_eq!(st.cartridges.len(), 100);
    assert!(st.ie_slots.iter().all(Option::is_none));
}

#[test]
fn operator_errors_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let config = LibraryConfig {
        slots: 0,
        ie_slots: 0,
        drives: 2,
        ..LibraryConfig::default()
    };
    let lib = Library::create(tmp.path(), config, &[], &[]).unwrap();
    assert!(
        !tmp.path().join("changer").exists(),
        "no changer without slots"
    );
    assert!(matches!(lib.import("A01L9"), Err(EmuError::Refused(_))));
    assert!(matches!(
        lib.insert(2, "A01L9"),
        Err(EmuError::NoSuchDrive(2))
    ));
    assert!(matches!(lib.insert(0, "a01"), Err(EmuError::Barcode(_))));
    lib.insert(0, "A01L9").unwrap();
    assert!(matches!(
        lib.insert(1, "A01L9"),
        Err(EmuError::AlreadyInLibrary { .. })
    ));
    assert!(matches!(
        lib.set_write_protect("NOPE01L9", true),
        Err(EmuError::UnknownCartridge(_))
    ));
    assert!(pbs_tape::emulator::is_emulated_device(
        &lib.drive_device_path(1)
    ));
    assert!(!pbs_tape::emulator::is_emulated_device(&lib.state_path()));
    assert!(!pbs_tape::emulator::is_emulated_device(
        &tmp.path().join("missing")
    ));
}

#[test]
fn device_reached_through_a_symlink_finds_its_library() {
    let tmp = tempfile::tempdir().unwrap();
    let lib_dir = tmp.path().join("lib");
    let config = LibraryConfig {
        slots: 0,
        ie_slots: 0,
        ..LibraryConfig::default()
    };
    let lib = Library::create(&lib_dir, config, &[], &[]).unwrap();
    lib.insert(0, "LINK01L9").unwrap();
    let link = tmp.path().join("tape0");
    std::os::unix::fs::symlink(lib.drive_device_path(0), &link).unwrap();
    assert!(pbs_tape::emulator::is_emulated_device(&link));
    let mut dev = pbs_tape::emulator::open_device(&link).unwrap();
    use pbs_tape::scsi::ScsiTransport;
    assert_eq!(dev.path(), link.display().to_string());
    // First command: the load's unit attention, then ready.
    let tur = [0u8; 6];
    let t = std::time::Duration::from_secs(5);
    assert!(dev
        .execute(&tur, pbs_tape::scsi::DataDirection::None, t)
        .is_err());
    dev.execute(&tur, pbs_tape::scsi::DataDirection::None, t)
        .unwrap();
    // The drive is the same one: a second open through the real path is busy.
    assert!(pbs_tape::emulator::open_device(&lib.drive_device_path(0)).is_err());
}
