//! Media pools and the life of their media sets.
//!
//! A pool is a named set of tapes with an allocation policy
//! ([`Allocation`]: when a new media set starts), a retention
//! ([`Retention`]: how long a closed set is kept), a media set name
//! template, a comment and (reserved for tape encryption) a key
//! fingerprint. Pools are stored in the media catalog; the pool `default`
//! always exists.
//!
//! - [`alloc`]: the allocation policy as pure functions (which set, which
//!   tape, and why);
//! - [`media_set`]: when a set closes and expires, its presentation;
//! - [`media`]: an operator's changes to tapes (status, vault, destroy);
//! - [`template`]: media set names;
//! - this module: pool management, loading the policy's input from the
//!   catalog, starting and closing sets.
//!
//! Nothing here reads a clock: callers pass a [`Moment`] (the time and the
//! time zone calendar events are matched in).

pub mod alloc;
pub mod config_file;
pub mod media;
pub mod media_set;
pub mod template;

use std::collections::HashSet;

use jiff::tz::TimeZone;
use uuid::Uuid;

pub use crate::catalog::{Allocation, Retention};
use crate::catalog::{
    Catalog, CatalogError, MediaRecord, MediaSetRecord, PolicyError, PoolRecord, PoolUsage,
};
use crate::config::validate_name;
use crate::schedule::Clock;
use alloc::{decide_media_set, plan_tapes, AllocInput, NewSetReason, SetDecision};
pub use alloc::{JoinReason, Reach, TapeChoice, TapePlan};
use media_set::{lifetimes, Lifetime, MediaSetInfo, SetStatus};
use template::{validate_template, TemplateError};

/// Name of the pool that always exists.
pub const DEFAULT_POOL: &str = "default";

/// Errors of pool management.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("invalid pool name {0:?}: use 1-64 characters of letters, digits, '-', '_' or '.'")]
    InvalidName(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("invalid encryption key fingerprint {0:?}: give the key's SHA-256 fingerprint as 32 hex bytes separated by ':' (see `ptape key list`)")]
    InvalidFingerprint(String),
    #[error("invalid comment: use a single line")]
    InvalidComment,
    #[error("pool {pool:?} still has {count} tape(s) ({labels}); destroy them (ptape media destroy) or relabel them for another pool first")]
    PoolInUse {
        pool: String,
        count: u64,
        labels: String,
    },
    #[error("pool {0:?} cannot be removed: it is the pool backups use by default")]
    DefaultPool(String),
    #[error("no media set matches {0:?}: give its UUID (or a unique prefix of at least 8 characters) or its name (ptape media-set list)")]
    UnknownMediaSet(String),
    #[error("{text:?} matches several media sets ({matches}); give more of the UUID")]
    AmbiguousMediaSet { text: String, matches: String },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Device(Box<crate::devices::DeviceError>),
}

/// "Now" for the policy: the time and the time zone calendar events (and
/// media set names) are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// Seconds since the Unix epoch.
    pub time: i64,
    pub tz: TimeZone,
}

impl Moment {
    pub fn new(time: i64, tz: TimeZone) -> Moment {
        Moment { time, tz }
    }

    /// `time` in UTC (tests).
    pub fn utc(time: i64) -> Moment {
        Moment::new(time, TimeZone::UTC)
    }

    /// The clock's time in the system's time zone (`$TZ`).
    pub fn from_clock(clock: &Clock) -> Moment {
        Moment::new(clock.now_epoch(), TimeZone::system())
    }
}

/// A pool's settings, as given to [`create_pool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    pub allocation: Allocation,
    pub retention: Retention,
    pub template: Option<String>,
    pub comment: Option<String>,
    pub encrypt: Option<String>,
}

impl Default for PoolSettings {
    /// The reference design's defaults: `continue`, `keep`.
    fn default() -> Self {
        PoolSettings {
            allocation: Allocation::Continue,
            retention: Retention::Keep,
            template: None,
            comment: None,
            encrypt: None,
        }
    }
}

/// Changes to a pool ([`update_pool`]): `None` keeps a setting; for the
/// optional ones `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolUpdate {
    pub allocation: Option<Allocation>,
    pub retention: Option<Retention>,
    pub template: Option<Option<String>>,
    pub comment: Option<Option<String>>,
    pub encrypt: Option<Option<String>>,
}

/// The canonical form of a key fingerprint: 32 bytes as lower-case hex
/// pairs joined by ':' (the form `ptape key list` shows).
pub fn normalize_fingerprint(text: &str) -> Result<String, PoolError> {
    let bad = || PoolError::InvalidFingerprint(text.to_string());
    let hex: String = text.trim().chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    if text.contains(':') && text.trim().split(':').any(|p| p.len() != 2) {
        return Err(bad());
    }
    let lower = hex.to_ascii_lowercase();
    Ok(lower
        .as_bytes()
        .chunks(2)
        .map(|p| std::str::from_utf8(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(":"))
}

fn check_settings(s: &mut PoolSettings) -> Result<(), PoolError> {
    if let Some(t) = &s.template {
        validate_template(t)?;
    }
    if s.comment
        .as_deref()
        .is_some_and(|c| c.contains(['\n', '\r']))
    {
        return Err(PoolError::InvalidComment);
    }
    if let Some(fp) = &s.encrypt {
        s.encrypt = Some(normalize_fingerprint(fp)?);
    }
    Ok(())
}

/// Creates a pool at time `now`.
pub fn create_pool(
    catalog: &Catalog,
    name: &str,
    mut settings: PoolSettings,
    now: i64,
) -> Result<PoolRecord, PoolError> {
    validate_name(name).map_err(|_| PoolError::InvalidName(name.to_string()))?;
    check_settings(&mut settings)?;
    let pool = PoolRecord {
        name: name.to_string(),
        allocation: settings.allocation,
        retention: settings.retention,
        template: settings.template,
        comment: settings.comment,
        encrypt: settings.encrypt,
        created: now,
    };
    catalog.insert_pool(&pool)?;
    Ok(pool)
}

/// Changes a pool's settings. Existing media sets follow the new ones
/// (their close and expiry times are computed from the pool as it is).
pub fn update_pool(
    catalog: &Catalog,
    name: &str,
    update: PoolUpdate,
) -> Result<PoolRecord, PoolError> {
    let pool = get_pool(catalog, name)?;
    let mut settings = PoolSettings {
        allocation: update.allocation.unwrap_or(pool.allocation),
        retention: update.retention.unwrap_or(pool.retention),
        template: update.template.unwrap_or(pool.template),
        comment: update.comment.unwrap_or(pool.comment),
        encrypt: update.encrypt.unwrap_or(pool.encrypt),
    };
    check_settings(&mut settings)?;
    let pool = PoolRecord {
        name: pool.name,
        allocation: settings.allocation,
        retention: settings.retention,
        template: settings.template,
        comment: settings.comment,
        encrypt: settings.encrypt,
        created: pool.created,
    };
    catalog.update_pool(&pool)?;
    Ok(pool)
}

/// Removes a pool. Refused while tapes belong to it (labelled for it or in
/// one of its sets); its media sets without tapes go with it.
pub fn remove_pool(catalog: &Catalog, name: &str) -> Result<(), PoolError> {
    get_pool(catalog, name)?;
    if name == DEFAULT_POOL {
        return Err(PoolError::DefaultPool(name.to_string()));
    }
    let tapes: Vec<String> = catalog
        .media_list()?
        .into_iter()
        .filter(|m| {
            m.pool.as_deref() == Some(name) || set_pool(catalog, m).as_deref() == Some(name)
        })
        .map(|m| m.label)
        .collect();
    if !tapes.is_empty() {
        let mut labels = tapes
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tapes.len() > 10 {
            labels.push_str(", ...");
        }
        return Err(PoolError::PoolInUse {
            pool: name.to_string(),
            count: tapes.len() as u64,
            labels,
        });
    }
    catalog.delete_pool_with_empty_sets(name)?;
    Ok(())
}

fn set_pool(catalog: &Catalog, media: &MediaRecord) -> Option<String> {
    let set = media.media_set?;
    catalog.media_set(set).ok().flatten().map(|s| s.pool)
}

/// The pool, or [`CatalogError::UnknownPool`].
pub fn get_pool(catalog: &Catalog, name: &str) -> Result<PoolRecord, PoolError> {
    catalog
        .pool(name)?
        .ok_or_else(|| PoolError::Catalog(CatalogError::UnknownPool(name.to_string())))
}

/// A pool as `ptape pool show|list` present it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PoolInfo {
    #[serde(flatten)]
    pub pool: PoolRecord,
    /// Labels of the tapes that belong to the pool.
    pub media: Vec<String>,
    pub media_sets: u64,
    pub snapshots: u64,
    /// Name of the current (newest) media set, if any.
    pub current_media_set: Option<String>,
}

/// The pool with what belongs to it.
pub fn pool_info(catalog: &Catalog, name: &str, now: &Moment) -> Result<PoolInfo, PoolError> {
    let pool = get_pool(catalog, name)?;
    let PoolUsage {
        media_sets,
        snapshots,
        ..
    } = catalog.pool_usage(name)?;
    let sets = catalog.media_sets(Some(name))?;
    let media = catalog
        .media_list()?
        .into_iter()
        .filter(|m| {
            m.pool.as_deref() == Some(name)
                || m.media_set
                    .is_some_and(|s| sets.iter().any(|x| x.uuid == s))
        })
        .map(|m| m.label)
        .collect();
    let current_media_set = sets
        .iter()
        .max_by_key(|s| s.created)
        .map(|s| template::media_set_name(pool.template.as_deref(), s.uuid, s.created, &now.tz));
    Ok(PoolInfo {
        pool,
        media,
        media_sets,
        snapshots,
        current_media_set,
    })
}

/// What the allocation policy looks at, loaded from the catalog.
#[derive(Debug, Clone)]
pub struct PoolState {
    pub pool: PoolRecord,
    /// The pool's media sets, oldest first.
    pub sets: Vec<MediaSetRecord>,
    /// Every catalogued tape.
    pub media: Vec<MediaRecord>,
}

impl PoolState {
    pub fn load(catalog: &Catalog, pool: &str) -> Result<PoolState, PoolError> {
        Ok(PoolState {
            pool: get_pool(catalog, pool)?,
            sets: catalog.media_sets(Some(pool))?,
            media: catalog.media_list()?,
        })
    }

    /// The policy's input for a drive that reaches `reach`.
    pub fn input<'a>(
        &'a self,
        reach: &'a Reach,
        busy_sets: &'a HashSet<Uuid>,
        blank: &'a [String],
        now: &'a Moment,
    ) -> AllocInput<'a> {
        AllocInput {
            pool: &self.pool,
            sets: &self.sets,
            media: &self.media,
            reach,
            busy_sets,
            blank,
            now,
        }
    }

    /// The lifetimes of the pool's sets, in the order of [`PoolState::sets`].
    pub fn lifetimes(&self, now: &Moment) -> Vec<Lifetime> {
        lifetimes(&self.sets, &self.pool, &now.tz)
    }
}

/// Whether a job appends to an existing media set or starts one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSetChoice {
    Existing(MediaSetRecord),
    /// Start this new set (not yet in the catalog), for this reason.
    New(MediaSetRecord, NewSetReason),
}

impl MediaSetChoice {
    pub fn record(&self) -> &MediaSetRecord {
        match self {
            MediaSetChoice::Existing(s) | MediaSetChoice::New(s, _) => s,
        }
    }
}

/// Picks the media set a backup of `pool` writes into (see
/// [`alloc::decide_media_set`]); a new set starts at `now`.
pub fn choose_media_set(
    catalog: &Catalog,
    pool: &PoolRecord,
    force_new: bool,
    now: &Moment,
) -> Result<MediaSetChoice, PoolError> {
    let state = PoolState::load(catalog, &pool.name)?;
    let reach = Reach::Standalone { loaded: None };
    let busy = HashSet::new();
    let input = state.input(&reach, &busy, &[], now);
    Ok(match decide_media_set(&input, force_new) {
        SetDecision::Continue(set) => MediaSetChoice::Existing(set),
        SetDecision::New(reason) => MediaSetChoice::New(
            MediaSetRecord::new(&pool.name, now.time, pool.encrypt.clone()),
            reason,
        ),
    })
}

/// The tapes a job of `pool` could write next into `set` (`None`: a new
/// set without tapes yet), for a drive that reaches `reach`; `blank` are
/// the changer's cartridges the catalog does not know (labelled on the
/// spot when chosen). See [`alloc::plan_tapes`].
pub fn plan_next_tape(
    catalog: &Catalog,
    pool: &str,
    set: Option<&MediaSetRecord>,
    reach: &Reach,
    blank: &[String],
    now: &Moment,
) -> Result<TapePlan, PoolError> {
    let state = PoolState::load(catalog, pool)?;
    let busy = sets_being_read(catalog, &state, now);
    let input = state.input(reach, &busy, blank, now);
    Ok(plan_tapes(&input, set))
}

/// The expired sets of `state` that a restore reads now (it holds their
/// [`crate::lock::SetReadLock`]): their tapes are not offered for reuse.
/// A lock directory that cannot be used hides nothing here; the writer's
/// [`crate::lock::SetReuseLock`] then fails before any set is forgotten.
pub fn sets_being_read(catalog: &Catalog, state: &PoolState, now: &Moment) -> HashSet<Uuid> {
    let Ok(dir) = crate::lock::pool::locks_dir_for(catalog.path()) else {
        return HashSet::new();
    };
    state
        .sets
        .iter()
        .zip(state.lifetimes(now))
        .filter(|(s, l)| {
            l.status(now.time) == SetStatus::Expired && crate::lock::set_being_read(&dir, s.uuid)
        })
        .map(|(s, _)| s.uuid)
        .collect()
}

/// After a successful job into `set`: a set of an `always` pool takes one
/// job only, so it is closed at `now` (its retention counts from then).
pub fn job_finished(
    catalog: &Catalog,
    pool: &PoolRecord,
    set: Uuid,
    now: &Moment,
) -> Result<(), PoolError> {
    if pool.allocation == Allocation::Always {
        catalog.close_media_set(set, now.time)?;
    }
    Ok(())
}

/// Records a new media set, closing the pool's other open set(s) at its
/// start time (their writable tapes become full).
pub fn start_media_set(catalog: &Catalog, set: &MediaSetRecord) -> Result<(), PoolError> {
    for old in catalog.media_sets(Some(&set.pool))? {
        if old.uuid != set.uuid && old.closed.is_none() {
            catalog.close_media_set(old.uuid, set.created)?;
        }
    }
    catalog.insert_media_set(set)?;
    Ok(())
}

/// The pool's sets with their lifetimes and members, oldest first.
pub fn media_set_infos(
    catalog: &Catalog,
    pool: Option<&str>,
    now: &Moment,
) -> Result<Vec<MediaSetInfo>, PoolError> {
    let pools = match pool {
        Some(p) => vec![get_pool(catalog, p)?],
        None => catalog.pools()?,
    };
    let mut infos = Vec::new();
    for pool in pools {
        let sets = catalog.media_sets(Some(&pool.name))?;
        for (set, lifetime) in sets.iter().zip(lifetimes(&sets, &pool, &now.tz)) {
            let members = catalog
                .media_of_set(set.uuid)?
                .into_iter()
                .map(|m| m.label)
                .collect();
            infos.push(MediaSetInfo::new(set, lifetime, members, &pool, now));
        }
    }
    infos.sort_by_key(|i| (i.start_time, i.uuid));
    Ok(infos)
}

/// The media set `text` names: its UUID, a unique UUID prefix of at least
/// 8 characters, or its name.
pub fn find_media_set(
    catalog: &Catalog,
    text: &str,
    now: &Moment,
) -> Result<MediaSetInfo, PoolError> {
    let all = media_set_infos(catalog, None, now)?;
    let wanted = text.trim().to_ascii_lowercase();
    let by_uuid: Vec<&MediaSetInfo> = all
        .iter()
        .filter(|i| {
            let id = i.uuid.to_string();
            id == wanted || (wanted.len() >= 8 && id.starts_with(&wanted))
        })
        .collect();
    let matches = if by_uuid.is_empty() {
        all.iter().filter(|i| i.name == text).collect()
    } else {
        by_uuid
    };
    match matches[..] {
        [one] => Ok(one.clone()),
        [] => Err(PoolError::UnknownMediaSet(text.to_string())),
        _ => Err(PoolError::AmbiguousMediaSet {
            text: text.to_string(),
            matches: matches
                .iter()
                .map(|i| i.uuid.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Closes a media set at `now`: no backup appends to it any more (the next
/// one of its pool starts a new set), its writable tape becomes full, and
/// its retention counts from now. Closing a closed set changes nothing.
pub fn close_media_set(
    catalog: &Catalog,
    text: &str,
    now: &Moment,
) -> Result<MediaSetInfo, PoolError> {
    let info = find_media_set(catalog, text, now)?;
    if info.status == SetStatus::Open {
        catalog.close_media_set(info.uuid, now.time)?;
    }
    find_media_set(catalog, &info.uuid.to_string(), now)
}

/// What [`export_media_set`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MediaSetExport {
    pub media_set: Uuid,
    pub name: String,
    /// Members now in an import/export (or export) slot, by sequence.
    pub exported: Vec<crate::devices::ExportedTape>,
    /// Members left where they are, with the reason (too few free slots,
    /// not in this library, ...).
    pub not_exported: Vec<crate::devices::NotExported>,
}

/// Moves every member of the media set `text` names into free
/// import/export slots of the changer (configured export slots count),
/// in sequence order; with too few free slots, exports what fits and names
/// the rest. Exported tapes are offline from then on.
pub fn export_media_set<D: crate::devices::TapeDevices + ?Sized>(
    catalog: &Catalog,
    devices: &mut D,
    text: &str,
    now: &Moment,
) -> Result<MediaSetExport, PoolError> {
    let info = find_media_set(catalog, text, now)?;
    let report = devices
        .export(&info.members)
        .map_err(|e| PoolError::Device(Box::new(e)))?;
    for tape in &report.exported {
        if let Some(media) = catalog.media_by_label(&tape.label)? {
            catalog.set_media_location(media.uuid, crate::catalog::MediaLocation::Offline, None)?;
        }
    }
    Ok(MediaSetExport {
        media_set: info.uuid,
        name: info.name,
        exported: report.exported,
        not_exported: report.not_exported,
    })
}

/// The status of the set `uuid` at `now` (`None`: not in the catalog).
pub fn media_set_status(
    catalog: &Catalog,
    uuid: Uuid,
    now: &Moment,
) -> Result<Option<SetStatus>, PoolError> {
    let Some(set) = catalog.media_set(uuid)? else {
        return Ok(None);
    };
    let state = PoolState::load(catalog, &set.pool)?;
    Ok(state
        .sets
        .iter()
        .zip(state.lifetimes(now))
        .find(|(s, _)| s.uuid == uuid)
        .map(|(_, l)| l.status(now.time)))
}

/// The pool's sets that expired at `now`.
pub fn expired_sets(
    catalog: &Catalog,
    pool: &str,
    now: &Moment,
) -> Result<HashSet<Uuid>, PoolError> {
    let state = PoolState::load(catalog, pool)?;
    Ok(state
        .sets
        .iter()
        .zip(state.lifetimes(now))
        .filter(|(_, l)| l.status(now.time) == SetStatus::Expired)
        .map(|(s, _)| s.uuid)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(allocation: &str, retention: &str) -> PoolSettings {
        PoolSettings {
            allocation: allocation.parse().unwrap(),
            retention: retention.parse().unwrap(),
            ..PoolSettings::default()
        }
    }

    #[test]
    fn policies_parse_and_show() {
        for (text, shown) in [
            ("continue", "continue"),
            ("always", "always"),
            ("always-new", "always"),
            ("mon..fri 22:00", "mon..fri 22:00"),
            ("daily", "daily"),
        ] {
            assert_eq!(text.parse::<Allocation>().unwrap().to_string(), shown);
        }
        for (text, shown) in [
            ("keep", "keep"),
            ("overwrite", "overwrite"),
            ("7days", "7d"),
            ("2 weeks", "2w"),
            ("120", "120s"),
        ] {
            assert_eq!(text.parse::<Retention>().unwrap().to_string(), shown);
        }
        let err = "mon 25:00".parse::<Allocation>().unwrap_err().to_string();
        assert!(err.contains("hour 25 is out of range"), "{err}");
        assert!("3 fortnights".parse::<Retention>().is_err());
    }

    #[test]
    fn create_update_remove() {
        let cat = Catalog::open_in_memory().unwrap();
        let fp = "AA:".repeat(31) + "BB";
        let pool = create_pool(
            &cat,
            "weekly",
            PoolSettings {
                template: Some("weekly-%Y-%V".into()),
                comment: Some("kept three weeks".into()),
                encrypt: Some(fp),
                ..settings("mon", "3 weeks")
            },
            1000,
        )
        .unwrap();
        assert_eq!(pool.encrypt.as_deref(), Some(&*("aa:".repeat(31) + "bb")));
        assert_eq!(get_pool(&cat, "weekly").unwrap(), pool);
        let updated = update_pool(
            &cat,
            "weekly",
            PoolUpdate {
                retention: Some("4w".parse().unwrap()),
                comment: Some(None),
                ..PoolUpdate::default()
            },
        )
        .unwrap();
        assert_eq!(updated.retention.to_string(), "4w");
        assert_eq!(updated.comment, None);
        assert_eq!(updated.template.as_deref(), Some("weekly-%Y-%V"));
        assert_eq!(get_pool(&cat, "weekly").unwrap(), updated);

        for bad in [
            PoolSettings {
                template: Some("%!".into()),
                ..PoolSettings::default()
            },
            PoolSettings {
                encrypt: Some("ab:cd".into()),
                ..PoolSettings::default()
            },
            PoolSettings {
                comment: Some("two\nlines".into()),
                ..PoolSettings::default()
            },
        ] {
            assert!(create_pool(&cat, "bad", bad, 0).is_err());
        }
        assert!(matches!(
            create_pool(&cat, "bad name", PoolSettings::default(), 0),
            Err(PoolError::InvalidName(_))
        ));

        // A tape labelled for the pool keeps it.
        let tape = MediaRecord::new_labelled(
            Uuid::new_v4(),
            "WK0001L9",
            Some("weekly"),
            crate::catalog::MediaLocation::Offline,
            None,
            0,
        );
        cat.insert_media(&tape).unwrap();
        let err = remove_pool(&cat, "weekly").unwrap_err();
        assert!(
            matches!(err, PoolError::PoolInUse { count: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("WK0001L9"));
        cat.delete_media(tape.uuid).unwrap();
        // An empty set goes with the pool.
        let set = MediaSetRecord::new("weekly", 5, None);
        start_media_set(&cat, &set).unwrap();
        remove_pool(&cat, "weekly").unwrap();
        assert!(cat.pool("weekly").unwrap().is_none());
        assert!(cat.media_set(set.uuid).unwrap().is_none());
        assert!(matches!(
            remove_pool(&cat, DEFAULT_POOL),
            Err(PoolError::DefaultPool(_))
        ));
    }

    #[test]
    fn starting_a_set_closes_the_previous_one() {
        let cat = Catalog::open_in_memory().unwrap();
        let pool = get_pool(&cat, DEFAULT_POOL).unwrap();
        let now = Moment::utc(100);
        let first = choose_media_set(&cat, &pool, false, &now).unwrap();
        assert!(matches!(
            &first,
            MediaSetChoice::New(_, NewSetReason::NoSet)
        ));
        start_media_set(&cat, first.record()).unwrap();
        let again = choose_media_set(&cat, &pool, false, &Moment::utc(200)).unwrap();
        assert_eq!(again, MediaSetChoice::Existing(first.record().clone()));
        let forced = choose_media_set(&cat, &pool, true, &Moment::utc(300)).unwrap();
        assert!(matches!(
            &forced,
            MediaSetChoice::New(_, NewSetReason::Forced)
        ));
        start_media_set(&cat, forced.record()).unwrap();
        let old = cat.media_set(first.record().uuid).unwrap().unwrap();
        assert_eq!(old.closed, Some(300));
        let infos = media_set_infos(&cat, None, &Moment::utc(400)).unwrap();
        assert_eq!(infos.len(), 2);
        // default keeps forever: closed, never expired.
        assert_eq!(infos[0].status, SetStatus::Closed);
        assert_eq!(infos[0].expires, None);
        assert_eq!(infos[1].status, SetStatus::Open);
    }

    #[test]
    fn media_sets_are_found_by_uuid_prefix_or_name() {
        let cat = Catalog::open_in_memory().unwrap();
        create_pool(
            &cat,
            "p",
            PoolSettings {
                template: Some("set-%F".into()),
                ..PoolSettings::default()
            },
            0,
        )
        .unwrap();
        let set = MediaSetRecord::new("p", 1_717_243_200, None);
        start_media_set(&cat, &set).unwrap();
        let now = Moment::utc(1_717_243_300);
        let id = set.uuid.to_string();
        assert_eq!(find_media_set(&cat, &id, &now).unwrap().uuid, set.uuid);
        assert_eq!(find_media_set(&cat, &id[..8], &now).unwrap().uuid, set.uuid);
        assert_eq!(
            find_media_set(&cat, "set-2024-06-01", &now).unwrap().uuid,
            set.uuid
        );
        assert!(matches!(
            find_media_set(&cat, &id[..4], &now),
            Err(PoolError::UnknownMediaSet(_))
        ));
        let closed = close_media_set(&cat, "set-2024-06-01", &now).unwrap();
        assert_eq!(closed.status, SetStatus::Closed);
        assert_eq!(closed.closed, Some(1_717_243_300));
        // Closing again keeps the first close time.
        let again = close_media_set(&cat, &id, &Moment::utc(1_717_243_999)).unwrap();
        assert_eq!(again.closed, Some(1_717_243_300));
    }
}
