//! Numbers of the SCSI standards (page codes, parameter codes, attribute
//! identifiers, field values) shared by the drive layer and the emulator.
//!
//! Only constants live here: each side has its own encoders and decoders,
//! so a misreading of a page layout cannot hide in code both use.

pub mod log;
pub mod lto;
pub mod mam;
pub mod mode;
pub mod security;
