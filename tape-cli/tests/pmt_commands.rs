//! Every pmt subcommand as a process against the emulated drive, asserting
//! on the JSON it prints.

mod pmt_util;

use pmt_util::{pattern, pmt, position_of, run_json, run_stdout, Emu};

/// Three files of 2 blocks each (+ filemark): objects 0..9.
fn three_files(emu: &Emu) {
    for i in 0..3 {
        emu.write_file(&pattern(i, 2000), 1000);
    }
}

#[test]
fn status_json_fields() {
    let emu = Emu::new();
    let s = emu.json(&["status"]);
    for field in [
        "device",
        "vendor",
        "product",
        "revision",
        "serial",
        "max_block_size",
        "medium_state",
        "medium_present",
        "write_protected",
        "density_code",
        "lto_generation",
        "density_name",
        "medium_type",
        "block_size",
        "compression",
        "buffer_mode",
        "partition",
        "position_form",
        "file_number",
        "block_number",
        "logical_object_number",
        "bot",
        "eom",
    ] {
        assert!(s.get(field).is_some(), "status lacks {field}: {s}");
    }
    assert_eq!(s["device"], emu.drive());
    assert_eq!(s["medium_state"], "ready");
    assert_eq!(s["medium_present"], true);
    assert_eq!(s["lto_generation"], 9);
    assert_eq!(s["density_code"], 0x60);
    assert_eq!(s["density_name"], "LTO-9");
    assert_eq!(s["bot"], true);
    assert_eq!(s["file_number"], 0);
    assert_eq!(s["block_number"], 0);
    assert_eq!(s["position_form"], "long");
    // The text form is a table with the same facts.
    let text = run_stdout(emu.pmt(&["status"]));
    assert!(text.contains("LTO-9") && text.contains("BOT"), "{text}");
}

#[test]
fn positioning_commands_report_positions() {
    let emu = Emu::new();
    three_files(&emu);
    assert_eq!(emu.pos(&["rewind"]), (0, 0));
    assert_eq!(emu.pos(&["fsf"]), (1, 3));
    assert_eq!(emu.pos(&["fsf", "1"]), (2, 6));
    assert_eq!(emu.pos(&["bsf", "1"]), (1, 5));
    assert_eq!(emu.pos(&["fsfm", "1"]), (1, 5));
    assert_eq!(emu.pos(&["bsfm", "1"]), (1, 3));
    assert_eq!(emu.pos(&["fsr", "2"]), (1, 5));
    assert_eq!(emu.pos(&["bsr", "1"]), (1, 4));
    assert_eq!(emu.pos(&["asf", "2"]), (2, 6));
    assert_eq!(emu.pos(&["asf", "0"]), (0, 0));
    assert_eq!(emu.pos(&["eod"]), (3, 9));
    assert_eq!(emu.pos(&["weof", "2"]), (5, 11));
    let v = emu.json(&["rewind"]);
    assert_eq!(v["command"], "rewind");
    assert_eq!(v["position"]["bop"], true);
}

#[test]
fn erase_and_format() {
    let emu = Emu::new();
    three_files(&emu);
    emu.json(&["asf", "1"]);
    assert_eq!(emu.pos(&["erase", "--fast"]), (1, 3));
    // End of data is now at file 1.
    assert_eq!(emu.pos(&["eod"]), (1, 3));
    assert_eq!(emu.pos(&["format", "--fast"]), (0, 0));
    assert_eq!(emu.pos(&["eod"]), (0, 0));
    // Long erase from BOP.
    three_files(&emu);
    emu.json(&["rewind"]);
    assert_eq!(emu.pos(&["erase"]), (0, 0));
    assert_eq!(emu.pos(&["eod"]), (0, 0));
}

#[test]
fn load_eject_lock_unlock() {
    let emu = Emu::new();
    let v = emu.json(&["lock"]);
    assert_eq!(v["command"], "lock");
    assert!(emu.lib.read_state().unwrap().drives[0].removal_prevented);
    emu.json(&["unlock"]);
    assert!(!emu.lib.read_state().unwrap().drives[0].removal_prevented);
    for eject in ["eject", "unload", "offline"] {
        let v = emu.json(&[eject]);
        assert_eq!(v["command"], "eject");
        assert!(v["position"].is_null());
        assert!(!emu.lib.read_state().unwrap().drives[0].loaded, "{eject}");
        let v = emu.json(&["load"]);
        assert_eq!(position_of(&v), (0, 0));
        assert!(emu.lib.read_state().unwrap().drives[0].loaded);
    }
}

#[test]
fn options_set_and_report() {
    let emu = Emu::new();
    let s = emu.json(&[
        "options",
        "--blocksize",
        "65536",
        "--compression",
        "off",
        "--buffer-mode",
        "off",
    ]);
    assert_eq!(s["block_size"], 65536);
    assert_eq!(s["compression"], false);
    assert_eq!(s["buffer_mode"], 0);
    let s = emu.json(&["options", "--defaults"]);
    assert_eq!(s["block_size"], 0);
    assert_eq!(s["compression"], true);
    assert_eq!(s["buffer_mode"], 1);
    let s = emu.json(&["status"]);
    assert_eq!(s["block_size"], 0);
}

#[test]
fn information_pages() {
    let emu = Emu::new();
    let mam = emu.json(&["cartridge-memory"]);
    let attrs = mam.as_array().expect("attribute list");
    let serial = attrs
        .iter()
        .find(|a| a["id"] == 0x0401)
        .expect("medium serial number attribute");
    assert_eq!(serial["name"], "medium_serial_number");
    assert!(attrs.iter().any(|a| a["id"] == 0x0001));

    let stats = emu.json(&["volume-statistics"]);
    assert_eq!(stats["volume_mounts"], 1);
    assert_eq!(stats["volume_barcode"], pmt_util::BARCODE);

    let alerts = emu.json(&["tape-alert-flags"]);
    assert_eq!(alerts.as_array().map(Vec::len), Some(0));

    let density = emu.json(&["density"]);
    let drive = density["drive"].as_array().expect("drive densities");
    assert!(drive.iter().any(|d| d["primary_density_code"] == 0x60));
    let medium = density["medium"].as_array().expect("medium densities");
    assert_eq!(medium[0]["primary_density_code"], 0x60);
}

#[test]
fn encryption_set_status_clear() {
    let emu = Emu::new();
    let s = emu.json(&["encryption", "status"]);
    assert_eq!(s["encrypting"], false);
    let key_file = emu.dir().join("key.hex");
    std::fs::write(
        &key_file,
        "00112233445566778899aabbccddeeff".repeat(2) + "\n",
    )
    .unwrap();
    let s = emu.json(&[
        "encryption",
        "set",
        "--key-file",
        &key_file.to_string_lossy(),
    ]);
    assert_eq!(s["encrypting"], true);
    // Data written now reads back (the drive decrypts with the same key).
    emu.json(&["rewind"]);
    let data = pattern(5, 5000);
    emu.write_file(&data, 4096);
    emu.json(&["rewind"]);
    assert!(emu.read_file() == data);
    let s = emu.json(&["encryption", "clear"]);
    assert_eq!(s["encrypting"], false);
    // A bad key file is a clear error.
    std::fs::write(&key_file, "not a key").unwrap();
    let err = emu.fails(&[
        "encryption",
        "set",
        "--key-file",
        &key_file.to_string_lossy(),
    ]);
    assert!(err.starts_with("pmt: "), "{err}");
    assert!(err.to_lowercase().contains("key"), "{err}");
}

#[test]
fn write_and_read_report_summaries() {
    let emu = Emu::new();
    let v = emu.write_file(&pattern(1, 10_000), 4096);
    assert_eq!(v["blocks"], 3);
    assert_eq!(v["bytes"], 10_000);
    assert_eq!(v["end"], "filemark");
    assert_eq!(v["early_warning"], false);
    emu.json(&["rewind"]);
    let out = emu
        .pmt(&["read", "--output-format", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(out.stdout, pattern(1, 10_000));
    let summary: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(summary["blocks"], 3);
    assert_eq!(summary["end"], "filemark");
}

#[test]
fn scan_lists_emulated_drives() {
    let emu = Emu::new();
    let mut cmd = pmt();
    cmd.args(["scan", "--emulated"]).arg(emu.dir());
    let v = run_json(cmd, &["scan"]);
    let drives = v.as_array().unwrap();
    let emulated: Vec<_> = drives.iter().filter(|d| d["emulated"] == true).collect();
    assert_eq!(emulated.len(), 1, "{v}");
    assert_eq!(emulated[0]["path"], emu.drive());
    assert_eq!(emulated[0]["model"], "ULTRIUM-TD9");
    assert!(emulated[0]["serial"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
}

#[test]
fn completions_and_man_pages() {
    let mut cmd = pmt();
    cmd.args(["completions", "bash"]);
    let script = run_stdout(cmd);
    assert!(
        script.contains("pmt") && script.contains("fsfm"),
        "bash completion"
    );
    let dir = tempfile::tempdir().unwrap();
    pmt().arg("man").arg(dir.path()).assert().success();
    let page = std::fs::read_to_string(dir.path().join("pmt.1")).unwrap();
    assert!(page.contains(".TH pmt"), "{page}");
    assert!(dir.path().join("pmt-status.1").is_file());
    assert!(
        !dir.path().join("pmt-man.1").exists(),
        "hidden command has no page"
    );
}

#[test]
fn device_from_tape_environment_variable() {
    let emu = Emu::new();
    let mut cmd = pmt();
    cmd.env("TAPE", emu.drive()).arg("status");
    let v = run_json(cmd, &["status"]);
    assert_eq!(v["device"], emu.drive());
}

#[test]
fn write_reports_early_warning() {
    use pbs_tape::emulator::state::LibraryConfig;
    let emu = Emu::empty_with(LibraryConfig {
        capacity: 1 << 20,
        early_warning: 512 << 10,
        ..LibraryConfig::default()
    });
    emu.lib.insert(0, pmt_util::BARCODE).unwrap();
    emu.settle();
    let out = emu
        .pmt(&["write", "--block-size", "65536", "--output-format", "json"])
        .write_stdin(pattern(1, 700 << 10))
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["early_warning"], true);
    assert_eq!(v["bytes"], 700 << 10);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("early warning"), "{err}");
}

/// A drive that rejects the long form of READ POSITION (05/24/00, like
/// older drives and Linux's scsi_debug tape): status and the position
/// reports fall back to the short form, say so, and show the logical object
/// (what `mt tell` shows) without inventing a file number.
#[test]
fn short_form_only_drive_reports_its_position_and_form() {
    use pbs_tape::emulator::state::{DrivePersonality, LibraryConfig};
    let emu = Emu::empty_with(LibraryConfig {
        drive_personality: DrivePersonality {
            short_position_only: true,
            ..DrivePersonality::default()
        },
        ..LibraryConfig::default()
    });
    emu.lib.insert(0, pmt_util::BARCODE).unwrap();
    emu.settle();
    three_files(&emu);
    let s = emu.json(&["status"]);
    assert_eq!(s["position_form"], "short", "{s}");
    assert_eq!(s["logical_object_number"], 9, "{s}");
    assert_eq!(s["file_number"], serde_json::Value::Null, "{s}");
    assert_eq!(s["position_error"], serde_json::Value::Null, "{s}");
    let text = run_stdout(emu.pmt(&["status"]));
    assert!(text.contains("short"), "{text}");
    let v = emu.json(&["rewind"]);
    assert_eq!(v["position"]["form"], "short");
    assert_eq!(position_of(&v), (0, 0), "BOT is file 0 in either form");
    let v = emu.json(&["fsf", "2"]);
    assert_eq!(v["position"]["logical_object"], 6, "{v}");
    assert_eq!(v["position"]["file_number"], serde_json::Value::Null, "{v}");
    // Reading and seeking by file still work (rewind + space).
    assert_eq!(emu.read_file(), pattern(2, 2000));
    emu.json(&["asf", "1"]);
    assert_eq!(emu.read_file(), pattern(1, 2000));
}
