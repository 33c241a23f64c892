//! A file-backed tape library emulator that answers real CDBs.
//!
//! A library lives in a directory (`tape-emu create DIR`); its device files
//! `DIR/changer` and `DIR/drive0..N-1` are what users give to `pmtx -f` and
//! `pmt -f`. [`open_device`] opens one as an [`EmulatedDevice`], a
//! [`crate::scsi::ScsiTransport`] like the Linux SG_IO backend, so drive
//! and changer code never know which one they talk to.
//!
//! - [`library`]: the library on disk, locking, operator actions.
//! - [`state`]: the persistent model (slots, drives, cartridges, faults).
//! - [`image`]: tape images (records + index, crash-consistent).
//! - [`device`]: device files and CDB dispatch; [`common`]: SPC commands.
//! - `drive`: the SSC data path; [`ssc_info`]: MODE, LOG, ATTRIBUTE, DENSITY
//!   and SECURITY PROTOCOL commands; [`crypto`]: block encryption;
//!   `ssc_wire`: the drive's own byte encoders (position, block limits),
//!   independent of the drive layer's structs;
//!   `changer`: the SMC commands, encoded by `smc_wire` (the changer's own
//!   byte encoders, independent of the changer layer's structs).
//! - [`fault`]: injectable faults.
//!
//! See `docs/emulator.md`.

pub mod barcode;
pub mod cdb;
mod changer;
pub mod common;
pub mod crypto;
pub mod device;
mod drive;
pub mod drive_state;
pub mod fault;
pub mod image;
pub mod library;
pub(crate) mod smc_wire;
pub(crate) mod spc_wire;
pub mod ssc_info;
pub(crate) mod ssc_wire;
pub mod state;

pub use device::{device_serial, is_emulated_device, open_device, DeviceKind, EmulatedDevice};
pub use drive::{DriveFile, UnitAttention, WRITE_BUFFER_LIMIT};
pub use library::{EmuError, Library, LibraryStatus};
