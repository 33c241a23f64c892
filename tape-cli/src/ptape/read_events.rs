//! Progress lines of the commands that read tapes (restore, verify, scan).

use ptape::writer::WriterEvents;

/// Prints which tape is read and every note on stderr.
#[derive(Debug)]
pub struct ReadEvents {
    /// Verb of the "VERB tape X" line.
    pub verb: &'static str,
}

impl WriterEvents for ReadEvents {
    fn tape(&mut self, label: &str, _seq_nr: u32) {
        eprintln!("{} tape {label}", self.verb);
    }

    fn note(&mut self, message: &str) {
        eprintln!("{message}");
    }
}
