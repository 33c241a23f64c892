//! Media label (tape file 0) and media set label (tape file 1).
//!
//! A label file is one block of at most [`MIN_BLOCK_SIZE`] bytes (content
//! header + JSON body), so any reader with a legal buffer reads it,
//! whatever block size the rest of the tape was written with.

use serde::{Deserialize, Serialize};

use super::block_reader::BlockReader;
use super::constants::MIN_BLOCK_SIZE;
use super::content::{expect_content, read_content_body, ContentHeader, ContentType};
use super::error::FormatError;
use super::key_config::KeyConfig;
use super::tape::TapeRead;

/// Block size of label files.
pub const LABEL_BLOCK_SIZE: usize = MIN_BLOCK_SIZE;

/// The media label: who this cartridge is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaLabel {
    /// Label text: the barcode.
    pub label_text: String,
    /// UUID of this medium (changes every time it is labelled).
    pub uuid: uuid::Uuid,
    /// Creation time, seconds since the Unix epoch.
    pub ctime: i64,
}

/// The media set label: which set and pool the cartridge belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSetLabel {
    /// Pool name.
    pub pool: String,
    /// UUID of the media set.
    pub uuid: uuid::Uuid,
    /// Position of this cartridge in the set, from 0.
    pub seq_nr: u64,
    /// Creation time, seconds since the Unix epoch.
    pub ctime: i64,
    /// Fingerprint of the encryption key the set is written with, if any.
    pub encryption_key_fingerprint: Option<String>,
    /// That key, wrapped with its passphrase (never the plain key), so it
    /// can be recovered from the tape (`ptape key restore`).
    #[serde(default)]
    pub key_config: Option<KeyConfig>,
}

/// Read the media label of the tape file the tape is at (file 0 after a
/// rewind). `Ok(None)`: the tape is blank (end of data at once).
pub fn read_media_label<R: TapeRead>(tape: &mut R) -> Result<Option<MediaLabel>, FormatError> {
    read_label(tape, ContentType::MediaLabel)
}

/// Read the media set label of the tape file the tape is at (file 1, right
/// after the media label). `Ok(None)`: end of data, no set assigned.
pub fn read_media_set_label<R: TapeRead>(
    tape: &mut R,
) -> Result<Option<MediaSetLabel>, FormatError> {
    read_label(tape, ContentType::MediaSetLabel)
}

fn read_label<R: TapeRead, L: serde::de::DeserializeOwned>(
    tape: &mut R,
    content_type: ContentType,
) -> Result<Option<L>, FormatError> {
    let mut reader = BlockReader::new(tape);
    if !reader.begin()? {
        return Ok(None);
    }
    let header = expect_content(&mut reader, content_type)?;
    read_label_body(&mut reader, &header).map(Some)
}

/// Read a label's body after its header and require the stream to end there.
pub(crate) fn read_label_body<R: TapeRead, L: serde::de::DeserializeOwned>(
    reader: &mut BlockReader<'_, R>,
    header: &ContentHeader,
) -> Result<L, FormatError> {
    reader.set_allow_incomplete(false);
    let label = read_content_body(reader, header)?;
    reader.expect_end(header.content_type.name())?;
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_label_without_key_config_still_reads() {
        let json = r#"{"pool":"p","uuid":"00000000-0000-0000-0000-000000000001",
            "seq_nr":0,"ctime":1,"encryption_key_fingerprint":null}"#;
        let label: MediaSetLabel = serde_json::from_str(json).unwrap();
        assert_eq!(label.key_config, None);
    }
}
