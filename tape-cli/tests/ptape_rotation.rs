//! The rotation schemes of docs/ptape.md, run as written: the blocks
//! marked `<!-- rotation-test: NAME -->` are read from the document; plain
//! `ptape` lines run once, crontab lines run whenever their schedule
//! matches while a test clock (`PTAPE_TEST_NOW`, in UTC) walks day by day
//! over weeks, on the emulated library. Doc and test cannot drift.

mod cli_util;
#[path = "../../tests/restore_util/mod.rs"]
mod restore_util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cli_util::Ptape;
use jiff::civil::Weekday;
use pbs_tape::emulator::library::Library;
use restore_util::{make_library, make_tree, MIB};
use serde_json::Value;

const DAY: i64 = 86_400;

/// The lines of the `sh` block after `<!-- rotation-test: NAME -->`.
fn doc_block(name: &str) -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ptape.md"))
            .unwrap();
    let marker = format!("<!-- rotation-test: {name} -->");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/ptape.md has no {marker}"));
    let rest = &doc[at + marker.len()..];
    let start = rest.find("```sh\n").unwrap() + "```sh\n".len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// One crontab field: `*`, `N`, `a-b`, lists of those.
fn field_matches(field: &str, value: i64) -> bool {
    field.split(',').any(|part| match part.split_once('-') {
        _ if part == "*" => true,
        Some((a, b)) => (a.parse::<i64>().unwrap()..=b.parse::<i64>().unwrap()).contains(&value),
        None => part.parse::<i64>().unwrap() == value,
    })
}

/// A crontab line: schedule and command.
struct CronLine {
    fields: Vec<String>,
    command: String,
}

impl CronLine {
    fn parse(line: &str) -> Option<CronLine> {
        let parts: Vec<&str> = line.splitn(6, ' ').collect();
        if parts.len() < 6 || parts[0] == "ptape" {
            return None;
        }
        Some(CronLine {
            fields: parts[..5].iter().map(|s| s.to_string()).collect(),
            command: parts[5].to_string(),
        })
    }

    /// The time of day it runs on `day` (midnight UTC), if it runs then.
    fn runs_on(&self, day: i64) -> Option<i64> {
        let date = jiff::Timestamp::from_second(day)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC);
        let dow = date.weekday().to_sunday_zero_offset() as i64;
        let ok = field_matches(&self.fields[2], date.day() as i64)
            && field_matches(&self.fields[3], date.month() as i64)
            && (field_matches(&self.fields[4], dow)
                || (dow == 0 && field_matches(&self.fields[4], 7)));
        let minute: i64 = self.fields[0].parse().unwrap();
        let hour: i64 = self.fields[1].parse().unwrap();
        ok.then_some(day + hour * 3600 + minute * 60)
    }
}

struct Scheme {
    tmp: tempfile::TempDir,
    cli: Ptape,
    lib: Library,
    src: PathBuf,
}

impl Scheme {
    fn new(tapes: usize) -> Scheme {
        let tmp = tempfile::tempdir().unwrap();
        let lib = make_library(&tmp.path().join("data/library"), tapes, 64 * MIB);
        let src = make_tree(&tmp.path().join("src"), MIB as usize);
        let cli = Ptape::new(tmp.path());
        Scheme { tmp, cli, lib, src }
    }

    /// Runs one documented command line at `now` through the shell, as
    /// an admin would paste it; returns its exit code and stdout.
    fn run(&self, line: &str, now: i64) -> (i32, String) {
        let line = line.replace("/srv/data", self.src.to_str().unwrap());
        let ptape = assert_cmd::cargo::cargo_bin("ptape");
        let path = format!(
            "{}:{}",
            ptape.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let cmd = self.cli.ptape();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("PATH", path)
            .env("TZ", "UTC")
            // Device locks of its own: other tests use the same emulator serial.
            .env("PTAPE_LOCK_DIR", self.tmp.path().join("locks"))
            .env("PTAPE_TEST_NOW", format!("@{now}"))
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 3,
            "{line:?} at {now} failed ({code}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The setup lines at `start`, then the crontab lines day by day for
    /// `days`; `after` sees each job that ran.
    fn simulate(
        &self,
        block: &[String],
        start: i64,
        days: i64,
        mut after: impl FnMut(&Scheme, &str, i64),
    ) {
        let cron: Vec<CronLine> = block.iter().filter_map(|l| CronLine::parse(l)).collect();
        for line in block.iter().filter(|l| l.starts_with("ptape ")) {
            self.run(line, start);
        }
        assert!(!cron.is_empty(), "no crontab lines in {block:?}");
        for d in 0..days {
            let day = start - start.rem_euclid(DAY) + d * DAY;
            let mut jobs: Vec<(i64, &CronLine)> = cron
                .iter()
                .filter_map(|c| Some((c.runs_on(day)?, c)))
                .collect();
            jobs.sort_by_key(|(t, _)| *t);
            for (t, job) in jobs {
                let cmd = format!("{} --output-format json", job.command);
                self.run(&cmd, t);
                after(self, &job.command, t);
            }
        }
    }

    fn json(&self, args: &[&str], now: i64) -> Value {
        let line = format!("ptape {} --output-format json", args.join(" "));
        serde_json::from_str(&self.run(&line, now).1).unwrap()
    }

    /// pool -> labels of the tapes in its media sets.
    fn tapes_by_pool(&self, now: i64) -> BTreeMap<String, BTreeSet<String>> {
        let mut by_pool: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for set in self.json(&["media-set", "list"], now).as_array().unwrap() {
            let pool = set["pool"].as_str().unwrap().to_string();
            for m in set["members"].as_array().unwrap() {
                by_pool
                    .entry(pool.clone())
                    .or_default()
                    .insert(m.as_str().unwrap().to_string());
            }
        }
        by_pool
    }
}

fn epoch(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

#[test]
fn weekday_pools() {
    let s = Scheme::new(8);
    let start = epoch("2026-03-02T08:00:00Z");
    assert_eq!(
        jiff::Timestamp::from_second(start)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .weekday(),
        Weekday::Monday
    );
    let mut runs = 0;
    s.simulate(&doc_block("weekday"), start, 21, |_, _, _| runs += 1);
    assert_eq!(runs, 15);
    let end = start + 21 * DAY;
    let by_pool = s.tapes_by_pool(end);
    // One tape per weekday pool, overwritten each week; no tape shared.
    assert_eq!(by_pool.len(), 5, "{by_pool:?}");
    let all: BTreeSet<&String> = by_pool.values().flatten().collect();
    assert_eq!(all.len(), 5, "{by_pool:?}");
    assert!(by_pool.values().all(|t| t.len() == 1), "{by_pool:?}");
    // Only this week's backups are left (older sets were overwritten).
    let snaps = s.json(&["snapshots"], end);
    assert_eq!(snaps.as_array().unwrap().len(), 5, "{snaps}");
}

#[test]
fn weekly_and_yearly() {
    let s = Scheme::new(8);
    // Monday 2026-12-14: six weeks over New Year.
    let start = epoch("2026-12-14T08:00:00Z");
    let mut yearly_runs = 0;
    s.simulate(&doc_block("weekly-yearly"), start, 42, |_, cmd, _| {
        if cmd.contains("--pool yearly") {
            yearly_runs += 1;
        }
    });
    assert_eq!(yearly_runs, 1);
    let end = start + 42 * DAY;
    let by_pool = s.tapes_by_pool(end);
    let weekly = &by_pool["weekly"];
    let yearly = &by_pool["yearly"];
    assert!(weekly.is_disjoint(yearly));
    assert_eq!(yearly.len(), 1);
    // Six weekly sets; the first comes back after four weeks: at most
    // four weekly tapes.
    assert!(weekly.len() <= 4, "{weekly:?}");
    let sets = s.json(&["media-set", "list", "--pool", "yearly"], end);
    // Open until next New Year, then kept forever.
    assert_eq!(sets[0]["status"], "open", "{sets}");
    assert_eq!(sets[0]["expires"], Value::Null);
}

#[test]
fn offsite_vault() {
    let s = Scheme::new(8);
    let start = epoch("2026-03-02T08:00:00Z");
    let vault_step = doc_block("offsite-vault");
    let mut vaulted: Vec<String> = Vec::new();
    s.simulate(&doc_block("offsite"), start, 35, |s, _, t| {
        // The operator empties the mail slot and records each tape.
        let mut taken = Vec::new();
        s.lib
            .update(|state| {
                for slot in state.ie_slots.iter_mut() {
                    taken.extend(slot.take());
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(taken.len(), 1, "the job exported its tape");
        for label in taken {
            for line in &vault_step {
                s.run(&line.replace("LABEL", &label), t + 60);
            }
            assert!(
                !vaulted.contains(&label),
                "vaulted {label} was written again"
            );
            vaulted.push(label);
        }
    });
    assert_eq!(vaulted.len(), 5);
    let media = s.json(&["media", "list"], start + 35 * DAY);
    for m in media.as_array().unwrap() {
        if vaulted.iter().any(|v| m["label"] == v.as_str()) {
            assert_eq!(m["location"], "vault", "{m}");
        }
    }
}
