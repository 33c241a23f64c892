//! LTO tape drive control (SSC-4) over any [`crate::scsi::ScsiTransport`].

pub mod error;

pub use error::DriveError;
