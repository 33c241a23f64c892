//! Incremental backups through the emulated library: files unchanged since
//! the previous snapshot of the same pool and id (size, mtime, ctime,
//! inode) are not read, their payload chunks are taken over from the
//! reference, and every generation restores byte for byte.

mod restore_util;

use std::path::{Path, PathBuf};

use ptape::backup::{run_backup, BackupOptions, BackupResult};
use ptape::catalog::Catalog;
use ptape::chunking::ChunkerConfig;
use ptape::restore::{run_restore, RestoreOptions, RestoreResult};
use ptape::schedule::Clock;
use ptape::writer::NoEvents;
use rand::{Rng, SeedableRng};
use restore_util::{backup_options, library_devices, make_library, random_bytes, MIB};

struct Lab {
    tmp: tempfile::TempDir,
    lib: pbs_tape::emulator::library::Library,
    catalog: Catalog,
    /// Backups so far (each gets its own second: snapshot names differ).
    runs: i64,
}

fn chunker() -> ChunkerConfig {
    ChunkerConfig {
        min: 16 * 1024,
        avg: 64 * 1024,
        max: 256 * 1024,
    }
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("lib"), 2, 512 * MIB);
        let catalog = Catalog::open(&tmp.path().join("catalog.db")).unwrap();
        Lab {
            tmp,
            lib,
            catalog,
            runs: 0,
        }
    }

    fn options(&mut self, src: &Path, id: &str) -> BackupOptions {
        let mut o = backup_options(src, id);
        o.chunker = chunker();
        self.runs += 1;
        let now = jiff::Timestamp::now().as_second() + 60 * self.runs;
        o.clock = Clock::Fixed(jiff::Timestamp::from_second(now).unwrap());
        o
    }

    fn run(&mut self, o: &BackupOptions) -> BackupResult {
        run_backup(
            library_devices(&self.lib),
            &mut self.catalog,
            o,
            &mut NoEvents,
        )
        .unwrap()
    }

    fn backup(&mut self, src: &Path, id: &str) -> BackupResult {
        let o = self.options(src, id);
        self.run(&o)
    }

    fn restore(&self, snapshot: &str, out: &str, paths: &[&str]) -> RestoreResult {
        let mut o = RestoreOptions::new(snapshot, &self.tmp.path().join(out));
        o.paths = paths.iter().map(|p| p.to_string()).collect();
        let r = run_restore(library_devices(&self.lib), &self.catalog, &o, &mut NoEvents).unwrap();
        assert!(r.damaged.is_empty(), "{:?}", r.damaged);
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
}

/// `n` files of 100 to 40,000 bytes in 20 directories; returns their bytes.
fn tree(root: &Path, n: u64) -> u64 {
    let mut total = 0;
    for i in 0..n {
        let dir = root.join(format!("d{:02}", i % 20));
        std::fs::create_dir_all(&dir).unwrap();
        let len = 100 + (i * 2_654_435_761 % 39_901) as usize;
        std::fs::write(dir.join(format!("f{i:05}")), random_bytes(len, i + 1)).unwrap();
        total += len as u64;
    }
    total
}

#[test]
fn an_unchanged_tree_is_not_read_again_and_restores() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    let bytes = tree(&src, 1500);
    let first = lab.backup(&src, "inc");
    assert_eq!(first.reference, None);
    assert_eq!(first.read_bytes, bytes);
    let second = lab.backup(&src, "inc");
    assert_eq!(second.reference.as_deref(), Some(first.snapshot.as_str()));
    assert_eq!(second.read_bytes, 0, "{second:?}");
    assert_eq!(second.reused_files, 1500);
    // The same payload chunks, the same metadata: nothing new on tape.
    assert_eq!(second.chunks_written, 0, "{second:?}");
    assert_eq!(second.reused_bytes, bytes);
    let r = lab.restore(&second.snapshot, "out", &[]);
    assert_eq!(r.files, 1500);
    restore_util::assert_same_tree(&src, &lab.path("out/data"));

    // --full-read reads every file again (and still writes nothing new).
    let mut o = lab.options(&src, "inc");
    o.full_read = true;
    let third = lab.run(&o);
    assert_eq!(third.reference, None);
    assert_eq!(third.read_bytes, bytes);
    assert_eq!(third.chunks_written, 0);
}

#[test]
fn one_changed_file_is_read_and_everything_else_reused() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    let bytes = tree(&src, 1500);
    lab.backup(&src, "inc");
    // Same size, new bytes, in the middle of the tree; and one new file.
    let victim = src.join("d10/f00750");
    let len = std::fs::metadata(&victim).unwrap().len() as usize;
    std::fs::write(&victim, random_bytes(len, 424_242)).unwrap();
    std::fs::write(src.join("d03/new"), random_bytes(5000, 31)).unwrap();
    let second = lab.backup(&src, "inc");
    assert_eq!(second.read_bytes, len as u64 + 5000, "{second:?}");
    assert_eq!(second.reused_files, 1499);
    // New data: the two files read and the metadata chunks after them.
    assert!(
        second.bytes_written <= 2 * u64::from(chunker().max) + 3 * u64::from(chunker().max),
        "{second:?}"
    );
    // Padding: at most the chunks around the two changes.
    assert!(
        second.reused_bytes <= bytes + 4 * u64::from(chunker().max),
        "{second:?}"
    );
    lab.restore(&second.snapshot, "out", &[]);
    restore_util::assert_same_tree(&src, &lab.path("out/data"));
    // A single path from the middle restores from the reused chunks.
    let one = lab.restore(&second.snapshot, "one", &["data/d10/f00730"]);
    assert_eq!(one.files, 1);
    assert_eq!(
        std::fs::read(lab.path("one/data/d10/f00730")).unwrap(),
        std::fs::read(src.join("d10/f00730")).unwrap()
    );
}

#[test]
fn chunks_outside_the_current_media_set_are_never_reused() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    let bytes = tree(&src, 300);
    lab.backup(&src, "inc");
    let mut o = lab.options(&src, "inc");
    o.new_media_set = true;
    let second = lab.run(&o);
    assert_eq!(second.reused_files, 0);
    assert_eq!(second.read_bytes, bytes);
    assert!(second.chunks_written > 0);
    lab.restore(&second.snapshot, "out", &[]);
    restore_util::assert_same_tree(&src, &lab.path("out/data"));
}

#[test]
fn a_snapshot_of_another_id_is_no_reference() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    let bytes = tree(&src, 100);
    lab.backup(&src, "one");
    let other = lab.backup(&src, "two");
    assert_eq!(other.reference, None);
    assert_eq!(other.read_bytes, bytes);
}

/// Generations of random changes (edits that keep or change the size,
/// deletions, new files, renames, hard links, touched mtimes, a file
/// replaced by another with the same size and mtime): every generation
/// restores exactly, runs taken over or declined alike.
#[test]
fn generations_of_random_changes_restore_exactly() {
    let mut lab = Lab::new();
    let src = lab.path("src/data");
    tree(&src, 600);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut files: Vec<PathBuf> = walk_files(&src);
    let mut reused_any = false;
    let mut previous: Option<BackupResult> = None;
    for generation in 0..6u64 {
        let b = lab.backup(&src, "gen");
        if let Some(p) = &previous {
            assert_eq!(b.reference.is_some(), b.reused_files > 0);
            assert!(b.reused_files == 0 || b.reference.as_deref() == Some(p.snapshot.as_str()));
        }
        reused_any |= b.reused_files > 0;
        eprintln!(
            "gen {generation}: files {} reused {} read {} reused_bytes {} written {}",
            b.files, b.reused_files, b.read_bytes, b.reused_bytes, b.bytes_written
        );
        let out = format!("out{generation}");
        lab.restore(&b.snapshot, &out, &[]);
        restore_util::assert_same_tree(&src, &lab.path(&out).join("data"));
        previous = Some(b);
        // Change about one file in ten.
        for _ in 0..files.len() / 10 {
            let k = rng.gen_range(0..files.len());
            let f = files[k].clone();
            match rng.gen_range(0..7) {
                0 => {
                    let len = std::fs::metadata(&f).unwrap().len() as usize;
                    std::fs::write(&f, random_bytes(len, rng.gen())).unwrap();
                }
                1 => {
                    let len = rng.gen_range(0..60_000);
                    std::fs::write(&f, random_bytes(len, rng.gen())).unwrap();
                }
                2 => {
                    std::fs::remove_file(&f).unwrap();
                    files.swap_remove(k);
                }
                3 => {
                    let new = f.with_file_name(format!("n{}", rng.gen::<u32>()));
                    std::fs::write(&new, random_bytes(rng.gen_range(1..30_000), 5)).unwrap();
                    files.push(new);
                }
                4 => {
                    let link = f.with_file_name(format!("h{}", rng.gen::<u32>()));
                    std::fs::hard_link(&f, &link).unwrap();
                    files.push(link);
                }
                5 => {
                    let to = f.with_file_name(format!("r{}", rng.gen::<u32>()));
                    std::fs::rename(&f, &to).unwrap();
                    files[k] = to;
                }
                _ => {
                    // Another file of the same size and mtime in its place
                    // (a new inode): must be read.
                    let meta = std::fs::metadata(&f).unwrap();
                    let tmp = f.with_extension("tmp");
                    std::fs::write(&tmp, random_bytes(meta.len() as usize, rng.gen())).unwrap();
                    std::fs::File::options()
                        .write(true)
                        .open(&tmp)
                        .unwrap()
                        .set_modified(meta.modified().unwrap())
                        .unwrap();
                    std::fs::rename(&tmp, &f).unwrap();
                }
            }
        }
    }
    assert!(reused_any, "no generation reused anything");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
