//! `ptape pool`, `ptape media-set`, `ptape media move|destroy|list
//! --update-status` and `ptape inventory` on the embedded library, with the
//! test clock (`PTAPE_TEST_NOW`) instead of waiting for calendar times.

mod cli_util;

use std::path::PathBuf;

use assert_cmd::Command;
use cli_util::Ptape;
use serde_json::Value;

const DAY: i64 = 86_400;
/// Monday 2024-06-03 00:00:00 UTC.
const MONDAY: i64 = 1_717_372_800;

struct Env {
    tmp: tempfile::TempDir,
    cli: Ptape,
}

/// The outcome of one run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let cli = Ptape::new(tmp.path());
        Env { tmp, cli }
    }

    /// ptape at `time` (UTC), with `args`.
    fn cmd(&self, time: i64, args: &[&str]) -> Command {
        let mut cmd = self.cli.ptape();
        cmd.env("TZ", "UTC")
            .env(ptape::schedule::TEST_NOW_VAR, format!("@{time}"))
            .args(args);
        cmd
    }

    fn run(&self, time: i64, args: &[&str]) -> Run {
        let out = self.cmd(time, args).output().unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, time: i64, args: &[&str]) -> Run {
        let run = self.run(time, args);
        assert_eq!(run.code, Some(0), "ptape {args:?}: {}", run.stderr);
        run
    }

    fn json(&self, time: i64, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output-format", "json"]);
        serde_json::from_str(&self.ok(time, &all).stdout).unwrap()
    }

    fn fails(&self, time: i64, args: &[&str]) -> String {
        let run = self.run(time, args);
        assert_eq!(
            run.code,
            Some(1),
            "ptape {args:?} should fail: {}",
            run.stdout
        );
        run.stderr
    }

    fn source(&self) -> PathBuf {
        let dir = self.tmp.path().join("src");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"some data\n").unwrap();
        dir
    }

    /// A backup of the source tree to `pool` at `time`; returns stderr.
    fn backup(&self, time: i64, pool: &str) -> String {
        let src = self.source();
        let id = format!("h{time}");
        self.ok(
            time,
            &["backup", "--pool", pool, "--id", &id, src.to_str().unwrap()],
        )
        .stderr
    }

    fn library(&self) -> PathBuf {
        self.cli.data_dir().join("library")
    }

    fn tape_emu(&self, args: &[&str]) {
        Command::cargo_bin("tape-emu")
            .unwrap()
            .args(args)
            .assert()
            .success();
    }

    fn pmtx(&self, args: &[&str]) {
        let changer = self.library().join("changer");
        Command::cargo_bin("pmtx")
            .unwrap()
            .arg("-f")
            .arg(changer)
            .args(args)
            .assert()
            .success();
    }
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pool_create_update_show_list_remove() {
    let env = Env::new();
    let t = MONDAY;
    let err = env.fails(t, &["pool", "create", "x", "--encrypt", "ab:cd"]);
    assert!(err.contains("ab:cd"), "{err}");
    let key = env.ok(t, &["key", "create", "--hint", "test", "--kdf", "none"]);
    let fp = key.stdout.trim().to_string();
    let p = env.json(
        t,
        &[
            "pool",
            "create",
            "weekly",
            "--allocation",
            "mon..fri 22:00",
            "--retention",
            "2 weeks",
            "--template",
            "weekly-%F",
            "--comment",
            "workdays",
            "--encrypt",
            &fp,
        ],
    );
    assert_eq!(p["name"], "weekly");
    assert_eq!(p["allocation"], "mon..fri 22:00");
    assert_eq!(p["retention"], "2w");
    assert_eq!(p["template"], "weekly-%F");
    assert_eq!(p["comment"], "workdays");
    assert_eq!(p["encrypt"], fp);
    assert_eq!(p["created"], t);
    assert_eq!(p["media"], serde_json::json!([]));

    // Bad settings name what is wrong.
    let err = env.fails(t, &["pool", "create", "x", "--allocation", "mon 25:00"]);
    assert!(err.contains("invalid allocation \"mon 25:00\""), "{err}");
    assert!(
        err.contains("hour 25 is out of range 0..23 (at \"25\", column 5)"),
        "{err}"
    );
    let err = env.fails(t, &["pool", "create", "x", "--retention", "3 fortnights"]);
    assert!(err.contains("invalid retention"), "{err}");
    assert!(err.contains("fortnights"), "{err}");
    let err = env.fails(t, &["pool", "create", "x", "--template", "%Q%!"]);
    assert!(err.contains("invalid media set template"), "{err}");
    let err = env.fails(t, &["pool", "create", "weekly"]);
    assert!(err.contains("already exists"), "{err}");

    let p = env.json(
        t,
        &[
            "pool",
            "update",
            "weekly",
            "--retention",
            "overwrite",
            "--delete",
            "comment",
            "--delete",
            "encrypt",
        ],
    );
    assert_eq!(p["retention"], "overwrite");
    assert_eq!(p["comment"], Value::Null);
    assert_eq!(p["encrypt"], Value::Null);
    assert_eq!(p["allocation"], "mon..fri 22:00");
    let shown = env.json(t, &["pool", "show", "weekly"]);
    assert_eq!(shown, p);
    let list = env.json(t, &["pool", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "weekly"]);
    let err = env.fails(t, &["pool", "show", "nope"]);
    assert!(err.contains("pool \"nope\" does not exist"), "{err}");

    // A pool with tapes is not removed.
    env.ok(t, &["label", "--barcode", "PT0001L9", "--pool", "weekly"]);
    let err = env.fails(t, &["pool", "remove", "weekly"]);
    assert!(err.contains("still has 1 tape(s) (PT0001L9)"), "{err}");
    assert_eq!(
        labels(&env.json(t, &["pool", "show", "weekly"])["media"]),
        ["PT0001L9"]
    );
    env.ok(t, &["media", "destroy", "PT0001L9"]);
    env.ok(t, &["pool", "remove", "weekly"]);
    let err = env.fails(t, &["pool", "remove", "default"]);
    assert!(err.contains("cannot be removed"), "{err}");
}

#[test]
fn media_sets_follow_the_calendar_and_close_on_demand() {
    let env = Env::new();
    let t = MONDAY + 10 * 3600;
    env.ok(
        t,
        &[
            "pool",
            "create",
            "daily",
            "--allocation",
            "daily",
            "--retention",
            "3d",
            "--template",
            "daily-%F",
        ],
    );
    let err = env.backup(t, "daily");
    assert!(
        err.contains("new media set: the pool has none yet"),
        "{err}"
    );
    // Later the same day: the same set.
    let err = env.backup(t + 3600, "daily");
    assert!(!err.contains("new media set"), "{err}");
    let sets = env.json(t + 3600, &["media-set", "list", "--pool", "daily"]);
    assert_eq!(sets.as_array().unwrap().len(), 1);
    let first = sets[0].clone();
    assert_eq!(first["name"], "daily-2024-06-03");
    assert_eq!(first["pool"], "daily");
    assert_eq!(labels(&first["members"]), ["PT0001L9"]);
    assert_eq!(first["start_time"], t);
    assert_eq!(first["last_write"], t + 3600);
    assert_eq!(first["status"], "open");
    // It closes at the next event (Tuesday 00:00) and expires 3 days later.
    assert_eq!(first["expires"], MONDAY + DAY + 3 * DAY);

    // Tuesday: the calendar starts a new set.
    let err = env.backup(t + DAY, "daily");
    assert!(
        err.contains("new media set: allocation 'daily' reached"),
        "{err}"
    );
    let uuid = first["uuid"].as_str().unwrap();
    let shown = env.json(t + DAY, &["media-set", "show", uuid]);
    for field in [
        "uuid",
        "name",
        "pool",
        "members",
        "start_time",
        "last_write",
        "expires",
        "status",
    ] {
        assert!(shown.get(field).is_some(), "{field} missing: {shown}");
    }
    assert_eq!(shown["status"], "closed");
    assert_eq!(
        env.json(MONDAY + 4 * DAY - 1, &["media-set", "show", uuid])["status"],
        "closed"
    );
    assert_eq!(
        env.json(MONDAY + 4 * DAY, &["media-set", "show", "daily-2024-06-03"])["status"],
        "expired"
    );
    // The closed set's tape is full.
    let media = env.json(t + DAY, &["media", "list", "--pool", "daily"]);
    assert_eq!(media[0]["label"], "PT0001L9");
    assert_eq!(media[0]["status"], "full");
    assert_eq!(media[0]["media_set_status"], "closed");
    assert_eq!(media[1]["label"], "PT0002L9");
    assert_eq!(media[1]["status"], "writable");

    // Closing Tuesday's set by hand: the next backup starts another one.
    let closed = env.json(t + DAY + 60, &["media-set", "close", "daily-2024-06-04"]);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["expires"], t + DAY + 60 + 3 * DAY);
    let err = env.backup(t + DAY + 120, "daily");
    assert!(
        err.contains("new media set: media set 'daily-2024-06-04' was closed"),
        "{err}"
    );
    assert_eq!(
        env.json(t + DAY + 120, &["media-set", "list"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let err = env.fails(t, &["media-set", "show", "nope"]);
    assert!(err.contains("no media set matches \"nope\""), "{err}");
}

#[test]
fn tapes_move_to_the_vault_and_back() {
    let env = Env::new();
    let t = MONDAY;
    env.backup(t, "default");
    let media = env.json(t, &["media", "list"]);
    assert_eq!(media[0]["location"], "online");
    assert_eq!(media[0]["location_name"], "changer");

    // Still in the changer: it must be exported first.
    let err = env.fails(t, &["media", "move", "PT0001L9", "--vault", "offsite"]);
    assert!(err.contains("online in changer 'changer'"), "{err}");

    // Out through the mail slot (slot 9) and off the premises.
    env.pmtx(&["export", "PT0001L9"]);
    env.tape_emu(&["take", env.library().to_str().unwrap(), "9"]);
    let media = env.json(t, &["media", "list", "--update-status"]);
    assert_eq!(media[0]["location"], "offline");
    let moved = env.json(t, &["media", "move", "PT0001L9", "--vault", "offsite"]);
    assert_eq!(moved["location"], "vault");
    assert_eq!(moved["location_name"], "offsite");
    let text = env.ok(t, &["media", "list"]).stdout;
    assert!(text.contains("vault (offsite)"), "{text}");

    // A vaulted writable tape: the next backup starts a new set.
    let err = env.backup(t + 60, "default");
    assert!(
        err.contains("new media set: last member is in vault 'offsite' (PT0001L9)"),
        "{err}"
    );
    let media = env.json(t + 60, &["media", "list"]);
    assert_eq!(media[1]["label"], "PT0002L9");

    // Back in the library: online again.
    env.tape_emu(&["import", env.library().to_str().unwrap(), "PT0001L9"]);
    env.pmtx(&["import", "PT0001L9"]);
    let media = env.json(t, &["media", "list", "--update-status"]);
    assert_eq!(media[0]["location"], "online");
    assert_eq!(media[0]["location_name"], "changer");

    let err = env.fails(t, &["media", "move", "NOPE", "--offline"]);
    assert!(err.contains("no tape with label \"NOPE\""), "{err}");
    let out = env.run(t, &["media", "move", "PT0001L9"]);
    assert_eq!(out.code, Some(2), "--vault or --offline is required");
}

#[test]
fn destroy_refuses_live_sets_without_force() {
    let env = Env::new();
    let t = MONDAY;
    env.ok(
        t,
        &[
            "pool",
            "create",
            "short",
            "--allocation",
            "always",
            "--retention",
            "1h",
        ],
    );
    env.backup(t, "short");
    let err = env.fails(t + 60, &["media", "destroy", "PT0001L9"]);
    assert!(err.contains("which is closed"), "{err}");
    assert!(err.contains("--force"), "{err}");
    // An hour after the set closed it expired: no --force needed.
    let gone = env.json(t + 3600, &["media", "destroy", "PT0001L9"]);
    assert_eq!(gone["label"], "PT0001L9");
    assert!(env
        .json(t, &["media", "list"])
        .as_array()
        .unwrap()
        .is_empty());
    assert!(env.json(t, &["snapshots"]).as_array().unwrap().is_empty());

    // (PT0001L9 is not blank and no longer catalogued: never written.)
    env.backup(t + 7200, "short");
    let err = env.fails(t + 7200, &["media", "destroy", "PT0002L9"]);
    assert!(err.contains("--force"), "{err}");
    env.ok(t + 7200, &["media", "destroy", "PT0002L9", "--force"]);
    assert!(env
        .json(t, &["media", "list"])
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn status_updates_by_hand() {
    let env = Env::new();
    let t = MONDAY;
    env.ok(t, &["label", "--barcode", "PT0003L9"]);
    let m = env.json(t, &["media", "update", "PT0003L9", "--status", "damaged"]);
    assert_eq!(m["status"], "damaged");
    let m = env.json(t, &["media", "update", "PT0003L9", "--status", "writable"]);
    assert_eq!(m["status"], "writable");
    let err = env.fails(t, &["media", "update", "PT0003L9", "--status", "unknown"]);
    assert!(err.contains("set by ptape"), "{err}");
    env.backup(t, "default");
    let media = env.json(t, &["media", "list"]);
    let in_set = media
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["media_set"].is_string())
        .unwrap();
    let label = in_set["label"].as_str().unwrap();
    let err = env.fails(t, &["media", "update", label, "--status", "writable"]);
    assert!(err.contains("is in a media set"), "{err}");
}

#[test]
fn inventory_reads_unknown_labels() {
    let env = Env::new();
    let t = MONDAY;
    env.ok(t, &["label", "--barcode", "PT0001L9"]);
    env.ok(t, &["label", "--barcode", "PT0002L9", "--pool", "default"]);
    env.backup(t, "default");
    // The catalog is lost; inventory finds the tapes again by their labels.
    let catalog = env.cli.data_dir().join("catalog.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", catalog.display()));
    }
    let entries = env.json(t, &["inventory"]);
    let by_barcode = |b: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["barcode"] == b)
            .unwrap()
            .clone()
    };
    // The tape labelled for the pool went into the backup's set, which the
    // new catalog does not know: recorded as unknown, never written.
    let used = by_barcode("PT0002L9");
    assert_eq!(used["outcome"], "unknown-media-set");
    assert_eq!(by_barcode("PT0001L9")["outcome"], "catalogued");
    assert_eq!(by_barcode("PT0003L9")["outcome"], "blank");
    let media = env.json(t, &["media", "list"]);
    assert_eq!(media[0]["label"], "PT0001L9");
    assert_eq!(media[0]["status"], "writable");
    assert_eq!(media[0]["pool"], Value::Null);
    let pt2 = &media[1];
    assert_eq!(pt2["label"], "PT0002L9");
    assert_eq!(pt2["status"], "unknown");
    assert_eq!(pt2["location_name"], "changer");
    assert_eq!(media.as_array().unwrap().len(), 2);
    // Known tapes are not read again unless asked.
    let again = env.json(t, &["inventory"]);
    assert!(again
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["barcode"] == "PT0001L9" || e["barcode"] == "PT0002L9")
        .all(|e| e["outcome"] == "known"));
    let all = env.json(t, &["inventory", "--read-all-labels"]);
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["barcode"] == "PT0001L9")
        .all(|e| e["outcome"] == "updated"));
    // An unknown tape is never chosen: the next backup takes another one.
    let err = env.backup(t + 60, "default");
    assert!(!err.contains("PT0002L9"), "{err}");
}

/// Deletes the catalog (and its WAL files).
fn lose_catalog(env: &Env) {
    let catalog = env.cli.data_dir().join("catalog.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", catalog.display()));
    }
}

fn scanned_pools(scan: &Value) -> Vec<(String, String)> {
    scan["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["settings"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Pool definitions survive the loss of catalog.db: from pools.toml (which
/// every pool command rewrites), else from the catalog archive on tape,
/// else the defaults with a warning (exit 3).
#[test]
fn catalog_scan_brings_pools_back() {
    let env = Env::new();
    let t = MONDAY;
    env.ok(
        t,
        &[
            "pool",
            "create",
            "weekly",
            "--allocation",
            "mon",
            "--retention",
            "3w",
            "--comment",
            "kept three weeks",
        ],
    );
    env.ok(t, &["pool", "create", "spare", "--retention", "1w"]);
    env.backup(t, "weekly");
    // Changed after the last backup: only pools.toml knows this.
    env.ok(t, &["pool", "update", "weekly", "--retention", "5w"]);
    let file = env.tmp.path().join("config/pools.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[pool.weekly]"), "{text}");

    // 1. From pools.toml: the latest settings, and the pool without tapes.
    lose_catalog(&env);
    let scan = env.json(t, &["catalog", "scan"]);
    assert_eq!(
        scanned_pools(&scan),
        [
            ("spare".to_string(), "pools-file".to_string()),
            ("weekly".to_string(), "pools-file".to_string())
        ]
    );
    let weekly = env.json(t, &["pool", "show", "weekly"]);
    assert_eq!(weekly["allocation"], "mon");
    assert_eq!(weekly["retention"], "5w");
    assert_eq!(weekly["comment"], "kept three weeks");
    assert_eq!(labels(&weekly["media"]), ["PT0001L9"]);
    assert_eq!(env.json(t, &["pool", "show", "spare"])["retention"], "1w");

    // 2. Without pools.toml: the settings the tape's catalog archive
    //    recorded (as of the backup); the file is written again.
    lose_catalog(&env);
    std::fs::remove_file(&file).unwrap();
    let scan = env.json(t, &["catalog", "scan"]);
    assert_eq!(
        scanned_pools(&scan),
        [("weekly".to_string(), "tape".to_string())]
    );
    let weekly = env.json(t, &["pool", "show", "weekly"]);
    assert_eq!(weekly["allocation"], "mon");
    assert_eq!(weekly["retention"], "3w");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("[pool.weekly]"));

    // 3. Neither: the catalog archive (the tape's last file) is damaged.
    //    The pool comes back by name with the defaults, and the scan says
    //    so and exits 3.
    lose_catalog(&env);
    std::fs::remove_file(&file).unwrap();
    let image = env.library().join("tapes/PT0001L9.tape");
    let mut bytes = std::fs::read(&image).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n - 40..n - 8] {
        *b ^= 0x5A;
    }
    std::fs::write(&image, bytes).unwrap();
    let run = env.run(t, &["catalog", "scan"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "warning: pool weekly was recreated from its tapes with default settings \
             (allocation continue, retention keep)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("ptape pool update weekly --allocation ... --retention ..."),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("pool weekly: recreated, DEFAULT settings"),
        "{}",
        run.stdout
    );
    let weekly = env.json(t, &["pool", "show", "weekly"]);
    assert_eq!(weekly["allocation"], "continue");
    assert_eq!(labels(&weekly["media"]), ["PT0001L9"]);
    assert_eq!(env.json(t, &["snapshots"]).as_array().unwrap().len(), 1);
}

/// A standalone drive (no changer): a backup that needs a tape not in the
/// drive asks for it by label ("please insert LABEL into drive 'D'");
/// `--no-wait` fails at once with exit 1 and that message, writing
/// nothing; with the tape inserted the same backup appends to it.
#[test]
fn a_standalone_drive_asks_for_the_tape_and_no_wait_fails() {
    let env = Env::new();
    let lib = env.tmp.path().join("standalone");
    let lib_s = lib.to_str().unwrap();
    env.tape_emu(&["create", lib_s, "--slots", "0"]);
    let drive = lib.join("drive0");
    let t = MONDAY;
    env.ok(
        t,
        &["drive", "add", "sd", "--path", drive.to_str().unwrap()],
    );
    env.tape_emu(&["insert", lib_s, "0", "SA0001L9"]);
    env.ok(
        t,
        &[
            "label",
            "--drive",
            "sd",
            "--barcode",
            "SA0001L9",
            "--pool",
            "default",
        ],
    );
    let src = env.source();
    let backup = |time: i64, extra: &[&str]| {
        let mut args = vec!["backup", "--drive", "sd", "--id", "h"];
        args.extend(extra);
        args.push(src.to_str().unwrap());
        env.run(time, &args)
    };
    let first = backup(t, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let media = env.json(t, &["media", "list"]);
    assert_eq!(media[0]["label"], "SA0001L9");
    assert_eq!(media[0]["location"], "offline");

    // The operator takes the tape out of the drive.
    env.tape_emu(&["remove", lib_s, "0"]);
    let run = backup(t + 60, &["--no-wait"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "please insert SA0001L9 into drive 'sd' (backup to pool 'default' appends to media set"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("SA0001L9 not online in drive 'sd'"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.json(t + 60, &["snapshots"]).as_array().unwrap().len(),
        1
    );

    // The tape is back in the drive: the backup appends to it.
    env.tape_emu(&["insert", lib_s, "0", "SA0001L9"]);
    let run = backup(t + 120, &["--no-wait"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("please insert"), "{}", run.stderr);
    assert_eq!(
        env.json(t + 120, &["snapshots"]).as_array().unwrap().len(),
        2
    );
    assert_eq!(
        env.json(t + 120, &["media-set", "list"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
