//! An operator's changes to single tapes: their status, moving them to a
//! vault or a shelf, destroying them, and how a tape is presented with its
//! media set.

use serde::Serialize;
use uuid::Uuid;

use super::media_set::SetStatus;
use super::template::media_set_name;
use super::{media_set_status, Moment, PoolError, PoolState};
use crate::catalog::{Catalog, CatalogError, MediaLocation, MediaRecord, MediaStatus};

/// Errors of changing a tape.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no tape with label {0:?} in the catalog (ptape media list)")]
    Unknown(String),
    #[error("tape {label} belongs to media set {set}, which is {status}: destroying it loses data the catalog counts on; use --force to destroy it anyway (the whole media set is forgotten)")]
    LiveSet {
        label: String,
        set: String,
        status: SetStatus,
    },
    #[error("tape {label} is in a media set; its status becomes writable only when the set expired and the tape is reused (use full, damaged or retired)")]
    WritableInSet { label: String },
    #[error("status 'unknown' is set by ptape (a tape of a media set the catalog does not know); use writable, full, damaged or retired")]
    UnknownStatus,
    #[error("invalid vault name {0:?}: use 1-64 characters of letters, digits, '-', '_' or '.'")]
    InvalidVault(String),
    #[error("tape {label} is online in changer '{changer}': export it first (ptape media-set export), or if it was taken out by hand, run `ptape media list --update-status`")]
    StillOnline { label: String, changer: String },
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

fn by_label(catalog: &Catalog, label: &str) -> Result<MediaRecord, MediaError> {
    catalog
        .media_by_label(label)?
        .ok_or_else(|| MediaError::Unknown(label.to_string()))
}

/// Sets a tape's status by hand: `full` (nothing more is appended),
/// `damaged` or `retired` (never written again), or `writable` for a tape
/// in no media set (e.g. a damaged mark that was a mistake).
pub fn set_status(
    catalog: &Catalog,
    label: &str,
    status: MediaStatus,
) -> Result<MediaRecord, MediaError> {
    let media = by_label(catalog, label)?;
    match status {
        MediaStatus::Unknown => return Err(MediaError::UnknownStatus),
        MediaStatus::Writable if media.media_set.is_some() => {
            return Err(MediaError::WritableInSet { label: media.label })
        }
        _ => {}
    }
    catalog.set_media_status(media.uuid, status)?;
    by_label(catalog, label)
}

/// Where a tape is moved to ([`move_media`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A vault (off-site storage): never written while there.
    Vault(String),
    /// Offline: on a shelf, for a standalone drive.
    Offline,
}

/// Records that a tape was taken to a vault or a shelf. A tape a changer
/// holds must leave it first (export); `ptape media list --update-status`
/// brings a vaulted tape that is back in a changer online again.
pub fn move_media(
    catalog: &Catalog,
    label: &str,
    to: &Destination,
) -> Result<MediaRecord, MediaError> {
    let media = by_label(catalog, label)?;
    if media.location == MediaLocation::Online {
        return Err(MediaError::StillOnline {
            label: media.label,
            changer: media.location_name.unwrap_or_default(),
        });
    }
    match to {
        Destination::Vault(name) => {
            crate::config::validate_name(name)
                .map_err(|_| MediaError::InvalidVault(name.clone()))?;
            catalog.set_media_location(media.uuid, MediaLocation::Vault, Some(name))?;
        }
        Destination::Offline => {
            catalog.set_media_location(media.uuid, MediaLocation::Offline, None)?;
        }
    }
    by_label(catalog, label)
}

/// What [`destroy_media`] removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destroyed {
    pub label: String,
    pub uuid: Uuid,
    /// The media set the tape was in (forgotten with it).
    pub media_set: Option<Uuid>,
}

/// Removes a tape from the catalog (it is lost, broken, or leaves ptape's
/// care). A tape of a media set that has not expired is refused unless
/// `force`; with `force` the tape's records go, and every snapshot that
/// depends on them.
pub fn destroy_media(
    catalog: &Catalog,
    label: &str,
    force: bool,
    now: &Moment,
) -> Result<Destroyed, MediaError> {
    let media = by_label(catalog, label)?;
    if let Some(set) = media.media_set {
        let status = media_set_status(catalog, set, now)?;
        if let Some(status @ (SetStatus::Open | SetStatus::Closed)) = status {
            if !force {
                return Err(MediaError::LiveSet {
                    label: media.label,
                    set: set.to_string(),
                    status,
                });
            }
        }
    }
    catalog.delete_media(media.uuid)?;
    Ok(Destroyed {
        label: media.label,
        uuid: media.uuid,
        media_set: media.media_set,
    })
}

/// A tape as `ptape media list` presents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaInfo {
    #[serde(flatten)]
    pub media: MediaRecord,
    /// The name of its media set.
    pub media_set_name: Option<String>,
    /// The status of its media set.
    pub media_set_status: Option<SetStatus>,
}

/// Every tape (of `pool` when given) with its media set's name and status.
pub fn media_infos(
    catalog: &Catalog,
    pool: Option<&str>,
    now: &Moment,
) -> Result<Vec<MediaInfo>, PoolError> {
    let mut states = std::collections::HashMap::new();
    for p in catalog.pools()? {
        let state = PoolState::load(catalog, &p.name)?;
        let lifetimes = state.lifetimes(now);
        for (set, lifetime) in state.sets.iter().zip(lifetimes) {
            let name = media_set_name(
                state.pool.template.as_deref(),
                set.uuid,
                set.created,
                &now.tz,
            );
            states.insert(
                set.uuid,
                (set.pool.clone(), name, lifetime.status(now.time)),
            );
        }
    }
    let mut infos = Vec::new();
    for media in catalog.media_list()? {
        let set = media.media_set.and_then(|s| states.get(&s));
        let media_pool = set.map(|s| s.0.as_str()).or(media.pool.as_deref());
        if pool.is_some_and(|p| Some(p) != media_pool) {
            continue;
        }
        infos.push(MediaInfo {
            media_set_name: set.map(|s| s.1.clone()),
            media_set_status: set.map(|s| s.2),
            media,
        });
    }
    Ok(infos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MediaSetRecord;
    use crate::pool::{create_pool, start_media_set, PoolSettings};

    fn setup() -> (Catalog, MediaRecord, MediaSetRecord) {
        let cat = Catalog::open_in_memory().unwrap();
        let settings = PoolSettings {
            retention: "1d".parse().unwrap(),
            ..PoolSettings::default()
        };
        create_pool(&cat, "p", settings, 0).unwrap();
        let m = MediaRecord::new_labelled(
            Uuid::new_v4(),
            "MV0001L9",
            Some("p"),
            MediaLocation::Offline,
            None,
            0,
        );
        cat.insert_media(&m).unwrap();
        let set = MediaSetRecord::new("p", 100, None);
        start_media_set(&cat, &set).unwrap();
        cat.assign_media_to_set(m.uuid, &set, 0).unwrap();
        (cat, m, set)
    }

    #[test]
    fn status_by_hand() {
        let (cat, m, _) = setup();
        assert_eq!(
            set_status(&cat, &m.label, MediaStatus::Damaged)
                .unwrap()
                .status,
            MediaStatus::Damaged
        );
        assert!(matches!(
            set_status(&cat, &m.label, MediaStatus::Writable),
            Err(MediaError::WritableInSet { .. })
        ));
        assert!(matches!(
            set_status(&cat, &m.label, MediaStatus::Unknown),
            Err(MediaError::UnknownStatus)
        ));
        assert!(matches!(
            set_status(&cat, "NOPE", MediaStatus::Full),
            Err(MediaError::Unknown(_))
        ));
    }

    #[test]
    fn move_to_vault_and_back() {
        let (cat, m, _) = setup();
        let moved = move_media(&cat, &m.label, &Destination::Vault("offsite".into())).unwrap();
        assert_eq!(moved.location_text(), "vault (offsite)");
        assert!(matches!(
            move_media(&cat, &m.label, &Destination::Vault("bad name".into())),
            Err(MediaError::InvalidVault(_))
        ));
        let back = move_media(&cat, &m.label, &Destination::Offline).unwrap();
        assert_eq!(back.location_text(), "offline");
        cat.set_media_location(m.uuid, MediaLocation::Online, Some("lib"))
            .unwrap();
        let err = move_media(&cat, &m.label, &Destination::Offline).unwrap_err();
        assert!(err.to_string().contains("changer 'lib'"), "{err}");
    }

    #[test]
    fn destroy_refuses_a_live_set_without_force() {
        let (cat, m, set) = setup();
        let err = destroy_media(&cat, &m.label, false, &Moment::utc(200)).unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::LiveSet {
                    status: SetStatus::Open,
                    ..
                }
            ),
            "{err}"
        );
        // Closed, within retention: still refused.
        cat.close_media_set(set.uuid, 300).unwrap();
        assert!(destroy_media(&cat, &m.label, false, &Moment::utc(400)).is_err());
        // Expired: fine without --force.
        let gone = destroy_media(&cat, &m.label, false, &Moment::utc(300 + 86_400)).unwrap();
        assert_eq!(gone.media_set, Some(set.uuid));
        assert!(cat.media_by_label(&m.label).unwrap().is_none());
    }

    #[test]
    fn destroy_with_force() {
        let (cat, m, _) = setup();
        destroy_media(&cat, &m.label, true, &Moment::utc(200)).unwrap();
        assert!(cat.media_by_label(&m.label).unwrap().is_none());
    }

    #[test]
    fn media_infos_show_the_set() {
        let (cat, m, set) = setup();
        let infos = media_infos(&cat, Some("p"), &Moment::utc(200)).unwrap();
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0].media.uuid, m.uuid);
        assert_eq!(infos[0].media_set_status, Some(SetStatus::Open));
        assert_eq!(
            infos[0].media_set_name.as_deref(),
            Some("Thu Jan  1 00:01:40 1970")
        );
        assert!(media_infos(&cat, Some("default"), &Moment::utc(200))
            .unwrap()
            .is_empty());
        let _ = set;
    }
}
