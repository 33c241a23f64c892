//! The SCSI layer: one transport trait, the Linux SG_IO backend, sense
//! decoding, opcodes and per-command timeouts. See `docs/scsi.md`.
//!
//! - [`transport`]: [`ScsiTransport`], [`DataDirection`], [`Completion`],
//!   [`ScsiError`], [`DeviceError`].
//! - [`sg_io`]: the Linux sg backend ([`sg_io::SgDevice`]); the only
//!   module with `unsafe` code.
//! - [`retry`]: retry once after a medium-changed / reset UNIT ATTENTION.
//! - [`devpath`]: from `/dev/nst0`, `/dev/sch0`, by-id links to the sg node.
//! - [`discovery`]: find tape drives and changers in sysfs.
//! - [`spc`]: common SPC commands (INQUIRY, VPD, MODE/LOG SENSE, ...).
//! - [`sense`], [`asc_table`]: sense data decoding and the ASC/ASCQ texts;
//!   [`sense_report`]: every field explained, from hex text (`pmt decode-sense`).
//! - [`opcodes`], [`timeouts`]: the opcode constants and their timeouts.

pub mod asc_table;
pub mod devpath;
pub mod discovery;
pub mod opcodes;
pub mod retry;
pub mod sense;
pub mod sense_report;
pub mod sg_io;
pub mod spc;
#[doc(hidden)]
pub mod testing;
pub mod timeouts;
pub mod transport;

pub use retry::UnitAttentionRetry;
pub use sense::{SenseData, SenseKey, SenseKeySpecific, SenseParseError};
pub use timeouts::timeout_for;
pub use transport::{Completion, DataDirection, DeviceError, ScsiError, ScsiTransport};
