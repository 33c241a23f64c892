//! Shared helpers of the drive integration tests: an emulated standalone
//! drive in a fresh directory, opened as an [`LtoDrive`].
#![allow(dead_code)]

mod pattern;

use std::path::PathBuf;

use pbs_tape::drive::LtoDrive;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::Library;

pub use pattern::pattern;

pub const BARCODE: &str = "TAPE01L9";

pub struct DriveFixture {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
}

impl DriveFixture {
    /// A standalone drive (no changer) with cartridge [`BARCODE`] inserted.
    pub fn new() -> DriveFixture {
        Self::with_config(LibraryConfig {
            slots: 0,
            ie_slots: 0,
            ..LibraryConfig::default()
        })
    }

    pub fn with_config(config: LibraryConfig) -> DriveFixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let lib = Library::create(tmp.path(), config, &[], &[]).expect("create library");
        lib.insert(0, BARCODE).expect("insert cartridge");
        DriveFixture { tmp, lib }
    }

    /// A standalone drive without a cartridge.
    pub fn empty() -> DriveFixture {
        let f = Self::new();
        f.lib.remove(0).expect("remove cartridge");
        f
    }

    pub fn drive_path(&self) -> PathBuf {
        self.lib.drive_device_path(0)
    }

    pub fn open(&self) -> LtoDrive {
        LtoDrive::open(&self.drive_path().to_string_lossy()).expect("open drive")
    }
}
