//! [`LtoDrive`]: one LTO tape drive (SSC) over any [`ScsiTransport`].
//!
//! Every method issues the commands of [`super::cdb`] and interprets the
//! outcome with [`super::stream_events`]; no CDB bytes live here.
//!
//! ```no_run
//! use pbs_tape::drive::{LtoDrive, ReadEvent};
//!
//! let mut drive = LtoDrive::open("/dev/tape/by-id/scsi-HUJ1234567-sg")?;
//! drive.rewind()?;
//! drive.set_variable_block_mode()?;
//! drive.write_block(b"hello tape")?;
//! drive.write_filemarks(1, false)?;
//! drive.rewind()?;
//! let mut buf = vec![0u8; drive.max_block_size()];
//! assert_eq!(drive.read_block(&mut buf)?, ReadEvent::Block(10));
//! # Ok::<(), pbs_tape::drive::DriveError>(())
//! ```

use std::time::{Duration, Instant};

use crate::scsi::discovery::PERIPHERAL_TYPE_TAPE;
use crate::scsi::{
    spc, timeout_for, Completion, DataDirection, ScsiError, ScsiTransport, SenseData, SenseKey,
    UnitAttentionRetry,
};

use super::cdb::{self, LoadAction, LocateDest, SpaceCode};
use super::error::{SpaceStop, SpaceUnit};
use super::limits::BlockLimits;
use super::mode_pages;
use super::position::{Position, PositionForm};
use super::status::{drive_status, DriveStatus};
use super::stream_events::{interpret_read, interpret_space, interpret_write};
use super::{DriveError, ReadEvent, WriteStatus};

/// How long a drive may legitimately stay "becoming ready" after a load:
/// the first load of an LTO-9 cartridge (media optimization) takes 40-130 min.
pub const MAX_BECOMING_READY: Duration = Duration::from_secs(2 * 3600 + 30 * 60);

/// How often [`LtoDrive::wait_until_ready`] asks the drive.
pub const READY_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What INQUIRY and VPD page 0x80 say about the drive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DriveIdentity {
    pub vendor: String,
    pub product: String,
    pub revision: String,
    /// Unit serial number (VPD 0x80), when the drive reports one.
    pub serial: Option<String>,
}

/// Drive settings to change (`pmt options`); `None` leaves a setting as is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriveOptions {
    /// Block size in the mode block descriptor; 0 = variable-block mode.
    pub block_size: Option<u32>,
    /// Data compression (mode page 0x0F DCE).
    pub compression: Option<bool>,
    /// Buffered mode (mode parameter header, 0..=7; 1 = buffered).
    pub buffer_mode: Option<u8>,
}

impl DriveOptions {
    /// What tape software wants: variable-block mode, compression on,
    /// buffered mode 1.
    pub const DEFAULTS: DriveOptions = DriveOptions {
        block_size: Some(0),
        compression: Some(true),
        buffer_mode: Some(1),
    };
}

/// One LTO tape drive.
///
/// The drive owns its unit attention policy ([`UnitAttentionRetry`]):
/// between [`LtoDrive::begin_write_session`] and
/// [`LtoDrive::end_write_session`] a reset or medium change poisons the
/// session and every command that depends on the tape position fails with
/// [`ScsiError::PositionLost`] until a new session starts.
pub struct LtoDrive {
    transport: UnitAttentionRetry<Box<dyn ScsiTransport>>,
    path: String,
    identity: DriveIdentity,
    limits: Option<BlockLimits>,
    /// The READ POSITION form the drive answers; `Short` once it rejected
    /// the long form, so the long form is not asked again.
    position_form: Option<PositionForm>,
    /// The tape file the head is in, as counted from the commands this
    /// handle sent since the last point where it was known (BOP, a
    /// located file, a long-form READ POSITION); `None` when unknown. It
    /// supplies the file number a short-form READ POSITION lacks.
    file_count: Option<u64>,
    /// Set by [`LtoDrive::prevent_removal_until_drop`]: this handle issued
    /// PREVENT MEDIUM REMOVAL and allows removal again when dropped.
    allow_removal_on_drop: bool,
}

impl Drop for LtoDrive {
    fn drop(&mut self) {
        if self.allow_removal_on_drop {
            if let Err(e) = self.unlock() {
                tracing::warn!(
                    "{}: could not allow medium removal again: {e}; \
                     `pmt -f {} unlock` does it",
                    self.path,
                    self.path
                );
            }
        }
    }
}

impl std::fmt::Debug for LtoDrive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LtoDrive")
            .field("path", &self.path)
            .field("identity", &self.identity)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl LtoDrive {
    /// Open the drive at `path` (sg node, `/dev/nstN`, `/dev/tape/by-id/...`
    /// or an emulated `DIR/driveN`): INQUIRY (must be a tape drive), unit
    /// serial number, READ BLOCK LIMITS.
    pub fn open(path: &str) -> Result<LtoDrive, DriveError> {
        Self::open_with(path, false)
    }

    /// [`LtoDrive::open`] for a command that writes at the current position
    /// (`pmt write`, `weof`, `erase`): the writing session starts before the
    /// first command that can report a unit attention, so a reset or
    /// medium change since the last command makes it fail instead of
    /// writing at BOT or on another cartridge.
    pub fn open_for_writing(path: &str) -> Result<LtoDrive, DriveError> {
        Self::open_with(path, true)
    }

    fn open_with(path: &str, write_session: bool) -> Result<LtoDrive, DriveError> {
        let transport = crate::device::open_device(path).map_err(|e| DriveError::Open {
            device: path.to_string(),
            source: e,
        })?;
        Self::from_transport_with(transport, write_session)
    }

    /// Use an already opened transport (see [`LtoDrive::open`]). Pass the
    /// device itself ([`crate::device::open_device`]): the drive wraps it in
    /// its own [`UnitAttentionRetry`].
    pub fn from_transport(transport: Box<dyn ScsiTransport>) -> Result<LtoDrive, DriveError> {
        Self::from_transport_with(transport, false)
    }

    fn from_transport_with(
        transport: Box<dyn ScsiTransport>,
        write_session: bool,
    ) -> Result<LtoDrive, DriveError> {
        let mut transport = UnitAttentionRetry::new(transport);
        if write_session {
            transport.begin_write_session();
        }
        let path = transport.path().to_string();
        let inquiry = spc::inquiry(&mut transport)
            .map_err(|e| DriveError::from_scsi("INQUIRY", None, &path, e))?;
        if inquiry.peripheral_type != PERIPHERAL_TYPE_TAPE {
            return Err(DriveError::NotATapeDrive {
                device: path,
                peripheral_type: inquiry.peripheral_type,
            });
        }
        // VPD 0x80 is optional for SSC devices: a device that refuses the
        // page (ILLEGAL REQUEST) has no serial, which is not an error. Any
        // other failure (timeout, transport error) is: the device may be wedged.
        let serial = match spc::unit_serial_number(&mut transport) {
            Ok(serial) => Some(serial).filter(|s| !s.is_empty()),
            Err(err) if err.sense().is_some_and(|s| s.is_unsupported_request()) => None,
            Err(ScsiError::InvalidResponse { .. }) => None,
            Err(err) => return Err(DriveError::from_scsi("INQUIRY", None, &path, err)),
        };
        let mut drive = LtoDrive {
            transport,
            path,
            identity: DriveIdentity {
                vendor: inquiry.vendor,
                product: inquiry.product,
                revision: inquiry.revision,
                serial,
            },
            limits: None,
            allow_removal_on_drop: false,
            position_form: None,
            file_count: None,
        };
        drive.read_block_limits()?;
        Ok(drive)
    }

    /// The device path as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Vendor, product, revision and serial number.
    pub fn identity(&self) -> &DriveIdentity {
        &self.identity
    }

    /// READ BLOCK LIMITS as read at open (or at the last load).
    pub fn block_limits(&self) -> Option<BlockLimits> {
        self.limits
    }

    /// The largest block this drive accepts through this path: the
    /// smaller of READ BLOCK LIMITS' maximum and the transport's transfer limit.
    pub fn max_block_size(&self) -> usize {
        let max_transfer = self.transport.max_transfer();
        match self.limits {
            Some(limits) => limits.largest_block(max_transfer),
            None => max_transfer.min(cdb::MAX_TRANSFER_LENGTH_6 as usize),
        }
    }

    /// The transport, for the information-page modules (MAM, LOG, MODE, ...).
    pub fn transport(&mut self) -> &mut dyn ScsiTransport {
        &mut self.transport
    }

    /// Transport and device path at once (both borrowed), for the
    /// information-page functions that take `(transport, device)`.
    pub fn transport_and_path(&mut self) -> (&mut dyn ScsiTransport, &str) {
        (&mut self.transport, &self.path)
    }

    /// Starts a writing session: from now on a reset or medium change
    /// (UNIT ATTENTION 29/xx, 28/00) the drive reports makes every command
    /// that depends on the tape position fail with
    /// [`ScsiError::PositionLost`] (nothing is re-issued at a position that
    /// may be BOT or another cartridge). Call it before proving the position
    /// the session writes at (label check, LOCATE, READ POSITION); a
    /// poisoned session starts over.
    pub fn begin_write_session(&mut self) {
        self.transport.begin_write_session();
    }

    /// Ends the writing session (unit attentions are retried again).
    pub fn end_write_session(&mut self) {
        self.transport.end_write_session();
    }

    /// The reset or medium change that poisoned the writing session.
    pub fn position_lost(&self) -> Option<&SenseData> {
        self.transport.position_lost()
    }

    /// Issue one CDB; returns the raw transport result for interpretation.
    fn exec(&mut self, cdb: &[u8], data: DataDirection<'_>) -> Result<Completion, ScsiError> {
        self.transport.execute(cdb, data, timeout_for(cdb))
    }

    /// Issue one CDB without data phase; failures classified by
    /// [`DriveError::from_scsi`] (`feature`: what is unsupported on 05/20xx, 05/24xx).
    fn simple(
        &mut self,
        command: &'static str,
        feature: Option<&str>,
        cdb: &[u8],
    ) -> Result<(), DriveError> {
        self.exec(cdb, DataDirection::None)
            .map(|_| ())
            .map_err(|e| DriveError::from_scsi(command, feature, &self.path, e))
    }

    /// READ BLOCK LIMITS (SSC-5 7.6); remembered for [`Self::max_block_size`].
    /// A drive that cannot answer while not ready (no cartridge, loading)
    /// leaves the limits unknown (the path limit applies) until the next
    /// load, read or write.
    fn read_block_limits(&mut self) -> Result<(), DriveError> {
        let cdb = cdb::read_block_limits();
        let mut buf = [0u8; cdb::READ_BLOCK_LIMITS_LEN];
        match self.exec(&cdb, DataDirection::FromDevice(&mut buf)) {
            Ok(done) => {
                let limits = BlockLimits::decode(&buf[..done.transferred.min(buf.len())]).map_err(
                    |message| DriveError::Decode {
                        what: "READ BLOCK LIMITS data",
                        device: self.path.clone(),
                        message,
                    },
                )?;
                self.limits = Some(limits);
                Ok(())
            }
            // No cartridge, or one still loading: ask again later.
            Err(e) if e.sense().is_some_and(|s| s.key == SenseKey::NotReady) => Ok(()),
            Err(e) => Err(DriveError::from_scsi(
                "READ BLOCK LIMITS",
                None,
                &self.path,
                e,
            )),
        }
    }

    /// Read the block limits if they are still unknown (the drive was not
    /// ready at open and the cartridge was loaded by someone else).
    fn ensure_block_limits(&mut self) -> Result<(), DriveError> {
        if self.limits.is_none() {
            self.read_block_limits()?;
        }
        Ok(())
    }

    /// TEST UNIT READY (SPC-5 6.47): `Ok(())` when a medium is loaded and ready.
    pub fn test_unit_ready(&mut self) -> Result<(), DriveError> {
        spc::test_unit_ready(&mut self.transport)
            .map_err(|e| DriveError::from_scsi("TEST UNIT READY", None, &self.path, e))
    }

    /// Wait until a loaded cartridge is ready: TEST UNIT READY every
    /// [`READY_POLL_INTERVAL`] while the drive reports NOT READY, BECOMING
    /// READY (02/0401: loading, calibrating; the first load of an LTO-9
    /// cartridge can take up to two hours). No cartridge, or any other
    /// error, returns at once; still becoming ready after `timeout` is
    /// [`DriveError::NotReadyTimeout`].
    pub fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), DriveError> {
        self.wait_until_ready_polling(timeout, READY_POLL_INTERVAL)
    }

    fn wait_until_ready_polling(
        &mut self,
        timeout: Duration,
        interval: Duration,
    ) -> Result<(), DriveError> {
        let start = Instant::now();
        loop {
            match self.test_unit_ready() {
                Err(DriveError::Scsi { source, .. })
                    if source
                        .sense()
                        .is_some_and(|s| s.is(SenseKey::NotReady, 0x04, 0x01)) =>
                {
                    if start.elapsed() >= timeout {
                        return Err(DriveError::NotReadyTimeout {
                            device: self.path.clone(),
                            waited: start.elapsed(),
                        });
                    }
                    std::thread::sleep(interval);
                }
                other => return other,
            }
        }
    }

    /// Write one variable-length block (WRITE(6), SSC-5 7.11). A block
    /// larger than [`Self::max_block_size`] is refused before any CDB.
    /// Early warning is [`WriteStatus::EarlyWarning`] (the block was
    /// written); VOLUME OVERFLOW is [`DriveError::EndOfMedium`].
    pub fn write_block(&mut self, data: &[u8]) -> Result<WriteStatus, DriveError> {
        self.ensure_block_limits()?;
        let max = self.max_block_size();
        if data.len() > max {
            return Err(DriveError::BlockTooLarge {
                len: data.len(),
                max,
                device: self.path.clone(),
            });
        }
        if data.is_empty() {
            return Err(DriveError::InvalidArgument(
                "cannot write an empty block (use write_filemarks for a filemark)".into(),
            ));
        }
        let cdb = cdb::write6(data.len() as u32);
        let result = self.exec(&cdb, DataDirection::ToDevice(data));
        interpret_write("WRITE(6)", &self.path, result).map_err(|e| self.with_block_position(e))
    }

    /// A medium or hardware error of a READ or WRITE, with the block the
    /// drive stands at afterwards (READ POSITION; best effort: the error
    /// is returned as it is when the position cannot be read).
    fn with_block_position(&mut self, err: DriveError) -> DriveError {
        let data_error = matches!(&err, DriveError::Scsi { source, .. }
            if source.sense().is_some_and(|s| matches!(s.key, SenseKey::MediumError | SenseKey::HardwareError)));
        if !data_error {
            return err;
        }
        match self.read_position() {
            Ok(p) => DriveError::AtBlock {
                block: p.logical_object,
                file: p.file_number,
                source: Box::new(err),
            },
            Err(_) => err,
        }
    }

    /// Read the next block into `buf` (READ(6), variable-block mode, SILI=0).
    /// A shorter block is `Block(actual length)`; a block longer than `buf`
    /// is [`DriveError::BlockLargerThanBuffer`]; a filemark or end of data
    /// are events; a medium error is an error, never end of data.
    pub fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadEvent, DriveError> {
        self.ensure_block_limits()?;
        let len = buf.len().min(self.max_block_size());
        if len == 0 {
            return Err(DriveError::InvalidArgument(
                "cannot read into an empty buffer".into(),
            ));
        }
        let cdb = cdb::read6(len as u32);
        let result = self.exec(&cdb, DataDirection::FromDevice(&mut buf[..len]));
        let event =
            interpret_read(&self.path, len, result).map_err(|e| self.with_block_position(e));
        match &event {
            Ok(ReadEvent::Filemark) => {
                self.file_count = self.file_count.and_then(|f| f.checked_add(1))
            }
            Ok(_) => {}
            Err(_) => self.file_count = None,
        }
        event
    }

    /// WRITE FILEMARKS(6) (SSC-5 7.12): `count` filemarks; with
    /// `immediate` the drive returns before they reach the medium.
    pub fn write_filemarks(
        &mut self,
        count: u32,
        immediate: bool,
    ) -> Result<WriteStatus, DriveError> {
        if count > cdb::MAX_TRANSFER_LENGTH_6 {
            return Err(DriveError::InvalidArgument(format!(
                "cannot write {count} filemarks at once (at most {})",
                cdb::MAX_TRANSFER_LENGTH_6
            )));
        }
        let cdb = cdb::write_filemarks6(count, immediate);
        let result = self.exec(&cdb, DataDirection::None);
        let status = interpret_write("WRITE FILEMARKS(6)", &self.path, result);
        self.file_count = match &status {
            Ok(_) => self
                .file_count
                .and_then(|f| f.checked_add(u64::from(count))),
            Err(_) => None,
        };
        status
    }

    /// Flush the drive buffer to the medium (WRITE FILEMARKS count 0,
    /// IMMED=0). Errors of earlier buffered writes (deferred sense,
    /// response code 0x71) surface here as `Err`.
    pub fn flush(&mut self) -> Result<(), DriveError> {
        self.write_filemarks(0, false).map(|_| ())
    }

    /// READ POSITION (SSC-5 7.7): the long form, or the short form on a
    /// drive that rejects the long one (05/24/00; remembered for this
    /// handle). A position the drive flags as unknown, or data that is not
    /// the form asked for, is an error. A long-form answer (or BOP) also
    /// sets the file count [`Self::tracked_file_number`] uses.
    pub fn read_position(&mut self) -> Result<Position, DriveError> {
        if self.position_form != Some(PositionForm::Short) {
            match self.read_position_form(PositionForm::Long) {
                Err(DriveError::NotSupported { source, .. })
                    if source
                        .sense()
                        .is_some_and(|s| s.is(SenseKey::IllegalRequest, 0x24, 0x00)) =>
                {
                    tracing::debug!(
                        path = self.path,
                        "READ POSITION long form rejected: short form"
                    );
                    self.position_form = Some(PositionForm::Short);
                }
                other => return other,
            }
        }
        self.read_position_form(PositionForm::Short)
    }

    fn read_position_form(&mut self, form: PositionForm) -> Result<Position, DriveError> {
        let (cdb, len, feature) = match form {
            PositionForm::Long => (
                cdb::read_position_long(),
                cdb::READ_POSITION_LONG_LEN,
                "READ POSITION long form",
            ),
            PositionForm::Short => (
                cdb::read_position_short(),
                cdb::READ_POSITION_SHORT_LEN,
                "READ POSITION",
            ),
        };
        let mut buf = [0u8; cdb::READ_POSITION_LONG_LEN];
        let done = self
            .exec(&cdb, DataDirection::FromDevice(&mut buf[..len]))
            .map_err(|e| DriveError::from_scsi("READ POSITION", Some(feature), &self.path, e))?;
        let data = &buf[..done.transferred.min(len)];
        let decoded = match form {
            PositionForm::Long => Position::decode_long(data),
            PositionForm::Short => Position::decode_short(data),
        };
        let pos = decoded.map_err(|e| DriveError::PositionUnknown {
            device: self.path.clone(),
            reason: e.to_string(),
        })?;
        self.position_form = Some(form);
        if pos.file_number.is_some() {
            self.file_count = pos.file_number;
        }
        Ok(pos)
    }

    /// The READ POSITION form the drive gave last (`None` before the first).
    pub fn position_form(&self) -> Option<PositionForm> {
        self.position_form
    }

    /// The tape file the head is in, as far as this handle knows: from the
    /// last long-form READ POSITION or BOP, plus the filemarks written,
    /// read and spaced over since (st counts the same way for `mt status`).
    /// `None` after anything that moves the tape by an unknown number of
    /// files (SPACE to end of data, LOCATE to a logical object, an error).
    pub fn tracked_file_number(&self) -> Option<u64> {
        self.file_count
    }

    /// REWIND (SSC-5 7.9) to the beginning of the partition.
    pub fn rewind(&mut self) -> Result<(), DriveError> {
        let result = self.simple("REWIND", None, &cdb::rewind());
        self.file_count = result.as_ref().ok().map(|()| 0);
        result
    }

    fn space(&mut self, unit: SpaceUnit, count: i64) -> Result<(), DriveError> {
        if count == 0 {
            return Ok(());
        }
        let code = match unit {
            SpaceUnit::Blocks => SpaceCode::Blocks,
            SpaceUnit::Filemarks => SpaceCode::Filemarks,
        };
        let result = if cdb::SPACE6_COUNT_RANGE.contains(&count) {
            let cdb = cdb::space6(code, count as i32);
            let result = self.exec(&cdb, DataDirection::None);
            interpret_space("SPACE(6)", &self.path, unit, count, result)
        } else {
            let cdb = cdb::space16(code, count);
            let result = self.exec(&cdb, DataDirection::None);
            interpret_space("SPACE(16)", &self.path, unit, count, result)
        };
        // Forward over n filemarks: n more before the head; backward the
        // head stops on the BOP side of the n-th: n fewer.
        self.file_count = match (&result, unit) {
            (Ok(()), SpaceUnit::Filemarks) => {
                self.file_count.and_then(|f| f.checked_add_signed(count))
            }
            (Ok(()), SpaceUnit::Blocks) => self.file_count,
            (Err(_), _) => None,
        };
        result
    }

    /// SPACE over `count` filemarks (negative: backwards). Forward the head
    /// ends after the last filemark, backward before it (mt `fsf`/`bsf`).
    pub fn space_filemarks(&mut self, count: i64) -> Result<(), DriveError> {
        self.space(SpaceUnit::Filemarks, count)
    }

    /// SPACE over `count` blocks (negative: backwards). A filemark, end of
    /// data or BOP on the way stops it with [`DriveError::SpaceStopped`].
    pub fn space_blocks(&mut self, count: i64) -> Result<(), DriveError> {
        self.space(SpaceUnit::Blocks, count)
    }

    /// mt `fsfm`/`bsfm`: space `count` filemarks, then one back the other
    /// way, so the head ends on the far side of the last filemark
    /// (forward: at the end of the previous file; backward: at the start of
    /// the next file).
    pub fn space_filemarks_other_side(&mut self, count: i64) -> Result<(), DriveError> {
        if count == 0 {
            return Ok(());
        }
        self.space_filemarks(count)?;
        self.space_filemarks(-count.signum())
    }

    /// SPACE to end of data (SPACE(6) code 011b): the place to append.
    /// On a drive known to answer only the short form of READ POSITION
    /// (no file number), end of data is reached by spacing over filemarks
    /// instead, from a known file (or BOT), so the file number at end of
    /// data stays known (see [`Self::tracked_file_number`]).
    pub fn move_to_eod(&mut self) -> Result<(), DriveError> {
        if self.position_form == Some(PositionForm::Short) {
            return self.space_filemarks_to_eod();
        }
        self.file_count = None;
        self.simple(
            "SPACE(6) to end of data",
            None,
            &cdb::space6(SpaceCode::EndOfData, 0),
        )
    }

    /// SPACE over filemarks until end of data: the drive reports BLANK
    /// CHECK with the count it did not space in INFORMATION (SSC-5 7.10),
    /// so the filemarks crossed are known. Without that count the file
    /// number is unknown afterwards.
    fn space_filemarks_to_eod(&mut self) -> Result<(), DriveError> {
        if self.file_count.is_none() {
            self.rewind()?;
        }
        let step = *cdb::SPACE6_COUNT_RANGE.end();
        loop {
            let start = self.file_count;
            match self.space_filemarks(step) {
                Ok(()) => {}
                Err(DriveError::SpaceStopped { shortfall, .. })
                    if shortfall.stop == SpaceStop::EndOfData =>
                {
                    self.file_count = start
                        .zip(shortfall.done)
                        .and_then(|(f, d)| f.checked_add(d));
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// LOCATE(16) (SSC-5 6.5) to a logical object (blocks and filemarks
    /// counted from BOP), as [`Position::logical_object`] reports it; the
    /// position is read back (see [`Self::check_landed`]).
    pub fn locate(&mut self, logical_object: u64) -> Result<(), DriveError> {
        let result = self.simple(
            "LOCATE(16)",
            Some("LOCATE(16)"),
            &cdb::locate16(LocateDest::Object, logical_object),
        );
        self.file_count = (result.is_ok() && logical_object == 0).then_some(0);
        result?;
        self.check_landed(
            |p| p.logical_object == logical_object,
            || format!("logical object {logical_object}"),
        )
    }

    /// Position at the start of tape file `file_number` (0 = BOP), i.e.
    /// after filemark `file_number`: LOCATE(16) to the filemark before it
    /// (destination type file) and space over it; drives without that
    /// LOCATE form, or that land elsewhere (vendors differ in counting),
    /// get rewind + space filemarks. The result is checked with READ
    /// POSITION; a drive with only the short form (no file number to
    /// check) always gets rewind + space filemarks.
    pub fn locate_file(&mut self, file_number: u64) -> Result<(), DriveError> {
        if file_number == 0 {
            return self.rewind();
        }
        let count = i64::try_from(file_number).map_err(|_| {
            DriveError::InvalidArgument(format!("file number {file_number} is out of range"))
        })?;
        if self.position_form != Some(PositionForm::Short) {
            self.file_count = None;
            let located = self
                .simple(
                    "LOCATE(16)",
                    Some("LOCATE(16) to a logical file"),
                    &cdb::locate16(LocateDest::File, file_number - 1),
                )
                .and_then(|()| self.space_filemarks(1))
                .and_then(|()| self.read_position());
            match located {
                Ok(pos) if pos.file_number == Some(file_number) => return Ok(()),
                // Landed elsewhere (vendors count files differently), ran
                // into end of data, no LOCATE to files, or no file number
                // to check it by: count filemarks from BOT.
                Ok(_)
                | Err(DriveError::NotSupported { .. })
                | Err(DriveError::SpaceStopped { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.rewind()?;
        self.space_filemarks(count)?;
        // The short form has no file number to check (the count since
        // BOT is all there is).
        self.check_landed(
            |p| p.file_number.is_none_or(|f| f == file_number),
            || format!("tape file {file_number}"),
        )
    }

    /// Reads the position back after a positioning: landing where `ok`
    /// does not hold is [`DriveError::Misplaced`]. A drive that cannot
    /// report its position (no long form, position flagged unknown) is
    /// taken at its word here; callers that write prove the position
    /// themselves.
    fn check_landed(
        &mut self,
        ok: impl FnOnce(&Position) -> bool,
        wanted: impl FnOnce() -> String,
    ) -> Result<(), DriveError> {
        match self.read_position() {
            Ok(pos) if ok(&pos) => Ok(()),
            Ok(pos) => Err(DriveError::Misplaced {
                device: self.path.clone(),
                wanted: wanted(),
                file: pos.file_number,
                logical_object: pos.logical_object,
            }),
            Err(DriveError::NotSupported { .. } | DriveError::PositionUnknown { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// LOAD UNLOAD with LOAD=1 (SSC-5 7.2): thread the cartridge, position
    /// at BOP. Block limits are read again.
    pub fn load(&mut self) -> Result<(), DriveError> {
        self.file_count = None;
        self.simple("LOAD UNLOAD", None, &cdb::load_unload(LoadAction::Load))?;
        self.file_count = Some(0);
        self.read_block_limits()
    }

    /// LOAD UNLOAD with LOAD=0, HOLD=0 (SSC-5 7.2): rewind and unthread; a
    /// library's changer may then take the cartridge.
    pub fn unload(&mut self) -> Result<(), DriveError> {
        self.file_count = None;
        self.simple("LOAD UNLOAD", None, &cdb::load_unload(LoadAction::Unload))
    }

    /// Allow medium removal, then unload (mt `eject`/`offline`).
    pub fn eject(&mut self) -> Result<(), DriveError> {
        self.unlock()?;
        self.unload()
    }

    /// ERASE (SSC-5 6.2) from the current position: `long = false` writes
    /// end of data here (seconds); `long = true` erases to the end of the
    /// partition (hours).
    pub fn erase(&mut self, long: bool) -> Result<(), DriveError> {
        self.simple("ERASE", Some("ERASE"), &cdb::erase(long))
    }

    /// Make the cartridge empty, one partition: rewind, FORMAT MEDIUM
    /// (SSC-5 6.3; LTO-5 and later), or a short erase at BOP when the drive
    /// lacks FORMAT MEDIUM. Without `fast`, a long erase follows (hours).
    pub fn format(&mut self, fast: bool) -> Result<(), DriveError> {
        self.rewind()?;
        match self.simple(
            "FORMAT MEDIUM",
            Some("FORMAT MEDIUM"),
            &cdb::format_medium(),
        ) {
            Ok(()) => {}
            Err(DriveError::NotSupported { .. }) => {
                self.rewind()?;
                self.erase(false).map_err(|e| match e {
                    DriveError::NotSupported { device, source, .. } => DriveError::NotSupported {
                        feature: "FORMAT MEDIUM (and ERASE, its fallback)".into(),
                        device,
                        source,
                    },
                    other => other,
                })?;
            }
            Err(e) => return Err(e),
        }
        if !fast {
            self.rewind()?;
            self.erase(true)?;
        }
        self.rewind()
    }

    /// PREVENT ALLOW MEDIUM REMOVAL with PREVENT=1: the cartridge cannot be
    /// ejected (by button or changer) until [`Self::unlock`].
    pub fn lock(&mut self) -> Result<(), DriveError> {
        self.simple(
            "PREVENT ALLOW MEDIUM REMOVAL",
            Some("PREVENT ALLOW MEDIUM REMOVAL"),
            &cdb::prevent_allow_medium_removal(true),
        )
    }

    /// PREVENT ALLOW MEDIUM REMOVAL with PREVENT=0.
    pub fn unlock(&mut self) -> Result<(), DriveError> {
        self.allow_removal_on_drop = false;
        self.simple(
            "PREVENT ALLOW MEDIUM REMOVAL",
            Some("PREVENT ALLOW MEDIUM REMOVAL"),
            &cdb::prevent_allow_medium_removal(false),
        )
    }

    /// PREVENT MEDIUM REMOVAL (SPC-5 6.17, opcode 0x1E, PREVENT=01b) for as
    /// long as this handle lives: [`Self::unlock`] ends it explicitly, and
    /// dropping the handle on any other path (an error, a panic unwinding)
    /// sends PREVENT=0. A job holds it while its cartridge is loaded, so
    /// neither the eject button nor another program's changer command takes
    /// the tape away mid-job (the changer then gets 05/53/02, MEDIUM
    /// REMOVAL PREVENTED).
    pub fn prevent_removal_until_drop(&mut self) -> Result<(), DriveError> {
        self.lock()?;
        self.allow_removal_on_drop = true;
        Ok(())
    }

    /// True while this handle holds PREVENT MEDIUM REMOVAL it will release
    /// on drop ([`Self::prevent_removal_until_drop`]).
    pub fn prevents_removal(&self) -> bool {
        self.allow_removal_on_drop
    }

    /// Everything `pmt status` shows, without moving the tape; no cartridge
    /// is a state in the result, not an error.
    pub fn status(&mut self) -> Result<DriveStatus, DriveError> {
        drive_status(self)
    }

    /// Block size 0 in the mode block descriptor: each WRITE(6) writes one
    /// block of its own length (MODE SELECT(10), read-modify-write).
    pub fn set_variable_block_mode(&mut self) -> Result<(), DriveError> {
        mode_pages::set_block_size(&mut self.transport, &self.path, 0)
    }

    /// Change block size, compression and buffer mode (each MODE SELECT is
    /// read-modify-write of what the drive reports).
    pub fn set_options(&mut self, options: &DriveOptions) -> Result<(), DriveError> {
        let (t, path) = (&mut self.transport, self.path.as_str());
        if let Some(block_size) = options.block_size {
            mode_pages::set_block_size(t, path, block_size)?;
        }
        if let Some(enabled) = options.compression {
            mode_pages::set_compression(t, path, enabled)?;
        }
        if let Some(mode) = options.buffer_mode {
            mode_pages::set_buffer_mode(t, path, mode)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use super::*;
    use crate::drive::mock::{long_form, mock_drive, mock_drive_with, opcodes_sent, Mock};
    use crate::scsi::opcodes;
    use crate::scsi::{SenseData, SenseKey};

    fn illegal_opcode() -> SenseData {
        SenseData::new(SenseKey::IllegalRequest, 0x20, 0x00)
    }

    #[test]
    fn open_checks_type_and_reads_identity_and_limits() {
        let (drive, _) = mock_drive(vec![]);
        assert_eq!(drive.identity().vendor, "MOCK");
        assert_eq!(drive.identity().serial.as_deref(), Some("S123"));
        // READ BLOCK LIMITS says 1 MiB, the path 512 KiB: the smaller wins.
        assert_eq!(drive.block_limits().unwrap().max_block_length, 0x10_0000);
        assert_eq!(drive.max_block_size(), 512 * 1024);

        let changer = Mock {
            peripheral_type: 8,
            fixed: Vec::new(),
            script: VecDeque::new(),
            log: Arc::default(),
        };
        match LtoDrive::from_transport(Box::new(changer)) {
            Err(DriveError::NotATapeDrive {
                peripheral_type, ..
            }) => assert_eq!(peripheral_type, 8),
            other => panic!("expected NotATapeDrive, got {other:?}"),
        }
    }

    #[test]
    fn not_ready_at_open_reads_limits_later() {
        let not_ready = Err(SenseData::new(SenseKey::NotReady, 0x04, 0x01));
        let (mut drive, log) =
            mock_drive_with(vec![(vec![opcodes::READ_BLOCK_LIMITS], not_ready)], vec![]);
        assert_eq!(drive.block_limits(), None);
        assert_eq!(drive.max_block_size(), 512 * 1024, "path limit applies");
        drive.write_block(b"abc").unwrap();
        assert_eq!(
            opcodes_sent(&log),
            vec![opcodes::READ_BLOCK_LIMITS, opcodes::WRITE_6]
        );
    }

    #[test]
    fn too_large_block_sends_no_command() {
        let (mut drive, log) = mock_drive(vec![]);
        let err = drive.write_block(&vec![0u8; 512 * 1024 + 1]).unwrap_err();
        assert!(matches!(err, DriveError::BlockTooLarge { .. }), "{err:?}");
        assert!(log.lock().unwrap().is_empty());
        drive.write_block(&[1, 2, 3]).unwrap();
        assert_eq!(
            log.lock().unwrap()[0],
            vec![opcodes::WRITE_6, 0, 0, 0, 3, 0]
        );
    }

    #[test]
    fn flush_is_write_filemarks_zero_without_immed() {
        let (mut drive, log) = mock_drive(vec![]);
        drive.flush().unwrap();
        assert_eq!(
            log.lock().unwrap()[0],
            vec![opcodes::WRITE_FILEMARKS_6, 0, 0, 0, 0, 0]
        );
        let deferred = SenseData::new(SenseKey::MediumError, 0x0C, 0x00).deferred();
        let (mut drive, _) = mock_drive(vec![Err(deferred)]);
        assert!(drive.flush().is_err());
    }

    #[test]
    fn unknown_or_short_position_is_an_error() {
        let (mut drive, _) = mock_drive(vec![
            Ok(long_form(0x04, 0, 0)),
            Ok(long_form(0x08, 7, 0)),
            Ok(vec![0x80; 20]),
            Ok(long_form(0x80, 0, 0)),
        ]);
        for _ in 0..3 {
            assert!(matches!(
                drive.read_position(),
                Err(DriveError::PositionUnknown { .. })
            ));
        }
        let pos = drive.read_position().unwrap();
        assert!(pos.bop);
    }

    fn short_form(flags: u8, first: u32) -> Vec<u8> {
        let mut d = vec![flags, 0, 0, 0];
        d.extend_from_slice(&first.to_be_bytes());
        d.extend_from_slice(&first.to_be_bytes());
        d.extend_from_slice(&[0; 8]);
        d
    }

    #[test]
    fn long_form_rejected_falls_back_to_the_short_form_once() {
        let invalid_field = Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00));
        let (mut drive, log) = mock_drive(vec![
            invalid_field,
            Ok(short_form(0x00, 7)),
            Ok(short_form(0x80, 0)),
        ]);
        let pos = drive.read_position().unwrap();
        assert_eq!(pos.form, PositionForm::Short);
        assert_eq!((pos.file_number, pos.logical_object), (None, 7));
        assert_eq!(drive.position_form(), Some(PositionForm::Short));
        // The long form is not asked again.
        let pos = drive.read_position().unwrap();
        assert_eq!((pos.file_number, pos.bop), (Some(0), true));
        let sent = log.lock().unwrap().clone();
        assert_eq!(
            sent.iter().map(|c| c[1]).collect::<Vec<_>>(),
            vec![0x06, 0x00, 0x00],
            "service actions: long, short, short"
        );
        // Any other refusal of the long form is not a reason to fall back.
        let (mut drive, _) = mock_drive(vec![Err(illegal_opcode())]);
        assert!(matches!(
            drive.read_position(),
            Err(DriveError::NotSupported { .. })
        ));
        assert_eq!(drive.position_form(), None);
    }

    #[test]
    fn file_count_follows_the_commands_sent() {
        let (mut drive, _) = mock_drive(vec![]);
        assert_eq!(drive.tracked_file_number(), None, "unknown at open");
        drive.rewind().unwrap();
        assert_eq!(drive.tracked_file_number(), Some(0));
        drive.space_filemarks(3).unwrap();
        drive.write_filemarks(2, true).unwrap();
        assert_eq!(drive.tracked_file_number(), Some(5));
        drive.space_filemarks(-1).unwrap();
        drive.space_blocks(4).unwrap();
        assert_eq!(drive.tracked_file_number(), Some(4));
        drive.move_to_eod().unwrap();
        assert_eq!(drive.tracked_file_number(), None, "end of data: unknown");
        drive.locate(0).unwrap();
        assert_eq!(drive.tracked_file_number(), Some(0), "LOCATE to BOP");
        drive.locate(17).unwrap();
        assert_eq!(drive.tracked_file_number(), None, "LOCATE to an object");
        // A failed command leaves the file unknown.
        let (mut drive, _) = mock_drive(vec![
            Ok(vec![]),
            Err(SenseData::new(SenseKey::MediumError, 0x11, 0x00)),
        ]);
        drive.rewind().unwrap();
        assert!(drive.space_filemarks(1).is_err());
        assert_eq!(drive.tracked_file_number(), None);
    }

    #[test]
    fn locate_file_on_a_short_form_drive_counts_from_bot() {
        let invalid_field = Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00));
        let (mut drive, log) = mock_drive(vec![invalid_field, Ok(short_form(0x00, 9))]);
        drive.read_position().unwrap();
        log.lock().unwrap().clear();
        drive.locate_file(3).unwrap();
        // No LOCATE whose landing could not be checked: rewind + space,
        // then the position read back (the short form has no file to check).
        assert_eq!(
            opcodes_sent(&log),
            vec![opcodes::REWIND, opcodes::SPACE_6, opcodes::READ_POSITION]
        );
        assert_eq!(drive.tracked_file_number(), Some(3));
    }

    #[test]
    fn end_of_data_on_a_short_form_drive_keeps_the_file_number() {
        let invalid_field = Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00));
        let step = *cdb::SPACE6_COUNT_RANGE.end() as u64;
        // SPACE over filemarks from BOT stops at end of data after 5.
        let eod = Err(SenseData::new(SenseKey::BlankCheck, 0x00, 0x05).with_information(step - 5));
        let (mut drive, log) = mock_drive(vec![
            invalid_field,
            Ok(short_form(0x00, 9)),
            Ok(vec![]),
            eod,
        ]);
        drive.read_position().unwrap();
        drive.move_to_eod().unwrap();
        assert_eq!(drive.tracked_file_number(), Some(5));
        let sent = log.lock().unwrap().clone();
        assert_eq!(
            sent[2][0],
            opcodes::REWIND,
            "the file was unknown: from BOT"
        );
        assert_eq!(sent[3][..2], [opcodes::SPACE_6, 0x01], "SPACE filemarks");
        // Without the residual the file number is unknown.
        let invalid_field = Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00));
        let bare = Err(SenseData::new(SenseKey::BlankCheck, 0x00, 0x05));
        let (mut drive, _) = mock_drive(vec![invalid_field, Ok(short_form(0x80, 0)), bare]);
        // (at BOT: the file number is known, no rewind)
        drive.read_position().unwrap();
        drive.move_to_eod().unwrap();
        assert_eq!(drive.tracked_file_number(), None);
    }

    #[test]
    fn large_space_counts_use_space16() {
        let (mut drive, log) = mock_drive(vec![]);
        drive.space_blocks(0).unwrap();
        assert!(log.lock().unwrap().is_empty(), "count 0 sends nothing");
        drive.space_blocks(-0x80_0000).unwrap();
        drive.space_blocks(0x80_0000).unwrap();
        drive.space_filemarks(-0x80_0001).unwrap();
        assert_eq!(
            opcodes_sent(&log),
            vec![opcodes::SPACE_6, opcodes::SPACE_16, opcodes::SPACE_16]
        );
    }

    #[test]
    fn locate_file_falls_back_to_rewind_and_space() {
        let (mut drive, log) = mock_drive(vec![Err(illegal_opcode())]);
        drive.locate_file(3).unwrap();
        let sent = log.lock().unwrap().clone();
        assert_eq!(sent[0][0], opcodes::LOCATE_16);
        assert_eq!(sent[1], vec![opcodes::REWIND, 0, 0, 0, 0, 0]);
        assert_eq!(sent[2], vec![opcodes::SPACE_6, 1, 0, 0, 3, 0]);
        assert_eq!(
            sent[3][0],
            opcodes::READ_POSITION,
            "read back after the fallback"
        );
    }

    #[test]
    fn locate_file_checks_where_it_landed() {
        // LOCATE and SPACE succeed, READ POSITION says file 2, not 3:
        // count from BOT instead, and read the position back again.
        let (mut drive, log) = mock_drive(vec![
            Ok(vec![]),
            Ok(vec![]),
            Ok(long_form(0, 9, 2)),
            Ok(vec![]),
            Ok(vec![]),
            Ok(long_form(0, 12, 3)),
        ]);
        drive.locate_file(3).unwrap();
        assert_eq!(
            opcodes_sent(&log),
            vec![
                opcodes::LOCATE_16,
                opcodes::SPACE_6,
                opcodes::READ_POSITION,
                opcodes::REWIND,
                opcodes::SPACE_6,
                opcodes::READ_POSITION
            ]
        );
        // The fallback landing elsewhere too is an error, not a success.
        let (mut drive, _) = mock_drive(vec![
            Ok(vec![]),
            Ok(vec![]),
            Ok(long_form(0, 9, 2)),
            Ok(vec![]),
            Ok(vec![]),
            Ok(long_form(0, 9, 2)),
        ]);
        match drive.locate_file(3) {
            Err(DriveError::Misplaced { file: Some(2), .. }) => {}
            other => panic!("expected Misplaced, got {other:?}"),
        }
        // Landing right needs no fallback.
        let (mut drive, log) = mock_drive(vec![Ok(vec![]), Ok(vec![]), Ok(long_form(0, 9, 3))]);
        drive.locate_file(3).unwrap();
        assert_eq!(log.lock().unwrap().len(), 3);
        assert_eq!(log.lock().unwrap()[0][4..12], 2u64.to_be_bytes());
    }

    #[test]
    fn wait_until_ready_polls_while_becoming_ready() {
        let becoming = || Err(SenseData::new(SenseKey::NotReady, 0x04, 0x01));
        let (mut drive, log) = mock_drive(vec![becoming(), becoming(), Ok(vec![])]);
        drive
            .wait_until_ready_polling(Duration::from_secs(3600), Duration::ZERO)
            .unwrap();
        assert_eq!(opcodes_sent(&log), vec![opcodes::TEST_UNIT_READY; 3]);

        let (mut drive, _) = mock_drive(vec![becoming(), becoming()]);
        let err = drive
            .wait_until_ready_polling(Duration::ZERO, Duration::ZERO)
            .unwrap_err();
        assert!(matches!(err, DriveError::NotReadyTimeout { .. }), "{err:?}");

        let no_medium = Err(SenseData::new(SenseKey::NotReady, 0x3A, 0x00));
        let (mut drive, log) = mock_drive(vec![no_medium]);
        let err = drive
            .wait_until_ready_polling(Duration::from_secs(3600), Duration::ZERO)
            .unwrap_err();
        assert!(matches!(err, DriveError::NoMedium { .. }), "{err:?}");
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[test]
    fn format_falls_back_to_short_erase() {
        let (mut drive, log) = mock_drive(vec![Ok(vec![]), Err(illegal_opcode())]);
        drive.format(true).unwrap();
        assert_eq!(
            opcodes_sent(&log),
            vec![
                opcodes::REWIND,
                opcodes::FORMAT_MEDIUM,
                opcodes::REWIND,
                opcodes::ERASE,
                opcodes::REWIND
            ]
        );
        assert_eq!(log.lock().unwrap()[3][1], 0, "short erase");
    }
}
