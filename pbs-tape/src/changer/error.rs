//! Errors of the media changer layer.

use crate::scsi::{ScsiError, SenseData};

use super::element_status::ElementStatusError;

/// Why a changer operation failed. Every variant says what was attempted;
/// SCSI failures carry the decoded sense.
#[derive(Debug, thiserror::Error)]
pub enum ChangerError {
    /// The device could not be opened.
    #[error("cannot open changer: {source}")]
    Open {
        device: String,
        #[source]
        source: ScsiError,
    },
    /// A SCSI command failed; `command` names it (e.g. "MOVE MEDIUM").
    #[error("{command} failed on {device}: {source}")]
    Scsi {
        command: &'static str,
        device: String,
        #[source]
        source: ScsiError,
    },
    /// The changer returned data that does not decode.
    #[error("cannot decode {what} from {device}: {message}")]
    Decode {
        what: &'static str,
        device: String,
        message: String,
    },
    /// READ ELEMENT STATUS data that does not decode.
    #[error("cannot decode element status from {device}: {source}")]
    ElementStatus {
        device: String,
        #[source]
        source: ElementStatusError,
    },
    /// The device at this path is not a medium changer.
    #[error("{device} is not a medium changer (peripheral device type {peripheral_type})")]
    NotAChanger { device: String, peripheral_type: u8 },
    /// Slot number outside 1..=count.
    #[error("slot {slot} does not exist (the changer has slots 1..={count})")]
    NoSuchSlot { slot: usize, count: usize },
    /// Drive number outside 0..count.
    #[error("drive {drive} does not exist (the changer has {count} drive(s), numbered from 0)")]
    NoSuchDrive { drive: usize, count: usize },
    #[error("slot {slot} is empty")]
    SlotEmpty { slot: usize },
    #[error("slot {slot} is full ({})", barcode_or_unknown(.barcode))]
    SlotFull {
        slot: usize,
        barcode: Option<String>,
    },
    #[error("drive {drive} is empty")]
    DriveEmpty { drive: usize },
    #[error("drive {drive} is full ({})", barcode_or_unknown(.barcode))]
    DriveFull {
        drive: usize,
        barcode: Option<String>,
    },
    #[error("cartridge {barcode} not found")]
    BarcodeNotFound { barcode: String },
    /// The cartridge is somewhere the operation cannot take it from.
    #[error("cartridge {barcode} is in {location}, not in {expected}")]
    WrongLocation {
        barcode: String,
        location: String,
        expected: &'static str,
    },
    /// The changer does not know where the cartridge in the drive came from.
    #[error("drive {drive}: the changer does not know the source slot of its cartridge; give a target slot")]
    UnknownSource { drive: usize },
    /// No free element of the wanted kind.
    #[error("no free {what}")]
    NoFreeSlot { what: &'static str },
    /// Nothing to load in the asked direction (first/last/next/previous).
    #[error("no full slot {direction}")]
    NoCartridge { direction: String },
    /// A data operation was asked with a cleaning cartridge.
    #[error("cartridge {barcode} is a cleaning cartridge; it cannot be used for data")]
    CleaningCartridge { barcode: String },
    #[error("no cleaning cartridge (barcode CLN...) in the storage slots")]
    NoCleaningCartridge,
    /// The library refused the cleaning cartridge as used up.
    #[error("cleaning cartridge {barcode} is expired: {sense}")]
    CleaningCartridgeExpired { barcode: String, sense: SenseData },
    /// The drive did not finish cleaning within the bounded wait.
    #[error("drive {drive} did not finish cleaning within {seconds} s")]
    CleaningTimeout { drive: usize, seconds: u64 },
    /// Ejecting the cartridge through the drive failed.
    #[error("cannot eject the cartridge in drive {drive}: {source}")]
    Eject {
        drive: usize,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Invalid argument given by the caller (checked before any CDB).
    #[error("{0}")]
    InvalidArgument(String),
}

fn barcode_or_unknown(barcode: &Option<String>) -> &str {
    barcode.as_deref().unwrap_or("no barcode")
}

impl ChangerError {
    /// Wrap a failed command.
    pub fn scsi(command: &'static str, device: &str, source: ScsiError) -> Self {
        ChangerError::Scsi {
            command,
            device: device.to_string(),
            source,
        }
    }

    /// The decoded sense of the failed command, if any.
    pub fn sense(&self) -> Option<&SenseData> {
        match self {
            ChangerError::Scsi { source, .. } | ChangerError::Open { source, .. } => source.sense(),
            ChangerError::CleaningCartridgeExpired { sense, .. } => Some(sense),
            _ => None,
        }
    }
}
