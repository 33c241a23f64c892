//! `ptape backup` as a process with faults injected at a handful of points
//! of a clean run's commands (counted first): the process exits 1, stderr
//! names the decoded sense, `ptape snapshots` shows no new snapshot, what
//! the catalog records verifies, and a clean re-run backs up and restores
//! byte-identical.

mod cli_util;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cli_util::{pseudo_random, Ptape};
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use serde_json::Value;

const MIB: u64 = 1024 * 1024;
/// A count no run reaches: armed to count commands without firing.
const NEVER: u64 = 1 << 40;

/// A configuration, data directory, library and source tree per scenario.
struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
    lib: Library,
    src: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let config = LibraryConfig {
            drives: 1,
            slots: 4,
            ie_slots: 1,
            capacity: 256 * MIB,
            early_warning: MIB,
            serial: "PTAPEFAULTCLI".into(),
            ..LibraryConfig::default()
        };
        let barcodes = ["FS0001L9".to_string(), "FS0002L9".to_string()];
        // ptape uses DATA_DIR/library when no drive is configured.
        let lib =
            Library::create(&tmp.path().join("data/library"), config, &barcodes, &[]).unwrap();
        let src = tmp.path().join("src/data");
        std::fs::create_dir_all(src.join("sub/empty")).unwrap();
        std::fs::write(src.join("sub/small.txt"), b"small\n").unwrap();
        std::fs::write(src.join("zero"), b"").unwrap();
        std::fs::write(src.join("large.bin"), pseudo_random(2 * MIB as usize, 5)).unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli, lib, src }
    }

    fn ptape(&self) -> Command {
        self.cli.ptape()
    }

    fn backup(&self, id: &str) -> std::process::Output {
        self.ptape()
            .args(["backup", "--id", id])
            .args(["--chunk-min", "16384", "--chunk-avg", "65536"])
            .args(["--chunk-max", "262144", "--output-format", "json"])
            .arg(&self.src)
            .output()
            .unwrap()
    }

    /// Runs ptape with `args` and `--output-format json`; must succeed.
    fn json(&self, args: &[&str]) -> Value {
        self.cli.json(args)
    }

    fn arm(&self, kind: FaultKind, after: u64) {
        self.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind,
                after,
            })
            .unwrap();
    }

    /// The remaining count of the armed fault of `kind`.
    fn left(&self, kind: FaultKind) -> Option<u64> {
        let state = self.lib.read_state().unwrap();
        state
            .faults
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| f.after)
    }
}

/// Every regular file under `root` with its bytes, by relative path.
fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                found.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    found.sort();
    found
}

/// WRITE(6) commands and all drive commands of a clean `ptape backup`.
fn clean_counts() -> (u64, u64) {
    let env = Env::new();
    env.arm(FaultKind::WriteError, NEVER);
    env.arm(FaultKind::Timeout, NEVER);
    let out = env.backup("clean");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let writes = NEVER - env.left(FaultKind::WriteError).unwrap();
    let all = NEVER - env.left(FaultKind::Timeout).unwrap();
    (writes, all)
}

/// One fault point: the backup process fails naming `expect` (all of
/// them), records no snapshot, the catalog verifies, and a clean re-run
/// restores byte-identical.
fn fault_point(kind: FaultKind, after: u64, expect: &[&str]) {
    let context = format!("{kind} after {after}");
    let env = Env::new();
    env.arm(kind, after);
    let out = env.backup("broken");
    assert!(
        env.left(kind).is_none(),
        "{context}: the fault did not fire"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{context}: {stderr}");
    assert!(out.stdout.is_empty(), "{context}: printed a result");
    for e in expect {
        assert!(stderr.contains(e), "{context}: no {e:?} in {stderr}");
    }
    assert_eq!(env.json(&["snapshots"]), serde_json::json!([]), "{context}");
    // What the failed job recorded (if it got as far as a media set)
    // reads back from tape.
    let media = env.json(&["media", "list"]);
    let in_set = media
        .as_array()
        .unwrap()
        .iter()
        .any(|m| !m["media_set"].is_null());
    if in_set {
        assert_eq!(env.json(&["verify"])["ok"], true, "{context}");
    }

    let out = env.backup("fixed");
    assert!(
        out.status.success(),
        "{context}: re-run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let snapshot = result["snapshot"].as_str().unwrap().to_string();
    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{context}: {snaps}");
    assert_eq!(snaps[0]["name"], snapshot.as_str(), "{context}");
    let target = env.tmp.path().join("restored");
    env.json(&["restore", &snapshot, target.to_str().unwrap()]);
    assert!(
        files(&env.src) == files(&target.join("data")),
        "{context}: restored files differ"
    );
    assert_eq!(env.json(&["verify"])["ok"], true, "{context}");
}

const WRITE_ERROR: &[&str] = &["backup failed", "MEDIUM ERROR", "03/0C00"];

#[test]
fn write_errors_at_the_first_middle_and_last_data_writes() {
    let (writes, _) = clean_counts();
    // Media label; a chunk archive; the snapshot archive (the last write
    // before the catalog archive).
    for after in [0, writes / 2, writes - 2] {
        fault_point(FaultKind::WriteError, after, WRITE_ERROR);
    }
    fault_point(FaultKind::DeferredWriteError, writes / 3, WRITE_ERROR);
}

#[test]
fn power_loss_and_timeout_mid_job() {
    let (_, all) = clean_counts();
    fault_point(
        FaultKind::PowerLoss,
        all / 2,
        &["backup failed", "UNIT ATTENTION", "06/2900"],
    );
    fault_point(
        FaultKind::Timeout,
        all / 2 + 1,
        &["backup failed", "timed out"],
    );
}

/// A write error on the catalog archive, the job's last WRITE: the process
/// fails, and must then list no snapshot.
#[test]
fn write_error_on_the_catalog_archive_lists_no_snapshot() {
    let (writes, _) = clean_counts();
    fault_point(FaultKind::WriteError, writes - 1, WRITE_ERROR);
}
