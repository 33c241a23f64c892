//! Mode page codes and the tape device-specific parameter bits of the
//! mode parameter header (SPC-5 7.5, SSC-5 8.3). Numbers only.

/// Data compression mode page (SSC-5 8.3.2).
pub const PAGE_DATA_COMPRESSION: u8 = 0x0F;
/// Device configuration mode page (SSC-5 8.3.3); subpage 0x01 is the
/// device configuration extension (SSC-5 8.3.4).
pub const PAGE_DEVICE_CONFIGURATION: u8 = 0x10;
pub const SUBPAGE_DEVICE_CONFIGURATION_EXTENSION: u8 = 0x01;
/// All mode pages.
pub const PAGE_ALL: u8 = 0x3F;

/// Device-specific parameter bits of the header for tape (SSC-5 8.3.1).
pub const DEVICE_SPECIFIC_WP: u8 = 0x80;
pub const DEVICE_SPECIFIC_BUFFER_MODE_SHIFT: u8 = 4;
pub const DEVICE_SPECIFIC_BUFFER_MODE_MASK: u8 = 0x70;
