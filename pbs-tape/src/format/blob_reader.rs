//! Readers of the snapshot and catalog archives: a JSON body naming the
//! opaque payload, then exactly `data_len` payload bytes.

use super::block_reader::BlockReader;
use super::constants::MAX_BLOB_LEN;
use super::content::{expect_content, read_content_body, ContentHeader, ContentType};
use super::error::FormatError;
use super::tape::TapeRead;
use super::writer::{CatalogArchiveInfo, SnapshotArchiveInfo};

/// A snapshot archive read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotArchive {
    pub uuid: uuid::Uuid,
    pub snapshot: String,
    /// The manifest bytes, as ptape gave them.
    pub manifest: Vec<u8>,
}

/// A catalog archive read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogArchive {
    pub uuid: uuid::Uuid,
    pub media_uuid: uuid::Uuid,
    /// The catalog bytes, as ptape gave them.
    pub data: Vec<u8>,
}

/// Read the snapshot archive at the tape's position.
pub fn read_snapshot_archive<R: TapeRead>(tape: &mut R) -> Result<SnapshotArchive, FormatError> {
    let mut reader = BlockReader::new(tape);
    reader.begin_required()?;
    let header = expect_content(&mut reader, ContentType::SnapshotArchive)?;
    snapshot_from_parts(&mut reader, &header)
}

/// Read the catalog archive at the tape's position.
pub fn read_catalog_archive<R: TapeRead>(tape: &mut R) -> Result<CatalogArchive, FormatError> {
    let mut reader = BlockReader::new(tape);
    reader.begin_required()?;
    let header = expect_content(&mut reader, ContentType::CatalogArchive)?;
    catalog_from_parts(&mut reader, &header)
}

pub(crate) fn snapshot_from_parts<R: TapeRead>(
    reader: &mut BlockReader<'_, R>,
    header: &ContentHeader,
) -> Result<SnapshotArchive, FormatError> {
    reader.set_allow_incomplete(false);
    let info: SnapshotArchiveInfo = read_content_body(reader, header)?;
    let manifest = read_payload(reader, info.data_len, "snapshot manifest")?;
    Ok(SnapshotArchive {
        uuid: header.uuid,
        snapshot: info.snapshot,
        manifest,
    })
}

pub(crate) fn catalog_from_parts<R: TapeRead>(
    reader: &mut BlockReader<'_, R>,
    header: &ContentHeader,
) -> Result<CatalogArchive, FormatError> {
    reader.set_allow_incomplete(false);
    let info: CatalogArchiveInfo = read_content_body(reader, header)?;
    let data = read_payload(reader, info.data_len, "catalog data")?;
    Ok(CatalogArchive {
        uuid: header.uuid,
        media_uuid: info.media_uuid,
        data,
    })
}

/// Read exactly `len` bytes, then require the end of the stream.
fn read_payload<R: TapeRead>(
    reader: &mut BlockReader<'_, R>,
    len: u64,
    what: &'static str,
) -> Result<Vec<u8>, FormatError> {
    if len > MAX_BLOB_LEN {
        return Err(FormatError::TooLarge {
            what,
            len,
            max: MAX_BLOB_LEN,
        });
    }
    let mut data = Vec::new();
    let len = len as usize;
    while data.len() < len {
        let old = data.len();
        let step = (len - old).min(1024 * 1024);
        data.resize(old + step, 0);
        let got = reader.read_fill(&mut data[old..])?;
        if got < step {
            return Err(FormatError::TruncatedContent {
                what,
                got: old + got,
                need: len,
            });
        }
    }
    reader.expect_end(what)?;
    Ok(data)
}
