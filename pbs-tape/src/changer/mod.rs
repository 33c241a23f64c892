//! Media changer control (SMC-3): element addresses, element status,
//! moves, drive mapping and cleaning, over any [`crate::scsi::ScsiTransport`].
//!
//! ```no_run
//! # fn demo(t: Box<dyn pbs_tape::scsi::ScsiTransport>) -> Result<(), pbs_tape::changer::ChangerError> {
//! use pbs_tape::changer::MediaChanger;
//! let mut changer = MediaChanger::new(t);
//! let status = changer.status()?;
//! println!("{} slots, {} drives", status.slots.len(), status.drives.len());
//! changer.load_barcode("ABC001L9", 0)?;
//! # Ok(()) }
//! ```
//!
//! Numbering for users: slots are 1-based (import/export slots follow the
//! storage slots, like mtx), drives are 0-based.

#![forbid(unsafe_code)]

pub mod address;
pub mod cleaning;
pub mod commands;
pub mod element_status;
pub mod error;
pub mod mapping;
pub mod media_changer;
pub mod status;
pub mod wire;

pub use address::{ElementAddressAssignment, ElementRange};
pub use cleaning::{clean_drive, is_cleaning_barcode, CleaningReport};
pub use element_status::{
    parse_element_status, DeviceIdentifier, Element, ElementStatusError, ElementStatusReport,
    ElementType,
};
pub use error::ChangerError;
pub use mapping::{map_drives, map_drives_by_serial, map_drives_with, serials_match};
pub use media_changer::{BoxError, Ejector, MediaChanger, MoveOutcome, Step};
pub use status::{
    ChangerStatus, DriveStatus, ElementException, Place, SlotStatus, TransportStatus,
};
