//! The emulated medium changer (SMC-3): MODE SENSE pages 0x1D/0x1E/0x1F,
//! READ ELEMENT STATUS, MOVE MEDIUM, EXCHANGE MEDIUM, INITIALIZE ELEMENT
//! STATUS (also WITH RANGE), POSITION TO ELEMENT and PREVENT ALLOW MEDIUM
//! REMOVAL.
//!
//! The device dispatch answers INQUIRY, TEST UNIT READY and REQUEST SENSE
//! itself and hands every other changer CDB to [`execute`].
//!
//! Element addresses come from the library's [`ChangerPersonality`]: one
//! medium transport at `transport_base`, storage slots from `slot_base`,
//! import/export slots from `ie_base`, drives from `drive_base`.
//!
//! Moves are checked before anything changes and applied in one
//! [`Library::update`], so an illegal move leaves the library as it was:
//!
//! | refusal | sense |
//! |---|---|
//! | address is no element (or the transport) | 05/2101 INVALID ELEMENT ADDRESS |
//! | source empty | 05/3B0E MEDIUM SOURCE ELEMENT EMPTY |
//! | destination full | 05/3B0D MEDIUM DESTINATION ELEMENT FULL |
//! | drive has not ejected, or removal prevented | 05/5302 MEDIUM REMOVAL PREVENTED |
//! | used-up cleaning cartridge to a drive | 03/3013 CLEANING VOLUME EXPIRED |
//! | armed `move-hardware-error` fault | 04/1501 MECHANICAL POSITIONING ERROR |
//!
//! A data cartridge moved into a drive is loaded at once (LTO drives load
//! on insertion): `loaded = true`, and the drive reports UNIT ATTENTION
//! 28/00 to its next command. A cleaning cartridge cleans at once: its
//! `uses_left` goes down by one and the drive ejects it (`loaded = false`),
//! ready to be taken back.

use super::smc_wire::{
    address_page as encode_address_page, cdb16, cdb24, descriptor_head, element_type, page_header,
    status_header, t10_device_identifier, volume_tag, Addresses, Range, DESC_ACCESS, DESC_EXENAB,
    DESC_FULL, DESC_INENAB, PAGE_ALL, PAGE_DEVICE_CAPABILITIES, PAGE_ELEMENT_ADDRESS_ASSIGNMENT,
    PAGE_TRANSPORT_GEOMETRY,
};
use crate::scsi::opcodes::{
    EXCHANGE_MEDIUM, INITIALIZE_ELEMENT_STATUS, INITIALIZE_ELEMENT_STATUS_WITH_RANGE,
    MODE_SENSE_10, MODE_SENSE_6, MOVE_MEDIUM, POSITION_TO_ELEMENT, PREVENT_ALLOW_MEDIUM_REMOVAL,
    READ_ELEMENT_STATUS,
};
use crate::scsi::{DataDirection, SenseData, SenseKey};

use super::cdb::{data_in, no_data, CdbResult, CheckCondition};
use super::common::VENDOR;
use super::drive::drive_product;
use super::fault::{count_command, DeviceId, FaultClass, FaultKind};
use super::library::{EmuError, Library};
use super::state::{CartridgeKind, LibraryState, Location};

/// Handle one changer CDB (everything but INQUIRY, TEST UNIT READY and
/// REQUEST SENSE, which the device dispatch answers).
pub(crate) fn execute(lib: &Library, cdb: &[u8], data: DataDirection<'_>) -> CdbResult {
    let Some(&opcode) = cdb.first() else {
        return Err(CheckCondition::invalid_opcode());
    };
    match opcode {
        MODE_SENSE_6 | MODE_SENSE_10 => {
            let state = read(lib)?;
            let reply = mode_sense(&state, cdb)?;
            Ok(data_in(data_buf(data)?, &reply))
        }
        READ_ELEMENT_STATUS => {
            let state = read(lib)?;
            let (reply, alloc) = read_element_status(&state, cdb)?;
            let buf = data_buf(data)?;
            let n = alloc.min(buf.len());
            let mut done = data_in(&mut buf[..n], &reply);
            done.residual = buf.len() - done.transferred;
            Ok(done)
        }
        MOVE_MEDIUM => {
            // MOVE MEDIUM (SMC-3): transport 2..3, source 4..5, destination 6..7
            cdb_len(cdb, 12)?;
            let check = |state: &LibraryState| -> Result<(Elem, Elem), CheckCondition> {
                check_transport(state, cdb16(cdb, 2))?;
                let src = resolve(state, cdb16(cdb, 4))?;
                let dst = resolve(state, cdb16(cdb, 6))?;
                check_move(state, src, dst)?;
                Ok((src, dst))
            };
            check(&read(lib)?)?;
            move_fault(lib)?;
            changing(lib, |state| {
                let (src, dst) = check(state)?;
                Ok(apply_move(state, src, dst))
            })
        }
        EXCHANGE_MEDIUM => {
            // EXCHANGE MEDIUM (SMC-3): transport 2..3, source 4..5, first
            // destination 6..7, second destination 8..9
            cdb_len(cdb, 12)?;
            let check = |state: &LibraryState| -> Result<(Elem, Elem, Elem), CheckCondition> {
                check_transport(state, cdb16(cdb, 2))?;
                let src = resolve(state, cdb16(cdb, 4))?;
                let dst1 = resolve(state, cdb16(cdb, 6))?;
                let dst2 = resolve(state, cdb16(cdb, 8))?;
                check_exchange(state, src, dst1, dst2)?;
                Ok((src, dst1, dst2))
            };
            check(&read(lib)?)?;
            move_fault(lib)?;
            changing(lib, |state| {
                let (src, dst1, dst2) = check(state)?;
                Ok(exchange(state, src, dst1, dst2))
            })
        }
        INITIALIZE_ELEMENT_STATUS => {
            // The emulated inventory is always current.
            read(lib)?;
            Ok(no_data())
        }
        INITIALIZE_ELEMENT_STATUS_WITH_RANGE => {
            // RANGE (byte 1 bit 0): only the elements from the starting
            // address on; the starting address must name an element.
            let state = read(lib)?;
            let range = cdb.get(1).is_some_and(|b| b & 0x01 != 0);
            let start = match cdb.get(2..4) {
                Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                _ => return Err(CheckCondition::invalid_field_in_cdb(0, None)),
            };
            if range && element_at(&state, start).is_none() {
                return Err(invalid_element_address());
            }
            Ok(no_data())
        }
        POSITION_TO_ELEMENT => {
            // POSITION TO ELEMENT (SMC-3): transport 2..3, destination 4..5
            cdb_len(cdb, 10)?;
            let state = read(lib)?;
            check_transport(&state, cdb16(cdb, 2))?;
            resolve(&state, cdb16(cdb, 4))?;
            Ok(no_data())
        }
        PREVENT_ALLOW_MEDIUM_REMOVAL => {
            let prevent = match cdb.get(4).map(|b| b & 0x03) {
                Some(0) => false,
                Some(1) => true,
                _ => return Err(CheckCondition::invalid_field_in_cdb(4, Some(0))),
            };
            changing(lib, |state| {
                state.changer_removal_prevented = prevent;
                Ok(Vec::new())
            })
        }
        _ => Err(CheckCondition::invalid_opcode()),
    }
}

fn data_buf(data: DataDirection<'_>) -> Result<&mut [u8], CheckCondition> {
    match data {
        DataDirection::FromDevice(buf) => Ok(buf),
        DataDirection::None => Ok(&mut []),
        DataDirection::ToDevice(_) => Err(CheckCondition::invalid_field_in_cdb(0, None)),
    }
}

/// The CDB has at least `len` bytes (its opcode's length).
fn cdb_len(cdb: &[u8], len: usize) -> Result<(), CheckCondition> {
    if cdb.len() < len {
        return Err(CheckCondition::invalid_field_in_cdb(0, None));
    }
    Ok(())
}

/// The library state could not be read or written: HARDWARE ERROR,
/// INTERNAL TARGET FAILURE (04/4400).
fn internal_failure(_e: EmuError) -> CheckCondition {
    CheckCondition::new(SenseData::new(SenseKey::HardwareError, 0x44, 0x00))
}

fn read(lib: &Library) -> Result<LibraryState, CheckCondition> {
    lib.read_state().map_err(internal_failure)
}

/// Run a checked change under the library lock. The closure returns the
/// barcodes that went into drives (their load is counted) or a refusal;
/// it checks before it changes anything, so a refusal writes nothing.
fn changing(
    lib: &Library,
    f: impl FnOnce(&mut LibraryState) -> Result<Vec<String>, CheckCondition>,
) -> CdbResult {
    let outcome = lib.update(|state| Ok(f(state))).map_err(internal_failure)?;
    for barcode in outcome? {
        lib.count_load(&barcode).map_err(internal_failure)?;
    }
    Ok(no_data())
}

/// Count a (valid) move for the fault injector: an armed
/// `move-hardware-error` on the changer fires as HARDWARE ERROR,
/// MECHANICAL POSITIONING ERROR (04/1501) and the move does not happen.
/// Refused moves are not counted.
fn move_fault(lib: &Library) -> Result<(), CheckCondition> {
    match count_command(lib, DeviceId::Changer, FaultClass::Move) {
        Ok(Some(FaultKind::MoveHardwareError)) => Err(sense(SenseKey::HardwareError, 0x15, 0x01)),
        Ok(_) => Ok(()),
        Err(e) => Err(internal_failure(e)),
    }
}

// ---------------------------------------------------------------- elements

/// One element of the emulated changer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Transport,
    Slot(usize),
    Ie(usize),
    Drive(usize),
}

/// The element address assignment the personality gives.
pub(crate) fn element_addresses(state: &LibraryState) -> Addresses {
    let p = &state.config.changer_personality;
    let r = |first: u16, count: usize| Range {
        first,
        count: count.min(u16::MAX as usize) as u16,
    };
    Addresses {
        transport: r(p.transport_base, 1),
        storage: r(p.slot_base, state.slots.len()),
        import_export: r(p.ie_base, state.ie_slots.len()),
        data_transfer: r(p.drive_base, state.drives.len()),
    }
}

fn address_of(state: &LibraryState, e: Elem) -> u16 {
    let a = element_addresses(state);
    match e {
        Elem::Transport => a.transport.first,
        Elem::Slot(i) => a.storage.at(i),
        Elem::Ie(i) => a.import_export.at(i),
        Elem::Drive(i) => a.data_transfer.at(i),
    }
}

fn element_at(state: &LibraryState, address: u16) -> Option<Elem> {
    let a = element_addresses(state);
    let idx = |r: Range| r.contains(address).then(|| (address - r.first) as usize);
    if let Some(i) = idx(a.data_transfer) {
        return Some(Elem::Drive(i));
    }
    if let Some(i) = idx(a.storage) {
        return Some(Elem::Slot(i));
    }
    if let Some(i) = idx(a.import_export) {
        return Some(Elem::Ie(i));
    }
    a.transport.contains(address).then_some(Elem::Transport)
}

fn invalid_element_address() -> CheckCondition {
    CheckCondition::new(SenseData::new(SenseKey::IllegalRequest, 0x21, 0x01))
}

/// A storage, import/export or drive element at `address` (05/2101 otherwise).
fn resolve(state: &LibraryState, address: u16) -> Result<Elem, CheckCondition> {
    match element_at(state, address) {
        Some(Elem::Transport) | None => Err(invalid_element_address()),
        Some(e) => Ok(e),
    }
}

/// The transport address of a move: 0 (the default transport) or ours.
fn check_transport(state: &LibraryState, address: u16) -> Result<(), CheckCondition> {
    if address == 0 || element_at(state, address) == Some(Elem::Transport) {
        Ok(())
    } else {
        Err(invalid_element_address())
    }
}

fn content(state: &LibraryState, e: Elem) -> Option<&str> {
    match e {
        Elem::Transport => None,
        Elem::Slot(i) => state.slots.get(i)?.as_deref(),
        Elem::Ie(i) => state.ie_slots.get(i)?.as_deref(),
        Elem::Drive(i) => state.drives.get(i)?.cartridge.as_deref(),
    }
}

fn set_content(state: &mut LibraryState, e: Elem, barcode: Option<String>) {
    match e {
        Elem::Transport => {}
        Elem::Slot(i) => state.slots[i] = barcode,
        Elem::Ie(i) => state.ie_slots[i] = barcode,
        Elem::Drive(i) => {
            if barcode.is_some() {
                state.drives[i].loads += 1;
            }
            state.drives[i].cartridge = barcode
        }
    }
}

fn location(e: Elem) -> Option<Location> {
    match e {
        Elem::Transport => None,
        Elem::Slot(i) => Some(Location::Slot(i)),
        Elem::Ie(i) => Some(Location::ImportExport(i)),
        Elem::Drive(i) => Some(Location::Drive(i)),
    }
}

fn elem_of(loc: Location) -> Elem {
    match loc {
        Location::Slot(i) => Elem::Slot(i),
        Location::ImportExport(i) => Elem::Ie(i),
        Location::Drive(i) => Elem::Drive(i),
    }
}

// ------------------------------------------------------------------- moves

fn sense(key: SenseKey, asc: u8, ascq: u8) -> CheckCondition {
    CheckCondition::new(SenseData::new(key, asc, ascq))
}

/// Can the cartridge in `src` go to `dst`? (Nothing is changed.)
fn check_move(state: &LibraryState, src: Elem, dst: Elem) -> Result<(), CheckCondition> {
    let Some(barcode) = content(state, src) else {
        return Err(sense(SenseKey::IllegalRequest, 0x3b, 0x0e));
    };
    if content(state, dst).is_some() {
        return Err(sense(SenseKey::IllegalRequest, 0x3b, 0x0d));
    }
    check_removable(state, src)?;
    check_accepts(state, barcode, dst)
}

/// A drive refuses a used-up cleaning cartridge: MEDIUM ERROR, CLEANING
/// VOLUME EXPIRED (03/3013).
fn check_accepts(state: &LibraryState, barcode: &str, dst: Elem) -> Result<(), CheckCondition> {
    if let (Elem::Drive(_), Some(CartridgeKind::Cleaning { uses_left: 0 })) =
        (dst, state.cartridges.get(barcode).map(|c| &c.kind))
    {
        return Err(sense(SenseKey::MediumError, 0x30, 0x13));
    }
    Ok(())
}

/// A cartridge may leave a drive only after the drive ejected it.
fn check_removable(state: &LibraryState, src: Elem) -> Result<(), CheckCondition> {
    if let Elem::Drive(i) = src {
        let bay = &state.drives[i];
        if bay.loaded || bay.removal_prevented {
            return Err(sense(SenseKey::IllegalRequest, 0x53, 0x02));
        }
    }
    Ok(())
}

/// Take the cartridge out of `e`: its barcode and where it came from
/// (for a drive, the drive's own source element).
fn take_out(state: &mut LibraryState, e: Elem) -> Option<(String, Option<Location>)> {
    let barcode = content(state, e)?.to_string();
    let origin = match e {
        Elem::Drive(i) => state.drives[i].source.or(location(e)),
        _ => location(e),
    };
    set_content(state, e, None);
    if let Elem::Drive(i) = e {
        let bay = &mut state.drives[i];
        bay.source = None;
        bay.loaded = false;
    }
    Some((barcode, origin))
}

/// Put a cartridge into `e`. A data cartridge in a drive is loaded at once
/// (returned, to count the load); a cleaning cartridge cleans at once (one
/// use less) and is left ejected.
fn put_in(
    state: &mut LibraryState,
    e: Elem,
    barcode: String,
    origin: Option<Location>,
) -> Option<String> {
    set_content(state, e, Some(barcode.clone()));
    let Elem::Drive(i) = e else {
        return None;
    };
    let cleaning = match state.cartridges.get_mut(&barcode).map(|c| &mut c.kind) {
        Some(CartridgeKind::Cleaning { uses_left }) => {
            *uses_left = uses_left.saturating_sub(1);
            true
        }
        _ => false,
    };
    let bay = &mut state.drives[i];
    bay.source = origin;
    bay.loaded = !cleaning;
    bay.removal_prevented = false;
    (!cleaning).then_some(barcode)
}

/// Move a (checked) cartridge; returns the barcodes loaded into drives.
fn apply_move(state: &mut LibraryState, src: Elem, dst: Elem) -> Vec<String> {
    let Some((barcode, origin)) = take_out(state, src) else {
        return Vec::new();
    };
    put_in(state, dst, barcode, origin).into_iter().collect()
}

/// Can EXCHANGE MEDIUM move `src` to `dst1` and `dst1`'s cartridge to
/// `dst2`? (Nothing is changed.)
fn check_exchange(
    state: &LibraryState,
    src: Elem,
    dst1: Elem,
    dst2: Elem,
) -> Result<(), CheckCondition> {
    let (Some(first), Some(second)) = (content(state, src), content(state, dst1)) else {
        return Err(sense(SenseKey::IllegalRequest, 0x3b, 0x0e));
    };
    if src == dst1 {
        return Err(invalid_element_address());
    }
    if dst2 != src && content(state, dst2).is_some() {
        return Err(sense(SenseKey::IllegalRequest, 0x3b, 0x0d));
    }
    check_removable(state, src)?;
    check_removable(state, dst1)?;
    check_accepts(state, first, dst1)?;
    check_accepts(state, second, dst2)
}

/// EXCHANGE MEDIUM (checked): `src` to `dst1`, the cartridge of `dst1` to
/// `dst2`; returns the barcodes loaded into drives.
fn exchange(state: &mut LibraryState, src: Elem, dst1: Elem, dst2: Elem) -> Vec<String> {
    // The first cartridge goes into the hand, the second moves on, the first is put down.
    let first = take_out(state, src);
    let mut loaded = apply_move(state, dst1, dst2);
    if let Some((barcode, origin)) = first {
        loaded.extend(put_in(state, dst1, barcode, origin));
    }
    loaded
}

// --------------------------------------------------- READ ELEMENT STATUS

/// Build the READ ELEMENT STATUS reply; returns it with the allocation length.
fn read_element_status(
    state: &LibraryState,
    cdb: &[u8],
) -> Result<(Vec<u8>, usize), CheckCondition> {
    // READ ELEMENT STATUS (SMC-3): byte 1 VOLTAG (bit 4) and ELEMENT TYPE
    // CODE (bits 3..0), STARTING ELEMENT ADDRESS 2..3, NUMBER OF ELEMENTS
    // 4..5, byte 6 CURDATA (bit 1) and DVCID (bit 0), ALLOCATION LENGTH 7..9
    cdb_len(cdb, 12)?;
    let personality = &state.config.changer_personality;
    let voltag = cdb[1] & 0x10 != 0;
    let dvcid = cdb[6] & 0x01 != 0;
    if voltag && !personality.barcode_reader {
        return Err(CheckCondition::invalid_field_in_cdb(1, Some(4)));
    }
    if dvcid && !personality.dvcid {
        return Err(CheckCondition::invalid_field_in_cdb(6, Some(0)));
    }
    let wanted = match cdb[1] & 0x0f {
        0 => None,
        code @ element_type::TRANSPORT..=element_type::DATA_TRANSFER => Some(code),
        _ => return Err(CheckCondition::invalid_field_in_cdb(1, Some(0))),
    };
    let alloc = cdb24(cdb, 7);
    let starting_address = cdb16(cdb, 2);
    let number_of_elements = cdb16(cdb, 4);

    let mut elems: Vec<(u16, Elem)> = all_elements(state)
        .into_iter()
        .map(|e| (address_of(state, e), e))
        .filter(|(a, e)| {
            *a >= starting_address && (wanted.is_none() || wanted == Some(type_of(*e)))
        })
        .collect();
    elems.sort_by_key(|(a, _)| *a);
    elems.truncate(number_of_elements as usize);

    let mut body = Vec::new();
    let mut i = 0;
    while i < elems.len() {
        let t = type_of(elems[i].1);
        let run = elems[i..]
            .iter()
            .take_while(|(_, e)| type_of(*e) == t)
            .count();
        let descs: Vec<Vec<u8>> = elems[i..i + run]
            .iter()
            .map(|(a, e)| descriptor(state, *a, *e, voltag, dvcid))
            .collect();
        let desc_len = descs.iter().map(Vec::len).max().unwrap_or(0);
        body.extend_from_slice(&page_header(t, voltag, desc_len, desc_len * run));
        for mut d in descs {
            d.resize(desc_len, 0);
            body.extend_from_slice(&d);
        }
        i += run;
    }
    let header = status_header(
        elems.first().map_or(0, |(a, _)| *a),
        elems.len() as u16,
        body.len(),
    );
    let mut reply = header.to_vec();
    reply.extend_from_slice(&body);
    Ok((reply, alloc))
}

fn all_elements(state: &LibraryState) -> Vec<Elem> {
    let mut v = vec![Elem::Transport];
    v.extend((0..state.slots.len()).map(Elem::Slot));
    v.extend((0..state.ie_slots.len()).map(Elem::Ie));
    v.extend((0..state.drives.len()).map(Elem::Drive));
    v
}

/// The ELEMENT TYPE CODE of an element.
fn type_of(e: Elem) -> u8 {
    match e {
        Elem::Transport => element_type::TRANSPORT,
        Elem::Slot(_) => element_type::STORAGE,
        Elem::Ie(_) => element_type::IMPORT_EXPORT,
        Elem::Drive(_) => element_type::DATA_TRANSFER,
    }
}

fn descriptor(state: &LibraryState, address: u16, e: Elem, voltag: bool, dvcid: bool) -> Vec<u8> {
    let barcode = content(state, e);
    let mut flags = if barcode.is_some() { DESC_FULL } else { 0 };
    match e {
        Elem::Transport => {}
        Elem::Ie(_) => flags |= DESC_ACCESS | DESC_INENAB | DESC_EXENAB,
        _ => flags |= DESC_ACCESS,
    }
    let source = match e {
        Elem::Drive(i) => state.drives[i]
            .source
            .map(|l| address_of(state, elem_of(l))),
        _ => None,
    };
    let mut d = descriptor_head(address, flags, source).to_vec();
    if voltag {
        d.extend_from_slice(&volume_tag(barcode));
    }
    if let (Elem::Drive(i), true) = (e, dvcid) {
        // The same T10 vendor identification the drive reports in its VPD page 0x83.
        let product = drive_product(state.config.lto_generation);
        d.extend_from_slice(&t10_device_identifier(
            VENDOR,
            &product,
            &state.drives[i].serial,
        ));
    }
    d
}

// ---------------------------------------------------------- MODE SENSE

/// MODE SENSE(6)/(10): pages 0x1D, 0x1E, 0x1F or all (0x3F); no block
/// descriptors (a changer has none).
fn mode_sense(state: &LibraryState, cdb: &[u8]) -> Result<Vec<u8>, CheckCondition> {
    let ten = cdb[0] == MODE_SENSE_10;
    let need = if ten { 10 } else { 6 };
    if cdb.len() < need {
        return Err(CheckCondition::invalid_field_in_cdb(0, None));
    }
    let pc = cdb[2] >> 6;
    let page = cdb[2] & 0x3f;
    if cdb[3] != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(3, None));
    }
    if pc == 3 {
        // SAVING PARAMETERS NOT SUPPORTED (05/3900).
        return Err(sense(SenseKey::IllegalRequest, 0x39, 0x00));
    }
    let changeable = pc == 1;
    let pages: Vec<Vec<u8>> = match page {
        PAGE_ELEMENT_ADDRESS_ASSIGNMENT => vec![address_page(state)],
        PAGE_TRANSPORT_GEOMETRY => vec![geometry_page()],
        PAGE_DEVICE_CAPABILITIES => vec![capabilities_page()],
        PAGE_ALL => vec![address_page(state), geometry_page(), capabilities_page()],
        _ => return Err(CheckCondition::invalid_field_in_cdb(2, Some(5))),
    };
    let mut body = Vec::new();
    for mut p in pages {
        if changeable {
            // Nothing is changeable: page code and length, zero bits.
            p[2..].fill(0);
        }
        body.extend_from_slice(&p);
    }
    let mut reply = if ten {
        let len = (body.len() + 6) as u16;
        let mut h = vec![0u8; 8];
        h[0..2].copy_from_slice(&len.to_be_bytes());
        h
    } else {
        vec![(body.len() + 3).min(255) as u8, 0, 0, 0]
    };
    reply.extend_from_slice(&body);
    Ok(reply)
}

fn address_page(state: &LibraryState) -> Vec<u8> {
    encode_address_page(&element_addresses(state))
}

/// Transport geometry parameters page 0x1E (SMC-3 7.3.6): one transport,
/// no rotation.
fn geometry_page() -> Vec<u8> {
    vec![PAGE_TRANSPORT_GEOMETRY, 2, 0, 0]
}

/// Device capabilities page 0x1F (SMC-3 7.3.2): every element type can
/// store media (except the transport) and every move between storage,
/// import/export and drives is possible, as is every exchange.
fn capabilities_page() -> Vec<u8> {
    const DT: u8 = 0x08;
    const IE: u8 = 0x04;
    const ST: u8 = 0x02;
    let all = DT | IE | ST;
    let mut p = vec![0u8; 20];
    p[0] = PAGE_DEVICE_CAPABILITIES;
    p[1] = 18;
    p[2] = all; // StorDT, StorI/E, StorST
    p[4..8].copy_from_slice(&[all, all, all, all]); // MT->, ST->, I/E->, DT->
    p[12..16].copy_from_slice(&[all, all, all, all]); // exchanges
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::state::{DriveBay, LibraryConfig};

    fn state(slots: &[Option<&str>], drives: usize) -> LibraryState {
        let config = LibraryConfig {
            drives,
            slots: slots.len(),
            ie_slots: 1,
            serial: "EMUTEST".into(),
            ..LibraryConfig::default()
        };
        let mut cartridges = std::collections::BTreeMap::new();
        for b in slots.iter().flatten() {
            let kind = if b.starts_with("CLN") {
                CartridgeKind::Cleaning { uses_left: 1 }
            } else {
                CartridgeKind::Data
            };
            cartridges.insert(
                b.to_string(),
                crate::emulator::state::Cartridge {
                    barcode: b.to_string(),
                    kind,
                    write_protected: false,
                    capacity: 1 << 20,
                },
            );
        }
        LibraryState {
            version: LibraryState::VERSION,
            generation: 1,
            slots: slots.iter().map(|s| s.map(String::from)).collect(),
            ie_slots: vec![None],
            drives: (0..drives)
                .map(|i| DriveBay {
                    serial: format!("EMUTESTD{i:02}"),
                    cartridge: None,
                    source: None,
                    loaded: false,
                    removal_prevented: false,
                    loads: 0,
                })
                .collect(),
            cartridges,
            changer_removal_prevented: false,
            faults: Vec::new(),
            config,
        }
    }

    fn asc(r: Result<(), CheckCondition>) -> (u8, u8, u8) {
        let s = r.unwrap_err().sense;
        (s.key.code(), s.asc, s.ascq)
    }

    #[test]
    fn illegal_moves_give_smc_sense() {
        let s = state(&[Some("A1"), None], 1);
        assert_eq!(
            asc(check_move(&s, Elem::Slot(1), Elem::Drive(0))),
            (5, 0x3b, 0x0e)
        );
        let mut full = s.clone();
        full.drives[0].cartridge = Some("X".into());
        full.drives[0].loaded = true;
        assert_eq!(
            asc(check_move(&full, Elem::Slot(0), Elem::Drive(0))),
            (5, 0x3b, 0x0d)
        );
        assert_eq!(
            asc(check_move(&full, Elem::Drive(0), Elem::Slot(1))),
            (5, 0x53, 0x02)
        );
        assert_eq!(asc(resolve(&s, 0x7777).map(drop)), (5, 0x21, 0x01));
    }

    #[test]
    fn move_tracks_source_and_autoloads() {
        let mut s = state(&[Some("A1"), None], 1);
        let loaded = apply_move(&mut s, Elem::Slot(0), Elem::Drive(0));
        assert_eq!(loaded, vec!["A1".to_string()]);
        assert_eq!(s.drives[0].source, Some(Location::Slot(0)));
        assert!(s.drives[0].loaded);
        assert_eq!(s.slots[0], None);
    }

    #[test]
    fn exchange_with_a_drive_swaps_and_tracks_sources() {
        let mut s = state(&[Some("A1"), None, Some("CLN001L1")], 1);
        apply_move(&mut s, Elem::Slot(2), Elem::Drive(0)); // cleaning: ejected at once
        assert_eq!(s.drives[0].source, Some(Location::Slot(2)));
        check_exchange(&s, Elem::Slot(0), Elem::Drive(0), Elem::Slot(1)).unwrap();
        let loaded = exchange(&mut s, Elem::Slot(0), Elem::Drive(0), Elem::Slot(1));
        assert_eq!(loaded, vec!["A1".to_string()]);
        assert_eq!(s.slots[1].as_deref(), Some("CLN001L1"));
        assert_eq!(s.slots[0], None);
        assert_eq!(s.drives[0].cartridge.as_deref(), Some("A1"));
        assert_eq!(s.drives[0].source, Some(Location::Slot(0)));
        assert!(s.drives[0].loaded);
        // A loaded drive cannot give its cartridge up.
        assert_eq!(
            asc(check_exchange(
                &s,
                Elem::Slot(1),
                Elem::Drive(0),
                Elem::Slot(1)
            )),
            (5, 0x53, 0x02)
        );
    }

    #[test]
    fn cleaning_uses_up_the_cartridge() {
        let mut s = state(&[Some("CLN001L1"), None], 1);
        assert!(apply_move(&mut s, Elem::Slot(0), Elem::Drive(0)).is_empty());
        assert!(!s.drives[0].loaded);
        apply_move(&mut s, Elem::Drive(0), Elem::Slot(0));
        assert_eq!(
            asc(check_move(&s, Elem::Slot(0), Elem::Drive(0))),
            (3, 0x30, 0x13)
        );
    }

    #[test]
    fn element_status_honours_type_start_count() {
        let s = state(&[Some("A1"), None, Some("A3")], 2);
        // VOLTAG, storage elements from 0x1001, 5 of them, 64 KiB
        let mut cdb = [
            READ_ELEMENT_STATUS,
            0x12,
            0x10,
            0x01,
            0,
            5,
            0,
            0,
            0xff,
            0xff,
            0,
            0,
        ];
        let (reply, _) = read_element_status(&s, &cdb).unwrap();
        let r = crate::changer::parse_element_status(&reply).unwrap();
        assert_eq!(r.elements.len(), 2);
        assert_eq!(r.elements[1].primary_tag.as_deref(), Some("A3"));
        // all types from address 0, DVCID, 20 elements
        cdb[1] = 0;
        cdb[2..4].copy_from_slice(&[0, 0]);
        cdb[6] = 0x01;
        cdb[4..6].copy_from_slice(&[0, 20]);
        let (reply, _) = read_element_status(&s, &cdb).unwrap();
        let r = crate::changer::parse_element_status(&reply).unwrap();
        assert_eq!(r.elements.len(), 1 + 3 + 1 + 2);
        let d = r.elements.iter().find(|e| e.address == 0x101).unwrap();
        assert_eq!(
            d.device_id.as_ref().and_then(|i| i.serial.as_deref()),
            Some("EMUTESTD01")
        );
    }
}
