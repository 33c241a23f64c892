//! SMC-3 wire structures: the CDBs the changer code sends, the MODE SENSE
//! pages and the READ ELEMENT STATUS data layout, declared once with their
//! byte order for the host side ([`super::commands`],
//! [`super::element_status`]). The emulated changer encodes the same data
//! with its own encoders (`crate::emulator::smc_wire`), written separately
//! from the standard, so that the two readings check each other.

use zerocopy::byteorder::big_endian::U16;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Mode page code: element address assignment (SMC-3 7.3.4).
pub const PAGE_ELEMENT_ADDRESS_ASSIGNMENT: u8 = 0x1D;
/// Mode page code: transport geometry parameters (SMC-3 7.3.6).
pub const PAGE_TRANSPORT_GEOMETRY: u8 = 0x1E;
/// Mode page code: device capabilities (SMC-3 7.3.2).
pub const PAGE_DEVICE_CAPABILITIES: u8 = 0x1F;
/// Mode page code: return all pages (SPC-5 6.15).
pub const PAGE_ALL: u8 = 0x3F;

/// Length of a volume tag (volume identifier 32 bytes, 2 reserved, volume
/// sequence number 2; SMC-3 6.15.3).
pub const VOLUME_TAG_LEN: usize = 36;
/// Length of the volume identifier inside a volume tag.
pub const VOLUME_IDENTIFIER_LEN: usize = 32;

/// READ ELEMENT STATUS byte 1: VOLTAG bit.
pub const RES_VOLTAG: u8 = 0x10;
/// READ ELEMENT STATUS byte 6: CURDATA bit.
pub const RES_CURDATA: u8 = 0x02;
/// READ ELEMENT STATUS byte 6: DVCID bit.
pub const RES_DVCID: u8 = 0x01;

/// Element status page header byte 1: primary volume tag present.
pub const PAGE_PVOLTAG: u8 = 0x80;
/// Element status page header byte 1: alternate volume tag present.
pub const PAGE_AVOLTAG: u8 = 0x40;

/// Element descriptor byte 2 flags (SMC-3 6.15.3..6.15.6).
pub const ELEM_FULL: u8 = 0x01;
/// Import/export element only: the cartridge was placed by the operator.
pub const ELEM_IMPEXP: u8 = 0x02;
pub const ELEM_EXCEPT: u8 = 0x04;
pub const ELEM_ACCESS: u8 = 0x08;
/// Import/export element only: export enabled.
pub const ELEM_EXENAB: u8 = 0x10;
/// Import/export element only: import enabled.
pub const ELEM_INENAB: u8 = 0x20;
/// Element descriptor byte 9: source element address valid.
pub const ELEM_SVALID: u8 = 0x80;
/// Element descriptor byte 9: medium was inverted.
pub const ELEM_INVERT: u8 = 0x40;

/// Device identifier code set: binary (SPC-5 7.7.6.1).
pub const CODE_SET_BINARY: u8 = 1;
/// Device identifier code set: ASCII.
pub const CODE_SET_ASCII: u8 = 2;
/// Identifier type: vendor specific (some libraries put the bare serial here).
pub const ID_TYPE_VENDOR_SPECIFIC: u8 = 0;
/// Identifier type: T10 vendor identification (vendor 8, product 16, serial).
pub const ID_TYPE_T10_VENDOR: u8 = 1;

/// READ ELEMENT STATUS CDB (SMC-3 6.15, opcode 0xB8), 12 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ReadElementStatusCdb {
    pub opcode: u8,
    /// VOLTAG (bit 4) and ELEMENT TYPE CODE (bits 3..0).
    pub voltag_type: u8,
    pub starting_address: U16,
    pub number_of_elements: U16,
    /// CURDATA (bit 1), DVCID (bit 0).
    pub flags: u8,
    /// ALLOCATION LENGTH, 24 bits.
    pub allocation_length: [u8; 3],
    pub reserved: u8,
    pub control: u8,
}

/// MOVE MEDIUM CDB (SMC-3 6.11, opcode 0xA5), 12 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct MoveMediumCdb {
    pub opcode: u8,
    pub reserved1: u8,
    pub transport: U16,
    pub source: U16,
    pub destination: U16,
    pub reserved2: [u8; 2],
    /// INVERT (bit 0).
    pub invert: u8,
    pub control: u8,
}

/// EXCHANGE MEDIUM CDB (SMC-3 6.3, opcode 0xA6), 12 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ExchangeMediumCdb {
    pub opcode: u8,
    pub reserved1: u8,
    pub transport: U16,
    pub source: U16,
    pub first_destination: U16,
    pub second_destination: U16,
    /// INV1 (bit 1), INV2 (bit 0).
    pub invert: u8,
    pub control: u8,
}

/// POSITION TO ELEMENT CDB (SMC-3 6.14, opcode 0x2B), 10 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct PositionToElementCdb {
    pub opcode: u8,
    pub reserved1: u8,
    pub transport: U16,
    pub destination: U16,
    pub reserved2: [u8; 2],
    /// INVERT (bit 0).
    pub invert: u8,
    pub control: u8,
}

/// Element address assignment mode page 0x1D (SMC-3 7.3.4), 20 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ElementAddressPage {
    /// PS (bit 7) and PAGE CODE (0x1D).
    pub page_code: u8,
    /// 0x12.
    pub page_length: u8,
    pub transport_first: U16,
    pub transport_count: U16,
    pub storage_first: U16,
    pub storage_count: U16,
    pub import_export_first: U16,
    pub import_export_count: U16,
    pub data_transfer_first: U16,
    pub data_transfer_count: U16,
    pub reserved: [u8; 2],
}

/// Element status data header (SMC-3 6.15.2), 8 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ElementStatusHeader {
    pub first_element_address: U16,
    pub number_of_elements: U16,
    pub reserved: u8,
    /// BYTE COUNT OF REPORT AVAILABLE (all pages), 24 bits: not
    /// truncated by the allocation length.
    pub byte_count: [u8; 3],
}

/// Element status page header (SMC-3 6.15.3), 8 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ElementStatusPageHeader {
    pub element_type: u8,
    /// PVOLTAG (bit 7), AVOLTAG (bit 6).
    pub flags: u8,
    pub descriptor_length: U16,
    pub reserved: u8,
    /// BYTE COUNT OF DESCRIPTOR DATA AVAILABLE (this page), 24 bits.
    pub byte_count: [u8; 3],
}

/// The first 12 bytes every element descriptor has (SMC-3 6.15.4..6.12.7).
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ElementDescriptorHead {
    pub address: U16,
    /// FULL, IMPEXP, EXCEPT, ACCESS, EXENAB, INENAB (see `ELEM_*`).
    pub flags: u8,
    pub reserved1: u8,
    pub asc: u8,
    pub ascq: u8,
    /// Data transfer element: NOT BUS, ID VALID, LU VALID, LUN.
    pub bus_flags: u8,
    /// Data transfer element: SCSI bus address.
    pub bus_address: u8,
    pub reserved2: u8,
    /// SVALID (bit 7), INVERT (bit 6), ED, MEDIUM TYPE.
    pub source_flags: u8,
    pub source_address: U16,
}

/// Volume tag information (SMC-3 6.15.3), 36 bytes.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VolumeTag {
    pub identifier: [u8; VOLUME_IDENTIFIER_LEN],
    pub reserved: [u8; 2],
    pub sequence: U16,
}

/// Head of the device identification part of an element descriptor
/// (SMC-3 6.15.5, after the volume tags), 4 bytes.
#[derive(Debug, Clone, Copy, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DeviceIdHead {
    /// CODE SET (bits 3..0).
    pub code_set: u8,
    /// ASSOCIATION (bits 5..4), IDENTIFIER TYPE (bits 3..0).
    pub identifier_type: u8,
    pub reserved: u8,
    pub identifier_length: u8,
}

/// Read a 24-bit big-endian field.
pub fn u24(bytes: [u8; 3]) -> u32 {
    u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]])
}

/// Encode a 24-bit big-endian field (values above 0xFF_FFFF saturate).
pub fn to_u24(value: u32) -> [u8; 3] {
    let v = value.min(0xFF_FFFF).to_be_bytes();
    [v[1], v[2], v[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_sizes_match_smc3() {
        assert_eq!(size_of::<ReadElementStatusCdb>(), 12);
        assert_eq!(size_of::<MoveMediumCdb>(), 12);
        assert_eq!(size_of::<ExchangeMediumCdb>(), 12);
        assert_eq!(size_of::<PositionToElementCdb>(), 10);
        assert_eq!(size_of::<ElementAddressPage>(), 20);
        assert_eq!(size_of::<ElementStatusHeader>(), 8);
        assert_eq!(size_of::<ElementStatusPageHeader>(), 8);
        assert_eq!(size_of::<ElementDescriptorHead>(), 12);
        assert_eq!(size_of::<VolumeTag>(), VOLUME_TAG_LEN);
        assert_eq!(size_of::<DeviceIdHead>(), 4);
    }

    #[test]
    fn u24_round_trip() {
        assert_eq!(u24(to_u24(0x01_02_03)), 0x01_02_03);
        assert_eq!(to_u24(0x1_00_00_00), [0xff, 0xff, 0xff]);
    }
}
