//! Job progress: an indicatif bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ptape::writer::WriterEvents;

/// Bytes between two plain progress lines.
const PLAIN_STEP: u64 = 256 * 1024 * 1024;

/// Reports a backup's progress on stderr.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    written: u64,
    next_line: u64,
    started: Instant,
    tape: String,
}

impl Progress {
    /// `total`: the estimated source bytes.
    pub fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
            written: 0,
            next_line: PLAIN_STEP,
            started: Instant::now(),
            tape: String::new(),
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn rate_mb_s(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.done as f64 / secs / 1_000_000.0
    }

    /// Ends the bar (call once the job finished, either way).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.bar.is_none() {
            eprintln!(
                "processed {} of {} bytes ({} new) at {:.1} MB/s",
                self.done,
                self.total,
                self.written,
                self.rate_mb_s()
            );
        }
    }
}

impl WriterEvents for Progress {
    fn tape(&mut self, label: &str, seq_nr: u32) {
        self.tape = label.to_string();
        self.line(&format!(
            "writing to tape {label} (media set position {seq_nr})"
        ));
        if let Some(bar) = &self.bar {
            bar.set_message(format!("tape {label}"));
        }
    }

    fn chunk(&mut self, len: u64, written: bool) {
        self.done += len;
        if written {
            self.written += len;
        }
        match &self.bar {
            Some(bar) => {
                if self.done > self.total {
                    bar.set_length(self.done);
                }
                bar.set_position(self.done);
            }
            None if self.done >= self.next_line => {
                self.next_line = self.done + PLAIN_STEP;
                eprintln!(
                    "progress: {} of {} bytes, {:.1} MB/s, tape {}",
                    self.done,
                    self.total,
                    self.rate_mb_s(),
                    self.tape
                );
            }
            None => {}
        }
    }

    fn note(&mut self, message: &str) {
        self.line(message);
    }
}
