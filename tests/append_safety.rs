//! No committed backup is lost when a job appends to a tape, reuses an
//! expired one or relabels one, whatever happens in between (emulated
//! library, real CDBs):
//!
//! - a power-on reset (UNIT ATTENTION 29/00) before EVERY command of an
//!   appending job (every index, no stride): the earlier backup always
//!   survives and restores byte-identical; the catalog lists only what the
//!   tape holds; a job that says OK restores too;
//! - a catalog restored from an older copy, then a backup: the newer
//!   snapshot the copy did not know still restores (its archives are
//!   imported from the tape before anything is appended);
//! - reusing an expired tape and `label --force` with the job stopped at
//!   every command (an injected timeout): the catalog never lists data the
//!   tape no longer holds (forget before overwrite).

mod restore_util;
mod sweep_util;

use std::path::{Path, PathBuf};

use pbs_tape::emulator::fault::FaultKind;
use pbs_tape::emulator::library::Library;
use ptape::backup::{run_backup, BackupError, BackupResult};
use ptape::catalog::Catalog;
use ptape::inventory::label_tape;
use ptape::pool::{create_pool, Moment, PoolSettings};
use ptape::restore::{run_restore, RestoreOptions};
use ptape::writer::NoEvents;
use restore_util::{assert_same_tree, backup_options, MIB};
use sweep_util::{error_chain, Lab, Setup};

/// A count no job reaches: armed to count commands without firing.
const NEVER: u64 = 1 << 40;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the catalog database (consistent, WAL included) at `path`.
fn copy_catalog(catalog: &Catalog, path: &Path) {
    let _ = std::fs::remove_file(path);
    catalog
        .connection()
        .execute("VACUUM INTO ?1", [path.to_str().unwrap()])
        .unwrap();
}

/// A second source tree (other data than the lab's), next to its first.
fn second_tree(lab: &Lab) -> PathBuf {
    let root = lab.src.parent().unwrap().parent().unwrap().join("src-b");
    if !root.exists() {
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("b.bin"), restore_util::random_bytes(700_000, 42)).unwrap();
        std::fs::write(root.join("note"), b"second tree\n").unwrap();
    }
    root
}

/// The lab in a new directory: same library state and catalog; the
/// sources stay where they are (the fork must not outlive `lab`).
fn fork(lab: &Lab) -> Lab {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&lab.tmp.path().join("lib"), &tmp.path().join("lib"));
    copy_catalog(&lab.catalog, &tmp.path().join("catalog.db"));
    Lab {
        lib: Library::open(&tmp.path().join("lib")).unwrap(),
        src: lab.src.clone(),
        catalog: Catalog::open(&tmp.path().join("catalog.db")).unwrap(),
        tmp,
    }
}

/// Backs up the second tree as snapshot id `id` into `pool`.
fn backup_b(lab: &mut Lab, pool: &str, id: &str) -> Result<BackupResult, BackupError> {
    let src = second_tree(lab);
    let mut options = backup_options(&src, id);
    options.pool = pool.to_string();
    options.hash_workers = 2;
    run_backup(lab.devices(), &mut lab.catalog, &options, &mut NoEvents)
}

/// Restores `snapshot` and compares it with `src` (the backed-up directory).
fn restore_same(lab: &Lab, snapshot: &str, src: &Path, context: &str) {
    let out = lab.tmp.path().join(format!(
        "restore-{}-{}",
        snapshot.replace('/', "_"),
        context.replace(' ', "_")
    ));
    run_restore(
        lab.devices(),
        &lab.catalog,
        &RestoreOptions::new(snapshot, &out),
        &mut NoEvents,
    )
    .unwrap_or_else(|e| {
        panic!(
            "{context}: restore of {snapshot} failed: {}",
            error_chain(&e)
        )
    });
    let name = src.file_name().unwrap();
    assert_same_tree(src, &out.join(name));
}

/// Drive commands a clean run of `job` issues on a fork of `base`.
fn count_commands(base: &Lab, job: impl Fn(&mut Lab) -> bool) -> u64 {
    let mut lab = fork(base);
    lab.arm(FaultKind::Timeout, NEVER);
    assert!(job(&mut lab), "the clean run must succeed");
    let left = lab.lib.read_state().unwrap().faults[0].after;
    NEVER - left
}

fn small_setup() -> Setup {
    Setup {
        tapes: 2,
        capacity: 64 * MIB,
        early_warning: MIB,
        large: 600 * 1024,
        short_position: false,
    }
}

#[test]
fn a_reset_before_any_command_of_an_append_never_loses_the_earlier_backup() {
    let mut base = Lab::new(small_setup());
    let a = base.backup("a").unwrap();
    second_tree(&base);
    let commands = count_commands(&base, |lab| backup_b(lab, "default", "b").is_ok());
    assert!(
        commands > 20,
        "an append job issues more than {commands} commands"
    );
    let mut failed = 0;
    for after in 0..=commands {
        let context = format!("power loss after {after} of {commands} commands");
        let mut lab = fork(&base);
        lab.arm(FaultKind::PowerLoss, after);
        let result = backup_b(&mut lab, "default", "b");
        lab.lib.clear_faults().unwrap();
        // The earlier backup is intact whatever happened.
        lab.verify_catalog_against_tapes(&context);
        restore_same(&lab, &a.snapshot, &lab.src.clone(), &context);
        match result {
            Ok(b) => restore_same(&lab, &b.snapshot, &second_tree(&lab), &context),
            Err(e) => {
                failed += 1;
                assert!(
                    lab.snapshot_names().iter().all(|s| !s.contains("/b/")),
                    "{context}: a failed job lists its snapshot ({})",
                    error_chain(&e)
                );
            }
        }
    }
    assert!(failed > 0, "no injected reset failed the job");
}

#[test]
fn a_stale_catalog_never_overwrites_the_backups_it_does_not_know() {
    let mut lab = Lab::new(small_setup());
    let a = lab.backup("a").unwrap();
    let copy = lab.tmp.path().join("catalog-copy.db");
    copy_catalog(&lab.catalog, &copy);
    let b = backup_b(&mut lab, "default", "b").unwrap();
    // The administrator puts the old copy back.
    let path = lab.tmp.path().join("catalog.db");
    lab.catalog = Catalog::open_in_memory().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(&copy, &path).unwrap();
    lab.catalog = Catalog::open(&path).unwrap();
    assert_eq!(lab.snapshot_names(), vec![a.snapshot.clone()]);
    // A third backup (of changed data) appends after b, not over it.
    std::fs::write(lab.src.join("new-file"), b"changed\n").unwrap();
    let c = lab.backup("c").unwrap();
    let names = lab.snapshot_names();
    assert!(names.contains(&b.snapshot), "{names:?}");
    lab.verify_catalog_against_tapes("after the stale catalog");
    restore_same(&lab, &b.snapshot, &second_tree(&lab), "b");
    restore_same(&lab, &c.snapshot, &lab.src.clone(), "c");
    // a's tree has no new-file: compare against a copy without it.
    std::fs::remove_file(lab.src.join("new-file")).unwrap();
    restore_same(&lab, &a.snapshot, &lab.src.clone(), "a");
}

/// A lab whose pool "p" (retention 1 day) holds one closed media set, made
/// two days ago, on SW0001L9; SW0002L9 is not in the library, so the next
/// backup of "p" can only reuse SW0001L9.
fn expired_set_lab() -> (Lab, BackupResult) {
    let mut lab = Lab::new(Setup {
        tapes: 1,
        ..small_setup()
    });
    let settings = PoolSettings {
        retention: "1d".parse().unwrap(),
        ..PoolSettings::default()
    };
    create_pool(&lab.catalog, "p", settings, 0).unwrap();
    let mut options = lab.options("a");
    options.pool = "p".into();
    let a = run_backup(lab.devices(), &mut lab.catalog, &options, &mut NoEvents).unwrap();
    let two_days_ago = ptape::catalog::now_epoch() - 2 * 86_400;
    lab.catalog
        .connection()
        .execute(
            "UPDATE media_sets SET status = 'closed', created = ?1",
            [two_days_ago],
        )
        .unwrap();
    second_tree(&lab);
    (lab, a)
}

/// Every snapshot row restores and every catalog row is on tape.
fn catalog_matches_tapes(lab: &Lab, context: &str, a: &BackupResult) {
    lab.verify_catalog_against_tapes(context);
    if lab.snapshot_names().contains(&a.snapshot) {
        restore_same(lab, &a.snapshot, &lab.src.clone(), context);
    }
}

#[test]
fn reusing_an_expired_tape_forgets_its_set_before_writing() {
    let (base, a) = expired_set_lab();
    let commands = count_commands(&base, |lab| backup_b(lab, "p", "b").is_ok());
    for after in 0..=commands {
        let context = format!("stopped after {after} of {commands} commands");
        let mut lab = fork(&base);
        lab.arm(FaultKind::Timeout, after);
        let result = backup_b(&mut lab, "p", "b");
        lab.lib.clear_faults().unwrap();
        catalog_matches_tapes(&lab, &context, &a);
        if let Ok(b) = result {
            assert!(!lab.snapshot_names().contains(&a.snapshot), "{context}");
            restore_same(&lab, &b.snapshot, &second_tree(&lab), &context);
        }
        // A clean re-run reuses the tape.
        let b = backup_b(&mut lab, "p", "rerun")
            .unwrap_or_else(|e| panic!("{context}: re-run: {}", error_chain(&e)));
        restore_same(&lab, &b.snapshot, &second_tree(&lab), &context);
    }
}

#[test]
fn label_force_forgets_the_tape_before_writing() {
    let (base, a) = expired_set_lab();
    let relabel = |lab: &mut Lab| {
        let mut devices = lab.devices();
        let now = Moment::utc(ptape::catalog::now_epoch());
        label_tape(&mut devices, &lab.catalog, "SW0001L9", None, true, &now).is_ok()
    };
    let commands = count_commands(&base, relabel);
    for after in 0..=commands {
        let context = format!("label --force stopped after {after} of {commands} commands");
        let mut lab = fork(&base);
        lab.arm(FaultKind::Timeout, after);
        let done = relabel(&mut lab);
        lab.lib.clear_faults().unwrap();
        catalog_matches_tapes(&lab, &context, &a);
        if done {
            assert!(lab.snapshot_names().is_empty(), "{context}");
        }
    }
}
