//! Notifications: telling an admin when a job finished, a tape must be
//! inserted, a drive needs cleaning or a tape was marked damaged.
//!
//! Targets live in `notify.toml` in the config directory ([`config`]):
//! a webhook (HTTP POST of the JSON document, timeout and retries), a mail
//! (an RFC 5322 message piped to `sendmail -t`) or a command (the JSON
//! document on stdin). Every target receives the same document
//! ([`Document`], schema `ptape.notification` version 1).
//!
//! Sending never fails the job that sends: [`Notifier::send`] returns one
//! [`Outcome`] per target and logs each failure.
//!
//! ```no_run
//! use ptape::notify::{Event, JobFinished, JobState, Notifier};
//! # fn main() -> Result<(), ptape::notify::NotifyError> {
//! let notifier = Notifier::from_config()?.select(&["admin".to_string()])?;
//! let event = Event::JobFinished(JobFinished {
//!     job: Some("nightly".into()),
//!     run: Some(17),
//!     state: JobState::Ok,
//!     pool: "daily".into(),
//!     snapshot: Some("daily/host/2026-06-01T22:00:00Z".into()),
//!     tapes: vec!["AB0001L9".into()],
//!     bytes_written: 1 << 30,
//!     start: 1_780_351_200,
//!     end: 1_780_352_000,
//!     warnings: 0,
//!     error: None,
//!     task_log: None,
//! });
//! for outcome in notifier.send(&event) {
//!     if let Some(e) = &outcome.error {
//!         eprintln!("notification to {} failed: {e}", outcome.target);
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod config;
mod event;
mod mail;
mod program;
mod webhook;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

pub use config::{NotifyConfig, TargetConfig, TargetType, NOTIFY_FILE};
pub use event::{
    Document, DriveNeedsCleaning, Event, JobFinished, JobState, Severity, TapeDamaged, TapeNeeded,
    TestNotification, EVENT_NAMES, SCHEMA, SCHEMA_VERSION,
};
pub use mail::message as mail_message;
pub use webhook::redacted as redacted_url;

use crate::media_request::TapeRequest;
use crate::schedule::Clock;
use crate::writer::WriterEvents;

/// Errors of the notification configuration (sending never errs: see
/// [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid notification configuration: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: target {target:?}, field {field}: {message}")]
    Invalid {
        path: PathBuf,
        target: String,
        field: String,
        message: String,
    },
    #[error("no notification target named {0:?} (see `ptape notify list`; add one with `ptape notify add`)")]
    UnknownTarget(String),
    #[error("a notification target named {0:?} already exists")]
    Duplicate(String),
}

/// What became of one target's notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub target: String,
    #[serde(rename = "type")]
    pub kind: TargetType,
    pub ok: bool,
    /// Delivery attempts made (webhooks retry; others try once).
    pub attempts: u32,
    pub error: Option<String>,
}

/// Sends events to a set of targets.
#[derive(Debug, Clone)]
pub struct Notifier {
    targets: Vec<TargetConfig>,
    clock: Clock,
    host: String,
    first_retry_delay: Duration,
}

impl Notifier {
    /// A notifier for these targets.
    pub fn new(targets: Vec<TargetConfig>) -> Self {
        Notifier {
            targets,
            clock: Clock::System,
            host: host_name(),
            first_retry_delay: webhook::FIRST_RETRY_DELAY,
        }
    }

    /// Every target of `notify.toml` in the config directory (validated).
    pub fn from_config() -> Result<Self, NotifyError> {
        Ok(Self::new(NotifyConfig::load()?.targets))
    }

    /// Only the named targets, in that order; an unknown name is an error
    /// (a job naming a removed target is told so when it loads).
    pub fn select(&self, names: &[String]) -> Result<Self, NotifyError> {
        let mut targets = Vec::new();
        for name in names {
            let target = self
                .targets
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| NotifyError::UnknownTarget(name.clone()))?;
            if !targets.iter().any(|t: &TargetConfig| &t.name == name) {
                targets.push(target.clone());
            }
        }
        Ok(Notifier {
            targets,
            ..self.clone()
        })
    }

    /// Where "now" (the document's `time`) comes from.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The pause before the first webhook retry (doubled for each further).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.first_retry_delay = delay;
        self
    }

    pub fn targets(&self) -> &[TargetConfig] {
        &self.targets
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The document `event` is sent as.
    pub fn document<'e>(&self, event: &'e Event) -> Document<'e> {
        Document::new(event, self.clock.now(), &self.host)
    }

    /// Sends `event` to every target that wants it (a target's `events`
    /// and `min_severity`), one after the other; never fails: each
    /// failure is logged and returned in its [`Outcome`].
    pub fn send(&self, event: &Event) -> Vec<Outcome> {
        let document = self.document(event);
        let json = document.to_json();
        self.targets
            .iter()
            .filter(|t| t.wants(event))
            .map(|target| {
                let result = self.deliver(target, &document, &json, event);
                let (ok, attempts, error) = match result {
                    Ok(attempts) => (true, attempts, None),
                    Err((e, attempts)) => {
                        tracing::warn!(
                            "notification {} to target {} ({}) failed: {e}",
                            event.name(),
                            target.name,
                            target.kind.as_str()
                        );
                        (false, attempts, Some(e))
                    }
                };
                Outcome {
                    target: target.name.clone(),
                    kind: target.kind,
                    ok,
                    attempts,
                    error,
                }
            })
            .collect()
    }

    fn deliver(
        &self,
        target: &TargetConfig,
        document: &Document<'_>,
        json: &str,
        event: &Event,
    ) -> Result<u32, (String, u32)> {
        match target.kind {
            TargetType::Webhook => {
                webhook::post(target, json, event.name(), self.first_retry_delay)
            }
            TargetType::Sendmail => {
                let from = default_from(&self.host);
                let message = mail::message(target, document, event, &from);
                mail::send(target, &message).map(|()| 1).map_err(|e| (e, 1))
            }
            TargetType::Command => run_command(target, json, event)
                .map(|()| 1)
                .map_err(|e| (e, 1)),
        }
    }
}

/// Runs a command target with the document on stdin and the event's name,
/// severity and subject in `PTAPE_EVENT`, `PTAPE_SEVERITY`, `PTAPE_SUBJECT`.
fn run_command(target: &TargetConfig, json: &str, event: &Event) -> Result<(), String> {
    let name = target.program.as_deref().unwrap_or_default();
    let program = program::find_program(name, &[])
        .ok_or_else(|| format!("program {name:?} not found or not executable"))?;
    let mut command = Command::new(&program);
    command
        .args(&target.args)
        .env("PTAPE_EVENT", event.name())
        .env("PTAPE_SEVERITY", event.severity().as_str())
        .env("PTAPE_SUBJECT", event.subject());
    program::run_with_input(
        command,
        &program.display().to_string(),
        json.as_bytes(),
        Duration::from_secs(target.timeout_secs()),
    )
}

/// Checks that a target can work here before it is added: a command's
/// program exists, sendmail is installed. Returns what would stop it.
pub fn check_target_here(target: &TargetConfig) -> Result<(), String> {
    match target.kind {
        TargetType::Webhook => Ok(()),
        TargetType::Sendmail => mail::sendmail_program().map(|_| ()),
        TargetType::Command => {
            let name = target.program.as_deref().unwrap_or_default();
            program::find_program(name, &[])
                .map(|_| ())
                .ok_or_else(|| format!("program {name:?} not found or not executable"))
        }
    }
}

/// This host's name ("localhost" when it cannot be read).
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `ptape <USER@HOST>`.
fn default_from(host: &str) -> String {
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".to_string());
    format!("ptape <{user}@{host}>")
}

/// A [`WriterEvents`] that passes everything to `inner` and also sends the
/// events worth a notification (tape needed, drive needs cleaning, tape
/// damaged) to its notifier; a failed notification becomes a note in the
/// job's log.
///
/// A tape request is sent once: [`crate::media_request::wait_for_tapes`]
/// asks once and then polls quietly, and the same request asked again
/// right after (nothing else asked in between) is not sent again.
pub struct NotifyingEvents<'a> {
    inner: &'a mut dyn WriterEvents,
    notifier: &'a Notifier,
    job: Option<String>,
    pool: Option<String>,
    last_request: Option<TapeRequest>,
    /// Every outcome of this job's notifications so far.
    pub outcomes: Vec<Outcome>,
}

impl<'a> NotifyingEvents<'a> {
    /// `job`: the job id the events belong to (`None` for a hand-run command).
    pub fn new(
        inner: &'a mut dyn WriterEvents,
        notifier: &'a Notifier,
        job: Option<String>,
    ) -> Self {
        NotifyingEvents {
            inner,
            notifier,
            job,
            pool: None,
            last_request: None,
            outcomes: Vec::new(),
        }
    }

    /// The pool the job writes (named in `tape_needed`).
    pub fn with_pool(mut self, pool: &str) -> Self {
        self.pool = Some(pool.to_string());
        self
    }

    /// Sends `event` (with this job's id) and notes failures in the log.
    pub fn notify(&mut self, mut event: Event) {
        if self.notifier.is_empty() {
            return;
        }
        let job = self.job.clone();
        match &mut event {
            Event::JobFinished(e) => e.job = e.job.take().or(job),
            Event::TapeNeeded(e) => e.job = e.job.take().or(job),
            Event::DriveNeedsCleaning(e) => e.job = e.job.take().or(job),
            Event::TapeDamaged(e) => e.job = e.job.take().or(job),
            Event::Test(_) => {}
        }
        for outcome in self.notifier.send(&event) {
            if let Some(error) = &outcome.error {
                self.inner.note(&format!(
                    "notification {} to target {} failed: {error}",
                    event.name(),
                    outcome.target
                ));
            }
            self.outcomes.push(outcome);
        }
    }
}

impl WriterEvents for NotifyingEvents<'_> {
    fn tape(&mut self, label: &str, seq_nr: u32) {
        self.inner.tape(label, seq_nr);
    }
    fn chunk(&mut self, len: u64, written: bool) {
        self.inner.chunk(len, written);
    }
    fn note(&mut self, message: &str) {
        self.inner.note(message);
    }
    fn warning(&mut self, message: &str) {
        self.inner.warning(message);
    }
    fn stop_requested(&mut self) -> bool {
        self.inner.stop_requested()
    }
    fn tape_needed(&mut self, request: &TapeRequest) {
        self.inner.tape_needed(request);
        if self.last_request.as_ref() == Some(request) {
            return;
        }
        self.last_request = Some(request.clone());
        let event = TapeNeeded::of_request(request, self.pool.clone(), self.job.clone());
        self.notify(Event::TapeNeeded(event));
    }
    fn drive_needs_cleaning(&mut self, event: &DriveNeedsCleaning) {
        self.inner.drive_needs_cleaning(event);
        self.notify(Event::DriveNeedsCleaning(event.clone()));
    }
    fn tape_damaged(&mut self, event: &TapeDamaged) {
        self.inner.tape_damaged(event);
        self.notify(Event::TapeDamaged(event.clone()));
    }
}

#[cfg(test)]
mod tests;
