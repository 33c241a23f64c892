//! `pmtx` driven as a process against an emulated library: every
//! subcommand, the scripted load/unload/transfer/import/export/clean
//! sequence asserting on JSON, and illegal moves that must fail with a
//! clear message, a non-zero exit and an unchanged library.

mod cli_util;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cli_util::{run_fails, run_json, run_stdout};
use pbs_tape::emulator::library::Library;
use pbs_tape::emulator::state::LibraryConfig;
use serde_json::Value;

struct Lab {
    _tmp: tempfile::TempDir,
    lib: Library,
}

impl Lab {
    /// 2 drives, 12 slots, 2 import/export slots; ABC001L9..ABC006L9 in
    /// slots 1..6, CLN001L1 in slot 7.
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let config = LibraryConfig {
            drives: 2,
            slots: 12,
            ie_slots: 2,
            serial: "PMTXTEST".into(),
            ..LibraryConfig::default()
        };
        let data: Vec<String> = (1..=6).map(|i| format!("ABC{i:03}L9")).collect();
        let lib = Library::create(tmp.path(), config, &data, &["CLN001L1".into()]).unwrap();
        Lab { _tmp: tmp, lib }
    }

    fn changer(&self) -> PathBuf {
        self.lib.changer_device_path()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("pmtx").unwrap();
        c.env_remove("CHANGER").arg("-f").arg(self.changer());
        c
    }

    /// Run `pmtx -f CHANGER ARGS --output-format json`, expect success, parse stdout.
    fn json(&self, args: &[&str]) -> Value {
        let mut cmd = self.cmd();
        cmd.args(args);
        run_json(cmd, args)
    }

    fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// Run, expect failure; returns stderr. The library must be unchanged.
    fn refused(&self, args: &[&str], message: &str) {
        let before = self.status();
        let mut cmd = self.cmd();
        cmd.args(args);
        let stderr = run_fails(cmd);
        assert!(stderr.contains(message), "{args:?}: stderr {stderr:?}");
        assert_eq!(self.status(), before, "{args:?} changed the library");
    }
}

fn slot(status: &Value, n: usize) -> &Value {
    let slots = status["slots"].as_array().unwrap();
    let ie = status["import_export"].as_array().unwrap();
    slots
        .iter()
        .chain(ie.iter())
        .find(|s| s["number"] == n)
        .unwrap()
}

/// `pmt -f DRIVE status` as JSON.
fn pmt_status(drive: &Path) -> Value {
    let mut cmd = Command::cargo_bin("pmt").unwrap();
    cmd.arg("-f").arg(drive).arg("status");
    run_json(cmd, &["status"])
}

#[test]
fn scripted_sequence() {
    let lab = Lab::new();
    let s = lab.status();
    assert_eq!(s["slots"].as_array().unwrap().len(), 12);
    assert_eq!(s["import_export"].as_array().unwrap().len(), 2);
    assert_eq!(s["drives"].as_array().unwrap().len(), 2);
    assert_eq!(slot(&s, 3)["barcode"], "ABC003L9");
    assert_eq!(s["drives"][0]["serial"], "PMTXTESTD00");

    // load slot 3 into drive 0
    let m = lab.json(&["load", "3", "--drivenum", "0"]);
    assert_eq!(m[0]["barcode"], "ABC003L9");
    assert_eq!(
        m[0]["to"],
        serde_json::json!({"type": "drive", "number": 0})
    );
    let s = lab.status();
    assert_eq!(s["drives"][0]["full"], true);
    assert_eq!(s["drives"][0]["barcode"], "ABC003L9");
    assert_eq!(s["drives"][0]["source_slot"], 3);
    assert_eq!(slot(&s, 3)["full"], false);
    let drive = pmt_status(&lab.lib.drive_device_path(0));
    assert_eq!(
        drive["medium_present"], true,
        "pmt sees the medium: {drive}"
    );
    assert_eq!(drive["serial"], "PMTXTESTD00");

    // unload back to where it came from (pmtx ejects through the drive)
    let m = lab.json(&["unload", "--drivenum", "0"]);
    assert_eq!(m[0]["to"], serde_json::json!({"type": "slot", "number": 3}));
    let s = lab.status();
    assert_eq!(s["drives"][0]["full"], false);
    assert_eq!(slot(&s, 3)["barcode"], "ABC003L9");
    assert_eq!(
        pmt_status(&lab.lib.drive_device_path(0))["medium_present"],
        false
    );

    // transfer
    lab.json(&["transfer", "1", "10"]);
    let s = lab.status();
    assert_eq!(slot(&s, 10)["barcode"], "ABC001L9");
    assert_eq!(slot(&s, 1)["full"], false);

    // export to the first free import/export slot (13), import back
    let m = lab.json(&["export", "ABC002L9"]);
    assert_eq!(m[0]["to"]["number"], 13);
    assert_eq!(slot(&lab.status(), 13)["import_export"], true);
    lab.lib.take(0).unwrap();
    lab.lib.import("NEW001L9").unwrap();
    let m = lab.json(&["import", "NEW001L9"]);
    assert_eq!(m[0]["from"]["number"], 13);
    assert_eq!(slot(&lab.status(), 1)["barcode"], "NEW001L9");

    // clean drive 1 with CLN001L1 (slot 7)
    let r = lab.json(&["clean", "--drivenum", "1"]);
    assert_eq!(r["barcode"], "CLN001L1");
    assert_eq!(r["slot"], 7);
    assert_eq!(slot(&lab.status(), 7)["barcode"], "CLN001L1");
}

#[test]
fn load_by_barcode_exchange_and_inventory() {
    let lab = Lab::new();
    lab.json(&["load", "--barcode", "ABC005L9", "--drivenum", "1"]);
    let s = lab.json(&["inventory"]);
    assert_eq!(s["drives"][1]["barcode"], "ABC005L9");
    let m = lab.json(&["exchange", "1", "2"]);
    assert_eq!(m.as_array().unwrap().len(), 2);
    let s = lab.status();
    assert_eq!(slot(&s, 1)["barcode"], "ABC002L9");
    assert_eq!(slot(&s, 2)["barcode"], "ABC001L9");
    // three-way: 1 -> 2, 2's cartridge -> 8 (empty)
    lab.json(&["exchange", "1", "2", "8"]);
    let s = lab.status();
    assert_eq!(slot(&s, 2)["barcode"], "ABC002L9");
    assert_eq!(slot(&s, 8)["barcode"], "ABC001L9");
    assert_eq!(slot(&s, 1)["full"], false);
}

#[test]
fn first_next_previous_last() {
    let lab = Lab::new();
    let m = lab.json(&["first", "--drivenum", "0"]);
    assert_eq!(m[0]["from"]["number"], 1);
    let m = lab.json(&["next", "--drivenum", "0"]);
    assert_eq!(
        (m[0]["to"]["number"].clone(), m[1]["from"]["number"].clone()),
        (1.into(), 2.into())
    );
    let m = lab.json(&["previous", "--drivenum", "0"]);
    assert_eq!(m[1]["from"]["number"], 1);
    lab.json(&["unload"]);
    // last skips the cleaning cartridge in slot 7
    let m = lab.json(&["last", "--drivenum", "0"]);
    assert_eq!(m[0]["from"]["number"], 6);
    lab.refused(&["next", "--drivenum", "0"], "no full slot after slot 6");
}

#[test]
fn illegal_moves_fail_clearly_and_change_nothing() {
    let lab = Lab::new();
    lab.refused(&["load", "9"], "slot 9 is empty");
    lab.refused(&["load", "99"], "slot 99 does not exist");
    lab.refused(&["load", "1", "--drivenum", "5"], "drive 5 does not exist");
    lab.refused(
        &["load", "--barcode", "ABC009L9"],
        "cartridge ABC009L9 not found",
    );
    lab.refused(&["load", "7"], "CLN001L1 is a cleaning cartridge");
    lab.refused(&["unload"], "drive 0 is empty");
    lab.refused(&["transfer", "1", "2"], "slot 2 is full (ABC002L9)");
    lab.refused(&["transfer", "9", "10"], "slot 9 is empty");
    lab.refused(&["exchange", "1", "9"], "slot 9 is empty");
    lab.refused(&["import", "ABC001L9"], "not in an import/export slot");
    lab.refused(&["export", "NOPE01L9"], "cartridge NOPE01L9 not found");
    lab.json(&["load", "1"]);
    lab.refused(&["load", "2"], "drive 0 is full (ABC001L9)");
    lab.refused(
        &["unload", "--target-slot", "2"],
        "slot 2 is full (ABC002L9)",
    );
    lab.refused(&["clean", "--drivenum", "0"], "drive 0 is full (ABC001L9)");
}

#[test]
fn hardware_fault_reports_decoded_sense() {
    let lab = Lab::new();
    lab.lib
        .arm_fault(pbs_tape::emulator::fault::FaultSpec {
            device: pbs_tape::emulator::fault::DeviceId::Changer,
            kind: pbs_tape::emulator::fault::FaultKind::MoveHardwareError,
            after: 0,
        })
        .unwrap();
    let out = lab
        .cmd()
        .args(["load", "2"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MOVE MEDIUM failed"), "{stderr}");
    assert!(stderr.contains("HARDWARE ERROR"), "{stderr}");
    assert!(stderr.contains("(04/1501)"), "{stderr}");
    assert_eq!(slot(&lab.status(), 2)["barcode"], "ABC002L9");
}

#[test]
fn inquiry_scan_and_device_selection() {
    let lab = Lab::new();
    let inq = lab.json(&["inquiry"]);
    assert_eq!(inq["peripheral_type"], 8);
    assert_eq!(inq["serial"], "PMTXTEST");
    let dir = lab.lib.dir().display().to_string();
    let mut cmd = Command::cargo_bin("pmtx").unwrap();
    cmd.args(["scan", "--emulated", &dir]);
    let found = run_json(cmd, &["scan"]);
    let emulated: Vec<&Value> = found
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["emulated"] == true)
        .collect();
    assert_eq!(emulated.len(), 1);
    assert_eq!(emulated[0]["path"], lab.changer().display().to_string());
    assert_eq!(emulated[0]["serial"], "PMTXTEST");

    // $CHANGER instead of -f
    let mut cmd = Command::cargo_bin("pmtx").unwrap();
    cmd.env("CHANGER", lab.changer()).arg("status");
    let s = run_json(cmd, &["status"]);
    assert_eq!(s["slots"].as_array().unwrap().len(), 12);

    // nonexistent device: clear error, exit 1
    let mut cmd = Command::cargo_bin("pmtx").unwrap();
    cmd.args(["-f", "/nonexistent/changer", "status"]);
    assert!(run_fails(cmd).contains("/nonexistent/changer"));

    // a tape drive is not a changer
    let out = Command::cargo_bin("pmtx")
        .unwrap()
        .arg("-f")
        .arg(lab.lib.drive_device_path(0))
        .arg("status")
        .assert()
        .failure()
        .code(1)
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("is not a medium changer (peripheral device type 1)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn text_output_completions_and_man_pages() {
    let lab = Lab::new();
    let out = lab
        .cmd()
        .arg("status")
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 drive(s), 12 slot(s), 2 import/export slot(s)"),
        "{text}"
    );
    assert!(text.contains("ABC003L9"));
    assert!(text.contains("slot 13 (i/e)"));
    let out = lab
        .cmd()
        .args(["load", "3"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "loaded ABC003L9 from slot 3 to drive 0\n"
    );

    let mut cmd = Command::cargo_bin("pmtx").unwrap();
    cmd.args(["completions", "bash"]);
    assert!(run_stdout(cmd).contains("pmtx"));
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("pmtx")
        .unwrap()
        .arg("man")
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("pmtx.1").is_file());
    assert!(dir.path().join("pmtx-load.1").is_file());
}
