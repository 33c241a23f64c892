//! `ptape restore`, `verify`, `content` and `catalog scan` driven as
//! processes against a pre-built emulated library in the data directory.

mod cli_util;
#[path = "../../tests/restore_util/mod.rs"]
mod restore_util;

use std::ops::Deref;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cli_util::Ptape;
use pbs_tape::emulator::library::Library;
use restore_util::{assert_same_tree, corrupt_image, make_library, make_tree, take_offline, MIB};

/// A fresh configuration and data directory, a library and a source tree.
struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
    lib: Library,
    src: PathBuf,
}

impl Deref for Env {
    type Target = Ptape;

    fn deref(&self) -> &Ptape {
        &self.cli
    }
}

impl Env {
    fn new(tapes: usize, capacity: u64) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("data/library"), tapes, capacity);
        let src = make_tree(&tmp.path().join("src"), 21 * MIB as usize);
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli, lib, src }
    }

    /// Backs up the source tree; returns the snapshot name and the tapes.
    fn backup(&self) -> (String, Vec<String>) {
        let src = self.src.to_str().unwrap();
        let v = self.json(&[
            "backup",
            "--id",
            "cli",
            "--chunk-min",
            "16384",
            "--chunk-avg",
            "65536",
            "--chunk-max",
            "262144",
            src,
        ]);
        let tapes = v["tapes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        (v["snapshot"].as_str().unwrap().to_string(), tapes)
    }

    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn backup_snapshots_restore_and_partial_restore() {
    let env = Env::new(2, 512 * MIB);
    let (snapshot, _) = env.backup();
    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps[0]["name"], snapshot.as_str());

    let out = env.out("full");
    let r = env.json(&["restore", &snapshot, s(&out)]);
    assert_eq!(r["snapshot"], snapshot.as_str());
    assert_eq!(r["tapes"][0], "BK0001L9");
    assert_same_tree(&env.src, &out.join("data"));

    // Existing files are not replaced without --overwrite.
    let err = env.fails(&["restore", &snapshot, s(&out)]);
    assert!(err.contains("exists; use --overwrite"), "{err}");
    env.ok(&["restore", "--overwrite", &snapshot, s(&out)]);
    assert_same_tree(&env.src, &out.join("data"));

    let part = env.out("part");
    env.ok(&[
        "restore",
        &snapshot,
        s(&part),
        "--path",
        "data/docs/nested",
        "--path",
        "data/run.sh",
    ]);
    assert_same_tree(&env.src.join("docs/nested"), &part.join("data/docs/nested"));
    assert_eq!(
        std::fs::read(part.join("data/run.sh")).unwrap(),
        std::fs::read(env.src.join("run.sh")).unwrap()
    );
    assert!(!part.join("data/large.bin").exists());
    assert!(!part.join("data/docs/a.txt").exists());

    let err = env.fails(&[
        "restore",
        &snapshot,
        s(&env.out("x")),
        "--path",
        "data/nope",
    ]);
    assert!(
        err.contains("\"data/nope\" is not in the snapshot"),
        "{err}"
    );
}

#[test]
fn content_lists_archives_per_tape() {
    let env = Env::new(2, 512 * MIB);
    let (snapshot, _) = env.backup();
    let v = env.json(&["content"]);
    let tapes = v.as_array().unwrap();
    let tape = tapes.iter().find(|t| t["label"] == "BK0001L9").unwrap();
    let archives = tape["archives"].as_array().unwrap();
    let kinds: Vec<&str> = archives
        .iter()
        .map(|a| a["content"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"chunks") && kinds.contains(&"snapshot"),
        "{kinds:?}"
    );
    let snap = archives
        .iter()
        .find(|a| a["content"] == "snapshot")
        .unwrap();
    assert_eq!(snap["snapshot"], snapshot.as_str());
    assert!(archives[0]["file_number"].as_u64().unwrap() >= 2);
    let entries: u64 = archives
        .iter()
        .filter(|a| a["content"] == "chunks")
        .map(|a| a["entries"].as_u64().unwrap())
        .sum();
    assert!(entries > 21 * MIB / (256 * 1024), "{entries}");
    assert_eq!(tape["snapshots"][0], snapshot.as_str());
    let text = env.ok(&["content"]);
    assert!(
        text.contains("BK0001L9") && text.contains(&snapshot),
        "{text}"
    );
}

#[test]
fn restore_after_losing_the_database_and_scanning() {
    let env = Env::new(5, 10 * MIB);
    let (snapshot, tapes) = env.backup();
    assert!(tapes.len() >= 3, "{tapes:?}");
    for f in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(env.tmp.path().join("data").join(f));
    }
    assert!(env.json(&["snapshots"]).as_array().unwrap().is_empty());
    let report = env.json(&["catalog", "scan"]);
    assert_eq!(report["snapshots"], 1);
    let scanned: Vec<&str> = report["tapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    for t in &tapes {
        assert!(scanned.contains(&t.as_str()), "{scanned:?}");
    }
    assert_eq!(env.json(&["snapshots"])[0]["name"], snapshot.as_str());
    let out = env.out("after-scan");
    env.ok(&["restore", &snapshot, s(&out)]);
    assert_same_tree(&env.src, &out.join("data"));
}

/// The whole chain on a drive that answers only the short form of READ
/// POSITION: label (automatic), a backup spanning tapes, verify, catalog
/// scan after losing the database, restore.
#[test]
fn whole_chain_on_a_drive_with_only_the_short_position_form() {
    let env = Env::new(5, 10 * MIB);
    env.lib
        .update(|state| {
            state.config.drive_personality.short_position_only = true;
            Ok(())
        })
        .unwrap();
    let (snapshot, tapes) = env.backup();
    assert!(tapes.len() >= 2, "{tapes:?}");
    assert_eq!(env.json(&["verify"])["ok"], true);
    for f in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(env.tmp.path().join("data").join(f));
    }
    let report = env.json(&["catalog", "scan"]);
    assert_eq!(report["snapshots"], 1, "{report}");
    let out = env.out("short-form");
    env.ok(&["restore", &snapshot, s(&out)]);
    assert_same_tree(&env.src, &out.join("data"));
}

#[test]
fn restore_names_the_offline_tape() {
    let env = Env::new(5, 10 * MIB);
    let (snapshot, tapes) = env.backup();
    take_offline(&env.lib, &tapes[0]);
    let out = env.out("offline");
    let err = env.fails(&["restore", &snapshot, s(&out)]);
    assert!(err.contains("not online"), "{err}");
    assert!(err.contains(&tapes[0]), "{err}");
    for other in &tapes[1..] {
        assert!(!err.contains(other.as_str()), "{err}");
    }
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn restore_goes_on_around_damage_lists_it_and_exits_1() {
    let env = Env::new(2, 512 * MIB);
    let (snapshot, _) = env.backup();
    corrupt_image(&env.lib, "BK0001L9");
    let out = env.out("damaged");
    let run = env
        .ptape()
        .args(["restore", &snapshot, s(&out)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("damaged: data/large.bin"), "{stderr}");
    assert!(stderr.contains("every other file was restored"), "{stderr}");
    assert!(!out.join("data/large.bin").exists());
    assert_eq!(
        std::fs::read(out.join("data/docs/a.txt")).unwrap(),
        std::fs::read(env.src.join("docs/a.txt")).unwrap()
    );
    // A path the damage does not touch: exit 0.
    let one = env.out("unaffected");
    env.ok(&["restore", &snapshot, s(&one), "--path", "data/docs/nested"]);
    assert_same_tree(&env.src.join("docs/nested"), &one.join("data/docs/nested"));
}

#[test]
fn verify_passes_then_detects_a_corrupted_tape() {
    let env = Env::new(2, 512 * MIB);
    env.backup();
    let v = env.json(&["verify"]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["tapes"][0]["state"], "ok");
    assert!(v["tapes"][0]["chunks"].as_u64().unwrap() > 0);

    // A command target records the notifications of the next verify.
    let record = env.out("events.json");
    let script = env.out("record.sh");
    std::fs::write(&script, format!("#!/bin/sh\ncat >> {}\n", record.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.ok(&["notify", "add", "rec", "--command", s(&script)]);

    corrupt_image(&env.lib, "BK0001L9");
    let out = env
        .ptape()
        .args(["verify", "--pool", "default", "--notify", "rec"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("damaged tapes: BK0001L9"), "{stderr}");
    assert!(
        stderr.contains("tape BK0001L9 marked damaged: failed verification"),
        "{stderr}"
    );
    let sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(sent["event"], "tape_damaged");
    assert_eq!(sent["label"], "BK0001L9");
    assert_eq!(sent["severity"], "error");
    assert!(
        sent["reason"]
            .as_str()
            .unwrap()
            .starts_with("failed verification (was "),
        "{sent}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("damaged"), "{stdout}");
    assert!(
        stdout.contains("MEDIUM ERROR") || stdout.contains("checksum"),
        "{stdout}"
    );
}

#[test]
fn scan_of_the_cartridge_in_one_drive() {
    let env = Env::new(2, 512 * MIB);
    let (snapshot, _) = env.backup();
    std::fs::remove_file(env.tmp.path().join("data/catalog.db")).unwrap();
    // An empty drive: a clear error.
    let err = env.fails(&["catalog", "scan", "--drive", "drive0"]);
    assert!(err.contains("no cartridge to scan"), "{err}");
    Command::cargo_bin("pmtx")
        .unwrap()
        .args(["-f", s(&env.lib.changer_device_path())])
        .args(["load", "--barcode", "BK0001L9"])
        .assert()
        .success();
    let report = env.json(&["catalog", "scan", "--drive", "drive0"]);
    let tapes = report["tapes"].as_array().unwrap();
    assert_eq!(tapes.len(), 1);
    assert_eq!(tapes[0]["label"], "BK0001L9");
    assert_eq!(tapes[0]["full_reads"], 0);
    assert_eq!(report["snapshots"], 1);
    // The cartridge stayed in the drive; restore uses it from there.
    let state = env.lib.read_state().unwrap();
    assert_eq!(state.drives[0].cartridge.as_deref(), Some("BK0001L9"));
    let out = env.out("from-drive");
    env.ok(&["restore", &snapshot, s(&out)]);
    assert_same_tree(&env.src, &out.join("data"));
}

/// Moves a cartridge of the library into its import/export slot, as
/// `pmtx export` does.
fn to_mail_slot(lib: &Library, barcode: &str) {
    let transport =
        pbs_tape::device::open_transport(&lib.changer_device_path().display().to_string()).unwrap();
    let mut changer = pbs_tape::changer::MediaChanger::new(transport);
    changer.export(barcode).unwrap();
}

#[test]
fn list_media_then_a_restore_that_waits_for_the_mail_slot() {
    let env = Env::new(5, 10 * MIB);
    let (snapshot, tapes) = env.backup();
    assert!(tapes.len() >= 2, "{tapes:?}");

    let needed = env.json(&["restore", "--list-media", &snapshot]);
    assert_eq!(needed["snapshot"], snapshot.as_str());
    assert_eq!(needed["exact"], true, "{needed}");
    let labels: Vec<&str> = needed["tapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, tapes.iter().map(String::as_str).collect::<Vec<_>>());
    let last = &needed["tapes"][tapes.len() - 1];
    assert_eq!(last["snapshot_archive"], true);
    assert_eq!(needed["offline"].as_array().unwrap().len(), 0);
    assert_eq!(needed["tapes"][0]["location"], "online");

    // The first tape goes out through the mail slot.
    to_mail_slot(&env.lib, &tapes[0]);
    env.ok(&["media", "list", "--update-status"]);
    let needed = env.json(&["restore", "--list-media", &snapshot]);
    assert_eq!(needed["offline"][0], tapes[0].as_str(), "{needed}");
    let text = env.ok(&["restore", "--list-media", &snapshot]);
    assert!(
        text.contains(&tapes[0]) && text.contains("not online"),
        "{text}"
    );

    // --no-wait (the default): fails at once, asks for it, moves nothing.
    let out = env.out("waits");
    let err = env.fails(&["restore", &snapshot, s(&out)]);
    assert!(
        err.contains(&format!("please insert {} into changer", tapes[0])),
        "{err}"
    );
    assert!(err.contains("not online"), "{err}");
    // --wait: taken from the mail slot, and the restore completes.
    env.ok(&["restore", "--wait=60", &snapshot, s(&out)]);
    assert_same_tree(&env.src, &out.join("data"));
    let needed = env.json(&["restore", "--list-media", &snapshot]);
    assert_eq!(needed["offline"].as_array().unwrap().len(), 0, "{needed}");

    // Usage: a target is needed unless --list-media.
    let out = env.ptape().args(["restore", &snapshot]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn backup_export_media_set_fills_the_mail_slot_and_names_the_rest() {
    let env = Env::new(5, 10 * MIB);
    // A failed job exports nothing: a source that does not exist.
    let missing = env.out("missing");
    env.fails(&["backup", "--export-media-set", s(&missing)]);
    let state = env.lib.read_state().unwrap();
    assert!(state.ie_slots.iter().all(Option::is_none));

    let src = env.src.to_str().unwrap();
    // A command target records what the job tells.
    let told = env.out("told.json");
    let hook = env.out("hook.sh");
    std::fs::write(&hook, format!("#!/bin/sh\ncat > '{}'\n", told.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    env.ptape()
        .args(["notify", "add", "hook", "--command", s(&hook)])
        .assert()
        .success();
    let out = env
        .ptape()
        .args([
            "backup",
            "--id",
            "cli",
            "--notify",
            "hook",
            "--export-media-set",
            "--chunk-min",
            "16384",
            "--chunk-avg",
            "65536",
            "--chunk-max",
            "262144",
            src,
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    // One import/export slot for three or more tapes: exported what fits,
    // named the rest, finished with warnings.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tapes: Vec<String> = v["tapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert!(tapes.len() >= 2, "{tapes:?}");
    assert!(
        stderr.contains(&format!("exported {} to slot", tapes[0])),
        "{stderr}"
    );
    for t in &tapes[1..] {
        assert!(stderr.contains(&format!("not exported: {t}")), "{stderr}");
    }
    let state = env.lib.read_state().unwrap();
    assert_eq!(state.ie_slots, vec![Some(tapes[0].clone())]);
    // The notification tells the same: warnings, one per tape left.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&told).unwrap()).unwrap();
    assert_eq!(doc["state"], "warnings", "{doc}");
    assert_eq!(doc["warnings"], tapes.len() as u64 - 1, "{doc}");

    // On demand, after the mail slot was emptied: the next one goes.
    env.lib
        .update(|state| {
            state.ie_slots[0] = None;
            Ok(())
        })
        .unwrap();
    let set = v["media_set"].as_str().unwrap().to_string();
    let out = env
        .ptape()
        .args(["media-set", "export", &set, "--output-format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        export["exported"][0]["label"],
        tapes[1].as_str(),
        "{export}"
    );
    assert_eq!(export["not_exported"][0]["label"], tapes[0].as_str());
    let media = env.json(&["media", "list"]);
    let location = |label: &str| {
        media
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["label"] == label)
            .map(|m| m["location"].clone())
            .unwrap()
    };
    assert_eq!(location(&tapes[0]), "offline");
    assert_eq!(location(&tapes[1]), "offline");
}
