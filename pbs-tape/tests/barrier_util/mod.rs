//! An emulated standalone drive for the barrier tests, driven through
//! `LtoDrive` and the format's adapter impls.

#![allow(dead_code)]
use pbs_tape::drive::LtoDrive;
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::Library;

pub const MIB: u64 = 1 << 20;

pub struct EmuTape {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
}

impl EmuTape {
    /// One standalone drive with cartridge `TAPE01L9` loaded.
    pub fn new(capacity: u64, early_warning: u64) -> EmuTape {
        let tmp = tempfile::tempdir().expect("tempdir");
        let config = LibraryConfig {
            slots: 0,
            ie_slots: 0,
            capacity,
            early_warning,
            ..LibraryConfig::default()
        };
        let lib = Library::create(tmp.path(), config, &[], &[]).expect("library");
        lib.insert(0, "TAPE01L9").expect("insert");
        EmuTape { tmp, lib }
    }

    /// Open drive 0 (the unit attention of a fresh load is consumed).
    pub fn drive(&self) -> LtoDrive {
        let path = self.lib.drive_device_path(0);
        let mut drive = LtoDrive::open(&path.to_string_lossy()).expect("open drive");
        let _ = drive.test_unit_ready();
        drive
    }

    /// Take the cartridge out and load `barcode` (a new blank one if unknown).
    pub fn change_tape(&self, barcode: &str) {
        self.lib.remove(0).expect("remove");
        self.lib.insert(0, barcode).expect("insert");
    }

    /// Arm a fault on drive 0 after `after` matching commands.
    pub fn arm(&self, kind: FaultKind, after: u64) {
        self.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind,
                after,
            })
            .expect("arm fault");
    }
}
