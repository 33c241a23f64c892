//! The emulated library on disk: `DIR/state.json` (guarded by `flock` on
//! `DIR/lock`), device files `DIR/changer` and `DIR/driveN`, per-drive state
//! `DIR/driveN.json`, cartridges in `DIR/tapes/`.
//!
//! Every process that opens the library (pmtx, pmt, ptape, tape-emu) goes
//! through [`Library::update`] for changes, so moves, loads, operator
//! actions and fault arming are serialised and each change bumps
//! [`LibraryState::generation`].

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;

use super::barcode::{self, is_cleaning_barcode, BarcodeError};
use super::drive_state::MediumInfo;
use super::fault::{DeviceId, FaultKind, FaultSpec};
use super::image::{self, ImageError};
use super::state::{Cartridge, CartridgeKind, DriveBay, LibraryConfig, LibraryState, Location};

/// First line of every emulated device file.
pub const DEVICE_MAGIC: &str = "ptape-emulated-device v1";
/// Name of the changer device file.
pub const CHANGER_FILE: &str = "changer";
/// Library state file.
pub const STATE_FILE: &str = "state.json";
/// Lock file for state changes.
pub const LOCK_FILE: &str = "lock";
/// Directory of the cartridge images.
pub const TAPES_DIR: &str = "tapes";
/// Cleanings a new cleaning cartridge has.
pub const CLEANING_USES: u32 = 50;
/// Most drives, slots and import/export slots a library may have.
pub const MAX_DRIVES: usize = 64;
pub const MAX_SLOTS: usize = 10_000;
pub const MAX_IE_SLOTS: usize = 256;

/// Errors of library-level operations.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}: not an emulated tape library (no state.json)")]
    NotALibrary(String),
    #[error("{0}: a library already exists there")]
    AlreadyExists(String),
    #[error("{path}: unsupported library state version {version}")]
    UnsupportedVersion { path: String, version: u32 },
    #[error("invalid library configuration: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Barcode(#[from] BarcodeError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("drive {0} does not exist")]
    NoSuchDrive(usize),
    #[error("slot {0} does not exist")]
    NoSuchSlot(usize),
    #[error("import/export slot {0} does not exist")]
    NoSuchIeSlot(usize),
    #[error("import/export slot {0} is empty")]
    IeSlotEmpty(usize),
    #[error("drive {0} is empty")]
    DriveEmpty(usize),
    #[error("drive {drive} already holds {barcode}")]
    DriveOccupied { drive: usize, barcode: String },
    #[error("medium removal is prevented on drive {0}")]
    RemovalPrevented(usize),
    #[error("no free import/export slot")]
    NoFreeIeSlot,
    #[error("cartridge {0} is not known to the library")]
    UnknownCartridge(String),
    #[error("cartridge {barcode} is already in the library ({location})")]
    AlreadyInLibrary { barcode: String, location: String },
    #[error("{0}")]
    Refused(String),
}

impl EmuError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EmuError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Human form of a location, for messages and status output.
pub fn location_name(loc: &Location) -> String {
    match loc {
        Location::Slot(i) => format!("slot {i}"),
        Location::ImportExport(i) => format!("import/export slot {i}"),
        Location::Drive(i) => format!("drive {i}"),
    }
}

/// A cheap fingerprint of `state.json` (inode, size, mtime): when it
/// changes, another process changed the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateStamp {
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

/// One cartridge as shown by [`Library::status`].
#[derive(Debug, Clone, Serialize)]
pub struct CartridgeStatus {
    #[serde(flatten)]
    pub cartridge: Cartridge,
    /// Where it is; `None` when it is outside the library (on the shelf).
    pub location: Option<Location>,
    /// Bytes used on the medium (records plus filemark cost).
    pub used_bytes: u64,
    /// Logical objects (blocks and filemarks) on the medium.
    pub objects: u64,
    /// Why the tape image could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_error: Option<String>,
}

/// Snapshot of the whole library for `tape-emu status`.
#[derive(Debug, Clone, Serialize)]
pub struct LibraryStatus {
    pub dir: String,
    pub state: LibraryState,
    pub cartridges: Vec<CartridgeStatus>,
}

/// A handle to an emulated library directory.
#[derive(Debug, Clone)]
pub struct Library {
    dir: PathBuf,
}

impl Library {
    /// Create a new library in `dir` (created if missing; must not hold a
    /// library yet). `barcodes` fill the storage slots in order, then
    /// `cleaning` cartridges; with `slots == 0` (standalone drive) they are
    /// only registered, ready for [`Library::insert`].
    pub fn create(
        dir: &Path,
        config: LibraryConfig,
        barcodes: &[String],
        cleaning: &[String],
    ) -> Result<Library, EmuError> {
        validate_config(&config)?;
        let lib = Library {
            dir: dir.to_path_buf(),
        };
        if lib.state_path().exists() {
            return Err(EmuError::AlreadyExists(dir.display().to_string()));
        }
        let mut cartridges = BTreeMap::new();
        let mut all = Vec::new();
        for (list, cleaning_list) in [(barcodes, false), (cleaning, true)] {
            for b in list {
                barcode::validate_barcode(b)?;
                if cartridges.contains_key(b) {
                    return Err(BarcodeError::Duplicate(b.clone()).into());
                }
                let cart = new_cartridge(b, cleaning_list || is_cleaning_barcode(b), &config);
                cartridges.insert(b.clone(), cart);
                all.push(b.clone());
            }
        }
        if config.slots > 0 && all.len() > config.slots {
            return Err(EmuError::InvalidConfig(format!(
                "{} cartridges do not fit into {} slots",
                all.len(),
                config.slots
            )));
        }
        let mut slots = vec![None; config.slots];
        if config.slots > 0 {
            for (slot, b) in slots.iter_mut().zip(all.iter()) {
                *slot = Some(b.clone());
            }
        }
        let drives = (0..config.drives)
            .map(|i| DriveBay {
                serial: drive_serial(&config.serial, i),
                cartridge: None,
                source: None,
                loaded: false,
                removal_prevented: false,
                loads: 0,
            })
            .collect();
        let state = LibraryState {
            version: LibraryState::VERSION,
            generation: 1,
            ie_slots: vec![None; config.ie_slots],
            slots,
            drives,
            cartridges,
            changer_removal_prevented: false,
            faults: Vec::new(),
            config,
        };
        fs::create_dir_all(lib.tapes_dir()).map_err(|e| EmuError::io(&lib.tapes_dir(), e))?;
        File::create(lib.lock_path()).map_err(|e| EmuError::io(&lib.lock_path(), e))?;
        for i in 0..state.config.drives {
            write_device_file(&lib.drive_device_path(i), &format!("drive {i}"))?;
        }
        if state.has_changer() {
            write_device_file(&lib.changer_device_path(), "changer")?;
        }
        lib.write_state(&state)?;
        Ok(lib)
    }

    /// Open an existing library directory.
    pub fn open(dir: &Path) -> Result<Library, EmuError> {
        let lib = Library {
            dir: dir.to_path_buf(),
        };
        if !lib.state_path().is_file() {
            return Err(EmuError::NotALibrary(dir.display().to_string()));
        }
        lib.read_state()?;
        Ok(lib)
    }

    /// The library directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    pub fn tapes_dir(&self) -> PathBuf {
        self.dir.join(TAPES_DIR)
    }

    /// Device path of drive `n` (what users give to `pmt -f`).
    pub fn drive_device_path(&self, n: usize) -> PathBuf {
        self.dir.join(format!("drive{n}"))
    }

    /// Device path of the changer (what users give to `pmtx -f`).
    pub fn changer_device_path(&self) -> PathBuf {
        self.dir.join(CHANGER_FILE)
    }

    /// Position and settings of drive `n`, kept across processes.
    pub fn drive_state_path(&self, n: usize) -> PathBuf {
        self.dir.join(format!("drive{n}.json"))
    }

    /// The tape image (records) of a cartridge.
    pub fn tape_image_path(&self, barcode: &str) -> PathBuf {
        self.tapes_dir().join(format!("{barcode}.tape"))
    }

    /// The cartridge memory (MAM attributes, counters) of a cartridge.
    pub fn medium_info_path(&self, barcode: &str) -> PathBuf {
        self.tapes_dir().join(format!("{barcode}.mam.json"))
    }

    /// Read the current state (no lock needed: the file is replaced atomically).
    pub fn read_state(&self) -> Result<LibraryState, EmuError> {
        let path = self.state_path();
        let state: LibraryState = read_json(&path)?;
        if state.version != LibraryState::VERSION {
            return Err(EmuError::UnsupportedVersion {
                path: path.display().to_string(),
                version: state.version,
            });
        }
        Ok(state)
    }

    /// Change the state under the library lock: `f` sees the newest state;
    /// when it returns `Ok` and changed something, the state is written
    /// (temp file + rename) with `generation + 1`. On `Err` nothing is written.
    pub fn update<R>(
        &self,
        f: impl FnOnce(&mut LibraryState) -> Result<R, EmuError>,
    ) -> Result<R, EmuError> {
        let lock_path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| EmuError::io(&lock_path, e))?;
        let _lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| EmuError::io(&lock_path, errno.into()))?;
        let mut state = self.read_state()?;
        let before = state.clone();
        let result = f(&mut state)?;
        if state != before {
            state.generation = before.generation + 1;
            self.write_state(&state)?;
        }
        Ok(result)
    }

    fn write_state(&self, state: &LibraryState) -> Result<(), EmuError> {
        write_json_atomic(&self.state_path(), state)
    }

    /// Fingerprint of `state.json` now (a `stat`, no read).
    pub fn state_stamp(&self) -> Result<StateStamp, EmuError> {
        let path = self.state_path();
        let md = fs::metadata(&path).map_err(|e| EmuError::io(&path, e))?;
        Ok(StateStamp {
            ino: md.ino(),
            size: md.size(),
            mtime_ns: md.mtime() as i128 * 1_000_000_000 + md.mtime_nsec() as i128,
        })
    }

    /// Read the cartridge memory of a cartridge (defaults for a new one).
    pub fn read_medium_info(&self, barcode: &str) -> Result<MediumInfo, EmuError> {
        let path = self.medium_info_path(barcode);
        if !path.exists() {
            return Ok(new_medium_info(barcode));
        }
        read_json(&path)
    }

    /// Store the cartridge memory of a cartridge.
    pub fn write_medium_info(&self, barcode: &str, info: &MediumInfo) -> Result<(), EmuError> {
        write_json_atomic(&self.medium_info_path(barcode), info)
    }

    /// Operator: put a cartridge directly into a drive (standalone drive).
    /// An unknown barcode becomes a new blank cartridge.
    pub fn insert(&self, drive: usize, barcode: &str) -> Result<(), EmuError> {
        barcode::validate_barcode(barcode)?;
        self.update(|state| {
            let bay = state
                .drives
                .get(drive)
                .ok_or(EmuError::NoSuchDrive(drive))?;
            if let Some(b) = &bay.cartridge {
                return Err(EmuError::DriveOccupied {
                    drive,
                    barcode: b.clone(),
                });
            }
            ensure_outside(state, barcode)?;
            register_cartridge(state, barcode);
            let bay = &mut state.drives[drive];
            bay.cartridge = Some(barcode.to_string());
            bay.source = None;
            bay.loaded = true;
            bay.removal_prevented = false;
            bay.loads += 1;
            Ok(())
        })?;
        self.count_load(barcode)
    }

    /// Operator: take the cartridge out of a drive (eject button + take).
    /// Returns its barcode.
    pub fn remove(&self, drive: usize) -> Result<String, EmuError> {
        self.update(|state| {
            let bay = state
                .drives
                .get_mut(drive)
                .ok_or(EmuError::NoSuchDrive(drive))?;
            let Some(barcode) = bay.cartridge.clone() else {
                return Err(EmuError::DriveEmpty(drive));
            };
            if bay.removal_prevented {
                return Err(EmuError::RemovalPrevented(drive));
            }
            bay.cartridge = None;
            bay.source = None;
            bay.loaded = false;
            Ok(barcode)
        })
    }

    /// Operator: put a cartridge into the first free import/export slot
    /// (a new blank cartridge if the barcode is unknown). Returns the slot.
    pub fn import(&self, barcode: &str) -> Result<usize, EmuError> {
        barcode::validate_barcode(barcode)?;
        self.update(|state| {
            if state.ie_slots.is_empty() {
                return Err(EmuError::Refused(
                    "the library has no import/export slots".into(),
                ));
            }
            ensure_outside(state, barcode)?;
            let slot = state
                .ie_slots
                .iter()
                .position(Option::is_none)
                .ok_or(EmuError::NoFreeIeSlot)?;
            register_cartridge(state, barcode);
            state.ie_slots[slot] = Some(barcode.to_string());
            Ok(slot)
        })
    }

    /// Operator: take the cartridge out of import/export slot `ie_slot`.
    /// Returns its barcode; the cartridge stays known (on the shelf).
    pub fn take(&self, ie_slot: usize) -> Result<String, EmuError> {
        self.update(|state| {
            let slot = state
                .ie_slots
                .get_mut(ie_slot)
                .ok_or(EmuError::NoSuchIeSlot(ie_slot))?;
            slot.take().ok_or(EmuError::IeSlotEmpty(ie_slot))
        })
    }

    /// Operator: set or clear the write-protect tab of a cartridge.
    pub fn set_write_protect(&self, barcode: &str, on: bool) -> Result<(), EmuError> {
        self.update(|state| {
            let cart = state
                .cartridges
                .get_mut(barcode)
                .ok_or_else(|| EmuError::UnknownCartridge(barcode.to_string()))?;
            cart.write_protected = on;
            Ok(())
        })
    }

    /// Arm a fault (see [`super::fault`]): drives take every kind but
    /// `move-hardware-error`, the changer only that one.
    pub fn arm_fault(&self, fault: FaultSpec) -> Result<(), EmuError> {
        self.update(|state| {
            match fault.device {
                DeviceId::Drive(n) if n >= state.drives.len() => {
                    return Err(EmuError::NoSuchDrive(n))
                }
                DeviceId::Changer if !state.has_changer() => {
                    return Err(EmuError::Refused("the library has no changer".into()))
                }
                _ => {}
            }
            let fits = match fault.device {
                DeviceId::Changer => fault.kind == FaultKind::MoveHardwareError,
                DeviceId::Drive(_) => fault.kind != FaultKind::MoveHardwareError,
            };
            if !fits {
                return Err(EmuError::Refused(format!(
                    "fault {} cannot be armed on {} (the changer only has move-hardware-error)",
                    fault.kind, fault.device
                )));
            }
            state.faults.push(fault);
            Ok(())
        })
    }

    /// Remove all armed faults.
    pub fn clear_faults(&self) -> Result<(), EmuError> {
        self.update(|state| {
            state.faults.clear();
            Ok(())
        })
    }

    /// Everything about the library, with the space used on each cartridge.
    pub fn status(&self) -> Result<LibraryStatus, EmuError> {
        let state = self.read_state()?;
        let mut cartridges = Vec::new();
        for cart in state.cartridges.values() {
            // One unreadable image must not hide the rest of the library.
            let (summary, image_error) =
                match image::summarize(&self.tape_image_path(&cart.barcode)) {
                    Ok(summary) => (summary, None),
                    Err(e) => (Default::default(), Some(e.to_string())),
                };
            cartridges.push(CartridgeStatus {
                cartridge: cart.clone(),
                location: state.locate(&cart.barcode),
                used_bytes: summary.used_bytes,
                objects: summary.objects,
                image_error,
            });
        }
        Ok(LibraryStatus {
            dir: self.dir.display().to_string(),
            state,
            cartridges,
        })
    }

    /// Count one load in the cartridge memory (and start the "since last
    /// load" byte counters afresh).
    pub(crate) fn count_load(&self, barcode: &str) -> Result<(), EmuError> {
        let mut info = self.read_medium_info(barcode)?;
        info.load_count += 1;
        info.last_load_bytes_written = 0;
        info.last_load_bytes_read = 0;
        self.write_medium_info(barcode, &info)
    }
}

/// Check the numbers of a configuration.
pub fn validate_config(config: &LibraryConfig) -> Result<(), EmuError> {
    let bad = |msg: String| Err(EmuError::InvalidConfig(msg));
    if config.drives == 0 || config.drives > MAX_DRIVES {
        return bad(format!("drives must be 1..={MAX_DRIVES}"));
    }
    if config.slots > MAX_SLOTS {
        return bad(format!("slots must be 0..={MAX_SLOTS}"));
    }
    if config.ie_slots > MAX_IE_SLOTS {
        return bad(format!("import/export slots must be 0..={MAX_IE_SLOTS}"));
    }
    if config.slots == 0 && config.ie_slots > 0 {
        return bad("import/export slots need a changer (slots > 0)".into());
    }
    if config.early_warning >= config.capacity {
        return bad("early warning must be smaller than the capacity".into());
    }
    if !(512..=0xff_ffff).contains(&config.max_transfer) {
        return bad("max transfer must be 512 bytes..16 MiB - 1".into());
    }
    if !(5..=10).contains(&config.lto_generation) {
        return bad("LTO generation must be 5..=10".into());
    }
    if config.serial.is_empty()
        || config.serial.len() > 20
        || !config.serial.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return bad("serial must be 1..=20 letters or digits".into());
    }
    Ok(())
}

/// Serial number of drive `n` of a library.
pub fn drive_serial(library_serial: &str, n: usize) -> String {
    format!("{library_serial}D{n:02}")
}

fn new_cartridge(barcode: &str, cleaning: bool, config: &LibraryConfig) -> Cartridge {
    Cartridge {
        barcode: barcode.to_string(),
        kind: if cleaning {
            CartridgeKind::Cleaning {
                uses_left: CLEANING_USES,
            }
        } else {
            CartridgeKind::Data
        },
        write_protected: false,
        capacity: config.capacity,
    }
}

fn new_medium_info(barcode: &str) -> MediumInfo {
    MediumInfo {
        manufacture_date: jiff::Zoned::now().strftime("%Y%m%d").to_string(),
        medium_serial: format!("EMU{barcode}"),
        ..MediumInfo::default()
    }
}

fn register_cartridge(state: &mut LibraryState, barcode: &str) {
    if !state.cartridges.contains_key(barcode) {
        let cart = new_cartridge(barcode, is_cleaning_barcode(barcode), &state.config);
        state.cartridges.insert(barcode.to_string(), cart);
    }
}

fn ensure_outside(state: &LibraryState, barcode: &str) -> Result<(), EmuError> {
    match state.locate(barcode) {
        Some(loc) => Err(EmuError::AlreadyInLibrary {
            barcode: barcode.to_string(),
            location: location_name(&loc),
        }),
        None => Ok(()),
    }
}

fn write_device_file(path: &Path, kind: &str) -> Result<(), EmuError> {
    let text =
        format!("{DEVICE_MAGIC}\n{kind}\n# Emulated tape device of a ptape tape-emu library.\n");
    fs::write(path, text).map_err(|e| EmuError::io(path, e))
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmuError> {
    let bytes = fs::read(path).map_err(|e| EmuError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| EmuError::Json {
        path: path.display().to_string(),
        source,
    })
}

/// Write JSON to `path` atomically: temp file in the same directory + rename.
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), EmuError> {
    let json = serde_json::to_vec_pretty(value).map_err(|source| EmuError::Json {
        path: path.display().to_string(),
        source,
    })?;
    // Unique per process and call, so threads of one process never share it.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}.{n}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut file = File::create(&tmp).map_err(|e| EmuError::io(&tmp, e))?;
    file.write_all(&json).map_err(|e| EmuError::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| EmuError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(dir: &Path, slots: usize, ie: usize) -> Library {
        let config = LibraryConfig {
            slots,
            ie_slots: ie,
            ..LibraryConfig::default()
        };
        let barcodes = barcode::expand_range("ABC001L9", "ABC004L9").unwrap();
        Library::create(dir, config, &barcodes, &["CLN001L1".into()]).unwrap()
    }

    #[test]
    fn create_places_cartridges_and_device_files() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = lib(tmp.path(), 8, 2);
        let st = lib.read_state().unwrap();
        assert_eq!(st.slots[0].as_deref(), Some("ABC001L9"));
        assert_eq!(st.slots[4].as_deref(), Some("CLN001L1"));
        assert_eq!(st.slots[5], None);
        assert!(matches!(
            st.cartridges["CLN001L1"].kind,
            CartridgeKind::Cleaning { .. }
        ));
        assert!(tmp.path().join("changer").is_file());
        assert!(tmp.path().join("drive0").is_file());
        assert!(matches!(
            Library::create(tmp.path(), LibraryConfig::default(), &[], &[]),
            Err(EmuError::AlreadyExists(_))
        ));
    }

    #[test]
    fn update_bumps_generation_only_on_change() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = lib(tmp.path(), 8, 2);
        let g0 = lib.read_state().unwrap().generation;
        lib.update(|_| Ok(())).unwrap();
        assert_eq!(lib.read_state().unwrap().generation, g0);
        let stamp = lib.state_stamp().unwrap();
        lib.import("NEW001L9").unwrap();
        assert_eq!(lib.read_state().unwrap().generation, g0 + 1);
        assert_ne!(lib.state_stamp().unwrap(), stamp);
        // A failing closure writes nothing.
        let r: Result<(), _> = lib.update(|s| {
            s.slots[0] = None;
            Err(EmuError::Refused("no".into()))
        });
        assert!(r.is_err());
        assert_eq!(
            lib.read_state().unwrap().slots[0].as_deref(),
            Some("ABC001L9")
        );
    }

    #[test]
    fn import_take_insert_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = lib(tmp.path(), 8, 1);
        assert_eq!(lib.import("NEW001L9").unwrap(), 0);
        assert!(matches!(
            lib.import("NEW002L9"),
            Err(EmuError::NoFreeIeSlot)
        ));
        assert!(matches!(
            lib.import("ABC001L9"),
            Err(EmuError::AlreadyInLibrary { .. })
        ));
        assert_eq!(lib.take(0).unwrap(), "NEW001L9");
        let err = lib.take(0).unwrap_err();
        assert_eq!(err.to_string(), "import/export slot 0 is empty");
        lib.insert(0, "NEW001L9").unwrap();
        assert!(matches!(
            lib.insert(0, "NEW002L9"),
            Err(EmuError::DriveOccupied { .. })
        ));
        assert_eq!(lib.read_medium_info("NEW001L9").unwrap().load_count, 1);
        assert_eq!(lib.remove(0).unwrap(), "NEW001L9");
        assert!(matches!(lib.remove(0), Err(EmuError::DriveEmpty(0))));
    }

    #[test]
    fn config_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let config = LibraryConfig {
            drives: 0,
            ..LibraryConfig::default()
        };
        assert!(matches!(
            Library::create(tmp.path(), config, &[], &[]),
            Err(EmuError::InvalidConfig(_))
        ));
        let config = LibraryConfig {
            slots: 2,
            ..LibraryConfig::default()
        };
        let many = barcode::expand_range("A01L9", "A03L9").unwrap();
        assert!(matches!(
            Library::create(tmp.path(), config, &many, &[]),
            Err(EmuError::InvalidConfig(_))
        ));
        assert!(matches!(
            Library::open(tmp.path()),
            Err(EmuError::NotALibrary(_))
        ));
    }
}
