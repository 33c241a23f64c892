//! pmt error paths: each a clear message on stderr and exit code 1.

mod pmt_util;

use pmt_util::{pattern, pmt, run_fails, Emu, BARCODE};

#[test]
fn no_medium() {
    let emu = Emu::empty();
    let err = emu.fails(&["rewind"]);
    assert_eq!(
        err.trim(),
        format!("pmt: no medium in drive {}", emu.drive())
    );
    let err = emu.fails(&["write"]);
    assert!(err.contains("no medium"), "{err}");
    // status is not an error without a cartridge.
    let s = emu.json(&["status"]);
    assert_eq!(s["medium_state"], "no_medium");
    assert_eq!(s["medium_present"], false);
}

#[test]
fn write_protected() {
    let emu = Emu::new();
    emu.lib.set_write_protect(BARCODE, true).unwrap();
    let err = emu.fails_with_input(&["write"], pattern(1, 100));
    assert!(err.contains("write protected"), "{err}");
    let err = emu.fails(&["weof"]);
    assert!(err.contains("write protected"), "{err}");
    assert_eq!(emu.json(&["status"])["write_protected"], true);
}

#[test]
fn space_past_end_of_data() {
    let emu = Emu::new();
    emu.write_file(&pattern(1, 100), 100);
    emu.json(&["rewind"]);
    let err = emu.fails(&["fsf", "3"]);
    assert!(
        err.contains("end of data reached after 1 of 3 filemarks"),
        "{err}"
    );
    assert!(err.contains("BLANK CHECK"), "{err}");
    emu.json(&["rewind"]);
    let err = emu.fails(&["fsr", "5"]);
    assert!(
        err.contains("space stopped at filemark after 1 of 5 blocks"),
        "{err}"
    );
    // Reading at end of data: no file there.
    emu.json(&["eod"]);
    let err = emu.fails(&["read"]);
    assert!(err.contains("no tape file at this position"), "{err}");
}

#[test]
fn block_too_large() {
    let emu = Emu::new();
    let max = emu.json(&["status"])["max_block_size"].as_u64().unwrap();
    let too_big = (max + 1).to_string();
    let err = emu.fails_with_input(&["write", "--block-size", &too_big], pattern(1, 100));
    assert!(
        err.contains(&format!(
            "block of {too_big} bytes exceeds the largest block {max} bytes"
        )),
        "{err}"
    );
    // Nothing was written.
    assert_eq!(emu.json(&["eod"])["position"]["logical_object"], 0);
}

#[test]
fn unknown_device_path() {
    let mut cmd = pmt();
    cmd.args(["-f", "/nonexistent/drive0", "status"]);
    let err = run_fails(cmd);
    assert!(err.starts_with("pmt: cannot open tape drive"), "{err}");
    assert!(err.contains("/nonexistent/drive0"), "{err}");
}

#[test]
fn medium_error_shows_decoded_sense() {
    use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
    let emu = Emu::new();
    emu.lib
        .arm_fault(FaultSpec {
            device: DeviceId::Drive(0),
            kind: FaultKind::WriteError,
            after: 0,
        })
        .unwrap();
    let err = emu.fails_with_input(&["write"], pattern(1, 100));
    assert!(
        err.starts_with(&format!(
            "pmt: WRITE(6) failed on {}: MEDIUM ERROR: write error (03/0C00)",
            emu.drive()
        )),
        "{err}"
    );
    // The sense's INFORMATION is the residue (the 100 bytes asked for),
    // the position is read back from the drive: nothing was written.
    assert!(err.contains("information 100"), "{err}");
    assert!(
        err.contains("(position after the error: block 0, file 0)"),
        "{err}"
    );
    assert!(!err.contains("at block 100"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    pmt().args(["fsf", "notanumber"]).assert().failure().code(2);
    pmt().arg("nonsense").assert().failure().code(2);
}

#[test]
fn no_device_given() {
    let mut cmd = pmt();
    cmd.arg("status");
    let err = run_fails(cmd);
    assert!(
        err.starts_with("pmt: no drive given: use -f or $TAPE"),
        "{err}"
    );
}

#[test]
fn unsupported_features_say_so() {
    use pbs_tape::emulator::state::{DrivePersonality, LibraryConfig};
    let emu = Emu::empty_with(LibraryConfig {
        drive_personality: DrivePersonality {
            log_sense: false,
            mam: false,
            encryption: false,
            ..DrivePersonality::default()
        },
        ..LibraryConfig::default()
    });
    emu.lib.insert(0, BARCODE).unwrap();
    for args in [
        &["cartridge-memory"][..],
        &["volume-statistics"],
        &["tape-alert-flags"],
        &["encryption", "status"],
    ] {
        let err = emu.fails(args);
        eprintln!("{err}");
        assert!(
            err.contains("is not supported by this device") && err.contains("ILLEGAL REQUEST"),
            "pmt {args:?}: {err}"
        );
    }
    // The basics still work on that drive.
    assert_eq!(emu.json(&["status"])["medium_state"], "ready");
}

#[test]
fn deferred_write_error_fails_the_write() {
    use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
    let emu = Emu::new();
    emu.lib
        .arm_fault(FaultSpec {
            device: DeviceId::Drive(0),
            kind: FaultKind::DeferredWriteError,
            after: 1,
        })
        .unwrap();
    let err = emu.fails_with_input(&["write", "--block-size", "1000"], pattern(1, 5000));
    assert!(err.contains("deferred error: MEDIUM ERROR"), "{err}");
}

/// `pmt write`, `weof` and `erase` after a power loss (UNIT ATTENTION
/// 29/00) or a medium change (28/00): the position the user set up is
/// gone, so they write nothing (the tape keeps its files) and say how to
/// go on; after an explicit positioning they work.
#[test]
fn writing_after_a_reset_or_medium_change_writes_nothing() {
    use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
    let emu = Emu::new();
    emu.write_file(&pattern(1, 3000), 1000);
    emu.write_file(&pattern(2, 3000), 1000);
    let at_end = emu.json(&["status"])["file_number"].clone();
    assert_eq!(at_end, 2);
    for args in [&["write"][..], &["weof"], &["erase", "--fast"]] {
        emu.lib
            .arm_fault(FaultSpec {
                device: DeviceId::Drive(0),
                kind: FaultKind::PowerLoss,
                after: 0,
            })
            .unwrap();
        let err = emu.fails_with_input(args, pattern(3, 3000));
        assert!(
            err.contains("position is lost") && err.contains("power on, reset"),
            "pmt {args:?}: {err}"
        );
        assert!(err.contains("pmt rewind, pmt eod"), "{err}");
        // Both files are still there.
        emu.json(&["eod"]);
        assert_eq!(emu.json(&["status"])["file_number"], 2, "pmt {args:?}");
    }
    // A cartridge put in again: 28/00 pending.
    emu.lib.remove(0).unwrap();
    emu.lib.insert(0, BARCODE).unwrap();
    let err = emu.fails_with_input(&["write"], pattern(3, 3000));
    assert!(err.contains("medium may have changed"), "{err}");
    emu.json(&["eod"]);
    assert_eq!(emu.json(&["status"])["file_number"], 2);
    emu.write_file(&pattern(3, 3000), 1000);
    assert_eq!(emu.json(&["status"])["file_number"], 3);
}
