//! SMC-3 command wrappers: one function per CDB, over any
//! [`ScsiTransport`]. Higher-level logic (element status in several
//! requests, load/unload checks) lives in [`super::media_changer`].

use zerocopy::byteorder::big_endian::U16;
use zerocopy::IntoBytes;

use crate::scsi::opcodes::{
    EXCHANGE_MEDIUM, INITIALIZE_ELEMENT_STATUS, MOVE_MEDIUM, POSITION_TO_ELEMENT,
    PREVENT_ALLOW_MEDIUM_REMOVAL, READ_ELEMENT_STATUS,
};
use crate::scsi::spc::{self, ModeHeader10Wire};
use crate::scsi::timeouts::timeout_for;
use crate::scsi::{DataDirection, ScsiError, ScsiTransport};

use super::address::ElementAddressAssignment;
use super::element_status::ElementType;
use super::error::ChangerError;
use super::wire::{
    to_u24, ExchangeMediumCdb, MoveMediumCdb, PositionToElementCdb, ReadElementStatusCdb,
    PAGE_ELEMENT_ADDRESS_ASSIGNMENT, RES_DVCID, RES_VOLTAG,
};

/// Send one CDB and map a failure to [`ChangerError::Scsi`].
fn run(
    t: &mut dyn ScsiTransport,
    command: &'static str,
    cdb: &[u8],
    data: DataDirection<'_>,
) -> Result<usize, ChangerError> {
    t.execute(cdb, data, timeout_for(cdb))
        .map(|c| c.transferred)
        .map_err(|e| ChangerError::scsi(command, t.path(), e))
}

/// True when the failure is ILLEGAL REQUEST (the device rejects the CDB or a field).
pub fn is_illegal_request(err: &ChangerError) -> bool {
    matches!(
        err,
        ChangerError::Scsi {
            source: ScsiError::CheckCondition { sense, .. },
            ..
        } if sense.key == crate::scsi::SenseKey::IllegalRequest
    )
}

/// Read the element address assignment: MODE SENSE(6) (opcode 0x1A,
/// SPC-5 6.15) with DBD for page 0x1D (SMC-3 7.3.4); if the changer
/// rejects MODE SENSE(6), MODE SENSE(10) (opcode 0x5A, SPC-5 6.16).
pub fn mode_sense_element_addresses(
    t: &mut dyn ScsiTransport,
) -> Result<ElementAddressAssignment, ChangerError> {
    const HEADER_6_LEN: usize = 4;
    let header_10_len = size_of::<ModeHeader10Wire>();
    let (data, header_len) = match spc::mode_sense6(t, PAGE_ELEMENT_ADDRESS_ASSIGNMENT, 0, true)
        .map_err(|e| ChangerError::scsi("MODE SENSE(6)", t.path(), e))
    {
        Ok(data) => (data, HEADER_6_LEN),
        Err(e) if is_illegal_request(&e) => {
            let data = spc::mode_sense10(t, PAGE_ELEMENT_ADDRESS_ASSIGNMENT, 0, true)
                .map_err(|e| ChangerError::scsi("MODE SENSE(10)", t.path(), e))?;
            (data, header_10_len)
        }
        Err(e) => return Err(e),
    };
    ElementAddressAssignment::from_mode_data(&data, header_len).map_err(|message| {
        ChangerError::Decode {
            what: "element address assignment page 0x1D",
            device: t.path().to_string(),
            message,
        }
    })
}

/// What to ask READ ELEMENT STATUS for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementStatusRequest {
    /// `None` asks for all element types (code 0).
    pub element_type: Option<ElementType>,
    pub starting_address: u16,
    pub number_of_elements: u16,
    /// Ask for volume tags (barcodes).
    pub voltag: bool,
    /// Ask for device identifiers of data transfer elements.
    pub dvcid: bool,
}

/// READ ELEMENT STATUS (opcode 0xB8, SMC-3 6.15). Fills `buf` (its length
/// is the allocation length; keep it at most 0xFFFF, some changers honour
/// only two of the three length bytes) and returns the bytes received.
pub fn read_element_status(
    t: &mut dyn ScsiTransport,
    req: &ElementStatusRequest,
    buf: &mut [u8],
) -> Result<usize, ChangerError> {
    let cdb = ReadElementStatusCdb {
        opcode: READ_ELEMENT_STATUS,
        voltag_type: req.element_type.map_or(0, ElementType::code)
            | if req.voltag { RES_VOLTAG } else { 0 },
        starting_address: U16::new(req.starting_address),
        number_of_elements: U16::new(req.number_of_elements),
        flags: if req.dvcid { RES_DVCID } else { 0 },
        allocation_length: to_u24(buf.len() as u32),
        ..Default::default()
    };
    run(
        t,
        "READ ELEMENT STATUS",
        cdb.as_bytes(),
        DataDirection::FromDevice(buf),
    )
}

/// MOVE MEDIUM (opcode 0xA5, SMC-3 6.11): move the cartridge in `source`
/// to the empty element `destination` with the medium transport
/// `transport`. May take minutes on large libraries.
pub fn move_medium(
    t: &mut dyn ScsiTransport,
    transport: u16,
    source: u16,
    destination: u16,
) -> Result<(), ChangerError> {
    let cdb = MoveMediumCdb {
        opcode: MOVE_MEDIUM,
        transport: U16::new(transport),
        source: U16::new(source),
        destination: U16::new(destination),
        ..Default::default()
    };
    run(t, "MOVE MEDIUM", cdb.as_bytes(), DataDirection::None).map(drop)
}

/// EXCHANGE MEDIUM (opcode 0xA6, SMC-3 6.3): move `source` to
/// `first_destination` and the cartridge that was there to
/// `second_destination` (equal to `source` for a swap).
pub fn exchange_medium(
    t: &mut dyn ScsiTransport,
    transport: u16,
    source: u16,
    first_destination: u16,
    second_destination: u16,
) -> Result<(), ChangerError> {
    let cdb = ExchangeMediumCdb {
        opcode: EXCHANGE_MEDIUM,
        transport: U16::new(transport),
        source: U16::new(source),
        first_destination: U16::new(first_destination),
        second_destination: U16::new(second_destination),
        ..Default::default()
    };
    run(t, "EXCHANGE MEDIUM", cdb.as_bytes(), DataDirection::None).map(drop)
}

/// INITIALIZE ELEMENT STATUS (opcode 0x07, SMC-3 6.2): the changer
/// re-scans every element (barcodes, full/empty). Slow on big libraries.
pub fn initialize_element_status(t: &mut dyn ScsiTransport) -> Result<(), ChangerError> {
    let cdb = [INITIALIZE_ELEMENT_STATUS, 0, 0, 0, 0, 0];
    run(t, "INITIALIZE ELEMENT STATUS", &cdb, DataDirection::None).map(drop)
}

/// POSITION TO ELEMENT (opcode 0x2B, SMC-3 6.14): move the medium
/// transport in front of `destination` without moving a cartridge.
pub fn position_to_element(
    t: &mut dyn ScsiTransport,
    transport: u16,
    destination: u16,
) -> Result<(), ChangerError> {
    let cdb = PositionToElementCdb {
        opcode: POSITION_TO_ELEMENT,
        transport: U16::new(transport),
        destination: U16::new(destination),
        ..Default::default()
    };
    run(
        t,
        "POSITION TO ELEMENT",
        cdb.as_bytes(),
        DataDirection::None,
    )
    .map(drop)
}

/// PREVENT ALLOW MEDIUM REMOVAL (opcode 0x1E, SMC-3 6.13): lock or unlock
/// the import/export elements and magazines against operator removal.
pub fn prevent_allow_medium_removal(
    t: &mut dyn ScsiTransport,
    prevent: bool,
) -> Result<(), ChangerError> {
    let cdb = [PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, u8::from(prevent), 0];
    run(t, "PREVENT ALLOW MEDIUM REMOVAL", &cdb, DataDirection::None).map(drop)
}
