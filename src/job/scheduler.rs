//! When a job runs: pure decisions over a job's state, its last run and an
//! instant the caller passes (the daemon passes its clock; tests pass
//! their own).
//!
//! The next run of a job is the first occurrence of its schedule after its
//! *last run time*: the latest of its creation, its last schedule change
//! and its last run's start. A job is due when that occurrence is at or
//! before now. So a new job does not run at once (its last run time is its
//! creation), a changed schedule counts from the change, and runs missed
//! while the daemon was down are caught up once: after the catch-up run
//! the next occurrence lies in the future again.

use jiff::tz::TimeZone;
use serde::Serialize;

use super::history::{JobState, RunRecord, RunState};
use crate::schedule::CalendarEvent;

/// What the scheduler does with a job at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// Start a run now (the occurrence it runs for).
    Due { occurrence: i64 },
    /// Nothing to do before `next` (None: the schedule has no further
    /// occurrence).
    NotDue { next: Option<i64> },
    /// A run is going on: never a second one.
    Running { run: i64 },
}

/// The instant a job's next run is counted from (epoch seconds).
pub fn last_run_time(state: &JobState, last: Option<&RunRecord>) -> i64 {
    let mut t = state.created;
    if let Some(changed) = state.schedule_changed {
        t = t.max(changed);
    }
    if let Some(run) = last {
        t = t.max(run.start());
    }
    t
}

/// The next occurrence of the schedule after the job's last run time.
pub fn next_run(
    event: &CalendarEvent,
    state: &JobState,
    last: Option<&RunRecord>,
    tz: &TimeZone,
) -> Option<i64> {
    event.next_after_epoch(last_run_time(state, last), tz)
}

/// Decides for one job at `now` (see the module documentation).
pub fn decide(
    event: &CalendarEvent,
    state: &JobState,
    last: Option<&RunRecord>,
    now: i64,
    tz: &TimeZone,
) -> Decision {
    if let Some(run) = last.filter(|r| r.state == RunState::Running) {
        return Decision::Running { run: run.run };
    }
    match next_run(event, state, last, tz) {
        Some(next) if next <= now => Decision::Due { occurrence: next },
        next => Decision::NotDue { next },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_608_000; // 2026-11-25T12:00:00Z, a Wednesday

    fn state(created: i64, changed: Option<i64>) -> JobState {
        JobState {
            job: "a".into(),
            created,
            schedule: "x".into(),
            schedule_changed: changed,
        }
    }

    fn ran(start: i64, state: RunState) -> RunRecord {
        RunRecord {
            run: 1,
            job: "a".into(),
            start_ms: start * 1000 + 250,
            end_ms: Some(start * 1000 + 9_000),
            state,
            message: None,
            snapshot: None,
            tapes: Vec::new(),
            bytes_written: 0,
            warnings: 0,
            drive: None,
            scheduled: true,
            pid: None,
        }
    }

    fn ev(s: &str) -> CalendarEvent {
        CalendarEvent::parse(s).unwrap()
    }

    const UTC: TimeZone = TimeZone::UTC;

    #[test]
    fn a_new_job_waits_for_its_first_occurrence() {
        let daily = ev("22:00 UTC");
        let s = state(T0, None);
        assert_eq!(
            decide(&daily, &s, None, T0 + 60, &UTC),
            Decision::NotDue {
                next: Some(T0 + 10 * 3600)
            }
        );
        assert_eq!(
            decide(&daily, &s, None, T0 + 10 * 3600 - 1, &UTC),
            Decision::NotDue {
                next: Some(T0 + 10 * 3600)
            }
        );
        assert_eq!(
            decide(&daily, &s, None, T0 + 10 * 3600, &UTC),
            Decision::Due {
                occurrence: T0 + 10 * 3600
            }
        );
    }

    #[test]
    fn every_minute_is_due_each_minute_and_not_twice() {
        let every = ev("*:*");
        let s = state(T0 - 30, None);
        assert_eq!(
            decide(&every, &s, None, T0, &UTC),
            Decision::Due { occurrence: T0 }
        );
        // Ran at T0 (started a quarter second late): not again until T0+60.
        let r = ran(T0, RunState::Ok);
        assert_eq!(
            decide(&every, &s, Some(&r), T0 + 30, &UTC),
            Decision::NotDue {
                next: Some(T0 + 60)
            }
        );
        assert_eq!(
            decide(&every, &s, Some(&r), T0 + 60, &UTC),
            Decision::Due {
                occurrence: T0 + 60
            }
        );
    }

    #[test]
    fn never_two_runs_of_one_job() {
        let every = ev("*:*");
        let s = state(T0 - 3600, None);
        let r = ran(T0 - 1800, RunState::Running);
        assert_eq!(
            decide(&every, &s, Some(&r), T0, &UTC),
            Decision::Running { run: 1 }
        );
    }

    #[test]
    fn missed_runs_are_caught_up_once() {
        let daily = ev("22:00 UTC");
        let s = state(T0 - 30 * 86_400, None);
        // Last ran five days ago at 22:00; the daemon was down since.
        let last = ran(T0 - 5 * 86_400 + 10 * 3600, RunState::Ok);
        let now = T0 + 3600;
        assert_eq!(
            decide(&daily, &s, Some(&last), now, &UTC),
            Decision::Due {
                occurrence: T0 - 4 * 86_400 + 10 * 3600
            }
        );
        // The catch-up run started at `now`: the next is tonight, once.
        let caught_up = ran(now, RunState::Ok);
        assert_eq!(
            decide(&daily, &s, Some(&caught_up), now + 60, &UTC),
            Decision::NotDue {
                next: Some(T0 + 10 * 3600)
            }
        );
        // A failed or interrupted run counts as a run too.
        let failed = ran(now, RunState::Interrupted);
        assert!(matches!(
            decide(&daily, &s, Some(&failed), now + 60, &UTC),
            Decision::NotDue { .. }
        ));
    }

    #[test]
    fn a_changed_schedule_counts_from_the_change() {
        // Hourly job last run at 10:00; at 11:30 its schedule became
        // "every minute": the missed 11:00 run is not caught up with the
        // new schedule, which starts from the change.
        let s = state(T0 - 86_400, Some(T0 - 1800));
        let last = ran(T0 - 7200, RunState::Ok);
        let every = ev("*:*");
        assert_eq!(
            last_run_time(&s, Some(&last)),
            T0 - 1800,
            "the change is later than the last run"
        );
        assert_eq!(
            decide(&every, &s, Some(&last), T0 - 1800 + 30, &UTC),
            Decision::NotDue {
                next: Some(T0 - 1800 + 60)
            }
        );
        // A daily schedule changed to a later time today fires today.
        let s = state(T0 - 86_400, Some(T0));
        assert_eq!(
            decide(&ev("13:00 UTC"), &s, Some(&last), T0 + 3600, &UTC),
            Decision::Due {
                occurrence: T0 + 3600
            }
        );
    }

    #[test]
    fn local_time_schedules_follow_the_zone() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let s = state(T0, None);
        // 22:00 in Berlin (winter, UTC+1) is 21:00 UTC.
        assert_eq!(next_run(&ev("22:00"), &s, None, &tz), Some(T0 + 9 * 3600));
    }
}
