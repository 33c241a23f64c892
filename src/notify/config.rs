//! Notification targets: `notify.toml` in the config directory.
//!
//! ```toml
//! [[target]]
//! name = "ops-hook"
//! type = "webhook"
//! url = "https://chat.example.org/hooks/tape"
//! headers = ["Authorization: Bearer 0123"]   # optional
//! timeout = 10                                # seconds per attempt (default 10)
//! retries = 3                                 # attempts after the first (default 3)
//!
//! [[target]]
//! name = "admin"
//! type = "sendmail"
//! address = "root@example.org"                # one or more, comma-separated
//! from = "ptape <tape@example.org>"           # optional
//! min_severity = "warning"                    # optional: info, warning, error
//!
//! [[target]]
//! name = "script"
//! type = "command"
//! program = "/usr/local/bin/tape-event"
//! args = ["--quiet"]                          # optional
//! events = ["tape_needed", "drive_needs_cleaning"]   # optional filter
//! ```
//!
//! Every target may have `events` (only these event names) and
//! `min_severity`. The file may hold secrets (webhook tokens): it is
//! written with mode 0600.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::event::{Severity, EVENT_NAMES};
use super::NotifyError;
use crate::config::{config_dir, validate_name};

/// File name of the notification targets inside the config directory.
pub const NOTIFY_FILE: &str = "notify.toml";
/// Seconds one webhook attempt, a sendmail or a command may take by default.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Seconds a command or sendmail may take by default.
pub const DEFAULT_PROGRAM_TIMEOUT_SECS: u64 = 60;
/// Webhook attempts after the first, by default.
pub const DEFAULT_RETRIES: u32 = 3;
/// Upper bounds, so a typo does not block a job for a day.
pub const MAX_TIMEOUT_SECS: u64 = 600;
pub const MAX_RETRIES: u32 = 10;

/// Path of `notify.toml`.
pub fn notify_path() -> Result<PathBuf, NotifyError> {
    Ok(config_dir()?.join(NOTIFY_FILE))
}

/// The kind of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// HTTP POST of the JSON document.
    Webhook,
    /// An RFC 5322 message piped to `sendmail -t`.
    Sendmail,
    /// A program that gets the JSON document on stdin.
    Command,
}

impl TargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Webhook => "webhook",
            TargetType::Sendmail => "sendmail",
            TargetType::Command => "command",
        }
    }
}

/// One target as written in `notify.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: TargetType,
    /// Webhook: the URL to POST to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Webhook: extra request headers, `Name: value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// Webhook: attempts after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Sendmail: recipient address(es), comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Sendmail: the From header (default `ptape <USER@HOST>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Command: the program (a path, or a name looked up on PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Command: arguments given to the program.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Seconds one attempt may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Only these events (names as in the `event` field); empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// Only events at least this severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
}

impl TargetConfig {
    /// A target of `kind` with its destination (URL, address or program).
    pub fn new(name: &str, kind: TargetType, destination: &str) -> Self {
        let mut t = TargetConfig {
            name: name.to_string(),
            kind,
            url: None,
            headers: Vec::new(),
            retries: None,
            address: None,
            from: None,
            program: None,
            args: Vec::new(),
            timeout: None,
            events: Vec::new(),
            min_severity: None,
        };
        let dest = Some(destination.to_string());
        match kind {
            TargetType::Webhook => t.url = dest,
            TargetType::Sendmail => t.address = dest,
            TargetType::Command => t.program = dest,
        }
        t
    }

    /// Where the target sends to (URL, address or program).
    pub fn destination(&self) -> &str {
        match self.kind {
            TargetType::Webhook => self.url.as_deref(),
            TargetType::Sendmail => self.address.as_deref(),
            TargetType::Command => self.program.as_deref(),
        }
        .unwrap_or("")
    }

    /// Seconds one attempt may take.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout.unwrap_or(match self.kind {
            TargetType::Webhook => DEFAULT_TIMEOUT_SECS,
            _ => DEFAULT_PROGRAM_TIMEOUT_SECS,
        })
    }

    /// Webhook attempts after the first.
    pub fn retries(&self) -> u32 {
        self.retries.unwrap_or(DEFAULT_RETRIES)
    }

    /// True when this target wants `event`.
    pub fn wants(&self, event: &super::Event) -> bool {
        (self.events.is_empty() || self.events.iter().any(|e| e == event.name()))
            && self.min_severity.is_none_or(|min| event.severity() >= min)
    }

    /// Checks the fields; the error names the file, the target and the field.
    pub fn validate(&self, path: &Path) -> Result<(), NotifyError> {
        let invalid = |field: &str, message: String| NotifyError::Invalid {
            path: path.to_path_buf(),
            target: self.name.clone(),
            field: field.to_string(),
            message,
        };
        validate_name(&self.name).map_err(|e| invalid("name", e.to_string()))?;
        // Fields of the other kinds must not be set: they would be ignored.
        let foreign: &[(&str, bool)] = &[
            ("url", self.url.is_some()),
            ("headers", !self.headers.is_empty()),
            ("retries", self.retries.is_some()),
            ("address", self.address.is_some()),
            ("from", self.from.is_some()),
            ("program", self.program.is_some()),
            ("args", !self.args.is_empty()),
        ];
        let own: &[&str] = match self.kind {
            TargetType::Webhook => &["url", "headers", "retries"],
            TargetType::Sendmail => &["address", "from"],
            TargetType::Command => &["program", "args"],
        };
        for (field, set) in foreign {
            if *set && !own.contains(field) {
                return Err(invalid(
                    field,
                    format!("not a field of a {} target", self.kind.as_str()),
                ));
            }
        }
        match self.kind {
            TargetType::Webhook => {
                let url = self.url.as_deref().ok_or_else(|| {
                    invalid("url", "missing: a webhook target needs a URL".into())
                })?;
                check_url(url).map_err(|m| invalid("url", m))?;
                for header in &self.headers {
                    check_header(header).map_err(|m| invalid("headers", m))?;
                }
                if self.retries() > MAX_RETRIES {
                    return Err(invalid(
                        "retries",
                        format!("{} is more than {MAX_RETRIES}", self.retries()),
                    ));
                }
            }
            TargetType::Sendmail => {
                let address = self.address.as_deref().ok_or_else(|| {
                    invalid(
                        "address",
                        "missing: a sendmail target needs an address".into(),
                    )
                })?;
                check_addresses(address).map_err(|m| invalid("address", m))?;
                if let Some(from) = &self.from {
                    check_from(from).map_err(|m| invalid("from", m))?;
                }
            }
            TargetType::Command => {
                let program = self.program.as_deref().ok_or_else(|| {
                    invalid(
                        "program",
                        "missing: a command target needs a program".into(),
                    )
                })?;
                if program.trim().is_empty() || program.contains('\0') {
                    return Err(invalid("program", "empty program name".into()));
                }
            }
        }
        if let Some(t) = self.timeout {
            if t == 0 || t > MAX_TIMEOUT_SECS {
                return Err(invalid(
                    "timeout",
                    format!("{t} seconds: use 1 to {MAX_TIMEOUT_SECS}"),
                ));
            }
        }
        for name in &self.events {
            if !EVENT_NAMES.contains(&name.as_str()) {
                return Err(invalid(
                    "events",
                    format!("unknown event {name:?}: use {}", EVENT_NAMES.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

fn check_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{text:?}: only http:// and https:// URLs can receive webhooks"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} names no host"));
    }
    Ok(())
}

fn check_header(text: &str) -> Result<(), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?}: write a header as \"Name: value\""))?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !name_ok {
        return Err(format!("{text:?}: {name:?} is not a header name"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("{text:?}: the value holds control characters"));
    }
    Ok(())
}

/// One mailbox `local@domain`, no spaces or header syntax.
fn check_address(addr: &str) -> Result<(), String> {
    let (local, domain) = addr
        .rsplit_once('@')
        .ok_or_else(|| format!("{addr:?} is not a mail address (local@domain)"))?;
    let ok_chars = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c))
    };
    if !ok_chars(local) || !ok_chars(domain) || domain.contains('@') {
        return Err(format!("{addr:?} is not a mail address (local@domain)"));
    }
    Ok(())
}

/// Comma-separated mailboxes.
pub(crate) fn check_addresses(text: &str) -> Result<(), String> {
    let mut n = 0;
    for addr in text.split(',').map(str::trim) {
        check_address(addr)?;
        n += 1;
    }
    if n == 0 {
        return Err("no address given".into());
    }
    Ok(())
}

/// `addr@host` or `Display Name <addr@host>`.
fn check_from(text: &str) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        return Err(format!("{text:?} holds control characters"));
    }
    match text.rsplit_once('<') {
        Some((display, rest)) => {
            let addr = rest
                .strip_suffix('>')
                .ok_or_else(|| format!("{text:?}: missing '>'"))?;
            if display.contains(['<', '>', '"']) {
                return Err(format!("{text:?}: write the name without <, > or quotes"));
            }
            check_address(addr)
        }
        None => check_address(text.trim()),
    }
}

/// The whole `notify.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default, rename = "target", skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetConfig>,
}

impl NotifyConfig {
    /// Loads and validates a file; a missing file has no targets.
    pub fn load_from(path: &Path) -> Result<Self, NotifyError> {
        let text = crate::config::read_optional(path).map_err(|source| NotifyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let Some(text) = text else {
            return Ok(Self::default());
        };
        let config: NotifyConfig = toml::from_str(&text).map_err(|e| NotifyError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Loads `notify.toml` from the config directory.
    pub fn load() -> Result<Self, NotifyError> {
        Self::load_from(&notify_path()?)
    }

    /// Every target valid, names unique.
    pub fn validate(&self, path: &Path) -> Result<(), NotifyError> {
        for (i, target) in self.targets.iter().enumerate() {
            target.validate(path)?;
            if self.targets[..i].iter().any(|t| t.name == target.name) {
                return Err(NotifyError::Invalid {
                    path: path.to_path_buf(),
                    target: target.name.clone(),
                    field: "name".into(),
                    message: "a second target with this name".into(),
                });
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// Adds a target (validated; the name must be new).
    pub fn add(&mut self, target: TargetConfig, path: &Path) -> Result<(), NotifyError> {
        target.validate(path)?;
        if self.get(&target.name).is_some() {
            return Err(NotifyError::Duplicate(target.name));
        }
        self.targets.push(target);
        Ok(())
    }

    /// Removes a target.
    pub fn remove(&mut self, name: &str) -> Result<TargetConfig, NotifyError> {
        let i = self
            .targets
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| NotifyError::UnknownTarget(name.to_string()))?;
        Ok(self.targets.remove(i))
    }

    /// Writes the file atomically ([`crate::config::write_atomic`]), mode
    /// 0600 (targets may carry secrets).
    pub fn save_to(&self, path: &Path) -> Result<(), NotifyError> {
        let io = |source| NotifyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string_pretty(self).map_err(|e| NotifyError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        crate::config::write_atomic(path, &text, 0o600).map_err(io)
    }

    /// Writes `notify.toml` in the config directory.
    pub fn save(&self) -> Result<(), NotifyError> {
        self.save_to(&notify_path()?)
    }
}
