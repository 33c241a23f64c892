//! Exclusive devices between real processes (issue 10 item 5): a `pmt
//! read` blocked on a full pipe holds the embedded library's drive through
//! the device lock (not the emulator's own flock, which is only taken when
//! the device is opened: the lock comes first); `ptape backup` and `pmt`
//! are told who holds it, `--wait=SECS` gives up naming the holder, and
//! `--wait` waits and then succeeds.

mod cli_util;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use cli_util::{pseudo_random, Ptape};
use pbs_tape::emulator::Library;

struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
    locks: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        let locks = tmp.path().join("locks");
        Env { tmp, cli, locks }
    }

    fn ptape(&self) -> assert_cmd::Command {
        let mut cmd = self.cli.ptape();
        cmd.env("PTAPE_LOCK_DIR", &self.locks);
        cmd
    }

    fn bin(&self, name: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin(name));
        cmd.env("PTAPE_CONFIG_DIR", self.tmp.path().join("config"))
            .env("PTAPE_DATA_DIR", self.cli.data_dir())
            .env("PTAPE_LOCK_DIR", &self.locks)
            .env_remove("TAPE")
            .env_remove("CHANGER")
            .env_remove("RUST_LOG");
        cmd
    }

    fn lib_dir(&self) -> PathBuf {
        self.cli.data_dir().join("library")
    }

    fn source(&self, name: &str, len: usize, seed: u64) -> PathBuf {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("data.bin"), pseudo_random(len, seed)).unwrap();
        dir
    }
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until the lock file of the drive records `pid` as its holder.
fn wait_for_holder(locks: &Path, pid: u32, child: &mut Child) {
    loop {
        let held = std::fs::read_dir(locks)
            .ok()
            .into_iter()
            .flatten()
            .any(|e| {
                let path = e.unwrap().path();
                path.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("drive-")
                    && ptape::lock::read_holder(&path).is_some_and(|h| h.pid == pid)
            });
        if held {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the holder exited early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_second_process_is_told_who_holds_the_drive_and_waits_for_it_with_wait() {
    let env = Env::new();
    // A first backup creates the embedded library and writes tape file 2
    // (a chunk archive of several MiB) on PT0001L9.
    let src = env.source("a", 4 << 20, 1);
    env.ptape()
        .args(["backup", "--id", "a", src.to_str().unwrap()])
        .assert()
        .success();
    let lib = Library::open(&env.lib_dir()).unwrap();
    let serial = lib.read_state().unwrap().drives[0].serial.clone();
    let drive = lib.drive_device_path(0).display().to_string();
    let changer = lib.changer_device_path().display().to_string();
    ok(
        env.bin("pmtx")
            .args(["-f", &changer, "load", "--barcode", "PT0001L9"])
            .output()
            .unwrap(),
        "pmtx load",
    );
    ok(
        env.bin("pmt")
            .args(["-f", &drive, "asf", "2"])
            .output()
            .unwrap(),
        "pmt asf 2",
    );

    // The holder: `pmt read` of that file into a pipe nobody reads yet.
    let mut holder = env
        .bin("pmt")
        .args(["-f", &drive, "read"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = holder.id();
    wait_for_holder(&env.locks, pid, &mut holder);

    // ptape: fails at once, naming the drive, its serial and the holder.
    let src_b = env.source("b", 1 << 20, 2);
    let out = env
        .ptape()
        .args(["backup", "--id", "b", src_b.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let status: serde_json::Value = serde_json::from_str(&ok(
        env.bin("ptape")
            .args(["status", "--output-format", "json"])
            .output()
            .unwrap(),
        "ptape status",
    ))
    .unwrap();
    let name = status["drive"]["name"].as_str().unwrap().to_string();
    let want =
        format!("drive {name} ({drive}, serial {serial}) is in use by pid {pid} (pmt read, since ");
    assert!(err.contains(&want), "want {want:?} in: {err}");

    // pmt on the same drive: the same answer.
    let out = env
        .bin("pmt")
        .args(["-f", &drive, "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "serial {serial}) is in use by pid {pid} (pmt read, since "
        )),
        "{err}"
    );

    // --wait=1: gives up after a second, still naming the holder.
    let out = env
        .ptape()
        .args(["backup", "--wait=1", "--id", "b", src_b.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("gave up after waiting 1 s"), "{err}");
    assert_eq!(
        status_snapshots(&env),
        1,
        "no snapshot from the refused jobs"
    );

    // --wait: the job waits (it says so), then runs once the drive is free.
    let mut waiter = env
        .bin("ptape")
        .args(["backup", "--wait", "--id", "b", src_b.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(waiter.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the waiting job ended without waiting: {seen}");
        }
        seen.push_str(&line);
        if line.contains("waiting (wait forever)") {
            assert!(line.contains(&want), "{line}");
            break;
        }
    }
    // Free the drive: drain the reader, which then ends.
    let mut data = Vec::new();
    holder
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut data)
        .unwrap();
    assert!(holder.wait().unwrap().success());
    assert!(data.len() > 1 << 20, "pmt read copied the archive");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = waiter.wait().unwrap();
    assert!(status.success(), "the waiting job failed: {seen}{rest}");
    assert_eq!(status_snapshots(&env), 2);
    // Released: the lock file records nobody.
    for e in std::fs::read_dir(&env.locks).unwrap() {
        assert_eq!(ptape::lock::read_holder(&e.unwrap().path()), None);
    }
}

fn status_snapshots(env: &Env) -> usize {
    let out = ok(
        env.bin("ptape")
            .args(["snapshots", "--output-format", "json"])
            .output()
            .unwrap(),
        "ptape snapshots",
    );
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}
