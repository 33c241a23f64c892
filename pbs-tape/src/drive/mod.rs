//! LTO tape drive control (SSC-4) over any [`crate::scsi::ScsiTransport`].

pub mod capacity;
pub mod cdb;
pub mod decode;
pub mod density;
pub mod encryption;
pub mod error;
pub(crate) mod info_io;
pub mod limits;
pub mod log_page;
pub mod lto;
pub mod mam;
#[cfg(test)]
mod mock;
pub mod mode_pages;
pub mod position;
pub mod scan;
pub mod status;
pub mod stream_events;
pub mod tape_alert;
pub mod tape_file;
pub mod volume_statistics;
pub(crate) mod wire;

pub use error::{DriveError, SpaceShortfall, SpaceStop, SpaceUnit};
pub use limits::BlockLimits;
pub use lto::{DriveIdentity, DriveOptions, LtoDrive};
pub use position::{Position, PositionForm};
pub use stream_events::{ReadEvent, WriteStatus};
