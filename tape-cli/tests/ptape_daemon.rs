//! `ptape daemon` as a real process: a job scheduled every minute runs
//! within a minute; two jobs on two drives of one emulated library run at
//! the same time on different tapes; a job whose drive is busy waits for
//! it; `kill -9` of the daemon mid-job leaves an interrupted run, the next
//! daemon records it and the next run succeeds on a consistent catalog.
//!
//! The daemon wakes every `PTAPE_TEST_TICK` seconds instead of each
//! wall-clock minute (schedules still follow the real clock); jobs that
//! must be due at once are created "in the past" with `PTAPE_TEST_NOW`.

mod cli_util;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cli_util::{pseudo_random, Ptape};
use serde_json::Value;

struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

impl std::ops::Deref for Env {
    type Target = Ptape;
    fn deref(&self) -> &Ptape {
        &self.cli
    }
}

/// A running `ptape daemon`; stopped (SIGTERM, then SIGKILL) when dropped.
struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    fn pid(&self) -> i32 {
        self.child.as_ref().unwrap().id() as i32
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and the exit status once it ended.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(child.id() as i32, "TERM");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the daemon did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the daemon's stderr contains `text`.
    fn wait_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.log().contains(text) {
            assert!(Instant::now() < deadline, "no {text:?} in {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id() as i32, "TERM");
            std::thread::sleep(Duration::from_millis(500));
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: i32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// RFC 3339 with milliseconds, as the history prints it, compared as
/// text (same format, same zone).
fn ms(v: &Value) -> &str {
    v.as_str().unwrap()
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli }
    }

    fn source(&self, name: &str, bytes: usize, seed: u64) -> PathBuf {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("data.bin"), pseudo_random(bytes, seed)).unwrap();
        dir
    }

    fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ptape"));
        cmd.env("PTAPE_CONFIG_DIR", self.tmp.path().join("config"))
            .env("PTAPE_DATA_DIR", self.data_dir())
            .env_remove("PTAPE_TEST_NOW")
            .env_remove("RUST_LOG");
        cmd
    }

    fn daemon(&self, name: &str) -> Daemon {
        self.daemon_with(name, &[])
    }

    /// `ptape daemon ARGS...`.
    fn daemon_with(&self, name: &str, args: &[&str]) -> Daemon {
        let log = self.tmp.path().join(format!("{name}.log"));
        let child = self
            .process()
            .args(["daemon"])
            .args(args)
            .env("PTAPE_TEST_TICK", "0.5")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child: Some(child),
            log,
        }
    }

    /// Creates a job as if `ago` seconds ago (due at once for `*:*`).
    fn job_created_ago(&self, ago: u64, args: &[&str]) {
        let out = self
            .ptape()
            .env("PTAPE_TEST_NOW", format!("@{}", now() - ago))
            .args(["job", "create"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "job create {args:?}: {out:?}");
    }

    /// A library of two drives (`d0`, `d1`) in changer `lib`, with four
    /// tapes each labelled for pools `pa` (AA...) and `pb` (BB...).
    fn two_drive_library(&self) {
        let dir = self.tmp.path().join("lib");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("tape-emu"))
            .args([
                "create",
                s(&dir),
                "--drives",
                "2",
                "--slots",
                "8",
                "--barcodes",
                "AA0001L9..AA0004L9,BB0001L9..BB0004L9",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        self.ok(&["changer", "add", "lib", "--path", s(&dir.join("changer"))]);
        for n in 0..2 {
            self.ok(&[
                "drive",
                "add",
                &format!("d{n}"),
                "--path",
                s(&dir.join(format!("drive{n}"))),
                "--changer",
                "lib",
                "--changer-drivenum",
                &n.to_string(),
            ]);
        }
        for pool in ["pa", "pb"] {
            self.ok(&["pool", "create", pool]);
        }
        for i in 1..=2 {
            for (prefix, pool) in [("AA", "pa"), ("BB", "pb")] {
                self.ok(&[
                    "label",
                    "--barcode",
                    &format!("{prefix}000{i}L9"),
                    "--pool",
                    pool,
                    "--drive",
                    "d0",
                ]);
            }
        }
    }

    /// Waits until `pred` holds for the history (reading it reaps dead
    /// runs), at most `secs` seconds.
    fn wait_history(&self, secs: u64, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let runs = self.json(&["job", "history"]);
            let runs = runs.as_array().unwrap().clone();
            if pred(&runs) {
                return runs;
            }
            assert!(Instant::now() < deadline, "{what}: {runs:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn task_log(&self, run: &Value) -> String {
        self.ok(&["job", "log", &run["run"].to_string()])
    }
}

fn finished(runs: &[Value], n: usize) -> bool {
    runs.len() >= n && runs.iter().all(|r| r["state"] != "running")
}

/// The time stamp of the first task log line containing `text`.
fn stamp_of<'a>(log: &'a str, text: &str) -> &'a str {
    let line = log
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} in {log}"));
    line.split(' ').next().unwrap()
}

#[test]
fn an_every_minute_job_runs_within_a_minute_and_sigterm_stops_the_daemon() {
    let env = Env::new();
    let src = env.source("src", 1 << 20, 1);
    env.ok(&["pool", "create", "daily"]);
    // Created now: not due before the next full minute.
    env.ok(&[
        "job",
        "create",
        "minutely",
        "--schedule",
        "*:*",
        "--pool",
        "daily",
        s(&src),
    ]);
    let mut daemon = env.daemon("daemon");
    let status = env.wait_history_status(&daemon);
    assert_eq!(status["daemon"]["running"], true, "{status}");
    assert_eq!(status["daemon"]["pid"], daemon.pid());
    assert_eq!(status["jobs"][0]["id"], "minutely");
    let runs = env.wait_history(75, "a run within about a minute", |r| finished(r, 1));
    assert_eq!(runs[0]["state"], "ok", "{runs:?}\n{}", daemon.log());
    assert_eq!(runs[0]["job"], "minutely");
    // It ran at the full minute (the first occurrence after creation).
    assert!(ms(&runs[0]["start"])[17..].starts_with("0"), "{runs:?}");
    let log = env.task_log(&runs[0]);
    assert!(
        log.lines()
            .next()
            .unwrap()
            .ends_with("task triggered by schedule '*:*'"),
        "{log}"
    );
    assert!(
        daemon.log().contains("job minutely: started"),
        "{}",
        daemon.log()
    );

    let exit = daemon.terminate();
    assert!(exit.success(), "{exit:?}: {}", daemon.log());
    assert!(daemon.log().contains("stopped"), "{}", daemon.log());
    assert_eq!(env.json(&["status"])["daemon"]["running"], false);
}

impl Env {
    /// `ptape status` once the daemon has started.
    fn wait_history_status(&self, daemon: &Daemon) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.json(&["status"]);
            if status["daemon"]["running"] == true && !status["daemon"]["pid"].is_null() {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon not up: {}", daemon.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn two_jobs_on_two_drives_run_at_the_same_time_on_different_tapes() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 48 << 20, 2);
    let b = env.source("b", 48 << 20, 3);
    env.job_created_ago(
        120,
        &[
            "ja",
            "--schedule",
            "*:*",
            "--pool",
            "pa",
            "--drive",
            "any",
            s(&a),
        ],
    );
    env.job_created_ago(
        120,
        &[
            "jb",
            "--schedule",
            "*:*",
            "--pool",
            "pb",
            "--drive",
            "any",
            s(&b),
        ],
    );
    let daemon = env.daemon("daemon");
    let runs = env.wait_history(120, "both jobs ran", |r| finished(r, 2));
    let history = env.ok(&["job", "history"]);
    println!("{history}");
    drop(daemon);
    let ra = runs.iter().find(|r| r["job"] == "ja").unwrap();
    let rb = runs.iter().find(|r| r["job"] == "jb").unwrap();
    assert_eq!(ra["state"], "ok", "{history}");
    assert_eq!(rb["state"], "ok", "{history}");
    // Overlapping runs.
    assert!(
        ms(&ra["start"]) < ms(&rb["end"]) && ms(&rb["start"]) < ms(&ra["end"]),
        "{history}"
    );
    // Different drives, different tapes (each its pool's).
    let (la, lb) = (env.task_log(ra), env.task_log(rb));
    let drive = |log: &str| {
        stamp_line(log, "using drive ")
            .split(' ')
            .nth(3)
            .unwrap()
            .to_string()
    };
    assert_ne!(drive(&la), drive(&lb), "{la}\n{lb}");
    let tapes = |r: &Value| -> Vec<String> {
        r["tapes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    assert!(tapes(ra).iter().all(|t| t.starts_with("AA")), "{history}");
    assert!(tapes(rb).iter().all(|t| t.starts_with("BB")), "{history}");
    // The writing itself overlapped: each started writing before the other ended.
    assert!(
        stamp_of(&la, "writing to tape") < stamp_of(&lb, "TASK OK"),
        "{la}\n{lb}"
    );
    assert!(
        stamp_of(&lb, "writing to tape") < stamp_of(&la, "TASK OK"),
        "{la}\n{lb}"
    );
}

fn stamp_line<'a>(log: &'a str, text: &str) -> &'a str {
    log.lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} in {log}"))
}

#[test]
fn a_job_whose_drive_is_busy_waits_for_it() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 32 << 20, 4);
    let b = env.source("b", 32 << 20, 5);
    env.job_created_ago(
        120,
        &[
            "ja",
            "--schedule",
            "*:*",
            "--pool",
            "pa",
            "--drive",
            "d0",
            s(&a),
        ],
    );
    env.job_created_ago(
        120,
        &[
            "jb",
            "--schedule",
            "*:*",
            "--pool",
            "pb",
            "--drive",
            "d0",
            s(&b),
        ],
    );
    let daemon = env.daemon("daemon");
    let runs = env.wait_history(120, "both jobs ran", |r| finished(r, 2));
    drop(daemon);
    let history = env.ok(&["job", "history"]);
    assert!(runs.iter().all(|r| r["state"] == "ok"), "{history}");
    let logs: Vec<String> = runs.iter().map(|r| env.task_log(r)).collect();
    let waited: Vec<usize> = (0..2)
        .filter(|&i| logs[i].contains("waiting for drive lock"))
        .collect();
    assert_eq!(
        waited.len(),
        1,
        "exactly one waited:\n{}\n{}",
        logs[0],
        logs[1]
    );
    let (w, o) = (waited[0], 1 - waited[0]);
    // The waiting run had the drive only after the other run released it
    // (that line is written just before the release).
    let free = stamp_of(&logs[w], "is free after");
    let released = stamp_of(&logs[o], "releasing drive d0");
    assert!(free >= released, "{free} < {released}\n{history}");
    assert!(
        stamp_of(&logs[w], "writing to tape") >= released,
        "{history}"
    );
    // ... which was after the other run's last tape activity.
    assert!(released >= stamp_of(&logs[o], "snapshot "), "{}", logs[o]);
    assert!(logs[w].contains("using drive d0"), "{}", logs[w]);
}

#[test]
fn kill_9_of_the_daemon_mid_job_leaves_an_interrupted_run_and_the_next_run_succeeds() {
    let env = Env::new();
    let src = env.source("src", 256 << 20, 6);
    env.ok(&["pool", "create", "daily"]);
    env.job_created_ago(
        120,
        &["big", "--schedule", "*:*", "--pool", "daily", s(&src)],
    );
    let mut daemon = env.daemon("first");
    let log = env.data_dir().join("jobs/logs/1.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("writing to tape")) {
        assert!(
            Instant::now() < deadline,
            "the run never wrote: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill9();
    // The job dies with the daemon: its lock becomes free.
    let lock = env.data_dir().join("jobs/locks/big.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let f = std::fs::File::open(&lock).unwrap();
        if nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the job outlived its daemon");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains("TASK"), "the run finished: {log_text}");

    // The next daemon records the dead run as interrupted and runs the
    // job again at its next occurrence.
    let second = env.daemon("second");
    second.wait_log("ptape daemon: started");
    let runs = env.wait_history(100, "the next run", |r| {
        r.len() >= 2 && r[0]["state"] != "running"
    });
    assert!(
        second.log().contains("run 1 was left running"),
        "{}",
        second.log()
    );
    drop(second);
    let history = env.ok(&["job", "history"]);
    let first = runs.iter().find(|r| r["run"] == 1).unwrap();
    assert_eq!(first["state"], "interrupted", "{history}");
    assert_eq!(first["snapshot"], Value::Null);
    assert_eq!(runs[0]["state"], "ok", "{history}");
    // Consistent: one snapshot, and every media set reads back.
    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps}");
    let verify = env
        .ptape()
        .args(["verify", "--pool", "daily"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

#[test]
fn sigterm_stops_a_job_waiting_for_its_drive_as_interrupted() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 1 << 20, 7);
    env.job_created_ago(
        120,
        &[
            "ja",
            "--schedule",
            "*:*",
            "--pool",
            "pa",
            "--drive",
            "d1",
            s(&a),
        ],
    );
    // Another program holds drive d1.
    let path = env.tmp.path().join("lib/drive1");
    let held = ptape::lock::DeviceLock::acquire(
        ptape::lock::DeviceRole::Drive,
        "d1",
        s(&path),
        "pmt status",
        ptape::lock::WaitPolicy::NoWait,
    )
    .unwrap();
    let mut daemon = env.daemon("daemon");
    let log = env.data_dir().join("jobs/logs/1.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("waiting for drive lock")) {
        assert!(Instant::now() < deadline, "no wait: {}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("pmt status"), "the holder is named: {text}");
    let exit = daemon.terminate();
    assert!(exit.success(), "{exit:?}: {}", daemon.log());
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs[0]["state"], "interrupted", "{runs}\n{}", daemon.log());
    assert!(runs[0]["message"]
        .as_str()
        .unwrap()
        .contains("stopped while waiting"));
    drop(held);
    let out = env.json(&["job", "run", "ja"]);
    assert_eq!(out["state"], "ok", "{out}");
}

#[test]
fn the_daemon_rereads_jobs_on_change_and_on_sighup_and_keeps_good_jobs_over_bad_edits() {
    let env = Env::new();
    let src = env.source("src", 1 << 20, 8);
    env.ok(&["pool", "create", "daily"]);
    let daemon = env.daemon("daemon");
    daemon.wait_log("ptape daemon: started");
    assert!(daemon.log().contains("0 jobs"), "{}", daemon.log());
    // A job added while the daemon runs (created "two minutes ago": due).
    env.job_created_ago(
        120,
        &["late", "--schedule", "*:*", "--pool", "daily", s(&src)],
    );
    daemon.wait_log("(changed): 1 job");
    let runs = env.wait_history(60, "the new job ran", |r| finished(r, 1));
    assert_eq!(runs[0]["state"], "ok", "{runs:?}");
    // A broken edit keeps the jobs the daemon has, and says why.
    let toml = env.tmp.path().join("config/jobs.toml");
    let good = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{good}\n[job.bad]\nschedule = \"never\"\n")).unwrap();
    daemon.wait_log("keeping the previous jobs");
    assert!(daemon.log().contains("job \"bad\""), "{}", daemon.log());
    std::fs::write(&toml, &good).unwrap();
    signal(daemon.pid(), "HUP");
    daemon.wait_log("(SIGHUP): 1 job");
}

#[test]
fn a_job_exports_its_media_set_when_done_and_warns_when_the_slots_are_full() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 1 << 20, 10);
    let b = env.source("b", 1 << 20, 11);
    env.ok(&[
        "job",
        "create",
        "ja",
        "--schedule",
        "daily",
        "--pool",
        "pa",
        "--drive",
        "d0",
        "--export-media-set",
        s(&a),
    ]);
    env.ok(&[
        "job",
        "create",
        "jb",
        "--schedule",
        "daily",
        "--pool",
        "pb",
        "--drive",
        "d1",
        "--export-media-set",
        s(&b),
    ]);
    let out = env.json(&["job", "run", "ja"]);
    assert_eq!(out["state"], "ok", "{out}");
    let tape = out["tapes"][0].as_str().unwrap().to_string();
    let log = env.ok(&["job", "log", &out["run"].to_string()]);
    assert!(
        log.contains("exported media set") && log.contains(&tape),
        "{log}"
    );
    let media = env.json(&["media", "list"]);
    let row = media
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"] == tape.as_str())
        .unwrap();
    assert_eq!(row["location"], "offline", "{media}");
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("tape-emu"))
        .args(["status", s(&env.tmp.path().join("lib"))])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains(&tape) && l.to_lowercase().contains("i/e")
                || l.contains(&tape) && l.to_lowercase().contains("import")),
        "{text}"
    );
    // The only import/export slot is full now: the next export leaves its
    // tape in the library and the run finishes with a warning (exit 3).
    let out = env.ptape().args(["job", "run", "jb"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let runs = env.json(&["job", "history", "jb"]);
    assert_eq!(runs[0]["state"], "warnings", "{runs}");
    let message = runs[0]["message"].as_str().unwrap();
    assert!(message.contains("left BB000"), "{message}");
    assert!(runs[0]["snapshot"].as_str().unwrap().starts_with("pb/jb/"));
}

#[test]
fn a_scheduled_run_posts_its_outcome_to_the_jobs_webhook() {
    use cli_util::http_receiver::Receiver;
    let env = Env::new();
    let src = env.source("src", 1 << 20, 12);
    env.ok(&["pool", "create", "daily"]);
    let rx = Receiver::start(&[]);
    env.ok(&["notify", "add", "web", "--webhook", &rx.url]);
    env.job_created_ago(
        120,
        &[
            "nightly",
            "--schedule",
            "*:*",
            "--pool",
            "daily",
            "--notify",
            "web",
            s(&src),
        ],
    );
    let daemon = env.daemon("daemon");
    let runs = env.wait_history(60, "the run", |r| finished(r, 1));
    // The notification follows the recorded outcome; its outcome is the
    // task log's last line.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !env.task_log(&runs[0]).contains("notified web") {
        assert!(Instant::now() < deadline, "no webhook: {}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(daemon);
    // A `*:*` schedule may fire again when the first run ends in the next
    // minute: exactly one notification per run, this run's checked.
    let docs: Vec<Value> = rx
        .requests()
        .iter()
        .map(|r| r.json())
        .filter(|d| d["run"] == runs[0]["run"])
        .collect();
    assert_eq!(docs.len(), 1, "{docs:?}");
    let doc = &docs[0];
    assert_eq!(doc["event"], "job_finished", "{doc}");
    assert_eq!(doc["job"], "nightly");
    assert_eq!(doc["state"], "ok");
    assert_eq!(doc["run"], runs[0]["run"]);
    assert_eq!(doc["snapshot"], runs[0]["snapshot"]);
    assert_eq!(doc["tapes"], runs[0]["tapes"]);
    assert_eq!(doc["bytes_written"], runs[0]["bytes_written"]);
    let log = env.task_log(&runs[0]);
    assert!(log.contains("task triggered by schedule"), "{log}");
    assert!(
        log.contains("notified web (webhook) of job_finished"),
        "{log}"
    );
}

#[test]
fn sigterm_to_the_daemon_mid_write_stops_the_job_interrupted_and_the_next_run_succeeds() {
    let env = Env::new();
    let src = env.source("src", 192 << 20, 14);
    env.ok(&["pool", "create", "daily"]);
    env.job_created_ago(
        120,
        &["big", "--schedule", "*:*", "--pool", "daily", s(&src)],
    );
    let mut daemon = env.daemon("daemon");
    let log = env.data_dir().join("jobs/logs/1.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("percentage done: 10%")) {
        assert!(
            Instant::now() < deadline,
            "the run never wrote: {}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let exit = daemon.terminate();
    assert!(exit.success(), "{exit:?}: {}", daemon.log());
    let text = std::fs::read_to_string(&log).unwrap();
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs[0]["state"], "interrupted", "{runs}\n{text}");
    assert!(
        runs[0]["message"]
            .as_str()
            .unwrap()
            .contains("stopped on request"),
        "{runs}"
    );
    assert!(!text.contains("percentage done: 100%"), "{text}");
    assert!(env.json(&["snapshots"]).as_array().unwrap().is_empty());
    // The drive is free and the tape appendable: a run by hand succeeds.
    let out = env.json(&["job", "run", "big"]);
    assert_eq!(out["state"], "ok", "{out}");
    let verify = env
        .ptape()
        .args(["verify", "--pool", "daily"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

#[test]
fn wait_and_no_wait_mean_the_same_for_job_runs_by_hand_and_for_the_daemon() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 1 << 20, 15);
    env.job_created_ago(
        120,
        &[
            "ja",
            "--schedule",
            "*:*",
            "--pool",
            "pa",
            "--drive",
            "d1",
            s(&a),
        ],
    );
    let path = env.tmp.path().join("lib/drive1");
    let held = ptape::lock::DeviceLock::acquire(
        ptape::lock::DeviceRole::Drive,
        "d1",
        s(&path),
        "pmt status",
        ptape::lock::WaitPolicy::NoWait,
    )
    .unwrap();
    // The daemon with --no-wait: its scheduled run fails at once.
    let daemon = env.daemon_with("daemon", &["--no-wait"]);
    daemon.wait_log("jobs wait for busy drives and missing tapes: no (--no-wait)");
    let runs = env.wait_history(60, "the scheduled run", |r| finished(r, 1));
    drop(daemon);
    assert_eq!(runs[0]["state"], "error", "{runs:?}");
    let log = env.task_log(&runs[0]);
    assert!(log.contains("task triggered by schedule"), "{log}");
    assert!(log.contains("not waiting for it"), "{log}");
    // By hand: no waiting unless asked (like ptape backup) either.
    let err = env.fails(&["job", "run", "ja"]);
    assert!(err.contains("pmt status"), "{err}");
    assert!(err.contains("--wait"), "{err}");
    let err = env.fails(&["job", "run", "ja", "--wait=1"]);
    assert!(err.contains("gave up after waiting"), "{err}");
    let err = env.fails(&["--no-wait", "job", "run", "ja"]);
    assert!(err.contains("not waiting"), "{err}");
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs.as_array().unwrap().len(), 4, "{runs}");
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "error"),
        "{runs}"
    );
    let log = env.task_log(&runs[1]);
    assert!(log.contains("waiting for drive lock"), "{log}");

    drop(held);
}

#[test]
fn a_job_whose_tape_was_exported_asks_for_it_once_and_waits_for_the_mail_slot() {
    use cli_util::http_receiver::Receiver;
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 1 << 20, 16);
    let rx = Receiver::start(&[]);
    env.ok(&["notify", "add", "web", "--webhook", &rx.url]);
    env.ok(&[
        "job",
        "create",
        "ja",
        "--schedule",
        "daily",
        "--pool",
        "pa",
        "--drive",
        "d0",
        "--export-media-set",
        "--notify",
        "web",
        s(&a),
    ]);
    let at = |later: u64| format!("@{}", now() + later);
    let first = env
        .ptape()
        .env("PTAPE_TEST_NOW", at(0))
        .args(["job", "run", "ja", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    let tape = first["tapes"][0].as_str().unwrap().to_string();
    env.ok(&["job", "update", "ja", "--keep-media"]);
    let events = |rx: &Receiver| -> Vec<Value> { rx.requests().iter().map(|r| r.json()).collect() };
    assert_eq!(events(&rx).len(), 1);

    // Its media set continues on the exported tape: without --wait the run
    // asks for it once and fails.
    let out = env
        .ptape()
        .env("PTAPE_TEST_NOW", at(60))
        .args(["job", "run", "ja"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let got = events(&rx);
    let names: Vec<&str> = got.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["job_finished", "tape_needed", "job_finished"],
        "{got:?}"
    );
    let need = &got[1];
    assert_eq!(need["labels"], serde_json::json!([tape]), "{need}");
    assert_eq!(need["need"], "any");
    assert_eq!(need["changer"], "lib");
    assert_eq!(need["drive"], "d0");
    assert_eq!(need["pool"], "pa");
    assert_eq!(need["job"], "ja");
    assert!(
        need["reason"]
            .as_str()
            .unwrap()
            .contains("appends to media set"),
        "{need}"
    );
    assert_eq!(
        need["subject"],
        format!("ptape: insert tape {tape} into changer lib")
    );
    assert_eq!(got[2]["state"], "error");

    // With --wait it asks once more and takes the tape from the mail slot.
    let out = env
        .ptape()
        .env("PTAPE_TEST_NOW", at(120))
        .args(["job", "run", "ja", "--wait=120", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["tapes"], serde_json::json!([tape]), "{run}");
    let got = events(&rx);
    let names: Vec<&str> = got.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "job_finished",
            "tape_needed",
            "job_finished",
            "tape_needed",
            "job_finished"
        ],
        "{got:?}"
    );
    assert_eq!(got[4]["state"], "ok");
    let log = env.task_log(&run);
    assert!(log.contains(&format!("please insert {tape}")), "{log}");
    assert!(log.contains("tape inserted into changer 'lib'"), "{log}");
}

#[test]
fn a_scheduled_job_waits_for_its_tape_and_sigterm_ends_the_wait_as_interrupted() {
    let env = Env::new();
    env.two_drive_library();
    let a = env.source("a", 1 << 20, 17);
    env.job_created_ago(
        300,
        &[
            "ja",
            "--schedule",
            "*:*",
            "--pool",
            "pa",
            "--drive",
            "d0",
            "--export-media-set",
            s(&a),
        ],
    );
    // A first run (two minutes ago) exported its set's tape.
    let first = env
        .ptape()
        .env("PTAPE_TEST_NOW", format!("@{}", now() - 120))
        .args(["job", "run", "ja", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    let tape = first["tapes"][0].as_str().unwrap().to_string();
    env.ok(&["job", "update", "ja", "--keep-media"]);
    // The operator took it out of the mail slot (slot 9, after 8 storage
    // slots) to the vault.
    let emu = |args: &[&str]| {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("tape-emu"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "tape-emu {args:?}: {out:?}");
    };
    let lib = env.tmp.path().join("lib");
    emu(&["take", s(&lib), "9"]);
    // The scheduled run asks for it and waits (the daemon's default).
    let mut daemon = env.daemon("daemon");
    daemon.wait_log("missing tapes: as long as it takes");
    let log = env.data_dir().join("jobs/logs/2.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("please insert")) {
        assert!(Instant::now() < deadline, "no request: {}", daemon.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(&format!("please insert {tape} into changer 'lib'")),
        "{text}"
    );
    let exit = daemon.terminate();
    assert!(exit.success(), "{exit:?}: {}", daemon.log());
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs[0]["run"], 2, "{runs}");
    assert_eq!(runs[0]["state"], "interrupted", "{runs}");
    let message = runs[0]["message"].as_str().unwrap();
    assert!(message.contains("stopped while waiting for"), "{message}");
    assert!(message.contains(&tape), "{message}");
    assert_eq!(env.json(&["snapshots"]).as_array().unwrap().len(), 1);
    // Back from the vault into the mail slot: a waiting run takes it.
    emu(&["import", s(&lib), &tape]);
    let out = env.json(&["job", "run", "ja", "--wait=60"]);
    assert_eq!(out["state"], "ok", "{out}");
    assert_eq!(out["tapes"], serde_json::json!([tape]));
}
