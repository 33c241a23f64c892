//! The SCSI layer: one transport trait, the Linux SG_IO backend, sense
//! decoding, opcodes and per-command timeouts.

pub mod asc_table;
pub mod sense;
pub mod transport;

pub use sense::{SenseData, SenseKey, SenseParseError};
pub use transport::{Completion, DataDirection, DeviceError, ScsiError, ScsiTransport};
