//! [`ChunkArchiveReader`]: iterates the entries of a chunk archive, each
//! verified (SHA-256 recomputed) before it is handed out.

use super::block_reader::BlockReader;
use super::chunk_entry::{hex, sha256, EntryHeader, ENTRY_HEADER_LEN};
use super::chunk_writer::ChunkArchiveInfo;
use super::content::{expect_content, read_content_body, ContentHeader, ContentType};
use super::error::FormatError;
use super::tape::TapeRead;

/// One verified chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkEntry {
    pub digest: [u8; 32],
    pub data: Vec<u8>,
}

/// Reads the chunk archive at the tape's position.
#[derive(Debug)]
pub struct ChunkArchiveReader<'a, R: TapeRead> {
    reader: BlockReader<'a, R>,
    header: ContentHeader,
    info: ChunkArchiveInfo,
    index: u64,
    done: bool,
    continues: bool,
}

/// Bytes read per step while filling a chunk (the buffer grows with the
/// data actually present, not with the length a damaged header claims).
const READ_STEP: usize = 1024 * 1024;

impl<'a, R: TapeRead> ChunkArchiveReader<'a, R> {
    /// Open the chunk archive that starts at the tape's position.
    pub fn new(tape: &'a mut R) -> Result<Self, FormatError> {
        let mut reader = BlockReader::with_incomplete(tape, true);
        reader.begin_required()?;
        let header = expect_content(&mut reader, ContentType::ChunkArchive)?;
        Self::from_parts(reader, header)
    }

    /// Continue from a reader whose content header was read already.
    pub(crate) fn from_parts(
        mut reader: BlockReader<'a, R>,
        header: ContentHeader,
    ) -> Result<Self, FormatError> {
        reader.set_allow_incomplete(true);
        let info = read_content_body(&mut reader, &header)?;
        Ok(ChunkArchiveReader {
            reader,
            header,
            info,
            index: 0,
            done: false,
            continues: false,
        })
    }

    pub fn header(&self) -> &ContentHeader {
        &self.header
    }

    pub fn info(&self) -> &ChunkArchiveInfo {
        &self.info
    }

    /// Entries handed out so far.
    pub fn entries_read(&self) -> u64 {
        self.index
    }

    /// After the last entry: true when the archive was ended at early
    /// warning and continues on the next tape of the media set.
    pub fn continues_on_next_tape(&self) -> bool {
        self.continues
    }

    /// The next verified entry; `Ok(None)` at the end of the archive (the
    /// tape is then at the start of the next file).
    pub fn next_entry(&mut self) -> Result<Option<ChunkEntry>, FormatError> {
        if self.done {
            return Ok(None);
        }
        let mut raw = [0u8; ENTRY_HEADER_LEN];
        let got = self.reader.read_fill(&mut raw)?;
        if got == 0 {
            return self.end_of_archive(false);
        }
        if got < ENTRY_HEADER_LEN {
            return self.end_of_archive(true);
        }
        let header = EntryHeader::parse(&raw, self.index)?;
        // parse() bounded data_len by MAX_CHUNK_LEN.
        let len = header.data_len.get() as usize;
        // Reserving is cheap (address space only); pages are touched as
        // data arrives, so a lying header costs nothing but the error.
        let mut data = Vec::with_capacity(len);
        while data.len() < len {
            let old = data.len();
            let step = (len - old).min(READ_STEP);
            data.resize(old + step, 0);
            let got = self.reader.read_fill(&mut data[old..])?;
            if got < step {
                return self.end_of_archive(true);
            }
        }
        let computed = sha256(&data);
        if computed != header.digest {
            return Err(FormatError::DigestMismatch {
                index: self.index,
                recorded: hex(&header.digest),
                computed: hex(&computed),
            });
        }
        self.index += 1;
        Ok(Some(ChunkEntry {
            digest: header.digest,
            data,
        }))
    }

    /// The stream ended; `partial`: inside an entry.
    fn end_of_archive(&mut self, partial: bool) -> Result<Option<ChunkEntry>, FormatError> {
        let end = self
            .reader
            .stream_end()
            .ok_or(FormatError::StreamCutShort {
                at: "end of data",
                blocks: 0,
            })?;
        if partial && !end.incomplete {
            return Err(FormatError::TruncatedEntry { index: self.index });
        }
        if end.record_count != self.index {
            return Err(FormatError::RecordCountMismatch {
                recorded: end.record_count,
                found: self.index,
            });
        }
        self.done = true;
        self.continues = end.incomplete;
        Ok(None)
    }
}

impl<R: TapeRead> Iterator for ChunkArchiveReader<'_, R> {
    type Item = Result<ChunkEntry, FormatError>;

    /// Yields entries; after the first error, yields nothing more.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
