//! Running a notification program (a command target, sendmail) with its
//! input on stdin and a time limit.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often a running program is checked for its exit.
const POLL: Duration = Duration::from_millis(20);
/// How much of a program's stderr an error message quotes.
const STDERR_QUOTE: usize = 500;

/// Finds `program` on PATH (a name), or checks it (a path with '/');
/// `extra` directories are searched after PATH (sendmail lives in
/// /usr/sbin, often not on a user's PATH).
pub(crate) fn find_program(program: &str, extra: &[&str]) -> Option<PathBuf> {
    if program.contains('/') {
        let p = Path::new(program);
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `command` with `input` on stdin; Ok when it exits 0 within
/// `timeout`, else an error saying why (exit status and the start of its
/// stderr, or the timeout: the program is killed then).
pub(crate) fn run_with_input(
    mut command: Command,
    what: &str,
    input: &[u8],
    timeout: Duration,
) -> Result<(), String> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    // Writer and reader threads: a program that reads nothing, or writes
    // much, never blocks us beyond the timeout.
    let mut stdin = child.stdin.take();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            // A program that exits without reading closes the pipe: its exit
            // status tells whether that was fine.
            let _ = stdin.write_all(&data);
        }
        drop(stdin);
    });
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(64 * 1024).read_to_end(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                // The threads may hang on pipes a grandchild still holds:
                // leave them.
                return Err(format!(
                    "{what} did not finish within {} s: killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    };
    let _ = writer.join();
    let stderr = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&stderr);
    let text: String = text.trim().chars().take(STDERR_QUOTE).collect();
    let text = super::event::one_line(&text);
    Err(if text.is_empty() {
        format!("{what} failed ({status})")
    } else {
        format!("{what} failed ({status}): {text}")
    })
}
