//! LOG SENSE of the emulated drive (SPC-5 6.9): supported pages 0x00,
//! TapeAlert response 0x12, volume statistics 0x17, TapeAlert 0x2E and tape
//! capacity 0x31. Only cumulative values (PC = 01b) are kept; reading the
//! whole page 0x2E clears the TapeAlert flags, as SSC-5 Annex A describes
//! (a read cut short by the allocation length leaves them).

use super::super::cdb::{Cdb, CdbResult, CheckCondition};
use super::super::spc_wire::{
    ascii_field, be_field, log_page, partition_records, supported_log_pages, LogParam,
};
use super::{medium, respond, InfoContext, MIB};
use crate::scsi::DataDirection;
use crate::spec::log::volume_statistics as param;
use crate::spec::log::{
    tape_capacity, CONTROL_ASCII_LIST, CONTROL_BINARY_LIST, CONTROL_COUNTER, PAGE_SUPPORTED_PAGES,
    PAGE_TAPE_ALERT, PAGE_TAPE_ALERT_RESPONSE, PAGE_TAPE_CAPACITY, PAGE_VOLUME_STATISTICS,
    PC_CUMULATIVE,
};

/// Pages this drive answers, ascending.
const SUPPORTED: [u8; 5] = [
    PAGE_SUPPORTED_PAGES,
    PAGE_TAPE_ALERT_RESPONSE,
    PAGE_VOLUME_STATISTICS,
    PAGE_TAPE_ALERT,
    PAGE_TAPE_CAPACITY,
];

/// Megabytes (10^6 bytes) as SSC counts them in volume statistics.
const MB: u64 = 1_000_000;

/// Bytes per LTO data set, for the data set counters (LTO-5 and later
/// write data sets of about 2.4 MB; the emulator counts 2 MiB).
const DATASET_BYTES: u64 = 2 * MIB;

/// Manufacturer reported for emulated cartridges.
pub(crate) const MEDIUM_MANUFACTURER: &str = "PTAPEEMU";

/// LOG SENSE (0x4D).
pub fn log_sense(ctx: &mut InfoContext<'_>, raw: &[u8], data: DataDirection<'_>) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    if !ctx.config.drive_personality.log_sense {
        return Err(CheckCondition::invalid_opcode());
    }
    // SP (saving) and the obsolete PPC are not supported.
    cdb.reserved(1, 0xff)?;
    if cdb.byte(2) >> 6 != PC_CUMULATIVE {
        return Err(CheckCondition::invalid_field_in_cdb(2, Some(7)));
    }
    let page = cdb.byte(2) & 0x3f;
    if cdb.byte(3) != 0 {
        return Err(CheckCondition::invalid_field_in_cdb(3, None));
    }
    cdb.reserved(4, 0xff)?;
    let pointer = cdb.be16(5);
    let alloc = usize::from(cdb.be16(7));
    let params = match page {
        PAGE_SUPPORTED_PAGES => {
            // Not a parameter list: the page codes follow the header.
            if pointer != 0 {
                return Err(CheckCondition::invalid_field_in_cdb(5, None));
            }
            return respond(data, alloc, &supported_log_pages(&SUPPORTED));
        }
        // TapeAlert (SSC-5 8.2.3): parameter n (1..=64) is flag n, one
        // byte whose bit 0 is the flag. `tape_alerts` holds flag n in bit n-1.
        PAGE_TAPE_ALERT => {
            let flags = ctx.settings.tape_alerts;
            (1..=64u16)
                .map(|n| {
                    let set = flags & (1u64 << (n - 1)) != 0;
                    (n, CONTROL_BINARY_LIST, vec![u8::from(set)])
                })
                .collect()
        }
        // TapeAlert response (SSC-5 8.2.5): parameter 0000h, 8 bytes, flag 1
        // in the most significant bit of byte 0, flag 64 in bit 0 of byte 7.
        PAGE_TAPE_ALERT_RESPONSE => {
            let flags = ctx.settings.tape_alerts.reverse_bits();
            vec![(0x0000, CONTROL_BINARY_LIST, flags.to_be_bytes().to_vec())]
        }
        PAGE_VOLUME_STATISTICS => volume_statistics(ctx)?,
        PAGE_TAPE_CAPACITY => tape_capacity(ctx)?,
        _ => return Err(CheckCondition::invalid_field_in_cdb(2, Some(5))),
    };
    let selected: Vec<_> = params
        .into_iter()
        .filter(|(c, _, _)| *c >= pointer)
        .collect();
    if selected.is_empty() {
        return Err(CheckCondition::invalid_field_in_cdb(5, None));
    }
    let bytes = log_page(page, &selected);
    // Reading the whole TapeAlert page clears the flags (SSC-5 Annex A); a
    // read cut short by the allocation length (a header probe) does not.
    if page == PAGE_TAPE_ALERT
        && ctx.settings.tape_alerts != 0
        && bytes.len() <= alloc.min(data.len())
    {
        ctx.settings.tape_alerts = 0;
        ctx.settings_changed = true;
    }
    respond(data, alloc, &bytes)
}

type Params = Vec<LogParam>;

fn counter(code: u16, width: usize, value: u64) -> LogParam {
    (code, CONTROL_COUNTER, be_field(value, width))
}

fn ascii(code: u16, text: &str, len: usize) -> LogParam {
    (code, CONTROL_ASCII_LIST, ascii_field(text, len))
}

fn flag(code: u16, value: bool) -> LogParam {
    (code, CONTROL_BINARY_LIST, vec![u8::from(value)])
}

fn volume_statistics(ctx: &mut InfoContext<'_>) -> Result<Params, CheckCondition> {
    let early_warning = ctx.config.early_warning;
    let m = medium(ctx)?;
    let info = &*m.info;
    let capacity = m.cartridge.capacity;
    let used = m.used_bytes.min(capacity);
    let partition = |value: u64| partition_records(&[(0, value)], 4);
    Ok(vec![
        flag(param::PAGE_VALID, true),
        counter(param::VOLUME_MOUNTS, 4, info.load_count),
        counter(
            param::VOLUME_DATASETS_WRITTEN,
            8,
            info.lifetime_bytes_written / DATASET_BYTES,
        ),
        counter(param::RECOVERED_WRITE_DATA_ERRORS, 4, 0),
        counter(param::UNRECOVERED_WRITE_DATA_ERRORS, 4, info.write_errors),
        counter(
            param::VOLUME_DATASETS_READ,
            8,
            info.lifetime_bytes_read / DATASET_BYTES,
        ),
        counter(param::RECOVERED_READ_ERRORS, 4, 0),
        counter(param::UNRECOVERED_READ_ERRORS, 4, info.read_errors),
        counter(
            param::LAST_MOUNT_MBYTES_WRITTEN,
            4,
            info.last_load_bytes_written / MB,
        ),
        counter(
            param::LAST_MOUNT_MBYTES_READ,
            4,
            info.last_load_bytes_read / MB,
        ),
        counter(
            param::LIFETIME_MBYTES_WRITTEN,
            8,
            info.lifetime_bytes_written / MB,
        ),
        counter(
            param::LIFETIME_MBYTES_READ,
            8,
            info.lifetime_bytes_read / MB,
        ),
        counter(param::TOTAL_NATIVE_CAPACITY, 4, capacity / MB),
        counter(param::TOTAL_USED_NATIVE_CAPACITY, 4, used / MB),
        ascii(param::VOLUME_SERIAL_NUMBER, &info.medium_serial, 32),
        ascii(param::VOLUME_BARCODE, &m.cartridge.barcode, 32),
        ascii(param::VOLUME_MANUFACTURER, MEDIUM_MANUFACTURER, 8),
        flag(param::WRITE_PROTECT, m.cartridge.write_protected),
        flag(param::WORM, false),
        counter(param::BEGINNING_OF_MEDIUM_PASSES, 4, info.load_count),
        counter(param::MIDDLE_OF_TAPE_PASSES, 4, info.load_count),
        (
            param::APPROXIMATE_NATIVE_CAPACITY_OF_PARTITIONS,
            CONTROL_BINARY_LIST,
            partition(capacity / MB),
        ),
        (
            param::APPROXIMATE_USED_NATIVE_CAPACITY_OF_PARTITIONS,
            CONTROL_BINARY_LIST,
            partition(used / MB),
        ),
        (
            param::REMAINING_CAPACITY_TO_EARLY_WARNING_OF_PARTITIONS,
            CONTROL_BINARY_LIST,
            partition(capacity.saturating_sub(early_warning).saturating_sub(used) / MB),
        ),
    ])
}

fn tape_capacity(ctx: &mut InfoContext<'_>) -> Result<Params, CheckCondition> {
    let m = medium(ctx)?;
    let max = m.cartridge.capacity;
    let remaining = max.saturating_sub(m.used_bytes);
    Ok(vec![
        counter(tape_capacity::MAIN_REMAINING, 4, remaining / MIB),
        counter(tape_capacity::ALTERNATE_REMAINING, 4, 0),
        counter(tape_capacity::MAIN_MAXIMUM, 4, max / MIB),
        counter(tape_capacity::ALTERNATE_MAXIMUM, 4, 0),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_illegal, Fixture};
    use crate::drive::capacity::decode_tape_capacity;
    use crate::drive::log_page::parse_log_page;
    use crate::drive::tape_alert::{
        decode_tape_alert_page, decode_tape_alert_response, TapeAlertFlags,
    };
    use crate::drive::volume_statistics::decode_volume_statistics;
    use crate::scsi::SenseKey;

    fn log_sense(page: u8, pointer: u16, alloc: u16) -> [u8; 10] {
        let [p0, p1] = pointer.to_be_bytes();
        let [a0, a1] = alloc.to_be_bytes();
        [0x4d, 0, 0x40 | page, 0, 0, p0, p1, a0, a1, 0]
    }

    #[test]
    fn supported_pages() {
        let mut f = Fixture::new();
        let bytes = f.read(&log_sense(0, 0, 100), 100).unwrap();
        assert_eq!(bytes, vec![0, 0, 0, 5, 0x00, 0x12, 0x17, 0x2e, 0x31]);
    }

    #[test]
    fn tape_alert_round_trip_and_clear_on_read() {
        let mut f = Fixture::new();
        let flags = TapeAlertFlags::CLEAN_NOW | TapeAlertFlags::MEDIA;
        f.settings.tape_alerts = flags.bits();
        let resp = f.read(&log_sense(0x12, 0, 100), 100).unwrap();
        assert_eq!(decode_tape_alert_response(&resp).unwrap(), flags);
        let (res, changed, _) = {
            let mut buf = vec![0u8; 1024];
            let r = f.run(
                &log_sense(0x2e, 0, 1024),
                crate::scsi::DataDirection::FromDevice(&mut buf),
            );
            let n = r.0.as_ref().map(|c| c.transferred).unwrap_or(0);
            buf.truncate(n);
            assert_eq!(decode_tape_alert_page(&buf).unwrap(), flags);
            assert_eq!(buf.len(), 4 + 64 * 5);
            r
        };
        res.unwrap();
        assert!(changed);
        assert_eq!(f.settings.tape_alerts, 0);
        let again = f.read(&log_sense(0x2e, 0, 1024), 1024).unwrap();
        assert_eq!(
            decode_tape_alert_page(&again).unwrap(),
            TapeAlertFlags::empty()
        );
        // A header probe does not clear.
        f.settings.tape_alerts = flags.bits();
        assert_eq!(f.read(&log_sense(0x2e, 0, 4), 4).unwrap().len(), 4);
        assert_eq!(f.settings.tape_alerts, flags.bits());
        // Parameter pointer: parameters from 0x0040 on.
        let tail = f.read(&log_sense(0x2e, 0x40, 1024), 1024).unwrap();
        assert_eq!(
            parse_log_page(&tail, 0x2e, "t").unwrap().parameters.len(),
            1
        );
    }

    #[test]
    fn volume_statistics_round_trip() {
        let mut f = Fixture::new();
        f.info.write_errors = 2;
        f.cartridge.write_protected = true;
        let bytes = f.read(&log_sense(0x17, 0, 0xfffc), 0xfffc).unwrap();
        let s = decode_volume_statistics(&bytes).unwrap();
        assert_eq!(s.page_valid, Some(true));
        assert_eq!(s.volume_mounts, Some(3));
        assert_eq!(s.unrecovered_write_data_errors, Some(2));
        assert_eq!(s.lifetime_mbytes_written, Some(5 * (1 << 20) / 1_000_000));
        assert_eq!(s.volume_serial_number.as_deref(), Some("EMUABC123L9"));
        assert_eq!(s.volume_barcode.as_deref(), Some("ABC123L9"));
        assert_eq!(s.write_protect, Some(true));
        assert_eq!(s.approximate_used_native_capacity_of_partitions[0].value, 3);
        assert!(s.other.is_empty(), "{:?}", s.other);
    }

    #[test]
    fn tape_capacity_round_trip_and_truncation() {
        let mut f = Fixture::new();
        let bytes = f.read(&log_sense(0x31, 0, 100), 100).unwrap();
        let cap = decode_tape_capacity(&bytes).unwrap();
        assert_eq!(cap.maximum_mib, 2048);
        assert_eq!(cap.remaining_mib, 2045);
        let short = f.read(&log_sense(0x31, 0, 10), 100).unwrap();
        assert_eq!(short.len(), 10);
        assert_eq!(&short[..4], &bytes[..4], "header states the full length");
        assert!(decode_tape_capacity(&short).is_err());
    }

    #[test]
    fn errors() {
        let mut f = Fixture::new();
        assert_illegal(
            &f.read(&log_sense(0x0d, 0, 100), 100).unwrap_err(),
            0x24,
            Some(2),
        );
        let mut cdb = log_sense(0x31, 0, 100);
        cdb[2] = 0x31; // PC = threshold
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(2));
        let mut cdb = log_sense(0x31, 0, 100);
        cdb[1] = 0x01; // SP
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(1));
        let mut cdb = log_sense(0x31, 0, 100);
        cdb[3] = 0x01;
        assert_illegal(&f.read(&cdb, 100).unwrap_err(), 0x24, Some(3));
        assert_illegal(
            &f.read(&log_sense(0x31, 0x10, 100), 100).unwrap_err(),
            0x24,
            Some(5),
        );
        f.loaded = false;
        let e = f.read(&log_sense(0x17, 0, 100), 100).unwrap_err();
        assert!(e.sense.is(SenseKey::NotReady, 0x3a, 0));
        f.config.drive_personality.log_sense = false;
        assert_illegal(&f.read(&log_sense(0, 0, 100), 100).unwrap_err(), 0x20, None);
    }
}
