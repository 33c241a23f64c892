//! The reference of an incremental backup: the previous snapshot of the
//! same pool and id, read from the local file index (no tape), and the
//! question "is this file unchanged, and are its bytes still on tape in
//! the media set being written?".
//!
//! A regular file is *unchanged* when the reference holds a regular file
//! (not a hard link, not marked incomplete) at the same path with the same
//! size, mtime, ctime and inode, and every payload chunk holding its bytes
//! is in the current media set. ctime catches what mtime can be made to
//! hide (`touch -d`, a restored mtime, a changed mode, owner or extended
//! attribute); the inode catches a file replaced by another one
//! (`rename`). A content change that keeps size, mtime, ctime and inode is
//! not possible through the file system API short of setting the clock
//! back; `--full-read` reads every file anyway.
//!
//! The walk and the reference's metadata stream are in the same order
//! ([`super::walk`]), so the lookup is a merge: one pass over the
//! reference, nothing held in memory but one entry and the payload chunk
//! index (48 bytes per chunk of the reference, not per file).

use std::os::unix::fs::MetadataExt;

use super::entry::{Entry, Kind};
use super::index::{chunks_covering, IndexEntry, SnapshotIndex};
use super::walk::walk_order;
use crate::catalog::file_index::{FileIndex, IndexedEntries};
use crate::catalog::{Catalog, SnapshotRecord};
use crate::chunking::Digest;

/// The previous snapshot, as the encoder consults it.
pub struct Reference {
    /// `POOL/ID/TIME` of the reference snapshot.
    pub name: String,
    /// Its payload chunk index.
    pub payload: Vec<IndexEntry>,
    /// Per payload chunk: it is in the current media set.
    usable: Vec<bool>,
    entries: IndexedEntries,
    /// The next reference entry not yet passed by the walk.
    peeked: Option<Entry>,
    /// The reference's metadata stream ended (or could not be read).
    done: bool,
    /// Why the reference stopped being used (reported once).
    pub failure: Option<String>,
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("name", &self.name)
            .field("payload_chunks", &self.payload.len())
            .finish()
    }
}

/// A file found unchanged: where its bytes are in the reference's payload
/// stream and which reference chunks hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    pub offset: u64,
    pub size: u64,
    pub chunks: std::ops::Range<usize>,
}

impl Reference {
    /// A reference over `index` with its entries `entries`; `in_media_set`
    /// says which chunks the writer's media set holds.
    pub fn new(
        name: String,
        index: &SnapshotIndex,
        entries: IndexedEntries,
        in_media_set: impl Fn(&Digest) -> bool,
    ) -> Reference {
        Reference {
            name,
            usable: index
                .payload
                .iter()
                .map(|e| in_media_set(&e.digest))
                .collect(),
            payload: index.payload.clone(),
            entries,
            peeked: None,
            done: false,
            failure: None,
        }
    }

    /// Chunks of the reference usable for reuse (in the media set).
    pub fn usable_chunks(&self) -> usize {
        self.usable.iter().filter(|u| **u).count()
    }

    /// The reference entry at `path`, if any; entries before it (in walk
    /// order) are passed for good. Call with paths in walk order.
    fn lookup(&mut self, path: &[u8]) -> Option<&Entry> {
        loop {
            if self.peeked.is_none() {
                if self.done {
                    return None;
                }
                match self.entries.next() {
                    Some(Ok(e)) => self.peeked = Some(e),
                    Some(Err(e)) => {
                        self.failure = Some(format!(
                            "the file index of {} cannot be read ({e}): the rest is read in full",
                            self.name
                        ));
                        self.done = true;
                        return None;
                    }
                    None => {
                        self.done = true;
                        return None;
                    }
                }
            }
            let order = walk_order(&self.peeked.as_ref()?.path.0, path);
            match order {
                std::cmp::Ordering::Less => self.peeked = None,
                std::cmp::Ordering::Equal => return self.peeked.as_ref(),
                std::cmp::Ordering::Greater => return None,
            }
        }
    }

    /// Whether the regular file at `path` with `meta` (its `lstat`) is
    /// unchanged since the reference (see the module documentation).
    pub fn unchanged(&mut self, path: &[u8], meta: &std::fs::Metadata) -> Option<Unchanged> {
        let old = self.lookup(path)?;
        let same = old.kind == Kind::File
            && !old.incomplete
            && old.size == meta.len()
            && old.mtime == (meta.mtime(), meta.mtime_nsec().clamp(0, 999_999_999) as u32)
            && old.ctime == (meta.ctime(), meta.ctime_nsec().clamp(0, 999_999_999) as u32)
            && old.inode == meta.ino();
        if !same {
            return None;
        }
        let (offset, size) = (old.offset, old.size);
        let end = offset.checked_add(size)?;
        let stream_end = self.payload.last().map_or(0, IndexEntry::end);
        if end > stream_end {
            return None;
        }
        let chunks = chunks_covering(&self.payload, offset, end);
        if !chunks.clone().all(|k| self.usable[k]) {
            return None;
        }
        Some(Unchanged {
            offset,
            size,
            chunks,
        })
    }
}

/// The latest snapshot of `pool` and `id` in the catalog.
pub fn previous_snapshot(
    catalog: &Catalog,
    pool: &str,
    id: &str,
) -> Result<Option<SnapshotRecord>, crate::catalog::CatalogError> {
    let prefix = format!("{pool}/{id}/");
    Ok(catalog
        .snapshots(Some(pool))?
        .into_iter()
        .find(|s| s.name.starts_with(&prefix)))
}

/// Loads the reference for a backup of `pool`/`id`: the previous snapshot
/// from the local file index. The error says why there is none to use
/// (the backup then reads every file).
pub fn load_reference(
    catalog: &Catalog,
    pool: &str,
    id: &str,
    in_media_set: impl Fn(&Digest) -> bool,
) -> Result<Reference, String> {
    let previous = previous_snapshot(catalog, pool, id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no earlier snapshot of {pool}/{id}"))?;
    let index: FileIndex = catalog
        .file_index()
        .ok_or_else(|| "the catalog has no file index".to_string())?;
    let snapshot = index
        .snapshot(previous.archive)
        .map_err(|e| format!("the file index of {} is not available ({e})", previous.name))?;
    if !index.has_chunks(&snapshot) {
        return Err(format!(
            "the file index of {} is incomplete; run ptape catalog scan",
            previous.name
        ));
    }
    let entries = index.entries_of(&snapshot);
    Ok(Reference::new(
        previous.name,
        &snapshot,
        entries,
        in_media_set,
    ))
}
