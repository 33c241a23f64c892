//! The library's persistent state: which cartridge sits where, drive bays,
//! armed faults. Lives in `DIR/state.json`, guarded by `flock` on `DIR/lock`
//! so that every process (pmtx, pmt, ptape, tape-emu) sees one library.
//!
//! Tape contents do not live here (see [`super::image`]); this file only
//! changes on moves, loads, operator actions and fault arming, so it is
//! rewritten whole (temp file + rename) on each change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fault::FaultSpec;

/// How the library was built (`tape-emu create`). Never changes afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryConfig {
    /// Number of tape drives (data transfer elements).
    pub drives: usize,
    /// Number of storage slots; 0 means a standalone drive without changer.
    pub slots: usize,
    /// Number of import/export slots (mail slots).
    pub ie_slots: usize,
    /// Native capacity of each new data cartridge, bytes.
    pub capacity: u64,
    /// Distance before the end of a cartridge where early warning starts, bytes.
    pub early_warning: u64,
    /// LTO generation of the emulated drives (sets density code, product id).
    pub lto_generation: u8,
    /// Largest transfer (block) the emulated path accepts, bytes.
    pub max_transfer: usize,
    /// Library serial number; drive serials derive from it.
    pub serial: String,
    pub drive_personality: DrivePersonality,
    pub changer_personality: ChangerPersonality,
}

/// Defaults of a new library (documented in `docs/emulator.md`).
pub mod defaults {
    /// Native capacity of a new cartridge: 2 GiB (small enough for tests).
    pub const CAPACITY: u64 = 2 << 30;
    /// Early warning zone before the end of the cartridge: 64 MiB.
    pub const EARLY_WARNING: u64 = 64 << 20;
    /// LTO generation: LTO-9 (density code 0x60).
    pub const LTO_GENERATION: u8 = 9;
    /// Largest block / transfer: 1 MiB.
    pub const MAX_TRANSFER: usize = 1 << 20;
}

impl Default for LibraryConfig {
    /// One drive, 16 slots, 1 import/export slot, LTO-9, 2 GiB cartridges,
    /// a fresh random serial number.
    fn default() -> Self {
        LibraryConfig {
            drives: 1,
            slots: 16,
            ie_slots: 1,
            capacity: defaults::CAPACITY,
            early_warning: defaults::EARLY_WARNING,
            lto_generation: defaults::LTO_GENERATION,
            max_transfer: defaults::MAX_TRANSFER,
            serial: random_serial(),
            drive_personality: DrivePersonality::default(),
            changer_personality: ChangerPersonality::default(),
        }
    }
}

/// A new library serial number: `EMU` and 7 hex digits.
pub fn random_serial() -> String {
    let id = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .to_ascii_uppercase();
    format!("EMU{}", &id[..7])
}

/// Optional features of the emulated drives, to prove clean degradation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrivePersonality {
    /// Answers LOG SENSE (TapeAlert, volume statistics, capacity).
    pub log_sense: bool,
    /// Answers READ/WRITE ATTRIBUTE (cartridge memory).
    pub mam: bool,
    /// Answers SECURITY PROTOCOL IN/OUT (hardware encryption).
    pub encryption: bool,
    /// Only fixed-block mode (variable-block WRITE/READ refused).
    pub fixed_block_only: bool,
    /// Accepts decryption mode MIXED (some drives refuse it with ILLEGAL
    /// REQUEST, invalid field in parameter list).
    #[serde(default = "enabled")]
    pub encryption_mixed: bool,
    /// Who sets the encryption keys.
    #[serde(default)]
    pub encryption_control: EncryptionControl,
    /// READ POSITION answers only the short form; the long and extended
    /// forms are refused with 05/24/00 (older drives, Linux's scsi_debug
    /// tape since 6.15).
    #[serde(default)]
    pub short_position_only: bool,
}

fn enabled() -> bool {
    true
}

/// Who sets an emulated drive's encryption keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptionControl {
    /// The application, through SECURITY PROTOCOL OUT.
    #[default]
    Application,
    /// A library or key manager (library-/system-managed encryption, as on
    /// ex-library drives): the capabilities page reports CFG_P=10b and
    /// AES-256-GCM for external control only; a key from the application
    /// is refused.
    Library,
}

impl Default for DrivePersonality {
    fn default() -> Self {
        DrivePersonality {
            log_sense: true,
            mam: true,
            encryption: true,
            fixed_block_only: false,
            encryption_mixed: true,
            encryption_control: EncryptionControl::Application,
            short_position_only: false,
        }
    }
}

/// Optional features and addressing of the emulated changer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangerPersonality {
    /// Has a barcode reader (volume tags reported).
    pub barcode_reader: bool,
    /// Reports drive serials as device identifiers (DVCID) in element status.
    pub dvcid: bool,
    /// First element address of the medium transport (picker).
    pub transport_base: u16,
    /// First element address of the storage slots.
    pub slot_base: u16,
    /// First element address of the import/export slots.
    pub ie_base: u16,
    /// First element address of the data transfer elements (drives).
    pub drive_base: u16,
}

impl Default for ChangerPersonality {
    fn default() -> Self {
        ChangerPersonality {
            barcode_reader: true,
            dvcid: true,
            transport_base: 0,
            slot_base: 0x1000,
            ie_base: 0x10,
            drive_base: 0x100,
        }
    }
}

/// What a cartridge is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CartridgeKind {
    /// A data cartridge; its contents are in `DIR/tapes/<barcode>.tape`.
    Data,
    /// A cleaning cartridge (barcode `CLN...`) with the cleanings left.
    Cleaning { uses_left: u32 },
}

/// One cartridge known to the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cartridge {
    pub barcode: String,
    #[serde(flatten)]
    pub kind: CartridgeKind,
    /// Write-protect tab set.
    pub write_protected: bool,
    /// Capacity of this cartridge in bytes.
    pub capacity: u64,
}

/// Where a cartridge came from before it went into a drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "index")]
pub enum Location {
    Slot(usize),
    ImportExport(usize),
    Drive(usize),
}

/// One drive bay (data transfer element) of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveBay {
    /// The drive's serial number (INQUIRY VPD 0x80, changer DVCID).
    pub serial: String,
    /// Barcode of the cartridge in the drive, if any.
    pub cartridge: Option<String>,
    /// Where that cartridge came from (SValid / source element).
    pub source: Option<Location>,
    /// The cartridge is threaded/loaded (not ejected). A changer can only
    /// take a cartridge out of a drive after the drive unloaded it.
    pub loaded: bool,
    /// Medium removal prevented by the drive (PREVENT ALLOW MEDIUM REMOVAL).
    pub removal_prevented: bool,
    /// Cartridges put into this bay so far (by the changer or an operator):
    /// the drive reports "medium may have changed" after every one, even
    /// when the same cartridge comes back.
    #[serde(default)]
    pub loads: u64,
}

/// The whole library, as stored in `DIR/state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryState {
    /// Format version of this file.
    pub version: u32,
    /// Incremented on every change; devices poll it to notice moves and faults.
    pub generation: u64,
    pub config: LibraryConfig,
    /// Storage slots, each holding a barcode or empty.
    pub slots: Vec<Option<String>>,
    /// Import/export slots.
    pub ie_slots: Vec<Option<String>>,
    pub drives: Vec<DriveBay>,
    /// Every cartridge known, by barcode.
    pub cartridges: BTreeMap<String, Cartridge>,
    /// Medium removal prevented on the changer (PREVENT ALLOW MEDIUM REMOVAL).
    pub changer_removal_prevented: bool,
    /// Armed faults (see [`super::fault`]).
    pub faults: Vec<FaultSpec>,
}

impl LibraryState {
    pub const VERSION: u32 = 1;

    /// Where a cartridge is now.
    pub fn locate(&self, barcode: &str) -> Option<Location> {
        let b = Some(barcode);
        if let Some(i) = self.slots.iter().position(|s| s.as_deref() == b) {
            return Some(Location::Slot(i));
        }
        if let Some(i) = self.ie_slots.iter().position(|s| s.as_deref() == b) {
            return Some(Location::ImportExport(i));
        }
        self.drives
            .iter()
            .position(|d| d.cartridge.as_deref() == b)
            .map(Location::Drive)
    }

    /// True when the library has a changer (at least one storage slot).
    pub fn has_changer(&self) -> bool {
        self.config.slots > 0
    }
}
