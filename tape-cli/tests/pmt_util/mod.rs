//! Shared helpers of the pmt tests: a fresh emulated standalone drive per
//! test and a `pmt` command builder that reads like a shell session.
#![allow(dead_code)]

#[path = "../cli_util/mod.rs"]
mod cli_util;

#[path = "../../../pbs-tape/tests/drive_util/pattern.rs"]
mod pattern;

use std::path::PathBuf;

use assert_cmd::Command;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::Library;
use serde_json::Value;

// Not every test binary that includes this module uses every helper.
#[allow(unused_imports)]
pub use cli_util::{run_fails, run_json, run_stdout};
#[allow(unused_imports)]
pub use pattern::pattern;

pub const BARCODE: &str = "TAPE01L9";

pub struct Emu {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
}

impl Emu {
    /// A standalone drive with cartridge [`BARCODE`] loaded, its "medium
    /// may have changed" unit attention already reported (as after a `pmt
    /// status`: `pmt write` refuses to write while it is pending).
    pub fn new() -> Emu {
        let emu = Self::empty();
        emu.lib.insert(0, BARCODE).expect("insert cartridge");
        emu.settle();
        emu
    }

    /// Lets the drive report a pending unit attention (TEST UNIT READY).
    pub fn settle(&self) {
        let mut drive = pbs_tape::drive::LtoDrive::open(&self.drive()).expect("open drive");
        let _ = drive.test_unit_ready();
    }

    /// A standalone drive without a cartridge.
    pub fn empty() -> Emu {
        Self::empty_with(LibraryConfig::default())
    }

    /// A standalone drive (slots and import/export slots forced to 0) built
    /// from `config`, without a cartridge.
    pub fn empty_with(config: LibraryConfig) -> Emu {
        let tmp = tempfile::tempdir().expect("tempdir");
        let config = LibraryConfig {
            slots: 0,
            ie_slots: 0,
            ..config
        };
        let lib = Library::create(tmp.path(), config, &[], &[]).expect("create library");
        Emu { tmp, lib }
    }

    pub fn drive(&self) -> String {
        self.lib.drive_device_path(0).to_string_lossy().into_owned()
    }

    /// `pmt -f DRIVE ARGS...` with a clean environment for device selection.
    pub fn pmt(&self, args: &[&str]) -> Command {
        let mut cmd = pmt();
        cmd.arg("-f").arg(self.drive()).args(args);
        cmd
    }

    /// Run `pmt ARGS... --output-format json`, expect success, parse stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        run_json(self.pmt(args), args)
    }

    /// Run `pmt ARGS...`, expect failure, return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        run_fails(self.pmt(args))
    }

    /// Run `pmt ARGS...` with `input` on stdin, expect failure, return stderr.
    pub fn fails_with_input(&self, args: &[&str], input: Vec<u8>) -> String {
        let mut cmd = self.pmt(args);
        cmd.write_stdin(input);
        run_fails(cmd)
    }

    /// Write `data` as one tape file with `pmt write`.
    pub fn write_file(&self, data: &[u8], block_size: usize) -> Value {
        let args = ["write", "--block-size", &block_size.to_string()];
        let mut cmd = self.pmt(&args);
        cmd.write_stdin(data.to_vec());
        run_json(cmd, &args)
    }

    /// Read one tape file with `pmt read`.
    pub fn read_file(&self) -> Vec<u8> {
        self.pmt(&["read"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    }

    /// Position after a command run with JSON output: (file, logical object).
    pub fn pos(&self, args: &[&str]) -> (u64, u64) {
        let v = self.json(args);
        position_of(&v)
    }

    pub fn dir(&self) -> PathBuf {
        self.tmp.path().to_path_buf()
    }
}

/// `pmt` without -f, with `TAPE` unset and the configuration pointed at an
/// empty directory.
pub fn pmt() -> Command {
    let mut cmd = Command::cargo_bin("pmt").expect("pmt binary");
    cmd.env_remove("TAPE")
        .env("PTAPE_CONFIG_DIR", "/nonexistent/ptape-test-config")
        .env("PTAPE_DATA_DIR", "/nonexistent/ptape-test-data");
    cmd
}

pub fn position_of(v: &Value) -> (u64, u64) {
    let p = &v["position"];
    (
        p["file_number"]
            .as_u64()
            .unwrap_or_else(|| panic!("no position in {v}")),
        p["logical_object"]
            .as_u64()
            .unwrap_or_else(|| panic!("no position in {v}")),
    )
}
