//! `ptape job ...` as a process: the jobs configuration and its checks,
//! runs by hand through the scheduler's code, history and task logs, and
//! dead runs recorded as interrupted.

mod cli_util;

use std::path::{Path, PathBuf};

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

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli }
    }

    /// A source directory with `bytes` of incompressible data.
    fn source(&self, name: &str, bytes: usize, seed: u64) -> PathBuf {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("data.bin"), pseudo_random(bytes, seed)).unwrap();
        std::fs::write(dir.join("small.txt"), b"hello\n").unwrap();
        dir
    }

    /// `ptape` as a std process (to spawn and kill it).
    fn process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ptape"));
        cmd.env("PTAPE_CONFIG_DIR", self.tmp.path().join("config"))
            .env("PTAPE_DATA_DIR", self.data_dir())
            .env_remove("RUST_LOG");
        cmd
    }

    fn jobs_toml(&self) -> PathBuf {
        self.tmp.path().join("config").join("jobs.toml")
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn jobs_are_created_listed_shown_updated_and_removed() {
    let env = Env::new();
    let src = env.source("src", 1000, 1);
    env.ok(&["pool", "create", "daily"]);

    // Bad input: a clear error, nothing written.
    let err = env.fails(&[
        "job",
        "create",
        "a",
        "--schedule",
        "mon..funday",
        "--pool",
        "daily",
        s(&src),
    ]);
    assert!(err.contains("schedule"), "{err}");
    let err = env.fails(&[
        "job",
        "create",
        "a",
        "--schedule",
        "daily",
        "--pool",
        "nopool",
        s(&src),
    ]);
    assert!(err.contains("nopool"), "{err}");
    let err = env.fails(&[
        "job",
        "create",
        "a",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        "/does/not/exist",
    ]);
    assert!(err.contains("/does/not/exist"), "{err}");
    let err = env.fails(&[
        "job",
        "create",
        "a",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        "--drive",
        "nodrive",
        s(&src),
    ]);
    assert!(err.contains("nodrive"), "{err}");
    assert!(!env.jobs_toml().exists());

    // Created at a pinned instant: the next run is the next occurrence.
    let created = env
        .ptape()
        .env("PTAPE_TEST_NOW", "2026-11-25T12:00:00Z")
        .args([
            "job",
            "create",
            "nightly",
            "--schedule",
            "22:00 UTC",
            "--pool",
            "daily",
            "--exclude",
            "*.tmp",
            "--comment",
            "web",
            s(&src),
        ])
        .args(["--output-format", "json"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let info: Value = serde_json::from_slice(&created.stdout).unwrap();
    assert_eq!(info["next_run"], "2026-11-25T22:00:00Z");
    assert_eq!(info["created"], "2026-11-25T12:00:00Z");
    let err = env.fails(&[
        "job",
        "create",
        "nightly",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        s(&src),
    ]);
    assert!(err.contains("already exists"), "{err}");

    let list = env.json(&["job", "list"]);
    let jobs = list.as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["id"], "nightly");
    assert_eq!(jobs[0]["schedule"], "22:00 UTC");
    assert_eq!(jobs[0]["paths"][0], s(&src));
    assert_eq!(jobs[0]["last_run_state"], Value::Null);
    let text = env.ok(&["job", "list"]);
    assert!(
        text.contains("nightly") && text.contains("22:00 UTC"),
        "{text}"
    );

    // A changed schedule counts from the change.
    let updated = env
        .ptape()
        .env("PTAPE_TEST_NOW", "2026-11-26T09:30:00Z")
        .args([
            "job",
            "update",
            "nightly",
            "--schedule",
            "*:0/15",
            "--drive",
            "any",
            "--export-media-set",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(updated.status.success(), "{updated:?}");
    let info: Value = serde_json::from_slice(&updated.stdout).unwrap();
    assert_eq!(info["next_run"], "2026-11-26T09:45:00Z");
    assert_eq!(info["drive"], "any");
    assert_eq!(info["export_media_set"], true);
    let err = env.fails(&["job", "update", "nightly", "--schedule", "25:00"]);
    assert!(err.contains("schedule"), "{err}");
    let show = env.ok(&["job", "show", "nightly"]);
    assert!(
        show.contains("*:0/15") && show.contains("export the media set"),
        "{show}"
    );
    let err = env.fails(&["job", "show", "other"]);
    assert!(err.contains("no job named \"other\""), "{err}");

    env.ok(&["job", "remove", "nightly"]);
    assert!(env.json(&["job", "list"]).as_array().unwrap().is_empty());
    let err = env.fails(&["job", "remove", "nightly"]);
    assert!(err.contains("no job named"), "{err}");
}

#[test]
fn a_hand_edited_jobs_file_is_checked_naming_file_job_and_field() {
    let env = Env::new();
    std::fs::create_dir_all(env.jobs_toml().parent().unwrap()).unwrap();
    std::fs::write(
        env.jobs_toml(),
        "[job.good]\nschedule = \"daily\"\npool = \"default\"\npaths = [\"/etc\"]\n\n\
         [job.bad]\nschedule = \"daily\"\npool = \"default\"\npaths = [\"/etc\"]\nexport_media_set = true\neject = true\n",
    )
    .unwrap();
    let err = env.fails(&["job", "list"]);
    assert!(err.contains("jobs.toml"), "{err}");
    assert!(err.contains("job \"bad\", field \"eject\""), "{err}");
    std::fs::write(
        env.jobs_toml(),
        "[job.x]\nschedule = \"daily\"\npool = \"default\"\npaths = [\"/etc\"]\nretries = 3\n",
    )
    .unwrap();
    let err = env.fails(&["job", "list"]);
    assert!(
        err.contains("job \"x\"") && err.contains("retries"),
        "{err}"
    );
    // `ptape status` still works and says what is wrong.
    let status = env.json(&["status"]);
    assert!(status["jobs_error"].as_str().unwrap().contains("retries"));
}

#[test]
fn a_run_by_hand_records_history_and_its_task_log() {
    let env = Env::new();
    let src = env.source("src", 3 << 20, 2);
    env.ok(&["pool", "create", "daily"]);
    env.ok(&[
        "job",
        "create",
        "web",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        s(&src),
    ]);
    let out = env.json(&["job", "run", "web"]);
    assert_eq!(out["state"], "ok");
    let snapshot = out["snapshot"].as_str().unwrap().to_string();
    assert!(snapshot.starts_with("daily/web/"), "{snapshot}");

    // Unchanged data: the second run writes no chunk again.
    // A minute later (a distinct snapshot time).
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let second = env
        .ptape()
        .env("PTAPE_TEST_NOW", format!("@{later}"))
        .args(["job", "run", "web"])
        .output()
        .unwrap();
    assert!(second.status.success(), "{second:?}");

    let history = env.json(&["job", "history", "web"]);
    let runs = history.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let fields: Vec<&str> = runs[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "job",
        "run",
        "start",
        "end",
        "state",
        "message",
        "snapshot",
        "tapes",
        "bytes_written",
    ];
    expected.sort();
    let mut got = fields.clone();
    got.sort();
    assert_eq!(got, expected);
    let (newest, first) = (&runs[0], &runs[1]);
    assert_eq!(first["snapshot"], snapshot.as_str());
    assert_eq!(first["state"], "ok");
    assert!(first["bytes_written"].as_u64().unwrap() >= 3 << 20);
    let later_text = newest["snapshot"]
        .as_str()
        .unwrap()
        .trim_start_matches("daily/web/");
    assert_eq!(
        newest["start"].as_str().unwrap(),
        later_text.replace("Z", ".000Z")
    );
    assert!(
        newest["bytes_written"].as_u64() < first["bytes_written"].as_u64(),
        "{history} {}",
        env.ok(&["job", "log", &newest["run"].to_string()])
    );
    assert_eq!(newest["tapes"], first["tapes"]);
    assert_eq!(
        env.json(&["job", "history", "--limit", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The catalog has both snapshots.
    let snaps = env.ok(&["snapshots"]);
    assert!(snaps.contains(&snapshot), "{snaps}");

    // The task log: every line timestamped, from start to the outcome.
    let run = first["run"].as_i64().unwrap().to_string();
    let log = env.ok(&["job", "log", &run]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= 5, "{log}");
    for l in &lines {
        let stamp = l.split(' ').next().unwrap();
        assert!(
            stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{l}"
        );
    }
    assert!(
        lines[0].ends_with("task started by hand (ptape job run)"),
        "{log}"
    );
    assert!(log.contains("writing to tape"), "{log}");
    assert!(log.contains(&format!("snapshot {snapshot}")), "{log}");
    assert!(lines.last().unwrap().ends_with("TASK OK"), "{log}");
    let err = env.fails(&["job", "log", "999"]);
    assert!(err.contains("no job run 999"), "{err}");
    let status = env.json(&["status"]);
    assert_eq!(status["daemon"]["running"], false);
    assert_eq!(status["jobs"][0]["id"], "web");
    assert_eq!(status["jobs"][0]["last_run_state"], "ok");
}

#[test]
fn a_failing_run_is_recorded_as_error_with_its_message() {
    let env = Env::new();
    let src = env.source("src", 1000, 3);
    env.ok(&["pool", "create", "daily"]);
    env.ok(&[
        "job",
        "create",
        "web",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        s(&src),
    ]);
    std::fs::remove_dir_all(&src).unwrap();
    let err = env.fails(&["job", "run", "web"]);
    assert!(err.contains("failed"), "{err}");
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs[0]["state"], "error");
    let message = runs[0]["message"].as_str().unwrap();
    assert!(message.contains(s(&src)), "{message}");
    assert_eq!(runs[0]["snapshot"], Value::Null);
    let log = env.ok(&["job", "log", &runs[0]["run"].to_string()]);
    assert!(log.lines().last().unwrap().contains("TASK ERROR"), "{log}");
}

#[test]
fn a_run_killed_mid_job_is_interrupted_and_the_next_run_succeeds() {
    let env = Env::new();
    let src = env.source("src", 192 << 20, 4);
    env.ok(&["pool", "create", "daily"]);
    env.ok(&[
        "job",
        "create",
        "big",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        s(&src),
    ]);
    let mut child = env
        .process()
        .args(["job", "run", "big"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = env.data_dir().join("jobs/logs/1.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("writing to tape")) {
        assert!(std::time::Instant::now() < deadline, "the run never wrote");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = env.json(&["job", "history"]);
    assert_eq!(runs[0]["state"], "interrupted", "{runs}");
    assert!(runs[0]["message"]
        .as_str()
        .unwrap()
        .contains("ended without recording"));
    assert!(env
        .ok(&["snapshots"])
        .lines()
        .all(|l| !l.contains("daily/big/")));
    // The next run appends where the catalog says the tape ends.
    let out = env.json(&["job", "run", "big"]);
    assert_eq!(out["state"], "ok", "{out}");
    let verify = env
        .ptape()
        .args(["verify", "--pool", "daily"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

/// The words of a shell command line with single-quoted parts.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The first `sh` block of docs/ptape.md's "Unattended operation"
/// section, run command by command (`/srv` is a test directory).
#[test]
fn unattended_operation_doc_commands_run() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ptape.md"))
            .unwrap();
    let section = doc
        .split("\n## Unattended operation\n")
        .nth(1)
        .expect("docs/ptape.md has no section \"Unattended operation\"");
    let section = section.split("\n## ").next().unwrap();
    let env = Env::new();
    let src = env.source("srv", 2 << 20, 9);
    let rx = cli_util::http_receiver::Receiver::start(&[]);
    let mut ran = 0;
    // Every `sh` block of the section (the systemd one has no ptape line);
    // each block a minute after the one before (distinct snapshot times).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (n, block) in section.split("```sh\n").skip(1).enumerate() {
        let block = block.split("```").next().unwrap();
        for line in block.lines().filter(|l| l.starts_with("ptape ")) {
            let words: Vec<String> = shell_words(line)
                .into_iter()
                .skip(1)
                .map(|w| match w.as_str() {
                    "/srv" => s(&src).to_string(),
                    "http://127.0.0.1:8080/hooks/tape" => rx.url.clone(),
                    _ => w,
                })
                .collect();
            let out = env
                .ptape()
                .env("PTAPE_TEST_NOW", format!("@{}", now + 60 * n as u64))
                .args(&words)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{line}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 12, "{ran} commands");
    let runs = env.json(&["job", "history", "srv"]);
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    assert!(runs.as_array().unwrap().iter().all(|r| r["state"] == "ok"));
    assert!(env.ok(&["job", "list"]).contains("*:0/30"));
    // The second run told the webhook.
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let doc = reqs[0].json();
    assert_eq!(doc["event"], "job_finished");
    assert_eq!(doc["job"], "srv");
    assert_eq!(doc["run"], 2);
    assert_eq!(doc["snapshot"], runs[0]["snapshot"]);
    // The unit runs the daemon and reloads with SIGHUP.
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd/ptape.service"),
    )
    .unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/ptape daemon"),
        "{unit}"
    );
    assert!(
        unit.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "{unit}"
    );
    assert!(unit.contains("KillMode=mixed"), "{unit}");
}

#[test]
fn a_job_of_an_encrypting_pool_opens_its_key_with_the_passphrase_file() {
    let env = Env::new();
    let src = env.source("src", 1 << 20, 5);
    let pass = env.tmp.path().join("tape-pass");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    let fp = env
        .ok(&[
            "key",
            "create",
            "--hint",
            "safe deposit box",
            "--kdf",
            "pbkdf2",
            "--passphrase-file",
            s(&pass),
        ])
        .trim()
        .to_string();
    env.ok(&["pool", "create", "vault", "--encrypt", &fp]);
    let err = env.fails(&[
        "job",
        "create",
        "enc",
        "--schedule",
        "daily",
        "--pool",
        "vault",
        "--passphrase-file",
        "no-such-file",
        s(&src),
    ]);
    assert!(err.contains("no-such-file"), "{err}");
    env.ok(&[
        "job",
        "create",
        "enc",
        "--schedule",
        "daily",
        "--pool",
        "vault",
        "--passphrase-file",
        s(&pass),
        s(&src),
    ]);
    let shown = env.json(&["job", "show", "enc"]);
    assert_eq!(shown["passphrase_file"], s(&pass), "{shown}");
    let out = env.json(&["job", "run", "enc"]);
    assert_eq!(out["state"], "ok", "{out}");

    // Without it the run fails before writing, naming the key's hint.
    env.ok(&["job", "update", "enc", "--clear-passphrase-file"]);
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let failed = env
        .ptape()
        .env("PTAPE_TEST_NOW", format!("@{later}"))
        .env_remove("PTAPE_PASSPHRASE")
        .args(["job", "run", "enc"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("needs its passphrase") && err.contains("safe deposit box"),
        "{err}"
    );
}

/// An executable shell script in the test directory.
fn script(env: &Env, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = env.tmp.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_job_run_tells_its_targets_and_a_failing_target_does_not_fail_it() {
    use cli_util::http_receiver::Receiver;
    let env = Env::new();
    let src = env.source("src", 1 << 20, 12);
    env.ok(&["pool", "create", "daily"]);
    let rx = Receiver::start(&[]);
    let got = env.tmp.path().join("event.json");
    let hook = script(&env, "hook.sh", &format!("cat > '{}'", got.display()));
    let broken = script(
        &env,
        "broken.sh",
        "cat >/dev/null; echo refused >&2; exit 1",
    );
    env.ok(&["notify", "add", "web", "--webhook", &rx.url]);
    env.ok(&["notify", "add", "hook", "--command", s(&hook)]);
    env.ok(&["notify", "add", "broken", "--command", s(&broken)]);

    // Unknown names are refused at create and update, naming the name.
    let err = env.fails(&[
        "job",
        "create",
        "srv",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        "--notify",
        "web",
        "--notify",
        "nosuch",
        s(&src),
    ]);
    assert!(err.contains("--notify nosuch"), "{err}");
    assert!(err.contains("ptape notify list"), "{err}");
    assert!(env.json(&["job", "list"]).as_array().unwrap().is_empty());
    env.ok(&[
        "job",
        "create",
        "srv",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        "--notify",
        "web",
        "--notify",
        "broken",
        s(&src),
    ]);
    let err = env.fails(&["job", "update", "srv", "--notify", "gone"]);
    assert!(err.contains("--notify gone"), "{err}");
    env.ok(&[
        "job", "update", "srv", "--notify", "web", "--notify", "broken", "--notify", "hook",
    ]);

    let out = env.json(&["job", "run", "srv"]);
    assert_eq!(out["state"], "ok", "{out}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].header("x-ptape-event"), Some("job_finished"));
    let doc = reqs[0].json();
    println!("received webhook body:\n{}", reqs[0].body);
    assert_eq!(doc["schema"], "ptape.notification");
    assert_eq!(doc["event"], "job_finished", "{doc}");
    assert_eq!(doc["job"], "srv");
    assert_eq!(doc["run"], out["run"]);
    assert_eq!(doc["state"], "ok");
    assert_eq!(doc["severity"], "info");
    assert_eq!(doc["pool"], "daily");
    assert_eq!(doc["snapshot"], out["snapshot"]);
    assert_eq!(doc["tapes"], out["tapes"]);
    assert!(!doc["tapes"].as_array().unwrap().is_empty());
    assert_eq!(doc["bytes_written"], out["bytes_written"]);
    assert_eq!(doc["error"], Value::Null);
    let log_path = env.data_dir().join(format!("jobs/logs/{}.log", out["run"]));
    assert_eq!(doc["task_log"], s(&log_path));
    // The command target got the same document on stdin.
    let cmd: Value = serde_json::from_str(&std::fs::read_to_string(&got).unwrap()).unwrap();
    assert_eq!(cmd["snapshot"], doc["snapshot"]);
    assert_eq!(cmd["run"], doc["run"]);
    // Each target's outcome is in the task log.
    let log = env.ok(&["job", "log", &out["run"].to_string()]);
    assert!(
        log.contains("notified web (webhook) of job_finished"),
        "{log}"
    );
    assert!(
        log.contains("notified hook (command) of job_finished"),
        "{log}"
    );
    assert!(
        log.contains(
            "notification job_finished to target broken (command) failed after 1 attempt: "
        ),
        "{log}"
    );
    assert!(log.contains("refused"), "{log}");

    // A failing run tells its error.
    std::fs::remove_dir_all(&src).unwrap();
    let failed = env.ptape().args(["job", "run", "srv"]).output().unwrap();
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let doc = reqs[1].json();
    assert_eq!(doc["state"], "error", "{doc}");
    assert_eq!(doc["severity"], "error");
    assert_eq!(doc["snapshot"], Value::Null);
    let runs = env.json(&["job", "history", "srv", "--limit", "1"]);
    assert_eq!(doc["error"], runs[0]["message"], "{doc}");
    assert!(doc["error"].as_str().unwrap().contains("src"), "{doc}");

    // A target removed from notify.toml: the run still runs and says so.
    env.ok(&["notify", "remove", "broken"]);
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), b"again\n").unwrap();
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let third = env
        .ptape()
        .env("PTAPE_TEST_NOW", format!("@{later}"))
        .args(["job", "run", "srv", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(third.status.success(), "{third:?}");
    let third: Value = serde_json::from_slice(&third.stdout).unwrap();
    let log = env.ok(&["job", "log", &third["run"].to_string()]);
    assert!(
        log.contains("warning: no notification will be sent for this run")
            && log.contains("\"broken\""),
        "{log}"
    );
    assert_eq!(rx.requests().len(), 2);
}

#[test]
fn sigterm_to_a_writing_job_run_stops_it_interrupted_and_the_tape_stays_appendable() {
    use cli_util::http_receiver::Receiver;
    let env = Env::new();
    let src = env.source("src", 192 << 20, 13);
    env.ok(&["pool", "create", "daily"]);
    let rx = Receiver::start(&[]);
    env.ok(&["notify", "add", "web", "--webhook", &rx.url]);
    env.ok(&[
        "job",
        "create",
        "big",
        "--schedule",
        "daily",
        "--pool",
        "daily",
        "--notify",
        "web",
        s(&src),
    ]);
    let mut child = env
        .process()
        .args(["job", "run", "big"])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = env.data_dir().join("jobs/logs/1.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("percentage done: 10%")) {
        assert!(std::time::Instant::now() < deadline, "the run never wrote");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{status:?}");

    let runs = env.json(&["job", "history"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs[0]["state"], "interrupted", "{runs}\n{text}");
    let message = runs[0]["message"].as_str().unwrap();
    assert!(message.contains("stopped on request"), "{message}");
    assert_eq!(runs[0]["snapshot"], Value::Null);
    assert!(text.contains("stop requested"), "{text}");
    assert!(
        !text.contains("percentage done: 100%"),
        "it ran to the end: {text}"
    );
    assert!(text.contains("TASK INTERRUPTED"), "{text}");
    // Nothing half-committed: no snapshot, the tape writable, every
    // archive on it complete and readable.
    assert!(env.json(&["snapshots"]).as_array().unwrap().is_empty());
    let media = env.json(&["media", "list"]);
    assert!(
        media
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["status"] == "writable"),
        "{media}"
    );
    let verify = env
        .ptape()
        .args(["verify", "--pool", "daily"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    // The targets heard of it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while rx.requests().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no notification");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let doc = rx.requests()[0].json();
    assert_eq!(doc["state"], "interrupted", "{doc}");
    assert_eq!(doc["severity"], "error");
    assert_eq!(doc["error"], runs[0]["message"]);

    // The next run appends to the same tape and succeeds.
    let out = env.json(&["job", "run", "big"]);
    assert_eq!(out["state"], "ok", "{out}");
    assert_eq!(
        out["tapes"],
        serde_json::json!([media[0]["label"]]),
        "{out}"
    );
    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps}");
    let verify = env
        .ptape()
        .args(["verify", "--pool", "daily"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}
