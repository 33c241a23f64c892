//! How long to wait for something another party holds or must do: a busy
//! drive (held by another process), a cartridge an operator must insert.
//!
//! One policy for every such wait, set on the command line by the shared
//! `--wait[=SECS]` / `--no-wait` arguments (`tape_cli::wait::WaitArgs`).
//! The default is [`WaitPolicy::NoWait`]: a command run by hand fails at
//! once and says who holds the device, instead of hanging silently.

use std::time::{Duration, Instant};

/// How long a command waits for a busy device or a missing cartridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitPolicy {
    /// Fail at once (the default): one attempt, no waiting.
    #[default]
    NoWait,
    /// Try again until it works: `None` waits forever, `Some(d)` at most
    /// `d` (then fails, naming what it waited for).
    Wait(Option<Duration>),
}

impl WaitPolicy {
    /// Wait forever.
    pub const FOREVER: WaitPolicy = WaitPolicy::Wait(None);

    /// Wait at most `secs` seconds (`0` is [`WaitPolicy::NoWait`]).
    pub fn seconds(secs: u64) -> WaitPolicy {
        if secs == 0 {
            WaitPolicy::NoWait
        } else {
            WaitPolicy::Wait(Some(Duration::from_secs(secs)))
        }
    }

    /// True when the policy waits at all.
    pub fn waits(&self) -> bool {
        !matches!(
            self,
            WaitPolicy::NoWait | WaitPolicy::Wait(Some(Duration::ZERO))
        )
    }

    /// The longest wait: `None` for forever, zero for no wait.
    pub fn limit(&self) -> Option<Duration> {
        match self {
            WaitPolicy::NoWait => Some(Duration::ZERO),
            WaitPolicy::Wait(limit) => *limit,
        }
    }

    /// Poll `attempt` until it yields a value, an error, or the policy gives
    /// up ([`Polled::GaveUp`] with the time waited). The pauses start at
    /// [`FIRST_PAUSE`] and double up to `interval`, so a lock held for a
    /// moment (another job's changer move) is taken almost at once while a
    /// long wait still polls only every `interval`. `attempt` runs at least
    /// once, and once more at the deadline.
    pub fn poll<T, E>(
        &self,
        interval: Duration,
        attempt: impl FnMut() -> Result<Option<T>, E>,
    ) -> Result<Polled<T>, E> {
        self.poll_with(&mut SystemWaitClock, interval, attempt)
    }

    /// [`WaitPolicy::poll`] on the given clock (tests inject one).
    pub fn poll_with<T, E>(
        &self,
        clock: &mut dyn WaitClock,
        interval: Duration,
        mut attempt: impl FnMut() -> Result<Option<T>, E>,
    ) -> Result<Polled<T>, E> {
        let start = clock.now();
        let deadline = self.limit().map(|limit| start + limit);
        let interval = interval.max(Duration::from_millis(1));
        let mut next_pause = FIRST_PAUSE.min(interval);
        loop {
            if let Some(value) = attempt()? {
                return Ok(Polled::Ready(value));
            }
            let now = clock.now();
            let pause = next_pause;
            next_pause = (next_pause * 2).min(interval);
            let pause = match deadline {
                None => pause,
                Some(deadline) if now >= deadline => {
                    return Ok(Polled::GaveUp {
                        waited: now.saturating_duration_since(start),
                    })
                }
                Some(deadline) => pause.min(deadline - now),
            };
            clock.sleep(pause);
        }
    }
}

/// The first pause of [`WaitPolicy::poll`]; later ones double.
pub const FIRST_PAUSE: Duration = Duration::from_millis(5);

impl std::fmt::Display for WaitPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitPolicy::NoWait => f.write_str("no wait"),
            WaitPolicy::Wait(None) => f.write_str("wait forever"),
            WaitPolicy::Wait(Some(d)) => write!(f, "wait up to {}", format_wait(*d)),
        }
    }
}

/// The outcome of [`WaitPolicy::poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled<T> {
    Ready(T),
    /// The policy's limit passed (at once for [`WaitPolicy::NoWait`]).
    GaveUp {
        waited: Duration,
    },
}

/// A waited time for messages: `12 s`, `3 min 5 s`.
pub fn format_wait(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// Time for waiting: the system's, or a test's.
pub trait WaitClock {
    fn now(&self) -> Instant;
    fn sleep(&mut self, d: Duration);
}

/// The monotonic clock and `thread::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemWaitClock;

impl WaitClock for SystemWaitClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that moves only when slept on.
    struct FakeClock {
        now: Instant,
        slept: Vec<Duration>,
    }

    impl WaitClock for FakeClock {
        fn now(&self) -> Instant {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.now += d;
            self.slept.push(d);
        }
    }

    fn fake() -> FakeClock {
        FakeClock {
            now: Instant::now(),
            slept: Vec::new(),
        }
    }

    #[test]
    fn no_wait_tries_once() {
        let mut clock = fake();
        let mut tries = 0;
        let r: Result<Polled<()>, ()> =
            WaitPolicy::NoWait.poll_with(&mut clock, Duration::from_secs(1), || {
                tries += 1;
                Ok(None)
            });
        assert_eq!(
            r,
            Ok(Polled::GaveUp {
                waited: Duration::ZERO
            })
        );
        assert_eq!(tries, 1);
        assert!(clock.slept.is_empty());
    }

    #[test]
    fn limited_wait_gives_up_at_the_deadline_after_a_last_try() {
        let mut clock = fake();
        let mut tries = 0;
        let r: Result<Polled<()>, ()> =
            WaitPolicy::seconds(5).poll_with(&mut clock, Duration::from_secs(2), || {
                tries += 1;
                Ok(None)
            });
        assert_eq!(
            r,
            Ok(Polled::GaveUp {
                waited: Duration::from_secs(5)
            })
        );
        // Pauses 5 ms doubling to 2 s, then the last try at 5 s.
        let total: Duration = clock.slept.iter().sum();
        assert_eq!(total, Duration::from_secs(5));
        assert_eq!(tries, clock.slept.len() + 1);
        assert_eq!(clock.slept[0], FIRST_PAUSE);
        assert!(clock.slept.iter().all(|d| *d <= Duration::from_secs(2)));
        assert!(clock.slept.windows(2).take(5).all(|w| w[1] == w[0] * 2));
    }

    #[test]
    fn forever_waits_until_ready_and_errors_stop_it() {
        let mut clock = fake();
        let mut tries = 0;
        let r: Result<Polled<u32>, ()> =
            WaitPolicy::FOREVER.poll_with(&mut clock, Duration::from_secs(60), || {
                tries += 1;
                Ok((tries == 100).then_some(7))
            });
        assert_eq!(r, Ok(Polled::Ready(7)));
        let r: Result<Polled<u32>, &str> =
            WaitPolicy::FOREVER.poll_with(&mut clock, Duration::from_secs(1), || Err("gone"));
        assert_eq!(r, Err("gone"));
    }

    #[test]
    fn default_is_no_wait_and_zero_seconds_is_no_wait() {
        assert_eq!(WaitPolicy::default(), WaitPolicy::NoWait);
        assert_eq!(WaitPolicy::seconds(0), WaitPolicy::NoWait);
        assert!(!WaitPolicy::NoWait.waits());
        assert!(WaitPolicy::FOREVER.waits());
        assert_eq!(WaitPolicy::seconds(90).to_string(), "wait up to 1 min 30 s");
        assert_eq!(WaitPolicy::FOREVER.limit(), None);
    }
}
