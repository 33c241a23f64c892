//! Media pools and their media set policy.
//!
//! A pool is a named set of tapes with an allocation policy
//! ([`Allocation`]) and a retention ([`Retention`]). Pools are stored in the
//! media catalog; the pool `default` always exists (created by the first
//! schema migration).
//!
//! A pool writes into its current *writable* media set. A backup starts a
//! new media set when the pool has none, when its allocation is
//! `always-new`, or when the job asks for one (`--new-media-set`); starting
//! one closes the previous writable set. An `always-new` set is closed when
//! its job succeeded (see [`crate::writer`]).

use uuid::Uuid;

use crate::catalog::{
    now_epoch, Allocation, Catalog, CatalogError, MediaSetRecord, MediaSetStatus, PoolRecord,
};
use crate::config::validate_name;

/// Name of the pool that always exists.
pub const DEFAULT_POOL: &str = "default";

const SECONDS_PER_DAY: i64 = 86_400;

/// Errors of pool management.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("invalid pool name {0:?}: use 1-64 characters of letters, digits, '-', '_' or '.'")]
    InvalidName(String),
    #[error("invalid retention {0:?}: use 'keep' or a number of days, weeks or years like '30d', '8w', '1y'")]
    InvalidRetention(String),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// How long a closed media set is protected from being overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Forever (until an operator retires the tapes).
    Keep,
    /// This many days after the media set was created.
    Days(u32),
}

impl Retention {
    /// The catalog form: `None` for keep.
    pub fn days(self) -> Option<u32> {
        match self {
            Retention::Keep => None,
            Retention::Days(d) => Some(d),
        }
    }

    pub fn from_days(days: Option<u32>) -> Retention {
        days.map_or(Retention::Keep, Retention::Days)
    }
}

impl std::str::FromStr for Retention {
    type Err = PoolError;

    /// `keep`, or `<N>d`, `<N>w`, `<N>y` (N > 0; a bare number is days).
    fn from_str(s: &str) -> Result<Self, PoolError> {
        let bad = || PoolError::InvalidRetention(s.to_string());
        if s == "keep" {
            return Ok(Retention::Keep);
        }
        let (digits, factor) = match s.as_bytes().last() {
            Some(b'd') => (&s[..s.len() - 1], 1),
            Some(b'w') => (&s[..s.len() - 1], 7),
            Some(b'y') => (&s[..s.len() - 1], 365),
            _ => (s, 1),
        };
        let n: u32 = digits.parse().map_err(|_| bad())?;
        let days = n.checked_mul(factor).filter(|d| *d > 0).ok_or_else(bad)?;
        Ok(Retention::Days(days))
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retention::Keep => f.write_str("keep"),
            Retention::Days(d) => write!(f, "{d}d"),
        }
    }
}

/// Creates a pool.
pub fn create_pool(
    catalog: &Catalog,
    name: &str,
    retention: Retention,
    allocation: Allocation,
) -> Result<PoolRecord, PoolError> {
    validate_name(name).map_err(|_| PoolError::InvalidName(name.to_string()))?;
    let pool = PoolRecord {
        name: name.to_string(),
        allocation,
        retention_days: retention.days(),
        created: now_epoch(),
    };
    catalog.insert_pool(&pool)?;
    Ok(pool)
}

/// The pool, or [`CatalogError::UnknownPool`].
pub fn get_pool(catalog: &Catalog, name: &str) -> Result<PoolRecord, PoolError> {
    catalog
        .pool(name)?
        .ok_or_else(|| PoolError::Catalog(CatalogError::UnknownPool(name.to_string())))
}

/// True while a media set must not be overwritten: it is writable, or its
/// pool's retention has not yet expired (`now`: seconds since the epoch).
pub fn media_set_is_live(set: &MediaSetRecord, pool: &PoolRecord, now: i64) -> bool {
    match (set.status, pool.retention_days) {
        (MediaSetStatus::Writable, _) => true,
        (MediaSetStatus::Closed, None) => true,
        (MediaSetStatus::Closed, Some(days)) => {
            now < set
                .created
                .saturating_add(i64::from(days) * SECONDS_PER_DAY)
        }
    }
}

/// Whether a job appends to an existing media set or starts one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSetChoice {
    Existing(MediaSetRecord),
    /// Start this new set (not yet in the catalog).
    New(MediaSetRecord),
}

impl MediaSetChoice {
    pub fn record(&self) -> &MediaSetRecord {
        match self {
            MediaSetChoice::Existing(s) | MediaSetChoice::New(s) => s,
        }
    }
}

/// Picks the media set a backup of `pool` writes into.
pub fn choose_media_set(
    catalog: &Catalog,
    pool: &PoolRecord,
    force_new: bool,
) -> Result<MediaSetChoice, PoolError> {
    let current = catalog.writable_media_set(&pool.name)?;
    match current {
        Some(set) if !force_new && pool.allocation == Allocation::Continue => {
            Ok(MediaSetChoice::Existing(set))
        }
        _ => Ok(MediaSetChoice::New(MediaSetRecord {
            uuid: Uuid::new_v4(),
            pool: pool.name.clone(),
            created: now_epoch(),
            status: MediaSetStatus::Writable,
        })),
    }
}

/// Records a new media set, closing the pool's previous writable set(s).
pub fn start_media_set(catalog: &Catalog, set: &MediaSetRecord) -> Result<(), PoolError> {
    for old in catalog.media_sets(Some(&set.pool))? {
        if old.status == MediaSetStatus::Writable && old.uuid != set.uuid {
            catalog.close_media_set(old.uuid)?;
        }
    }
    catalog.insert_media_set(set)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_parses() {
        assert_eq!("keep".parse::<Retention>().unwrap(), Retention::Keep);
        assert_eq!("30d".parse::<Retention>().unwrap(), Retention::Days(30));
        assert_eq!("2w".parse::<Retention>().unwrap(), Retention::Days(14));
        assert_eq!("1y".parse::<Retention>().unwrap(), Retention::Days(365));
        assert_eq!("5".parse::<Retention>().unwrap(), Retention::Days(5));
        for bad in ["", "0d", "x", "-3d", "99999999999y", "d"] {
            assert!(bad.parse::<Retention>().is_err(), "{bad}");
        }
    }

    #[test]
    fn allocation_policy_decides_media_set() {
        let cat = Catalog::open_in_memory().unwrap();
        let pool = get_pool(&cat, DEFAULT_POOL).unwrap();
        let first = choose_media_set(&cat, &pool, false).unwrap();
        assert!(matches!(first, MediaSetChoice::New(_)));
        start_media_set(&cat, first.record()).unwrap();
        let again = choose_media_set(&cat, &pool, false).unwrap();
        assert_eq!(again, MediaSetChoice::Existing(first.record().clone()));
        let forced = choose_media_set(&cat, &pool, true).unwrap();
        assert!(matches!(forced, MediaSetChoice::New(_)));
        start_media_set(&cat, forced.record()).unwrap();
        let old = cat.media_set(first.record().uuid).unwrap().unwrap();
        assert_eq!(old.status, MediaSetStatus::Closed);

        let always = create_pool(&cat, "daily", Retention::Days(7), Allocation::AlwaysNew).unwrap();
        let s = choose_media_set(&cat, &always, false).unwrap();
        start_media_set(&cat, s.record()).unwrap();
        assert!(matches!(
            choose_media_set(&cat, &always, false).unwrap(),
            MediaSetChoice::New(_)
        ));
        assert!(matches!(
            create_pool(&cat, "bad name", Retention::Keep, Allocation::Continue),
            Err(PoolError::InvalidName(_))
        ));
    }

    #[test]
    fn retention_decides_liveness() {
        let pool = PoolRecord {
            name: "p".into(),
            allocation: Allocation::Continue,
            retention_days: Some(1),
            created: 0,
        };
        let mut set = MediaSetRecord {
            uuid: Uuid::new_v4(),
            pool: "p".into(),
            created: 1000,
            status: MediaSetStatus::Writable,
        };
        assert!(media_set_is_live(&set, &pool, 10_000_000));
        set.status = MediaSetStatus::Closed;
        assert!(media_set_is_live(&set, &pool, 1000 + 86_399));
        assert!(!media_set_is_live(&set, &pool, 1000 + 86_400));
        let keep = PoolRecord {
            retention_days: None,
            ..pool
        };
        assert!(media_set_is_live(&set, &keep, i64::MAX));
    }
}
