//! `ptape status`: what ptape will use (configuration, devices, catalog).

use std::path::PathBuf;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::config::{self, ResolvedDrive};

/// What ptape will use, for `ptape status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub catalog: PathBuf,
    pub schema_version: u32,
    pub drive: DriveStatus,
    /// The embedded library directory when no drive is configured.
    pub embedded_library: Option<PathBuf>,
    pub embedded_library_exists: bool,
    pub pools: usize,
    pub media: usize,
    pub snapshots: usize,
    /// Whether `ptape daemon` runs for this data directory.
    pub daemon: crate::job::daemon::DaemonStatus,
    /// Each job's next run and last state.
    pub jobs: Vec<JobStatus>,
    /// Why the jobs could not be read (`jobs.toml` does not check).
    pub jobs_error: Option<String>,
}

/// One job in `ptape status`.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub id: String,
    pub schedule: String,
    pub next_run: Option<String>,
    pub last_run_state: Option<crate::job::history::RunState>,
}

/// The default drive as resolved from the configuration.
#[derive(Debug, Clone, Serialize)]
pub struct DriveStatus {
    pub name: String,
    pub path: String,
    pub changer_path: Option<String>,
    pub changer_drivenum: u32,
    pub embedded: bool,
}

impl From<ResolvedDrive> for DriveStatus {
    fn from(d: ResolvedDrive) -> Self {
        DriveStatus {
            name: d.name,
            path: d.path,
            changer_path: d.changer_path,
            changer_drivenum: d.changer_drivenum,
            embedded: d.embedded,
        }
    }
}

/// Collects the status (opens, and if needed creates, the catalog).
pub fn status() -> Result<Status, crate::Error> {
    let cfg = config::load_config()?;
    let drive = cfg.resolve_drive(None)?;
    let embedded_library = if drive.embedded {
        Some(config::embedded_library_dir()?)
    } else {
        None
    };
    let embedded_library_exists = embedded_library
        .as_ref()
        .is_some_and(|d| d.join("state.json").is_file());
    let catalog_path = config::catalog_path()?;
    let catalog = Catalog::open(&catalog_path)?;
    let data_dir = config::data_dir()?;
    let daemon =
        crate::job::daemon::daemon_status(&data_dir).unwrap_or(crate::job::daemon::DaemonStatus {
            running: false,
            pid: None,
        });
    let clock = crate::schedule::Clock::from_env().unwrap_or_default();
    let (jobs, jobs_error) = match crate::job::list_jobs(&catalog, &clock) {
        Ok(jobs) => (
            jobs.into_iter()
                .map(|j| JobStatus {
                    id: j.id,
                    schedule: j.config.schedule,
                    next_run: j.next_run,
                    last_run_state: j.last_run_state,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(Status {
        daemon,
        jobs,
        jobs_error,
        config_dir: config::config_dir()?,
        data_dir: config::data_dir()?,
        schema_version: catalog.schema_version()?,
        catalog: catalog_path,
        drive: drive.into(),
        embedded_library,
        embedded_library_exists,
        pools: catalog.pools()?.len(),
        media: catalog.media_list()?.len(),
        snapshots: catalog.snapshots(None)?.len(),
    })
}
