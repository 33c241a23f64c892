//! Turning a command's result into a message and an exit code.
//!
//! Exit codes (the same for every binary):
//! - 0: success
//! - 1: the command failed (device error, bad input, ...); the message on
//!   stderr reads `PROGRAM: what failed: why`
//! - 2: command-line usage error (reported by clap)
//! - 3: the job finished, with warnings (e.g. a backup source file changed
//!   while it was read); its result was printed, the message on stderr reads
//!   `PROGRAM: JOB finished with N warnings`

use std::process::ExitCode;

/// Exit code of a failed command.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a job that finished with warnings.
pub const EXIT_WARNINGS: u8 = 3;

/// Returned by a command whose job finished but reported warnings: `run`
/// turns it into exit code [`EXIT_WARNINGS`].
#[derive(Debug)]
pub struct FinishedWithWarnings {
    /// What finished (`backup`).
    pub job: &'static str,
    pub count: u64,
}

impl std::fmt::Display for FinishedWithWarnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.count == 1 { "" } else { "s" };
        write!(f, "{} finished with {} warning{s}", self.job, self.count)
    }
}

impl std::error::Error for FinishedWithWarnings {}

/// The error and its causes on one line. Causes whose text the message
/// already ends with (library errors often print their source inline) are
/// not repeated.
pub fn error_message(err: &anyhow::Error) -> String {
    chain_message(err.chain())
}

/// [`error_message`] of a library error (and its sources).
pub fn std_error_message(err: &(dyn std::error::Error + 'static)) -> String {
    chain_message(std::iter::successors(Some(err), |e| e.source()))
}

fn chain_message<'a>(chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut message = String::new();
    for cause in chain {
        let text = cause.to_string();
        if text.is_empty() || message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Run `body`, print `PROGRAM: message` on failure and return the exit code.
pub fn run(program: &str, body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<FinishedWithWarnings>().is_some() => {
            eprintln!("{program}: {err}");
            ExitCode::from(EXIT_WARNINGS)
        }
        Err(err) => {
            // A closed stdout (e.g. `pmt read | head`) is not worth a message.
            if is_broken_pipe(&err) {
                return ExitCode::from(EXIT_FAILURE);
            }
            eprintln!("{program}: {}", error_message(&err));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Log to stderr, filtered by `RUST_LOG` (default: warnings).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_without_repeats() {
        let inner = std::io::Error::other("MEDIUM ERROR");
        let err = anyhow::Error::new(inner).context("WRITE(6) failed on /x: MEDIUM ERROR");
        assert_eq!(error_message(&err), "WRITE(6) failed on /x: MEDIUM ERROR");
        let err = anyhow::anyhow!("root").context("outer");
        assert_eq!(error_message(&err), "outer: root");
    }
}
