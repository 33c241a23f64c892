//! The emulated tape drive's data path (SSC-4/SSC-5): READ BLOCK LIMITS,
//! READ(6), WRITE(6), WRITE FILEMARKS(6), SPACE(6)/(16), LOCATE(10)/(16),
//! READ POSITION, REWIND, ERASE, FORMAT MEDIUM, LOAD UNLOAD, PREVENT ALLOW
//! MEDIUM REMOVAL, TEST UNIT READY, plus INQUIRY and REQUEST SENSE from
//! [`super::common`]. MODE/LOG/ATTRIBUTE/DENSITY/SECURITY commands go to
//! [`super::ssc_info`].
//!
//! Model: the position is a logical object number (blocks and filemarks
//! both count). Writes (WRITE, WRITE FILEMARKS with IMMED) land in a
//! bounded in-memory write buffer that drains to the tape image on a flush
//! (WRITE FILEMARKS without IMMED, which also fsyncs), on every positioning
//! or reading command, on UNLOAD, when it exceeds [`WRITE_BUFFER_LIMIT`],
//! and when the device is closed. A power loss discards it. Position and
//! settings persist in `DIR/driveN.json` so the next process continues
//! where the last one stopped, like an `nst` device.

use std::fs::File;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::cdb::{invalid_field, no_data, Cdb, CdbResult, CheckCondition};
use super::common::{self, Identity, PERIPHERAL_TAPE};
use super::crypto;
use super::drive_state::{DriveSettings, MediumInfo};
use super::fault::{self, DeviceId, FaultClass, FaultKind};
use super::image::TapeImage;
use super::library::{read_json, write_json_atomic, EmuError, Library, StateStamp};
use super::ssc_info::{self, InfoContext, MediumContext};
use super::state::{Cartridge, CartridgeKind, LibraryState};
use crate::scsi::opcodes::*;
use crate::scsi::{DataDirection, DeviceError, ScsiError, SenseData, SenseKey};

mod buffer;
mod data_io;
mod medium_ops;
mod position;
mod sense;

use buffer::WriteBuffer;
use sense::{cc, sense};

/// Largest amount of data the write buffer holds before it drains by itself.
pub const WRITE_BUFFER_LIMIT: u64 = 64 << 20;
/// Extra medium bytes of an encrypted block (IV and GCM tag).
pub(super) const SEAL_OVERHEAD: u64 = (crypto::IV_LEN + crypto::TAG_LEN) as u64;

/// A unit attention condition waiting for the next command; persisted so
/// another process sees it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitAttention {
    /// 28/00 NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED.
    MediumChanged,
    /// 29/00 POWER ON, RESET, OR BUS DEVICE RESET OCCURRED.
    PowerOnReset,
}

impl UnitAttention {
    fn sense(self) -> SenseData {
        match self {
            UnitAttention::MediumChanged => SenseData::new(SenseKey::UnitAttention, 0x28, 0x00),
            UnitAttention::PowerOnReset => SenseData::new(SenseKey::UnitAttention, 0x29, 0x00),
        }
    }
}

/// `DIR/driveN.json`: what a drive remembers between processes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveFile {
    /// The cartridge `position` belongs to.
    pub barcode: Option<String>,
    /// Logical object number of the head.
    pub position: u64,
    pub settings: DriveSettings,
    /// Pending unit attention.
    pub unit_attention: Option<UnitAttention>,
    /// The bay's load count when the drive last saw its cartridge (a
    /// higher count means a cartridge was put in since: 28/00).
    #[serde(default)]
    pub loads_seen: u64,
}

/// The cartridge in the drive.
#[derive(Debug)]
struct Medium {
    cartridge: Cartridge,
    image: TapeImage,
    info: MediumInfo,
    info_dirty: bool,
}

/// Product identification of an emulated LTO drive.
pub fn drive_product(lto_generation: u8) -> String {
    format!("ULTRIUM-TD{lto_generation}")
}

/// An emulated tape drive, opened by one process (exclusive `flock` on its
/// device file).
pub(crate) struct EmulatedDrive {
    lib: Library,
    index: usize,
    _lock: Flock<File>,
    state: LibraryState,
    stamp: StateStamp,
    file: DriveFile,
    saved: DriveFile,
    medium: Option<Medium>,
    cleaning_loaded: bool,
    buffer: WriteBuffer,
    pending: Option<SenseData>,
    /// A READ/WRITE fault that fired for the current command.
    fired: Option<FaultKind>,
    identity: Identity,
    scratch: Vec<u8>,
}

fn device_error(path: &Path, err: EmuError) -> ScsiError {
    ScsiError::Device(DeviceError::Invalid {
        path: path.display().to_string(),
        message: err.to_string(),
    })
}

impl EmulatedDrive {
    /// Open drive `index` of `lib` through its device file `device_path`.
    /// Another process holding the drive gives [`DeviceError::Busy`].
    pub(crate) fn open(lib: Library, index: usize, device_path: &Path) -> Result<Self, ScsiError> {
        let path_str = device_path.display().to_string();
        let file = File::open(device_path).map_err(|source| DeviceError::Io {
            path: path_str.clone(),
            source,
        })?;
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, Errno::EWOULDBLOCK)) => return Err(DeviceError::Busy { path: path_str }.into()),
            Err((_, errno)) => {
                return Err(DeviceError::Io {
                    path: path_str,
                    source: errno.into(),
                }
                .into())
            }
        };
        let stamp = lib
            .state_stamp()
            .map_err(|e| device_error(device_path, e))?;
        let state = lib.read_state().map_err(|e| device_error(device_path, e))?;
        let Some(bay) = state.drives.get(index) else {
            return Err(device_error(device_path, EmuError::NoSuchDrive(index)));
        };
        let identity = Identity {
            peripheral_type: PERIPHERAL_TAPE,
            removable: true,
            product: drive_product(state.config.lto_generation),
            serial: bay.serial.clone(),
        };
        let state_path = lib.drive_state_path(index);
        let file: DriveFile = if state_path.exists() {
            read_json(&state_path).map_err(|e| device_error(device_path, e))?
        } else {
            DriveFile::default()
        };
        let mut drive = EmulatedDrive {
            lib,
            index,
            _lock: lock,
            state,
            stamp,
            saved: file.clone(),
            pending: file.unit_attention.map(UnitAttention::sense),
            file,
            medium: None,
            cleaning_loaded: false,
            buffer: WriteBuffer::default(),
            fired: None,
            identity,
            scratch: Vec::new(),
        };
        drive
            .sync_medium()
            .map_err(|e| device_error(device_path, e))?;
        Ok(drive)
    }

    /// Drive number in the library.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Largest transfer this drive accepts.
    pub(crate) fn max_transfer(&self) -> usize {
        self.state.config.max_transfer
    }

    fn device(&self) -> DeviceId {
        DeviceId::Drive(self.index)
    }

    /// Execute one CDB. `Err` only for an injected timeout.
    pub(crate) fn execute(
        &mut self,
        raw: &[u8],
        data: DataDirection<'_>,
        timeout: std::time::Duration,
    ) -> Result<CdbResult, ScsiError> {
        if let Err(e) = self.refresh() {
            return Ok(Err(common::internal_failure(e)));
        }
        let opcode = raw.first().copied().unwrap_or(0);
        if fault::armed_on(&self.state, self.device()) {
            let class = match opcode {
                WRITE_6 => FaultClass::Write,
                READ_6 => FaultClass::Read,
                _ => FaultClass::Any,
            };
            match fault::count_command(&self.lib, self.device(), class) {
                Ok(Some(FaultKind::Timeout)) => return Err(ScsiError::Timeout(timeout)),
                Ok(Some(FaultKind::PowerLoss)) => self.power_loss(),
                Ok(Some(FaultKind::TapeAlert(flags))) => self.file.settings.tape_alerts |= flags,
                Ok(fired) => self.fired = fired,
                Err(e) => return Ok(Err(common::internal_failure(e))),
            }
        }
        let result = self.dispatch(raw, data);
        self.fired = None;
        let streaming = matches!(opcode, READ_6 | WRITE_6)
            || (opcode == WRITE_FILEMARKS_6 && raw.get(1).is_some_and(|b| b & 1 != 0));
        if !streaming {
            if let Err(e) = self.save() {
                return Ok(Err(common::internal_failure(e)));
            }
        }
        Ok(result)
    }

    fn dispatch(&mut self, raw: &[u8], data: DataDirection<'_>) -> CdbResult {
        let opcode = raw.first().copied().unwrap_or(0);
        if !is_data_path_opcode(opcode) {
            return self.dispatch_info(raw, data);
        }
        let cdb = Cdb::parse(raw)?;
        if !matches!(opcode, INQUIRY | REQUEST_SENSE) {
            self.report_unit_attention()?;
        }
        match opcode {
            INQUIRY => common::inquiry(&self.identity, &cdb, data),
            REQUEST_SENSE => common::request_sense(&mut self.pending, &cdb, data),
            TEST_UNIT_READY => {
                cdb.reserved_bytes(1..5)?;
                self.medium()?;
                Ok(no_data())
            }
            READ_BLOCK_LIMITS => self.read_block_limits(&cdb, data),
            READ_6 => self.read(&cdb, data),
            WRITE_6 => self.write(&cdb, data),
            WRITE_FILEMARKS_6 => self.write_filemarks(&cdb),
            SPACE_6 => {
                cdb.reserved(1, 0xf0)?;
                self.space(cdb.byte(1) & 0x0f, cdb.be24_signed(2))
            }
            SPACE_16 => {
                cdb.reserved(1, 0xf0)?;
                cdb.reserved_bytes(2..4)?;
                if cdb.be16(12) != 0 {
                    return Err(invalid_field(12));
                }
                cdb.reserved(14, 0xff)?;
                self.space(cdb.byte(1) & 0x0f, cdb.be64(4) as i64)
            }
            LOCATE_16 => self.locate16(&cdb),
            LOCATE_10 => self.locate10(&cdb),
            READ_POSITION => self.read_position(&cdb, data),
            REWIND => {
                cdb.reserved(1, 0xfe)?;
                cdb.reserved_bytes(2..5)?;
                self.medium()?;
                self.drain(false)?;
                self.file.position = 0;
                Ok(no_data())
            }
            ERASE => self.erase(&cdb),
            FORMAT_MEDIUM => self.format_medium(&cdb),
            LOAD_UNLOAD => self.load_unload(&cdb),
            PREVENT_ALLOW_MEDIUM_REMOVAL => self.prevent_allow(&cdb),
            _ => Err(CheckCondition::invalid_opcode()),
        }
    }

    /// MODE, LOG, ATTRIBUTE, DENSITY and SECURITY PROTOCOL commands go to
    /// [`ssc_info::execute`]; what it does not know is ILLEGAL REQUEST 05/2000.
    /// Changed settings are persisted by [`Self::save`], a changed cartridge
    /// memory is marked for saving.
    fn dispatch_info(&mut self, raw: &[u8], data: DataDirection<'_>) -> CdbResult {
        self.report_unit_attention()?;
        let pos = self.pos();
        let buffer_cost = self.buffer.cost();
        let buffered_filemarks = self.buffer.filemarks;
        let EmulatedDrive {
            state,
            file,
            medium,
            cleaning_loaded,
            ..
        } = self;
        let medium = medium.as_mut().filter(|_| !*cleaning_loaded);
        let mut info_dirty = None;
        let medium_ctx = medium.map(|m| {
            let at = pos.min(m.image.len());
            let ctx = MediumContext {
                cartridge: &m.cartridge,
                info: &mut m.info,
                used_bytes: m.image.used_bytes(m.image.len()) + buffer_cost,
                file_number: m.image.filemarks_before(at) + buffered_filemarks,
                logical_object: pos,
            };
            info_dirty = Some(&mut m.info_dirty);
            ctx
        });
        let (result, medium_changed) = {
            let mut ctx = InfoContext {
                config: &state.config,
                settings: &mut file.settings,
                medium: medium_ctx,
                settings_changed: false,
                medium_changed: false,
            };
            let result = ssc_info::execute(&mut ctx, raw, data);
            (result, ctx.medium_changed)
        };
        if let (true, Some(dirty)) = (medium_changed, info_dirty) {
            *dirty = true;
        }
        result.unwrap_or_else(|| Err(CheckCondition::invalid_opcode()))
    }

    fn report_unit_attention(&mut self) -> Result<(), CheckCondition> {
        match self.pending.take() {
            Some(s) => {
                self.file.unit_attention = None;
                Err(cc(s))
            }
            None => Ok(()),
        }
    }

    /// Notice changes by other processes (a `stat` per command; a read
    /// only when `state.json` changed).
    fn refresh(&mut self) -> Result<(), EmuError> {
        let stamp = self.lib.state_stamp()?;
        if stamp == self.stamp {
            return Ok(());
        }
        self.state = self.lib.read_state()?;
        self.stamp = stamp;
        self.sync_medium()
    }

    /// Make the open image match the drive bay: open a newly loaded
    /// cartridge (UNIT ATTENTION 28/00 when it is not the one the drive
    /// had), close one that went away.
    fn sync_medium(&mut self) -> Result<(), EmuError> {
        let Some(bay) = self.state.drives.get(self.index) else {
            return Err(EmuError::NoSuchDrive(self.index));
        };
        let present = bay.cartridge.clone();
        let loaded = if bay.loaded { present.clone() } else { None };
        let loads = bay.loads;
        let reloaded = loads != self.file.loads_seen;
        let current = self.medium.as_ref().map(|m| m.cartridge.barcode.clone());
        if loaded.is_some() && loaded == current && !reloaded {
            if let (Some(m), Some(b)) = (self.medium.as_mut(), loaded.as_ref()) {
                if let Some(c) = self.state.cartridges.get(b) {
                    m.cartridge = c.clone();
                }
            }
            return Ok(());
        }
        if self.medium.is_some() {
            // The cartridge was taken away under us: what is buffered still
            // goes to its image (it was accepted), then the drive is empty.
            let _ = self.drain(false);
            self.close_medium()?;
        }
        self.cleaning_loaded = false;
        if present.is_none() {
            self.file.barcode = None;
            self.file.position = 0;
        }
        let Some(barcode) = loaded else {
            return Ok(());
        };
        let cartridge = self
            .state
            .cartridges
            .get(&barcode)
            .cloned()
            .ok_or_else(|| EmuError::UnknownCartridge(barcode.clone()))?;
        if self.file.barcode.as_deref() != Some(barcode.as_str()) || reloaded {
            self.file.barcode = Some(barcode.clone());
            self.file.position = 0;
            self.set_unit_attention(UnitAttention::MediumChanged);
        }
        self.file.loads_seen = loads;
        if matches!(cartridge.kind, CartridgeKind::Cleaning { .. }) {
            self.cleaning_loaded = true;
            return Ok(());
        }
        let image = TapeImage::open(&self.lib.tape_image_path(&barcode))?;
        let info = self.lib.read_medium_info(&barcode)?;
        self.file.position = self.file.position.min(image.len());
        self.medium = Some(Medium {
            cartridge,
            image,
            info,
            info_dirty: false,
        });
        Ok(())
    }

    fn close_medium(&mut self) -> Result<(), EmuError> {
        self.save_info()?;
        self.medium = None;
        Ok(())
    }

    fn set_unit_attention(&mut self, ua: UnitAttention) {
        self.pending = Some(ua.sense());
        self.file.unit_attention = Some(ua);
    }

    /// Simulated power loss: the write buffer is gone, the position is
    /// back at BOT, and the next command gets UNIT ATTENTION 29/00.
    /// The reset also ends a PREVENT MEDIUM REMOVAL.
    fn power_loss(&mut self) {
        self.buffer.clear();
        self.file.position = 0;
        self.set_unit_attention(UnitAttention::PowerOnReset);
        if let Err(e) = self.update_bay(|bay| bay.removal_prevented = false) {
            tracing::warn!(
                "emulated drive: resetting medium removal after power loss: {}",
                e.sense
            );
        }
        if let Err(e) = self.save() {
            tracing::warn!("emulated drive: saving state after power loss: {e}");
        }
    }

    fn save_info(&mut self) -> Result<(), EmuError> {
        if let Some(m) = self.medium.as_mut() {
            if m.info_dirty {
                self.lib.write_medium_info(&m.cartridge.barcode, &m.info)?;
                m.info_dirty = false;
            }
        }
        Ok(())
    }

    /// Persist `driveN.json` (when changed) and the cartridge memory.
    fn save(&mut self) -> Result<(), EmuError> {
        self.save_info()?;
        if self.file != self.saved {
            write_json_atomic(&self.lib.drive_state_path(self.index), &self.file)?;
            self.saved = self.file.clone();
        }
        Ok(())
    }

    fn update_bay(
        &mut self,
        f: impl FnOnce(&mut super::state::DriveBay),
    ) -> Result<(), CheckCondition> {
        let index = self.index;
        self.lib
            .update(|state| {
                let bay = state
                    .drives
                    .get_mut(index)
                    .ok_or(EmuError::NoSuchDrive(index))?;
                f(bay);
                Ok(())
            })
            .map_err(common::internal_failure)?;
        // Take our own change into account without treating it as foreign.
        self.state = self.lib.read_state().map_err(common::internal_failure)?;
        self.stamp = self.lib.state_stamp().map_err(common::internal_failure)?;
        Ok(())
    }

    /// The loaded data cartridge, or NOT READY.
    fn medium(&mut self) -> Result<&mut Medium, CheckCondition> {
        if self.cleaning_loaded {
            // NOT READY, CLEANING CARTRIDGE INSTALLED.
            return Err(cc(sense(SenseKey::NotReady, 0x30, 0x03)));
        }
        self.medium
            .as_mut()
            .ok_or_else(CheckCondition::medium_not_present)
    }

    fn writable_medium(&mut self) -> Result<&mut Medium, CheckCondition> {
        let m = self.medium()?;
        if m.cartridge.write_protected {
            // DATA PROTECT, WRITE PROTECTED.
            return Err(cc(sense(SenseKey::DataProtect, 0x27, 0x00)));
        }
        Ok(m)
    }

    fn pos(&self) -> u64 {
        self.file.position
    }

    /// Medium space used up to the head (the buffer is always at the end).
    fn used_at_head(&self) -> u64 {
        match &self.medium {
            Some(m) => m.image.used_bytes(self.pos().min(m.image.len())) + self.buffer.cost(),
            None => 0,
        }
    }
}

impl Drop for EmulatedDrive {
    /// Closing the device cleanly writes the buffer to the medium.
    fn drop(&mut self) {
        if let Err(e) = self.drain(false) {
            tracing::warn!("emulated drive: flushing on close: {}", e.sense);
        }
        if let Err(e) = self.save() {
            tracing::warn!("emulated drive: saving state on close: {e}");
        }
    }
}

/// Opcodes answered by the data path (everything else goes to the
/// information commands).
fn is_data_path_opcode(opcode: u8) -> bool {
    matches!(
        opcode,
        TEST_UNIT_READY
            | REWIND
            | REQUEST_SENSE
            | FORMAT_MEDIUM
            | READ_BLOCK_LIMITS
            | READ_6
            | WRITE_6
            | WRITE_FILEMARKS_6
            | SPACE_6
            | INQUIRY
            | ERASE
            | LOAD_UNLOAD
            | PREVENT_ALLOW_MEDIUM_REMOVAL
            | LOCATE_10
            | READ_POSITION
            | SPACE_16
            | LOCATE_16
    )
}
