//! What a backup leaves out: gitignore-style patterns from `--exclude`,
//! `--exclude-from FILE` and per-directory `.ptapeignore` files (matched
//! by the `ignore` crate's gitignore implementation, the one ripgrep uses).
//!
//! Pattern rules are gitignore's: a pattern without a slash matches a name
//! at any depth (`*.o`, `node_modules`); a pattern with a slash in front or
//! in the middle is anchored (`/data/tmp`, `build/*.log`); a trailing
//! slash matches only directories (`cache/`); `**` spans directories; a
//! leading `!` re-includes what an earlier pattern excluded; `#` starts a
//! comment line. `--exclude` and `--exclude-from` patterns are anchored at
//! the snapshot's root, where each source appears under its base name
//! (`/home/alice/docs` is `docs`, so `--exclude /docs/tmp`). A
//! `.ptapeignore` file applies to its own directory and everything below;
//! its patterns are anchored there, and they take precedence over the
//! command line's (a deeper file over a shallower one), as in git.
//! An excluded directory is not descended into; the `.ptapeignore` file
//! itself is backed up.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

use crate::stream::entry::RawPath;

/// Name of the per-directory exclude file.
pub const IGNORE_FILE: &str = ".ptapeignore";

/// A pattern list that failed to parse.
#[derive(Debug, thiserror::Error)]
pub enum ExcludeError {
    #[error("invalid exclude pattern {pattern:?}: {message}")]
    Pattern { pattern: String, message: String },
    #[error("cannot read exclude file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The command line's exclude patterns (`--exclude`, `--exclude-from`).
#[derive(Debug, Clone, Default)]
pub struct Excludes {
    patterns: Vec<String>,
    matcher: Option<Gitignore>,
}

/// The snapshot's path space is rooted here for matching (any absolute
/// directory works: it is never touched).
const ROOT: &str = "/";

impl Excludes {
    /// Compiles `patterns` (one gitignore line each).
    pub fn new(patterns: &[String]) -> Result<Excludes, ExcludeError> {
        if patterns.is_empty() {
            return Ok(Excludes::default());
        }
        let mut builder = GitignoreBuilder::new(ROOT);
        for p in patterns {
            builder
                .add_line(None, p)
                .map_err(|e| ExcludeError::Pattern {
                    pattern: p.clone(),
                    message: e.to_string(),
                })?;
        }
        let matcher = builder.build().map_err(|e| ExcludeError::Pattern {
            pattern: patterns.join(" "),
            message: e.to_string(),
        })?;
        Ok(Excludes {
            patterns: patterns.to_vec(),
            matcher: Some(matcher),
        })
    }

    /// The patterns of `--exclude-from FILE`: one per line, blank lines
    /// and `#` comments ignored (as in a `.gitignore`).
    pub fn read_pattern_file(path: &Path) -> Result<Vec<String>, ExcludeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExcludeError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect())
    }

    /// The patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// How the command line's patterns judge snapshot path `path`.
    fn judge(&self, path: &RawPath, is_dir: bool) -> Match<()> {
        match &self.matcher {
            Some(m) => m
                .matched(Path::new(ROOT).join(path.as_path()), is_dir)
                .map(|_| ()),
            None => Match::None,
        }
    }
}

/// The exclude rules in force while walking: the command line's plus the
/// `.ptapeignore` files of the directories being walked.
#[derive(Debug)]
pub struct ExcludeStack<'a> {
    base: &'a Excludes,
    /// (directory depth of the stack entry, its matcher), deepest last.
    files: Vec<(usize, Gitignore)>,
}

impl<'a> ExcludeStack<'a> {
    pub fn new(base: &'a Excludes) -> Self {
        ExcludeStack {
            base,
            files: Vec::new(),
        }
    }

    /// Entering directory `dir` at `depth`: reads its `.ptapeignore`.
    /// Returns a warning message when the file exists but cannot be used.
    pub fn enter(&mut self, dir: &Path, depth: usize) -> Option<String> {
        let file = dir.join(IGNORE_FILE);
        match std::fs::symlink_metadata(&file) {
            Ok(m) if m.is_file() => {}
            _ => return None,
        }
        let mut builder = GitignoreBuilder::new(dir);
        if let Some(e) = builder.add(&file) {
            return Some(format!("{IGNORE_FILE}: {e}: ignored"));
        }
        match builder.build() {
            Ok(g) => {
                self.files.push((depth, g));
                None
            }
            Err(e) => Some(format!("{IGNORE_FILE}: {e}: ignored")),
        }
    }

    /// Leaving the directory at `depth`.
    pub fn leave(&mut self, depth: usize) {
        while self.files.last().is_some_and(|(d, _)| *d >= depth) {
            self.files.pop();
        }
    }

    /// True when the object at `fs_path` (snapshot path `path`) is left out.
    pub fn excluded(&self, fs_path: &Path, path: &RawPath, is_dir: bool) -> bool {
        for (_, g) in self.files.iter().rev() {
            match g.matched(fs_path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        matches!(self.base.judge(path, is_dir), Match::Ignore(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(p: &str) -> RawPath {
        RawPath(p.as_bytes().to_vec())
    }

    #[test]
    fn command_line_patterns_follow_gitignore_rules() {
        let ex = Excludes::new(&[
            "*.o".into(),
            "/data/tmp".into(),
            "cache/".into(),
            "!keep.o".into(),
            "**/logs/**/*.log".into(),
        ])
        .unwrap();
        let stack = ExcludeStack::new(&ex);
        let x = |p: &str, dir: bool| stack.excluded(Path::new("/nowhere"), &raw(p), dir);
        assert!(x("data/a/b.o", false));
        assert!(!x("data/a/keep.o", false));
        assert!(x("data/tmp", true));
        assert!(!x("data/x/tmp", true), "anchored at the root");
        assert!(x("data/cache", true));
        assert!(!x("data/cache", false), "trailing slash: directories only");
        assert!(x("data/logs/a/b/c.log", false));
        assert!(!x("data/logs.txt", false));
    }

    #[test]
    fn ptapeignore_files_apply_below_their_directory_and_win() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("data");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(
            d.join("sub").join(IGNORE_FILE),
            "*.tmp\n!wanted.o\n/only-here\n",
        )
        .unwrap();
        let ex = Excludes::new(&["*.o".into()]).unwrap();
        let mut stack = ExcludeStack::new(&ex);
        assert!(stack.enter(&d, 0).is_none());
        assert!(stack.enter(&d.join("sub"), 1).is_none());
        let x = |s: &ExcludeStack, rel: &str, dir: bool| {
            s.excluded(&d.join(rel), &raw(&format!("data/{rel}")), dir)
        };
        assert!(x(&stack, "sub/a.tmp", false));
        assert!(x(&stack, "sub/deeper/a.tmp", false));
        assert!(x(&stack, "sub/only-here", false));
        assert!(!x(&stack, "sub/deeper/only-here", false));
        assert!(!x(&stack, "sub/wanted.o", false), "the deeper file wins");
        assert!(x(&stack, "sub/other.o", false));
        stack.leave(1);
        assert!(!x(&stack, "b.tmp", false));
    }

    #[test]
    fn bad_patterns_are_named() {
        let err = Excludes::new(&["{a".into()]).unwrap_err();
        assert!(err.to_string().contains("{a"), "{err}");
    }
}
