//! The devices ptape writes with: a configured drive (with its changer) or
//! the embedded emulated library, behind [`TapeDevices`].
//!
//! The embedded library (no drive configured) lives in the data directory
//! and is created on first use: 1 drive, [`EMBEDDED_SLOTS`] slots holding
//! cartridges `PT0001L9`..`PT0008L9`, 1 import/export slot, LTO-9,
//! [`EMBEDDED_CAPACITY`] per cartridge.

use std::path::Path;

use pbs_tape::changer::{clean_drive, is_cleaning_barcode, ChangerError, MediaChanger, Place};
use pbs_tape::drive::tape_alert::{read_tape_alert_flags, TapeAlertFlags};
use pbs_tape::drive::{DriveError, LtoDrive};
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{EmuError, Library};
use pbs_tape::format::{read_media_label, TapeIoError};
use pbs_tape::scsi::ScsiTransport;

use crate::config::{self, Config, ResolvedDrive};
use crate::devices::{
    DeviceError, ExportReport, ExportedTape, NotExported, TapeDevices, TapeMotion,
};
use crate::lock::{DeviceLock, DeviceRole, WaitPolicy};

/// Longest wait for the changer when the job itself does not wait: other
/// holders (another job's load or unload, a `pmtx` command) hold it for
/// one move, so a job waits for them rather than failing.
pub const CHANGER_MIN_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// How [`LibraryDevices`] locks its devices: the drive for as long as the
/// value lives, the changer around each sequence of changer commands (so
/// jobs on other drives of the library run in parallel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOptions {
    /// Recorded in the lock file for other users (`ptape backup`).
    pub command: String,
    /// How long to wait for a busy drive.
    pub wait: WaitPolicy,
}

impl Default for LockOptions {
    /// The process's defaults ([`crate::lock::set_process_defaults`]).
    fn default() -> Self {
        LockOptions {
            command: crate::lock::process_command(),
            wait: crate::lock::process_wait(),
        }
    }
}

impl LockOptions {
    /// The changer's policy: the job's, but at least [`CHANGER_MIN_WAIT`].
    fn changer_wait(&self) -> WaitPolicy {
        match self.wait.limit() {
            None => WaitPolicy::FOREVER,
            Some(limit) => WaitPolicy::Wait(Some(limit.max(CHANGER_MIN_WAIT))),
        }
    }
}

/// Storage slots of the embedded library.
pub const EMBEDDED_SLOTS: usize = 8;
/// Capacity of each embedded cartridge (bytes).
pub const EMBEDDED_CAPACITY: u64 = 8 * 1024 * 1024 * 1024;
/// Early-warning distance of each embedded cartridge (bytes).
pub const EMBEDDED_EARLY_WARNING: u64 = 64 * 1024 * 1024;

/// Errors of creating the embedded library.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("embedded library {path}: {source}")]
    Emulator {
        path: String,
        #[source]
        source: Box<EmuError>,
    },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Device(#[from] Box<DeviceError>),
}

/// Barcodes of the embedded library's cartridges.
pub fn embedded_barcodes() -> Vec<String> {
    (1..=EMBEDDED_SLOTS)
        .map(|i| format!("PT{i:04}L9"))
        .collect()
}

/// Creates the embedded library in `dir` unless one exists there.
/// Returns true when it was created now.
pub fn ensure_embedded_library(dir: &Path) -> Result<bool, LibraryError> {
    let emu = |source| LibraryError::Emulator {
        path: dir.display().to_string(),
        source: Box::new(source),
    };
    match Library::open(dir) {
        Ok(_) => Ok(false),
        Err(EmuError::NotALibrary(_)) => {
            let config = LibraryConfig {
                drives: 1,
                slots: EMBEDDED_SLOTS,
                ie_slots: 1,
                capacity: EMBEDDED_CAPACITY,
                early_warning: EMBEDDED_EARLY_WARNING,
                lto_generation: 9,
                ..LibraryConfig::default()
            };
            Library::create(dir, config, &embedded_barcodes(), &[]).map_err(emu)?;
            Ok(true)
        }
        Err(e) => Err(emu(e)),
    }
}

/// A drive, and its changer when it has one, held by this process: the
/// drive's lock ([`DeviceLock`]) is taken before anything is opened and
/// kept until the value is dropped; a cartridge loaded for a job is held
/// in the drive with PREVENT MEDIUM REMOVAL until it is unloaded.
pub struct LibraryDevices {
    drive: ResolvedDrive,
    changer: Option<MediaChanger<Box<dyn ScsiTransport>>>,
    /// Label of the cartridge we loaded (standalone drive: read from it).
    loaded: Option<String>,
    locks: LockOptions,
    /// Declared last: released after everything above is closed.
    _drive_lock: DeviceLock,
}

impl std::fmt::Debug for LibraryDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryDevices")
            .field("drive", &self.drive)
            .field("loaded", &self.loaded)
            .finish()
    }
}

fn changer_err(path: &str) -> impl FnOnce(pbs_tape::changer::ChangerError) -> DeviceError + '_ {
    move |source| DeviceError::Changer {
        path: path.to_string(),
        source: Box::new(source),
    }
}

fn drive_err(path: &str) -> impl FnOnce(DriveError) -> DeviceError + '_ {
    move |source| DeviceError::Drive {
        path: path.to_string(),
        source: Box::new(source),
    }
}

impl LibraryDevices {
    /// Opens the named (or default) drive of the configuration; with no
    /// drive configured, the embedded library (created when missing).
    /// The drive is locked with the process's [`LockOptions`].
    pub fn open(config: &Config, drive: Option<&str>) -> Result<LibraryDevices, LibraryError> {
        Self::open_with(config, drive, LockOptions::default())
    }

    /// [`LibraryDevices::open`] with the given lock options.
    pub fn open_with(
        config: &Config,
        drive: Option<&str>,
        locks: LockOptions,
    ) -> Result<LibraryDevices, LibraryError> {
        let resolved = config.resolve_drive(drive)?;
        if resolved.embedded {
            ensure_embedded_library(&config::embedded_library_dir()?)?;
        }
        Self::from_resolved_with(resolved, locks).map_err(|e| LibraryError::Device(Box::new(e)))
    }

    /// Opens the given drive (and its changer), the drive locked with the
    /// process's [`LockOptions`].
    pub fn from_resolved(drive: ResolvedDrive) -> Result<LibraryDevices, DeviceError> {
        Self::from_resolved_with(drive, LockOptions::default())
    }

    /// [`LibraryDevices::from_resolved`] with the given lock options. A
    /// drive another process holds is [`DeviceError::Lock`] (busy, naming
    /// the holder) unless `locks.wait` waits it out.
    pub fn from_resolved_with(
        drive: ResolvedDrive,
        locks: LockOptions,
    ) -> Result<LibraryDevices, DeviceError> {
        let drive_lock = DeviceLock::acquire(
            DeviceRole::Drive,
            &drive.name,
            &drive.path,
            &locks.command,
            locks.wait,
        )
        .map_err(|e| DeviceError::Lock(Box::new(e)))?;
        Self::from_resolved_holding(drive, drive_lock, locks)
    }

    /// Opens the given drive (and its changer) with the drive's lock
    /// already held by the caller (a scheduler that picked a free drive by
    /// locking it): taking it again would conflict with itself, since a
    /// `flock` belongs to one open file. The lock must be the drive's
    /// ([`DeviceLock::covers`]); it is released when the value is dropped.
    pub fn from_resolved_holding(
        drive: ResolvedDrive,
        drive_lock: DeviceLock,
        locks: LockOptions,
    ) -> Result<LibraryDevices, DeviceError> {
        if !drive_lock.covers(&drive.path) {
            return Err(DeviceError::LockMismatch {
                path: drive.path.clone(),
                held: drive_lock.what().to_string(),
            });
        }
        let changer = match &drive.changer_path {
            Some(path) => {
                let transport =
                    pbs_tape::device::open_transport(path).map_err(|source| DeviceError::Open {
                        path: path.clone(),
                        source: Box::new(source),
                    })?;
                Some(MediaChanger::new(transport))
            }
            None => None,
        };
        Ok(LibraryDevices {
            drive,
            changer,
            loaded: None,
            locks,
            _drive_lock: drive_lock,
        })
    }

    /// Hold the changer for one sequence of changer commands.
    fn lock_changer(&self) -> Result<Option<DeviceLock>, DeviceError> {
        let Some(path) = self.drive.changer_path.as_deref() else {
            return Ok(None);
        };
        let name = self.drive.changer.as_deref().unwrap_or(path);
        DeviceLock::acquire(
            DeviceRole::Changer,
            name,
            path,
            &self.locks.command,
            self.locks.changer_wait(),
        )
        .map(Some)
        .map_err(|e| DeviceError::Lock(Box::new(e)))
    }

    /// The drive in use.
    pub fn drive(&self) -> &ResolvedDrive {
        &self.drive
    }

    /// Opens the drive, waits for the loaded medium, sets variable-block
    /// mode and rewinds (for commands on the cartridge already loaded, like
    /// `ptape key restore`).
    pub fn open_drive(&self) -> Result<LtoDrive, DeviceError> {
        let path = &self.drive.path;
        let mut drive = LtoDrive::open(path).map_err(drive_err(path))?;
        if let Err(first) = drive.test_unit_ready() {
            // A cartridge left in the drive unthreaded: thread it (LOAD).
            drive
                .load()
                .and_then(|()| drive.test_unit_ready())
                .map_err(|_| drive_err(path)(first))?;
        }
        drive.set_variable_block_mode().map_err(drive_err(path))?;
        drive.rewind().map_err(drive_err(path))?;
        Ok(drive)
    }

    /// Ejects the cartridge after a job (`--eject`): in a library it is
    /// unthreaded and put back into a storage slot; a standalone drive
    /// ejects it for the operator to take (SSC LOAD UNLOAD after PREVENT
    /// ALLOW MEDIUM REMOVAL). An empty drive is fine.
    pub fn eject(&mut self) -> Result<(), DeviceError> {
        if self.changer.is_some() {
            let _changer_lock = self.lock_changer()?;
            return self.unload_through_changer();
        }
        let path = &self.drive.path;
        let mut drive = LtoDrive::open(path).map_err(drive_err(path))?;
        if drive.test_unit_ready().is_err() {
            // No cartridge (or one already unthreaded).
            return Ok(());
        }
        drive.eject().map_err(drive_err(path))
    }

    /// Unthreads the cartridge in our drive and puts it back to its slot.
    fn unload_through_changer(&mut self) -> Result<(), DeviceError> {
        let drivenum = self.drive.changer_drivenum as usize;
        let Some(changer) = self.changer.as_mut() else {
            return Ok(());
        };
        let changer_path = self.drive.changer_path.clone().unwrap_or_default();
        let status = changer.status().map_err(changer_err(&changer_path))?;
        if !status.drives.get(drivenum).is_some_and(|d| d.full) {
            return Ok(());
        }
        let path = &self.drive.path;
        let mut drive = LtoDrive::open(path).map_err(drive_err(path))?;
        // A PREVENT MEDIUM REMOVAL left by a job that died (or by
        // `pmt lock`) would make the changer refuse the move (05/53/02):
        // we hold the drive's lock, so it is ours to allow.
        drive.unlock().map_err(drive_err(path))?;
        drive.unload().map_err(drive_err(path))?;
        drop(drive);
        changer
            .unload(drivenum, None)
            .map_err(changer_err(&changer_path))?;
        Ok(())
    }
}

impl TapeMotion for LtoDrive {
    fn rewind(&mut self) -> Result<(), TapeIoError> {
        Ok(LtoDrive::rewind(self)?)
    }
    fn locate_file(&mut self, file: u64) -> Result<(), TapeIoError> {
        Ok(LtoDrive::locate_file(self, file)?)
    }
    fn move_to_eod(&mut self) -> Result<(), TapeIoError> {
        Ok(LtoDrive::move_to_eod(self)?)
    }
    fn begin_write_session(&mut self) {
        LtoDrive::begin_write_session(self)
    }
    fn locate_object(&mut self, object: u64) -> Result<(), TapeIoError> {
        Ok(LtoDrive::locate(self, object)?)
    }
}

impl TapeDevices for LibraryDevices {
    type Tape = LtoDrive;

    fn online_labels(&mut self) -> Result<Vec<String>, DeviceError> {
        let drivenum = self.drive.changer_drivenum as usize;
        let _changer_lock = self.lock_changer()?;
        match self.changer.as_mut() {
            Some(changer) => {
                let path = self.drive.changer_path.clone().unwrap_or_default();
                let status = changer.status().map_err(changer_err(&path))?;
                let in_drive = status.drives.get(drivenum).and_then(|d| d.barcode.clone());
                let export_slots = &self.drive.export_slots;
                Ok(status
                    .slots
                    .iter()
                    .filter(|s| !s.import_export && !export_slots.contains(&s.number))
                    .filter_map(|s| s.barcode.clone())
                    .chain(in_drive)
                    .filter(|b| !is_cleaning_barcode(b))
                    .collect())
            }
            None => {
                // A standalone drive: the cartridge in it, by its label.
                let mut drive = match self.open_drive() {
                    Ok(d) => d,
                    Err(_) => return Ok(Vec::new()),
                };
                let label = read_media_label(&mut drive).ok().flatten();
                Ok(label.map(|l| l.label_text).into_iter().collect())
            }
        }
    }

    fn can_autolabel(&self) -> bool {
        self.changer.is_some()
    }

    fn drive_name(&self) -> String {
        self.drive.name.clone()
    }

    fn changer_name(&self) -> Option<String> {
        self.changer.as_ref()?;
        self.drive
            .changer
            .clone()
            .or_else(|| self.drive.changer_path.clone())
    }

    /// Loads the cartridge and holds it in the drive with PREVENT MEDIUM
    /// REMOVAL until [`TapeDevices::unload`] (or until the returned handle
    /// is dropped, on any error path).
    fn load(&mut self, label: &str) -> Result<LtoDrive, DeviceError> {
        let mut drive = self.load_cartridge(label)?;
        let path = self.drive.path.clone();
        drive
            .prevent_removal_until_drop()
            .map_err(drive_err(&path))?;
        Ok(drive)
    }

    fn unload(&mut self, mut tape: LtoDrive) -> Result<(), DeviceError> {
        let allowed = tape.unlock().map_err(drive_err(&self.drive.path));
        drop(tape);
        self.loaded = None;
        allowed?;
        // Standalone drives keep their cartridge; libraries put it back.
        if self.changer.is_none() {
            return Ok(());
        }
        let _changer_lock = self.lock_changer()?;
        self.unload_through_changer()
    }

    /// A cartridge in an import/export slot or a configured export slot
    /// goes to the first free storage slot that is not an export slot
    /// (SMC MOVE MEDIUM).
    fn import(&mut self, label: &str) -> Result<bool, DeviceError> {
        let _changer_lock = self.lock_changer()?;
        let Some(changer) = self.changer.as_mut() else {
            return Ok(false);
        };
        let path = self.drive.changer_path.clone().unwrap_or_default();
        let status = changer.status().map_err(changer_err(&path))?;
        let export_slots = &self.drive.export_slots;
        let is_export =
            |s: &pbs_tape::changer::SlotStatus| s.import_export || export_slots.contains(&s.number);
        let Some(from) = status
            .all_slots()
            .find(|s| is_export(s) && s.barcode.as_deref() == Some(label))
            .map(|s| s.number)
        else {
            return Ok(false);
        };
        let Some(to) = status
            .slots
            .iter()
            .find(|s| !s.full && !is_export(s))
            .map(|s| s.number)
        else {
            return Err(DeviceError::Changer {
                path,
                source: Box::new(pbs_tape::changer::ChangerError::NoFreeSlot {
                    what: "storage slot",
                }),
            });
        };
        changer.transfer(from, to).map_err(changer_err(&path))?;
        Ok(true)
    }

    /// SMC MOVE MEDIUM of each cartridge into the first free import/export
    /// slot or configured export slot (by slot number); a cartridge in our
    /// drive is unthreaded and put back first.
    fn export(&mut self, labels: &[String]) -> Result<ExportReport, DeviceError> {
        if self.changer.is_none() {
            return Ok(ExportReport::nothing(
                labels,
                "standalone drive: take the tape out of the drive by hand",
            ));
        }
        let _changer_lock = self.lock_changer()?;
        let drivenum = self.drive.changer_drivenum as usize;
        let path = self.drive.changer_path.clone().unwrap_or_default();
        let status = self
            .changer
            .as_mut()
            .map(|c| c.status())
            .transpose()
            .map_err(changer_err(&path))?
            .unwrap_or_default();
        let in_our_drive = status.drives.get(drivenum).and_then(|d| d.barcode.clone());
        if in_our_drive.is_some_and(|b| labels.contains(&b)) {
            self.unload_through_changer()?;
        }
        let Some(changer) = self.changer.as_mut() else {
            return Ok(ExportReport::default());
        };
        let mut status = changer.status().map_err(changer_err(&path))?;
        let export_slots = self.drive.export_slots.clone();
        let is_export =
            |s: &pbs_tape::changer::SlotStatus| s.import_export || export_slots.contains(&s.number);
        let mut report = ExportReport::default();
        for label in labels {
            let not = |reason: String| NotExported {
                label: label.clone(),
                reason,
            };
            match status.find_barcode(label) {
                Some(Place::Slot(n)) if status.slot(n).is_some_and(is_export) => {
                    report.exported.push(ExportedTape {
                        label: label.clone(),
                        slot: n,
                    })
                }
                Some(Place::Slot(from)) => {
                    let free = status
                        .all_slots()
                        .find(|s| is_export(s) && !s.full)
                        .map(|s| s.number);
                    let Some(to) = free else {
                        report
                            .not_exported
                            .push(not("no free import/export slot".to_string()));
                        continue;
                    };
                    changer.transfer(from, to).map_err(changer_err(&path))?;
                    status = changer.status().map_err(changer_err(&path))?;
                    report.exported.push(ExportedTape {
                        label: label.clone(),
                        slot: to,
                    });
                }
                Some(place) => report
                    .not_exported
                    .push(not(format!("in {place}: unload it first (pmtx unload)"))),
                None => report
                    .not_exported
                    .push(not("not in the library".to_string())),
            }
        }
        Ok(report)
    }

    fn tape_alerts(&mut self, tape: &mut LtoDrive) -> Result<TapeAlertFlags, DeviceError> {
        let (t, path) = tape.transport_and_path();
        match read_tape_alert_flags(t, path) {
            Ok(flags) => Ok(flags),
            // A drive without TapeAlert pages raises no flags.
            Err(DriveError::NotSupported { .. }) => Ok(TapeAlertFlags::empty()),
            Err(e) => Err(drive_err(&self.drive.path)(e)),
        }
    }

    fn auto_clean(&self) -> bool {
        self.drive.auto_clean
    }

    fn clean_drive(&mut self) -> Result<Option<String>, DeviceError> {
        let drivenum = self.drive.changer_drivenum as usize;
        let path = self.drive.changer_path.clone().unwrap_or_default();
        if self.changer.is_none() {
            return Ok(None);
        }
        let _changer_lock = self.lock_changer()?;
        let Some(changer) = self.changer.as_mut() else {
            return Ok(None);
        };
        match clean_drive(changer, drivenum, CLEANING_WAIT) {
            Ok(report) => Ok(Some(report.barcode)),
            Err(ChangerError::NoCleaningCartridge) => Ok(None),
            Err(e) => Err(changer_err(&path)(e)),
        }
    }
}

impl LibraryDevices {
    /// [`TapeDevices::load`] without the removal prevention.
    fn load_cartridge(&mut self, label: &str) -> Result<LtoDrive, DeviceError> {
        let drivenum = self.drive.changer_drivenum as usize;
        let _changer_lock = self.lock_changer()?;
        if let Some(changer) = self.changer.as_mut() {
            let path = self.drive.changer_path.clone().unwrap_or_default();
            let status = changer.status().map_err(changer_err(&path))?;
            let current = status.drives.get(drivenum).and_then(|d| d.barcode.clone());
            if current.as_deref() != Some(label) {
                if current.is_some() || status.drives.get(drivenum).is_some_and(|d| d.full) {
                    self.unload_through_changer()?;
                }
                let changer = self
                    .changer
                    .as_mut()
                    .ok_or_else(|| DeviceError::NotOnline(label.to_string()))?;
                match status.find_barcode(label) {
                    Some(Place::Slot(_)) => {}
                    _ => return Err(DeviceError::NotOnline(label.to_string())),
                }
                changer
                    .load_barcode(label, drivenum)
                    .map_err(changer_err(&path))?;
            }
            let drive = self.open_drive()?;
            self.loaded = Some(label.to_string());
            return Ok(drive);
        }
        // A standalone drive: the cartridge in it must carry this label,
        // or be blank or unreadable (about to be labelled; the callers check
        // labels and UUIDs before writing).
        let mut drive = self.open_drive()?;
        match read_media_label(&mut drive) {
            Ok(Some(l)) if l.label_text != label => Err(DeviceError::NoChanger {
                path: self.drive.path.clone(),
                wanted: label.to_string(),
            }),
            _ => {
                LtoDrive::rewind(&mut drive).map_err(drive_err(&self.drive.path))?;
                self.loaded = Some(label.to_string());
                Ok(drive)
            }
        }
    }
}

/// Longest wait for a drive to finish cleaning (LTO drives take 1-3 min).
const CLEANING_WAIT: std::time::Duration = std::time::Duration::from_secs(600);
