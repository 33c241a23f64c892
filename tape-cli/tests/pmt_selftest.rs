//! `pmt selftest` as a process against the emulated library: every step
//! passes on a healthy drive (with the changer step), a cartridge with a
//! ptape label is refused unless forced, an injected read error fails the
//! run with the step that met it, and a drive with only the short form of
//! READ POSITION passes too.

mod pmt_util;

use pbs_tape::drive::LtoDrive;
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::state::{DrivePersonality, LibraryConfig};
use pbs_tape::emulator::Library;
use pbs_tape::format::{read_media_label, MediaLabel, MediaWriter, WriterConfig};
use pmt_util::{pmt, run_fails};
use serde_json::Value;

/// A library with one drive, a changer and cartridge AB0001L9 loaded.
fn library(personality: DrivePersonality) -> (tempfile::TempDir, Library) {
    let tmp = tempfile::tempdir().unwrap();
    let config = LibraryConfig {
        drives: 1,
        slots: 3,
        ie_slots: 0,
        drive_personality: personality,
        ..LibraryConfig::default()
    };
    let barcodes = ["AB0001L9".to_string(), "AB0002L9".to_string()];
    let lib = Library::create(tmp.path(), config, &barcodes, &[]).unwrap();
    pmt_util::run_stdout({
        let mut c = assert_cmd::Command::cargo_bin("pmtx").unwrap();
        c.arg("-f")
            .arg(lib.changer_device_path())
            .args(["load", "1"]);
        c
    });
    (tmp, lib)
}

fn selftest(lib: &Library, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = pmt();
    cmd.arg("-f")
        .arg(lib.drive_device_path(0))
        .args(["selftest", "--quick", "--changer"])
        .arg(lib.changer_device_path())
        .args(extra);
    cmd
}

fn steps(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_step_passes_on_a_healthy_drive_with_its_changer() {
    let (_tmp, lib) = library(DrivePersonality::default());
    let out = selftest(&lib, &["--output-format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let names: Vec<String> = steps(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "write_files",
            "read_back",
            "locate_blocks",
            "space_records",
            "space_files",
            "filemark_reporting",
            "end_of_data_reporting",
            "append",
            "write_speed",
            "read_speed",
            "changer"
        ]
    );
    assert!(steps(&report).iter().all(|(_, r)| r == "pass"), "{report}");
    assert!(report["write_mb_per_s"].as_f64().unwrap() > 0.0);
    assert!(report["read_mb_per_s"].as_f64().unwrap() > 0.0);
    // Every step says where the head was, as the drive reported it.
    assert_eq!(report["steps"][0]["position"]["file_number"], 2);
    assert_eq!(report["steps"][0]["position"]["logical_object"], 34);
    // The text form prints each step and a summary.
    let text = String::from_utf8(
        selftest(&lib, &["--force"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(text.contains("PASS  LOCATE to records"), "{text}");
    assert!(text.contains("11 passed, 0 failed, 0 skipped"), "{text}");
}

#[test]
fn a_ptape_labelled_cartridge_is_refused_unless_forced() {
    let (_tmp, lib) = library(DrivePersonality::default());
    let path = lib.drive_device_path(0).display().to_string();
    let uuid = uuid::Uuid::new_v4();
    {
        let mut drive = LtoDrive::open(&path).unwrap();
        let _ = drive.test_unit_ready();
        drive.rewind().unwrap();
        let mut w = MediaWriter::new(drive, WriterConfig::default()).unwrap();
        w.write_media_label(&MediaLabel {
            label_text: "AB0001L9".into(),
            uuid,
            ctime: 0,
        })
        .unwrap();
        w.commit().unwrap();
    }
    let err = run_fails(selftest(&lib, &[]));
    assert!(
        err.contains("ptape label AB0001L9") && err.contains("--force"),
        "{err}"
    );
    // Nothing was written: the label is still there.
    let mut drive = LtoDrive::open(&path).unwrap();
    drive.rewind().unwrap();
    assert_eq!(read_media_label(&mut drive).unwrap().unwrap().uuid, uuid);
    drop(drive);
    selftest(&lib, &["--force"]).assert().success();
}

#[test]
fn a_read_error_fails_the_run_at_the_step_that_met_it() {
    let (_tmp, lib) = library(DrivePersonality::default());
    // The 3rd READ(6): a record of file 0 during the read-back step (the
    // label check reads once first).
    lib.arm_fault(FaultSpec {
        device: DeviceId::Drive(0),
        kind: FaultKind::ReadError,
        after: 3,
    })
    .unwrap();
    let out = selftest(&lib, &["--output-format", "json"])
        .assert()
        .failure()
        .code(1)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let results = steps(&report);
    assert_eq!(results[0], ("write_files".into(), "pass".into()));
    assert_eq!(results[1], ("read_back".into(), "fail".into()));
    assert!(
        report["steps"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("MEDIUM ERROR"),
        "{report}"
    );
    // The other steps still ran and passed.
    assert!(results[2..].iter().all(|(_, r)| r == "pass"), "{results:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed: 1 of 11 steps"), "{stderr}");
}

#[test]
fn a_drive_with_only_the_short_position_form_passes() {
    let (_tmp, lib) = library(DrivePersonality {
        short_position_only: true,
        ..DrivePersonality::default()
    });
    let out = selftest(&lib, &["--output-format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    // The file numbers come from the filemarks counted since BOT.
    assert_eq!(report["steps"][0]["position"]["file_number"], 2);
}
