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
use zerocopy::byteorder::big_endian::{U16, U32, U64};
use zerocopy::{Immutable, IntoBytes, KnownLayout, Unaligned};

use super::cdb::{invalid_field, no_data, Cdb, CdbResult, CheckCondition};
use super::common::{self, Identity, PERIPHERAL_TAPE};
use super::crypto;
use super::drive_state::{DriveSettings, MediumInfo};
use super::fault::{self, DeviceId, FaultClass, FaultKind};
use super::image::{BlockInfo, ImageError, Record, TapeImage, FILEMARK_COST};
use super::library::{read_json, write_json_atomic, EmuError, Library, StateStamp};
use super::ssc_info::{self, InfoContext, MediumContext};
use super::state::{Cartridge, CartridgeKind, LibraryState};
use crate::drive::encryption::encryption_mode;
use crate::scsi::opcodes::*;
use crate::scsi::{Completion, DataDirection, DeviceError, ScsiError, SenseData, SenseKey};

/// Largest amount of data the write buffer holds before it drains by itself.
pub const WRITE_BUFFER_LIMIT: u64 = 64 << 20;
/// Extra medium bytes of an encrypted block (IV and GCM tag).
const SEAL_OVERHEAD: u64 = (crypto::IV_LEN + crypto::TAG_LEN) as u64;

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
}

/// One record waiting in the write buffer.
#[derive(Debug)]
enum Buffered {
    Block(Vec<u8>, BlockInfo),
    Filemarks(u64),
}

/// The drive's write buffer.
#[derive(Debug, Default)]
struct WriteBuffer {
    records: Vec<Buffered>,
    /// Logical objects buffered.
    objects: u64,
    /// Payload bytes buffered.
    bytes: u64,
    /// Filemarks buffered.
    filemarks: u64,
    /// Index into `records` of the first record hit by a deferred write error.
    poison_at: Option<usize>,
}

impl WriteBuffer {
    /// Medium space the buffered records will take.
    fn cost(&self) -> u64 {
        self.bytes + self.filemarks * FILEMARK_COST
    }

    fn clear(&mut self) {
        *self = WriteBuffer::default();
    }

    fn push_block(&mut self, data: Vec<u8>, info: BlockInfo) {
        self.bytes += data.len() as u64;
        self.objects += 1;
        self.records.push(Buffered::Block(data, info));
    }

    fn push_filemarks(&mut self, n: u64) {
        self.filemarks += n;
        self.objects += n;
        self.records.push(Buffered::Filemarks(n));
    }
}

/// The cartridge in the drive.
#[derive(Debug)]
struct Medium {
    cartridge: Cartridge,
    image: TapeImage,
    info: MediumInfo,
    info_dirty: bool,
}

/// READ BLOCK LIMITS data (SSC-5 7.6), 6 bytes.
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct BlockLimitsData {
    granularity: u8,
    max: [u8; 3],
    min: U16,
}

/// READ POSITION short form data (SSC-5 7.7.2), 20 bytes.
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct ShortPositionData {
    /// BOP 0x80, EOP 0x40, LOCU 0x20, BYCU 0x10, LOLU 0x04, PERR 0x02, BPEW 0x01.
    flags: u8,
    partition: u8,
    reserved: [u8; 2],
    first_location: U32,
    last_location: U32,
    reserved2: u8,
    objects_in_buffer: [u8; 3],
    bytes_in_buffer: U32,
}

/// READ POSITION long form data (SSC-5 7.7.3), 32 bytes.
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct LongPositionData {
    /// BOP 0x80, EOP 0x40, MPU 0x08, LONU 0x04, BPEW 0x01.
    flags: u8,
    reserved: [u8; 3],
    partition: U32,
    logical_object: U64,
    logical_file: U64,
    logical_set: U64,
}

const POS_BOP: u8 = 0x80;
const POS_EOP: u8 = 0x40;
/// READ POSITION service actions.
const RP_SHORT: u8 = 0x00;
const RP_LONG: u8 = 0x06;
/// SPACE codes (SSC-5 table "Code field definition").
const SPACE_BLOCKS: u8 = 0;
const SPACE_FILEMARKS: u8 = 1;
const SPACE_EOD: u8 = 3;
/// LOCATE(16) destination types.
const DEST_OBJECT: u8 = 0;
const DEST_FILE: u8 = 1;
const DEST_EOD: u8 = 3;

fn sense(key: SenseKey, asc: u8, ascq: u8) -> SenseData {
    SenseData::new(key, asc, ascq)
}

fn cc(sense: SenseData) -> CheckCondition {
    CheckCondition::new(sense)
}

/// MEDIUM ERROR, WRITE ERROR (03/0C00).
fn write_error() -> SenseData {
    sense(SenseKey::MediumError, 0x0c, 0x00)
}

/// Writing to the image failed: MEDIUM ERROR 03/0C00 (cause logged).
fn image_write_failure(err: ImageError) -> CheckCondition {
    tracing::warn!("emulated drive: tape image write failed: {err}");
    cc(write_error())
}

/// Reading the image failed (I/O or checksum): MEDIUM ERROR 03/1100.
fn image_read_failure(err: ImageError) -> CheckCondition {
    tracing::warn!("emulated drive: tape image read failed: {err}");
    cc(sense(SenseKey::MediumError, 0x11, 0x00))
}

/// Signed residual as the INFORMATION field carries it (two's complement).
fn residual_info(requested: u64, actual: u64) -> u64 {
    requested.wrapping_sub(actual)
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
            Err((_, Errno::EWOULDBLOCK)) => {
                return Err(DeviceError::Busy { path: path_str }.into())
            }
            Err((_, errno)) => {
                return Err(DeviceError::Io {
                    path: path_str,
                    source: errno.into(),
                }
                .into())
            }
        };
        let stamp = lib.state_stamp().map_err(|e| device_error(device_path, e))?;
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
        let mut ctx = InfoContext {
            config: &state.config,
            settings: &mut file.settings,
            medium: medium_ctx,
            settings_changed: false,
            medium_changed: false,
        };
        let result = ssc_info::execute(&mut ctx, raw, data);
        let medium_changed = ctx.medium_changed;
        drop(ctx);
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

    // ---- library state ----------------------------------------------------

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
        let current = self.medium.as_ref().map(|m| m.cartridge.barcode.clone());
        if loaded.is_some() && loaded == current {
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
        if self.file.barcode.as_deref() != Some(barcode.as_str()) {
            self.file.barcode = Some(barcode.clone());
            self.file.position = 0;
            self.set_unit_attention(UnitAttention::MediumChanged);
        }
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
    fn power_loss(&mut self) {
        self.buffer.clear();
        self.file.position = 0;
        self.set_unit_attention(UnitAttention::PowerOnReset);
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

    fn update_bay(&mut self, f: impl FnOnce(&mut super::state::DriveBay)) -> Result<(), CheckCondition> {
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

    // ---- medium and buffer --------------------------------------------------

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

    /// Write the buffer to the image (`sync`: and fsync it). A deferred
    /// write error armed on a buffered block is reported here (response
    /// code 0x71) and that block and everything after it is lost.
    fn drain(&mut self, sync: bool) -> Result<(), CheckCondition> {
        let poison = self.buffer.poison_at.take();
        let records = std::mem::take(&mut self.buffer.records);
        self.buffer.clear();
        let Some(m) = self.medium.as_mut() else {
            return Ok(());
        };
        if records.is_empty() {
            return if sync { m.image.sync() } else { m.image.flush() }
                .map_err(image_write_failure);
        }
        let mut deferred = false;
        for (i, record) in records.into_iter().enumerate() {
            if Some(i) == poison {
                deferred = true;
                break;
            }
            match record {
                Buffered::Block(data, info) => m.image.append_block(&data, info),
                Buffered::Filemarks(n) => m.image.append_filemarks(n),
            }
            .map_err(image_write_failure)?;
        }
        if sync { m.image.sync() } else { m.image.flush() }.map_err(image_write_failure)?;
        self.file.position = m.image.len();
        if deferred {
            m.info.write_errors += 1;
            m.info_dirty = true;
            return Err(cc(write_error().deferred()));
        }
        Ok(())
    }

    // ---- commands -------------------------------------------------------

    /// READ BLOCK LIMITS (opcode 0x05, SSC-5 7.6).
    fn read_block_limits(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xff)?; // MLOI (bit 0) is not supported
        cdb.reserved_bytes(2..5)?;
        let max = self.max_transfer() as u32;
        let limits = BlockLimitsData {
            granularity: 0,
            max: [(max >> 16) as u8, (max >> 8) as u8, max as u8],
            min: U16::new(1),
        };
        Ok(common::respond(data, limits.as_bytes(), 6))
    }

    /// Check the mode of a READ/WRITE: FIXED bit against the block size and
    /// the personality. Returns the fixed block size, or `None` for
    /// variable-block transfers.
    fn transfer_mode(&self, fixed: bool) -> Result<Option<u32>, CheckCondition> {
        let block_size = self.file.settings.block_size;
        if fixed {
            if block_size == 0 {
                return Err(CheckCondition::invalid_field_in_cdb(1, Some(0)));
            }
            return Ok(Some(block_size));
        }
        if self.state.config.drive_personality.fixed_block_only {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(0)));
        }
        Ok(None)
    }

    /// READ(6) (opcode 0x08, SSC-5 7.5).
    fn read(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        let fixed = cdb.bit(1, 0);
        let sili = cdb.bit(1, 1);
        if fixed && sili {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(1)));
        }
        let length = cdb.be24(2) as u64;
        let mode = self.transfer_mode(fixed)?;
        self.medium()?;
        self.drain(false)?;
        if length == 0 {
            return Ok(no_data());
        }
        let buf: &mut [u8] = match data {
            DataDirection::FromDevice(buf) => buf,
            _ => return Err(invalid_field(2)),
        };
        if self.fired == Some(FaultKind::ReadError) {
            if let Some(m) = self.medium.as_mut() {
                m.info.read_errors += 1;
                m.info_dirty = true;
            }
            return Err(cc(sense(SenseKey::MediumError, 0x11, 0x00).with_information(length)));
        }
        match mode {
            None => self.read_variable(length, sili, buf),
            Some(block_size) => self.read_fixed(length, block_size as usize, buf),
        }
    }

    /// What the next object is, for reading.
    fn next_object(&mut self) -> Result<Option<Record>, CheckCondition> {
        let pos = self.pos();
        let m = self.medium()?;
        Ok(m.image.record(pos))
    }

    /// Read the block at the head into the scratch buffer (decrypted when
    /// it was written encrypted) and advance past it.
    fn read_block_at_head(&mut self) -> Result<(), CheckCondition> {
        let pos = self.pos();
        let Some(m) = self.medium.as_mut() else {
            return Err(CheckCondition::medium_not_present());
        };
        let Some(Record::Block(info)) = m.image.record(pos) else {
            return Err(common::internal_failure("no block at the head"));
        };
        m.image
            .read_block(pos, &mut self.scratch)
            .map_err(image_read_failure)?;
        m.info.lifetime_bytes_read += self.scratch.len() as u64;
        m.info.last_load_bytes_read += self.scratch.len() as u64;
        m.info_dirty = true;
        self.file.position = pos + 1;
        if info.encrypted {
            self.scratch =
                crypto::decrypt_block(&self.file.settings, &info.key_fingerprint, &self.scratch)?;
        } else {
            crypto::check_unencrypted_read(&self.file.settings)?;
        }
        Ok(())
    }

    fn read_variable(&mut self, length: u64, sili: bool, buf: &mut [u8]) -> CdbResult {
        match self.next_object()? {
            None => Err(cc(blank_check(length))),
            Some(Record::Filemark) => {
                self.file.position += 1;
                Err(cc(filemark(length)))
            }
            Some(Record::Block(_)) => {
                self.read_block_at_head()?;
                let actual = self.scratch.len() as u64;
                let n = (actual.min(length) as usize).min(buf.len());
                buf[..n].copy_from_slice(&self.scratch[..n]);
                let done = Completion {
                    transferred: n,
                    residual: buf.len() - n,
                };
                if actual == length || (actual < length && sili) {
                    return Ok(done);
                }
                let s = sense(SenseKey::NoSense, 0, 0)
                    .with_ili()
                    .with_information(residual_info(length, actual));
                Err(cc(s).with_transferred(n))
            }
        }
    }

    fn read_fixed(&mut self, count: u64, block_size: usize, buf: &mut [u8]) -> CdbResult {
        let mut transferred = 0usize;
        for done in 0..count {
            let left = count - done;
            match self.next_object()? {
                None => return Err(cc(blank_check(left)).with_transferred(transferred)),
                Some(Record::Filemark) => {
                    self.file.position += 1;
                    return Err(cc(filemark(left)).with_transferred(transferred));
                }
                Some(Record::Block(_)) => {
                    self.read_block_at_head()?;
                    let room = buf.len().saturating_sub(transferred).min(block_size);
                    let n = self.scratch.len().min(room);
                    buf[transferred..transferred + n].copy_from_slice(&self.scratch[..n]);
                    transferred += n;
                    if self.scratch.len() != block_size {
                        let s = sense(SenseKey::NoSense, 0, 0)
                            .with_ili()
                            .with_information(left);
                        return Err(cc(s).with_transferred(transferred));
                    }
                }
            }
        }
        Ok(Completion {
            transferred,
            residual: buf.len() - transferred,
        })
    }

    /// Check that `cost` more bytes fit: VOLUME OVERFLOW past the end;
    /// `Ok(true)` when the write lands in the early warning zone.
    fn check_space(&mut self, cost: u64, residual: u64) -> Result<bool, CheckCondition> {
        let used = self.used_at_head();
        let m = self.medium()?;
        let capacity = m.cartridge.capacity;
        let early_warning = capacity.saturating_sub(self.state.config.early_warning);
        if used + cost > capacity {
            // VOLUME OVERFLOW, END-OF-PARTITION/MEDIUM DETECTED.
            return Err(cc(sense(SenseKey::VolumeOverflow, 0x00, 0x02)
                .with_eom()
                .with_information(residual)));
        }
        Ok(used + cost > early_warning)
    }

    /// Prepare to write at the head: writing anywhere but at the end of
    /// data discards everything after (like tape).
    fn truncate_at_head(&mut self) -> Result<(), CheckCondition> {
        let pos = self.pos();
        let buffered = self.buffer.objects > 0;
        let m = self.medium()?;
        if !buffered && pos < m.image.len() {
            m.image.truncate(pos).map_err(image_write_failure)?;
        }
        Ok(())
    }

    /// After a write: drain a full buffer, then report early warning.
    fn finish_write(&mut self, early_warning: bool) -> Result<(), CheckCondition> {
        if self.buffer.bytes > WRITE_BUFFER_LIMIT {
            self.drain(false)?;
        }
        if early_warning {
            // NO SENSE, END-OF-PARTITION/MEDIUM DETECTED with EOM: success.
            return Err(cc(sense(SenseKey::NoSense, 0x00, 0x02)
                .with_eom()
                .with_information(0)));
        }
        Ok(())
    }

    /// WRITE(6) (opcode 0x0A, SSC-5 7.11).
    fn write(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?;
        let length = cdb.be24(2) as u64;
        let mode = self.transfer_mode(cdb.bit(1, 0))?;
        self.writable_medium()?;
        if length == 0 {
            return Ok(no_data());
        }
        let bytes = match mode {
            None if length > self.max_transfer() as u64 => return Err(invalid_field(2)),
            None => length,
            Some(bs) => length * bs as u64,
        };
        let payload: &[u8] = match data {
            DataDirection::ToDevice(buf) if buf.len() as u64 >= bytes => &buf[..bytes as usize],
            _ => return Err(invalid_field(2)),
        };
        if self.fired == Some(FaultKind::WriteError) {
            if let Some(m) = self.medium.as_mut() {
                m.info.write_errors += 1;
                m.info_dirty = true;
            }
            return Err(cc(write_error().with_information(length)));
        }
        let block_len = mode.map_or(bytes as usize, |bs| bs as usize).max(1);
        let encryption = self
            .file
            .settings
            .encryption
            .clone()
            .filter(|e| e.encryption_mode == encryption_mode::ENCRYPT);
        let overhead = match encryption {
            Some(_) => payload.len().div_ceil(block_len) as u64 * SEAL_OVERHEAD,
            None => 0,
        };
        let early_warning = self.check_space(bytes + overhead, length)?;
        self.truncate_at_head()?;
        if self.fired == Some(FaultKind::DeferredWriteError) && self.buffer.poison_at.is_none() {
            self.buffer.poison_at = Some(self.buffer.records.len());
        }
        let mut blocks = 0;
        for chunk in payload.chunks(block_len) {
            let (stored, info) = match &encryption {
                Some(enc) => {
                    let (sealed, key_fingerprint) = crypto::encrypt_block(enc, chunk)?;
                    let info = BlockInfo {
                        length: sealed.len() as u32,
                        encrypted: true,
                        key_fingerprint,
                    };
                    (sealed, info)
                }
                None => (chunk.to_vec(), BlockInfo::default()),
            };
            self.buffer.push_block(stored, info);
            blocks += 1;
        }
        self.file.position += blocks;
        if let Some(m) = self.medium.as_mut() {
            m.info.lifetime_bytes_written += bytes;
            m.info.last_load_bytes_written += bytes;
            m.info_dirty = true;
        }
        self.finish_write(early_warning)?;
        Ok(Completion {
            transferred: payload.len(),
            residual: 0,
        })
    }

    /// WRITE FILEMARKS(6) (opcode 0x10, SSC-5 7.12). Without IMMED the
    /// buffer is written to the medium and synced (the finish barrier's flush).
    fn write_filemarks(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?; // WMSM (setmarks) not supported
        let immed = cdb.bit(1, 0);
        let count = cdb.be24(2) as u64;
        if count > 0 {
            self.writable_medium()?;
        } else {
            self.medium()?;
        }
        let mut early_warning = false;
        if count > 0 {
            early_warning = self.check_space(count * FILEMARK_COST, count)?;
            self.truncate_at_head()?;
            self.buffer.push_filemarks(count);
            self.file.position += count;
        }
        if !immed {
            self.drain(true)?;
        }
        self.finish_write(early_warning)?;
        Ok(no_data())
    }

    /// SPACE(6) / SPACE(16) (opcodes 0x11 / 0x91, SSC-5 7.10 / 6.11).
    fn space(&mut self, code: u8, count: i64) -> CdbResult {
        if !matches!(code, SPACE_BLOCKS | SPACE_FILEMARKS | SPACE_EOD) {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(3)));
        }
        self.medium()?;
        self.drain(false)?;
        let pos = self.pos();
        let m = self.medium()?;
        let img = &m.image;
        let end = img.len();
        let (new_pos, outcome) = match code {
            SPACE_EOD => (end, Ok(())),
            SPACE_BLOCKS if count > 0 => {
                let c = count as u64;
                let target = pos.saturating_add(c);
                match img.filemark_index(img.filemarks_before(pos)) {
                    Some(f) if f < target => (f + 1, Err(filemark(c - (f - pos)))),
                    _ if target > end => (end, Err(blank_check(c - (end - pos)))),
                    _ => (target, Ok(())),
                }
            }
            SPACE_BLOCKS if count < 0 => {
                let c = count.unsigned_abs();
                let before = img.filemarks_before(pos);
                let prev_fm = before.checked_sub(1).and_then(|k| img.filemark_index(k));
                match prev_fm {
                    Some(f) if f + c >= pos => (f, Err(filemark(c - (pos - f - 1)))),
                    _ if c > pos => (0, Err(bot(c - pos))),
                    _ => (pos - c, Ok(())),
                }
            }
            SPACE_FILEMARKS if count > 0 => {
                let c = count as u64;
                let before = img.filemarks_before(pos);
                match img.filemark_index(before.saturating_add(c - 1)) {
                    Some(f) => (f + 1, Ok(())),
                    None => (end, Err(blank_check(c - (img.total_filemarks() - before)))),
                }
            }
            SPACE_FILEMARKS if count < 0 => {
                let c = count.unsigned_abs();
                let before = img.filemarks_before(pos);
                match before.checked_sub(c).and_then(|k| img.filemark_index(k)) {
                    Some(f) => (f, Ok(())),
                    None => (0, Err(bot(c - before))),
                }
            }
            _ => (pos, Ok(())),
        };
        self.file.position = new_pos;
        outcome.map(|_| no_data()).map_err(cc)
    }

    /// LOCATE(16) (opcode 0x92, SSC-5 6.5).
    fn locate16(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xc4)?;
        cdb.reserved(2, 0xfe)?; // BAM (bit 0) is accepted, it changes nothing here
        cdb.reserved_bytes(12..15)?;
        let change_partition = cdb.bit(1, 1);
        if change_partition && cdb.byte(3) != 0 {
            return Err(invalid_field(3));
        }
        let dest = (cdb.byte(1) >> 3) & 0x07;
        if !matches!(dest, DEST_OBJECT | DEST_FILE | DEST_EOD) {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(5)));
        }
        self.locate(dest, cdb.be64(4))
    }

    /// LOCATE(10) (opcode 0x2B, SSC-5 7.3): to a logical object.
    fn locate10(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xf8)?; // BT (bit 2) accepted: same address space
        cdb.reserved(2, 0xff)?;
        cdb.reserved(7, 0xff)?;
        if cdb.bit(1, 1) && cdb.byte(8) != 0 {
            return Err(invalid_field(8));
        }
        self.locate(DEST_OBJECT, cdb.be32(3) as u64)
    }

    fn locate(&mut self, dest: u8, id: u64) -> CdbResult {
        self.medium()?;
        self.drain(false)?;
        let m = self.medium()?;
        let end = m.image.len();
        let target = match dest {
            DEST_OBJECT => (id <= end).then_some(id),
            DEST_FILE if id == 0 => Some(0),
            DEST_FILE => m.image.filemark_index(id - 1).map(|f| f + 1),
            _ => Some(end),
        };
        match target {
            Some(p) => {
                self.file.position = p;
                Ok(no_data())
            }
            None => {
                self.file.position = end;
                Err(cc(sense(SenseKey::BlankCheck, 0x00, 0x05)))
            }
        }
    }

    /// READ POSITION (opcode 0x34, SSC-5 7.7): short (00h) and long (06h) form.
    fn read_position(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xe0)?;
        cdb.reserved_bytes(2..7)?;
        let action = cdb.byte(1) & 0x1f;
        let alloc = cdb.be16(7) as usize;
        self.medium()?;
        let pos = self.pos();
        let used = self.used_at_head();
        let buffered = (self.buffer.objects, self.buffer.bytes);
        let capacity_ew = {
            let m = self.medium()?;
            m.cartridge
                .capacity
                .saturating_sub(self.state.config.early_warning)
        };
        let m = self.medium()?;
        let mut flags = 0;
        if pos == 0 {
            flags |= POS_BOP;
        }
        if used > capacity_ew {
            flags |= POS_EOP;
        }
        match action {
            RP_SHORT => {
                let first = u32::try_from(pos).unwrap_or(u32::MAX);
                let last = u32::try_from(m.image.len().min(pos)).unwrap_or(u32::MAX);
                let objs = buffered.0.min(0xff_ffff) as u32;
                let reply = ShortPositionData {
                    flags,
                    partition: 0,
                    reserved: [0; 2],
                    first_location: U32::new(first),
                    last_location: U32::new(last),
                    reserved2: 0,
                    objects_in_buffer: [(objs >> 16) as u8, (objs >> 8) as u8, objs as u8],
                    bytes_in_buffer: U32::new(u32::try_from(buffered.1).unwrap_or(u32::MAX)),
                };
                let alloc = if alloc == 0 { 20 } else { alloc };
                Ok(common::respond(data, reply.as_bytes(), alloc))
            }
            RP_LONG => {
                let file = m.image.filemarks_before(pos.min(m.image.len())) + self.buffer.filemarks;
                let reply = LongPositionData {
                    flags,
                    reserved: [0; 3],
                    partition: U32::new(0),
                    logical_object: U64::new(pos),
                    logical_file: U64::new(file),
                    logical_set: U64::new(0),
                };
                let alloc = if alloc == 0 { 32 } else { alloc };
                Ok(common::respond(data, reply.as_bytes(), alloc))
            }
            _ => Err(CheckCondition::invalid_field_in_cdb(1, Some(4))),
        }
    }

    /// ERASE(6) (opcode 0x19, SSC-5 6.2): short writes EOD at the head,
    /// long erases to the end of the medium; both discard what follows.
    fn erase(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        cdb.reserved_bytes(2..5)?;
        self.writable_medium()?;
        self.drain(false)?;
        let pos = self.pos();
        let m = self.writable_medium()?;
        m.image.truncate(pos).map_err(image_write_failure)?;
        m.image.sync().map_err(image_write_failure)?;
        Ok(no_data())
    }

    /// FORMAT MEDIUM (opcode 0x04, SSC-5 6.3): only the default format
    /// (single partition); erases the whole cartridge.
    fn format_medium(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        cdb.reserved(2, 0xff)?; // FORMAT field: only 0 (default format)
        if cdb.be16(3) != 0 {
            return Err(invalid_field(3));
        }
        self.writable_medium()?;
        self.buffer.clear();
        let m = self.writable_medium()?;
        m.image.truncate(0).map_err(image_write_failure)?;
        m.image.sync().map_err(image_write_failure)?;
        m.info.initialization_count += 1;
        m.info_dirty = true;
        self.file.position = 0;
        Ok(no_data())
    }

    /// LOAD UNLOAD (opcode 0x1B, SSC-5 7.2).
    fn load_unload(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?;
        cdb.reserved_bytes(2..4)?;
        cdb.reserved(4, 0xf0)?;
        let load = cdb.bit(4, 0);
        let eot = cdb.bit(4, 2);
        let hold = cdb.bit(4, 3);
        if load && eot {
            return Err(CheckCondition::invalid_field_in_cdb(4, Some(2)));
        }
        let bay = self
            .state
            .drives
            .get(self.index)
            .cloned()
            .ok_or_else(|| common::internal_failure("drive bay missing"))?;
        if load {
            let Some(barcode) = bay.cartridge.clone() else {
                return Err(CheckCondition::medium_not_present());
            };
            if !bay.loaded {
                self.update_bay(|bay| bay.loaded = true)?;
                self.lib
                    .count_load(&barcode)
                    .map_err(common::internal_failure)?;
                self.file.barcode = Some(barcode);
                self.sync_medium().map_err(common::internal_failure)?;
            } else {
                self.drain(false)?;
            }
            self.file.position = 0;
            return Ok(no_data());
        }
        if bay.cartridge.is_none() {
            return Err(CheckCondition::medium_not_present());
        }
        if bay.removal_prevented && !hold {
            // ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED.
            return Err(cc(sense(SenseKey::IllegalRequest, 0x53, 0x02)));
        }
        let drained = self.drain(true);
        self.file.position = 0;
        if !hold && bay.loaded {
            // CKOD: the key goes with the medium.
            if self
                .file
                .settings
                .encryption
                .as_ref()
                .is_some_and(|e| e.clear_key_on_demount)
            {
                self.file.settings.encryption = None;
            }
            self.close_medium().map_err(common::internal_failure)?;
            self.update_bay(|bay| bay.loaded = false)?;
            self.sync_medium().map_err(common::internal_failure)?;
        }
        drained.map(|_| no_data())
    }

    /// PREVENT ALLOW MEDIUM REMOVAL (opcode 0x1E, SSC-5 6.7).
    fn prevent_allow(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved_bytes(1..4)?;
        cdb.reserved(4, 0xfc)?;
        let prevent = match cdb.byte(4) & 0x03 {
            0 => false,
            1 => true,
            _ => return Err(CheckCondition::invalid_field_in_cdb(4, Some(1))),
        };
        self.update_bay(|bay| bay.removal_prevented = prevent)?;
        Ok(no_data())
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

/// NO SENSE, FILEMARK DETECTED (00/0001) with the FILEMARK bit.
fn filemark(residual: u64) -> SenseData {
    sense(SenseKey::NoSense, 0x00, 0x01)
        .with_filemark()
        .with_information(residual)
}

/// BLANK CHECK, END-OF-DATA DETECTED (08/0005).
fn blank_check(residual: u64) -> SenseData {
    sense(SenseKey::BlankCheck, 0x00, 0x05).with_information(residual)
}

/// NO SENSE, BEGINNING-OF-PARTITION/MEDIUM DETECTED (00/0004) with EOM.
fn bot(residual: u64) -> SenseData {
    sense(SenseKey::NoSense, 0x00, 0x04)
        .with_eom()
        .with_information(residual)
}
