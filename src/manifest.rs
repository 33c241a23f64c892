//! Snapshot manifests: the file tree of one backup, with each regular
//! file's ordered chunk digests. The manifest is the snapshot archive's
//! payload.
//!
//! Encoding (version [`MANIFEST_VERSION`]): JSON (serde_json) of
//! [`Manifest`]; entries are in walk order (each source, then depth-first
//! with directory entries sorted by their name bytes), so the same tree
//! always encodes to the same bytes. Paths and symlink targets are JSON
//! strings when they are valid UTF-8, else arrays of bytes.
//!
//! Each source path is stored under its base name: backing up
//! `/home/alice/docs` yields entries `docs`, `docs/a.txt`, ...
//!
//! Hard links: the first path of an inode group seen by the walk is stored
//! as a regular file with its chunks; later paths are [`EntryKind::Hardlink`]
//! entries naming that first path.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chunking::{self, Chunk, ChunkError, Chunker, ChunkerConfig, Digest};
use crate::stream::walk::{check_sources, walk, Node, Source, Visitor, WalkError, WalkOptions};

/// Version of the manifest encoding.
pub const MANIFEST_VERSION: u32 = 1;

/// Errors building, encoding or decoding a manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Chunk {
        path: PathBuf,
        #[source]
        source: ChunkError,
    },
    #[error("backup aborted: {0}")]
    Aborted(String),
    #[error("invalid manifest: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("unsupported manifest version {0} (this ptape reads version {MANIFEST_VERSION})")]
    Version(u32),
    #[error("invalid manifest: {0}")]
    Invalid(String),
    #[error(transparent)]
    Walk(#[from] WalkError),
}

/// A path or link target: raw bytes (Linux names need not be UTF-8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawPath(pub Vec<u8>);

impl RawPath {
    pub fn as_path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.0))
    }
    pub fn join(&self, name: &[u8]) -> RawPath {
        let mut v = self.0.clone();
        v.push(b'/');
        v.extend_from_slice(name);
        RawPath(v)
    }
}

impl std::fmt::Display for RawPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", String::from_utf8_lossy(&self.0))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawPathRepr {
    Text(String),
    Bytes(Vec<u8>),
}

impl Serialize for RawPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_seq(self.0.iter()),
        }
    }
}

impl<'de> Deserialize<'de> for RawPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match RawPathRepr::deserialize(d)? {
            RawPathRepr::Text(t) => RawPath(t.into_bytes()),
            RawPathRepr::Bytes(b) => RawPath(b),
        })
    }
}

/// A chunk digest, hex-encoded in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkDigest(pub Digest);

impl Serialize for ChunkDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&chunking::digest_to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for ChunkDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(d)?;
        chunking::digest_from_hex(&hex)
            .map(ChunkDigest)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid chunk digest {hex:?}")))
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EntryKind {
    Dir,
    /// A regular file: its ordered chunks; their lengths sum to `size`.
    File {
        chunks: Vec<ChunkDigest>,
    },
    Symlink {
        target: RawPath,
    },
    /// Another path of the same inode as the earlier entry `target`.
    Hardlink {
        target: RawPath,
    },
    Fifo,
    CharDevice {
        rdev: u64,
    },
    BlockDevice {
        rdev: u64,
    },
    Socket,
}

/// One path of the tree and its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: RawPath,
    #[serde(flatten)]
    pub kind: EntryKind,
    /// Permission and special bits (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Size in bytes (regular files: exactly the bytes chunked; sparse
    /// regions read as zeros).
    pub size: u64,
    /// The backup could not read this entry as it was (it changed while
    /// read, or could not be read): its contents may be partial.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// A snapshot's file tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// Snapshot name (`POOL/HOST/TIME`).
    pub snapshot: String,
    /// Chunker limits used.
    pub chunker: ChunkerConfig,
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// The deterministic byte encoding (the snapshot archive's payload).
    pub fn encode(&self) -> Result<Vec<u8>, ManifestError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Decodes and checks the version.
    pub fn decode(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let v: VersionOnly = serde_json::from_slice(bytes)?;
        if v.version != MANIFEST_VERSION {
            return Err(ManifestError::Version(v.version));
        }
        let m: Manifest = serde_json::from_slice(bytes)?;
        m.check()?;
        Ok(m)
    }

    /// Checks that every hard link names an earlier file entry.
    fn check(&self) -> Result<(), ManifestError> {
        let mut files = std::collections::HashSet::new();
        for e in &self.entries {
            match &e.kind {
                EntryKind::File { .. } => {
                    files.insert(&e.path);
                }
                EntryKind::Hardlink { target } if !files.contains(target) => {
                    return Err(ManifestError::Invalid(format!(
                        "hard link {} names {}, which is no earlier file",
                        e.path, target
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every chunk digest referenced, in order of first use, without repeats.
    pub fn unique_digests(&self) -> Vec<Digest> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::File { chunks } => Some(chunks),
                _ => None,
            })
            .flatten()
            .filter(|d| seen.insert(d.0))
            .map(|d| d.0)
            .collect()
    }

    /// Sum of the sizes of regular files.
    pub fn total_file_bytes(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File { .. }))
            .map(|e| e.size)
            // Sizes come from decoded manifests (tape bytes): `sum` would
            // panic on overflow in debug builds.
            .fold(0u64, u64::saturating_add)
    }
}

/// What a walk hands out besides the manifest: chunk bytes in manifest
/// order, warnings and notes.
pub trait WalkSink {
    /// The next chunk's bytes (valid during the call only); an error stops
    /// the walk (e.g. the consumer is gone).
    fn chunk(&mut self, data: &[u8]) -> Result<(), ManifestError>;
    /// A problem that did not stop the walk (`PATH: what`).
    fn warning(&mut self, message: String) -> Result<(), ManifestError>;
    /// A remark for the job log.
    fn note(&mut self, _message: String) {}
}

/// A sink from a chunk closure that collects warnings.
struct ClosureSink<F> {
    chunk: F,
    warnings: Vec<String>,
}

impl<F: FnMut(&[u8]) -> Result<(), ManifestError>> WalkSink for ClosureSink<F> {
    fn chunk(&mut self, data: &[u8]) -> Result<(), ManifestError> {
        (self.chunk)(data)
    }
    fn warning(&mut self, message: String) -> Result<(), ManifestError> {
        self.warnings.push(message);
        Ok(())
    }
}

/// Walks sources, chunks regular files and hands every chunk to `sink`
/// (in manifest order) as it is read; returns the manifest. Memory stays
/// bounded: one chunk at a time is in flight here.
///
/// `sink` returning an error stops the walk (e.g. the consumer is gone).
pub fn build_manifest<F>(
    sources: &[PathBuf],
    snapshot: &str,
    chunker: ChunkerConfig,
    mut sink: F,
) -> Result<Manifest, ManifestError>
where
    F: FnMut(Chunk) -> Result<(), ManifestError>,
{
    let mut digests = Vec::new();
    let sources = check_sources(sources)?;
    let mut closure = ClosureSink {
        chunk: |data: &[u8]| {
            let digest = chunking::sha256(data);
            digests.push(digest);
            sink(Chunk {
                digest,
                data: data.to_vec(),
            })
        },
        warnings: Vec::new(),
    };
    let draft = walk_sources(
        &sources,
        &WalkOptions::default(),
        snapshot,
        chunker,
        &mut closure,
    )?;
    draft.complete(digests)
}

/// A manifest whose regular files know how many chunks they have but not
/// yet their digests (hashing runs elsewhere, in parallel). The walk's
/// chunk order is the manifest order, so [`ManifestDraft::complete`] takes
/// the digests in the order the chunks were handed out.
#[derive(Debug)]
pub struct ManifestDraft {
    manifest: Manifest,
    /// (entry index, number of chunks) of every regular file, in order.
    files: Vec<(usize, usize)>,
}

impl ManifestDraft {
    /// Number of chunks handed out by the walk.
    pub fn chunk_count(&self) -> usize {
        self.files.iter().map(|(_, n)| n).sum()
    }

    /// The manifest, with `digests` (one per chunk, in walk order) filled in.
    pub fn complete(mut self, digests: Vec<Digest>) -> Result<Manifest, ManifestError> {
        let expected = self.chunk_count();
        if digests.len() != expected {
            return Err(ManifestError::Invalid(format!(
                "{} chunk digests for {expected} chunks",
                digests.len()
            )));
        }
        let mut digests = digests.into_iter().map(ChunkDigest);
        for (index, count) in self.files {
            if let Some(EntryKind::File { chunks }) =
                self.manifest.entries.get_mut(index).map(|e| &mut e.kind)
            {
                chunks.extend(digests.by_ref().take(count));
            }
        }
        Ok(self.manifest)
    }
}

/// Walks the checked `sources` ([`crate::stream::walk`]) and cuts regular
/// files into chunks, handing each chunk's bytes to `sink` in manifest
/// order; returns the [`ManifestDraft`]. Memory stays bounded: one chunker
/// buffer, one chunk in flight here.
///
/// A file that vanishes, cannot be read or changes while it is read is a
/// warning (to `sink`; the entry is marked incomplete or, when vanished,
/// left out); the sink or `--fail-on-warning` may turn it into an error.
pub fn walk_sources(
    sources: &[Source],
    options: &WalkOptions,
    snapshot: &str,
    chunker: ChunkerConfig,
    sink: &mut dyn WalkSink,
) -> Result<ManifestDraft, ManifestError> {
    let chunker = Chunker::new(chunker).map_err(|source| ManifestError::Chunk {
        path: PathBuf::new(),
        source,
    })?;
    let mut walker = Walker {
        chunker,
        entries: Vec::new(),
        files: Vec::new(),
        inodes: HashMap::new(),
        sink,
        fail_on_warning: options.fail_on_warning,
        before_read: options.before_read,
        failure: None,
    };
    let walked = walk(sources, options, &mut walker);
    if let Some(e) = walker.failure.take() {
        return Err(e);
    }
    walked?;
    Ok(ManifestDraft {
        manifest: Manifest {
            version: MANIFEST_VERSION,
            snapshot: snapshot.to_string(),
            chunker: walker.chunker.config(),
            entries: walker.entries,
        },
        files: walker.files,
    })
}

struct Walker<'a> {
    chunker: Chunker,
    entries: Vec<Entry>,
    /// (entry index, chunk count) of the regular files.
    files: Vec<(usize, usize)>,
    /// (dev, ino) of multiply-linked files -> first path stored.
    inodes: HashMap<(u64, u64), RawPath>,
    sink: &'a mut dyn WalkSink,
    fail_on_warning: bool,
    before_read: Option<fn(&Path)>,
    /// The error that stopped the walk, with its own type.
    failure: Option<ManifestError>,
}

impl Walker<'_> {
    /// Records `e` as the reason the walk stops.
    fn stop(&mut self, e: ManifestError) -> WalkError {
        let message = e.to_string();
        self.failure = Some(e);
        WalkError::Stopped(message)
    }

    fn warning(&mut self, path: &RawPath, message: String) -> Result<(), WalkError> {
        let text = format!("{path}: {message}");
        if self.fail_on_warning {
            return Err(self.stop(ManifestError::Aborted(format!(
                "{text} (--fail-on-warning)"
            ))));
        }
        let sent = self.sink.warning(text);
        sent.map_err(|e| self.stop(e))
    }
}

impl Visitor for Walker<'_> {
    fn warn(&mut self, path: &RawPath, message: String) -> Result<(), WalkError> {
        self.warning(path, message)
    }

    fn note(&mut self, message: String) {
        self.sink.note(message);
    }

    fn visit(&mut self, node: &Node<'_>) -> Result<(), WalkError> {
        let (fs_path, path, meta) = (node.fs_path, node.path, node.meta);
        let ft = meta.file_type();
        let mut size = 0;
        let mut incomplete = node.incomplete;
        let kind = if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            match std::fs::read_link(fs_path) {
                Ok(target) => EntryKind::Symlink {
                    target: RawPath(target.into_os_string().into_encoded_bytes()),
                },
                Err(e) => {
                    return self.warning(path, format!("vanished before it was read: {e}"));
                }
            }
        } else if ft.is_file() {
            let key = (meta.dev(), meta.ino());
            match self.inodes.get(&key).filter(|_| meta.nlink() > 1) {
                Some(first) => {
                    size = meta.len();
                    EntryKind::Hardlink {
                        target: first.clone(),
                    }
                }
                None => {
                    let Some(read) = self.chunk_file(fs_path, path, meta)? else {
                        return Ok(());
                    };
                    if meta.nlink() > 1 {
                        self.inodes.insert(key, path.clone());
                    }
                    size = read.bytes;
                    incomplete |= read.incomplete;
                    self.files.push((self.entries.len(), read.chunks));
                    EntryKind::File { chunks: Vec::new() }
                }
            }
        } else if ft.is_fifo() {
            EntryKind::Fifo
        } else if ft.is_char_device() {
            EntryKind::CharDevice { rdev: meta.rdev() }
        } else if ft.is_block_device() {
            EntryKind::BlockDevice { rdev: meta.rdev() }
        } else {
            EntryKind::Socket
        };
        self.entries.push(Entry {
            path: path.clone(),
            kind,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            // Saturating: an mtime past year 2262 (set by any user with
            // `touch -d`) would overflow i64 nanoseconds and panic.
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            size,
            incomplete,
        });
        Ok(())
    }
}

/// What reading one regular file gave.
struct FileRead {
    chunks: usize,
    bytes: u64,
    incomplete: bool,
}

impl Walker<'_> {
    /// Chunks one file. `None`: it vanished (warned, no entry).
    fn chunk_file(
        &mut self,
        fs_path: &Path,
        path: &RawPath,
        before: &std::fs::Metadata,
    ) -> Result<Option<FileRead>, WalkError> {
        if let Some(hook) = self.before_read {
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
                return Ok(Some(FileRead {
                    chunks: 0,
                    bytes: 0,
                    incomplete: true,
                }));
            }
        };
        let mut read = FileRead {
            chunks: 0,
            bytes: 0,
            incomplete: false,
        };
        let mut chunks = self.chunker.chunks(&file);
        let mut failure = None;
        loop {
            match chunks.next_chunk() {
                Ok(Some(data)) => {
                    read.bytes += data.len() as u64;
                    read.chunks += 1;
                    if let Err(e) = self.sink.chunk(data) {
                        return Err(self.stop(e));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            read.incomplete = true;
            self.warning(
                path,
                format!(
                    "read error after {} bytes: {e}; stored incomplete",
                    read.bytes
                ),
            )?;
            return Ok(Some(read));
        }
        let after = file.metadata();
        let changed = match &after {
            Ok(a) => {
                a.len() != before.len()
                    || a.mtime() != before.mtime()
                    || a.mtime_nsec() != before.mtime_nsec()
                    || read.bytes != before.len()
            }
            Err(_) => true,
        };
        if changed {
            read.incomplete = true;
            self.warning(
                path,
                format!(
                    "changed while it was read ({} bytes before, {} read); stored incomplete",
                    before.len(),
                    read.bytes
                ),
            )?;
        }
        Ok(Some(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn small() -> ChunkerConfig {
        ChunkerConfig {
            min: 1024,
            avg: 4096,
            max: 16384,
        }
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.txt"), b"hello").unwrap();
        std::fs::write(root.join("zero"), b"").unwrap();
        std::fs::write(root.join("big"), vec![7u8; 100_000]).unwrap();
        std::fs::write(root.join("ünï.txt"), b"unicode").unwrap();
        std::fs::hard_link(root.join("sub/a.txt"), root.join("link-a")).unwrap();
        symlink("sub/a.txt", root.join("sym")).unwrap();
        let f = std::fs::File::create(root.join("sparse")).unwrap();
        f.set_len(50_000).unwrap();
        dir
    }

    fn build(dir: &Path) -> (Manifest, Vec<Chunk>) {
        let mut chunks = Vec::new();
        let m = build_manifest(&[dir.join("data")], "p/h/t", small(), |c| {
            chunks.push(c);
            Ok(())
        })
        .unwrap();
        (m, chunks)
    }

    fn entry<'a>(m: &'a Manifest, path: &str) -> &'a Entry {
        m.entries
            .iter()
            .find(|e| e.path.0 == path.as_bytes())
            .unwrap_or_else(|| panic!("no entry {path}"))
    }

    #[test]
    fn records_every_kind_with_exact_sizes() {
        let dir = tree();
        let (m, chunks) = build(dir.path());
        let paths: Vec<String> = m.entries.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "data",
                "data/big",
                "data/empty",
                "data/link-a",
                "data/sparse",
                "data/sub",
                "data/sub/a.txt",
                "data/sym",
                "data/zero",
                "data/ünï.txt"
            ]
        );
        assert_eq!(entry(&m, "data/sparse").size, 50_000);
        assert_eq!(entry(&m, "data/big").size, 100_000);
        assert_eq!(entry(&m, "data/zero").size, 0);
        assert_eq!(
            entry(&m, "data/zero").kind,
            EntryKind::File { chunks: vec![] }
        );
        assert_eq!(
            entry(&m, "data/sym").kind,
            EntryKind::Symlink {
                target: RawPath(b"sub/a.txt".to_vec())
            }
        );
        // link-a sorts before sub/a.txt, so it is the file, a.txt the link.
        assert!(matches!(
            entry(&m, "data/link-a").kind,
            EntryKind::File { .. }
        ));
        assert_eq!(
            entry(&m, "data/sub/a.txt").kind,
            EntryKind::Hardlink {
                target: RawPath(b"data/link-a".to_vec())
            }
        );
        // Every chunk handed out belongs to the manifest, in order.
        let listed: Vec<Digest> = m
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::File { chunks } => Some(chunks.iter().map(|c| c.0)),
                _ => None,
            })
            .flatten()
            .collect();
        let sent: Vec<Digest> = chunks.iter().map(|c| c.digest).collect();
        assert_eq!(listed, sent);
        let file_bytes: usize = chunks.iter().map(|c| c.data.len()).sum();
        assert_eq!(file_bytes as u64, m.total_file_bytes());
    }

    #[test]
    fn a_draft_takes_exactly_one_digest_per_chunk_in_walk_order() {
        let dir = tree();
        let (full, chunks) = build(dir.path());
        let mut sizes = Vec::new();
        let walk_with = |f: &mut dyn FnMut(&[u8]) -> Result<(), ManifestError>| {
            let sources = check_sources(&[dir.path().join("data")]).unwrap();
            let mut sink = ClosureSink {
                chunk: f,
                warnings: Vec::new(),
            };
            walk_sources(
                &sources,
                &WalkOptions::default(),
                "p/h/t",
                small(),
                &mut sink,
            )
        };
        let draft = walk_with(&mut |d| {
            sizes.push(d.len());
            Ok(())
        })
        .unwrap();
        assert_eq!(draft.chunk_count(), chunks.len());
        assert_eq!(
            sizes,
            chunks.iter().map(|c| c.data.len()).collect::<Vec<_>>()
        );
        let digests: Vec<Digest> = chunks.iter().map(|c| c.digest).collect();
        let short = walk_with(&mut |_| Ok(()))
            .unwrap()
            .complete(digests[1..].to_vec());
        assert!(matches!(short, Err(ManifestError::Invalid(_))));
        assert_eq!(draft.complete(digests).unwrap(), full);
    }

    #[test]
    fn fifos_are_recorded_without_data() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        std::fs::create_dir(&root).unwrap();
        nix::unistd::mkfifo(
            &root.join("pipe"),
            nix::sys::stat::Mode::from_bits_truncate(0o640),
        )
        .unwrap();
        std::fs::set_permissions(
            root.join("pipe"),
            std::os::unix::fs::PermissionsExt::from_mode(0o640),
        )
        .unwrap();
        let mut sent = 0;
        let m = build_manifest(&[root], "s", small(), |_| {
            sent += 1;
            Ok(())
        })
        .unwrap();
        let e = entry(&m, "data/pipe");
        assert_eq!(e.kind, EntryKind::Fifo);
        assert_eq!(e.mode, 0o640);
        assert_eq!(sent, 0);
    }

    #[test]
    fn encoding_is_deterministic_and_round_trips() {
        let dir = tree();
        let (m1, _) = build(dir.path());
        let (m2, _) = build(dir.path());
        let b1 = m1.encode().unwrap();
        assert_eq!(b1, m2.encode().unwrap());
        assert_eq!(Manifest::decode(&b1).unwrap(), m1);
    }

    #[test]
    fn non_utf8_names_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"bad\xffname")), b"x").unwrap();
        let m = build_manifest(&[root], "s", small(), |_| Ok(())).unwrap();
        let back = Manifest::decode(&m.encode().unwrap()).unwrap();
        assert_eq!(back.entries[1].path.0, b"data/bad\xffname");
    }

    #[test]
    fn rejects_other_versions_and_dangling_hardlinks() {
        let mut m = Manifest {
            version: 2,
            snapshot: "s".into(),
            chunker: small(),
            entries: vec![],
        };
        assert!(matches!(
            Manifest::decode(&m.encode().unwrap()),
            Err(ManifestError::Version(2))
        ));
        m.version = MANIFEST_VERSION;
        m.entries.push(Entry {
            path: RawPath(b"x".to_vec()),
            kind: EntryKind::Hardlink {
                target: RawPath(b"nope".to_vec()),
            },
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime_ns: 0,
            size: 0,
            incomplete: false,
        });
        assert!(matches!(
            Manifest::decode(&m.encode().unwrap()),
            Err(ManifestError::Invalid(_))
        ));
        assert!(Manifest::decode(b"{").is_err());
    }

    #[test]
    fn total_file_bytes_of_a_decoded_manifest_saturates() {
        let file = |name: &[u8]| Entry {
            path: RawPath(name.to_vec()),
            kind: EntryKind::File { chunks: vec![] },
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime_ns: 0,
            size: u64::MAX,
            incomplete: false,
        };
        let m = Manifest {
            version: MANIFEST_VERSION,
            snapshot: "s".into(),
            chunker: small(),
            entries: vec![file(b"a"), file(b"b")],
        };
        let m = Manifest::decode(&m.encode().unwrap()).unwrap();
        assert_eq!(m.total_file_bytes(), u64::MAX);
    }

    #[test]
    fn dot_is_stored_under_its_real_name_and_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("named");
        std::fs::create_dir(&root).unwrap();
        let m = build_manifest(&[root.join(".")], "s", small(), |_| Ok(())).unwrap();
        assert_eq!(m.entries[0].path.0, b"named");
        assert!(matches!(
            build_manifest(&[PathBuf::from("/")], "s", small(), |_| Ok(())),
            Err(ManifestError::Walk(WalkError::NoBaseName { .. }))
        ));
    }

    #[test]
    fn duplicate_base_names_are_refused() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(a.path().join("x")).unwrap();
        std::fs::create_dir(b.path().join("x")).unwrap();
        let r = build_manifest(
            &[a.path().join("x"), b.path().join("x")],
            "s",
            small(),
            |_| Ok(()),
        );
        assert!(matches!(
            r,
            Err(ManifestError::Walk(WalkError::DuplicateBaseName { .. }))
        ));
    }
}
