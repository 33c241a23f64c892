//! `ptape notify ...` and `ptape backup --notify` as processes: targets
//! added, listed, removed and tested; a webhook received by a listener on
//! 127.0.0.1 (retries after a 500, timeout), a `sendmail` stand-in on PATH
//! recording the RFC 5322 message, a command target reading the JSON on
//! stdin, and a failing target that leaves the backup's exit code alone.

mod cli_util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use cli_util::http_receiver::{Receiver, Reply};
use cli_util::Ptape;

struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        std::fs::create_dir_all(tmp.path().join("bin")).unwrap();
        Env { tmp, cli }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// ptape with `ROOT/bin` first on PATH (where the stand-ins live).
    fn run(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.cli
            .ptape()
            .env("PATH", path)
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "ptape {args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--output-format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs and requires exit code `code`; returns stderr.
    fn code(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "ptape {args:?}: {}",
            stderr(&out)
        );
        stderr(&out)
    }

    /// A shell script `ROOT/bin/NAME`.
    fn script(&self, name: &str, body: &str) -> String {
        let path = self.path("bin").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    /// A small source tree to back up.
    fn source(&self) -> String {
        let src = self.path("src/data");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("a.txt"), b"alpha\n").unwrap();
        std::fs::write(src.join("b.bin"), cli_util::pseudo_random(200_000, 7)).unwrap();
        src.display().to_string()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn add_list_remove_and_config_errors() {
    let env = Env::new();
    let prog = env.script("hook", "cat >/dev/null");
    env.ok(&[
        "notify",
        "add",
        "hook",
        "--webhook",
        "https://h.example/x?token=s3cret",
        "--retries",
        "2",
    ]);
    env.ok(&[
        "notify",
        "add",
        "cmd",
        "--command",
        &prog,
        "--arg",
        "-v",
        "--events",
        "tape_needed,drive_needs_cleaning",
    ]);
    env.ok(&[
        "notify",
        "add",
        "byname",
        "--command",
        "hook",
        "--min-severity",
        "error",
    ]);
    let list = env.json(&["notify", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hook", "cmd", "byname"]);
    assert_eq!(list[0]["type"], "webhook");
    assert_eq!(list[0]["retries"], 2);
    assert_eq!(list[1]["args"], serde_json::json!(["-v"]));
    assert_eq!(list[2]["min_severity"], "error");
    // The table hides the webhook's token.
    let table = env.ok(&["notify", "list"]);
    assert!(
        !table.contains("s3cret") && table.contains("https://h.example/x?..."),
        "{table}"
    );
    let file = env.path("config/notify.toml");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Bad input: exit 1 naming the problem; nothing changed.
    let err = env.code(1, &["notify", "add", "x", "--webhook", "ftp://h/x"]);
    assert!(err.contains("field url") && err.contains("http"), "{err}");
    let err = env.code(1, &["notify", "add", "x", "--sendmail", "nobody"]);
    assert!(err.contains("field address"), "{err}");
    let err = env.code(1, &["notify", "add", "x", "--command", "/nonexistent/prog"]);
    assert!(err.contains("not found"), "{err}");
    let err = env.code(1, &["notify", "add", "hook", "--command", &prog]);
    assert!(err.contains("already exists"), "{err}");
    let err = env.code(
        1,
        &[
            "notify",
            "add",
            "x",
            "--command",
            &prog,
            "--events",
            "job_done",
        ],
    );
    assert!(err.contains("unknown event \"job_done\""), "{err}");
    env.code(2, &["notify", "add", "x"]);
    env.code(
        2,
        &[
            "notify",
            "add",
            "x",
            "--webhook",
            "http://h/",
            "--command",
            &prog,
        ],
    );
    let err = env.code(
        1,
        &["notify", "add", "x", "--command", &prog, "--retries", "3"],
    );
    assert!(
        err.contains("field retries: not a field of a command target"),
        "{err}"
    );
    assert_eq!(env.json(&["notify", "list"]).as_array().unwrap().len(), 3);

    env.ok(&["notify", "remove", "cmd"]);
    let err = env.code(1, &["notify", "remove", "cmd"]);
    assert!(
        err.contains("no notification target named \"cmd\""),
        "{err}"
    );
    assert_eq!(env.json(&["notify", "list"]).as_array().unwrap().len(), 2);

    // A hand-edited file with a mistake: the error names file, target, field.
    std::fs::write(
        &file,
        "[[target]]\nname = \"m\"\ntype = \"sendmail\"\naddress = \"x@y\"\ntimeout = 9999\n",
    )
    .unwrap();
    let err = env.code(1, &["notify", "list"]);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("target \"m\", field timeout"),
        "{err}"
    );
}

#[test]
fn test_webhook_retries_after_a_500() {
    let env = Env::new();
    let rx = Receiver::start(&[Reply::Status(500)]);
    env.ok(&[
        "notify",
        "add",
        "hook",
        "--webhook",
        &rx.url,
        "--header",
        "Authorization: Bearer abc",
    ]);
    let out = env.json(&["notify", "test", "hook"]);
    assert_eq!(out[0]["ok"], true, "{out}");
    assert_eq!(out[0]["attempts"], 2, "{out}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 2);
    let v = reqs[1].json();
    assert_eq!(v["schema"], "ptape.notification");
    assert_eq!(v["version"], 1);
    assert_eq!(v["event"], "test");
    assert_eq!(v["target"], "hook");
    assert_eq!(reqs[1].header("authorization"), Some("Bearer abc"));
}

#[test]
fn test_webhook_timeout_fails_with_exit_1() {
    let env = Env::new();
    let rx = Receiver::start(&[Reply::Hang(Duration::from_secs(30))]);
    env.ok(&[
        "notify",
        "add",
        "slow",
        "--webhook",
        &rx.url,
        "--timeout",
        "1",
        "--retries",
        "0",
    ]);
    let err = env.code(1, &["notify", "test", "slow"]);
    assert!(
        err.contains("test notification to target slow failed"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("timed out"), "{err}");
    assert_eq!(rx.requests().len(), 1);
}

#[test]
fn sendmail_stand_in_records_an_rfc5322_message() {
    let env = Env::new();
    let log = env.path("mail.log");
    env.script(
        "sendmail",
        &format!("echo \"$@\" > {l}.args; cat > {l}", l = log.display()),
    );
    env.ok(&[
        "notify",
        "add",
        "admin",
        "--sendmail",
        "ops@example.org",
        "--from",
        "Tape <tape@example.org>",
    ]);
    env.ok(&["notify", "test", "admin"]);
    assert_eq!(read(&log.with_extension("log.args")).trim(), "-t -i");
    let msg = read(&log);
    let (head, body) = msg
        .split_once("\r\n\r\n")
        .expect("headers, blank line, body");
    let header = |name: &str| -> String {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name}: in {head}"))
            .to_string()
    };
    assert_eq!(header("From"), "Tape <tape@example.org>");
    assert_eq!(header("To"), "ops@example.org");
    assert_eq!(
        header("Subject"),
        "ptape: test notification to target admin"
    );
    // RFC 5322 date-time, e.g. "Wed, 2 Dec 2026 17:00:00 +0000".
    let date = header("Date");
    assert!(jiff::fmt::rfc2822::parse(&date).is_ok(), "{date}");
    let id = header("Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with('>') && id.contains('@'),
        "{id}"
    );
    assert_eq!(header("MIME-Version"), "1.0");
    assert_eq!(header("Content-Type"), "text/plain; charset=utf-8");
    assert_eq!(header("Content-Transfer-Encoding"), "quoted-printable");
    assert_eq!(header("X-Ptape-Event"), "test");
    assert!(body.contains("this target works"), "{body}");
    assert!(body.contains("ptape.notification"), "{body}");

    // sendmail failing: exit 1 with its stderr.
    env.script("sendmail", "cat >/dev/null; echo 'queue full' >&2; exit 75");
    let err = env.code(1, &["notify", "test", "admin"]);
    assert!(err.contains("queue full"), "{err}");
}

#[test]
fn backup_notifies_and_a_failing_target_keeps_the_exit_code() {
    let env = Env::new();
    let src = env.source();
    let rx = Receiver::start(&[]);
    let got = env.path("cmd.json");
    let cmd = env.script("tape-event", &format!("cat > {}", got.display()));
    env.script("broken", "cat >/dev/null; echo 'no route' >&2; exit 1");
    env.ok(&["notify", "add", "hook", "--webhook", &rx.url]);
    env.ok(&["notify", "add", "cmd", "--command", &cmd]);
    env.ok(&["notify", "add", "broken", "--command", "broken"]);
    env.ok(&[
        "notify",
        "add",
        "dead",
        "--webhook",
        "http://127.0.0.1:9/",
        "--retries",
        "0",
        "--timeout",
        "2",
    ]);

    let out = env.run(&[
        "backup",
        "--id",
        "n1",
        "--notify",
        "broken",
        "--notify",
        "hook",
        "--notify",
        "dead",
        "--notify",
        "cmd",
        &src,
        "--output-format",
        "json",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("notification job_finished to target broken failed"),
        "{err}"
    );
    assert!(err.contains("no route"), "{err}");
    assert!(err.contains("target dead failed"), "{err}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1);
    let v = reqs[0].json();
    assert_eq!(v["event"], "job_finished");
    assert_eq!(v["state"], "ok");
    assert_eq!(v["severity"], "info");
    assert_eq!(v["job"], serde_json::Value::Null);
    assert_eq!(v["pool"], "default");
    assert_eq!(v["snapshot"], result["snapshot"]);
    assert_eq!(v["tapes"], result["tapes"]);
    assert!(!v["tapes"].as_array().unwrap().is_empty());
    assert_eq!(v["bytes_written"], result["bytes_written"]);
    assert!(v["duration_secs"].as_u64().is_some());
    // The command target got the same document on stdin.
    let c: serde_json::Value = serde_json::from_str(&read(&got)).unwrap();
    assert_eq!(c["snapshot"], v["snapshot"]);
    assert_eq!(c["event"], "job_finished");
}

#[test]
fn a_failed_backup_notifies_its_error() {
    let env = Env::new();
    let src = env.source();
    let rx = Receiver::start(&[]);
    env.ok(&["notify", "add", "hook", "--webhook", &rx.url]);
    let err = env.code(
        1,
        &["backup", "--pool", "nosuchpool", "--notify", "hook", &src],
    );
    let v = rx.requests()[0].json();
    assert_eq!(v["state"], "error");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["snapshot"], serde_json::Value::Null);
    let text = v["error"].as_str().unwrap();
    assert!(
        text.contains("nosuchpool") && err.contains(text),
        "{text} / {err}"
    );
}

#[test]
fn backup_with_an_unknown_target_fails_before_writing() {
    let env = Env::new();
    let src = env.source();
    let err = env.code(1, &["backup", "--notify", "nope", &src]);
    assert!(
        err.contains("no notification target named \"nope\""),
        "{err}"
    );
    assert!(env.json(&["snapshots"]).as_array().unwrap().is_empty());
}

/// The words of a command line with single-quoted parts.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
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

#[test]
fn notifications_doc_commands_run() {
    let doc = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ptape.md"));
    let section = doc
        .split("\n## Notifications\n")
        .nth(1)
        .expect("docs/ptape.md has no section \"Notifications\"");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let env = Env::new();
    let rx = Receiver::start(&[]);
    let event = env.script("tape-event", "cat >/dev/null");
    env.script("sendmail", "cat >/dev/null");
    // Continued lines joined, comments dropped.
    let text = block.replace("\\\n", " ");
    let mut ran = 0;
    for line in text.lines().filter(|l| l.starts_with("ptape ")) {
        let line = line.split(" #").next().unwrap();
        let words: Vec<String> = shell_words(line)
            .into_iter()
            .skip(1)
            .map(|w| match w.as_str() {
                "https://chat.example.org/hooks/tape" => rx.url.clone(),
                "/usr/local/bin/tape-event" => event.clone(),
                _ => w,
            })
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        env.ok(&words);
        ran += 1;
    }
    assert_eq!(ran, 6, "{block}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].json()["event"], "test");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer 0123"));
    let left: Vec<String> = env
        .json(&["notify", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, ["ops", "admin"]);
}

/// TapeAlert flags seen by a backup reach its `--notify` targets: MEDIA
/// on the tape loaded for appending marks it damaged (`tape_damaged`, the
/// job moves on to another tape), CLEAN NOW without `--auto-clean` is a
/// `drive_needs_cleaning`; the job finishes with warnings (exit 3).
#[test]
fn tape_alerts_of_a_backup_are_notified() {
    let env = Env::new();
    let src = env.source();
    let dir = env.path("events");
    std::fs::create_dir_all(&dir).unwrap();
    let cmd = env.script(
        "tape-event",
        &format!("cat > \"$(mktemp -p {})\"", dir.display()),
    );
    env.ok(&["notify", "add", "cmd", "--command", &cmd]);
    let first = env.json(&["backup", "--id", "n1", &src]);
    let tape = first["tapes"][0].as_str().unwrap().to_string();

    let lib = env.cli.data_dir().join("library");
    let out = assert_cmd::Command::cargo_bin("tape-emu")
        .unwrap()
        .args(["fault"])
        .arg(&lib)
        .args([
            "--device",
            "drive0",
            "tape-alert",
            "--flags",
            "MEDIA,CLEAN_NOW",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let out = env.run(&[
        "backup",
        "--id",
        "n2",
        "--notify",
        "cmd",
        &src,
        "--output-format",
        "json",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!result["tapes"]
        .as_array()
        .unwrap()
        .contains(&tape.clone().into()));

    let events: Vec<serde_json::Value> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| serde_json::from_str(&read(&e.unwrap().path())).unwrap())
        .collect();
    let of = |name: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|v| v["event"] == name).collect()
    };
    let damaged = of("tape_damaged");
    assert_eq!(damaged.len(), 1, "{events:?}");
    assert_eq!(damaged[0]["label"], tape.as_str());
    let reason = damaged[0]["reason"].as_str().unwrap();
    assert!(reason.contains("TapeAlert 4 MEDIA"), "{reason}");
    let cleaning = of("drive_needs_cleaning");
    assert_eq!(cleaning.len(), 1, "{events:?}");
    assert_eq!(cleaning[0]["flags"], serde_json::json!(["20 CLEAN NOW"]));
    assert_eq!(of("job_finished").len(), 1, "{events:?}");
    let media = env.json(&["media", "list"]);
    let row = media
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"] == tape.as_str())
        .unwrap();
    assert_eq!(row["status"], "damaged", "{row}");
}
