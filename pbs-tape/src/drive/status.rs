//! `DriveStatus`: everything `pmt status` shows, gathered without moving
//! the tape (INQUIRY data, TEST UNIT READY, MODE SENSE, READ POSITION).

use serde::Serialize;

use super::density::lto_generation;
use super::lto::LtoDrive;
use super::mode_pages::{read_mode_settings, ModeSettings};
use super::position::{Position, PositionForm};
use super::DriveError;
use crate::scsi::SenseKey;

/// Whether a cartridge is loaded and usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediumState {
    /// A cartridge is loaded and ready.
    Ready,
    /// No cartridge in the drive (02/3A00).
    NoMedium,
    /// The drive is loading or calibrating (02/0401); try again later.
    BecomingReady,
    /// Not ready for another reason (see `not_ready_reason`).
    NotReady,
}

/// State of the drive and its cartridge. Serialized with stable snake_case
/// field names (documented in `docs/pmt.md`); unknown values are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriveStatus {
    /// Device path as given.
    pub device: String,
    pub vendor: String,
    pub product: String,
    pub revision: String,
    /// Unit serial number (VPD 0x80).
    pub serial: Option<String>,
    /// Largest block through this path (READ BLOCK LIMITS and transfer limit).
    pub max_block_size: usize,
    pub medium_state: MediumState,
    /// True when a cartridge is in the drive (ready or becoming ready).
    pub medium_present: bool,
    /// The sense text when `medium_state` is `not_ready`.
    pub not_ready_reason: Option<String>,
    pub write_protected: Option<bool>,
    /// Density code of the mode block descriptor (loaded medium's format).
    pub density_code: Option<u8>,
    /// LTO generation that density code stands for.
    pub lto_generation: Option<u8>,
    /// "LTO-9", "LTO-7 Type M", ...
    pub density_name: Option<String>,
    /// "LTO-9 data cartridge", ...
    pub medium_type: Option<String>,
    /// Block size from the mode block descriptor; 0 = variable-block mode.
    pub block_size: Option<u32>,
    /// Data compression enabled (mode page 0x0F DCE).
    pub compression: Option<bool>,
    /// Buffered mode (mode parameter header), 0 = unbuffered.
    pub buffer_mode: Option<u8>,
    pub partition: Option<u32>,
    /// Which READ POSITION form the drive answered: `long`, or `short`
    /// (no file number) on drives that reject the long form.
    pub position_form: Option<PositionForm>,
    /// Filemarks between BOP and the head: the tape file the head is in
    /// (unknown from the short form, except at BOT).
    pub file_number: Option<u64>,
    /// Block number within the current file, when it can be known without
    /// moving the tape (in file 0 it is the logical object number).
    pub block_number: Option<u64>,
    /// Blocks and filemarks between BOP and the head (READ POSITION).
    pub logical_object_number: Option<u64>,
    /// Head at beginning of partition.
    pub bot: Option<bool>,
    /// Head past the early-warning point (end of medium near).
    pub eom: Option<bool>,
    /// Why the position is unknown, when a cartridge is ready but READ
    /// POSITION gave no usable answer.
    pub position_error: Option<String>,
}

impl DriveStatus {
    fn apply_mode(&mut self, mode: &ModeSettings, medium_ready: bool) {
        self.block_size = Some(mode.block_length);
        self.compression = mode.compression.as_ref().map(|c| c.enabled);
        self.buffer_mode = Some(mode.buffer_mode);
        if medium_ready {
            self.write_protected = Some(mode.write_protected);
            if mode.density_code != 0 {
                self.density_code = Some(mode.density_code);
                if let Some(info) = lto_generation(mode.density_code) {
                    self.lto_generation = Some(info.generation);
                    self.density_name = Some(info.name.to_string());
                    self.medium_type = Some(info.medium_type.to_string());
                }
            }
        }
    }

    fn apply_position(&mut self, pos: &Position) {
        self.partition = Some(pos.partition);
        self.position_form = Some(pos.form);
        self.file_number = pos.file_number;
        self.logical_object_number = Some(pos.logical_object);
        self.block_number = (pos.file_number == Some(0)).then_some(pos.logical_object);
        self.bot = Some(pos.bop);
        self.eom = Some(pos.eop);
    }
}

/// Gather the status; a missing or not-ready cartridge is a state, not an error.
pub fn drive_status(drive: &mut LtoDrive) -> Result<DriveStatus, DriveError> {
    let id = drive.identity().clone();
    let mut status = DriveStatus {
        device: drive.path().to_string(),
        vendor: id.vendor,
        product: id.product,
        revision: id.revision,
        serial: id.serial,
        max_block_size: drive.max_block_size(),
        medium_state: MediumState::Ready,
        medium_present: true,
        not_ready_reason: None,
        write_protected: None,
        density_code: None,
        lto_generation: None,
        density_name: None,
        medium_type: None,
        block_size: None,
        compression: None,
        buffer_mode: None,
        partition: None,
        position_form: None,
        file_number: None,
        block_number: None,
        logical_object_number: None,
        bot: None,
        eom: None,
        position_error: None,
    };
    match drive.test_unit_ready() {
        Ok(()) => {}
        Err(DriveError::NoMedium { .. }) => {
            status.medium_state = MediumState::NoMedium;
            status.medium_present = false;
        }
        Err(DriveError::Scsi { source, .. })
            if source.sense().is_some_and(|s| s.key == SenseKey::NotReady) =>
        {
            let sense = source.sense().cloned();
            if sense
                .as_ref()
                .is_some_and(|s| s.asc == 0x04 && s.ascq == 0x01)
            {
                status.medium_state = MediumState::BecomingReady;
            } else {
                status.medium_state = MediumState::NotReady;
                status.medium_present = false;
                status.not_ready_reason = sense.map(|s| s.to_string());
            }
        }
        Err(e) => return Err(e),
    }
    let ready = status.medium_state == MediumState::Ready;
    let (transport, path) = drive.transport_and_path();
    match read_mode_settings(transport, path) {
        Ok(mode) => status.apply_mode(&mode, ready),
        // Without a ready cartridge some drives refuse MODE SENSE: leave unknown.
        Err(_) if !ready => {}
        Err(e) => return Err(e),
    }
    if ready {
        match drive.read_position() {
            Ok(pos) => status.apply_position(&pos),
            Err(DriveError::PositionUnknown { reason, .. }) => status.position_error = Some(reason),
            Err(DriveError::NotSupported { source, .. }) => {
                status.position_error = Some(format!("READ POSITION: {source}"))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::mock::{long_form, mock_drive, mock_drive_with, Answer};
    use crate::scsi::opcodes::MODE_SENSE_10;
    use crate::scsi::SenseData;

    fn not_ready(ascq: u8) -> Answer {
        Err(SenseData::new(SenseKey::NotReady, 0x04, ascq))
    }

    fn unsupported() -> Answer {
        Err(SenseData::new(SenseKey::IllegalRequest, 0x24, 0x00))
    }

    /// MODE SENSE(10) data: header, block descriptor (LTO-8 density,
    /// variable blocks), compression page with DCE set; write protected.
    fn mode_data() -> Answer {
        let mut d = vec![0, 0, 0, 0x80 | 0x10, 0, 0, 0, 8];
        d.extend_from_slice(&[0x5E, 0, 0, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&[0x0F, 0x0E, 0xC0, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        let len = (d.len() - 2) as u16;
        d[..2].copy_from_slice(&len.to_be_bytes());
        Ok(d)
    }

    /// MODE SENSE(10): compression page as above, no device configuration page.
    fn mode_pages() -> Vec<(Vec<u8>, Answer)> {
        vec![
            (vec![MODE_SENSE_10, 0, 0x0F], mode_data()),
            (vec![MODE_SENSE_10, 0, 0x10], unsupported()),
        ]
    }

    #[test]
    fn becoming_ready_is_a_state() {
        let (mut drive, _) = mock_drive(vec![not_ready(0x01), Ok(vec![])]);
        let s = drive_status(&mut drive).unwrap();
        assert_eq!(s.medium_state, MediumState::BecomingReady);
        assert!(s.medium_present);
        assert_eq!(s.file_number, None);
        assert_eq!(s.vendor, "MOCK");
    }

    #[test]
    fn other_not_ready_reports_the_sense() {
        let (mut drive, _) = mock_drive(vec![not_ready(0x02), Ok(vec![])]);
        let s = drive_status(&mut drive).unwrap();
        assert_eq!(s.medium_state, MediumState::NotReady);
        let reason = s.not_ready_reason.expect("reason");
        assert!(reason.contains("02/0402"), "{reason}");
    }

    #[test]
    fn ready_drive_decodes_mode_and_position() {
        let (mut drive, _) =
            mock_drive_with(mode_pages(), vec![Ok(vec![]), Ok(long_form(0x00, 12, 3))]);
        let s = drive_status(&mut drive).unwrap();
        assert_eq!(s.medium_state, MediumState::Ready);
        assert_eq!(s.write_protected, Some(true));
        assert_eq!(s.buffer_mode, Some(1));
        assert_eq!(s.density_code, Some(0x5E));
        assert_eq!(s.lto_generation, Some(8));
        assert_eq!(s.block_size, Some(0));
        assert_eq!(s.compression, Some(true));
        assert_eq!(s.file_number, Some(3));
        assert_eq!(s.logical_object_number, Some(12));
        assert_eq!(s.block_number, None);
        assert_eq!(s.bot, Some(false));
    }

    #[test]
    fn unknown_position_is_reported_not_invented() {
        let (mut drive, _) =
            mock_drive_with(mode_pages(), vec![Ok(vec![]), Ok(long_form(0x04, 0, 0))]);
        let s = drive_status(&mut drive).unwrap();
        assert_eq!(s.file_number, None);
        assert_eq!(s.logical_object_number, None);
        assert!(s.position_error.is_some_and(|e| e.contains("unknown")));
    }
}
