//! `tape-emu` as a user runs it, plus cross-process checks: a drive opened
//! in this process notices what separate `tape-emu` processes do.

mod cli_util;

use std::path::Path;
use std::time::Duration;

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use cli_util::run_json;
use pbs_tape::emulator::open_device;
use pbs_tape::scsi::{DataDirection, ScsiError, ScsiTransport, SenseKey};
use predicates::str::contains;

const T: Duration = Duration::from_secs(60);

fn emu() -> Command {
    Command::cargo_bin("tape-emu").unwrap()
}

/// `tape-emu COMMAND DIR ARGS...`, run to completion.
fn run(command: &str, dir: &Path, args: &[&str]) -> Assert {
    emu().arg(command).arg(dir).args(args).assert()
}

/// `tape-emu COMMAND DIR ARGS...` must fail with `message` on stderr.
fn fails(command: &str, dir: &Path, args: &[&str], message: &str) {
    run(command, dir, args).failure().stderr(contains(message));
}

fn create(dir: &Path, extra: &[&str]) {
    run("create", dir, extra)
        .success()
        .stdout(contains("created library"));
}

fn status_json(dir: &Path) -> serde_json::Value {
    let mut cmd = emu();
    cmd.arg("status").arg(dir);
    run_json(cmd, &["status"])
}

fn tur(dev: &mut impl ScsiTransport) -> Result<(), ScsiError> {
    dev.execute(&[0; 6], DataDirection::None, T).map(|_| ())
}

fn sense_is(r: Result<(), ScsiError>, key: SenseKey, asc: u8, ascq: u8) {
    match r {
        Err(ScsiError::CheckCondition { sense, .. }) => {
            assert!(sense.is(key, asc, ascq), "got {sense}")
        }
        other => panic!("expected {key:?} {asc:02x}/{ascq:02x}, got {other:?}"),
    }
}

#[test]
fn create_and_status_show_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(
        &dir,
        &[
            "--drives",
            "2",
            "--slots",
            "8",
            "--ie-slots",
            "2",
            "--barcodes",
            "ABC001L9..ABC004L9",
            "--cleaning",
            "CLN001L1",
            "--capacity",
            "512MiB",
            "--early-warning",
            "16MiB",
            "--lto",
            "8",
            "--element-bases",
            "0,0x1000,0x10,0x100",
            "--no-dvcid",
            "--fixed-block-only",
        ],
    );
    assert!(dir.join("changer").is_file());
    assert!(dir.join("drive1").is_file());
    let st = status_json(&dir);
    let cfg = &st["state"]["config"];
    assert_eq!(cfg["capacity"], 512u64 << 20);
    assert_eq!(cfg["early_warning"], 16u64 << 20);
    assert_eq!(cfg["lto_generation"], 8);
    assert_eq!(cfg["changer_personality"]["dvcid"], false);
    assert_eq!(cfg["drive_personality"]["fixed_block_only"], true);
    assert_eq!(st["state"]["slots"][3], "ABC004L9");
    assert_eq!(st["state"]["slots"][4], "CLN001L1");
    assert_eq!(st["state"]["drives"].as_array().unwrap().len(), 2);
    emu().arg("status").arg(&dir).assert().success().stdout(
        contains("ABC001L9")
            .and(contains("drive 1"))
            .and(contains("slot 10 (i/e)")),
    );
    // A second create in the same place is refused.
    fails("create", &dir, &[], "already exists");
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn bad_arguments_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    fails(
        "create",
        &dir,
        &["--barcodes", "ABC010L9..ABC001L9"],
        "after the last",
    );
    fails("create", &dir, &["--capacity", "2PB"], "unknown size unit");
    create(&dir, &["--slots", "4", "--ie-slots", "1"]);
    fails("take", &dir, &["5"], "slot 5 is empty");
    fails("take", &dir, &["2"], "slot 2 is a storage slot");
    fails("remove", &dir, &["drive0"], "drive 0 is empty");
    fails("status", tmp.path(), &[], "not an emulated tape library");
}

#[test]
fn import_take_insert_remove_write_protect_and_faults() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(
        &dir,
        &["--slots", "4", "--ie-slots", "1", "--barcodes", "ABC001L9"],
    );
    run("import", &dir, &["NEW001L9"]).success();
    fails("import", &dir, &["NEW002L9"], "no free import/export slot");
    run("take", &dir, &["5"])
        .success()
        .stdout(contains("NEW001L9"));
    run("insert", &dir, &["0", "NEW001L9"]).success();
    run("write-protect", &dir, &["NEW001L9", "on"]).success();
    run(
        "fault",
        &dir,
        &["--device", "drive0", "deferred-write-error", "--after", "5"],
    )
    .success();
    let st = status_json(&dir);
    assert_eq!(st["state"]["drives"][0]["cartridge"], "NEW001L9");
    assert_eq!(
        st["state"]["cartridges"]["NEW001L9"]["write_protected"],
        true
    );
    assert_eq!(st["state"]["faults"][0]["kind"], "deferred-write-error");
    assert_eq!(st["state"]["faults"][0]["after"], 5);
    run("fault", &dir, &["clear"]).success();
    assert_eq!(
        status_json(&dir)["state"]["faults"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    emu().arg("remove").arg(&dir).arg("0").assert().success();
    assert!(status_json(&dir)["state"]["drives"][0]["cartridge"].is_null());
}

#[test]
fn open_drive_notices_other_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(&dir, &["--slots", "0"]);
    let mut dev = open_device(&dir.join("drive0")).unwrap();
    sense_is(tur(&mut dev), SenseKey::NotReady, 0x3a, 0);
    run("insert", &dir, &["0", "TAPE01L9"]).success();
    sense_is(tur(&mut dev), SenseKey::UnitAttention, 0x28, 0);
    tur(&mut dev).unwrap();
    // Data written and flushed here survives a power loss armed by another process.
    let data = vec![0x5a; 4096];
    let cdb = [0x0a, 0, 0, 0x10, 0, 0];
    dev.execute(&cdb, DataDirection::ToDevice(&data), T)
        .unwrap();
    dev.execute(&[0x10, 0, 0, 0, 1, 0], DataDirection::None, T)
        .unwrap();
    dev.execute(&cdb, DataDirection::ToDevice(&data), T)
        .unwrap();
    run("fault", &dir, &["--device", "drive0", "power-loss"]).success();
    sense_is(tur(&mut dev), SenseKey::UnitAttention, 0x29, 0);
    let st = status_json(&dir);
    let tape = &st["cartridges"][0];
    assert_eq!(tape["barcode"], "TAPE01L9");
    assert_eq!(
        tape["objects"], 2,
        "block + filemark survive, the buffered block is gone"
    );
    emu().arg("remove").arg(&dir).arg("0").assert().success();
    sense_is(tur(&mut dev), SenseKey::NotReady, 0x3a, 0);
}

#[test]
fn concurrent_imports_are_serialised_by_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(&dir, &["--slots", "4", "--ie-slots", "8"]);
    let bin = assert_cmd::cargo::cargo_bin("tape-emu");
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::process::Command::new(&bin)
                .arg("import")
                .arg(&dir)
                .arg(format!("CON{i:03}L9"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let st = status_json(&dir);
    let mut ie: Vec<String> = st["state"]["ie_slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    ie.sort();
    let want: Vec<String> = (0..8).map(|i| format!("CON{i:03}L9")).collect();
    assert_eq!(ie, want);
    assert_eq!(st["state"]["generation"], 9);
}

#[test]
fn drive_held_by_this_process_is_busy_for_pmt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(&dir, &["--slots", "0"]);
    run("insert", &dir, &["0", "TAPE01L9"]).success();
    let dev = open_device(&dir.join("drive0")).unwrap();
    Command::cargo_bin("pmt")
        .unwrap()
        .arg("-f")
        .arg(dir.join("drive0"))
        .arg("status")
        .assert()
        .failure()
        .stderr(contains("busy"));
    drop(dev);
    Command::cargo_bin("pmt")
        .unwrap()
        .arg("-f")
        .arg(dir.join("drive0"))
        .arg("status")
        .assert()
        .success()
        .stdout(contains("ULTRIUM-TD9"));
}

#[test]
fn status_survives_a_broken_image() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(&dir, &["--slots", "2", "--barcodes", "ABC001L9..ABC002L9"]);
    std::fs::write(dir.join("tapes/ABC001L9.tape"), b"not a tape image at all").unwrap();
    std::fs::write(
        dir.join("tapes/ABC001L9.tape.idx"),
        b"garbage garbage garbage!",
    )
    .unwrap();
    let st = status_json(&dir);
    let carts = st["cartridges"].as_array().unwrap();
    assert!(carts[0]["image_error"]
        .as_str()
        .unwrap()
        .contains("not a tape image"));
    assert!(carts[1].get("image_error").is_none());
    run("status", &dir, &[])
        .success()
        .stdout(contains("unreadable image"));
}

/// `tape-emu fault tape-alert --flags ...`: the drive raises the flags when
/// the chosen command arrives and answers them in LOG SENSE page 0x2E
/// (reading it clears them), like a real drive.
#[test]
fn tape_alert_fault_raises_flags_in_log_sense() {
    use pbs_tape::drive::tape_alert::{read_tape_alert_flags, TapeAlertFlags};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lib");
    create(&dir, &["--slots", "0"]);
    run("insert", &dir, &["0", "TAPE01L9"]).success();
    fails("fault", &dir, &["tape-alert"], "tape-alert needs the flags");
    fails(
        "fault",
        &dir,
        &["tape-alert", "--flags", "65"],
        "does not exist",
    );
    fails(
        "fault",
        &dir,
        &["tape-alert", "--flags", "SHINY"],
        "unknown TapeAlert flag",
    );
    fails(
        "fault",
        &dir,
        &["write-error", "--flags", "4"],
        "tape-alert only",
    );
    run(
        "fault",
        &dir,
        &["tape-alert", "--flags", "MEDIA,clean-now", "--after", "1"],
    )
    .success()
    .stdout(contains("tape-alert (flags 4,20)"));
    let mut dev = open_device(&dir.join("drive0")).unwrap();
    // The fault fires on the second command.
    let _ = tur(&mut dev);
    let _ = tur(&mut dev);
    assert_eq!(
        read_tape_alert_flags(&mut dev, "drive0").unwrap(),
        TapeAlertFlags::MEDIA | TapeAlertFlags::CLEAN_NOW
    );
    assert_eq!(
        read_tape_alert_flags(&mut dev, "drive0").unwrap(),
        TapeAlertFlags::empty(),
        "reading page 0x2E clears the flags"
    );
}
