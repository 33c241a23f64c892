//! Asking the operator for tapes that are not where the drive can reach
//! them, and waiting for them.
//!
//! A backup whose next tape is offline, or a restore whose tapes are not
//! all in the library, says `please insert LABEL into changer 'C'` (or
//! `drive 'D'` for a standalone drive) through
//! [`WriterEvents::tape_needed`] (the hook the job log and notifications
//! subscribe to), then polls what the drive can reach every
//! [`WaitForTapes::interval`] for as long as the [`WaitPolicy`] allows
//! (`--wait[=SECS]`; `--no-wait`, the default, fails at once). Each poll
//! reads the changer (or the label of the tape in a standalone drive); a
//! wanted cartridge found in an import/export slot (or a configured export
//! slot) is moved into a free storage slot ([`TapeDevices::import`]). When
//! the policy gives up the error names every tape still missing. A job
//! asked to stop ([`WriterEvents::stop_requested`]) stops waiting at the
//! next look.

use std::time::Duration;

use crate::devices::{DeviceError, TapeDevices};
use crate::lock::wait::{format_wait, SystemWaitClock, WaitClock};
use crate::lock::{Polled, WaitPolicy};
use crate::writer::WriterEvents;

/// How often a waiting job looks for an inserted tape by default.
pub const INSERT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// How long a job waits for tapes to be inserted, and how often it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitForTapes {
    pub policy: WaitPolicy,
    pub interval: Duration,
}

impl Default for WaitForTapes {
    /// No waiting (`--no-wait`), polling every [`INSERT_POLL_INTERVAL`].
    fn default() -> Self {
        WaitForTapes {
            policy: WaitPolicy::NoWait,
            interval: INSERT_POLL_INTERVAL,
        }
    }
}

impl WaitForTapes {
    pub fn new(policy: WaitPolicy) -> Self {
        WaitForTapes {
            policy,
            ..WaitForTapes::default()
        }
    }
}

/// Which of the requested tapes a job needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// Every one (a restore reads them all).
    All,
    /// Any one of them, the first preferred (a backup writes one).
    #[default]
    Any,
}

/// Tapes a job asks the operator for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TapeRequest {
    /// Labels (barcodes), best first.
    pub labels: Vec<String>,
    pub need: Need,
    /// The changer to put them into; `None`: the standalone drive.
    pub changer: Option<String>,
    pub drive: String,
    /// Why: `backup to pool 'daily'`, `restore of POOL/ID/TIME`.
    pub reason: String,
}

impl TapeRequest {
    /// Where the tapes go: `changer 'lib1'` or `drive 'lto0'`.
    pub fn target(&self) -> String {
        match &self.changer {
            Some(c) => format!("changer '{c}'"),
            None => format!("drive '{}'", self.drive),
        }
    }

    /// `please insert L1 into changer 'lib1'` (all of them: `L1, L2`;
    /// any: `L1 (or L2, L3)`).
    pub fn message(&self) -> String {
        let labels = match (self.need, self.labels.split_first()) {
            (Need::Any, Some((first, rest))) if !rest.is_empty() => {
                format!("{first} (or {})", rest.join(", "))
            }
            _ => self.labels.join(", "),
        };
        format!(
            "please insert {labels} into {} ({})",
            self.target(),
            self.reason
        )
    }

    fn satisfied(&self, online: &[String]) -> bool {
        let here = |l: &String| online.contains(l);
        match self.need {
            Need::All => self.labels.iter().all(here),
            Need::Any => self.labels.iter().any(here),
        }
    }
}

/// Errors of waiting for tapes.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The tapes did not come (at once with `--no-wait`).
    #[error("{}: {} not online in {}{}; {}", .request.reason, .missing.join(", "), .request.target(), gave_up(*.waited, .policy), hint(.policy))]
    NotInserted {
        request: Box<TapeRequest>,
        /// The labels still missing.
        missing: Vec<String>,
        policy: WaitPolicy,
        waited: Duration,
    },
    /// The job was asked to stop while it waited (a scheduled job's
    /// SIGTERM).
    #[error("{}: stopped while waiting for {} in {}", .request.reason, .request.labels.join(", "), .request.target())]
    Stopped { request: Box<TapeRequest> },
    #[error(transparent)]
    Device(Box<DeviceError>),
}

fn gave_up(waited: Duration, policy: &WaitPolicy) -> String {
    if policy.waits() {
        format!(" (gave up after waiting {})", format_wait(waited))
    } else {
        String::new()
    }
}

fn hint(policy: &WaitPolicy) -> &'static str {
    if policy.waits() {
        "insert the tapes and run the job again"
    } else {
        "insert the tapes and run the job again, or let it wait for them with --wait[=SECS]"
    }
}

impl From<DeviceError> for RequestError {
    fn from(e: DeviceError) -> Self {
        RequestError::Device(Box::new(e))
    }
}

impl RequestError {
    /// The labels still missing.
    pub fn missing(&self) -> &[String] {
        match self {
            RequestError::NotInserted { missing, .. } => missing,
            RequestError::Stopped { request } => &request.labels,
            RequestError::Device(_) => &[],
        }
    }
}

/// The labels the drive can reach now; wanted cartridges waiting in an
/// import/export slot are imported first (only while waiting: without
/// `--wait` no cartridge is moved, so a tape exported on its way to a
/// vault stays in the mail slot).
fn poll_online<D: TapeDevices + ?Sized>(
    devices: &mut D,
    request: &TapeRequest,
) -> Result<Vec<String>, DeviceError> {
    let online = devices.online_labels()?;
    let mut imported = false;
    for label in &request.labels {
        if !online.contains(label) && devices.import(label)? {
            imported = true;
        }
    }
    if imported {
        return devices.online_labels();
    }
    Ok(online)
}

/// Asks for the tapes of `request` (see the module documentation) and
/// waits until the job can go on: returns the labels the drive can reach
/// then. Tapes already there are not asked for.
pub fn wait_for_tapes<D: TapeDevices + ?Sized>(
    devices: &mut D,
    request: &TapeRequest,
    wait: &WaitForTapes,
    events: &mut dyn WriterEvents,
) -> Result<Vec<String>, RequestError> {
    wait_for_tapes_with(devices, request, wait, events, &mut SystemWaitClock)
}

/// [`wait_for_tapes`] on the given clock (tests).
pub fn wait_for_tapes_with<D: TapeDevices + ?Sized>(
    devices: &mut D,
    request: &TapeRequest,
    wait: &WaitForTapes,
    events: &mut dyn WriterEvents,
    clock: &mut dyn WaitClock,
) -> Result<Vec<String>, RequestError> {
    let online = devices.online_labels()?;
    if request.satisfied(&online) {
        return Ok(online);
    }
    let mut asked = request.clone();
    if asked.need == Need::All {
        asked.labels.retain(|l| !online.contains(l));
    }
    events.tape_needed(&asked);
    let mut last = online;
    // Ready(None): asked to stop while waiting.
    let polled = wait.policy.poll_with(clock, wait.interval, || {
        let online = if wait.policy.waits() {
            poll_online(devices, &asked)?
        } else {
            devices.online_labels()?
        };
        let ready = asked.satisfied(&online);
        last = online.clone();
        if ready {
            return Ok::<_, DeviceError>(Some(Some(online)));
        }
        Ok(events.stop_requested().then_some(None))
    })?;
    match polled {
        Polled::Ready(Some(online)) => {
            events.note(&format!("tape inserted into {}", asked.target()));
            Ok(online)
        }
        Polled::Ready(None) => Err(RequestError::Stopped {
            request: Box::new(asked),
        }),
        Polled::GaveUp { waited } => Err(RequestError::NotInserted {
            missing: asked
                .labels
                .iter()
                .filter(|l| !last.contains(l))
                .cloned()
                .collect(),
            request: Box::new(asked),
            policy: wait.policy,
            waited,
        }),
    }
}
