//! Tape health while writing: the drive's TapeAlert flags (SSC-5 Annex A,
//! LOG SENSE page 0x2E) are read when a tape is loaded and when the job is
//! done with it (full, or the job's end).
//!
//! - Critical media flags ([`MEDIA_DAMAGE`]: the cartridge is damaged or
//!   failing) mark the tape `damaged`: no job writes to it again and its
//!   chunks no longer count for deduplication. At load the job moves on to
//!   another tape; after data was written the job fails with the flag's
//!   text (what it wrote there is at risk; the next job writes it again).
//! - Cleaning flags ([`CLEANING`]) are reported; when the drive is
//!   configured with `--auto-clean` and its library has a cleaning
//!   cartridge, the drive is cleaned once the job has unloaded the tape.
//! - Every other flag of warning or critical severity is reported as a
//!   warning (the job ends "finished with warnings", exit 3).
//! - Flags of information severity (10 NO_REMOVAL while a job holds the
//!   cartridge, 11 CLEANING_MEDIA, 12 UNSUPPORTED_FORMAT, ...) are noted in
//!   the job log only: they say nothing about the data written. A drive may
//!   keep them raised from an earlier cleaning (mhVTL keeps flag 11 after
//!   its cleaning cartridge was unloaded).

use pbs_tape::drive::tape_alert::{Severity, TapeAlertFlags};

/// Flags that say the cartridge itself is damaged or failing.
pub const MEDIA_DAMAGE: TapeAlertFlags = TapeAlertFlags::MEDIA
    .union(TapeAlertFlags::READ_FAILURE)
    .union(TapeAlertFlags::WRITE_FAILURE)
    .union(TapeAlertFlags::RECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE)
    .union(TapeAlertFlags::UNRECOVERABLE_MECHANICAL_CARTRIDGE_FAILURE)
    .union(TapeAlertFlags::TAPE_SYSTEM_AREA_WRITE_FAILURE)
    .union(TapeAlertFlags::TAPE_SYSTEM_AREA_READ_FAILURE)
    .union(TapeAlertFlags::NO_START_OF_DATA)
    .union(TapeAlertFlags::LOADING_FAILURE);

/// Flags that ask for the drive to be cleaned.
pub const CLEANING: TapeAlertFlags =
    TapeAlertFlags::CLEAN_NOW.union(TapeAlertFlags::CLEAN_PERIODIC);

/// The flags read once, sorted by what the writer does about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alerts {
    pub media_damage: TapeAlertFlags,
    pub cleaning: TapeAlertFlags,
    /// Other flags of warning or critical severity.
    pub other: TapeAlertFlags,
    /// Flags of information severity (a note, never a warning).
    pub information: TapeAlertFlags,
}

impl Alerts {
    pub fn classify(flags: TapeAlertFlags) -> Alerts {
        let rest = flags - MEDIA_DAMAGE - CLEANING;
        let information = rest
            .entries()
            .iter()
            .filter(|e| e.severity == Severity::Information)
            .filter_map(|e| TapeAlertFlags::from_number(e.flag))
            .fold(TapeAlertFlags::empty(), |all, f| all | f);
        Alerts {
            media_damage: flags & MEDIA_DAMAGE,
            cleaning: flags & CLEANING,
            other: rest - information,
            information,
        }
    }
}

/// `TapeAlert 4 MEDIA (critical): Your data is at risk: ...` for each flag.
pub fn describe(flags: TapeAlertFlags) -> String {
    flags
        .entries()
        .iter()
        .map(|e| {
            let severity = format!("{:?}", e.severity).to_lowercase();
            format!(
                "TapeAlert {} {} ({severity}): {}",
                e.flag, e.name, e.message
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_sorted_by_what_is_done() {
        let a = Alerts::classify(
            TapeAlertFlags::MEDIA | TapeAlertFlags::CLEAN_NOW | TapeAlertFlags::DRIVE_TEMPERATURE,
        );
        assert_eq!(a.media_damage, TapeAlertFlags::MEDIA);
        assert_eq!(a.cleaning, TapeAlertFlags::CLEAN_NOW);
        assert_eq!(a.other, TapeAlertFlags::DRIVE_TEMPERATURE);
        assert_eq!(a.information, TapeAlertFlags::empty());
        assert_eq!(Alerts::classify(TapeAlertFlags::empty()), Alerts::default());
        // Information flags are only noted: a stale CLEANING_MEDIA (seen on
        // mhVTL) or NO_REMOVAL during a job is no warning.
        let a = Alerts::classify(
            TapeAlertFlags::CLEANING_MEDIA
                | TapeAlertFlags::NO_REMOVAL
                | TapeAlertFlags::HARD_ERROR,
        );
        assert_eq!(a.other, TapeAlertFlags::HARD_ERROR);
        assert_eq!(
            a.information,
            TapeAlertFlags::CLEANING_MEDIA | TapeAlertFlags::NO_REMOVAL
        );
        let text = describe(TapeAlertFlags::MEDIA | TapeAlertFlags::CLEAN_NOW);
        assert!(text.starts_with("TapeAlert 4 MEDIA (critical): Your data is at risk"));
        assert!(text.contains("TapeAlert 20 CLEAN_NOW (critical)"));
    }
}
