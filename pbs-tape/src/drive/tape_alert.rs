//! TapeAlert (SSC-5 Annex A, TapeAlert specification v3): the 64 flags a
//! drive raises about itself and the loaded cartridge, read from LOG SENSE
//! page 0x2E (one parameter per flag) or, on drives that only have it, the
//! TapeAlert response page 0x12 (one 64-bit parameter, flag 1 in the most
//! significant bit).

use serde::Serialize;

use super::decode::{decode_error, with_device};
use super::log_page::{self, parse_log_page, PAGE_TAPE_ALERT, PAGE_TAPE_ALERT_RESPONSE};
use super::DriveError;
use crate::scsi::ScsiTransport;

/// How serious a TapeAlert flag is (TapeAlert specification: I, W, C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Information,
    Warning,
    Critical,
}

bitflags::bitflags! {
    /// TapeAlert flags (SSC-5 Annex A / TapeAlert specification v3): flag n is
    /// bit n-1. Flags 40-46 are obsolete loader flags, 47, 48 and 61-64 reserved.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct TapeAlertFlags: u64 {
        /// Flag 1 (warning).
        const READ_WARNING = 1 << 0;
        /// Flag 2 (warning).
        const WRITE_WARNING = 1 << 1;
        /// Flag 3 (warning).
        const HARD_ERROR = 1 << 2;
        /// Flag 4 (critical).
        const MEDIA = 1 << 3;
        /// Flag 5 (critical).
        const READ_FAILURE = 1 << 4;
        /// Flag 6 (critical).
        const WRITE_FAILURE = 1 << 5;
        /// Flag 7 (warning).
        const MEDIA_LIFE = 1 << 6;
        /// Flag 8 (warning).
        const NOT_DATA_GRADE = 1 << 7;
        /// Flag 9 (critical).
        const WRITE_PROTECT = 1 << 8;
        /// Flag 10 (information).
        const NO_REMOVAL = 1 << 9;
        /// Flag 11 (information).
        const CLEANING_MEDIA = 1 << 10;
        /// Flag 12 (information).
        const UNSUPPORTED_FORMAT = 1 << 11;
        /// Flag 13 (critical).
        const RECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE = 1 << 12;
        /// Flag 14 (critical).
        const UNRECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE = 1 << 13;
        /// Flag 15 (warning).
        const MEMORY_CHIP_IN_CARTRIDGE_FAILURE = 1 << 14;
        /// Flag 16 (critical).
        const FORCED_EJECT = 1 << 15;
        /// Flag 17 (warning).
        const READ_ONLY_FORMAT = 1 << 16;
        /// Flag 18 (warning).
        const TAPE_DIRECTORY_CORRUPTED_ON_LOAD = 1 << 17;
        /// Flag 19 (information).
        const NEARING_MEDIA_LIFE = 1 << 18;
        /// Flag 20 (critical).
        const CLEAN_NOW = 1 << 19;
        /// Flag 21 (warning).
        const CLEAN_PERIODIC = 1 << 20;
        /// Flag 22 (critical).
        const EXPIRED_CLEANING_MEDIA = 1 << 21;
        /// Flag 23 (critical).
        const INVALID_CLEANING_TAPE = 1 << 22;
        /// Flag 24 (warning).
        const RETENSION_REQUESTED = 1 << 23;
        /// Flag 25 (warning).
        const DUAL_PORT_INTERFACE_ERROR = 1 << 24;
        /// Flag 26 (warning).
        const COOLING_FAN_FAILURE = 1 << 25;
        /// Flag 27 (warning).
        const POWER_SUPPLY_FAILURE = 1 << 26;
        /// Flag 28 (warning).
        const POWER_CONSUMPTION = 1 << 27;
        /// Flag 29 (warning).
        const DRIVE_MAINTENANCE = 1 << 28;
        /// Flag 30 (critical).
        const HARDWARE_A = 1 << 29;
        /// Flag 31 (critical).
        const HARDWARE_B = 1 << 30;
        /// Flag 32 (warning).
        const INTERFACE = 1 << 31;
        /// Flag 33 (critical).
        const EJECT_MEDIA = 1 << 32;
        /// Flag 34 (warning).
        const DOWNLOAD_FAIL = 1 << 33;
        /// Flag 35 (warning).
        const DRIVE_HUMIDITY = 1 << 34;
        /// Flag 36 (warning).
        const DRIVE_TEMPERATURE = 1 << 35;
        /// Flag 37 (warning).
        const DRIVE_VOLTAGE = 1 << 36;
        /// Flag 38 (critical).
        const PREDICTIVE_FAILURE = 1 << 37;
        /// Flag 39 (warning).
        const DIAGNOSTICS_REQUIRED = 1 << 38;
        /// Flag 40 (critical).
        const LOADER_HARDWARE_A = 1 << 39;
        /// Flag 41 (critical).
        const LOADER_STRAY_TAPE = 1 << 40;
        /// Flag 42 (warning).
        const LOADER_HARDWARE_B = 1 << 41;
        /// Flag 43 (critical).
        const LOADER_DOOR = 1 << 42;
        /// Flag 44 (critical).
        const LOADER_HARDWARE_C = 1 << 43;
        /// Flag 45 (critical).
        const LOADER_MAGAZINE = 1 << 44;
        /// Flag 46 (warning).
        const LOADER_PREDICTIVE_FAILURE = 1 << 45;
        /// Flag 47 (information).
        const RESERVED_47 = 1 << 46;
        /// Flag 48 (information).
        const RESERVED_48 = 1 << 47;
        /// Flag 49 (warning).
        const DIMINISHED_NATIVE_CAPACITY = 1 << 48;
        /// Flag 50 (warning).
        const LOST_STATISTICS = 1 << 49;
        /// Flag 51 (warning).
        const TAPE_DIRECTORY_INVALID_AT_UNLOAD = 1 << 50;
        /// Flag 52 (critical).
        const TAPE_SYSTEM_AREA_WRITE_FAILURE = 1 << 51;
        /// Flag 53 (critical).
        const TAPE_SYSTEM_AREA_READ_FAILURE = 1 << 52;
        /// Flag 54 (critical).
        const NO_START_OF_DATA = 1 << 53;
        /// Flag 55 (critical).
        const LOADING_FAILURE = 1 << 54;
        /// Flag 56 (critical).
        const UNRECOVERABLE_UNLOAD_FAILURE = 1 << 55;
        /// Flag 57 (critical).
        const AUTOMATION_INTERFACE_FAILURE = 1 << 56;
        /// Flag 58 (warning).
        const FIRMWARE_FAILURE = 1 << 57;
        /// Flag 59 (warning).
        const WORM_MEDIUM_INTEGRITY_CHECK_FAILED = 1 << 58;
        /// Flag 60 (warning).
        const WORM_MEDIUM_OVERWRITE_ATTEMPTED = 1 << 59;
        /// Flag 61 (information).
        const RESERVED_61 = 1 << 60;
        /// Flag 62 (information).
        const RESERVED_62 = 1 << 61;
        /// Flag 63 (information).
        const RESERVED_63 = 1 << 62;
        /// Flag 64 (information).
        const RESERVED_64 = 1 << 63;
    }
}

/// Name, severity and message of each flag, indexed by flag number - 1.
const FLAG_TABLE: [(&str, Severity, &str); 64] = [
    ("READ_WARNING", Severity::Warning, "The tape drive is having problems reading data. No data has been lost, but there has been a reduction in the performance of the tape."),
    ("WRITE_WARNING", Severity::Warning, "The tape drive is having problems writing data. No data has been lost, but there has been a reduction in the capacity of the tape."),
    ("HARD_ERROR", Severity::Warning, "The operation has stopped because an error has occurred while reading or writing data that the drive cannot correct."),
    ("MEDIA", Severity::Critical, "Your data is at risk: copy any data you require from this tape and do not use this tape again."),
    ("READ_FAILURE", Severity::Critical, "The tape is damaged or the drive is faulty. Call the tape drive supplier helpline."),
    ("WRITE_FAILURE", Severity::Critical, "The tape is from a faulty batch or the tape drive is faulty."),
    ("MEDIA_LIFE", Severity::Warning, "The tape cartridge has reached the end of its calculated useful life."),
    ("NOT_DATA_GRADE", Severity::Warning, "The cartridge is not data-grade. Any data you write to the tape is at risk."),
    ("WRITE_PROTECT", Severity::Critical, "You are trying to write to a write-protected cartridge."),
    ("NO_REMOVAL", Severity::Information, "You cannot eject the cartridge because the tape drive is in use."),
    ("CLEANING_MEDIA", Severity::Information, "The tape in the drive is a cleaning cartridge."),
    ("UNSUPPORTED_FORMAT", Severity::Information, "You have tried to load a cartridge of a type that is not supported by this drive."),
    ("RECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE", Severity::Critical, "The operation has failed because the tape in the drive has experienced a mechanical failure."),
    ("UNRECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE", Severity::Critical, "The operation has failed because the tape in the drive has experienced a mechanical failure and cannot be ejected."),
    ("MEMORY_CHIP_IN_CARTRIDGE_FAILURE", Severity::Warning, "The memory in the tape cartridge has failed, which reduces performance."),
    ("FORCED_EJECT", Severity::Critical, "The operation has failed because the tape cartridge was manually de-mounted while the tape drive was actively writing or reading."),
    ("READ_ONLY_FORMAT", Severity::Warning, "You have loaded a cartridge of a type that is read-only in this drive."),
    ("TAPE_DIRECTORY_CORRUPTED_ON_LOAD", Severity::Warning, "The tape directory on the tape cartridge has been corrupted. File search performance will be degraded."),
    ("NEARING_MEDIA_LIFE", Severity::Information, "The tape cartridge is nearing the end of its calculated life."),
    ("CLEAN_NOW", Severity::Critical, "The tape drive needs cleaning."),
    ("CLEAN_PERIODIC", Severity::Warning, "The tape drive is due for routine cleaning."),
    ("EXPIRED_CLEANING_MEDIA", Severity::Critical, "The last cleaning cartridge used in the tape drive has worn out."),
    ("INVALID_CLEANING_TAPE", Severity::Critical, "The last cleaning cartridge used in the tape drive was an invalid type."),
    ("RETENSION_REQUESTED", Severity::Warning, "The tape drive has requested a retension operation."),
    ("DUAL_PORT_INTERFACE_ERROR", Severity::Warning, "A redundant interface port on the tape drive has failed."),
    ("COOLING_FAN_FAILURE", Severity::Warning, "A tape drive cooling fan has failed."),
    ("POWER_SUPPLY_FAILURE", Severity::Warning, "A redundant power supply has failed inside the tape drive enclosure."),
    ("POWER_CONSUMPTION", Severity::Warning, "The tape drive power consumption is outside the specified range."),
    ("DRIVE_MAINTENANCE", Severity::Warning, "Preventive maintenance of the tape drive is required."),
    ("HARDWARE_A", Severity::Critical, "The tape drive has a hardware fault that requires a reset to recover."),
    ("HARDWARE_B", Severity::Critical, "The tape drive has a hardware fault that is not read/write related or requires a power cycle."),
    ("INTERFACE", Severity::Warning, "The tape drive has a problem with the application client interface."),
    ("EJECT_MEDIA", Severity::Critical, "The operation has failed: eject the tape or magazine, reinsert it and restart the operation."),
    ("DOWNLOAD_FAIL", Severity::Warning, "The firmware download has failed because you have tried to use the incorrect firmware for this tape drive."),
    ("DRIVE_HUMIDITY", Severity::Warning, "Environmental conditions inside the tape drive are outside the specified humidity range."),
    ("DRIVE_TEMPERATURE", Severity::Warning, "Environmental conditions inside the tape drive are outside the specified temperature range."),
    ("DRIVE_VOLTAGE", Severity::Warning, "The voltage supply to the tape drive is outside the specified range."),
    ("PREDICTIVE_FAILURE", Severity::Critical, "A hardware failure of the tape drive is predicted."),
    ("DIAGNOSTICS_REQUIRED", Severity::Warning, "The tape drive may have a hardware fault: run extended diagnostics to verify and diagnose the problem."),
    ("LOADER_HARDWARE_A", Severity::Critical, "Obsolete (loader hardware A): the changer mechanism is having difficulty communicating with the tape drive."),
    ("LOADER_STRAY_TAPE", Severity::Critical, "Obsolete (loader stray tape): a tape has been left in the autoloader by a previous hardware fault."),
    ("LOADER_HARDWARE_B", Severity::Warning, "Obsolete (loader hardware B): there is a problem with the autoloader mechanism."),
    ("LOADER_DOOR", Severity::Critical, "Obsolete (loader door): the operation has failed because the autoloader door is open."),
    ("LOADER_HARDWARE_C", Severity::Critical, "Obsolete (loader hardware C): the autoloader has a hardware fault."),
    ("LOADER_MAGAZINE", Severity::Critical, "Obsolete (loader magazine): the autoloader cannot operate without the magazine."),
    ("LOADER_PREDICTIVE_FAILURE", Severity::Warning, "Obsolete (loader predictive failure): a hardware failure of the changer mechanism is predicted."),
    ("RESERVED_47", Severity::Information, "Reserved TapeAlert flag 47."),
    ("RESERVED_48", Severity::Information, "Reserved TapeAlert flag 48."),
    ("DIMINISHED_NATIVE_CAPACITY", Severity::Warning, "The tape cartridge has a diminished native capacity."),
    ("LOST_STATISTICS", Severity::Warning, "Media statistics have been lost at some time in the past."),
    ("TAPE_DIRECTORY_INVALID_AT_UNLOAD", Severity::Warning, "The tape directory on the cartridge just unloaded has been corrupted. File search performance will be degraded."),
    ("TAPE_SYSTEM_AREA_WRITE_FAILURE", Severity::Critical, "The tape just unloaded could not write its system area successfully."),
    ("TAPE_SYSTEM_AREA_READ_FAILURE", Severity::Critical, "The tape system area could not be read successfully at load time."),
    ("NO_START_OF_DATA", Severity::Critical, "The start of data could not be found on the tape."),
    ("LOADING_FAILURE", Severity::Critical, "The operation has failed because the medium cannot be loaded and threaded."),
    ("UNRECOVERABLE_UNLOAD_FAILURE", Severity::Critical, "The operation has failed because the medium cannot be unloaded."),
    ("AUTOMATION_INTERFACE_FAILURE", Severity::Critical, "The tape drive has a problem with the automation interface."),
    ("FIRMWARE_FAILURE", Severity::Warning, "The tape drive has reset itself due to a detected microcode fault."),
    ("WORM_MEDIUM_INTEGRITY_CHECK_FAILED", Severity::Warning, "The tape drive has detected an inconsistency during the WORM medium integrity checks."),
    ("WORM_MEDIUM_OVERWRITE_ATTEMPTED", Severity::Warning, "An attempt had been made to overwrite user data on a WORM medium."),
    ("RESERVED_61", Severity::Information, "Reserved TapeAlert flag 61."),
    ("RESERVED_62", Severity::Information, "Reserved TapeAlert flag 62."),
    ("RESERVED_63", Severity::Information, "Reserved TapeAlert flag 63."),
    ("RESERVED_64", Severity::Information, "Reserved TapeAlert flag 64."),
];

/// One raised flag with its number, name, severity and message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapeAlertEntry {
    pub flag: u8,
    pub name: &'static str,
    pub severity: Severity,
    pub message: &'static str,
}

impl TapeAlertFlags {
    /// The flag with number `n` (1..=64).
    pub fn from_number(n: u8) -> Option<Self> {
        (1..=64)
            .contains(&n)
            .then(|| TapeAlertFlags::from_bits_retain(1u64 << (n - 1)))
    }

    /// The raised flags in ascending number, each with its text.
    pub fn entries(self) -> Vec<TapeAlertEntry> {
        (1..=64u8)
            .filter(|n| self.bits() & (1u64 << (n - 1)) != 0)
            .map(|n| {
                let (name, severity, message) = FLAG_TABLE[usize::from(n - 1)];
                TapeAlertEntry {
                    flag: n,
                    name,
                    severity,
                    message,
                }
            })
            .collect()
    }

    /// Bit layout of the TapeAlert response parameter and of MAM attribute
    /// 0x0002: flag 1 is the most significant bit.
    pub fn to_msb_first(self) -> u64 {
        self.bits().reverse_bits()
    }

    /// Inverse of [`TapeAlertFlags::to_msb_first`].
    pub fn from_msb_first(value: u64) -> Self {
        TapeAlertFlags::from_bits_retain(value.reverse_bits())
    }
}

/// Severity of a flag; for a combination the highest severity among them,
/// [`Severity::Information`] for the empty set.
pub fn severity(flag: TapeAlertFlags) -> Severity {
    flag.entries()
        .iter()
        .map(|e| e.severity)
        .max()
        .unwrap_or(Severity::Information)
}

/// Standard message of a single flag (the lowest-numbered one of a set).
pub fn message(flag: TapeAlertFlags) -> Option<&'static str> {
    flag.entries().first().map(|e| e.message)
}

/// Decode the TapeAlert log page 0x2E: parameter n (1..=64) carries flag n
/// in bit 0 of its first byte. Parameters outside 1..=64 are ignored.
pub fn decode_tape_alert_page(bytes: &[u8]) -> Result<TapeAlertFlags, DriveError> {
    let page = parse_log_page(bytes, PAGE_TAPE_ALERT, "TapeAlert log page 0x2E")?;
    let mut flags = TapeAlertFlags::empty();
    for p in &page.parameters {
        let Ok(n) = u8::try_from(p.code) else {
            continue;
        };
        if let (Some(flag), Some(value)) = (TapeAlertFlags::from_number(n), p.value.first()) {
            if value & 0x01 != 0 {
                flags |= flag;
            }
        }
    }
    Ok(flags)
}

/// Decode the TapeAlert response log page 0x12: parameter 0x0000 holds 64
/// bits, flag 1 in the most significant bit of the first byte.
pub fn decode_tape_alert_response(bytes: &[u8]) -> Result<TapeAlertFlags, DriveError> {
    let what = "TapeAlert response log page 0x12";
    let page = parse_log_page(bytes, PAGE_TAPE_ALERT_RESPONSE, what)?;
    let param = page
        .parameter(0x0000)
        .ok_or_else(|| decode_error(what, "parameter 0x0000 missing"))?;
    let raw: [u8; 8] = param
        .value
        .get(..8)
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| {
            decode_error(
                what,
                format!(
                    "parameter 0x0000 has {} bytes, expected 8",
                    param.value.len()
                ),
            )
        })?;
    Ok(TapeAlertFlags::from_msb_first(u64::from_be_bytes(raw)))
}

/// Read the current TapeAlert flags: LOG SENSE page 0x2E, or page 0x12 when
/// the drive does not support 0x2E. Reading page 0x2E clears the flags on
/// most drives (they are "read once").
pub fn read_tape_alert_flags(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<TapeAlertFlags, DriveError> {
    match log_page::read_log_page_once(t, device, PAGE_TAPE_ALERT, "TapeAlert log page 0x2E") {
        Ok(bytes) => decode_tape_alert_page(&bytes).map_err(|e| with_device(e, device)),
        Err(DriveError::NotSupported { .. }) => {
            let bytes = log_page::read_log_page(
                t,
                device,
                PAGE_TAPE_ALERT_RESPONSE,
                "TapeAlert log pages 0x2E and 0x12",
            )?;
            decode_tape_alert_response(&bytes).map_err(|e| with_device(e, device))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::log_page::LogPageBuilder;

    #[test]
    fn table_is_complete_and_named() {
        assert_eq!(TapeAlertFlags::all().iter().count(), 64);
        assert_eq!(TapeAlertFlags::READ_WARNING.bits(), 1);
        assert_eq!(TapeAlertFlags::CLEAN_NOW.bits(), 1 << 19);
        assert_eq!(TapeAlertFlags::RESERVED_64.bits(), 1 << 63);
        for (i, (name, _, _)) in FLAG_TABLE.iter().enumerate() {
            let flag = TapeAlertFlags::from_name(name).unwrap();
            assert_eq!(flag.bits(), 1u64 << i, "{name}");
        }
        assert_eq!(severity(TapeAlertFlags::MEDIA), Severity::Critical);
        assert_eq!(
            severity(TapeAlertFlags::CLEANING_MEDIA),
            Severity::Information
        );
        assert_eq!(
            severity(TapeAlertFlags::READ_WARNING | TapeAlertFlags::WRITE_FAILURE),
            Severity::Critical
        );
        assert_eq!(severity(TapeAlertFlags::empty()), Severity::Information);
        assert_eq!(severity(TapeAlertFlags::WRITE_PROTECT), Severity::Critical);
        assert_eq!(severity(TapeAlertFlags::CLEAN_PERIODIC), Severity::Warning);
        assert!(message(TapeAlertFlags::CLEAN_NOW)
            .unwrap()
            .contains("cleaning"));
    }

    /// Page 0x2E in the layout of the IBM TapeAlert page documentation
    /// (page length 0x0140, 64 parameters of 5 bytes, control byte DS=1),
    /// hand-built with the given flags set (no device dump at hand).
    fn page_2e(set: &[u16]) -> Vec<u8> {
        let mut page = vec![0x2e, 0x00, 0x01, 0x40];
        for code in 1..=64u16 {
            page.extend_from_slice(&code.to_be_bytes());
            page.extend_from_slice(&[0x40, 0x01, u8::from(set.contains(&code))]);
        }
        page
    }

    #[test]
    fn decodes_page_2e() {
        let flags = decode_tape_alert_page(&page_2e(&[0x14, 0x03])).unwrap();
        assert_eq!(
            flags,
            TapeAlertFlags::CLEAN_NOW | TapeAlertFlags::HARD_ERROR
        );
        let entries = flags.entries();
        assert_eq!(entries[0].flag, 3);
        assert_eq!(entries[1].name, "CLEAN_NOW");
    }

    #[test]
    fn truncated_page_keeps_complete_parameters() {
        let page = page_2e(&[0x01, 0x40]);
        // Allocation length cut the page in the middle: flag 64 is lost, flag 1 kept.
        let flags = decode_tape_alert_page(&page[..100]).unwrap();
        assert_eq!(flags, TapeAlertFlags::READ_WARNING);
        for cut in 0..page.len() {
            let _ = decode_tape_alert_page(&page[..cut]);
        }
        assert!(decode_tape_alert_page(&page[..3]).is_err());
    }

    #[test]
    fn falls_back_to_response_page() {
        use crate::drive::info_io::mock::Scripted;
        use crate::scsi::{SenseData, SenseKey};
        let flags = TapeAlertFlags::CLEAN_NOW;
        let response = LogPageBuilder::new(0x12)
            .parameter(0, 0x03, &flags.to_msb_first().to_be_bytes())
            .finish();
        let mut t = Scripted::default()
            .on(
                &[0x4d, 0, 0x6e],
                Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0)),
            )
            .on(&[0x4d, 0, 0x52], Ok(response));
        assert_eq!(read_tape_alert_flags(&mut t, "st0").unwrap(), flags);
        // Page 0x2E was read in one command with a large allocation length.
        assert_eq!(&t.sent[0].0[7..9], &[0xff, 0xfc]);
        let mut t = Scripted::default().on(&[0x4d, 0, 0x6e], Ok(page_2e(&[0x14])));
        assert_eq!(read_tape_alert_flags(&mut t, "st0").unwrap(), flags);
        assert_eq!(t.sent.len(), 1, "read once: the page clears on read");
    }

    /// Page 0x12 of an IBM ULT3580-TD6 (LTO-6) as `sg_logs -a` dumped it:
    /// no flags set, control byte 0x43.
    const IBM_TD6_RESPONSE: [u8; 16] = [
        0x12, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x43, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn decodes_real_response_page() {
        assert_eq!(
            decode_tape_alert_response(&IBM_TD6_RESPONSE).unwrap(),
            TapeAlertFlags::empty()
        );
        let mut with_flag = IBM_TD6_RESPONSE;
        with_flag[10] = 0x10; // byte 2 of the value: flags 17..24, 0x10 = flag 20
        assert_eq!(
            decode_tape_alert_response(&with_flag).unwrap(),
            TapeAlertFlags::CLEAN_NOW
        );
        assert!(decode_tape_alert_response(&IBM_TD6_RESPONSE[..15]).is_err());
    }

    #[test]
    fn decodes_response_page() {
        let flags = TapeAlertFlags::WRITE_PROTECT | TapeAlertFlags::RESERVED_64;
        let page = LogPageBuilder::new(0x12)
            .parameter(0, 0x03, &flags.to_msb_first().to_be_bytes())
            .finish();
        assert_eq!(page[8], 0x00);
        assert_eq!(page[9], 0x80, "flag 9 is the MSB of the second byte");
        assert_eq!(decode_tape_alert_response(&page).unwrap(), flags);
        assert!(decode_tape_alert_response(&page[..10]).is_err());
        assert!(decode_tape_alert_page(&page).is_err(), "wrong page code");
    }
}
