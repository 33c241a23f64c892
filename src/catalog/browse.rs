//! Browsing snapshots through the local file index, without a tape:
//! `ptape catalog ls SNAPSHOT [PATH]` and `ptape catalog find GLOB`.

use serde::Serialize;

use super::file_index::{FileIndex, FileIndexError};
use super::{Catalog, CatalogError, SnapshotRecord};
use crate::stream::entry::{Entry, Kind};
use crate::stream::walk::walk_order;

/// Errors of browsing.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error("snapshot {snapshot}: {source}")]
    Index {
        snapshot: String,
        #[source]
        source: FileIndexError,
    },
    #[error("no snapshot named {0:?} in the catalog (see ptape snapshots)")]
    UnknownSnapshot(String),
    #[error("the catalog is in memory: it has no file index")]
    NoIndex,
    #[error("{path:?} is not a directory of snapshot {snapshot}")]
    NotADirectory { snapshot: String, path: String },
    #[error("invalid pattern {pattern:?}: {message}")]
    Pattern { pattern: String, message: String },
}

/// One entry as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub name: String,
    /// dir, file, symlink, hardlink, fifo, char-device, block-device, socket.
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
    /// RFC 3339, UTC, to the second.
    pub mtime: String,
    /// Permission bits in octal (`0644`).
    pub mode: String,
    /// The entry was read with a warning (its contents may be partial).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
}

/// One match of `find`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub snapshot: String,
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
    pub mtime: String,
}

fn mtime_text(e: &Entry) -> String {
    jiff::Timestamp::from_second(e.mtime.0)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| e.mtime.0.to_string())
}

fn listing(name: &[u8], e: &Entry) -> Listing {
    Listing {
        name: String::from_utf8_lossy(name).into_owned(),
        kind: e.kind.name().to_string(),
        size: e.size,
        mtime: mtime_text(e),
        mode: format!("{:04o}", e.mode),
        incomplete: e.incomplete,
    }
}

fn index_of(catalog: &Catalog) -> Result<FileIndex, BrowseError> {
    catalog.file_index().ok_or(BrowseError::NoIndex)
}

fn snapshot(catalog: &Catalog, name: &str) -> Result<SnapshotRecord, BrowseError> {
    catalog
        .snapshot(name)?
        .ok_or_else(|| BrowseError::UnknownSnapshot(name.to_string()))
}

/// The entries directly in `path` of snapshot `name` (`path` empty or
/// `/`: the snapshot's top level, one entry per source), in walk order.
pub fn list(catalog: &Catalog, name: &str, path: &str) -> Result<Vec<Listing>, BrowseError> {
    let index = index_of(catalog)?;
    let record = snapshot(catalog, name)?;
    let dir = path.trim_matches('/').as_bytes().to_vec();
    let err = |source| BrowseError::Index {
        snapshot: name.to_string(),
        source,
    };
    let mut out = Vec::new();
    let mut found_dir = dir.is_empty();
    for e in index.entries(record.archive).map_err(err)? {
        let e = e.map_err(err)?;
        let p = &e.path.0;
        if !dir.is_empty() && p == &dir {
            if e.kind != Kind::Dir {
                break;
            }
            found_dir = true;
            continue;
        }
        let parent_ok = if dir.is_empty() {
            !p.contains(&b'/')
        } else {
            p.len() > dir.len() + 1 && p.starts_with(&dir) && p[dir.len()] == b'/'
        };
        if parent_ok {
            let name = &p[if dir.is_empty() { 0 } else { dir.len() + 1 }..];
            if !name.contains(&b'/') {
                out.push(listing(name, &e));
            }
        } else if found_dir
            && !dir.is_empty()
            && walk_order(p, &dir) == std::cmp::Ordering::Greater
            && !p.starts_with(&dir)
        {
            // Past the directory's subtree (walk order).
            break;
        }
    }
    if !found_dir {
        return Err(BrowseError::NotADirectory {
            snapshot: name.to_string(),
            path: path.to_string(),
        });
    }
    Ok(out)
}

/// Paths matching `pattern` in one snapshot (`Some`) or all indexed
/// snapshots. A pattern with a `/` matches whole paths (`data/**/*.pdf`),
/// one without matches names at any depth (`*.pdf`); `*` and `?` do not
/// cross `/`, `**` does.
pub fn find(
    catalog: &Catalog,
    only: Option<&str>,
    pattern: &str,
) -> Result<Vec<Found>, BrowseError> {
    let index = index_of(catalog)?;
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| BrowseError::Pattern {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })?
        .compile_matcher();
    let whole = pattern.contains('/');
    let snapshots = match only {
        Some(name) => vec![snapshot(catalog, name)?],
        None => catalog.snapshots(None)?,
    };
    let mut out = Vec::new();
    for s in snapshots {
        let err = |source| BrowseError::Index {
            snapshot: s.name.clone(),
            source,
        };
        let entries = match index.entries(s.archive) {
            Ok(e) => e,
            // Across all snapshots, one without an index is skipped.
            Err(FileIndexError::Missing) if only.is_none() => continue,
            Err(e) => return Err(err(e)),
        };
        for e in entries {
            let e = e.map_err(err)?;
            let p = &e.path.0;
            let subject = if whole {
                &p[..]
            } else {
                p.rsplit(|&b| b == b'/').next().unwrap_or(p)
            };
            let subject = std::path::Path::new(std::ffi::OsStr::from_bytes(subject));
            if glob.is_match(subject) {
                out.push(Found {
                    snapshot: s.name.clone(),
                    path: e.path.to_string(),
                    kind: e.kind.name().to_string(),
                    size: e.size,
                    mtime: mtime_text(&e),
                });
            }
        }
    }
    Ok(out)
}

use std::os::unix::ffi::OsStrExt;
