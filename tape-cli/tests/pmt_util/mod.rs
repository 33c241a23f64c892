//! Shared helpers of the pmt tests: a fresh emulated standalone drive per
//! test and a `pmt` command builder that reads like a shell session.
#![allow(dead_code)]

use std::path::PathBuf;

use assert_cmd::Command;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::Library;
use serde_json::Value;

pub const BARCODE: &str = "TAPE01L9";

pub struct Emu {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
}

impl Emu {
    /// A standalone drive with cartridge [`BARCODE`] loaded.
    pub fn new() -> Emu {
        let emu = Self::empty();
        emu.lib.insert(0, BARCODE).expect("insert cartridge");
        emu
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
        let out = self
            .pmt(args)
            .args(["--output-format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap_or_else(|e| {
            panic!(
                "pmt {args:?}: invalid JSON ({e}): {}",
                String::from_utf8_lossy(&out)
            )
        })
    }

    /// Run `pmt ARGS...`, expect failure, return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self
            .pmt(args)
            .assert()
            .failure()
            .code(1)
            .get_output()
            .clone();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Write `data` as one tape file with `pmt write`.
    pub fn write_file(&self, data: &[u8], block_size: usize) -> Value {
        let out = self
            .pmt(&["write", "--block-size", &block_size.to_string()])
            .args(["--output-format", "json"])
            .write_stdin(data.to_vec())
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).expect("write summary JSON")
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

/// Deterministic test data: `len` bytes derived from `seed`.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
