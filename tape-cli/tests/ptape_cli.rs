//! `ptape` driven as a process: configuration commands, pools, labelling,
//! backups against the embedded (or a pre-built) emulated library,
//! spanning, and a backup that fails on an injected write error.

mod cli_util;
#[path = "../../tests/restore_util/mod.rs"]
mod restore_util;

use std::ops::Deref;
use std::path::{Path, PathBuf};

use cli_util::{pseudo_random, Ptape};
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::Library;
use restore_util::{make_named_library, MIB};
use serde_json::Value;

/// A fresh configuration and data directory for each test.
struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

impl Deref for Env {
    type Target = Ptape;

    fn deref(&self) -> &Ptape {
        &self.cli
    }
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli }
    }

    fn library_dir(&self) -> PathBuf {
        self.data_dir().join("library")
    }

    /// Builds the library ptape will use (instead of the embedded default).
    fn prebuilt_library(&self, tapes: usize, capacity: u64, cleaning: bool) -> Library {
        make_named_library(
            &self.library_dir(),
            tapes,
            capacity,
            "CL",
            "PTAPECLI",
            cleaning,
        )
    }

    /// A source tree: empty dir, small, 0-byte, unicode, sparse and large
    /// files, symlinks and a hard link.
    fn tree(&self, large: usize) -> PathBuf {
        let data = self.tmp.path().join("src").join("data");
        std::fs::create_dir_all(data.join("empty")).unwrap();
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("sub/small.txt"), b"small\n").unwrap();
        std::fs::write(data.join("zero"), b"").unwrap();
        std::fs::write(data.join("ünïcødé ✓.txt"), "x\n").unwrap();
        std::fs::write(data.join("large.bin"), pseudo_random(large, 42)).unwrap();
        std::fs::File::create(data.join("sparse"))
            .unwrap()
            .set_len(2 * MIB + 3)
            .unwrap();
        std::os::unix::fs::symlink("sub/small.txt", data.join("link")).unwrap();
        std::fs::hard_link(data.join("sub/small.txt"), data.join("hard")).unwrap();
        data
    }
}

fn small_chunks() -> [&'static str; 6] {
    [
        "--chunk-min",
        "16384",
        "--chunk-avg",
        "65536",
        "--chunk-max",
        "262144",
    ]
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn status_shows_the_embedded_default_before_first_use() {
    let env = Env::new();
    let s = env.json(&["status"]);
    assert_eq!(s["drive"]["embedded"], true);
    assert_eq!(s["embedded_library_exists"], false);
    assert_eq!(s["pools"], 1);
    assert_eq!(s["media"], 0);
    assert!(s["drive"]["path"]
        .as_str()
        .unwrap()
        .ends_with("library/drive0"));
}

#[test]
fn pools_drives_and_changers_are_configured() {
    let env = Env::new();
    env.ok(&[
        "pool",
        "create",
        "weekly",
        "--retention",
        "4w",
        "--allocation",
        "always-new",
    ]);
    let pools = env.json(&["pool", "list"]);
    let names: Vec<&str> = pools
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "weekly"]);
    assert_eq!(pools[1]["retention"], "4w");
    // The old spelling of allocation 'always' is still understood.
    assert_eq!(pools[1]["allocation"], "always");
    let err = env.fails(&["pool", "create", "weekly"]);
    assert!(err.contains("already exists"), "{err}");
    let err = env.fails(&["pool", "create", "x", "--retention", "soon"]);
    assert!(err.contains("invalid retention"), "{err}");

    env.ok(&["changer", "add", "lib1", "--path", "/dev/sg9"]);
    env.ok(&[
        "drive",
        "add",
        "lto",
        "--path",
        "/dev/sg8",
        "--changer",
        "lib1",
        "--changer-drivenum",
        "0",
    ]);
    let drives = env.json(&["drive", "list"]);
    assert_eq!(drives[0]["name"], "lto");
    assert_eq!(drives[0]["changer"], "lib1");
    assert!(drives[0].get("auto_clean").is_none());
    env.ok(&["drive", "update", "lto", "--auto-clean"]);
    assert_eq!(env.json(&["drive", "list"])[0]["auto_clean"], true);
    env.ok(&["drive", "update", "lto", "--auto-clean=false"]);
    assert!(env.json(&["drive", "list"])[0].get("auto_clean").is_none());
    let err = env.fails(&["drive", "update", "nope", "--auto-clean"]);
    assert!(err.contains("nope"), "{err}");
    let err = env.fails(&["changer", "remove", "lib1"]);
    assert!(err.contains("still used by drive"), "{err}");
    let err = env.fails(&["drive", "add", "bad", "--path", "/x", "--changer", "nope"]);
    assert!(err.contains("unknown changer"), "{err}");
    let s = env.json(&["status"]);
    assert_eq!(s["drive"]["path"], "/dev/sg8");
    assert_eq!(s["drive"]["changer_path"], "/dev/sg9");
    env.ok(&["drive", "remove", "lto"]);
    env.ok(&["changer", "remove", "lib1"]);
    assert_eq!(env.json(&["drive", "list"]), serde_json::json!([]));
}

#[test]
fn backup_to_embedded_library_then_dedup() {
    let env = Env::new();
    let src = env.tree(21 * MIB as usize);
    let mut args = vec!["backup", "--pool", "default", "--id", "first"];
    args.extend(small_chunks());
    args.push(path_str(&src));
    let out = env.ok(&args);
    assert!(out.starts_with("snapshot default/first/"), "{out}");
    assert!(env.json(&["status"])["embedded_library_exists"] == true);

    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps.as_array().unwrap().len(), 1);
    let snap = &snaps[0];
    assert_eq!(
        snap["total_bytes"],
        21 * MIB + 2 * MIB + 3 + 6 + "x\n".len() as u64
    );
    let media = env.json(&["media", "list"]);
    assert_eq!(media[0]["label"], "PT0001L9");
    assert_eq!(media[0]["media_set"], snap["media_set"]);
    assert_eq!(media[0]["status"], "writable");
    assert!(media[0]["bytes_used"].as_u64().unwrap() > 21 * MIB);

    let mut args = vec!["backup", "--id", "second"];
    args.extend(small_chunks());
    args.push(path_str(&src));
    args.extend(["--output-format", "json"]);
    let second: Value = serde_json::from_str(&env.ok(&args)).unwrap();
    assert_eq!(second["chunks_written"], 0);
    assert_eq!(second["bytes_written"], 0);
    assert_eq!(second["tapes"], serde_json::json!(["PT0001L9"]));
    assert_eq!(env.json(&["snapshots"]).as_array().unwrap().len(), 2);
}

#[test]
fn label_rules_and_cleaning_cartridges() {
    let env = Env::new();
    env.prebuilt_library(3, 512 * MIB, true);
    let m = env.json(&["label", "--barcode", "CL0001L9", "--pool", "default"]);
    assert_eq!(m["label"], "CL0001L9");
    assert_eq!(m["pool"], "default");
    let err = env.fails(&["label", "--barcode", "CL0001L9"]);
    assert!(err.contains("already labelled"), "{err}");
    let relabelled = env.json(&["label", "--barcode", "CL0001L9", "--force"]);
    assert_ne!(relabelled["uuid"], m["uuid"]);

    let all = env.json(&["label", "--all-unlabelled"]);
    let labels: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["CL0002L9", "CL0003L9"]);
    let media = env.json(&["media", "list"]);
    assert!(media
        .as_array()
        .unwrap()
        .iter()
        .all(|m| !m["label"].as_str().unwrap().starts_with("CLN")));
    let updated = env.json(&[
        "media",
        "update",
        "CL0003L9",
        "--status",
        "retired",
        "--location",
        "vault",
    ]);
    assert_eq!(updated["status"], "retired");
    assert_eq!(updated["location"], "vault");
    let out = env
        .ptape()
        .args(["media", "update", "CL0003L9", "--status", "lost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = env.fails(&["label", "--barcode", "CLN001L1"]);
    assert!(err.to_lowercase().contains("cleaning"), "{err}");

    // A tape in a live media set is never relabelled, even with --force.
    let src = env.tree(1024);
    env.ok(&["backup", "--id", "x", path_str(&src)]);
    let used = env.json(&["media", "list"]);
    let in_set = used
        .as_array()
        .unwrap()
        .iter()
        .find(|m| !m["media_set"].is_null())
        .unwrap();
    let label = in_set["label"].as_str().unwrap();
    let err = env.fails(&["label", "--barcode", label, "--force"]);
    assert!(err.contains("still live"), "{err}");
}

#[test]
fn backup_spans_three_small_tapes() {
    let env = Env::new();
    env.prebuilt_library(5, 10 * MIB, false);
    let src = env.tree(21 * MIB as usize);
    let mut args = vec!["backup", "--id", "span"];
    args.extend(small_chunks());
    args.push(path_str(&src));
    args.extend(["--output-format", "json"]);
    let result: Value = serde_json::from_str(&env.ok(&args)).unwrap();
    let tapes = result["tapes"].as_array().unwrap();
    assert!(tapes.len() >= 3, "{result}");
    let media = env.json(&["media", "list"]);
    let full = media
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["status"] == "full")
        .count();
    assert_eq!(full, tapes.len() - 1);
    let seqs: Vec<u64> = media
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["media_set"] == result["media_set"])
        .map(|m| m["seq_nr"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..tapes.len() as u64).collect::<Vec<_>>());
}

/// Arms `kind` on the drive after `after` matching commands, runs a
/// backup, and returns its error line; the job must fail with exit code 1
/// and leave no snapshot.
fn failing_backup(kind: FaultKind, after: u64) -> String {
    let env = Env::new();
    let lib = env.prebuilt_library(2, 512 * MIB, false);
    let src = env.tree(8 * MIB as usize);
    lib.arm_fault(FaultSpec {
        device: DeviceId::Drive(0),
        kind,
        after,
    })
    .unwrap();
    let mut args = vec!["backup", "--id", "broken"];
    args.extend(small_chunks());
    args.push(path_str(&src));
    let err = env.fails(&args);
    assert_eq!(env.json(&["snapshots"]), serde_json::json!([]));
    err.lines()
        .find(|l| l.starts_with("ptape: backup failed"))
        .unwrap_or_else(|| panic!("no error line in {err}"))
        .to_string()
}

#[test]
fn write_error_fails_the_backup_with_the_decoded_sense() {
    let line = failing_backup(FaultKind::WriteError, 10);
    assert!(line.contains("MEDIUM ERROR"), "{line}");
    assert!(line.contains("03/0C00"), "{line}");
}

#[test]
fn deferred_write_error_fails_the_backup_with_the_decoded_sense() {
    let line = failing_backup(FaultKind::DeferredWriteError, 10);
    assert!(line.contains("MEDIUM ERROR"), "{line}");
    assert!(line.contains("03/0C00"), "{line}");
}

#[test]
fn power_loss_fails_the_backup() {
    let line = failing_backup(FaultKind::PowerLoss, 40);
    assert!(line.contains("UNIT ATTENTION"), "{line}");
}
