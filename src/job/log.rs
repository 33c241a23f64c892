//! Task logs: every line a job run prints, timestamped, in
//! `DATA/jobs/logs/RUN.log`; `ptape job log RUN` prints it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Directory of the task logs.
pub fn logs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("jobs").join("logs")
}

/// Path of a run's task log.
pub fn log_path(data_dir: &Path, run: i64) -> PathBuf {
    logs_dir(data_dir).join(format!("{run}.log"))
}

/// The task log of one run. Each line is written (and flushed) at once,
/// so a killed run leaves every line it printed; each line also goes to
/// stderr (the journal, under `ptape daemon`).
#[derive(Debug)]
pub struct TaskLog {
    file: Option<File>,
    path: PathBuf,
    prefix: String,
    echo: bool,
}

impl TaskLog {
    /// Creates the log of `run` (of job `job`).
    pub fn create(data_dir: &Path, job: &str, run: i64) -> std::io::Result<TaskLog> {
        let dir = logs_dir(data_dir);
        std::fs::create_dir_all(&dir)?;
        let path = log_path(data_dir, run);
        let file = File::options().create(true).append(true).open(&path)?;
        Ok(TaskLog {
            file: Some(file),
            path,
            prefix: format!("job {job} run {run}: "),
            echo: true,
        })
    }

    /// Do not copy lines to stderr.
    pub fn quiet(mut self) -> Self {
        self.echo = false;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one line (several for a text with line breaks).
    pub fn line(&mut self, text: &str) {
        let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
        for l in text.lines() {
            if self.echo {
                eprintln!("{}{l}", self.prefix);
            }
            if let Some(f) = &mut self.file {
                if let Err(e) = writeln!(f, "{stamp} {l}") {
                    eprintln!(
                        "{}cannot write the task log {}: {e}",
                        self.prefix,
                        self.path.display()
                    );
                    self.file = None;
                }
            }
        }
    }
}

/// Removes task logs last written more than `keep_days` days before
/// `now` (epoch seconds); returns how many.
pub fn prune_logs(data_dir: &Path, keep_days: u32, now: i64) -> std::io::Result<usize> {
    let dir = logs_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let limit = now.saturating_sub(i64::from(keep_days) * 86_400);
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if !name.to_string_lossy().ends_with(".log") {
            continue;
        }
        let modified = entry
            .metadata()?
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if modified < limit {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_timestamped_and_old_logs_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TaskLog::create(dir.path(), "a", 7).unwrap().quiet();
        log.line("first\nsecond");
        let text = std::fs::read_to_string(log_path(dir.path(), 7)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with("Z first") && lines[0].starts_with("20"),
            "{text}"
        );
        let now = jiff::Timestamp::now().as_second();
        assert_eq!(prune_logs(dir.path(), 1, now).unwrap(), 0);
        assert_eq!(prune_logs(dir.path(), 1, now + 2 * 86_400).unwrap(), 1);
        assert!(!log_path(dir.path(), 7).exists());
    }
}
