//! The one SCSI transport trait: a CDB in, data and sense out.
//!
//! Both the Linux SG_IO backend ([`super::sg_io`]) and the tape library
//! emulator ([`crate::emulator`]) implement [`ScsiTransport`], so drive and
//! changer code never know which one they talk to.

#![forbid(unsafe_code)]

use std::time::Duration;

use super::sense::SenseData;

/// Direction and buffer of the data phase of one command.
#[derive(Debug)]
pub enum DataDirection<'a> {
    /// No data phase (TEST UNIT READY, REWIND, SPACE, ...).
    None,
    /// Data-in: the device fills this buffer (READ, INQUIRY, LOG SENSE, ...).
    FromDevice(&'a mut [u8]),
    /// Data-out: the device receives these bytes (WRITE, MODE SELECT, ...).
    ToDevice(&'a [u8]),
}

impl DataDirection<'_> {
    /// Length of the data buffer in bytes (0 for [`DataDirection::None`]).
    pub fn len(&self) -> usize {
        match self {
            DataDirection::None => 0,
            DataDirection::FromDevice(b) => b.len(),
            DataDirection::ToDevice(b) => b.len(),
        }
    }

    /// True when there is no data phase or the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A shorter-lived copy of this direction over the same buffer, so a
    /// command can be issued again (used by the unit attention retry).
    pub fn reborrow(&mut self) -> DataDirection<'_> {
        match self {
            DataDirection::None => DataDirection::None,
            DataDirection::FromDevice(b) => DataDirection::FromDevice(b),
            DataDirection::ToDevice(b) => DataDirection::ToDevice(b),
        }
    }
}

/// Result of a command that completed with GOOD status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// Bytes actually moved in the data phase.
    pub transferred: usize,
    /// Bytes of the buffer that were not moved (buffer length - transferred).
    pub residual: usize,
}

/// SCSI status byte values (SAM-5 5.3.1).
pub mod status {
    pub const GOOD: u8 = 0x00;
    pub const CHECK_CONDITION: u8 = 0x02;
    pub const CONDITION_MET: u8 = 0x04;
    pub const BUSY: u8 = 0x08;
    pub const RESERVATION_CONFLICT: u8 = 0x18;
    pub const TASK_SET_FULL: u8 = 0x28;
    pub const ACA_ACTIVE: u8 = 0x30;
    pub const TASK_ABORTED: u8 = 0x40;
}

/// Why a command did not complete with GOOD status.
#[derive(Debug, thiserror::Error)]
pub enum ScsiError {
    /// CHECK CONDITION with decoded sense data. For tape drives this also
    /// carries non-errors (FILEMARK, ILI, early warning): the drive layer
    /// interprets them; `transferred`/`residual` describe the data phase.
    #[error("{sense}")]
    CheckCondition {
        sense: SenseData,
        transferred: usize,
        residual: usize,
    },
    /// CHECK CONDITION but the device returned no (or unparseable) sense data.
    #[error("CHECK CONDITION without valid sense data")]
    NoSense,
    /// A status other than GOOD or CHECK CONDITION (BUSY, RESERVATION CONFLICT, ...).
    #[error("SCSI status {}", status_name(*.0))]
    Status(u8),
    /// The host adapter or driver reported a failure (transport level).
    #[error("transport failure: host status {host_status:#06x} ({}), driver status {driver_status:#06x}", host_status_name(*.host_status))]
    Transport {
        host_status: u16,
        driver_status: u16,
    },
    /// The command did not complete within its timeout.
    #[error("command timed out after {} s", .0.as_secs())]
    Timeout(Duration),
    /// The data buffer exceeds what the device path can transfer in one
    /// command (the smallest of the host adapter's scatter-gather table,
    /// the queue's max_sectors and the drive's limit).
    #[error("the host adapter cannot move {len} bytes in one command (limit {max})")]
    TransferTooLarge { len: usize, max: usize },
    /// The kernel refused the data buffer (SG_IO: EINVAL) although it is
    /// within the limit the driver reported: the adapter's real limit is lower.
    #[error("the host adapter cannot move {len} bytes in one command (the kernel refused it with EINVAL; the driver reported a limit of {reported_limit})")]
    TransferRefused { len: usize, reported_limit: usize },
    /// The CDB has a length the transport cannot send.
    #[error("invalid CDB length {0}")]
    InvalidCdb(usize),
    /// The device answered with data that does not follow the standard
    /// (too short, inconsistent lengths).
    #[error("malformed {command} response: {message}")]
    InvalidResponse {
        command: &'static str,
        message: String,
    },
    /// Opening or addressing the device failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// A writing session saw a reset or a medium change (UNIT ATTENTION
    /// 29/xx or 28/00): the tape position is lost, and commands that depend
    /// on it are refused without being sent (see [`super::retry`]).
    #[error("the tape position is lost: the drive reported {event}; nothing is done at the tape position in this writing session any more")]
    PositionLost { event: SenseData },
}

impl ScsiError {
    /// The decoded sense, when the command ended in CHECK CONDITION.
    pub fn sense(&self) -> Option<&SenseData> {
        match self {
            ScsiError::CheckCondition { sense, .. } => Some(sense),
            _ => None,
        }
    }

    /// The reset or medium change that made a writing session lose the
    /// tape position ([`ScsiError::PositionLost`]).
    pub fn position_lost(&self) -> Option<&SenseData> {
        match self {
            ScsiError::PositionLost { event } => Some(event),
            _ => None,
        }
    }
}

/// Errors opening or identifying a device node.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{path}: no such device (is it connected and is the sg module loaded?)")]
    NotFound { path: String },
    #[error("{path}: device is busy (opened by another process)")]
    Busy { path: String },
    #[error("{path}: not a SCSI generic (sg) device")]
    NotSgDevice { path: String },
    #[error("{path}: permission denied")]
    PermissionDenied { path: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Human name of a SCSI status byte.
pub fn status_name(status: u8) -> String {
    match status {
        status::GOOD => "GOOD".into(),
        status::CHECK_CONDITION => "CHECK CONDITION".into(),
        status::CONDITION_MET => "CONDITION MET".into(),
        status::BUSY => "BUSY".into(),
        status::RESERVATION_CONFLICT => "RESERVATION CONFLICT".into(),
        status::TASK_SET_FULL => "TASK SET FULL".into(),
        status::ACA_ACTIVE => "ACA ACTIVE".into(),
        status::TASK_ABORTED => "TASK ABORTED".into(),
        other => format!("{other:#04x}"),
    }
}

/// Human name of a Linux SCSI host status (DID_* codes).
pub fn host_status_name(host_status: u16) -> &'static str {
    match host_status {
        0x00 => "DID_OK",
        0x01 => "DID_NO_CONNECT",
        0x02 => "DID_BUS_BUSY",
        0x03 => "DID_TIME_OUT",
        0x04 => "DID_BAD_TARGET",
        0x05 => "DID_ABORT",
        0x06 => "DID_PARITY",
        0x07 => "DID_ERROR",
        0x08 => "DID_RESET",
        0x09 => "DID_BAD_INTR",
        0x0a => "DID_PASSTHROUGH",
        0x0b => "DID_SOFT_ERROR",
        0x0c => "DID_IMM_RETRY",
        0x0d => "DID_REQUEUE",
        0x0e => "DID_TRANSPORT_DISRUPTED",
        0x0f => "DID_TRANSPORT_FAILFAST",
        _ => "unknown",
    }
}

/// One SCSI device reachable by CDBs: a Linux sg node or an emulated device.
pub trait ScsiTransport: Send {
    /// Execute one command. `timeout` is the time the device may take
    /// (see [`super::timeouts`]). GOOD status gives a [`Completion`];
    /// anything else a [`ScsiError`].
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError>;

    /// The largest data transfer this path supports, in bytes
    /// (sg: the HBA's max sectors limit; emulator: configured).
    fn max_transfer(&self) -> usize;

    /// The device path as the user gave it, for messages.
    fn path(&self) -> &str;
}

impl std::fmt::Debug for dyn ScsiTransport + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScsiTransport")
            .field("path", &self.path())
            .field("max_transfer", &self.max_transfer())
            .finish()
    }
}

impl<T: ScsiTransport + ?Sized> ScsiTransport for Box<T> {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        (**self).execute(cdb, data, timeout)
    }
    fn max_transfer(&self) -> usize {
        (**self).max_transfer()
    }
    fn path(&self) -> &str {
        (**self).path()
    }
}
