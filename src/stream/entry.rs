//! The metadata stream's entries: one per file system object, in walk
//! order, each self-delimiting (a magic and its length first), so a
//! reader can find the next entry after damage. `docs/format.md` section 8
//! specifies the bytes; all integers are big-endian.
//!
//! ```text
//! offset size field
//! 0      4    magic        "PTME"
//! 4      4    entry_len    bytes of the whole entry, from the magic on
//! 8      1    kind         1 dir, 2 file, 3 symlink, 4 hard link, 5 fifo,
//!                          6 char device, 7 block device, 8 socket
//! 9      1    flags        bit 0 INCOMPLETE (read with a warning)
//! 10     2    path_len
//! 12     4    mode         st_mode & 0o7777
//! 16     4    uid
//! 20     4    gid
//! 24     8    mtime_sec    i64
//! 32     4    mtime_nsec
//! 36     8    ctime_sec    i64
//! 44     4    ctime_nsec
//! 48     8    size         regular files: content bytes; hard links: the
//!                          file's; symlinks: target length; else 0
//! 56     8    offset       regular files and hard links: payload stream
//!                          offset of the content's first byte; else 0
//! 64     8    inode        st_ino at backup time
//! 72     8    dev          st_dev at backup time
//! 80     4    rdev_major   device nodes
//! 84     4    rdev_minor
//! 88     n    path         path_len bytes, relative, '/'-separated
//! 88+n   ...  fields       until entry_len: tag u8, len u32, len bytes
//! ```
//!
//! Fields: 1 link target (symlink target, or the earlier path a hard link
//! names), 2 user name, 3 group name, 4 extended attribute (`name`, NUL,
//! `value`), 5 POSIX access ACL, 6 POSIX default ACL (both the raw value of
//! `system.posix_acl_access`/`_default`: Linux's posix_acl_xattr format),
//! 7 file capabilities (raw `security.capability`). Readers skip unknown
//! tags.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A path or link target: raw bytes (Linux names need not be UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawPath(pub Vec<u8>);

impl RawPath {
    pub fn as_path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.0))
    }

    /// `self/name`.
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

/// Magic at the start of every entry.
pub const ENTRY_MAGIC: [u8; 4] = *b"PTME";
/// Bytes before the path.
pub const FIXED_LEN: usize = 88;
/// Largest entry accepted (paths and many large extended attributes).
pub const MAX_ENTRY_LEN: u32 = 64 * 1024 * 1024;

const FLAG_INCOMPLETE: u8 = 1;

const TAG_LINK: u8 = 1;
const TAG_USER: u8 = 2;
const TAG_GROUP: u8 = 3;
const TAG_XATTR: u8 = 4;
const TAG_ACL_ACCESS: u8 = 5;
const TAG_ACL_DEFAULT: u8 = 6;
const TAG_FCAPS: u8 = 7;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Dir,
    File,
    Symlink,
    Hardlink,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Dir,
        Kind::File,
        Kind::Symlink,
        Kind::Hardlink,
        Kind::Fifo,
        Kind::CharDevice,
        Kind::BlockDevice,
        Kind::Socket,
    ];

    fn code(self) -> u8 {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0) as u8 + 1
    }

    fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Short name (`catalog ls`): dir, file, symlink, hardlink, fifo,
    /// char-device, block-device, socket.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dir => "dir",
            Kind::File => "file",
            Kind::Symlink => "symlink",
            Kind::Hardlink => "hardlink",
            Kind::Fifo => "fifo",
            Kind::CharDevice => "char-device",
            Kind::BlockDevice => "block-device",
            Kind::Socket => "socket",
        }
    }
}

/// One file system object of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: RawPath,
    pub kind: Kind,
    /// Read with a warning: contents or listing may be partial.
    pub incomplete: bool,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, u32),
    pub ctime: (i64, u32),
    pub size: u64,
    /// Payload stream offset (regular files, hard links).
    pub offset: u64,
    pub inode: u64,
    pub dev: u64,
    /// (major, minor) of device nodes.
    pub rdev: (u32, u32),
    /// Symlink target, or the earlier path a hard link names.
    pub link: Option<RawPath>,
    pub user: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
    /// Extended attributes other than ACLs and capabilities: (name, value).
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub acl_access: Option<Vec<u8>>,
    pub acl_default: Option<Vec<u8>>,
    pub fcaps: Option<Vec<u8>>,
}

impl Entry {
    /// An entry with only path and kind set (the rest zero/empty).
    pub fn new(path: RawPath, kind: Kind) -> Entry {
        Entry {
            path,
            kind,
            incomplete: false,
            mode: 0,
            uid: 0,
            gid: 0,
            mtime: (0, 0),
            ctime: (0, 0),
            size: 0,
            offset: 0,
            inode: 0,
            dev: 0,
            rdev: (0, 0),
            link: None,
            user: None,
            group: None,
            xattrs: Vec::new(),
            acl_access: None,
            acl_default: None,
            fcaps: None,
        }
    }

    /// The payload byte range `[offset, offset + size)` of a regular file
    /// or hard link, `None` for other kinds.
    pub fn payload_range(&self) -> Option<(u64, u64)> {
        matches!(self.kind, Kind::File | Kind::Hardlink)
            .then(|| (self.offset, self.offset.saturating_add(self.size)))
    }

    /// mtime in nanoseconds since the epoch (saturating).
    pub fn mtime_ns(&self) -> i64 {
        self.mtime
            .0
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(self.mtime.1))
    }

    /// Appends the encoded entry to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EntryError> {
        let start = out.len();
        let path_len = u16::try_from(self.path.0.len())
            .map_err(|_| EntryError::Invalid(format!("path of {} bytes", self.path.0.len())))?;
        out.extend_from_slice(&ENTRY_MAGIC);
        out.extend_from_slice(&[0; 4]);
        out.push(self.kind.code());
        out.push(if self.incomplete { FLAG_INCOMPLETE } else { 0 });
        out.extend_from_slice(&path_len.to_be_bytes());
        for v in [self.mode, self.uid, self.gid] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.mtime.0.to_be_bytes());
        out.extend_from_slice(&self.mtime.1.to_be_bytes());
        out.extend_from_slice(&self.ctime.0.to_be_bytes());
        out.extend_from_slice(&self.ctime.1.to_be_bytes());
        for v in [self.size, self.offset, self.inode, self.dev] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.rdev.0.to_be_bytes());
        out.extend_from_slice(&self.rdev.1.to_be_bytes());
        out.extend_from_slice(&self.path.0);
        let mut field = |tag: u8, parts: &[&[u8]]| {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            out.push(tag);
            out.extend_from_slice(&(len as u32).to_be_bytes());
            for p in parts {
                out.extend_from_slice(p);
            }
        };
        if let Some(l) = &self.link {
            field(TAG_LINK, &[&l.0]);
        }
        if let Some(u) = &self.user {
            field(TAG_USER, &[u]);
        }
        if let Some(g) = &self.group {
            field(TAG_GROUP, &[g]);
        }
        for (name, value) in &self.xattrs {
            field(TAG_XATTR, &[name, &[0], value]);
        }
        if let Some(a) = &self.acl_access {
            field(TAG_ACL_ACCESS, &[a]);
        }
        if let Some(a) = &self.acl_default {
            field(TAG_ACL_DEFAULT, &[a]);
        }
        if let Some(c) = &self.fcaps {
            field(TAG_FCAPS, &[c]);
        }
        let len = out.len() - start;
        if len > MAX_ENTRY_LEN as usize {
            out.truncate(start);
            return Err(EntryError::Invalid(format!(
                "{}: entry of {len} bytes (extended attributes too large)",
                self.path
            )));
        }
        out[start + 4..start + 8].copy_from_slice(&(len as u32).to_be_bytes());
        Ok(())
    }

    /// Decodes one whole entry (`bytes` is exactly `entry_len` long).
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let bad = |what: &str| EntryError::Invalid(what.to_string());
        if bytes.len() < FIXED_LEN || bytes[..4] != ENTRY_MAGIC {
            return Err(bad("no entry magic"));
        }
        let u32_at = |o: usize| u32::from_be_bytes(bytes[o..o + 4].try_into().unwrap_or([0; 4]));
        let u64_at = |o: usize| u64::from_be_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8]));
        if u32_at(4) as usize != bytes.len() {
            return Err(bad("entry length mismatch"));
        }
        let kind = Kind::from_code(bytes[8]).ok_or_else(|| bad("unknown entry kind"))?;
        let flags = bytes[9];
        if flags & !FLAG_INCOMPLETE != 0 {
            return Err(bad("unknown entry flags"));
        }
        let path_len = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
        let path_end = FIXED_LEN + path_len;
        let path = bytes
            .get(FIXED_LEN..path_end)
            .ok_or_else(|| bad("path past the entry"))?;
        if path.is_empty() || path.contains(&0) {
            return Err(bad("empty path or NUL in a path"));
        }
        let mut e = Entry::new(RawPath(path.to_vec()), kind);
        e.incomplete = flags & FLAG_INCOMPLETE != 0;
        e.mode = u32_at(12);
        e.uid = u32_at(16);
        e.gid = u32_at(20);
        e.mtime = (u64_at(24) as i64, u32_at(32));
        e.ctime = (u64_at(36) as i64, u32_at(44));
        e.size = u64_at(48);
        e.offset = u64_at(56);
        e.inode = u64_at(64);
        e.dev = u64_at(72);
        e.rdev = (u32_at(80), u32_at(84));
        let mut at = path_end;
        while at < bytes.len() {
            let head = bytes
                .get(at..at + 5)
                .ok_or_else(|| bad("field header cut"))?;
            let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
            let data = bytes
                .get(at + 5..at + 5 + len)
                .ok_or_else(|| bad("field past the entry"))?;
            match head[0] {
                TAG_LINK => e.link = Some(RawPath(data.to_vec())),
                TAG_USER => e.user = Some(data.to_vec()),
                TAG_GROUP => e.group = Some(data.to_vec()),
                TAG_XATTR => {
                    let nul = data
                        .iter()
                        .position(|&b| b == 0)
                        .ok_or_else(|| bad("extended attribute without NUL"))?;
                    e.xattrs
                        .push((data[..nul].to_vec(), data[nul + 1..].to_vec()));
                }
                TAG_ACL_ACCESS => e.acl_access = Some(data.to_vec()),
                TAG_ACL_DEFAULT => e.acl_default = Some(data.to_vec()),
                TAG_FCAPS => e.fcaps = Some(data.to_vec()),
                _ => {}
            }
            at += 5 + len;
        }
        if matches!(kind, Kind::Symlink | Kind::Hardlink) && e.link.is_none() {
            return Err(bad("link without a target"));
        }
        Ok(e)
    }
}

/// A malformed entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("invalid metadata entry: {0}")]
    Invalid(String),
    #[error("metadata stream: {0}")]
    Io(String),
}

/// A gap in the metadata stream: bytes skipped to find the next entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub from: u64,
    pub to: u64,
}

/// Reads entries from a metadata stream. After a malformed entry (damage:
/// a lost chunk reads as zeros) it searches for the next entry magic whose
/// entry decodes, and reports the bytes skipped.
#[derive(Debug)]
pub struct EntryReader<R> {
    reader: R,
    /// Stream offset of `buf[0]`.
    base: u64,
    buf: Vec<u8>,
    eof: bool,
    skipped: Vec<Skipped>,
}

impl<R: Read> EntryReader<R> {
    /// A reader whose first byte is at stream offset `base`.
    pub fn new(reader: R, base: u64) -> Self {
        EntryReader {
            reader,
            base,
            buf: Vec::new(),
            eof: false,
            skipped: Vec::new(),
        }
    }

    /// Damaged ranges skipped so far.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Buffers at least `n` bytes (fewer only at the end).
    fn fill(&mut self, n: usize) -> Result<(), EntryError> {
        while self.buf.len() < n && !self.eof {
            let old = self.buf.len();
            let want = (n - old).max(64 * 1024);
            self.buf.resize(old + want, 0);
            match self.reader.read(&mut self.buf[old..]) {
                Ok(0) => {
                    self.buf.truncate(old);
                    self.eof = true;
                }
                Ok(got) => self.buf.truncate(old + got),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.buf.truncate(old),
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(EntryError::Io(e.to_string()));
                }
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.base += n as u64;
    }

    /// The next entry and its stream offset; `None` at the end.
    pub fn next_entry(&mut self) -> Result<Option<(u64, Entry)>, EntryError> {
        let mut skip_from = None;
        loop {
            self.fill(8)?;
            if self.buf.is_empty() {
                if let Some(from) = skip_from {
                    self.skipped.push(Skipped {
                        from,
                        to: self.base,
                    });
                }
                return Ok(None);
            }
            if self.buf.len() >= 8 && self.buf[..4] == ENTRY_MAGIC {
                let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
                if (FIXED_LEN as u32..=MAX_ENTRY_LEN).contains(&len) {
                    self.fill(len as usize)?;
                    if self.buf.len() >= len as usize {
                        if let Ok(e) = Entry::decode(&self.buf[..len as usize]) {
                            if let Some(from) = skip_from {
                                self.skipped.push(Skipped {
                                    from,
                                    to: self.base,
                                });
                            }
                            let at = self.base;
                            self.consume(len as usize);
                            return Ok(Some((at, e)));
                        }
                    }
                }
            }
            // Damage: skip to the next possible magic.
            skip_from.get_or_insert(self.base);
            let next = self.buf[1..]
                .windows(4)
                .position(|w| w == ENTRY_MAGIC)
                .map_or(self.buf.len().saturating_sub(3).max(1), |p| p + 1);
            self.consume(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Entry {
        let mut e = Entry::new(RawPath(b"data/d\xffir/f".to_vec()), Kind::File);
        e.incomplete = true;
        e.mode = 0o4755;
        e.uid = 1000;
        e.gid = 100;
        e.mtime = (-5, 999_999_999);
        e.ctime = (1_700_000_000, 1);
        e.size = 1 << 40;
        e.offset = 12345;
        e.inode = u64::MAX;
        e.dev = 0x803;
        e.rdev = (8, 1);
        e.user = Some(b"alice".to_vec());
        e.group = Some(b"users".to_vec());
        e.xattrs = vec![(b"user.k".to_vec(), b"v\0with nul".to_vec())];
        e.acl_access = Some(vec![2, 0, 0, 0, 1, 0, 6, 0]);
        e.acl_default = Some(vec![2, 0, 0, 0]);
        e.fcaps = Some(vec![1, 2, 3]);
        e
    }

    #[test]
    fn entries_round_trip_with_every_field() {
        let mut link = Entry::new(RawPath(b"l".to_vec()), Kind::Symlink);
        link.link = Some(RawPath(b"../x".to_vec()));
        let mut buf = Vec::new();
        for e in [full(), link.clone()] {
            e.encode_into(&mut buf).unwrap();
        }
        let mut r = EntryReader::new(&buf[..], 100);
        let (at, a) = r.next_entry().unwrap().unwrap();
        assert_eq!((at, a), (100, full()));
        let (at, b) = r.next_entry().unwrap().unwrap();
        assert!(at > 100);
        assert_eq!(b, link);
        assert!(r.next_entry().unwrap().is_none());
        assert!(r.skipped().is_empty());
    }

    #[test]
    fn a_reader_resynchronises_after_damage_and_reports_the_gap() {
        let mut buf = Vec::new();
        let mut offsets = Vec::new();
        for i in 0..50 {
            offsets.push(buf.len());
            let mut e = full();
            e.path = RawPath(format!("p/{i}").into_bytes());
            e.encode_into(&mut buf).unwrap();
        }
        // A lost chunk reads as zeros: entries 10..=20 are hit.
        let (a, b) = (offsets[10] + 7, offsets[20] + 3);
        buf[a..b].fill(0);
        let mut r = EntryReader::new(&buf[..], 0);
        let mut paths = Vec::new();
        while let Some((_, e)) = r.next_entry().unwrap() {
            paths.push(e.path.to_string());
        }
        let expected: Vec<String> = (0..10).chain(21..50).map(|i| format!("p/{i}")).collect();
        assert_eq!(paths, expected);
        assert_eq!(
            r.skipped(),
            [Skipped {
                from: offsets[10] as u64,
                to: offsets[21] as u64
            }]
        );
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        let mut buf = Vec::new();
        full().encode_into(&mut buf).unwrap();
        for cut in 0..buf.len() {
            let _ = Entry::decode(&buf[..cut]);
        }
        let mut bad = buf.clone();
        bad[8] = 99;
        assert!(Entry::decode(&bad).is_err());
        let mut r = EntryReader::new(&bad[..], 0);
        assert!(r.next_entry().unwrap().is_none());
        assert_eq!(r.skipped().len(), 1);
    }
}
