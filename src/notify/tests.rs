//! Notification tests: the document, the configuration's validation, real
//! webhook deliveries to a listener on 127.0.0.1 (retries, timeout), a
//! command target reading the document on stdin, and the mail message.

#[path = "../../tests/common/http_receiver.rs"]
mod http_receiver;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use http_receiver::{Receiver, Reply};

use super::*;
use crate::media_request::Need;

fn job_event(state: JobState) -> Event {
    Event::JobFinished(JobFinished {
        job: Some("nightly".into()),
        run: Some(7),
        state,
        pool: "daily".into(),
        snapshot: Some("daily/host/2026-06-01T22:00:00Z".into()),
        tapes: vec!["AB0001L9".into(), "AB0002L9".into()],
        bytes_written: 3 << 20,
        start: 1_780_351_200,
        end: 1_780_351_325,
        warnings: u64::from(state == JobState::Warnings),
        error: (state == JobState::Error).then(|| "WRITE(6) failed: MEDIUM ERROR".into()),
        task_log: Some("/var/lib/ptape/jobs/logs/7.log".into()),
    })
}

fn clock() -> Clock {
    Clock::fixed_epoch(1_780_351_400)
}

fn webhook(url: &str, retries: u32, timeout: Option<u64>) -> TargetConfig {
    let mut t = TargetConfig::new("hook", TargetType::Webhook, url);
    t.retries = Some(retries);
    t.timeout = timeout;
    t
}

fn fast(targets: Vec<TargetConfig>) -> Notifier {
    Notifier::new(targets)
        .with_clock(clock())
        .with_retry_delay(Duration::from_millis(10))
}

#[test]
fn document_has_schema_version_and_job_fields() {
    let event = job_event(JobState::Ok);
    let doc = fast(vec![]).document(&event);
    let v: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
    assert_eq!(v["schema"], SCHEMA);
    assert_eq!(v["version"], SCHEMA_VERSION);
    assert_eq!(v["event"], "job_finished");
    assert_eq!(v["time"], "2026-06-01T22:03:20Z");
    assert_eq!(v["severity"], "info");
    assert_eq!(v["job"], "nightly");
    assert_eq!(v["run"], 7);
    assert_eq!(v["state"], "ok");
    assert_eq!(v["tapes"], serde_json::json!(["AB0001L9", "AB0002L9"]));
    assert_eq!(v["bytes_written"], 3 << 20);
    assert_eq!(v["duration_secs"], 125);
    assert_eq!(v["error"], serde_json::Value::Null);
    assert!(v["subject"]
        .as_str()
        .unwrap()
        .contains("job nightly finished: ok"));
    assert!(!v["host"].as_str().unwrap().is_empty());
    // The event part parses back.
    let back: Event = serde_json::from_value(v).unwrap();
    assert_eq!(back, event);
}

#[test]
fn tape_needed_says_insert_label_into_changer() {
    let mut t = TapeNeeded {
        labels: vec!["AB0003L9".into()],
        need: Need::Any,
        pool: Some("daily".into()),
        changer: Some("lib1".into()),
        drive: Some("lto9".into()),
        reason: "media set continues on it".into(),
        job: None,
    };
    assert_eq!(t.request(), "insert tape AB0003L9 into changer lib1");
    t.changer = None;
    assert_eq!(t.request(), "insert tape AB0003L9 into drive lto9");
    t.labels.clear();
    assert_eq!(
        t.request(),
        "insert a writable tape of pool daily or a blank cartridge into drive lto9"
    );
    let event = Event::TapeNeeded(t);
    assert_eq!(event.severity(), Severity::Warning);
    let v: serde_json::Value =
        serde_json::from_str(&fast(vec![]).document(&event).to_json()).unwrap();
    assert_eq!(v["event"], "tape_needed");
    assert_eq!(v["reason"], "media set continues on it");
    assert!(v.get("duration_secs").is_none());
}

#[test]
fn severities_and_filters() {
    assert_eq!(job_event(JobState::Warnings).severity(), Severity::Warning);
    assert_eq!(job_event(JobState::Error).severity(), Severity::Error);
    let mut t = webhook("http://127.0.0.1:1/x", 0, None);
    assert!(t.wants(&job_event(JobState::Ok)));
    t.min_severity = Some(Severity::Warning);
    assert!(!t.wants(&job_event(JobState::Ok)));
    assert!(t.wants(&job_event(JobState::Error)));
    t.min_severity = None;
    t.events = vec!["tape_damaged".into()];
    assert!(!t.wants(&job_event(JobState::Error)));
    assert!(t.wants(&Event::TapeDamaged(TapeDamaged {
        label: "X".into(),
        reason: "r".into(),
        drive: None,
        job: None,
    })));
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn config_errors_name_file_target_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.toml");
    let cases = [
        (
            "[[target]]\nname = \"a\"\ntype = \"webhook\"\n",
            "target \"a\", field url: missing",
        ),
        (
            "[[target]]\nname = \"a\"\ntype = \"webhook\"\nurl = \"ftp://x/y\"\n",
            "field url",
        ),
        (
            "[[target]]\nname = \"m\"\ntype = \"sendmail\"\naddress = \"root\"\n",
            "target \"m\", field address: \"root\" is not a mail address",
        ),
        (
            "[[target]]\nname = \"m\"\ntype = \"sendmail\"\naddress = \"a@b\"\nurl = \"http://x/\"\n",
            "field url: not a field of a sendmail target",
        ),
        (
            "[[target]]\nname = \"c\"\ntype = \"command\"\nprogram = \"x\"\ntimeout = 0\n",
            "target \"c\", field timeout",
        ),
        (
            "[[target]]\nname = \"c\"\ntype = \"command\"\nprogram = \"x\"\nevents = [\"job_done\"]\n",
            "field events: unknown event \"job_done\"",
        ),
        (
            "[[target]]\nname = \"c\"\ntype = \"command\"\nprogram = \"x\"\n[[target]]\nname = \"c\"\ntype = \"command\"\nprogram = \"y\"\n",
            "target \"c\", field name: a second target",
        ),
        (
            "[[target]]\nname = \"bad name\"\ntype = \"command\"\nprogram = \"x\"\n",
            "field name",
        ),
        (
            "[[target]]\nname = \"c\"\ntype = \"pager\"\nprogram = \"x\"\n",
            "invalid notification configuration",
        ),
    ];
    for (text, want) in cases {
        write(&path, text);
        let err = NotifyConfig::load_from(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(want), "{text}\n=> {err}\nwanted {want}");
    }
}

#[test]
fn config_round_trip_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/notify.toml");
    let mut cfg = NotifyConfig::default();
    let mut hook = webhook("https://example.org/h?token=secret", 2, Some(5));
    hook.headers = vec!["Authorization: Bearer x".into()];
    cfg.add(hook, &path).unwrap();
    cfg.add(
        TargetConfig::new("mail", TargetType::Sendmail, "a@example.org, b@example.org"),
        &path,
    )
    .unwrap();
    let dup = cfg.add(TargetConfig::new("mail", TargetType::Command, "x"), &path);
    assert!(matches!(dup, Err(NotifyError::Duplicate(_))));
    cfg.save_to(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(NotifyConfig::load_from(&path).unwrap(), cfg);
    assert!(cfg.remove("nope").is_err());
    cfg.remove("hook").unwrap();
    assert_eq!(cfg.targets.len(), 1);
    assert_eq!(
        redacted_url("https://u:p@example.org/h?token=secret"),
        "https://example.org/h?..."
    );
}

#[test]
fn select_names_unknown_targets() {
    let n = fast(vec![webhook("http://127.0.0.1:1/", 0, None)]);
    assert_eq!(n.select(&["hook".into()]).unwrap().targets().len(), 1);
    assert!(n.select(&[]).unwrap().is_empty());
    let err = n.select(&["gone".into()]).unwrap_err().to_string();
    assert!(err.contains("\"gone\""), "{err}");
}

#[test]
fn webhook_posts_the_document() {
    let rx = Receiver::start(&[]);
    let mut target = webhook(&rx.url, 0, None);
    target.headers = vec!["Authorization: Bearer t0k3n".into()];
    let outcomes = fast(vec![target]).send(&job_event(JobState::Error));
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].ok, "{outcomes:?}");
    assert_eq!(outcomes[0].attempts, 1);
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some("Bearer t0k3n"));
    assert_eq!(r.header("x-ptape-event"), Some("job_finished"));
    let v = r.json();
    assert_eq!(v["schema"], "ptape.notification");
    assert_eq!(v["state"], "error");
    assert_eq!(v["error"], "WRITE(6) failed: MEDIUM ERROR");
    assert_eq!(v["severity"], "error");
}

#[test]
fn webhook_retries_after_server_errors() {
    let rx = Receiver::start(&[Reply::Status(500), Reply::Status(503)]);
    let outcomes = fast(vec![webhook(&rx.url, 3, None)]).send(&job_event(JobState::Ok));
    assert!(outcomes[0].ok, "{outcomes:?}");
    assert_eq!(outcomes[0].attempts, 3);
    assert_eq!(rx.requests().len(), 3);
    // Every attempt carried the same document.
    let bodies: Vec<String> = rx.requests().iter().map(|r| r.body.clone()).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn webhook_gives_up_after_its_retries() {
    let rx = Receiver::start(&[Reply::Status(500); 5]);
    let outcomes = fast(vec![webhook(&rx.url, 2, None)]).send(&job_event(JobState::Ok));
    assert!(!outcomes[0].ok);
    assert_eq!(outcomes[0].attempts, 3);
    let err = outcomes[0].error.as_deref().unwrap();
    assert!(
        err.contains("HTTP 500") && err.contains("after 3 attempts"),
        "{err}"
    );
    assert_eq!(rx.requests().len(), 3);
}

#[test]
fn webhook_client_errors_are_not_retried() {
    let rx = Receiver::start(&[Reply::Status(404)]);
    let outcomes = fast(vec![webhook(&rx.url, 3, None)]).send(&job_event(JobState::Ok));
    assert!(!outcomes[0].ok);
    assert_eq!(outcomes[0].attempts, 1);
    assert!(outcomes[0].error.as_deref().unwrap().contains("HTTP 404"));
    assert_eq!(rx.requests().len(), 1);
}

#[test]
fn webhook_times_out_then_retries() {
    // The first attempt hangs past the 1 s timeout; the retry succeeds.
    let rx = Receiver::start(&[Reply::Hang(Duration::from_secs(20))]);
    let outcomes = fast(vec![webhook(&rx.url, 1, Some(1))]).send(&job_event(JobState::Ok));
    assert!(outcomes[0].ok, "{outcomes:?}");
    assert_eq!(outcomes[0].attempts, 2);
    // Hanging every time: a failed outcome naming the timeout.
    let rx = Receiver::start(&[Reply::Hang(Duration::from_secs(20)); 2]);
    let outcomes = fast(vec![webhook(&rx.url, 0, Some(1))]).send(&job_event(JobState::Ok));
    assert!(!outcomes[0].ok);
    let err = outcomes[0].error.as_deref().unwrap().to_lowercase();
    assert!(
        err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
}

#[test]
fn webhook_refused_connection_is_an_outcome() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/none");
    let outcomes = fast(vec![webhook(&url, 1, Some(2))]).send(&job_event(JobState::Ok));
    assert!(!outcomes[0].ok);
    assert_eq!(outcomes[0].attempts, 2);
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    write(&path, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn command_gets_the_document_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let program = script(
        dir.path(),
        "hook.sh",
        &format!(
            "cat > {out}.json; echo \"$PTAPE_EVENT $PTAPE_SEVERITY $1\" > {out}.env",
            out = out.display()
        ),
    );
    let mut target = TargetConfig::new("cmd", TargetType::Command, &program);
    target.args = vec!["first-arg".into()];
    let event = job_event(JobState::Warnings);
    let outcomes = fast(vec![target]).send(&event);
    assert!(outcomes[0].ok, "{outcomes:?}");
    let json = std::fs::read_to_string(out.with_extension("json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["event"], "job_finished");
    assert_eq!(v["state"], "warnings");
    assert_eq!(v["warnings"], 1);
    let env = std::fs::read_to_string(out.with_extension("env")).unwrap();
    assert_eq!(env.trim(), "job_finished warning first-arg");
}

#[test]
fn failing_and_hanging_commands_are_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let failing = script(dir.path(), "fail.sh", "echo 'relay refused' >&2; exit 4");
    let outcomes = fast(vec![TargetConfig::new("f", TargetType::Command, &failing)])
        .send(&job_event(JobState::Ok));
    let err = outcomes[0].error.as_deref().unwrap();
    assert!(
        err.contains("exit status: 4") && err.contains("relay refused"),
        "{err}"
    );
    let hanging = script(dir.path(), "hang.sh", "exec sleep 30");
    let mut target = TargetConfig::new("h", TargetType::Command, &hanging);
    target.timeout = Some(1);
    let outcomes = fast(vec![target]).send(&job_event(JobState::Ok));
    let err = outcomes[0].error.as_deref().unwrap();
    assert!(err.contains("did not finish within 1 s"), "{err}");
    let outcomes = fast(vec![TargetConfig::new(
        "m",
        TargetType::Command,
        "/nonexistent/prog",
    )])
    .send(&job_event(JobState::Ok));
    assert!(outcomes[0].error.as_deref().unwrap().contains("not found"));
}

#[test]
fn mail_message_has_rfc5322_headers() {
    let mut target = TargetConfig::new("m", TargetType::Sendmail, "a@example.org,b@example.org");
    target.from = Some("Tape Robot <tape@example.org>".into());
    let event = job_event(JobState::Error);
    let notifier = fast(vec![]);
    let doc = notifier.document(&event);
    let msg = mail_message(&target, &doc, &event, "ptape <root@h>");
    let (head, body) = msg.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in {head}"))
            .to_string()
    };
    assert_eq!(header("From"), "Tape Robot <tape@example.org>");
    assert_eq!(header("To"), "a@example.org, b@example.org");
    assert_eq!(header("Subject"), "ptape: job nightly failed");
    assert_eq!(header("Date"), "Mon, 1 Jun 2026 22:03:20 +0000");
    assert!(header("Message-ID").starts_with('<') && header("Message-ID").ends_with('>'));
    assert_eq!(header("MIME-Version"), "1.0");
    assert_eq!(header("X-Ptape-Event"), "job_finished");
    assert_eq!(header("X-Ptape-Job"), "nightly");
    assert!(body.contains("tapes used:"));
    assert!(body.contains("AB0001L9, AB0002L9"));
    assert!(body.contains("\"schema\": \"ptape.notification\""));
    assert!(msg.split("\r\n").all(|l| l.len() <= 998));
}

/// Records what the inner events saw.
#[derive(Default)]
struct Log(Vec<String>);
impl WriterEvents for Log {
    fn note(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
    fn stop_requested(&mut self) -> bool {
        true
    }
}

#[test]
fn notifying_events_forward_and_log_failures() {
    let rx = Receiver::start(&[]);
    let mut bad = webhook("http://127.0.0.1:1/refused", 0, Some(1));
    bad.name = "bad".into();
    let notifier = fast(vec![bad, webhook(&rx.url, 0, None)]);
    let mut log = Log::default();
    let mut events = NotifyingEvents::new(&mut log, &notifier, Some("nightly".into()));
    // A stop request (a daemon's SIGTERM) passes through.
    assert!(events.stop_requested());
    events.tape_damaged(&TapeDamaged {
        label: "AB0003L9".into(),
        reason: "verify: archive 3 unreadable".into(),
        drive: Some("lto9".into()),
        job: None,
    });
    assert_eq!(events.outcomes.len(), 2);
    assert!(!events.outcomes[0].ok && events.outcomes[1].ok);
    drop(events);
    // The inner events got the event as a note, then the failure.
    assert_eq!(
        log.0[0],
        "tape AB0003L9 marked damaged: verify: archive 3 unreadable"
    );
    assert!(log.0[1].starts_with("notification tape_damaged to target bad failed"));
    let v = rx.requests()[0].json();
    assert_eq!(v["event"], "tape_damaged");
    assert_eq!(v["job"], "nightly");
    assert_eq!(v["label"], "AB0003L9");
    assert_eq!(v["severity"], "error");
}

/// The first fenced block of `lang` after `heading` in docs/ptape.md.
fn doc_block(heading: &str, lang: &str) -> String {
    let doc = include_str!("../../docs/ptape.md");
    let start = doc.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &doc[start..];
    let open = format!("```{lang}\n");
    let from = rest.find(&open).unwrap() + open.len();
    let len = rest[from..].find("```").unwrap();
    rest[from..from + len].to_string()
}

#[test]
fn documented_config_and_document_match_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.toml");
    write(&path, &doc_block("### `notify.toml`", "toml"));
    let cfg = NotifyConfig::load_from(&path).unwrap();
    assert_eq!(cfg.targets.len(), 3);
    let json = doc_block("### The notification document", "json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let event: Event = serde_json::from_value(v.clone()).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&fast(vec![]).document(&event).to_json()).unwrap();
    doc["host"] = v["host"].clone();
    assert_eq!(
        doc, v,
        "docs/ptape.md's example differs from what ptape sends"
    );
}

/// A changer in which tape `label` shows up on the `after`-th look.
struct Arriving {
    label: String,
    looks: usize,
    after: usize,
}

impl crate::devices::TapeDevices for Arriving {
    type Tape = pbs_tape::format::MemoryTape;
    fn online_labels(&mut self) -> Result<Vec<String>, crate::devices::DeviceError> {
        self.looks += 1;
        Ok(if self.looks >= self.after {
            vec![self.label.clone()]
        } else {
            Vec::new()
        })
    }
    fn can_autolabel(&self) -> bool {
        false
    }
    fn drive_name(&self) -> String {
        "lto9".into()
    }
    fn changer_name(&self) -> Option<String> {
        Some("lib1".into())
    }
    fn load(&mut self, label: &str) -> Result<Self::Tape, crate::devices::DeviceError> {
        Err(crate::devices::DeviceError::NotOnline(label.into()))
    }
    fn unload(&mut self, _tape: Self::Tape) -> Result<(), crate::devices::DeviceError> {
        Ok(())
    }
}

/// A job log (no stop requested).
#[derive(Default)]
struct Notes(Vec<String>);
impl WriterEvents for Notes {
    fn note(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

/// Sleeping only counts.
struct Ticks(std::time::Instant);
impl crate::lock::wait::WaitClock for Ticks {
    fn now(&self) -> std::time::Instant {
        self.0
    }
    fn sleep(&mut self, d: Duration) {
        self.0 += d;
    }
}

#[test]
fn a_tape_request_is_notified_once_while_the_job_polls_for_it() {
    use crate::media_request::{wait_for_tapes_with, WaitForTapes};
    let rx = Receiver::start(&[]);
    let notifier = fast(vec![webhook(&rx.url, 0, None)]);
    let mut log = Notes::default();
    let mut events =
        NotifyingEvents::new(&mut log, &notifier, Some("nightly".into())).with_pool("daily");
    let mut devices = Arriving {
        label: "AB0003L9".into(),
        looks: 0,
        after: 6,
    };
    let request = TapeRequest {
        labels: vec!["AB0003L9".into(), "AB0004L9".into()],
        need: Need::Any,
        changer: Some("lib1".into()),
        drive: "lto9".into(),
        reason: "backup to pool 'daily' appends to media set X".into(),
    };
    let wait = WaitForTapes {
        policy: crate::lock::WaitPolicy::seconds(3600),
        interval: Duration::from_secs(5),
    };
    let mut clock = Ticks(std::time::Instant::now());
    let online =
        wait_for_tapes_with(&mut devices, &request, &wait, &mut events, &mut clock).unwrap();
    assert_eq!(online, ["AB0003L9"]);
    assert_eq!(devices.looks, 6, "it polled several times");
    // The same request asked again at once is not sent again; another is.
    events.tape_needed(&request);
    assert_eq!(events.outcomes.len(), 1, "{:?}", events.outcomes);
    let mut other = request.clone();
    other.labels = vec!["AB0005L9".into()];
    events.tape_needed(&other);
    assert_eq!(events.outcomes.len(), 2, "{:?}", events.outcomes);
    drop(events);
    // The job log still got every request and the arrival.
    assert!(log.0[0].starts_with("please insert AB0003L9 (or AB0004L9) into changer 'lib1'"));
    assert!(log
        .0
        .iter()
        .any(|l| l == "tape inserted into changer 'lib1'"));

    let reqs = rx.requests();
    assert_eq!(reqs.len(), 2);
    let v = reqs[0].json();
    assert_eq!(v["event"], "tape_needed");
    assert_eq!(v["severity"], "warning");
    assert_eq!(v["labels"], serde_json::json!(["AB0003L9", "AB0004L9"]));
    assert_eq!(v["need"], "any");
    assert_eq!(v["changer"], "lib1");
    assert_eq!(v["drive"], "lto9");
    assert_eq!(v["pool"], "daily");
    assert_eq!(v["job"], "nightly");
    assert_eq!(v["reason"], "backup to pool 'daily' appends to media set X");
    assert_eq!(
        v["subject"],
        "ptape: insert one of the tapes AB0003L9, AB0004L9 into changer lib1"
    );
    assert_eq!(reqs[1].json()["labels"], serde_json::json!(["AB0005L9"]));
}

#[test]
fn a_restore_request_names_every_tape_it_needs() {
    let request = TapeRequest {
        labels: vec!["AB0001L9".into(), "AB0002L9".into()],
        need: Need::All,
        changer: None,
        drive: "lto9".into(),
        reason: "restore of daily/web/2026-06-01T22:00:00Z".into(),
    };
    let t = TapeNeeded::of_request(&request, None, None);
    assert_eq!(
        t.request(),
        "insert tapes AB0001L9, AB0002L9 into drive lto9"
    );
    let v = serde_json::to_value(Event::TapeNeeded(t)).unwrap();
    assert_eq!(v["need"], "all");
}
