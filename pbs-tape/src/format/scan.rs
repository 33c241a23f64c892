//! [`TapeScanner`]: walks a tape file by file and says what each one holds,
//! reading every file completely (chunk entries verified). This is what a
//! catalog rebuild without any database uses.

use super::blob_reader::{
    catalog_from_parts, snapshot_from_parts, CatalogArchive, SnapshotArchive,
};
use super::block_reader::BlockReader;
use super::chunk_entry::EntryPosition;
use super::chunk_reader::ChunkArchiveReader;
use super::chunk_writer::ChunkArchiveInfo;
use super::content::{read_content_header, ContentHeader, ContentType};
use super::error::FormatError;
use super::label::{read_label_body, MediaLabel, MediaSetLabel};
use super::tape::TapeRead;

/// What one tape file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedContent {
    MediaLabel(MediaLabel),
    MediaSetLabel(MediaSetLabel),
    ChunkArchive {
        info: ChunkArchiveInfo,
        /// Digests of the verified entries, in tape order.
        digests: Vec<[u8; 32]>,
        /// Where each entry of `digests` starts in the archive.
        positions: Vec<EntryPosition>,
        /// Sum of the chunk data lengths.
        chunk_bytes: u64,
        continues_on_next_tape: bool,
    },
    SnapshotArchive(SnapshotArchive),
    CatalogArchive(CatalogArchive),
}

/// One tape file found by the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedFile {
    pub file_number: u64,
    pub header: ContentHeader,
    pub content: ScannedContent,
}

/// Iterator over the files of a tape, from the current position to end of
/// data. It yields `Err` once and then stops (the position is unknown
/// after an error).
#[derive(Debug)]
pub struct TapeScanner<'a, R: TapeRead> {
    tape: &'a mut R,
    next_file: u64,
    done: bool,
}

impl<'a, R: TapeRead> TapeScanner<'a, R> {
    /// Scan from the current position, which is tape file `first_file`
    /// (0 after a rewind).
    pub fn new(tape: &'a mut R, first_file: u64) -> Self {
        TapeScanner {
            tape,
            next_file: first_file,
            done: false,
        }
    }

    fn scan_one(&mut self) -> Result<Option<ScannedFile>, FormatError> {
        let mut reader = BlockReader::with_incomplete(self.tape, true);
        if !reader.begin()? {
            return Ok(None);
        }
        let header = read_content_header(&mut reader)?;
        let content = match header.content_type {
            ContentType::MediaLabel => {
                ScannedContent::MediaLabel(read_label_body(&mut reader, &header)?)
            }
            ContentType::MediaSetLabel => {
                ScannedContent::MediaSetLabel(read_label_body(&mut reader, &header)?)
            }
            ContentType::SnapshotArchive => {
                ScannedContent::SnapshotArchive(snapshot_from_parts(&mut reader, &header)?)
            }
            ContentType::CatalogArchive => {
                ScannedContent::CatalogArchive(catalog_from_parts(&mut reader, &header)?)
            }
            ContentType::ChunkArchive => {
                let mut chunks = ChunkArchiveReader::from_parts(reader, header)?;
                let mut digests = Vec::new();
                let mut positions = Vec::new();
                let mut chunk_bytes = 0;
                while let Some(entry) = chunks.next_entry()? {
                    digests.push(entry.digest);
                    // next_entry (no resync) knows every entry's start.
                    positions.extend(chunks.entry_position());
                    chunk_bytes += entry.data.len() as u64;
                }
                ScannedContent::ChunkArchive {
                    info: chunks.info().clone(),
                    digests,
                    positions,
                    chunk_bytes,
                    continues_on_next_tape: chunks.continues_on_next_tape(),
                }
            }
        };
        let file = ScannedFile {
            file_number: self.next_file,
            header,
            content,
        };
        self.next_file += 1;
        Ok(Some(file))
    }
}

impl<R: TapeRead> Iterator for TapeScanner<'_, R> {
    type Item = Result<ScannedFile, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.scan_one() {
            Ok(Some(file)) => Some(Ok(file)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Scan a tape from its current position (tape file `first_file`).
pub fn scan_tape<R: TapeRead>(tape: &mut R, first_file: u64) -> TapeScanner<'_, R> {
    TapeScanner::new(tape, first_file)
}
