//! Explicit producer outcomes for the finish barrier.
//!
//! Every thread that feeds a [`super::MediaWriter`] holds a
//! [`ProducerToken`] and must call [`ProducerToken::complete`] with its
//! result. A token dropped without reporting (thread ended early,
//! panicked, forgot) counts as a failure; a closed channel alone never
//! counts as success. [`ProducerSet::wait_all`] blocks until every
//! registered producer has an outcome.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::error::FormatError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Running,
    Succeeded,
    Failed(String),
    Vanished,
}

#[derive(Debug)]
struct Slot {
    name: String,
    outcome: Outcome,
}

#[derive(Debug, Default)]
struct Shared {
    slots: Mutex<Vec<Slot>>,
    changed: Condvar,
}

/// The producers feeding one writer. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ProducerSet {
    shared: Arc<Shared>,
}

/// A producer's obligation to report its outcome. Send it to the
/// producer thread; call [`ProducerToken::complete`] as its last act.
#[derive(Debug)]
pub struct ProducerToken {
    shared: Arc<Shared>,
    index: usize,
    reported: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        // A panic while holding this lock cannot leave the slots
        // half-updated (each update is one assignment): use them anyway.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, index: usize, outcome: Outcome) {
        let mut slots = self.lock();
        if let Some(slot) = slots.get_mut(index) {
            slot.outcome = outcome;
        }
        drop(slots);
        self.changed.notify_all();
    }
}

impl ProducerSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a producer; `name` appears in error messages.
    pub fn register(&self, name: impl Into<String>) -> ProducerToken {
        let mut slots = self.shared.lock();
        slots.push(Slot {
            name: name.into(),
            outcome: Outcome::Running,
        });
        ProducerToken {
            shared: self.shared.clone(),
            index: slots.len() - 1,
            reported: false,
        }
    }

    /// The first failure among producers that already reported, if any
    /// (does not wait for running ones).
    pub fn first_failure(&self) -> Option<FormatError> {
        first_failure(&self.shared.lock())
    }

    /// Number of producers still running.
    pub fn running(&self) -> usize {
        self.shared
            .lock()
            .iter()
            .filter(|s| s.outcome == Outcome::Running)
            .count()
    }

    /// Wait until every registered producer reported, then return the first
    /// failure, if any. On success the set is emptied (those producers are
    /// accounted for); on failure it stays failed.
    pub fn wait_all(&self) -> Result<(), FormatError> {
        let mut slots = self.shared.lock();
        while slots.iter().any(|s| s.outcome == Outcome::Running) {
            slots = self
                .shared
                .changed
                .wait(slots)
                .unwrap_or_else(|e| e.into_inner());
        }
        if let Some(err) = first_failure(&slots) {
            return Err(err);
        }
        // Keep indices of live tokens valid: mark slots done, do not remove.
        for slot in slots.iter_mut() {
            slot.outcome = Outcome::Succeeded;
        }
        Ok(())
    }
}

fn first_failure(slots: &[Slot]) -> Option<FormatError> {
    slots.iter().find_map(|s| match &s.outcome {
        Outcome::Failed(message) => Some(FormatError::ProducerFailed {
            name: s.name.clone(),
            message: message.clone(),
        }),
        Outcome::Vanished => Some(FormatError::ProducerVanished {
            name: s.name.clone(),
        }),
        _ => None,
    })
}

impl ProducerToken {
    /// Report this producer's outcome (consumes the token).
    pub fn complete<E: std::fmt::Display>(mut self, result: Result<(), E>) {
        let outcome = match result {
            Ok(()) => Outcome::Succeeded,
            Err(e) => Outcome::Failed(e.to_string()),
        };
        self.reported = true;
        self.shared.set(self.index, outcome);
    }

    /// Report failure with a message.
    pub fn fail(self, message: impl Into<String>) {
        self.complete(Err::<(), String>(message.into()));
    }
}

impl Drop for ProducerToken {
    fn drop(&mut self) {
        if !self.reported {
            self.shared.set(self.index, Outcome::Vanished);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_succeed() {
        let set = ProducerSet::new();
        let a = set.register("a");
        let b = set.register("b");
        let t = std::thread::spawn(move || a.complete(Ok::<(), String>(())));
        b.complete(Ok::<(), String>(()));
        t.join().unwrap();
        set.wait_all().unwrap();
        assert_eq!(set.running(), 0);
    }

    #[test]
    fn dropped_token_is_failure() {
        let set = ProducerSet::new();
        let a = set.register("reader");
        std::thread::spawn(move || drop(a)).join().unwrap();
        assert!(matches!(
            set.wait_all(),
            Err(FormatError::ProducerVanished { name }) if name == "reader"
        ));
    }

    #[test]
    fn failure_is_reported_and_sticks() {
        let set = ProducerSet::new();
        set.register("x").fail("disk gone");
        let ok = set.register("y");
        assert!(matches!(
            set.first_failure(),
            Some(FormatError::ProducerFailed { .. })
        ));
        ok.complete(Ok::<(), String>(()));
        assert!(set.wait_all().is_err());
        assert!(set.wait_all().is_err());
    }
}
