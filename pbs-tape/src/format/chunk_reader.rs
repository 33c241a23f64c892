//! [`ChunkArchiveReader`]: iterates the entries of a chunk archive, each
//! verified (SHA-256 recomputed) before it is handed out.

use super::block_reader::BlockReader;
use super::chunk_entry::{hex, sha256, EntryHeader, EntryPosition, ENTRY_HEADER_LEN};
use super::chunk_writer::ChunkArchiveInfo;
use super::constants::ENTRY_MAGIC;
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
    /// After damage: the next entry is searched for by its magic.
    resyncing: bool,
    /// Damage was seen: the end-of-stream record count no longer applies.
    damaged: bool,
    /// Opened at an entry in the middle ([`Self::at_entry`]): the entries
    /// before it are not counted, so the record count is not checked.
    from_middle: bool,
    /// Where the entry last handed out starts (`None` after a resync).
    last_position: Option<EntryPosition>,
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

    /// Resume reading an archive in the middle, at the tape's position (a
    /// reader skipped an unreadable block): entries are found as by
    /// [`Self::next_entry_resync`] after damage; the content header is not
    /// read (its fields are empty).
    pub fn resume(tape: &'a mut R) -> Self {
        let mut reader = BlockReader::with_incomplete(tape, true);
        reader.set_resync(true);
        Self::in_the_middle(reader, true)
    }

    /// A reader that starts inside an archive (its content header not
    /// read: the fields are empty); `after_damage` when it was a skipped
    /// unreadable block that brought it there (entries are resynced).
    fn in_the_middle(reader: BlockReader<'a, R>, after_damage: bool) -> Self {
        ChunkArchiveReader {
            reader,
            header: ContentHeader {
                content_type: ContentType::ChunkArchive,
                uuid: uuid::Uuid::nil(),
                body_len: 0,
            },
            info: ChunkArchiveInfo {
                store: String::new(),
            },
            index: 0,
            done: false,
            continues: false,
            resyncing: after_damage,
            damaged: after_damage,
            from_middle: true,
            last_position: None,
        }
    }

    /// Open the chunk archive in the middle, at the entry recorded at
    /// `position` (see [`EntryPosition`]); the tape must be at the
    /// archive's block `position.block` (LOCATE to the archive's first
    /// logical object + `position.block`). A block with another sequence
    /// number is an error ([`FormatError::SequenceGap`] or
    /// [`FormatError::DuplicateBlock`]): the position was wrong. Entries
    /// are read and verified as by [`Self::next_entry`] up to the end of
    /// the archive; the content header is not read (its fields are empty).
    pub fn at_entry(tape: &'a mut R, position: EntryPosition) -> Result<Self, FormatError> {
        let mut reader = BlockReader::at_block(tape, position.block, true);
        reader.begin_required()?;
        reader.skip_in_block(position.offset as usize)?;
        Ok(Self::in_the_middle(reader, false))
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
            resyncing: false,
            damaged: false,
            from_middle: false,
            last_position: None,
        })
    }

    /// Where the entry last handed out starts in the archive (`None`
    /// before the first, and for an entry found by resynchronising).
    pub fn entry_position(&self) -> Option<EntryPosition> {
        self.last_position
    }

    /// Where the next entry would start (the next payload byte).
    pub fn next_position(&self) -> EntryPosition {
        let (block, offset) = self.reader.next_byte_position();
        EntryPosition { block, offset }
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
        self.last_position = None;
        let (block, offset) = self.reader.next_byte_position();
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
        self.last_position = Some(EntryPosition { block, offset });
        Ok(Some(ChunkEntry {
            digest: header.digest,
            data,
        }))
    }

    /// Like [`Self::next_entry`], but damage does not end the archive: a
    /// damaged block, missing blocks or a bad entry are returned as an
    /// error once, and the next call goes on with the next intact entry
    /// (found by its magic and checked by its digest) when
    /// [`Self::can_resync`] says so. Only damaged entries are lost.
    pub fn next_entry_resync(&mut self) -> Result<Option<ChunkEntry>, FormatError> {
        self.reader.set_resync(true);
        if self.done {
            return Ok(None);
        }
        if !self.resyncing {
            return match self.next_entry() {
                Err(e) if resyncable(&e) => {
                    self.resyncing = true;
                    self.damaged = true;
                    Err(e)
                }
                other => other,
            };
        }
        // Scan for the next entry magic, then read and check that entry.
        let mut window = [0u8; 8];
        let mut have = 0usize;
        loop {
            let mut byte = [0u8; 1];
            let got = match self.reader.read(&mut byte) {
                Ok(n) => n,
                Err(e) if resyncable(&e) => continue,
                Err(e) => return Err(e),
            };
            if got == 0 {
                return self.end_of_archive(true);
            }
            window.copy_within(1.., 0);
            window[7] = byte[0];
            have = (have + 1).min(8);
            if have < 8 || window != ENTRY_MAGIC {
                continue;
            }
            let mut raw = [0u8; ENTRY_HEADER_LEN];
            raw[..8].copy_from_slice(&window);
            have = 0;
            match self.reader.read_fill(&mut raw[8..]) {
                Ok(n) if n == ENTRY_HEADER_LEN - 8 => {}
                Ok(_) => return self.end_of_archive(true),
                Err(e) if resyncable(&e) => continue,
                Err(e) => return Err(e),
            }
            let Ok(header) = EntryHeader::parse(&raw, self.index) else {
                continue;
            };
            let mut data = vec![0u8; header.data_len.get() as usize];
            match self.reader.read_fill(&mut data) {
                Ok(n) if n == data.len() => {}
                Ok(_) => return self.end_of_archive(true),
                Err(e) if resyncable(&e) => continue,
                Err(e) => return Err(e),
            }
            if sha256(&data) == header.digest {
                self.last_position = None;
                self.resyncing = false;
                self.index += 1;
                return Ok(Some(ChunkEntry {
                    digest: header.digest,
                    data,
                }));
            }
        }
    }

    /// After an error of [`Self::next_entry_resync`]: true when reading
    /// can go on past the damage.
    pub fn can_resync(&self) -> bool {
        self.resyncing && !self.done
    }

    /// The stream ended; `partial`: inside an entry.
    fn end_of_archive(&mut self, partial: bool) -> Result<Option<ChunkEntry>, FormatError> {
        if self.damaged {
            self.done = true;
            self.continues = self.reader.stream_end().is_some_and(|e| e.incomplete);
            return Ok(None);
        }
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
        if !self.from_middle && end.record_count != self.index {
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

/// Damage that reading past can recover from.
fn resyncable(e: &FormatError) -> bool {
    matches!(
        e,
        FormatError::BlockTooShort { .. }
            | FormatError::BadBlockMagic { .. }
            | FormatError::UnsupportedBlockVersion { .. }
            | FormatError::UnknownBlockFlags { .. }
            | FormatError::BadBlockLength { .. }
            | FormatError::ChecksumMismatch { .. }
            | FormatError::SequenceGap { .. }
            | FormatError::BadEntryMagic { .. }
            | FormatError::DigestMismatch { .. }
            | FormatError::TooLarge { .. }
    )
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
