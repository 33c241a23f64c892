//! Tape images: the records (variable-length blocks and filemarks) of one
//! cartridge.
//!
//! Two files per cartridge:
//! - `<BARCODE>.tape`: a 16-byte header ([`DATA_MAGIC`]), then the block
//!   payloads back to back;
//! - `<BARCODE>.tape.idx`: a 40-byte header ([`INDEX_MAGIC`]), then one
//!   40-byte [`IndexEntry`] per logical object (block or filemark) with its
//!   payload offset, length, CRC32C, the number of filemarks before it and,
//!   for an encrypted block, the fingerprint of its key.
//!
//! Logical object `i` is entry `i` (O(1)); the `k`-th filemark is found by
//! binary search over the filemark counts (O(log n)). Appends go through
//! small write-behind buffers (payload first, index entry after), so a
//! 256 KiB block costs about one `pwrite`; there is no fsync per block, only
//! on [`TapeImage::sync`]. Writing anywhere but at the end truncates both
//! files first, like tape.
//!
//! Crash consistency: entries are written only after their payload; on open
//! the index is cut at the first entry that is torn, inconsistent, or whose
//! payload is not (fully, with matching CRC) in the data file, and both files
//! are truncated to that consistent end.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use zerocopy::byteorder::big_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Magic at the start of a tape image payload file.
pub const DATA_MAGIC: [u8; 8] = *b"PTTAPE01";
/// Magic at the start of a tape image index file.
pub const INDEX_MAGIC: [u8; 8] = *b"PTIDX002";
/// Length of the payload file header.
pub const DATA_HEADER_LEN: u64 = 16;
/// Length of the index file header (and of each entry).
pub const INDEX_HEADER_LEN: u64 = ENTRY_LEN;
/// Length of one index entry.
pub const ENTRY_LEN: u64 = std::mem::size_of::<IndexEntry>() as u64;
/// Medium space one filemark takes, bytes (capacity accounting).
pub const FILEMARK_COST: u64 = 4096;
/// Size of the write-behind buffers.
const WRITE_BEHIND: usize = 1 << 20;

const KIND_BLOCK: u8 = 0;
const KIND_FILEMARK: u8 = 1;
const FLAG_ENCRYPTED: u8 = 0x01;

/// One logical object in the index file (big-endian, 40 bytes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct IndexEntry {
    /// Offset of the payload in the data file.
    pub offset: U64,
    /// Filemarks before this object (its logical file number).
    pub file_number: U64,
    /// Payload length (0 for a filemark).
    pub length: U32,
    /// CRC32C of the payload.
    pub crc: U32,
    /// Fingerprint of the encryption key (zero when not encrypted).
    pub key_fingerprint: [u8; 8],
    /// 0 block, 1 filemark.
    pub kind: u8,
    /// Bit 0: payload is encrypted.
    pub flags: u8,
    pub reserved: [u8; 6],
}

/// What a logical object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Block(BlockInfo),
    Filemark,
}

/// Stored facts about a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockInfo {
    /// Stored payload length.
    pub length: u32,
    /// Encrypted with the key whose fingerprint is `key_fingerprint`.
    pub encrypted: bool,
    pub key_fingerprint: [u8; 8],
}

impl IndexEntry {
    fn record(&self) -> Record {
        if self.kind == KIND_FILEMARK {
            Record::Filemark
        } else {
            Record::Block(BlockInfo {
                length: self.length.get(),
                encrypted: self.flags & FLAG_ENCRYPTED != 0,
                key_fingerprint: self.key_fingerprint,
            })
        }
    }

    fn end(&self) -> u64 {
        self.offset.get() + self.length.get() as u64
    }

    fn filemarks_after(&self) -> u64 {
        self.file_number.get() + u64::from(self.kind == KIND_FILEMARK)
    }
}

/// Errors of tape image files.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a tape image (bad magic)")]
    BadMagic { path: String },
    #[error("{path}: block {index} fails its checksum")]
    Checksum { path: String, index: u64 },
    #[error("{path}: logical object {index} does not exist")]
    NoSuchObject { path: String, index: u64 },
}

/// Size facts of an image, read without opening it for writing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageSummary {
    pub objects: u64,
    pub used_bytes: u64,
}

/// Path of the index file belonging to an image.
pub fn index_path(image: &Path) -> PathBuf {
    let mut p = image.as_os_str().to_owned();
    p.push(".idx");
    PathBuf::from(p)
}

/// An open tape image.
#[derive(Debug)]
pub struct TapeImage {
    path: PathBuf,
    index_path: PathBuf,
    data: File,
    index: File,
    entries: Vec<IndexEntry>,
    /// Payload bytes not yet written, belonging at `data_written`.
    pending_data: Vec<u8>,
    data_written: u64,
    /// Entries not yet written to the index file (from `index_written` on).
    index_written: u64,
}

impl TapeImage {
    /// Open (or create) the image at `path`, repairing a torn tail.
    pub fn open(path: &Path) -> Result<TapeImage, ImageError> {
        let index_path = index_path(path);
        let data = open_with_header(path, &DATA_MAGIC, DATA_HEADER_LEN)?;
        let index = open_with_header(&index_path, &INDEX_MAGIC, INDEX_HEADER_LEN)?;
        let data_len = file_len(&data, path)?;
        let mut entries = read_entries(&index, &index_path)?;
        let valid = consistent_prefix(&entries, data_len);
        entries.truncate(valid);
        let mut image = TapeImage {
            path: path.to_path_buf(),
            index_path,
            data,
            index,
            entries,
            pending_data: Vec::new(),
            data_written: 0,
            index_written: 0,
        };
        // Drop trailing blocks whose payload did not reach the disk intact.
        let mut scratch = Vec::new();
        while let Some(last) = image.entries.len().checked_sub(1) {
            if image.read_payload(last as u64, &mut scratch).is_ok() {
                break;
            }
            image.entries.pop();
        }
        let end = image.data_end();
        image.index_written = image.entries.len() as u64;
        image.data_written = end;
        image.set_file_lengths()?;
        Ok(image)
    }

    /// The payload file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of logical objects (blocks + filemarks); the EOD position.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The object at `index`, if any.
    pub fn record(&self, index: u64) -> Option<Record> {
        self.entry(index).map(IndexEntry::record)
    }

    fn entry(&self, index: u64) -> Option<&IndexEntry> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// Filemarks among objects `0..index` (the file number at `index`).
    pub fn filemarks_before(&self, index: u64) -> u64 {
        match index.checked_sub(1).and_then(|i| self.entry(i)) {
            Some(e) => e.filemarks_after(),
            None if index == 0 => 0,
            None => self.total_filemarks(),
        }
    }

    /// Filemarks on the whole image.
    pub fn total_filemarks(&self) -> u64 {
        self.entries.last().map_or(0, IndexEntry::filemarks_after)
    }

    /// Position of the `k`-th filemark (0-based), if there are that many.
    pub fn filemark_index(&self, k: u64) -> Option<u64> {
        let i = self.entries.partition_point(|e| {
            let f = e.file_number.get();
            f < k || (f == k && e.kind != KIND_FILEMARK)
        });
        (i < self.entries.len()).then_some(i as u64)
    }

    /// Medium space used by objects `0..index`.
    pub fn used_bytes(&self, index: u64) -> u64 {
        let index = index.min(self.len());
        match index.checked_sub(1).and_then(|i| self.entry(i)) {
            Some(e) => e.end() - DATA_HEADER_LEN + e.filemarks_after() * FILEMARK_COST,
            None => 0,
        }
    }

    /// Payload end offset (where the next block goes).
    fn data_end(&self) -> u64 {
        self.entries.last().map_or(DATA_HEADER_LEN, IndexEntry::end)
    }

    /// Read the payload of block `index` into `out` (resized to its length).
    /// A filemark gives an empty payload.
    pub fn read_block(&mut self, index: u64, out: &mut Vec<u8>) -> Result<(), ImageError> {
        self.flush()?;
        self.read_payload(index, out)
    }

    fn read_payload(&self, index: u64, out: &mut Vec<u8>) -> Result<(), ImageError> {
        let e = *self.entry(index).ok_or_else(|| ImageError::NoSuchObject {
            path: self.path.display().to_string(),
            index,
        })?;
        out.clear();
        out.resize(e.length.get() as usize, 0);
        self.data
            .read_exact_at(out, e.offset.get())
            .map_err(|source| self.io_err(source))?;
        if crc32c::crc32c(out) != e.crc.get() {
            return Err(ImageError::Checksum {
                path: self.path.display().to_string(),
                index,
            });
        }
        Ok(())
    }

    /// Discard objects `at..` (writing anywhere truncates, like tape).
    pub fn truncate(&mut self, at: u64) -> Result<(), ImageError> {
        if at >= self.len() {
            return Ok(());
        }
        self.flush()?;
        self.entries.truncate(at as usize);
        self.index_written = self.len();
        self.data_written = self.data_end();
        self.set_file_lengths()
    }

    /// Append a block at the end.
    pub fn append_block(&mut self, payload: &[u8], info: BlockInfo) -> Result<(), ImageError> {
        let len = u32::try_from(payload.len()).map_err(|_| {
            self.io_err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "block larger than 4 GiB",
            ))
        })?;
        let entry = IndexEntry {
            offset: U64::new(self.data_end()),
            file_number: U64::new(self.total_filemarks()),
            length: U32::new(len),
            crc: U32::new(crc32c::crc32c(payload)),
            key_fingerprint: if info.encrypted {
                info.key_fingerprint
            } else {
                [0; 8]
            },
            kind: KIND_BLOCK,
            flags: if info.encrypted { FLAG_ENCRYPTED } else { 0 },
            reserved: [0; 6],
        };
        if self.pending_data.len() + payload.len() > WRITE_BEHIND {
            self.write_pending_data()?;
        }
        if payload.len() >= WRITE_BEHIND / 4 && self.pending_data.is_empty() {
            self.data
                .write_all_at(payload, self.data_written)
                .map_err(|source| self.io_err(source))?;
            self.data_written += payload.len() as u64;
        } else {
            self.pending_data.extend_from_slice(payload);
        }
        self.push_entry(entry)
    }

    /// Append `count` filemarks at the end.
    pub fn append_filemarks(&mut self, count: u64) -> Result<(), ImageError> {
        for _ in 0..count {
            let entry = IndexEntry {
                offset: U64::new(self.data_end()),
                file_number: U64::new(self.total_filemarks()),
                length: U32::new(0),
                crc: U32::new(crc32c::crc32c(&[])),
                key_fingerprint: [0; 8],
                kind: KIND_FILEMARK,
                flags: 0,
                reserved: [0; 6],
            };
            self.push_entry(entry)?;
        }
        Ok(())
    }

    fn push_entry(&mut self, entry: IndexEntry) -> Result<(), ImageError> {
        self.entries.push(entry);
        if (self.len() - self.index_written) * ENTRY_LEN >= 64 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    fn write_pending_data(&mut self) -> Result<(), ImageError> {
        if !self.pending_data.is_empty() {
            self.data
                .write_all_at(&self.pending_data, self.data_written)
                .map_err(|source| self.io_err(source))?;
            self.data_written += self.pending_data.len() as u64;
            self.pending_data.clear();
        }
        Ok(())
    }

    /// Hand everything appended so far to the operating system (payload
    /// first, then index entries). No fsync.
    pub fn flush(&mut self) -> Result<(), ImageError> {
        self.write_pending_data()?;
        let from = self.index_written as usize;
        if from < self.entries.len() {
            let bytes = self.entries[from..].as_bytes();
            let off = INDEX_HEADER_LEN + self.index_written * ENTRY_LEN;
            self.index
                .write_all_at(bytes, off)
                .map_err(|source| index_io_err(&self.index_path, source))?;
            self.index_written = self.len();
        }
        Ok(())
    }

    /// [`flush`](Self::flush), then make both files durable (fsync).
    pub fn sync(&mut self) -> Result<(), ImageError> {
        self.flush()?;
        self.data
            .sync_data()
            .map_err(|source| self.io_err(source))?;
        self.index
            .sync_data()
            .map_err(|source| index_io_err(&self.index_path, source))
    }

    /// Simulate a crash of the process: whatever is still in the
    /// write-behind buffers is lost (used by crash-consistency tests).
    pub fn crash(mut self) {
        self.pending_data.clear();
        self.entries.truncate(self.index_written as usize);
    }

    fn set_file_lengths(&mut self) -> Result<(), ImageError> {
        self.index
            .set_len(INDEX_HEADER_LEN + self.len() * ENTRY_LEN)
            .map_err(|source| index_io_err(&self.index_path, source))?;
        self.data
            .set_len(self.data_end())
            .map_err(|source| self.io_err(source))
    }

    fn io_err(&self, source: std::io::Error) -> ImageError {
        index_io_err(&self.path, source)
    }
}

impl Drop for TapeImage {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!("flushing tape image on close: {e}");
        }
    }
}

/// Objects and used bytes of the image at `path` (zero when it does not
/// exist yet), without repairing or locking it.
pub fn summarize(path: &Path) -> Result<ImageSummary, ImageError> {
    let index_path = index_path(path);
    let (Ok(data), Ok(index)) = (File::open(path), File::open(&index_path)) else {
        return Ok(ImageSummary::default());
    };
    let data_len = file_len(&data, path)?;
    let entries = read_entries(&index, &index_path)?;
    let n = consistent_prefix(&entries, data_len);
    let used = match n.checked_sub(1).map(|i| &entries[i]) {
        Some(e) => e.end() - DATA_HEADER_LEN + e.filemarks_after() * FILEMARK_COST,
        None => 0,
    };
    Ok(ImageSummary {
        objects: n as u64,
        used_bytes: used,
    })
}

fn index_io_err(path: &Path, source: std::io::Error) -> ImageError {
    ImageError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn file_len(file: &File, path: &Path) -> Result<u64, ImageError> {
    file.metadata()
        .map(|m| m.len())
        .map_err(|e| index_io_err(path, e))
}

fn open_with_header(path: &Path, magic: &[u8; 8], header_len: u64) -> Result<File, ImageError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| index_io_err(path, e))?;
    let len = file_len(&file, path)?;
    if len < header_len {
        if len != 0 {
            // A torn header can only come from a crash right after creation.
            let mut head = vec![0u8; len as usize];
            file.read_exact_at(&mut head, 0)
                .map_err(|e| index_io_err(path, e))?;
            if !magic.starts_with(&head[..head.len().min(8)]) {
                return Err(ImageError::BadMagic {
                    path: path.display().to_string(),
                });
            }
        }
        let mut header = vec![0u8; header_len as usize];
        header[..8].copy_from_slice(magic);
        file.write_all_at(&header, 0)
            .map_err(|e| index_io_err(path, e))?;
        file.set_len(header_len)
            .map_err(|e| index_io_err(path, e))?;
    } else {
        let mut head = [0u8; 8];
        file.read_exact_at(&mut head, 0)
            .map_err(|e| index_io_err(path, e))?;
        if &head != magic {
            return Err(ImageError::BadMagic {
                path: path.display().to_string(),
            });
        }
    }
    Ok(file)
}

fn read_entries(mut index: &File, path: &Path) -> Result<Vec<IndexEntry>, ImageError> {
    let mut bytes = Vec::new();
    index
        .read_to_end(&mut bytes)
        .map_err(|e| index_io_err(path, e))?;
    let body = bytes.get(INDEX_HEADER_LEN as usize..).unwrap_or(&[]);
    if bytes.len() >= 8 && bytes[..8] != INDEX_MAGIC {
        return Err(ImageError::BadMagic {
            path: path.display().to_string(),
        });
    }
    Ok(body
        .chunks_exact(ENTRY_LEN as usize)
        .filter_map(|c| IndexEntry::read_from_bytes(c).ok())
        .collect())
}

/// Number of leading entries that are self-consistent and whose payload
/// lies inside a data file of `data_len` bytes.
fn consistent_prefix(entries: &[IndexEntry], data_len: u64) -> usize {
    let mut offset = DATA_HEADER_LEN;
    let mut filemarks = 0u64;
    for (i, e) in entries.iter().enumerate() {
        let ok = e.offset.get() == offset
            && e.file_number.get() == filemarks
            && (e.kind == KIND_BLOCK || (e.kind == KIND_FILEMARK && e.length.get() == 0))
            && e.end() <= data_len;
        if !ok {
            return i;
        }
        offset = e.end();
        filemarks = e.filemarks_after();
    }
    entries.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[test]
    fn append_read_truncate() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("T.tape");
        let mut img = TapeImage::open(&path).unwrap();
        img.append_block(&block(1000, 1), BlockInfo::default())
            .unwrap();
        img.append_filemarks(1).unwrap();
        img.append_block(&block(300_000, 2), BlockInfo::default())
            .unwrap();
        img.append_filemarks(2).unwrap();
        assert_eq!(img.len(), 5);
        assert_eq!(img.total_filemarks(), 3);
        assert_eq!(img.filemark_index(0), Some(1));
        assert_eq!(img.filemark_index(1), Some(3));
        assert_eq!(img.filemark_index(2), Some(4));
        assert_eq!(img.filemark_index(3), None);
        assert_eq!(img.filemarks_before(3), 1);
        assert_eq!(img.used_bytes(5), 301_000 + 3 * FILEMARK_COST);
        let mut buf = Vec::new();
        img.read_block(2, &mut buf).unwrap();
        assert_eq!(buf, block(300_000, 2));
        img.truncate(2).unwrap();
        assert_eq!(img.len(), 2);
        drop(img);
        let img = TapeImage::open(&path).unwrap();
        assert_eq!(img.len(), 2);
        assert_eq!(img.record(1), Some(Record::Filemark));
        assert_eq!(summarize(&path).unwrap().objects, 2);
    }

    #[test]
    fn torn_tail_is_dropped_on_open() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("T.tape");
        let mut img = TapeImage::open(&path).unwrap();
        img.append_block(&block(5000, 1), BlockInfo::default())
            .unwrap();
        img.append_block(&block(5000, 2), BlockInfo::default())
            .unwrap();
        img.flush().unwrap();
        drop(img);
        // Lose the last 10 payload bytes and corrupt nothing else.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len - 10).unwrap();
        drop(f);
        let mut img = TapeImage::open(&path).unwrap();
        assert_eq!(img.len(), 1);
        let mut buf = Vec::new();
        img.read_block(0, &mut buf).unwrap();
        assert_eq!(buf, block(5000, 1));
        // Flip a payload byte: checksum error on read, dropped on reopen.
        drop(img);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[0xff ^ block(5000, 1)[7]], DATA_HEADER_LEN + 7)
            .unwrap();
        drop(f);
        assert_eq!(TapeImage::open(&path).unwrap().len(), 0);
    }

    #[test]
    fn foreign_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("T.tape");
        std::fs::write(&path, b"hello world, not a tape").unwrap();
        assert!(matches!(
            TapeImage::open(&path),
            Err(ImageError::BadMagic { .. })
        ));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(usize, u8),
        Filemark,
        Rewind,
        Space(i64),
        Read,
        Flush,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0usize..70_000, any::<u8>()).prop_map(|(l, s)| Op::Write(l, s)),
            1 => Just(Op::Filemark),
            1 => Just(Op::Rewind),
            1 => (-5i64..5).prop_map(Op::Space),
            2 => Just(Op::Read),
            1 => Just(Op::Flush),
        ]
    }

    #[derive(Debug, Clone, PartialEq)]
    enum M {
        B(Vec<u8>),
        F,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random writes, filemarks, repositioning, reads and flushes against
        /// a model; then a crash: the reopened image is a prefix of the
        /// model that keeps at least everything flushed and not overwritten.
        #[test]
        fn crash_keeps_flushed_prefix(ops in proptest::collection::vec(op(), 1..40), chop in 0u64..100_000) {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("P.tape");
            let mut img = TapeImage::open(&path).unwrap();
            let mut model: Vec<M> = Vec::new();
            let mut pos = 0usize;
            let mut stable = 0usize;
            let mut buf = Vec::new();
            for op in ops {
                match op {
                    Op::Write(len, seed) => {
                        img.truncate(pos as u64).unwrap();
                        model.truncate(pos);
                        stable = stable.min(pos);
                        let b = block(len, seed);
                        img.append_block(&b, BlockInfo::default()).unwrap();
                        model.push(M::B(b));
                        pos += 1;
                    }
                    Op::Filemark => {
                        img.truncate(pos as u64).unwrap();
                        model.truncate(pos);
                        stable = stable.min(pos);
                        img.append_filemarks(1).unwrap();
                        model.push(M::F);
                        pos += 1;
                    }
                    Op::Rewind => pos = 0,
                    Op::Space(n) => pos = (pos as i64 + n).clamp(0, model.len() as i64) as usize,
                    Op::Read => {
                        if pos < model.len() {
                            match &model[pos] {
                                M::B(b) => {
                                    img.read_block(pos as u64, &mut buf).unwrap();
                                    prop_assert_eq!(&buf, b);
                                }
                                M::F => prop_assert_eq!(img.record(pos as u64), Some(Record::Filemark)),
                            }
                            pos += 1;
                        }
                    }
                    Op::Flush => {
                        img.flush().unwrap();
                        stable = model.len();
                    }
                }
                prop_assert_eq!(img.len(), model.len() as u64);
            }
            let stable_end = img.used_bytes(stable as u64) - img.filemarks_before(stable as u64) * FILEMARK_COST + DATA_HEADER_LEN;
            img.crash();
            // A torn write: the data file loses some bytes after the stable part.
            let f = OpenOptions::new().write(true).open(&path).unwrap();
            let len = f.metadata().unwrap().len();
            let cut = (len - chop.min(len)).max(stable_end);
            f.set_len(cut).unwrap();
            drop(f);
            let mut img = TapeImage::open(&path).unwrap();
            let n = img.len() as usize;
            prop_assert!(n >= stable && n <= model.len(), "n={} stable={} model={}", n, stable, model.len());
            for (i, m) in model.iter().take(n).enumerate() {
                match m {
                    M::B(b) => {
                        img.read_block(i as u64, &mut buf).unwrap();
                        prop_assert_eq!(&buf, b);
                    }
                    M::F => prop_assert_eq!(img.record(i as u64), Some(Record::Filemark)),
                }
            }
        }
    }
}
