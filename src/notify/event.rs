//! What ptape tells its notification targets: the events and the one JSON
//! document every target receives (schema `ptape.notification`, version 1;
//! documented in docs/ptape.md, "Notifications").

use serde::{Deserialize, Serialize};

use crate::media_request::{Need, TapeRequest};

/// Value of the document's `schema` field.
pub const SCHEMA: &str = "ptape.notification";
/// Value of the document's `version` field; raised when a field changes
/// meaning or disappears (new fields do not raise it).
pub const SCHEMA_VERSION: u32 = 1;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Ok,
    Warnings,
    Error,
    /// Stopped before it finished (daemon shut down, killed).
    Interrupted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Ok => "ok",
            JobState::Warnings => "warnings",
            JobState::Error => "error",
            JobState::Interrupted => "interrupted",
        }
    }
}

/// How urgent an event is; targets can ask for a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A backup job (scheduled or run by hand) finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFinished {
    /// Job id; `None` for a hand-run `ptape backup`.
    pub job: Option<String>,
    /// Run number in the job history, when there is one.
    pub run: Option<i64>,
    pub state: JobState,
    pub pool: String,
    /// Snapshot written (`POOL/ID/TIME`); `None` when none was committed.
    pub snapshot: Option<String>,
    /// Labels of the tapes written, in order.
    pub tapes: Vec<String>,
    pub bytes_written: u64,
    /// Start and end, seconds since the Unix epoch.
    pub start: i64,
    pub end: i64,
    /// Warnings the job reported (files vanished, unreadable, changed).
    pub warnings: u64,
    /// Why the job failed (state `error` or `interrupted`).
    pub error: Option<String>,
    /// The run's task log (`ptape job log RUN` prints it); `None` for a
    /// hand-run backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_log: Option<String>,
}

impl JobFinished {
    pub fn duration_secs(&self) -> u64 {
        u64::try_from(self.end - self.start).unwrap_or(0)
    }

    fn what(&self) -> String {
        match &self.job {
            Some(job) => format!("job {job}"),
            None => format!("backup to pool {}", self.pool),
        }
    }
}

/// A tape must be inserted before a job can go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeNeeded {
    /// The tapes wanted; empty when any writable tape of `pool` (or a
    /// blank one) will do.
    pub labels: Vec<String>,
    /// `any`: one of `labels` will do (the first preferred; a backup);
    /// `all`: every one is needed (a restore).
    #[serde(default)]
    pub need: Need,
    pub pool: Option<String>,
    /// Where to insert it: the changer, else the drive.
    pub changer: Option<String>,
    pub drive: Option<String>,
    pub reason: String,
    pub job: Option<String>,
}

impl TapeNeeded {
    /// "insert LABEL into changer C" / "... into drive D".
    pub fn request(&self) -> String {
        let what = match (self.labels.as_slice(), &self.pool) {
            ([label], _) => format!("tape {label}"),
            ([], Some(pool)) => format!("a writable tape of pool {pool} or a blank cartridge"),
            ([], None) => "a writable tape".to_string(),
            (labels, _) if self.need == Need::All => format!("tapes {}", labels.join(", ")),
            (labels, _) => format!("one of the tapes {}", labels.join(", ")),
        };
        let place = match (&self.changer, &self.drive) {
            (Some(c), _) => format!("changer {c}"),
            (None, Some(d)) => format!("drive {d}"),
            (None, None) => "the drive".to_string(),
        };
        format!("insert {what} into {place}")
    }
}

impl TapeNeeded {
    /// The notification of a writer's or reader's request for tapes.
    pub fn of_request(request: &TapeRequest, pool: Option<String>, job: Option<String>) -> Self {
        TapeNeeded {
            labels: request.labels.clone(),
            need: request.need,
            pool,
            changer: request.changer.clone(),
            drive: Some(request.drive.clone()),
            reason: request.reason.clone(),
            job,
        }
    }
}

/// A drive asked for cleaning (TapeAlert cleaning flags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveNeedsCleaning {
    pub drive: String,
    pub changer: Option<String>,
    /// The TapeAlert flags that asked for it (e.g. `20 CLEAN NOW`).
    pub flags: Vec<String>,
    pub job: Option<String>,
}

/// A tape was marked damaged in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeDamaged {
    pub label: String,
    pub reason: String,
    pub drive: Option<String>,
    pub job: Option<String>,
}

/// `ptape notify test`: checks that a target is reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestNotification {
    pub target: String,
}

/// Everything ptape notifies about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    JobFinished(JobFinished),
    TapeNeeded(TapeNeeded),
    DriveNeedsCleaning(DriveNeedsCleaning),
    TapeDamaged(TapeDamaged),
    Test(TestNotification),
}

/// The event names (`event` field), for target filters.
pub const EVENT_NAMES: &[&str] = &[
    "job_finished",
    "tape_needed",
    "drive_needs_cleaning",
    "tape_damaged",
    "test",
];

impl Event {
    /// The `event` field's value.
    pub fn name(&self) -> &'static str {
        match self {
            Event::JobFinished(_) => "job_finished",
            Event::TapeNeeded(_) => "tape_needed",
            Event::DriveNeedsCleaning(_) => "drive_needs_cleaning",
            Event::TapeDamaged(_) => "tape_damaged",
            Event::Test(_) => "test",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Event::JobFinished(j) => match j.state {
                JobState::Ok => Severity::Info,
                JobState::Warnings => Severity::Warning,
                JobState::Error | JobState::Interrupted => Severity::Error,
            },
            Event::TapeNeeded(_) | Event::DriveNeedsCleaning(_) => Severity::Warning,
            Event::TapeDamaged(_) => Severity::Error,
            Event::Test(_) => Severity::Info,
        }
    }

    /// The job the event belongs to, if any.
    pub fn job(&self) -> Option<&str> {
        match self {
            Event::JobFinished(e) => e.job.as_deref(),
            Event::TapeNeeded(e) => e.job.as_deref(),
            Event::DriveNeedsCleaning(e) => e.job.as_deref(),
            Event::TapeDamaged(e) => e.job.as_deref(),
            Event::Test(_) => None,
        }
    }

    /// One line saying what happened (mail subject, chat message).
    pub fn subject(&self) -> String {
        let text = match self {
            Event::JobFinished(j) => match j.state {
                JobState::Ok => format!(
                    "{} finished: ok ({} written to {})",
                    j.what(),
                    human_bytes(j.bytes_written),
                    tapes_text(&j.tapes)
                ),
                JobState::Warnings => format!(
                    "{} finished with {} warning{}",
                    j.what(),
                    j.warnings,
                    if j.warnings == 1 { "" } else { "s" }
                ),
                JobState::Error => format!("{} failed", j.what()),
                JobState::Interrupted => format!("{} was interrupted", j.what()),
            },
            Event::TapeNeeded(t) => t.request(),
            Event::DriveNeedsCleaning(d) => format!("drive {} needs cleaning", d.drive),
            Event::TapeDamaged(t) => format!("tape {} marked damaged", t.label),
            Event::Test(t) => format!("test notification to target {}", t.target),
        };
        format!("ptape: {}", one_line(&text))
    }

    /// The details, one `name: value` line each (mail body).
    pub fn text(&self) -> String {
        let mut lines: Vec<(&str, String)> = Vec::new();
        match self {
            Event::JobFinished(j) => {
                lines.push(("job", j.job.clone().unwrap_or_else(|| "-".into())));
                if let Some(run) = j.run {
                    lines.push(("run", run.to_string()));
                }
                lines.push(("state", j.state.as_str().into()));
                lines.push(("pool", j.pool.clone()));
                lines.push(("snapshot", j.snapshot.clone().unwrap_or_else(|| "-".into())));
                lines.push(("tapes used", tapes_text(&j.tapes)));
                lines.push((
                    "written",
                    format!(
                        "{} ({} bytes)",
                        human_bytes(j.bytes_written),
                        j.bytes_written
                    ),
                ));
                lines.push(("started", time_text(j.start)));
                lines.push(("ended", time_text(j.end)));
                lines.push(("duration", duration_text(j.duration_secs())));
                lines.push(("warnings", j.warnings.to_string()));
                if let Some(error) = &j.error {
                    lines.push(("error", error.clone()));
                }
                if let Some(log) = &j.task_log {
                    lines.push(("task log", log.clone()));
                }
            }
            Event::TapeNeeded(t) => {
                lines.push(("request", t.request()));
                lines.push(("reason", t.reason.clone()));
                if let Some(pool) = &t.pool {
                    lines.push(("pool", pool.clone()));
                }
                if let Some(job) = &t.job {
                    lines.push(("job", job.clone()));
                }
            }
            Event::DriveNeedsCleaning(d) => {
                lines.push(("drive", d.drive.clone()));
                if let Some(c) = &d.changer {
                    lines.push(("changer", c.clone()));
                }
                lines.push(("tapealert flags", d.flags.join(", ")));
                if let Some(job) = &d.job {
                    lines.push(("job", job.clone()));
                }
            }
            Event::TapeDamaged(t) => {
                lines.push(("tape", t.label.clone()));
                lines.push(("reason", t.reason.clone()));
                if let Some(d) = &t.drive {
                    lines.push(("drive", d.clone()));
                }
                if let Some(job) = &t.job {
                    lines.push(("job", job.clone()));
                }
            }
            Event::Test(t) => {
                lines.push(("target", t.target.clone()));
                lines.push(("message", "this target works".into()));
            }
        }
        let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
        lines
            .iter()
            .map(|(k, v)| format!("{:width$} {v}\n", format!("{k}:")))
            .collect()
    }
}

/// The JSON document every target receives.
#[derive(Debug, Clone, Serialize)]
pub struct Document<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Always [`SCHEMA_VERSION`].
    pub version: u32,
    /// When ptape sent it (RFC 3339, UTC).
    pub time: String,
    /// The host ptape runs on.
    pub host: String,
    pub severity: Severity,
    /// [`Event::subject`].
    pub subject: String,
    /// `event` and the event's own fields.
    #[serde(flatten)]
    pub event: &'a Event,
    /// Job events: the run's length in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

impl<'a> Document<'a> {
    pub fn new(event: &'a Event, time: jiff::Timestamp, host: &str) -> Self {
        Document {
            schema: SCHEMA,
            version: SCHEMA_VERSION,
            time: time.to_string(),
            host: host.to_string(),
            severity: event.severity(),
            subject: event.subject(),
            event,
            duration_secs: match event {
                Event::JobFinished(j) => Some(j.duration_secs()),
                _ => None,
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn tapes_text(tapes: &[String]) -> String {
    if tapes.is_empty() {
        "no tape".to_string()
    } else {
        tapes.join(", ")
    }
}

/// The text with control characters (line breaks) made spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn time_text(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| epoch.to_string())
}

fn duration_text(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
