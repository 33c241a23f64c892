//! READ ATTRIBUTE service actions and attribute identifiers (SPC-5 6.21,
//! 7.4). Numbers only; the drive layer's table of attribute names and
//! formats is in `drive::mam`, the emulator keeps its own.

/// READ ATTRIBUTE service action: attribute values.
pub const SA_ATTRIBUTE_VALUES: u8 = 0x00;
/// READ ATTRIBUTE service action: attribute list (identifiers only).
pub const SA_ATTRIBUTE_LIST: u8 = 0x01;
/// READ ATTRIBUTE service action: logical volume list.
pub const SA_VOLUME_LIST: u8 = 0x02;
/// READ ATTRIBUTE service action: partition list.
pub const SA_PARTITION_LIST: u8 = 0x03;
/// READ ATTRIBUTE service action: supported attributes.
pub const SA_SUPPORTED_ATTRIBUTES: u8 = 0x05;

/// Attribute identifiers (SPC-5 tables 197-199) of device, medium and
/// host type attributes.
pub mod id {
    pub const REMAINING_CAPACITY: u16 = 0x0000;
    pub const MAXIMUM_CAPACITY: u16 = 0x0001;
    pub const TAPEALERT_FLAGS: u16 = 0x0002;
    pub const LOAD_COUNT: u16 = 0x0003;
    pub const MAM_SPACE_REMAINING: u16 = 0x0004;
    pub const ASSIGNING_ORGANIZATION: u16 = 0x0005;
    pub const FORMATTED_DENSITY_CODE: u16 = 0x0006;
    pub const INITIALIZATION_COUNT: u16 = 0x0007;
    pub const LIFETIME_MIB_WRITTEN: u16 = 0x0220;
    pub const LIFETIME_MIB_READ: u16 = 0x0221;
    pub const LAST_LOAD_MIB_WRITTEN: u16 = 0x0222;
    pub const LAST_LOAD_MIB_READ: u16 = 0x0223;
    pub const MEDIUM_MANUFACTURER: u16 = 0x0400;
    pub const MEDIUM_SERIAL_NUMBER: u16 = 0x0401;
    pub const MEDIUM_LENGTH: u16 = 0x0402;
    pub const MEDIUM_WIDTH: u16 = 0x0403;
    pub const MEDIUM_ASSIGNING_ORGANIZATION: u16 = 0x0404;
    pub const MEDIUM_DENSITY_CODE: u16 = 0x0405;
    pub const MEDIUM_MANUFACTURE_DATE: u16 = 0x0406;
    pub const MAM_CAPACITY: u16 = 0x0407;
    pub const MEDIUM_TYPE: u16 = 0x0408;
    pub const MEDIUM_TYPE_INFORMATION: u16 = 0x0409;
    pub const APPLICATION_VENDOR: u16 = 0x0800;
    pub const APPLICATION_NAME: u16 = 0x0801;
    pub const APPLICATION_VERSION: u16 = 0x0802;
    pub const USER_MEDIUM_TEXT_LABEL: u16 = 0x0803;
    pub const DATE_TIME_LAST_WRITTEN: u16 = 0x0804;
    pub const BARCODE: u16 = 0x0806;
    pub const MEDIA_POOL: u16 = 0x0808;
}

/// FORMAT field of an attribute header (SPC-5 7.4.1, table "attribute
/// format"), byte 2 bits 1..0.
pub mod format {
    pub const BINARY: u8 = 0b00;
    pub const ASCII: u8 = 0b01;
    pub const TEXT: u8 = 0b10;
}
