//! READ ATTRIBUTE (0x8C, SPC-5 6.21) and WRITE ATTRIBUTE (0x8D, SPC-5 6.53)
//! of the emulated drive: the cartridge memory (MAM). Device and medium
//! attributes are computed from the configuration, the cartridge and its
//! `MediumInfo`; host attributes (0x0800-0x0BFF, 0x1400-0x17FF) are stored
//! in `MediumInfo::host_attributes`.
//!
//! Host attributes outside the standard table are read back as binary
//! (the stored value keeps no format). WRITE ATTRIBUTE to a read-only
//! (device or medium) attribute is 05/2600 as SPC-5 and the HPE/IBM manuals
//! specify; a write-protected cartridge refuses it with 7/2700 (IBM).

use super::super::cdb::{Cdb, CdbResult, CheckCondition};
use super::super::spc_wire::{
    ascii_field, attribute, be_field, parse_attribute_list, with_available_data,
};
use super::log::MEDIUM_MANUFACTURER;
use super::{drive_density, medium, parameter_list, respond, InfoContext, MediumContext, MIB};
use crate::emulator::state::{CartridgeKind, LibraryConfig};
use crate::scsi::{DataDirection, SenseData, SenseKey};
use crate::spec::lto::{LTO_ASSIGNING_ORGANIZATION, LTO_MEDIA_WIDTH};
use crate::spec::mam::format::{ASCII, BINARY, TEXT};
use crate::spec::mam::{
    id, SA_ATTRIBUTE_LIST, SA_ATTRIBUTE_VALUES, SA_PARTITION_LIST, SA_SUPPORTED_ATTRIBUTES,
    SA_VOLUME_LIST,
};

/// The standard attributes the emulated cartridge memory knows, with
/// their FORMAT and length (`None`: variable), from SPC-5's tables of
/// device type (7.4.2.2), medium type (7.4.2.3) and host type (7.4.2.4)
/// attributes. The emulator's own reading: the drive layer's table in
/// `drive::mam` is not used here.
const KNOWN: &[(u16, u8, Option<u16>)] = &[
    (0x0000, BINARY, Some(8)),  // REMAINING CAPACITY IN PARTITION
    (0x0001, BINARY, Some(8)),  // MAXIMUM CAPACITY IN PARTITION
    (0x0002, BINARY, Some(8)),  // TAPEALERT FLAGS
    (0x0003, BINARY, Some(8)),  // LOAD COUNT
    (0x0004, BINARY, Some(8)),  // MAM SPACE REMAINING
    (0x0005, ASCII, Some(8)),   // ASSIGNING ORGANIZATION
    (0x0006, BINARY, Some(1)),  // FORMATTED DENSITY CODE
    (0x0007, BINARY, Some(2)),  // INITIALIZATION COUNT
    (0x0220, BINARY, Some(8)),  // TOTAL MBYTES WRITTEN IN MEDIUM LIFE
    (0x0221, BINARY, Some(8)),  // TOTAL MBYTES READ IN MEDIUM LIFE
    (0x0222, BINARY, Some(8)),  // TOTAL MBYTES WRITTEN IN CURRENT/LAST LOAD
    (0x0223, BINARY, Some(8)),  // TOTAL MBYTES READ IN CURRENT/LAST LOAD
    (0x0400, ASCII, Some(8)),   // MEDIUM MANUFACTURER
    (0x0401, ASCII, Some(32)),  // MEDIUM SERIAL NUMBER
    (0x0402, BINARY, Some(4)),  // MEDIUM LENGTH
    (0x0403, BINARY, Some(4)),  // MEDIUM WIDTH
    (0x0404, ASCII, Some(8)),   // ASSIGNING ORGANIZATION
    (0x0405, BINARY, Some(1)),  // MEDIUM DENSITY CODE
    (0x0406, ASCII, Some(8)),   // MEDIUM MANUFACTURE DATE
    (0x0407, BINARY, Some(8)),  // MAM CAPACITY
    (0x0408, BINARY, Some(1)),  // MEDIUM TYPE
    (0x0409, BINARY, Some(2)),  // MEDIUM TYPE INFORMATION
    (0x0800, ASCII, Some(8)),   // APPLICATION VENDOR
    (0x0801, ASCII, Some(32)),  // APPLICATION NAME
    (0x0802, ASCII, Some(8)),   // APPLICATION VERSION
    (0x0803, TEXT, Some(160)),  // USER MEDIUM TEXT LABEL
    (0x0804, ASCII, Some(12)),  // DATE AND TIME LAST WRITTEN
    (0x0805, BINARY, Some(1)),  // TEXT LOCALIZATION IDENTIFIER
    (0x0806, ASCII, Some(32)),  // BARCODE
    (0x0807, TEXT, Some(80)),   // OWNING HOST TEXTUAL NAME
    (0x0808, TEXT, Some(160)),  // MEDIA POOL
    (0x0809, ASCII, Some(16)),  // PARTITION USER TEXT LABEL
    (0x080A, BINARY, Some(1)),  // LOAD/UNLOAD AT PARTITION
    (0x080B, ASCII, Some(16)),  // APPLICATION FORMAT VERSION
    (0x080C, BINARY, None),     // VOLUME COHERENCY INFORMATION
    (0x0820, BINARY, Some(36)), // MEDIUM GLOBALLY UNIQUE IDENTIFIER
    (0x0821, BINARY, Some(36)), // MEDIA POOL GLOBALLY UNIQUE IDENTIFIER
];

fn known(aid: u16) -> Option<(u8, Option<u16>)> {
    KNOWN
        .iter()
        .find(|(k, _, _)| *k == aid)
        .map(|(_, f, l)| (*f, *l))
}

/// Host type (0x0800-0x0BFF) and vendor specific host type (0x1400-0x17FF)
/// attributes: the ones an application may write (SPC-5 7.4.2.1).
fn is_host_attribute(aid: u16) -> bool {
    matches!(aid, 0x0800..=0x0BFF | 0x1400..=0x17FF)
}

/// Medium type attribute values (SPC-5 table 200).
const MEDIUM_TYPE_DATA: u8 = 0x00;
const MEDIUM_TYPE_CLEANING: u8 = 0x01;

/// Tape length in metres per generation (LTO cartridge specifications;
/// LTO-10 assumed like LTO-9).
fn medium_length_m(generation: u8) -> u64 {
    match generation {
        0..=4 => 820,
        5 | 6 => 846,
        7 | 8 => 960,
        _ => 1035,
    }
}

/// Size of the cartridge memory chip (LTO-1..4 4 KiB, LTO-5/6 8 KiB,
/// LTO-7 and later 16 KiB).
fn mam_capacity(generation: u8) -> u64 {
    match generation {
        0..=4 => 4096,
        5 | 6 => 8192,
        _ => 16384,
    }
}

/// Bytes the host attributes take in the MAM (header + value each).
fn host_bytes(m: &MediumContext<'_>) -> u64 {
    m.info
        .host_attributes
        .values()
        .map(|v| 5 + v.len() as u64)
        .sum()
}

fn number(id: u16, value: u64) -> (u16, Vec<u8>) {
    let width = known(id)
        .and_then(|(_, l)| l)
        .map_or(8, |l| usize::from(l).min(8));
    (id, be_field(value, width))
}

fn ascii(id: u16, text: &str) -> (u16, Vec<u8>) {
    let len = known(id)
        .and_then(|(_, l)| l)
        .map_or(text.len(), usize::from);
    (id, ascii_field(text, len))
}

/// Every attribute of the loaded cartridge, ascending by id.
fn all_attributes(
    config: &LibraryConfig,
    tape_alerts: u64,
    m: &MediumContext<'_>,
) -> Vec<(u16, Vec<u8>)> {
    let density = drive_density(config);
    let generation = density.generation;
    let info = &*m.info;
    let capacity = m.cartridge.capacity;
    let (medium_type, type_info) = match m.cartridge.kind {
        CartridgeKind::Data => (MEDIUM_TYPE_DATA, 0),
        CartridgeKind::Cleaning { uses_left } => (MEDIUM_TYPE_CLEANING, u64::from(uses_left)),
    };
    let mut attrs = vec![
        number(
            id::REMAINING_CAPACITY,
            capacity.saturating_sub(m.used_bytes) / MIB,
        ),
        number(id::MAXIMUM_CAPACITY, capacity / MIB),
        // Flag 1 in the most significant bit (as in the TapeAlert response page).
        number(id::TAPEALERT_FLAGS, tape_alerts.reverse_bits()),
        number(id::LOAD_COUNT, info.load_count),
        number(
            id::MAM_SPACE_REMAINING,
            mam_capacity(generation).saturating_sub(host_bytes(m)),
        ),
        ascii(id::ASSIGNING_ORGANIZATION, LTO_ASSIGNING_ORGANIZATION),
        number(id::FORMATTED_DENSITY_CODE, u64::from(density.density_code)),
        number(id::INITIALIZATION_COUNT, info.initialization_count),
        number(id::LIFETIME_MIB_WRITTEN, info.lifetime_bytes_written / MIB),
        number(id::LIFETIME_MIB_READ, info.lifetime_bytes_read / MIB),
        number(
            id::LAST_LOAD_MIB_WRITTEN,
            info.last_load_bytes_written / MIB,
        ),
        number(id::LAST_LOAD_MIB_READ, info.last_load_bytes_read / MIB),
        ascii(id::MEDIUM_MANUFACTURER, MEDIUM_MANUFACTURER),
        ascii(id::MEDIUM_SERIAL_NUMBER, &info.medium_serial),
        number(id::MEDIUM_LENGTH, medium_length_m(generation)),
        number(id::MEDIUM_WIDTH, u64::from(LTO_MEDIA_WIDTH)),
        ascii(
            id::MEDIUM_ASSIGNING_ORGANIZATION,
            LTO_ASSIGNING_ORGANIZATION,
        ),
        number(id::MEDIUM_DENSITY_CODE, u64::from(density.density_code)),
        ascii(id::MEDIUM_MANUFACTURE_DATE, &info.manufacture_date),
        number(id::MAM_CAPACITY, mam_capacity(generation)),
        number(id::MEDIUM_TYPE, u64::from(medium_type)),
        number(id::MEDIUM_TYPE_INFORMATION, type_info),
    ];
    attrs.extend(info.host_attributes.iter().map(|(k, v)| (*k, v.clone())));
    attrs.sort_by_key(|(k, _)| *k);
    attrs
}

/// Stored host attributes outside the table read back as binary.
fn format_of(id: u16) -> u8 {
    known(id).map_or(BINARY, |(f, _)| f)
}

/// READ ATTRIBUTE (0x8C).
pub fn read_attribute(ctx: &mut InfoContext<'_>, raw: &[u8], data: DataDirection<'_>) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    if !ctx.config.drive_personality.mam {
        return Err(CheckCondition::invalid_opcode());
    }
    cdb.reserved(1, 0xE0)?;
    cdb.reserved_bytes(2..5)?;
    // One logical volume, one partition.
    if cdb.byte(5) != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(5, None));
    }
    cdb.reserved(6, 0xff)?;
    if cdb.byte(7) != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(7, None));
    }
    // CACHE (bit 0) accepted.
    cdb.reserved(14, 0xfe)?;
    let service_action = cdb.byte(1) & 0x1f;
    let first = cdb.be16(8);
    let alloc = usize::try_from(cdb.be32(10)).unwrap_or(usize::MAX);
    if ![
        SA_ATTRIBUTE_VALUES,
        SA_ATTRIBUTE_LIST,
        SA_VOLUME_LIST,
        SA_PARTITION_LIST,
        SA_SUPPORTED_ATTRIBUTES,
    ]
    .contains(&service_action)
    {
        return Err(CheckCondition::invalid_field_in_cdb(1, Some(4)));
    }
    let config = ctx.config;
    let tape_alerts = ctx.settings.tape_alerts;
    let m = medium(ctx)?;
    let response = match service_action {
        SA_ATTRIBUTE_VALUES => {
            let mut body = Vec::new();
            for (aid, value) in all_attributes(config, tape_alerts, m)
                .iter()
                .filter(|(k, _)| *k >= first)
            {
                let read_only = !is_host_attribute(*aid);
                attribute(&mut body, *aid, read_only, format_of(*aid), value);
            }
            with_available_data(&body)
        }
        SA_ATTRIBUTE_LIST => {
            let ids: Vec<u8> = all_attributes(config, tape_alerts, m)
                .iter()
                .filter(|(k, _)| *k >= first)
                .flat_map(|(k, _)| k.to_be_bytes())
                .collect();
            with_available_data(&ids)
        }
        SA_SUPPORTED_ATTRIBUTES => {
            let mut ids: Vec<u16> = all_attributes(config, tape_alerts, m)
                .iter()
                .map(|(k, _)| *k)
                .chain(
                    KNOWN
                        .iter()
                        .map(|(k, _, _)| *k)
                        .filter(|k| is_host_attribute(*k)),
                )
                .filter(|k| *k >= first)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let bytes: Vec<u8> = ids.iter().flat_map(|k| k.to_be_bytes()).collect();
            with_available_data(&bytes)
        }
        // Volume / partition list: available data (2), first number (0), count (1).
        _ => vec![0x00, 0x02, 0x00, 0x01],
    };
    respond(data, alloc, &response)
}

/// WRITE ATTRIBUTE (0x8D): validate every attribute, then apply all.
pub fn write_attribute(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: DataDirection<'_>,
) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    if !ctx.config.drive_personality.mam {
        return Err(CheckCondition::invalid_opcode());
    }
    // WTC (bit 0) accepted.
    cdb.reserved(1, 0xfe)?;
    cdb.reserved_bytes(2..5)?;
    if cdb.byte(5) != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(5, None));
    }
    cdb.reserved(6, 0xff)?;
    if cdb.byte(7) != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(7, None));
    }
    cdb.reserved_bytes(8..10)?;
    cdb.reserved(14, 0xff)?;
    let len = usize::try_from(cdb.be32(10)).unwrap_or(usize::MAX);
    let list = parameter_list(&data, len)?;
    let generation = drive_density(ctx.config).generation;
    let m = medium(ctx)?;
    if m.cartridge.write_protected {
        return Err(CheckCondition::new(SenseData::new(
            SenseKey::DataProtect,
            0x27,
            0x00,
        )));
    }
    if list.len() < 4 {
        return Err(CheckCondition::parameter_list_length_error());
    }
    // PARAMETER DATA LENGTH (bytes 0..4) is ignored as SPC-5 allows.
    let listed = parse_attribute_list(list)
        .map_err(|at| CheckCondition::invalid_field_in_parameter_list(at as u16))?;
    let mut updates: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut pos = 4;
    for a in listed {
        let field = pos as u16;
        let aid = a.id;
        let alen = a.value.len();
        if updates.last().is_some_and(|(last, _)| *last >= aid) {
            // Attributes must be in ascending order.
            return Err(CheckCondition::invalid_field_in_parameter_list(field));
        }
        if !is_host_attribute(aid) {
            // Read-only (device / medium) or reserved attribute.
            return Err(CheckCondition::invalid_field_in_parameter_list(field));
        }
        if let Some((format, length)) = known(aid) {
            if a.format != format {
                return Err(CheckCondition::invalid_field_in_parameter_list(field + 2));
            }
            if alen != 0 && length.is_some_and(|l| usize::from(l) != alen) {
                return Err(CheckCondition::invalid_field_in_parameter_list(field + 3));
            }
        }
        updates.push((aid, a.value.to_vec()));
        pos += 5 + alen;
    }
    let mut new = m.info.host_attributes.clone();
    for (aid, value) in updates {
        if value.is_empty() {
            new.remove(&aid);
        } else {
            new.insert(aid, value);
        }
    }
    let used: u64 = new.values().map(|v| 5 + v.len() as u64).sum();
    if used > mam_capacity(generation) {
        // AUXILIARY MEMORY OUT OF SPACE.
        return Err(CheckCondition::new(SenseData::new(
            SenseKey::IllegalRequest,
            0x55,
            0x06,
        )));
    }
    if new != m.info.host_attributes {
        m.info.host_attributes = new;
        ctx.medium_changed = true;
    }
    Ok(crate::emulator::cdb::no_data())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_illegal, Fixture};
    use crate::drive::mam::{
        decode_attribute_list, decode_attribute_values, encode_attribute, encode_host_value,
        with_data_header, MamFormat, MamValue,
    };
    use crate::scsi::SenseKey;

    fn read_attr(sa: u8, first: u16, alloc: u32) -> [u8; 16] {
        let mut cdb = [0u8; 16];
        cdb[0] = 0x8c;
        cdb[1] = sa;
        cdb[8..10].copy_from_slice(&first.to_be_bytes());
        cdb[10..14].copy_from_slice(&alloc.to_be_bytes());
        cdb
    }

    fn write_attr(len: usize) -> [u8; 16] {
        let mut cdb = [0u8; 16];
        cdb[0] = 0x8d;
        cdb[10..14].copy_from_slice(&(len as u32).to_be_bytes());
        cdb
    }

    fn host(id: u16, format: MamFormat, text: &str) -> Vec<u8> {
        let mut a = Vec::new();
        encode_attribute(
            &mut a,
            id,
            false,
            format,
            &encode_host_value(id, text).unwrap(),
        );
        a
    }

    fn value(attrs: &[crate::drive::mam::MamAttribute], id: u16) -> MamValue {
        attrs.iter().find(|a| a.id == id).unwrap().value.clone()
    }

    #[test]
    fn read_values_round_trip() {
        let mut f = Fixture::new();
        let bytes = f.read(&read_attr(0, 0, 65536), 65536).unwrap();
        let attrs = decode_attribute_values(&bytes).unwrap();
        assert_eq!(
            value(&attrs, 0x0001),
            MamValue::Number {
                value: 2048,
                unit: "MiB"
            }
        );
        assert_eq!(
            value(&attrs, 0x0000),
            MamValue::Number {
                value: 2045,
                unit: "MiB"
            }
        );
        assert_eq!(
            value(&attrs, 0x0003),
            MamValue::Number {
                value: 3,
                unit: "count"
            }
        );
        assert_eq!(
            value(&attrs, 0x0220),
            MamValue::Number {
                value: 5,
                unit: "MiB"
            }
        );
        assert_eq!(
            value(&attrs, 0x0405),
            MamValue::Number {
                value: 0x60,
                unit: "code"
            }
        );
        assert_eq!(
            value(&attrs, 0x0401),
            MamValue::Text {
                value: "EMUABC123L9".into()
            }
        );
        assert_eq!(
            value(&attrs, 0x0406),
            MamValue::Date {
                value: "2026-01-01".into()
            }
        );
        assert!(attrs.iter().all(|a| a.read_only));
        // FIRST ATTRIBUTE IDENTIFIER.
        let tail =
            decode_attribute_values(&f.read(&read_attr(0, 0x0400, 65536), 65536).unwrap()).unwrap();
        assert_eq!(tail[0].id, 0x0400);
        // Allocation length cuts: the header still states the full length.
        let short = f.read(&read_attr(0, 0, 20), 65536).unwrap();
        assert_eq!(short.len(), 20);
        assert_eq!(decode_attribute_values(&short).unwrap().len(), 1);
        let list = decode_attribute_list(&f.read(&read_attr(1, 0, 4096), 4096).unwrap()).unwrap();
        assert_eq!(list.len(), attrs.len());
        let supported =
            decode_attribute_list(&f.read(&read_attr(5, 0, 4096), 4096).unwrap()).unwrap();
        assert!(supported.contains(&0x0808) && supported.contains(&0x0000));
        assert_eq!(
            f.read(&read_attr(3, 0, 100), 100).unwrap(),
            vec![0, 2, 0, 1]
        );
    }

    #[test]
    fn write_host_attributes() {
        let mut f = Fixture::new();
        let mut attrs = host(0x0800, MamFormat::Ascii, "PTAPE");
        attrs.extend(host(0x0806, MamFormat::Ascii, "ABC123L9"));
        attrs.extend(host(0x0808, MamFormat::Text, "daily"));
        let list = with_data_header(&attrs);
        let (res, _, changed) = f.run(
            &write_attr(list.len()),
            crate::scsi::DataDirection::ToDevice(&list),
        );
        res.unwrap();
        assert!(changed);
        let read =
            decode_attribute_values(&f.read(&read_attr(0, 0x0800, 65536), 65536).unwrap()).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(
            read[0].value,
            MamValue::Text {
                value: "PTAPE".into()
            }
        );
        assert!(!read[0].read_only);
        assert_eq!(read[2].format, MamFormat::Text);
        assert_eq!(
            read[2].value,
            MamValue::Text {
                value: "daily".into()
            }
        );
        // Length 0 deletes.
        let mut del = Vec::new();
        encode_attribute(&mut del, 0x0806, false, MamFormat::Ascii, &[]);
        let list = with_data_header(&del);
        f.write(&write_attr(list.len()), &list).unwrap();
        assert!(!f.info.host_attributes.contains_key(&0x0806));
    }

    #[test]
    fn write_errors() {
        let mut f = Fixture::new();
        // Read-only medium attribute.
        let mut a = Vec::new();
        encode_attribute(&mut a, 0x0401, false, MamFormat::Ascii, &[b'X'; 32]);
        let list = with_data_header(&a);
        assert_illegal(
            &f.write(&write_attr(list.len()), &list).unwrap_err(),
            0x26,
            Some(4),
        );
        // Wrong length for a fixed-length attribute.
        let mut a = Vec::new();
        encode_attribute(&mut a, 0x0800, false, MamFormat::Ascii, b"SHORT");
        let list = with_data_header(&a);
        assert_illegal(
            &f.write(&write_attr(list.len()), &list).unwrap_err(),
            0x26,
            Some(7),
        );
        // Wrong format.
        let mut a = Vec::new();
        encode_attribute(&mut a, 0x0800, false, MamFormat::Text, b"PTAPE   ");
        let list = with_data_header(&a);
        assert_illegal(
            &f.write(&write_attr(list.len()), &list).unwrap_err(),
            0x26,
            Some(6),
        );
        // Not ascending.
        let mut a = host(0x0806, MamFormat::Ascii, "X");
        a.extend(host(0x0800, MamFormat::Ascii, "Y"));
        let list = with_data_header(&a);
        assert_illegal(
            &f.write(&write_attr(list.len()), &list).unwrap_err(),
            0x26,
            None,
        );
        // Out of MAM space: many large vendor host attributes.
        let mut a = Vec::new();
        for i in 0..20u16 {
            encode_attribute(&mut a, 0x1400 + i, false, MamFormat::Binary, &[0u8; 1000]);
        }
        let list = with_data_header(&a);
        let e = f.write(&write_attr(list.len()), &list).unwrap_err();
        assert!(e.sense.is(SenseKey::IllegalRequest, 0x55, 0x06));
        assert!(f.info.host_attributes.is_empty(), "nothing applied");
        // Write protected.
        f.cartridge.write_protected = true;
        let list = with_data_header(&host(0x0800, MamFormat::Ascii, "P"));
        let e = f.write(&write_attr(list.len()), &list).unwrap_err();
        assert!(e.sense.is(SenseKey::DataProtect, 0x27, 0));
    }

    #[test]
    fn cdb_and_state_errors() {
        let mut f = Fixture::new();
        assert_illegal(
            &f.read(&read_attr(4, 0, 100), 100).unwrap_err(),
            0x24,
            Some(1),
        );
        let mut cdb = read_attr(0, 0, 100);
        cdb[7] = 1;
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(7));
        let mut cdb = read_attr(0, 0, 100);
        cdb[14] = 0x80;
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(14));
        f.loaded = false;
        let e = f.read(&read_attr(0, 0, 100), 100).unwrap_err();
        assert!(e.sense.is(SenseKey::NotReady, 0x3a, 0));
        f.config.drive_personality.mam = false;
        assert_illegal(&f.read(&read_attr(0, 0, 100), 100).unwrap_err(), 0x20, None);
    }
}
