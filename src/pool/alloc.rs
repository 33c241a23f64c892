//! The allocation policy as pure functions: the catalog's state, what the
//! drive can reach and the time in; which media set to write and which
//! tape, with the reason, out. No device and no clock is touched here.
//!
//! A backup writes into the pool's current (newest) media set unless a new
//! one must start ([`decide_media_set`], first reason that applies):
//! the pool has none; the job forces one; allocation `always`; a calendar
//! allocation's next event after the set's start has passed; the set was
//! closed; the pool's encryption key is not the set's; a member of the set
//! is damaged, retired or unknown; its last writable member is in a vault.
//!
//! The tape ([`choose_tape`]), in order:
//! 1. the last member of the set, when it is writable and reachable;
//! 2. empty tapes of the pool (labelled for it, in no set), oldest label
//!    first;
//! 3. expired tapes of the pool (their set expired, no restore reading that
//!    set; not damaged, retired or unknown), oldest set first;
//! 4. free tapes (labelled for no pool), oldest label first;
//! 5. blank cartridges the changer holds and the catalog does not know
//!    (labelled on the spot), by barcode.
//!
//! Reachable ([`Reach`]): a drive in a changer writes only tapes online in
//! that changer; a standalone drive only offline tapes (a tape inside a
//! library is not for it); a vaulted tape is never written. A standalone
//! drive takes the tape it holds when that is one of steps 2-4, else asks
//! for the first one.

use std::collections::HashSet;

use uuid::Uuid;

use super::media_set::{lifetimes, SetStatus};
use super::template::media_set_name;
use super::Moment;
use crate::catalog::{
    Allocation, MediaLocation, MediaRecord, MediaSetRecord, MediaStatus, PoolRecord,
};

/// What the drive can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A drive in the changer of this name: tapes online there.
    Changer { name: String },
    /// A standalone drive: offline tapes; `loaded` is the label of the
    /// tape in the drive, if one with a label is.
    Standalone { loaded: Option<String> },
}

impl Reach {
    /// True when the drive can write `media` (load it, or have it inserted).
    pub fn can_write(&self, media: &MediaRecord) -> bool {
        match (self, media.location) {
            (_, MediaLocation::Vault) => false,
            (Reach::Changer { name }, MediaLocation::Online) => {
                media.location_name.as_deref().is_none_or(|n| n == name)
            }
            (Reach::Changer { .. }, MediaLocation::Offline) => false,
            (Reach::Standalone { .. }, MediaLocation::Offline) => true,
            (Reach::Standalone { .. }, MediaLocation::Online) => false,
        }
    }

    /// Where a tape goes to be written: `changer 'lib1'` or the drive.
    pub fn target(&self, drive: &str) -> String {
        match self {
            Reach::Changer { name } => format!("changer '{name}'"),
            Reach::Standalone { .. } => format!("drive '{drive}'"),
        }
    }
}

/// Why a new media set starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewSetReason {
    /// The pool has no media set yet.
    NoSet,
    /// The job asked for one (`--new-media-set`).
    Forced,
    /// Allocation `always`.
    Always,
    /// The calendar allocation's event after the set's start has passed.
    CalendarReached { event: String },
    /// The current set was closed (`ptape media-set close`, or its last
    /// `always` job ended).
    Closed { set: String },
    /// The pool's encryption key is not the one the set was written with.
    KeyChanged,
    /// A tape of the set can no longer be written or trusted.
    MemberUnusable { label: String, status: MediaStatus },
    /// The set's last writable tape is in a vault.
    LastMemberInVault { label: String, vault: String },
}

impl std::fmt::Display for NewSetReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("new media set: ")?;
        match self {
            NewSetReason::NoSet => f.write_str("the pool has none yet"),
            NewSetReason::Forced => f.write_str("forced (--new-media-set)"),
            NewSetReason::Always => f.write_str("allocation 'always'"),
            NewSetReason::CalendarReached { event } => {
                write!(f, "allocation '{event}' reached")
            }
            NewSetReason::Closed { set } => write!(f, "media set '{set}' was closed"),
            NewSetReason::KeyChanged => f.write_str("pool key changed"),
            NewSetReason::MemberUnusable { label, status } => {
                write!(f, "tape {label} of the current set is {status}")
            }
            NewSetReason::LastMemberInVault { label, vault } => {
                write!(f, "last member is in vault '{vault}' ({label})")
            }
        }
    }
}

/// Which media set a job writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetDecision {
    /// Append to the pool's current set.
    Continue(MediaSetRecord),
    /// Start a new set.
    New(NewSetReason),
}

/// Why a tape joins a media set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinReason {
    /// Labelled for the pool, in no set yet.
    Empty,
    /// Its set `set` expired (the whole set is forgotten first).
    Expired { set: Uuid },
    /// Labelled for no pool.
    Free,
}

/// The tape to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapeChoice {
    /// Append to the set's last tape.
    Append(MediaRecord),
    /// A catalogued tape joins the set.
    Join { media: MediaRecord, why: JoinReason },
    /// Label this blank cartridge of the changer and let it join.
    LabelBlank(String),
    /// No tape can be written here; `insert` lists tapes that would do
    /// if they were brought to the drive or changer (best first).
    Nothing { insert: Vec<MediaRecord> },
}

impl TapeChoice {
    /// The label of the chosen tape.
    pub fn label(&self) -> Option<&str> {
        match self {
            TapeChoice::Append(m) | TapeChoice::Join { media: m, .. } => Some(&m.label),
            TapeChoice::LabelBlank(barcode) => Some(barcode),
            TapeChoice::Nothing { .. } => None,
        }
    }
}

/// Everything the policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct AllocInput<'a> {
    pub pool: &'a PoolRecord,
    /// The pool's media sets, oldest first.
    pub sets: &'a [MediaSetRecord],
    /// Every catalogued tape.
    pub media: &'a [MediaRecord],
    pub reach: &'a Reach,
    /// Sets a restore (or another reader) holds: their tapes are not reused.
    pub busy_sets: &'a HashSet<Uuid>,
    /// Blank cartridges of the changer the catalog does not know (empty
    /// when automatic labelling is off or impossible).
    pub blank: &'a [String],
    pub now: &'a Moment,
}

impl AllocInput<'_> {
    /// The tapes of `set`, by sequence number.
    pub fn members(&self, set: Uuid) -> Vec<&MediaRecord> {
        let mut members: Vec<&MediaRecord> = self
            .media
            .iter()
            .filter(|m| m.media_set == Some(set))
            .collect();
        members.sort_by_key(|m| m.seq_nr);
        members
    }

    fn set_name(&self, set: &MediaSetRecord) -> String {
        media_set_name(
            self.pool.template.as_deref(),
            set.uuid,
            set.created,
            &self.now.tz,
        )
    }
}

/// Whether a job appends to the pool's current set or starts one (see the
/// module documentation for the order of the reasons).
pub fn decide_media_set(input: &AllocInput<'_>, force_new: bool) -> SetDecision {
    let Some(current) = input.sets.iter().max_by_key(|s| s.created) else {
        return SetDecision::New(NewSetReason::NoSet);
    };
    if force_new {
        return SetDecision::New(NewSetReason::Forced);
    }
    match &input.pool.allocation {
        Allocation::Always => return SetDecision::New(NewSetReason::Always),
        Allocation::Calendar(event) => {
            if event
                .next_after_epoch(current.created, &input.now.tz)
                .is_some_and(|t| t <= input.now.time)
            {
                return SetDecision::New(NewSetReason::CalendarReached {
                    event: event.to_string(),
                });
            }
        }
        Allocation::Continue => {}
    }
    if current.closed.is_some() {
        return SetDecision::New(NewSetReason::Closed {
            set: input.set_name(current),
        });
    }
    if input.pool.encrypt != current.encrypt {
        return SetDecision::New(NewSetReason::KeyChanged);
    }
    let members = input.members(current.uuid);
    for (i, m) in members.iter().enumerate() {
        let last = i + 1 == members.len();
        match m.status {
            MediaStatus::Full => {}
            MediaStatus::Writable if last => {
                if m.location == MediaLocation::Vault {
                    return SetDecision::New(NewSetReason::LastMemberInVault {
                        label: m.label.clone(),
                        vault: m.location_name.clone().unwrap_or_default(),
                    });
                }
            }
            // A writable tape before the last one was left behind (the
            // catalog was edited): treat it as unusable like the others.
            status => {
                return SetDecision::New(NewSetReason::MemberUnusable {
                    label: m.label.clone(),
                    status,
                })
            }
        }
    }
    SetDecision::Continue(current.clone())
}

/// Every tape a job could write next into a set, best first: what
/// [`choose_tape`] picks from and what the writer works through (it tries
/// the next one when a tape proves unfit, e.g. its labels are not the
/// catalog's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapePlan {
    /// The set's last tape still takes data: the job appends to it, here
    /// when [`Reach::can_write`] allows, else once it is brought in.
    pub append: Option<MediaRecord>,
    /// Tapes the drive can reach that may join the set (steps 2-5 of the
    /// order: [`TapeChoice::Join`], then [`TapeChoice::LabelBlank`]).
    pub join: Vec<TapeChoice>,
    /// Tapes that would do if they were brought to the drive or changer
    /// (offline ones, best first); the set's own writable tape first.
    pub insert: Vec<MediaRecord>,
}

/// The tapes that could be written next into `set` (`None`: a new set that
/// has no tape yet). See the module documentation for the order.
pub fn plan_tapes(input: &AllocInput<'_>, set: Option<&MediaSetRecord>) -> TapePlan {
    let reach = input.reach;
    let append = set
        .and_then(|set| input.members(set.uuid).last().copied())
        .filter(|last| last.status == MediaStatus::Writable)
        .cloned();
    let candidates = candidates(input, set.map(|s| s.uuid));
    let mut join: Vec<TapeChoice> = candidates
        .iter()
        .filter(|(m, _)| reach.can_write(m))
        .map(|(m, why)| TapeChoice::Join {
            media: m.clone(),
            why: why.clone(),
        })
        .collect();
    if matches!(reach, Reach::Changer { .. }) {
        let mut blank = input.blank.to_vec();
        blank.sort();
        join.extend(blank.into_iter().map(TapeChoice::LabelBlank));
    }
    let mut insert = Vec::new();
    if let Some(last) = &append {
        if last.location == MediaLocation::Offline {
            insert.push(last.clone());
        }
    }
    insert.extend(
        candidates
            .into_iter()
            .filter(|(m, _)| m.location == MediaLocation::Offline)
            .map(|(m, _)| m),
    );
    TapePlan {
        append,
        join,
        insert,
    }
}

/// The tape to write next into `set` (`None`: a new set that has no
/// tape yet). See the module documentation for the order.
pub fn choose_tape(input: &AllocInput<'_>, set: Option<&MediaSetRecord>) -> TapeChoice {
    let reach = input.reach;
    let plan = plan_tapes(input, set);
    if let Some(last) = plan.append.filter(|m| reach.can_write(m)) {
        return TapeChoice::Append(last);
    }
    if let Reach::Standalone {
        loaded: Some(loaded),
    } = reach
    {
        if let Some(held) = plan.join.iter().find(|c| c.label() == Some(loaded)) {
            return held.clone();
        }
    }
    match plan.join.into_iter().next() {
        Some(choice) => choice,
        // Nothing here: which tapes would do if they were brought in.
        None => TapeChoice::Nothing {
            insert: plan.insert,
        },
    }
}

/// Steps 2-4 of the order, wherever the tapes are (not the set's own).
fn candidates(input: &AllocInput<'_>, writing: Option<Uuid>) -> Vec<(MediaRecord, JoinReason)> {
    let pool = &input.pool.name;
    let unassigned = |m: &&MediaRecord| m.media_set.is_none() && m.status == MediaStatus::Writable;
    let mut empty: Vec<&MediaRecord> = input
        .media
        .iter()
        .filter(unassigned)
        .filter(|m| m.pool.as_ref() == Some(pool))
        .collect();
    empty.sort_by(|a, b| (a.labelled, &a.label).cmp(&(b.labelled, &b.label)));
    let mut free: Vec<&MediaRecord> = input
        .media
        .iter()
        .filter(unassigned)
        .filter(|m| m.pool.is_none())
        .collect();
    free.sort_by(|a, b| (a.labelled, &a.label).cmp(&(b.labelled, &b.label)));

    let expired_sets: Vec<&MediaSetRecord> = input
        .sets
        .iter()
        .zip(lifetimes(input.sets, input.pool, &input.now.tz))
        .filter(|(s, l)| {
            l.status(input.now.time) == SetStatus::Expired
                && Some(s.uuid) != writing
                && !input.busy_sets.contains(&s.uuid)
        })
        .map(|(s, _)| s)
        .collect();
    let mut expired: Vec<(i64, &MediaRecord, Uuid)> = Vec::new();
    for set in expired_sets {
        for m in input.members(set.uuid) {
            // Full (a writable tape of an expired set counts as full: the set
            // was closed); never damaged, retired or unknown ones.
            if matches!(m.status, MediaStatus::Full | MediaStatus::Writable) {
                expired.push((set.created, m, set.uuid));
            }
        }
    }
    expired.sort_by(|a, b| (a.0, &a.1.label).cmp(&(b.0, &b.1.label)));

    empty
        .into_iter()
        .map(|m| (m.clone(), JoinReason::Empty))
        .chain(
            expired
                .into_iter()
                .map(|(_, m, set)| (m.clone(), JoinReason::Expired { set })),
        )
        .chain(free.into_iter().map(|m| (m.clone(), JoinReason::Free)))
        .collect()
}

#[cfg(test)]
#[path = "alloc_tests.rs"]
mod tests;
