//! Reading tapes back (restore, verify, catalog scan): loading a cartridge
//! by label, checking that it is the medium the catalog knows, positioning
//! at a tape file, and the error every reader reports.

use pbs_tape::format::{
    read_media_label, read_media_set_label, BlockReader, ContentHeader, FormatError, MediaSetLabel,
    TapeIoError, CONTENT_HEADER_LEN,
};
use uuid::Uuid;

use crate::catalog::MediaRecord;
use crate::devices::{DeviceError, TapeDevices, TapeMotion};
use crate::keys::{HardwareEncryption, KeyError, ReadKeys};

/// Why reading a tape failed.
#[derive(Debug, thiserror::Error)]
pub enum TapeAccessError {
    #[error("tape {label}: {source}")]
    Format {
        label: String,
        #[source]
        source: Box<FormatError>,
    },
    #[error("tape {label}: {source}")]
    Device {
        label: String,
        #[source]
        source: Box<DeviceError>,
    },
    #[error("tape {label}: the cartridge carries {found}, the catalog expects media {expected}")]
    WrongMedia {
        label: String,
        expected: Uuid,
        found: String,
    },
    /// The key of an encrypted media set is missing, cannot be opened or
    /// cannot be loaded into the drive.
    #[error(transparent)]
    Key(Box<KeyError>),
}

impl From<KeyError> for TapeAccessError {
    fn from(e: KeyError) -> Self {
        TapeAccessError::Key(Box::new(e))
    }
}

impl TapeAccessError {
    /// A format-layer error on tape `label`.
    pub fn format(label: &str, source: FormatError) -> Self {
        TapeAccessError::Format {
            label: label.to_string(),
            source: Box::new(source),
        }
    }

    /// A device error on tape `label`.
    pub fn device(label: &str, source: DeviceError) -> Self {
        TapeAccessError::Device {
            label: label.to_string(),
            source: Box::new(source),
        }
    }

    /// A positioning error on tape `label`.
    pub fn io(label: &str, source: TapeIoError) -> Self {
        Self::device(label, DeviceError::from(source))
    }
}

/// Loads the catalogued tape `media` and checks its media label (file 0);
/// a cartridge that is not that medium is unloaded again and refused.
pub fn load_checked<D: TapeDevices>(
    devices: &mut D,
    media: &MediaRecord,
) -> Result<D::Tape, TapeAccessError> {
    let label = &media.label;
    let mut tape = devices
        .load(label)
        .map_err(|e| TapeAccessError::device(label, e))?;
    let found = tape
        .rewind()
        .map_err(|e| TapeAccessError::io(label, e))
        .and_then(|()| read_media_label(&mut tape).map_err(|e| TapeAccessError::format(label, e)));
    match found {
        Ok(Some(l)) if l.uuid == media.uuid => Ok(tape),
        other => {
            let _ = devices.unload(tape);
            let found = match other {
                Ok(Some(l)) => format!("media {} ({})", l.uuid, l.label_text),
                Ok(None) => "no media label (blank)".to_string(),
                Err(e) => return Err(e),
            };
            Err(TapeAccessError::WrongMedia {
                label: label.clone(),
                expected: media.uuid,
                found,
            })
        }
    }
}

/// Positions `tape` at the first block of tape file `file` (SSC LOCATE).
pub fn locate<T: TapeMotion>(tape: &mut T, label: &str, file: u64) -> Result<(), TapeAccessError> {
    tape.locate_file(file)
        .map_err(|e| TapeAccessError::io(label, e))
}

/// Reads only the content header of the tape file the tape is at (its
/// first block); `Ok(None)` at end of data. The tape is left inside the
/// file: locate before reading anything else.
pub fn peek_content_header<R: pbs_tape::format::TapeRead>(
    tape: &mut R,
) -> Result<Option<ContentHeader>, FormatError> {
    let mut reader = BlockReader::with_incomplete(tape, true);
    if !reader.begin()? {
        return Ok(None);
    }
    let mut bytes = [0u8; CONTENT_HEADER_LEN];
    let got = reader.read_fill(&mut bytes)?;
    ContentHeader::parse(&bytes[..got]).map(Some)
}

/// Sets the drive up for reading the data of the tape in it (labelled
/// `label`, its media label already checked): reads the media set label
/// (file 1, unencrypted) and loads that set's key into the drive, or
/// clears a key `keys` loaded before when the set is not encrypted. A key
/// missing from the store fails here, before any data is read. Returns
/// the media set label (`None`: the tape has none).
pub fn prepare_keys<T: pbs_tape::format::TapeRead + TapeMotion + HardwareEncryption>(
    tape: &mut T,
    label: &str,
    keys: &mut ReadKeys,
) -> Result<Option<MediaSetLabel>, TapeAccessError> {
    locate(tape, label, 1)?;
    let set = read_media_set_label(tape).map_err(|e| TapeAccessError::format(label, e))?;
    match &set {
        Some(set) => keys.prepare(tape, label, set)?,
        None => keys.release(tape).map_err(KeyError::from)?,
    }
    Ok(set)
}

/// [`load_checked`], then [`prepare_keys`]: the tape is ready for reading
/// its data (positioned after file 1; callers locate).
pub fn load_for_reading<D: TapeDevices>(
    devices: &mut D,
    media: &MediaRecord,
    keys: &mut ReadKeys,
) -> Result<D::Tape, TapeAccessError> {
    let mut tape = load_checked(devices, media)?;
    match prepare_keys(&mut tape, &media.label, keys) {
        Ok(_) => Ok(tape),
        Err(e) => {
            let _ = unload_read(devices, tape, &media.label, keys);
            Err(e)
        }
    }
}

/// Unloads a tape a reader used: the key `keys` loaded is cleared first.
pub fn unload_read<D: TapeDevices>(
    devices: &mut D,
    mut tape: D::Tape,
    label: &str,
    keys: &mut ReadKeys,
) -> Result<(), TapeAccessError> {
    let cleared = keys.release(&mut tape);
    devices
        .unload(tape)
        .map_err(|e| TapeAccessError::device(label, e))?;
    cleared.map_err(KeyError::from)?;
    Ok(())
}
