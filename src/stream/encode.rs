//! Turning the walk into the two streams of a snapshot: every object
//! becomes a metadata entry ([`super::entry`]), every regular file's bytes
//! are appended to the payload stream, and both streams are cut into
//! chunks by their own [`StreamChunker`].
//!
//! Hard links: the first path of a multiply-linked inode seen by the walk
//! is a regular file; later paths are hard-link entries naming it and
//! carrying its payload range (a partial restore of a link alone still
//! finds the bytes).
//!
//! Incremental backups: with a [`Reference`] (the previous snapshot of the
//! same pool and id), a file found unchanged is not read. Runs of
//! unchanged files whose bytes lie in consecutive reference chunks take
//! those chunks over whole: the payload chunker is cut at the current
//! position, the reference chunks are appended by digest ([`StreamSink::reused`])
//! and the files' entries point into them. A run's first and last chunk
//! may also hold bytes of files that changed or vanished: *padding*, bytes
//! of the payload stream no entry refers to. While a run is young its
//! entries (and every entry walked meanwhile, to keep walk order) wait in
//! a bounded cache; the run is taken over only when its padding is at most
//! [`MAX_PADDING_PERCENT`] of the chunk bytes it takes, else its files are
//! read like changed ones. `docs/format.md` section 10 describes the
//! trade-off.

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::chunker::{ReadError, StreamChunker};
use super::entry::{Entry, Kind};
use super::reference::{Reference, Unchanged};
use super::walk::{Node, Visitor, WalkError};
use crate::chunking::{ChunkerConfig, Digest};
use crate::stream::entry::RawPath;

/// Most padding accepted when a run of unchanged files takes over the
/// reference chunks holding them, in percent of those chunks' bytes.
pub const MAX_PADDING_PERCENT: u64 = 10;
/// Most entries waiting while a run of unchanged files is young.
pub const RUN_CACHE_ENTRIES: usize = 4096;

/// The two streams of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Metadata,
    Payload,
}

/// Where the encoder's output goes.
pub trait StreamSink {
    /// A chunk of `stream` (bytes valid during the call only); an error
    /// stops the walk (the consumer is gone).
    fn chunk(&mut self, stream: StreamKind, data: &[u8]) -> Result<(), String>;
    /// A payload chunk of the reference snapshot appended whole, by
    /// digest, without its bytes (they are on tape in the media set).
    fn reused(&mut self, digest: &Digest, len: u64) -> Result<(), String>;
    /// A problem that did not stop the walk (`PATH: what`).
    fn warning(&mut self, message: String) -> Result<(), String>;
    /// A remark for the job log.
    fn note(&mut self, message: String);
}

/// Counts of what was encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeStats {
    pub entries: u64,
    pub files: u64,
    pub file_bytes: u64,
    pub incomplete: u64,
    pub warnings: u64,
    pub metadata_bytes: u64,
    pub payload_bytes: u64,
    /// Bytes read from regular files (the rest was reused).
    pub read_bytes: u64,
    /// Unchanged files whose bytes were reused without reading them.
    pub reused_files: u64,
    /// Payload bytes appended as reference chunks (padding included).
    pub reused_bytes: u64,
}

/// Settings of the encoder.
#[derive(Debug, Clone, Default)]
pub struct EncodeOptions {
    pub fail_on_warning: bool,
    /// See [`super::walk::WalkOptions::before_read`].
    pub before_read: Option<fn(&Path)>,
}

/// A run of unchanged files taking over consecutive reference chunks.
#[derive(Debug)]
struct Run {
    /// Reference payload chunks `first..=last` hold the run's bytes.
    first: usize,
    last: usize,
    /// Reference offsets of the run's first byte and after its last.
    ref_start: u64,
    ref_end: u64,
    /// Bytes of the run's files.
    useful: u64,
    /// Once taken over: the new payload offset of chunk `first`, and the
    /// chunks appended so far (`first..appended`).
    base: Option<u64>,
    appended: usize,
}

/// An entry waiting for a young run's decision.
#[derive(Debug)]
enum Pending {
    /// Complete as it is (a zero-length file gets its offset when written).
    Plain(Entry),
    /// A hard link: its file's payload range is filled in when written
    /// (read as the file itself when its first path vanished).
    Link {
        entry: Entry,
        key: (u64, u64),
        fs_path: PathBuf,
        meta: Box<std::fs::Metadata>,
    },
    /// An unchanged file (`entry.offset` is its reference offset); read
    /// from `fs_path` when the run is not taken over.
    Unchanged {
        entry: Entry,
        fs_path: PathBuf,
        meta: Box<std::fs::Metadata>,
    },
}

/// Marks an inode whose first path waits in the run cache.
const OFFSET_PENDING: u64 = u64::MAX;

/// The [`Visitor`] that encodes; see the module documentation.
pub struct Encoder<'a> {
    metadata: StreamChunker,
    payload: StreamChunker,
    sink: &'a mut dyn StreamSink,
    options: EncodeOptions,
    scratch: Vec<u8>,
    /// (dev, ino) of multiply-linked files -> (first path, offset, size).
    inodes: HashMap<(u64, u64), (RawPath, u64, u64)>,
    users: HashMap<u32, Option<Vec<u8>>>,
    groups: HashMap<u32, Option<Vec<u8>>>,
    stats: EncodeStats,
    /// Why the walk stopped (the sink's or `--fail-on-warning`'s message).
    failure: Option<String>,
    /// The previous snapshot (incremental backups).
    reference: Option<Reference>,
    run: Option<Run>,
    pending: Vec<Pending>,
    /// Payload offset after the last file placed (zero-length files).
    last_end: u64,
}

impl<'a> Encoder<'a> {
    pub fn new(
        chunker: ChunkerConfig,
        options: EncodeOptions,
        sink: &'a mut dyn StreamSink,
    ) -> Result<Self, crate::chunking::ChunkError> {
        Ok(Encoder {
            metadata: StreamChunker::new(chunker)?,
            payload: StreamChunker::new(chunker)?,
            sink,
            options,
            scratch: Vec::new(),
            inodes: HashMap::new(),
            users: HashMap::new(),
            groups: HashMap::new(),
            stats: EncodeStats::default(),
            failure: None,
            reference: None,
            run: None,
            pending: Vec::new(),
            last_end: 0,
        })
    }

    /// Reuse the unchanged files' payload chunks of `reference`.
    pub fn with_reference(mut self, reference: Option<Reference>) -> Self {
        self.reference = reference;
        self
    }

    /// Ends both streams (their last chunks) and returns the counts; the
    /// error that stopped the walk, if any.
    pub fn finish(mut self, walked: Result<(), WalkError>) -> Result<EncodeStats, String> {
        if let Some(f) = self.failure.take() {
            return Err(f);
        }
        walked.map_err(|e| e.to_string())?;
        self.end_run().map_err(|e| e.to_string())?;
        if let Some(f) = self.failure.take() {
            return Err(f);
        }
        let sink = &mut *self.sink;
        let mut meta = |d: &[u8]| sink.chunk(StreamKind::Metadata, d);
        self.metadata.flush(&mut meta)?;
        let mut pay = |d: &[u8]| sink.chunk(StreamKind::Payload, d);
        self.payload.flush(&mut pay)?;
        self.stats.metadata_bytes = self.metadata.offset();
        self.stats.payload_bytes = self.payload.offset();
        Ok(self.stats)
    }

    fn stop(&mut self, message: String) -> WalkError {
        self.failure = Some(message.clone());
        WalkError::Stopped(message)
    }

    fn warning(&mut self, path: &RawPath, message: String) -> Result<(), WalkError> {
        let text = format!("{path}: {message}");
        if self.options.fail_on_warning {
            return Err(self.stop(format!("{text} (--fail-on-warning)")));
        }
        self.stats.warnings += 1;
        let sent = self.sink.warning(text);
        sent.map_err(|e| self.stop(e))
    }

    fn name_of(cache: &mut HashMap<u32, Option<Vec<u8>>>, id: u32, user: bool) -> Option<Vec<u8>> {
        cache
            .entry(id)
            .or_insert_with(|| {
                if user {
                    nix::unistd::User::from_uid(id.into())
                        .ok()
                        .flatten()
                        .map(|u| u.name.into_bytes())
                } else {
                    nix::unistd::Group::from_gid(id.into())
                        .ok()
                        .flatten()
                        .map(|g| g.name.into_bytes())
                }
            })
            .clone()
    }

    /// Extended attributes, ACLs and capabilities of `path` (not followed).
    fn read_xattrs(&mut self, fs_path: &Path, e: &mut Entry) -> Result<(), WalkError> {
        let names = match xattr::list(fs_path) {
            Ok(n) => n,
            Err(err) if unsupported(&err) => return Ok(()),
            Err(err) => {
                return self.warning(&e.path, format!("cannot list extended attributes: {err}"))
            }
        };
        let mut names: Vec<_> = names.collect();
        names.sort();
        for name in names {
            let value = match xattr::get(fs_path, &name) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(err) if unsupported(&err) => continue,
                Err(err) => {
                    self.warning(
                        &e.path,
                        format!("cannot read extended attribute {name:?}: {err}"),
                    )?;
                    continue;
                }
            };
            let name = std::os::unix::ffi::OsStrExt::as_bytes(name.as_os_str()).to_vec();
            match name.as_slice() {
                b"system.posix_acl_access" => e.acl_access = Some(value),
                b"system.posix_acl_default" => e.acl_default = Some(value),
                b"security.capability" => e.fcaps = Some(value),
                _ => e.xattrs.push((name, value)),
            }
        }
        Ok(())
    }

    /// Appends one regular file's bytes to the payload stream; returns
    /// (bytes, incomplete), `None` when it vanished.
    fn read_file(
        &mut self,
        fs_path: &Path,
        path: &RawPath,
        before: &std::fs::Metadata,
    ) -> Result<Option<(u64, bool)>, WalkError> {
        if let Some(hook) = self.options.before_read {
            hook(fs_path);
        }
        let file = match std::fs::File::open(fs_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.warning(path, format!("vanished before it was read: {e}"))?;
                return Ok(None);
            }
            Err(e) => {
                self.warning(
                    path,
                    format!("cannot be read: {e}; stored without its contents"),
                )?;
                return Ok(Some((0, true)));
            }
        };
        let sink = &mut *self.sink;
        let mut pay = |d: &[u8]| sink.chunk(StreamKind::Payload, d);
        // A file whose allocated blocks cover its size has no holes
        // (most files): read it straight through.
        let dense = before.blocks().saturating_mul(512) >= before.len();
        let read = if dense {
            self.payload.read_dense_file(&file, &mut pay)
        } else {
            self.payload.read_file(&file, &mut pay)
        };
        let read = match read {
            Ok(n) => n,
            Err(ReadError::Sink(e)) => return Err(self.stop(e)),
            Err(ReadError::Io { read, error }) => {
                self.stats.read_bytes += read;
                self.warning(
                    path,
                    format!("read error after {read} bytes: {error}; stored incomplete"),
                )?;
                return Ok(Some((read, true)));
            }
        };
        self.stats.read_bytes += read;
        let changed = match file.metadata() {
            Ok(a) => {
                a.len() != before.len()
                    || a.mtime() != before.mtime()
                    || a.mtime_nsec() != before.mtime_nsec()
                    || read != before.len()
            }
            Err(_) => true,
        };
        if changed {
            self.warning(
                path,
                format!(
                    "changed while it was read ({} bytes before, {read} read); stored incomplete",
                    before.len()
                ),
            )?;
        }
        Ok(Some((read, changed)))
    }
}

fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc_enotsup) if libc_enotsup == nix::errno::Errno::ENOTSUP as i32
            || libc_enotsup == nix::errno::Errno::ENODATA as i32
    )
}

impl Visitor for Encoder<'_> {
    fn warn(&mut self, path: &RawPath, message: String) -> Result<(), WalkError> {
        self.warning(path, message)
    }

    fn note(&mut self, message: String) {
        self.sink.note(message);
    }

    fn visit(&mut self, node: &Node<'_>) -> Result<(), WalkError> {
        let (fs_path, meta) = (node.fs_path, node.meta);
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_file() {
            Kind::File
        } else if ft.is_fifo() {
            Kind::Fifo
        } else if ft.is_char_device() {
            Kind::CharDevice
        } else if ft.is_block_device() {
            Kind::BlockDevice
        } else {
            Kind::Socket
        };
        let mut e = Entry::new(node.path.clone(), kind);
        e.incomplete = node.incomplete;
        e.mode = meta.mode() & 0o7777;
        e.uid = meta.uid();
        e.gid = meta.gid();
        e.mtime = (meta.mtime(), meta.mtime_nsec().clamp(0, 999_999_999) as u32);
        e.ctime = (meta.ctime(), meta.ctime_nsec().clamp(0, 999_999_999) as u32);
        e.inode = meta.ino();
        e.dev = meta.dev();
        e.user = Self::name_of(&mut self.users, e.uid, true);
        e.group = Self::name_of(&mut self.groups, e.gid, false);
        match kind {
            Kind::Symlink => match std::fs::read_link(fs_path) {
                Ok(target) => {
                    let target = target.into_os_string().into_encoded_bytes();
                    e.size = target.len() as u64;
                    e.link = Some(RawPath(target));
                }
                Err(err) => {
                    return self.warning(&e.path, format!("vanished before it was read: {err}"))
                }
            },
            Kind::CharDevice | Kind::BlockDevice => {
                let rdev = meta.rdev();
                e.rdev = (
                    nix::sys::stat::major(rdev) as u32,
                    nix::sys::stat::minor(rdev) as u32,
                );
            }
            Kind::File => return self.visit_file(e, fs_path, meta),
            _ => {}
        }
        self.read_xattrs(fs_path, &mut e)?;
        self.place(Pending::Plain(e))
    }
}

impl Encoder<'_> {
    /// A regular file: a hard link to a file seen before, an unchanged
    /// file (reused), or read.
    fn visit_file(
        &mut self,
        mut e: Entry,
        fs_path: &Path,
        meta: &std::fs::Metadata,
    ) -> Result<(), WalkError> {
        let key = (meta.dev(), meta.ino());
        let multi = meta.nlink() > 1;
        if let Some((first, _, _)) = self.inodes.get(&key).filter(|_| multi) {
            e.kind = Kind::Hardlink;
            e.link = Some(first.clone());
            return self.place(Pending::Link {
                entry: e,
                key,
                fs_path: fs_path.to_path_buf(),
                meta: Box::new(meta.clone()),
            });
        }
        self.read_xattrs(fs_path, &mut e)?;
        if multi {
            self.inodes.insert(key, (e.path.clone(), OFFSET_PENDING, 0));
        }
        let unchanged = match &mut self.reference {
            Some(r) => {
                let found = r.unchanged(&e.path.0, meta);
                if let Some(why) = r.failure.take() {
                    self.sink.note(why);
                }
                found
            }
            None => None,
        };
        match unchanged {
            Some(u) if u.size == 0 => self.place(Pending::Plain(e)),
            Some(u) => self.unchanged_file(e, fs_path, meta, u),
            None => {
                self.end_run()?;
                if self.read_into(&mut e, fs_path, meta)? {
                    self.write_entry(e)
                } else {
                    self.forget_inode(key, &e.path);
                    Ok(())
                }
            }
        }
    }

    /// Drops the hard-link record of a first path that vanished.
    fn forget_inode(&mut self, key: (u64, u64), path: &RawPath) {
        if self.inodes.get(&key).is_some_and(|(p, _, _)| p == path) {
            self.inodes.remove(&key);
        }
    }

    /// Reads a file's bytes into the payload stream and sets its range;
    /// false when it vanished (a warning was given).
    fn read_into(
        &mut self,
        e: &mut Entry,
        fs_path: &Path,
        meta: &std::fs::Metadata,
    ) -> Result<bool, WalkError> {
        let offset = self.payload.offset();
        let Some((bytes, incomplete)) = self.read_file(fs_path, &e.path, meta)? else {
            return Ok(false);
        };
        e.offset = offset;
        e.size = bytes;
        e.incomplete |= incomplete;
        Ok(true)
    }

    /// An entry in walk order: waits while a young run is cached, else is
    /// written.
    fn place(&mut self, p: Pending) -> Result<(), WalkError> {
        if self.run.as_ref().is_some_and(|r| r.base.is_none()) {
            self.pending.push(p);
            return self.check_young_run();
        }
        self.write_pending(p)
    }

    /// Writes an entry that did not depend on a run's decision.
    fn write_pending(&mut self, p: Pending) -> Result<(), WalkError> {
        match p {
            Pending::Plain(mut e) => {
                if e.kind == Kind::File {
                    // Only unchanged zero-length files wait as plain.
                    e.offset = self.last_end;
                }
                self.write_entry(e)
            }
            Pending::Link {
                mut entry,
                key,
                fs_path,
                meta,
            } => match self.inodes.get(&key) {
                Some(&(_, offset, size)) if offset != OFFSET_PENDING => {
                    entry.offset = offset;
                    entry.size = size;
                    self.write_entry(entry)
                }
                // Its first path vanished: this one is the file now.
                _ => {
                    entry.kind = Kind::File;
                    entry.link = None;
                    self.read_xattrs(&fs_path, &mut entry)?;
                    self.inodes
                        .insert(key, (entry.path.clone(), OFFSET_PENDING, 0));
                    if self.read_into(&mut entry, &fs_path, &meta)? {
                        self.write_entry(entry)
                    } else {
                        self.forget_inode(key, &entry.path);
                        Ok(())
                    }
                }
            },
            Pending::Unchanged {
                mut entry,
                fs_path,
                meta,
            } => {
                // Not taken over: read like a changed file.
                if self.read_into(&mut entry, &fs_path, &meta)? {
                    self.write_entry(entry)
                } else {
                    self.forget_inode((meta.dev(), meta.ino()), &entry.path);
                    Ok(())
                }
            }
        }
    }

    /// Appends one finished entry to the metadata stream.
    fn write_entry(&mut self, e: Entry) -> Result<(), WalkError> {
        if e.kind == Kind::File {
            if let Some(first) = self.inodes.get_mut(&(e.dev, e.inode)) {
                if first.0 == e.path {
                    first.1 = e.offset;
                    first.2 = e.size;
                }
            }
            self.last_end = self.last_end.max(e.offset.saturating_add(e.size));
            self.stats.files += 1;
            self.stats.file_bytes += e.size;
        }
        self.stats.entries += 1;
        self.stats.incomplete += u64::from(e.incomplete);
        self.scratch.clear();
        if let Err(err) = e.encode_into(&mut self.scratch) {
            self.stats.entries -= 1;
            self.stats.incomplete -= u64::from(e.incomplete);
            if e.kind == Kind::File {
                self.stats.files -= 1;
                self.stats.file_bytes -= e.size;
            }
            return self.warning(&e.path, format!("not stored: {err}"));
        }
        let sink = &mut *self.sink;
        let mut meta_sink = |d: &[u8]| sink.chunk(StreamKind::Metadata, d);
        let pushed = self.metadata.push(&self.scratch, &mut meta_sink);
        pushed.map_err(|m| self.stop(m))
    }

    /// An unchanged file of `u.size` > 0 bytes: joins the current run (or
    /// starts one).
    fn unchanged_file(
        &mut self,
        mut e: Entry,
        fs_path: &Path,
        meta: &std::fs::Metadata,
        u: Unchanged,
    ) -> Result<(), WalkError> {
        // A run takes consecutive chunks, in order, none skipped.
        if let Some(run) = &self.run {
            if u.offset < run.ref_end || u.chunks.start > run.last + 1 {
                self.end_run()?;
            }
        }
        e.size = u.size;
        let run = self.run.get_or_insert(Run {
            first: u.chunks.start,
            last: u.chunks.start,
            ref_start: u.offset,
            ref_end: u.offset,
            useful: 0,
            base: None,
            appended: u.chunks.start,
        });
        run.last = run.last.max(u.chunks.end - 1);
        run.ref_end = u.offset + u.size;
        run.useful += u.size;
        if run.base.is_some() {
            self.append_chunks()?;
            e.offset = self.new_offset(u.offset);
            self.stats.reused_files += 1;
            return self.write_entry(e);
        }
        e.offset = u.offset;
        self.pending.push(Pending::Unchanged {
            entry: e,
            fs_path: fs_path.to_path_buf(),
            meta: Box::new(meta.clone()),
        });
        self.check_young_run()
    }

    /// Reference chunk `k`.
    fn ref_chunk(&self, k: usize) -> crate::stream::index::IndexEntry {
        self.reference
            .as_ref()
            .and_then(|r| r.payload.get(k).copied())
            .unwrap_or(crate::stream::index::IndexEntry {
                digest: [0; 32],
                offset: 0,
                len: 0,
            })
    }

    /// Padding of the current run at its start, and if it ended now.
    fn padding(&self, run: &Run) -> (u64, u64) {
        let head = run.ref_start - self.ref_chunk(run.first).offset;
        let tail = self.ref_chunk(run.last).end().saturating_sub(run.ref_end);
        (head, tail)
    }

    /// Takes a young run over as soon as even a wholly wasted last chunk
    /// would keep its padding within bounds; at the cache limit, when its
    /// start's padding is; else reads its files.
    fn check_young_run(&mut self) -> Result<(), WalkError> {
        let Some(run) = self.run.as_ref().filter(|r| r.base.is_none()) else {
            return Ok(());
        };
        let (head, _) = self.padding(run);
        let last_len = self.ref_chunk(run.last).len;
        if acceptable(head + last_len, run.useful) {
            return self.take_over();
        }
        if self.pending.len() >= RUN_CACHE_ENTRIES {
            if acceptable(head, run.useful) {
                return self.take_over();
            }
            return self.decline();
        }
        Ok(())
    }

    /// Ends the current run: a young one is taken over when its padding is
    /// within bounds, else its files are read.
    fn end_run(&mut self) -> Result<(), WalkError> {
        let Some(run) = self.run.as_ref() else {
            return Ok(());
        };
        if run.base.is_none() {
            let (head, tail) = self.padding(run);
            if acceptable(head + tail, run.useful) {
                self.take_over()?;
            } else {
                self.decline()?;
            }
        }
        self.run = None;
        Ok(())
    }

    /// The new payload offset of reference offset `at` in the current
    /// (taken over) run.
    fn new_offset(&self, at: u64) -> u64 {
        let Some(run) = &self.run else { return at };
        run.base.unwrap_or(0) + (at - self.ref_chunk(run.first).offset)
    }

    /// Cuts the payload stream here, appends the run's chunks and writes
    /// the waiting entries.
    fn take_over(&mut self) -> Result<(), WalkError> {
        let sink = &mut *self.sink;
        let mut pay = |d: &[u8]| sink.chunk(StreamKind::Payload, d);
        if let Err(m) = self.payload.flush(&mut pay) {
            return Err(self.stop(m));
        }
        let base = self.payload.offset();
        if let Some(run) = &mut self.run {
            run.base = Some(base);
            run.appended = run.first;
        }
        self.append_chunks()?;
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Unchanged { mut entry, .. } => {
                    entry.offset = self.new_offset(entry.offset);
                    self.stats.reused_files += 1;
                    self.write_entry(entry)?;
                }
                other => self.write_pending(other)?,
            }
        }
        Ok(())
    }

    /// Appends the reference chunks of the taken-over run not appended yet.
    fn append_chunks(&mut self) -> Result<(), WalkError> {
        let Some(run) = &self.run else { return Ok(()) };
        let (from, to) = (run.appended, run.last);
        for k in from..=to {
            let c = self.ref_chunk(k);
            if let Err(m) = self.sink.reused(&c.digest, c.len) {
                return Err(self.stop(m));
            }
            self.payload.skip(c.len);
            self.stats.reused_bytes += c.len;
        }
        if let Some(run) = &mut self.run {
            run.appended = to + 1;
        }
        Ok(())
    }

    /// Gives a young run up: its files are read, its entries written.
    fn decline(&mut self) -> Result<(), WalkError> {
        self.run = None;
        for p in std::mem::take(&mut self.pending) {
            self.write_pending(p)?;
        }
        Ok(())
    }
}

/// Padding `padding` next to `useful` bytes is within
/// [`MAX_PADDING_PERCENT`] of both.
fn acceptable(padding: u64, useful: u64) -> bool {
    padding.saturating_mul(100) <= MAX_PADDING_PERCENT.saturating_mul(useful + padding)
}
