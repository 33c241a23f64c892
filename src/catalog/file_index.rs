//! The local file index: what each snapshot holds, browsable without a
//! tape (`ptape catalog ls`, `ptape catalog find`).
//!
//! It lives in the directory `file-index/` beside the catalog database:
//!
//! ```text
//! snapshots/ARCHIVE-UUID.pidx   the snapshot index (summary and both
//!                               chunk indexes), as on tape
//! chunks/XX/DIGEST.lz4          each metadata chunk once, LZ4-compressed
//!                               (`lz4_flex` size-prepended block format)
//! staging/JOB/                  chunks of a running backup
//! ```
//!
//! A backup stages its metadata chunks while it runs and publishes them,
//! with the snapshot index, only after its finish barrier committed the
//! snapshot; `ptape catalog scan` rebuilds what is missing from the tapes.
//! Metadata chunks are content-addressed, so snapshots of an unchanged tree
//! share them: the index grows by the changed metadata only. Every chunk is
//! checked against its digest when read.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::chunking::{digest_to_hex, sha256, Digest};
use crate::stream::entry::{Entry, EntryError, EntryReader};
use crate::stream::index::{IndexError, SnapshotIndex};

/// Errors of the local file index.
#[derive(Debug, thiserror::Error)]
pub enum FileIndexError {
    #[error("file index {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("file index of snapshot archive {archive}: {source}")]
    Index {
        archive: Uuid,
        #[source]
        source: IndexError,
    },
    #[error("file index chunk {0} is damaged; run ptape catalog scan to rebuild it")]
    BadChunk(String),
    #[error("no file index for this snapshot; run ptape catalog scan to rebuild it from tape")]
    Missing,
    #[error(transparent)]
    Entry(#[from] EntryError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileIndexError + '_ {
    move |source| FileIndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file index directory of one catalog.
#[derive(Debug, Clone)]
pub struct FileIndex {
    dir: PathBuf,
}

impl FileIndex {
    /// The index in `dir` (created on first write).
    pub fn new(dir: &Path) -> FileIndex {
        FileIndex {
            dir: dir.to_path_buf(),
        }
    }

    /// The index beside the catalog database at `catalog`.
    pub fn beside(catalog: &Path) -> FileIndex {
        let dir = catalog.parent().unwrap_or(Path::new("."));
        FileIndex::new(&dir.join("file-index"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn snapshot_path(&self, archive: Uuid) -> PathBuf {
        self.dir.join("snapshots").join(format!("{archive}.pidx"))
    }

    fn chunk_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest_to_hex(digest);
        self.dir
            .join("chunks")
            .join(&hex[..2])
            .join(format!("{hex}.lz4"))
    }

    /// True when the snapshot archive `archive` is indexed.
    pub fn has(&self, archive: Uuid) -> bool {
        self.snapshot_path(archive).is_file()
    }

    /// A staging area for a running job.
    pub fn stage(&self) -> Result<Staging, FileIndexError> {
        let dir = self.dir.join("staging").join(Uuid::new_v4().to_string());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(Staging {
            index: self.clone(),
            dir,
        })
    }

    /// Stores one metadata chunk (if not there yet).
    pub fn put_chunk(&self, digest: &Digest, data: &[u8]) -> Result<(), FileIndexError> {
        let path = self.chunk_path(digest);
        if path.is_file() {
            return Ok(());
        }
        write_chunk_file(&path, data)
    }

    /// Stores a snapshot index (`bytes` read from `index`).
    pub fn put_snapshot(&self, archive: Uuid, index: &mut dyn Read) -> Result<(), FileIndexError> {
        let path = self.snapshot_path(archive);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let tmp = dir.join(format!(".{archive}.tmp"));
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        std::io::copy(index, &mut f).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Removes the index of one snapshot archive (its chunks stay: others
    /// may share them).
    pub fn forget(&self, archive: Uuid) {
        let _ = std::fs::remove_file(self.snapshot_path(archive));
    }

    /// The snapshot index of `archive`.
    pub fn snapshot(&self, archive: Uuid) -> Result<SnapshotIndex, FileIndexError> {
        let path = self.snapshot_path(archive);
        let f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FileIndexError::Missing)
            }
            Err(e) => return Err(io(&path)(e)),
        };
        SnapshotIndex::read(BufReader::new(f))
            .map_err(|source| FileIndexError::Index { archive, source })
    }

    /// True when every metadata chunk of `index` is stored.
    pub fn has_chunks(&self, index: &SnapshotIndex) -> bool {
        index
            .metadata
            .iter()
            .all(|e| self.chunk_path(&e.digest).is_file())
    }

    /// Reads one stored metadata chunk, checked against its digest.
    pub fn chunk(&self, digest: &Digest) -> Result<Vec<u8>, FileIndexError> {
        let path = self.chunk_path(digest);
        let packed = std::fs::read(&path).map_err(io(&path))?;
        let data = lz4_flex::decompress_size_prepended(&packed)
            .map_err(|_| FileIndexError::BadChunk(digest_to_hex(digest)))?;
        if sha256(&data) != *digest {
            return Err(FileIndexError::BadChunk(digest_to_hex(digest)));
        }
        Ok(data)
    }

    /// The entries of a snapshot, in walk order.
    pub fn entries(&self, archive: Uuid) -> Result<IndexedEntries, FileIndexError> {
        let index = self.snapshot(archive)?;
        Ok(self.entries_of(&index))
    }

    /// The entries of the metadata stream of `index`, in walk order, read
    /// from the stored chunks as they are needed.
    pub fn entries_of(&self, index: &SnapshotIndex) -> IndexedEntries {
        let stream = MetadataStream {
            index: self.clone(),
            chunks: index
                .metadata
                .iter()
                .map(|e| e.digest)
                .collect::<Vec<_>>()
                .into_iter(),
            current: Vec::new(),
            at: 0,
        };
        IndexedEntries {
            reader: EntryReader::new(stream, 0),
        }
    }

    /// Bytes the index takes on disk.
    pub fn disk_usage(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(m) = std::fs::symlink_metadata(p) else {
                return 0;
            };
            if m.is_dir() {
                std::fs::read_dir(p)
                    .map(|rd| rd.flatten().map(|e| walk(&e.path())).sum())
                    .unwrap_or(0)
            } else {
                m.len()
            }
        }
        walk(&self.dir)
    }
}

fn write_chunk_file(path: &Path, data: &[u8]) -> Result<(), FileIndexError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, lz4_flex::compress_prepend_size(data)).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Metadata chunks of a running backup, published once it committed.
#[derive(Debug)]
pub struct Staging {
    index: FileIndex,
    dir: PathBuf,
}

impl Staging {
    /// Keeps one metadata chunk until [`Self::publish`].
    pub fn put_chunk(&self, digest: &Digest, data: &[u8]) -> Result<(), FileIndexError> {
        if self.index.chunk_path(digest).is_file() {
            return Ok(());
        }
        write_chunk_file(&self.dir.join(digest_to_hex(digest)), data)
    }

    /// Moves the staged chunks into the index and stores the snapshot
    /// index of `archive`.
    pub fn publish(self, archive: Uuid, index: &mut dyn Read) -> Result<(), FileIndexError> {
        for e in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let e = e.map_err(io(&self.dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(digest) = crate::chunking::digest_from_hex(&name) else {
                continue;
            };
            let to = self.index.chunk_path(&digest);
            let dir = to.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            std::fs::rename(e.path(), &to).map_err(io(&to))?;
        }
        self.index.put_snapshot(archive, index)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The metadata stream of a snapshot, from the stored chunks.
struct MetadataStream {
    index: FileIndex,
    chunks: std::vec::IntoIter<Digest>,
    current: Vec<u8>,
    at: usize,
}

impl Read for MetadataStream {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.current.len() {
            let Some(d) = self.chunks.next() else {
                return Ok(0);
            };
            self.current = self
                .index
                .chunk(&d)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.at = 0;
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The entries of an indexed snapshot.
pub struct IndexedEntries {
    reader: EntryReader<MetadataStream>,
}

impl Iterator for IndexedEntries {
    type Item = Result<Entry, FileIndexError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.next_entry() {
            Ok(Some((_, e))) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    }
}
