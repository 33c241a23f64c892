//! Walking the backup sources: which paths a snapshot holds, in which
//! order, and what is a warning rather than an error.
//!
//! Order: each source in the order given, then depth-first, a directory
//! before its children, the children of a directory sorted by their name
//! bytes. Compared path by path this is the order of
//! [`walk_order`] (component-wise byte order), which the incremental
//! backup relies on to merge a walk with the previous snapshot's entries.
//!
//! Each source is stored under its base name (`/home/alice/docs` yields
//! `docs`, `docs/a.txt`, ...). A source given as a symbolic link is
//! followed (the snapshot holds what it points to, under the link's name);
//! below the sources, symbolic links are stored as links and never
//! followed.
//!
//! Problems with the sources themselves (missing, no base name, two with
//! the same base name) are errors found by [`check_sources`] before any
//! tape is touched. Problems found while walking (a path that vanished, a
//! directory that cannot be listed) are *warnings*: the walk goes on and
//! the visitor decides (see [`Visitor::warn`]).

use std::cmp::Ordering;
use std::ffi::OsString;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::exclude::{ExcludeStack, Excludes};
use crate::stream::entry::RawPath;

/// Why a walk stopped.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("backup source {path}: {source}")]
    Source {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("backup source {path}: cannot back up a path without a base name")]
    NoBaseName { path: PathBuf },
    #[error("two backup sources have the same base name {name:?}")]
    DuplicateBaseName { name: String },
    #[error(
        "backup source {path} is a {kind}: give a directory, a file or a symbolic link to one"
    )]
    UnsupportedSource { path: PathBuf, kind: &'static str },
    /// The visitor stopped the walk.
    #[error("{0}")]
    Stopped(String),
}

/// A checked backup source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given.
    pub path: PathBuf,
    /// The name it is stored under (its base name).
    pub name: Vec<u8>,
    /// `Some(target)` when the path given is a symbolic link (followed).
    pub link_target: Option<PathBuf>,
}

/// Checks every source (it exists, has a base name, no two share one) and
/// returns them in order. Touches nothing but the file system.
pub fn check_sources(paths: &[PathBuf]) -> Result<Vec<Source>, WalkError> {
    let mut names = std::collections::HashSet::new();
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let err = |source| WalkError::Source {
            path: path.clone(),
            source,
        };
        let lmeta = std::fs::symlink_metadata(path).map_err(err)?;
        let link_target = if lmeta.file_type().is_symlink() {
            // Followed: it must lead somewhere.
            std::fs::metadata(path).map_err(err)?;
            Some(std::fs::canonicalize(path).map_err(err)?)
        } else {
            None
        };
        let meta = std::fs::metadata(path).map_err(err)?;
        if !(meta.is_dir() || meta.is_file()) {
            return Err(WalkError::UnsupportedSource {
                path: path.clone(),
                kind: kind_name(&meta),
            });
        }
        // `.` or `dir/..` have no base name of their own: use the real one.
        let named = match path.file_name() {
            Some(_) => path.clone(),
            None => std::fs::canonicalize(path).map_err(err)?,
        };
        let name = named
            .file_name()
            .ok_or_else(|| WalkError::NoBaseName { path: path.clone() })?
            .as_bytes()
            .to_vec();
        if !names.insert(name.clone()) {
            return Err(WalkError::DuplicateBaseName {
                name: String::from_utf8_lossy(&name).into_owned(),
            });
        }
        sources.push(Source {
            path: path.clone(),
            name,
            link_target,
        });
    }
    Ok(sources)
}

fn kind_name(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let ft = meta.file_type();
    if ft.is_fifo() {
        "named pipe"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Do not descend into directories on another file system than their
    /// source (the mount point itself is stored, empty).
    pub one_file_system: bool,
    /// Paths left out (and, for directories, everything below them).
    pub excludes: Excludes,
    /// Stop at the first warning (`--fail-on-warning`).
    pub fail_on_warning: bool,
    /// Called with a regular file's path after its `lstat`, before it is
    /// opened (tests change or remove files there).
    #[doc(hidden)]
    pub before_read: Option<fn(&Path)>,
}

/// One file system object found by the walk.
#[derive(Debug)]
pub struct Node<'a> {
    /// Where it is on the file system.
    pub fs_path: &'a Path,
    /// The path stored in the snapshot.
    pub path: &'a RawPath,
    /// Its `lstat` (for a source given as a symbolic link: `stat`).
    pub meta: &'a Metadata,
    /// Directories: the listing failed or was cut short (a warning was
    /// reported); the children found are still visited.
    pub incomplete: bool,
}

/// What the walk hands its findings to.
pub trait Visitor {
    /// One object; directories come before their children.
    fn visit(&mut self, node: &Node<'_>) -> Result<(), WalkError>;
    /// A problem that does not stop the walk by itself; returning an
    /// error (e.g. for `--fail-on-warning`) stops it.
    fn warn(&mut self, path: &RawPath, message: String) -> Result<(), WalkError>;
    /// A remark for the job log (a source that is a symbolic link).
    fn note(&mut self, _message: String) {}
}

/// Walks `sources` (checked by [`check_sources`]) and hands every object
/// to `visitor`; see the module documentation.
pub fn walk(
    sources: &[Source],
    options: &WalkOptions,
    visitor: &mut dyn Visitor,
) -> Result<(), WalkError> {
    for source in sources {
        if let Some(target) = &source.link_target {
            visitor.note(format!(
                "backup source {} is a symbolic link: backing up {} under the name {}",
                source.path.display(),
                target.display(),
                String::from_utf8_lossy(&source.name)
            ));
        }
        let path = RawPath(source.name.clone());
        let meta = match std::fs::metadata(&source.path) {
            Ok(m) => m,
            Err(e) => {
                visitor.warn(&path, format!("vanished before it was read: {e}"))?;
                continue;
            }
        };
        let mut w = Walk {
            options,
            visitor: &mut *visitor,
            root_dev: meta.dev(),
            excludes: ExcludeStack::new(&options.excludes),
        };
        w.node(&source.path, path, meta, 0)?;
    }
    Ok(())
}

struct Walk<'a> {
    options: &'a WalkOptions,
    visitor: &'a mut dyn Visitor,
    root_dev: u64,
    excludes: ExcludeStack<'a>,
}

impl Walk<'_> {
    fn node(
        &mut self,
        fs_path: &Path,
        path: RawPath,
        meta: Metadata,
        depth: usize,
    ) -> Result<(), WalkError> {
        if !meta.is_dir() {
            return self.visitor.visit(&Node {
                fs_path,
                path: &path,
                meta: &meta,
                incomplete: false,
            });
        }
        let other_fs = self.options.one_file_system && meta.dev() != self.root_dev;
        let (children, incomplete) = if other_fs {
            (Vec::new(), false)
        } else {
            match list_dir(fs_path) {
                Ok(names) => (names, false),
                Err((names, e)) => {
                    self.visitor
                        .warn(&path, format!("cannot list the directory: {e}"))?;
                    (names, true)
                }
            }
        };
        self.visitor.visit(&Node {
            fs_path,
            path: &path,
            meta: &meta,
            incomplete,
        })?;
        if children.is_empty() {
            return Ok(());
        }
        if let Some(message) = self.excludes.enter(fs_path, depth) {
            self.visitor.warn(&path, message)?;
        }
        let result = self.children(fs_path, &path, children, depth);
        self.excludes.leave(depth);
        result
    }

    fn children(
        &mut self,
        fs_path: &Path,
        path: &RawPath,
        children: Vec<OsString>,
        depth: usize,
    ) -> Result<(), WalkError> {
        for name in children {
            let child_fs = fs_path.join(&name);
            let child = path.join(name.as_bytes());
            let child_meta = match std::fs::symlink_metadata(&child_fs) {
                Ok(m) => m,
                Err(e) => {
                    self.visitor
                        .warn(&child, format!("vanished before it was read: {e}"))?;
                    continue;
                }
            };
            if self
                .excludes
                .excluded(&child_fs, &child, child_meta.is_dir())
            {
                continue;
            }
            self.node(&child_fs, child, child_meta, depth + 1)?;
        }
        Ok(())
    }
}

/// The names in a directory, sorted by their bytes. On an error, the
/// names read until then and the error.
fn list_dir(dir: &Path) -> Result<Vec<OsString>, (Vec<OsString>, std::io::Error)> {
    let mut names = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| (Vec::new(), e))?;
    let mut failed = None;
    for e in rd {
        match e {
            Ok(e) => names.push(e.file_name()),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    match failed {
        None => Ok(names),
        Some(e) => Err((names, e)),
    }
}

/// Compares two snapshot paths in walk order: component by component,
/// each by its bytes (`a/b` before `a-c`, although `-` sorts before `/`).
pub fn walk_order(a: &[u8], b: &[u8]) -> Ordering {
    let mut x = a.split(|&c| c == b'/');
    let mut y = b.split(|&c| c == b'/');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => match p.cmp(q) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect {
        seen: Vec<(String, bool)>,
        warnings: Vec<String>,
        notes: Vec<String>,
    }

    impl Visitor for Collect {
        fn visit(&mut self, node: &Node<'_>) -> Result<(), WalkError> {
            self.seen.push((node.path.to_string(), node.incomplete));
            Ok(())
        }
        fn warn(&mut self, path: &RawPath, message: String) -> Result<(), WalkError> {
            self.warnings.push(format!("{path}: {message}"));
            Ok(())
        }
        fn note(&mut self, message: String) {
            self.notes.push(message);
        }
    }

    fn collect(sources: &[PathBuf], options: &WalkOptions) -> Collect {
        let sources = check_sources(sources).unwrap();
        let mut c = Collect {
            seen: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
        };
        walk(&sources, options, &mut c).unwrap();
        c
    }

    #[test]
    fn walk_order_is_component_wise() {
        assert_eq!(walk_order(b"a/b", b"a-c"), Ordering::Less);
        assert_eq!(walk_order(b"a", b"a/b"), Ordering::Less);
        assert_eq!(walk_order(b"a/b", b"a/b"), Ordering::Equal);
        assert_eq!(walk_order(b"b", b"a/z"), Ordering::Greater);
        let mut paths = vec!["d/a-c", "d/a/b", "d", "d/a", "d/a.x"];
        paths.sort_by(|a, b| walk_order(a.as_bytes(), b.as_bytes()));
        assert_eq!(paths, ["d", "d/a", "d/a/b", "d/a-c", "d/a.x"]);
    }

    #[test]
    fn sources_are_checked_before_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = check_sources(std::slice::from_ref(&missing)).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::create_dir_all(dir.path().join("x/data")).unwrap();
        std::fs::create_dir_all(dir.path().join("y/data")).unwrap();
        let err =
            check_sources(&[dir.path().join("x/data"), dir.path().join("y/data")]).unwrap_err();
        assert!(matches!(err, WalkError::DuplicateBaseName { .. }), "{err}");
        nix::unistd::mkfifo(&dir.path().join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = check_sources(&[dir.path().join("fifo")]).unwrap_err();
        assert!(err.to_string().contains("named pipe"), "{err}");
    }

    #[test]
    fn a_symlink_source_is_followed_and_said_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("real/sub")).unwrap();
        std::fs::write(dir.path().join("real/sub/f"), b"x").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let c = collect(&[dir.path().join("link")], &WalkOptions::default());
        let paths: Vec<&str> = c.seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["link", "link/sub", "link/sub/f"]);
        assert_eq!(c.notes.len(), 1);
        assert!(c.notes[0].contains("symbolic link"), "{:?}", c.notes);
        // A dangling one is refused up front.
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        assert!(check_sources(&[dir.path().join("dangling")]).is_err());
    }
}
