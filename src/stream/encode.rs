//! Turning the walk into the two streams of a snapshot: every object
//! becomes a metadata entry ([`super::entry`]), every regular file's bytes
//! are appended to the payload stream, and both streams are cut into
//! chunks by their own [`StreamChunker`].
//!
//! Hard links: the first path of a multiply-linked inode seen by the walk
//! is a regular file; later paths are hard-link entries naming it and
//! carrying its payload range (a partial restore of a link alone still
//! finds the bytes).

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::chunker::{ReadError, StreamChunker};
use super::entry::{Entry, Kind};
use super::walk::{Node, Visitor, WalkError};
use crate::chunking::ChunkerConfig;
use crate::stream::entry::RawPath;

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
}

/// Settings of the encoder.
#[derive(Debug, Clone, Default)]
pub struct EncodeOptions {
    pub fail_on_warning: bool,
    /// See [`super::walk::WalkOptions::before_read`].
    pub before_read: Option<fn(&Path)>,
}

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
        })
    }

    /// Ends both streams (their last chunks) and returns the counts; the
    /// error that stopped the walk, if any.
    pub fn finish(mut self, walked: Result<(), WalkError>) -> Result<EncodeStats, String> {
        if let Some(f) = self.failure.take() {
            return Err(f);
        }
        walked.map_err(|e| e.to_string())?;
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
        let read = match self.payload.read_from(&mut &file, u64::MAX, &mut pay) {
            Ok(n) => n,
            Err(ReadError::Sink(e)) => return Err(self.stop(e)),
            Err(ReadError::Io { read, error }) => {
                self.warning(
                    path,
                    format!("read error after {read} bytes: {error}; stored incomplete"),
                )?;
                return Ok(Some((read, true)));
            }
        };
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
            Kind::File => {
                let key = (meta.dev(), meta.ino());
                if let Some((first, offset, size)) =
                    self.inodes.get(&key).filter(|_| meta.nlink() > 1).cloned()
                {
                    e.kind = Kind::Hardlink;
                    e.link = Some(first);
                    e.offset = offset;
                    e.size = size;
                } else {
                    let offset = self.payload.offset();
                    let Some((bytes, incomplete)) = self.read_file(fs_path, &e.path, meta)? else {
                        return Ok(());
                    };
                    e.offset = offset;
                    e.size = bytes;
                    e.incomplete |= incomplete;
                    if meta.nlink() > 1 {
                        self.inodes.insert(key, (e.path.clone(), offset, bytes));
                    }
                    self.stats.files += 1;
                    self.stats.file_bytes += bytes;
                }
            }
            _ => {}
        }
        if e.kind != Kind::Hardlink {
            self.read_xattrs(fs_path, &mut e)?;
        }
        self.stats.entries += 1;
        self.stats.incomplete += u64::from(e.incomplete);
        self.scratch.clear();
        if let Err(err) = e.encode_into(&mut self.scratch) {
            self.stats.entries -= 1;
            return self.warning(&e.path, format!("not stored: {err}"));
        }
        let sink = &mut *self.sink;
        let mut meta_sink = |d: &[u8]| sink.chunk(StreamKind::Metadata, d);
        let pushed = self.metadata.push(&self.scratch, &mut meta_sink);
        pushed.map_err(|m| self.stop(m))
    }
}
