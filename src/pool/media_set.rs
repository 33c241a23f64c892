//! When a media set stops being written, and when it expires.
//!
//! A set is *closed* from the first of these moments:
//! - it was closed explicitly (recorded in the catalog: a newer set of
//!   the pool started, `ptape media-set close`, the end of the job of an
//!   `always` pool);
//! - a newer set of the pool started;
//! - calendar allocation: the event's next occurrence after the set's
//!   start (no backup may append to it from then on);
//! - `always` allocation, when nothing was recorded: its last write, else
//!   its start (one job writes an `always` set).
//!
//! A `continue` set that is still the newest stays open until one of the
//! first two happens. A closed set *expires* (its tapes may be reused, the
//! whole set forgotten first) `keep`: never; `overwrite`: when it closed;
//! a span: that long after it closed. Only closed sets expire: retention
//! counts from when a set stopped being written, never from its creation.

use jiff::tz::TimeZone;
use serde::Serialize;
use uuid::Uuid;

use super::template::media_set_name;
use super::Moment;
use crate::catalog::{Allocation, MediaSetRecord, PoolRecord, Retention};

/// Where a media set is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SetStatus {
    /// Backups of its pool may still append to it.
    Open,
    /// No longer written; protected by its pool's retention.
    Closed,
    /// Retention passed: its tapes may be reused.
    Expired,
}

impl std::fmt::Display for SetStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SetStatus::Open => "open",
            SetStatus::Closed => "closed",
            SetStatus::Expired => "expired",
        })
    }
}

/// When a set closes and expires (seconds since the epoch; `None`: not
/// known to happen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    pub closed: Option<i64>,
    pub expires: Option<i64>,
}

impl Lifetime {
    /// The set's status at `now`.
    pub fn status(&self, now: i64) -> SetStatus {
        match (self.closed, self.expires) {
            (Some(c), _) if c > now => SetStatus::Open,
            (None, _) => SetStatus::Open,
            (Some(_), Some(e)) if now >= e => SetStatus::Expired,
            (Some(_), _) => SetStatus::Closed,
        }
    }
}

/// The lifetime of `set` in `pool` (see the module documentation);
/// `newer_start` is the start of the pool's next newer set, if any; `tz` is
/// the time zone calendar allocations are matched in.
pub fn lifetime(
    set: &MediaSetRecord,
    newer_start: Option<i64>,
    pool: &PoolRecord,
    tz: &TimeZone,
) -> Lifetime {
    let earliest = |times: &[Option<i64>]| times.iter().flatten().copied().min();
    let closed = match &pool.allocation {
        Allocation::Continue => earliest(&[set.closed, newer_start]),
        Allocation::Always => set.closed.or(set.last_write).or(Some(set.created)),
        Allocation::Calendar(event) => earliest(&[
            set.closed,
            newer_start,
            event.next_after_epoch(set.created, tz),
        ]),
    };
    let expires = match (&pool.retention, closed) {
        (Retention::Keep, _) | (_, None) => None,
        (Retention::Overwrite, Some(c)) => Some(c),
        (Retention::Span(span), Some(c)) => Some(c.saturating_add(span.as_secs())),
    };
    Lifetime { closed, expires }
}

/// The lifetimes of a pool's sets (given oldest first), in the same order.
pub fn lifetimes(sets: &[MediaSetRecord], pool: &PoolRecord, tz: &TimeZone) -> Vec<Lifetime> {
    sets.iter()
        .enumerate()
        .map(|(i, set)| {
            let newer = sets.get(i + 1).map(|s| s.created);
            lifetime(set, newer, pool, tz)
        })
        .collect()
}

/// A media set as `ptape media-set list|show` present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaSetInfo {
    pub uuid: Uuid,
    /// From the pool's template and the start time.
    pub name: String,
    pub pool: String,
    /// Labels in sequence order.
    pub members: Vec<String>,
    pub start_time: i64,
    pub last_write: Option<i64>,
    /// When the set closed or will close, if known.
    pub closed: Option<i64>,
    pub expires: Option<i64>,
    pub status: SetStatus,
}

impl MediaSetInfo {
    /// The view of `set` with its `members` (labels by sequence number).
    pub fn new(
        set: &MediaSetRecord,
        lifetime: Lifetime,
        members: Vec<String>,
        pool: &PoolRecord,
        now: &Moment,
    ) -> MediaSetInfo {
        MediaSetInfo {
            uuid: set.uuid,
            name: media_set_name(pool.template.as_deref(), set.uuid, set.created, &now.tz),
            pool: set.pool.clone(),
            members,
            start_time: set.created,
            last_write: set.last_write,
            closed: lifetime.closed,
            expires: lifetime.expires,
            status: lifetime.status(now.time),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MediaSetStatus;

    fn pool(allocation: &str, retention: &str) -> PoolRecord {
        PoolRecord {
            name: "p".into(),
            allocation: allocation.parse().unwrap(),
            retention: retention.parse().unwrap(),
            template: None,
            comment: None,
            encrypt: None,
            created: 0,
        }
    }

    fn set(created: i64) -> MediaSetRecord {
        MediaSetRecord {
            uuid: Uuid::new_v4(),
            pool: "p".into(),
            created,
            status: MediaSetStatus::Writable,
            closed: None,
            last_write: None,
            encrypt: None,
        }
    }

    /// The reference design's vector (compute_media_state): allocation
    /// every two minutes, retention 120 s, sets started at 0, 60, 120.
    #[test]
    fn reference_calendar_vector() {
        let p = pool("*:0/2", "120 seconds");
        let sets = [set(0), set(60), set(120)];
        let l = lifetimes(&sets, &p, &TimeZone::UTC);
        assert_eq!(l[0].expires, Some(180));
        assert_eq!(l[1].expires, Some(240));
        assert_eq!(l[0].status(179), SetStatus::Closed);
        assert_eq!(l[0].status(180), SetStatus::Expired);
        assert_eq!(l[1].status(239), SetStatus::Closed);
        assert_eq!(l[1].status(240), SetStatus::Expired);
        // The newest set is open until the next event (240).
        assert_eq!(l[2].status(200), SetStatus::Open);
        assert_eq!(l[2].closed, Some(240));
        assert_eq!(l[2].status(240), SetStatus::Closed);
    }

    /// The reference design's vector (alloc_writable_media #4): `always`,
    /// retention 12 s, set started at 10: expired at 22, not at 20 or 21.
    #[test]
    fn reference_always_vector() {
        let p = pool("always", "12s");
        let l = lifetimes(&[set(10), set(20)], &p, &TimeZone::UTC);
        assert_eq!(l[0].status(20), SetStatus::Closed);
        assert_eq!(l[0].status(21), SetStatus::Closed);
        assert_eq!(l[0].status(22), SetStatus::Expired);
    }

    #[test]
    fn continue_sets_close_only_when_a_newer_set_starts() {
        // Written for three months with a retention of 8 weeks: protected 8
        // weeks from the moment the next set started, not from its creation.
        let day = 86_400;
        let p = pool("continue", "8w");
        let mut old = set(0);
        old.last_write = Some(90 * day);
        let l = lifetime(&old, None, &p, &TimeZone::UTC);
        assert_eq!(
            l,
            Lifetime {
                closed: None,
                expires: None
            }
        );
        assert_eq!(l.status(1000 * day), SetStatus::Open);
        let l = lifetime(&old, Some(91 * day), &p, &TimeZone::UTC);
        assert_eq!(l.closed, Some(91 * day));
        assert_eq!(l.expires, Some(91 * day + 56 * day));
        assert_eq!(l.status(91 * day + 56 * day - 1), SetStatus::Closed);
        assert_eq!(l.status(91 * day + 56 * day), SetStatus::Expired);
        // An explicit close counts.
        old.closed = Some(95 * day);
        assert_eq!(
            lifetime(&old, None, &p, &TimeZone::UTC).closed,
            Some(95 * day)
        );
    }

    #[test]
    fn retention_keep_and_overwrite() {
        let mut s = set(0);
        s.closed = Some(100);
        let keep = lifetime(&s, None, &pool("continue", "keep"), &TimeZone::UTC);
        assert_eq!(keep.expires, None);
        assert_eq!(keep.status(i64::MAX), SetStatus::Closed);
        let over = lifetime(&s, None, &pool("continue", "overwrite"), &TimeZone::UTC);
        assert_eq!(over.expires, Some(100));
        assert_eq!(over.status(99), SetStatus::Open);
        assert_eq!(over.status(100), SetStatus::Expired);
    }

    #[test]
    fn always_sets_close_when_their_job_ended() {
        let p = pool("always", "1d");
        let mut s = set(1000);
        s.last_write = Some(5000);
        assert_eq!(lifetime(&s, None, &p, &TimeZone::UTC).closed, Some(5000));
        s.closed = Some(6000);
        assert_eq!(
            lifetime(&s, None, &p, &TimeZone::UTC).expires,
            Some(6000 + 86_400)
        );
    }

    #[test]
    fn calendar_sets_close_at_the_next_event_in_local_time() {
        // Daily in Berlin: a set started 2024-06-01 12:00 UTC closes at
        // 2024-06-02 00:00 CEST (22:00 UTC on 06-01).
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let p = pool("daily", "3d");
        let l = lifetime(&set(1_717_243_200), None, &p, &berlin);
        assert_eq!(l.closed, Some(1_717_279_200));
        assert_eq!(l.expires, Some(1_717_279_200 + 3 * 86_400));
        // A calendar that never fires again: open until a newer set.
        let p = pool("2020-01-01", "overwrite");
        let l = lifetime(&set(1_717_243_200), None, &p, &TimeZone::UTC);
        assert_eq!(l.closed, None);
    }
}
