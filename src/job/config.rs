//! The jobs configuration: `jobs.toml` in the config directory.
//!
//! ```toml
//! [job.nightly]
//! schedule = "mon..fri 22:00"     # calendar event (`ptape calendar-event`)
//! pool = "daily"
//! drive = "any"                   # a drive name, "any", or left out: the default drive
//! paths = ["/srv", "/etc"]
//! exclude = ["*.tmp", "/srv/cache"]
//! eject = false                   # unload the last tape when done
//! export_media_set = false        # move the set's tapes to the export slots when done
//! notify = ["admins"]             # notification targets (`ptape notify list`)
//! comment = "web and config"
//! passphrase_file = "/etc/ptape/tape-pass"  # the pool's key passphrase (encrypting pools)
//! ```
//!
//! Every job is checked when the file is loaded; an error names the file,
//! the job and the field (`jobs.toml: job "nightly", field "schedule": ...`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::schedule::CalendarEvent;

/// File name of the jobs configuration inside the config directory.
pub const JOBS_FILE: &str = "jobs.toml";
/// The `drive` value that lets a job take any free drive of its changer.
pub const ANY_DRIVE: &str = "any";

/// Errors of reading, checking or writing the jobs configuration.
#[derive(Debug, thiserror::Error)]
pub enum JobConfigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {job}{message}")]
    Parse {
        path: PathBuf,
        /// `job "ID": ` when the error lies inside a job's table.
        job: String,
        message: String,
    },
    #[error("{path}: job {job:?}, field {field:?}: {message}")]
    Invalid {
        path: PathBuf,
        job: String,
        field: &'static str,
        message: String,
    },
    #[error("no job named {0:?} (ptape job list shows the jobs)")]
    Unknown(String),
    #[error("a job named {0:?} already exists (ptape job update changes it)")]
    Duplicate(String),
    #[error("cannot serialize the jobs configuration: {0}")]
    Serialize(#[from] toml::ser::Error),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// One scheduled backup job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// When the job runs (calendar event).
    pub schedule: String,
    /// Media pool the job writes to.
    pub pool: String,
    /// Drive name, [`ANY_DRIVE`], or none for the default drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive: Option<String>,
    /// Files and directories to back up (absolute paths).
    pub paths: Vec<PathBuf>,
    /// Gitignore-style patterns left out (as `ptape backup --exclude`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Unload the last tape (a standalone drive: eject it) when done.
    #[serde(default, skip_serializing_if = "is_false")]
    pub eject: bool,
    /// Move the media set's tapes to the export slots when done.
    #[serde(default, skip_serializing_if = "is_false")]
    pub export_media_set: bool,
    /// Notification targets told when the job finishes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// File whose first line is the passphrase of the pool's encryption
    /// key (absolute path; not needed for unencrypted pools or keys
    /// stored without a passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_file: Option<PathBuf>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The whole `jobs.toml`: jobs by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    #[serde(default, rename = "job")]
    pub jobs: BTreeMap<String, JobConfig>,
}

/// Path of `jobs.toml`.
pub fn jobs_path() -> Result<PathBuf, JobConfigError> {
    Ok(crate::config::config_dir()?.join(JOBS_FILE))
}

/// Loads and checks `jobs.toml`; a missing file has no jobs.
pub fn load_jobs() -> Result<JobsConfig, JobConfigError> {
    JobsConfig::load_from(&jobs_path()?)
}

impl JobConfig {
    /// The parsed schedule (checked on load).
    pub fn event(&self) -> Result<CalendarEvent, crate::schedule::CalendarEventError> {
        CalendarEvent::parse(&self.schedule)
    }

    /// True when the job takes any free drive of its changer.
    pub fn any_drive(&self) -> bool {
        self.drive.as_deref() == Some(ANY_DRIVE)
    }

    /// Checks every field; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        CalendarEvent::parse(&self.schedule).map_err(|e| ("schedule", e.to_string()))?;
        crate::config::validate_name(&self.pool).map_err(|e| ("pool", e.to_string()))?;
        if let Some(drive) = self.drive.as_deref().filter(|d| *d != ANY_DRIVE) {
            crate::config::validate_name(drive).map_err(|e| ("drive", e.to_string()))?;
        }
        if self
            .passphrase_file
            .as_deref()
            .is_some_and(|p| !p.is_absolute())
        {
            return Err((
                "passphrase_file",
                "give an absolute path (the scheduler runs from another directory)".into(),
            ));
        }
        if self.paths.is_empty() {
            return Err((
                "paths",
                "give at least one file or directory to back up".into(),
            ));
        }
        if let Some(p) = self.paths.iter().find(|p| !p.is_absolute()) {
            return Err((
                "paths",
                format!(
                    "{} is not an absolute path (a scheduled job has no working directory)",
                    p.display()
                ),
            ));
        }
        crate::stream::exclude::Excludes::new(&self.exclude)
            .map_err(|e| ("exclude", e.to_string()))?;
        if self.eject && self.export_media_set {
            return Err((
                "eject",
                "eject and export_media_set exclude each other (exporting the set unloads its tapes anyway)"
                    .into(),
            ));
        }
        for target in &self.notify {
            crate::config::validate_name(target).map_err(|e| ("notify", e.to_string()))?;
        }
        if let Some(c) = &self.comment {
            if c.contains('\n') {
                return Err(("comment", "a comment is one line".into()));
            }
        }
        Ok(())
    }
}

/// Checks a job id: like other names (letters, digits, `-`, `_`, `.`).
pub fn validate_job_id(id: &str) -> Result<(), crate::config::ConfigError> {
    crate::config::validate_name(id)
}

impl JobsConfig {
    /// Loads and checks a jobs file; a missing file has no jobs.
    pub fn load_from(path: &Path) -> Result<JobsConfig, JobConfigError> {
        let text = crate::config::read_optional(path).map_err(|source| JobConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let Some(text) = text else {
            return Ok(JobsConfig::default());
        };
        let config: JobsConfig = toml::from_str(&text).map_err(|e| JobConfigError::Parse {
            path: path.to_path_buf(),
            job: e
                .span()
                .and_then(|span| job_at(&text, span.start))
                .map(|id| format!("job {id:?}: "))
                .unwrap_or_default(),
            message: e.message().to_string() + &line_of(&text, e.span()),
        })?;
        config.check(path)?;
        Ok(config)
    }

    /// Checks every job (see [`JobConfig::check`]).
    pub fn check(&self, path: &Path) -> Result<(), JobConfigError> {
        for (id, job) in &self.jobs {
            if let Err(e) = validate_job_id(id) {
                return Err(JobConfigError::Invalid {
                    path: path.to_path_buf(),
                    job: id.clone(),
                    field: "id",
                    message: e.to_string(),
                });
            }
            job.check()
                .map_err(|(field, message)| JobConfigError::Invalid {
                    path: path.to_path_buf(),
                    job: id.clone(),
                    field,
                    message,
                })?;
        }
        Ok(())
    }

    /// Writes the file atomically ([`crate::config::write_atomic`]).
    pub fn save_to(&self, path: &Path) -> Result<(), JobConfigError> {
        self.check(path)?;
        let io = |source| JobConfigError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string_pretty(self)?;
        crate::config::write_atomic(path, &text, 0o644).map_err(io)
    }

    /// The job with this id.
    pub fn job(&self, id: &str) -> Result<&JobConfig, JobConfigError> {
        self.jobs
            .get(id)
            .ok_or_else(|| JobConfigError::Unknown(id.to_string()))
    }
}

/// The id of the `[job.ID]` table that holds byte `offset` of `text`.
fn job_at(text: &str, offset: usize) -> Option<String> {
    // Up to the end of the line holding the offset: a span may start at
    // the table's own header.
    let end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let before = text.get(..end)?;
    let header = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))?;
    let inner = header.trim_start_matches('[').trim_end_matches(']');
    let id = inner.strip_prefix("job.")?.trim();
    Some(id.trim_matches('"').to_string())
}

/// ` (line N)` for a span, when known.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span.and_then(|s| text.get(..s.start)) {
        Some(before) => format!(" (line {})", before.lines().count().max(1)),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> JobConfig {
        JobConfig {
            schedule: "mon..fri 22:00".into(),
            pool: "daily".into(),
            drive: Some(ANY_DRIVE.into()),
            paths: vec!["/srv".into()],
            exclude: vec!["*.tmp".into()],
            eject: false,
            export_media_set: true,
            notify: vec!["admins".into()],
            comment: Some("web".into()),
            passphrase_file: Some("/etc/ptape/tape-pass".into()),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOBS_FILE);
        let mut c = JobsConfig::default();
        c.jobs.insert("nightly".into(), job());
        c.save_to(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[job.nightly]"), "{text}");
        assert_eq!(JobsConfig::load_from(&path).unwrap(), c);
        assert!(JobsConfig::load_from(&dir.path().join("none.toml"))
            .unwrap()
            .jobs
            .is_empty());
    }

    #[test]
    fn errors_name_file_job_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOBS_FILE);
        let write = |t: &str| std::fs::write(&path, t).unwrap();
        let base = "[job.a]\npool = \"p\"\npaths = [\"/x\"]\n";
        write(&format!("{base}schedule = \"daily\"\n[job.b]\npool = \"p\"\npaths = [\"/x\"]\nschedule = \"mon..funday\"\n"));
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains(JOBS_FILE), "{msg}");
        assert!(msg.contains("job \"b\", field \"schedule\""), "{msg}");

        write(&format!("{base}schedule = \"daily\"\ncolour = \"red\"\n"));
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains("job \"a\"") && msg.contains("colour"), "{msg}");

        write("[job.a]\nschedule = \"daily\"\npool = \"p\"\npaths = [\"rel\"]\n");
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains("field \"paths\""), "{msg}");

        write(&format!(
            "{base}schedule = \"daily\"\neject = true\nexport_media_set = true\n"
        ));
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains("field \"eject\""), "{msg}");

        write("[job.\"bad id\"]\nschedule = \"daily\"\npool = \"p\"\npaths = [\"/x\"]\n");
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains("field \"id\""), "{msg}");

        write("[job.a]\nschedule = \"daily\"\npaths = [\"/x\"]\n");
        let msg = JobsConfig::load_from(&path).unwrap_err().to_string();
        assert!(msg.contains("job \"a\"") && msg.contains("pool"), "{msg}");
    }
}
