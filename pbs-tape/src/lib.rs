//! `pbs-tape`: everything that speaks SCSI or on-tape bytes.
//!
//! - [`scsi`]: the transport trait, Linux SG_IO backend, sense decoding.
//! - [`drive`]: LTO tape drive control (SSC).
//! - [`changer`]: media changer control (SMC).
//! - [`format`]: the on-tape format and the checked finish barrier.
//! - [`emulator`]: a file-backed tape library that answers real CDBs.
//! - [`discovery`]: finding drives across layers (emulated libraries, the
//!   drives of a changer, the changer's eject-before-move).
//! - [`selftest`]: a btape-style check of a drive and its cartridge.

pub mod changer;
pub mod device;
pub mod discovery;
pub mod drive;
pub mod emulator;
pub mod format;
pub mod scsi;
pub mod selftest;
pub mod spec;
