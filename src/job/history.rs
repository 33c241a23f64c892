//! Job runs and job state in the catalog database (schema version 7).
//!
//! A run is recorded `running` when it starts and gets its outcome when it
//! ends, in the same database as the media catalog: a run reported `ok`
//! names a snapshot whose rows were committed before it.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError};

/// The state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    Ok,
    Warnings,
    Error,
    Interrupted,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Ok => "ok",
            RunState::Warnings => "warnings",
            RunState::Error => "error",
            RunState::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "running" => RunState::Running,
            "ok" => RunState::Ok,
            "warnings" => RunState::Warnings,
            "error" => RunState::Error,
            "interrupted" => RunState::Interrupted,
            other => return Err(format!("unknown job run state {other:?}")),
        })
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub run: i64,
    pub job: String,
    /// Epoch milliseconds.
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub state: RunState,
    pub message: Option<String>,
    pub snapshot: Option<String>,
    pub tapes: Vec<String>,
    pub bytes_written: u64,
    /// Warnings of a run that finished with warnings.
    pub warnings: u64,
    /// The drive the run used (or waits for).
    pub drive: Option<String>,
    /// Started by the scheduler (not `ptape job run`).
    pub scheduled: bool,
    pub pid: Option<u32>,
}

impl RunRecord {
    /// Start in epoch seconds.
    pub fn start(&self) -> i64 {
        self.start_ms.div_euclid(1000)
    }

    /// The run as `ptape job history` shows it (exactly these fields).
    pub fn view(&self) -> RunView {
        RunView {
            job: self.job.clone(),
            run: self.run,
            start: format_ms(self.start_ms),
            end: self.end_ms.map(format_ms),
            state: self.state,
            message: self.message.clone(),
            snapshot: self.snapshot.clone(),
            tapes: self.tapes.clone(),
            bytes_written: self.bytes_written,
        }
    }
}

/// A run as `ptape job history --output-format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub job: String,
    pub run: i64,
    /// RFC 3339, UTC, milliseconds.
    pub start: String,
    pub end: Option<String>,
    pub state: RunState,
    pub message: Option<String>,
    pub snapshot: Option<String>,
    pub tapes: Vec<String>,
    pub bytes_written: u64,
}

/// Epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn format_ms(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOutcome {
    pub message: Option<String>,
    pub snapshot: Option<String>,
    pub tapes: Vec<String>,
    pub bytes_written: u64,
    pub warnings: u64,
}

/// When a job was created and when its schedule last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub job: String,
    /// Epoch seconds.
    pub created: i64,
    /// The schedule the state was recorded for.
    pub schedule: String,
    pub schedule_changed: Option<i64>,
}

const RUN_COLUMNS: &str = "run, job, start_ms, end_ms, state, message, snapshot, tapes, \
     bytes_written, drive, scheduled, pid, warnings";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<(RunRecord, String, String)> {
    let tapes: String = row.get(7)?;
    let state: String = row.get(4)?;
    Ok((
        RunRecord {
            run: row.get(0)?,
            job: row.get(1)?,
            start_ms: row.get(2)?,
            end_ms: row.get(3)?,
            state: RunState::Running,
            message: row.get(5)?,
            snapshot: row.get(6)?,
            tapes: Vec::new(),
            bytes_written: row.get::<_, i64>(8)?.max(0) as u64,
            drive: row.get(9)?,
            scheduled: row.get(10)?,
            pid: row.get::<_, Option<i64>>(11)?.map(|p| p as u32),
            warnings: row.get::<_, i64>(12)?.max(0) as u64,
        },
        state,
        tapes,
    ))
}

fn finish_row(
    (mut rec, state, tapes): (RunRecord, String, String),
) -> Result<RunRecord, CatalogError> {
    rec.state = state.parse().map_err(CatalogError::Corrupt)?;
    rec.tapes = serde_json::from_str(&tapes)?;
    Ok(rec)
}

fn query_runs(
    catalog: &Catalog,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RunRecord>, CatalogError> {
    let conn = catalog.connection();
    let mut stmt = conn.prepare(&format!("SELECT {RUN_COLUMNS} FROM job_runs {sql}"))?;
    let rows = stmt.query_map(params, run_from_row)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(finish_row(row?)?);
    }
    Ok(out)
}

/// Records a run that starts now; returns its number.
pub fn start_run(
    catalog: &Catalog,
    job: &str,
    start_ms: i64,
    drive: Option<&str>,
    scheduled: bool,
) -> Result<i64, CatalogError> {
    let conn = catalog.connection();
    conn.execute(
        "INSERT INTO job_runs (job, start_ms, state, drive, scheduled, pid)
         VALUES (?1, ?2, 'running', ?3, ?4, ?5)",
        params![job, start_ms, drive, scheduled, std::process::id()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Records the drive a running run uses.
pub fn set_run_drive(catalog: &Catalog, run: i64, drive: &str) -> Result<(), CatalogError> {
    catalog.connection().execute(
        "UPDATE job_runs SET drive = ?2 WHERE run = ?1",
        params![run, drive],
    )?;
    Ok(())
}

/// Records how a run ended.
pub fn finish_run(
    catalog: &Catalog,
    run: i64,
    end_ms: i64,
    state: RunState,
    outcome: &RunOutcome,
) -> Result<(), CatalogError> {
    let tapes = serde_json::to_string(&outcome.tapes)?;
    let n = catalog.connection().execute(
        "UPDATE job_runs SET end_ms = ?2, state = ?3, message = ?4, snapshot = ?5, tapes = ?6,
             bytes_written = ?7, warnings = ?8
         WHERE run = ?1",
        params![
            run,
            end_ms,
            state.as_str(),
            outcome.message,
            outcome.snapshot,
            tapes,
            outcome.bytes_written as i64,
            outcome.warnings as i64
        ],
    )?;
    if n == 0 {
        return Err(CatalogError::Corrupt(format!(
            "job run {run} is not recorded"
        )));
    }
    Ok(())
}

/// Runs, newest first: of one job or all, at most `limit`.
pub fn runs(
    catalog: &Catalog,
    job: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<RunRecord>, CatalogError> {
    let limit = limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64);
    query_runs(
        catalog,
        "WHERE (?1 IS NULL OR job = ?1) ORDER BY run DESC LIMIT ?2",
        params![job, limit],
    )
}

/// One run by number.
pub fn run(catalog: &Catalog, run: i64) -> Result<Option<RunRecord>, CatalogError> {
    Ok(query_runs(catalog, "WHERE run = ?1", params![run])?
        .into_iter()
        .next())
}

/// The latest run of a job.
pub fn last_run(catalog: &Catalog, job: &str) -> Result<Option<RunRecord>, CatalogError> {
    Ok(runs(catalog, Some(job), Some(1))?.into_iter().next())
}

/// Runs still recorded `running`.
pub fn running_runs(catalog: &Catalog) -> Result<Vec<RunRecord>, CatalogError> {
    query_runs(catalog, "WHERE state = 'running' ORDER BY run", [])
}

/// The recorded state of a job.
pub fn job_state(catalog: &Catalog, job: &str) -> Result<Option<JobState>, CatalogError> {
    Ok(catalog
        .connection()
        .query_row(
            "SELECT job, created, schedule, schedule_changed FROM job_state WHERE job = ?1",
            params![job],
            |r| {
                Ok(JobState {
                    job: r.get(0)?,
                    created: r.get(1)?,
                    schedule: r.get(2)?,
                    schedule_changed: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Records a job's creation (`now`), or, for a known job whose schedule
/// differs from the recorded one, the schedule change at `now`. Returns
/// the state as recorded afterwards.
pub fn note_job(
    catalog: &Catalog,
    job: &str,
    schedule: &str,
    now: i64,
) -> Result<JobState, CatalogError> {
    let conn = catalog.connection();
    match job_state(catalog, job)? {
        None => {
            conn.execute(
                "INSERT INTO job_state (job, created, schedule) VALUES (?1, ?2, ?3)",
                params![job, now, schedule],
            )?;
        }
        Some(state) if state.schedule != schedule => {
            conn.execute(
                "UPDATE job_state SET schedule = ?2, schedule_changed = ?3 WHERE job = ?1",
                params![job, schedule, now],
            )?;
        }
        Some(state) => return Ok(state),
    }
    job_state(catalog, job)?
        .ok_or_else(|| CatalogError::Corrupt(format!("job state of {job} vanished")))
}

/// Forgets a removed job's state (its runs stay in the history).
pub fn forget_job(catalog: &Catalog, job: &str) -> Result<(), CatalogError> {
    catalog
        .connection()
        .execute("DELETE FROM job_state WHERE job = ?1", params![job])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_recorded_and_listed_newest_first() {
        let cat = Catalog::open_in_memory().unwrap();
        let a = start_run(&cat, "a", 1_000, Some("drive0"), true).unwrap();
        let b = start_run(&cat, "b", 2_000, None, false).unwrap();
        assert_eq!(running_runs(&cat).unwrap().len(), 2);
        finish_run(
            &cat,
            a,
            3_500,
            RunState::Ok,
            &RunOutcome {
                message: None,
                snapshot: Some("p/a/x".into()),
                tapes: vec!["T1".into(), "T2".into()],
                bytes_written: 42,
                warnings: 0,
            },
        )
        .unwrap();
        let all = runs(&cat, None, None).unwrap();
        assert_eq!(all.iter().map(|r| r.run).collect::<Vec<_>>(), vec![b, a]);
        let ra = run(&cat, a).unwrap().unwrap();
        assert_eq!(ra.state, RunState::Ok);
        assert_eq!(ra.tapes, vec!["T1", "T2"]);
        assert_eq!(ra.end_ms, Some(3_500));
        assert_eq!(ra.drive.as_deref(), Some("drive0"));
        let v = serde_json::to_value(ra.view()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 9, "{keys:?}");
        assert_eq!(v["start"], "1970-01-01T00:00:01.000Z");
        assert_eq!(v["state"], "ok");
        assert_eq!(last_run(&cat, "a").unwrap().unwrap().run, a);
        assert_eq!(runs(&cat, Some("b"), Some(5)).unwrap().len(), 1);
        assert_eq!(runs(&cat, None, Some(1)).unwrap().len(), 1);
        assert!(finish_run(&cat, 99, 1, RunState::Error, &RunOutcome::default()).is_err());
    }

    #[test]
    fn job_state_records_creation_and_schedule_changes() {
        let cat = Catalog::open_in_memory().unwrap();
        let s = note_job(&cat, "a", "daily", 100).unwrap();
        assert_eq!((s.created, s.schedule_changed), (100, None));
        let s = note_job(&cat, "a", "daily", 200).unwrap();
        assert_eq!((s.created, s.schedule_changed), (100, None));
        let s = note_job(&cat, "a", "hourly", 300).unwrap();
        assert_eq!((s.created, s.schedule_changed), (100, Some(300)));
        forget_job(&cat, "a").unwrap();
        assert!(job_state(&cat, "a").unwrap().is_none());
    }
}
