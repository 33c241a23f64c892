//! Helpers shared by the tests that run the CLI binaries as processes:
//! JSON output and failure runs, and `ptape` with its own configuration
//! and data directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A webhook receiver on 127.0.0.1 (shared with the library's tests).
#[path = "../../../tests/common/http_receiver.rs"]
pub mod http_receiver;

/// Run `cmd`, require success, return stdout.
pub fn run_stdout(mut cmd: Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8_lossy(&out).into_owned()
}

/// Run `cmd` with `--output-format json` appended, require success and
/// parse stdout; a failure names `what`.
pub fn run_json(mut cmd: Command, what: &[&str]) -> Value {
    cmd.args(["--output-format", "json"]);
    let out = run_stdout(cmd);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what:?}: invalid JSON ({e}): {out}"))
}

/// Run `cmd`, require exit code 1, return stderr.
pub fn run_fails(mut cmd: Command) -> String {
    let out = cmd.assert().failure().code(1).get_output().clone();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `ptape` with its configuration in `ROOT/config` and its data in
/// `ROOT/data`, and no device selection from the environment.
pub struct Ptape {
    root: PathBuf,
}

impl Ptape {
    pub fn new(root: &Path) -> Ptape {
        Ptape {
            root: root.to_path_buf(),
        }
    }

    /// The data directory (`ROOT/data`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn ptape(&self) -> Command {
        let mut cmd = Command::cargo_bin("ptape").unwrap();
        cmd.env("PTAPE_CONFIG_DIR", self.root.join("config"))
            .env("PTAPE_DATA_DIR", self.data_dir())
            .env_remove("TAPE")
            .env_remove("CHANGER")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Runs ptape with `args`, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.ptape().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ptape {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs ptape with `args` and `--output-format json`, parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output-format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs ptape with `args`, requires exit code 1, returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.ptape().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "ptape {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

/// Incompressible bytes without extra dependencies (xorshift64).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
