//! Where tapes are: what the configured changers hold, bringing the
//! catalog's locations up to date (`ptape media list --update-status`), and
//! identifying cartridges by their labels (`ptape inventory`).
//!
//! A tape in a drive or a storage slot of changer C is *online* in C;
//! import/export slots, and storage slots configured as export slots, do
//! not count (a tape there is on its way out or in: offline). A tape last
//! seen in C and no longer there is *offline*. A vaulted tape stays in its
//! vault until a changer holds it again. A changer that cannot be read
//! changes nothing; tapes online in a changer that is no longer configured
//! become offline.

use pbs_tape::changer::{is_cleaning_barcode, ChangerStatus, MediaChanger};
use pbs_tape::format::{read_media_label, read_media_set_label};
use serde::Serialize;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, MediaLocation, MediaRecord, MediaStatus};
use crate::config::{self, Config, ResolvedDrive};
use crate::devices::{DeviceError, TapeDevices};
use crate::reading::TapeAccessError;

/// Errors of reading changers and labels.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error("changer {name:?} ({path}): {source}")]
    Changer {
        name: String,
        path: String,
        #[source]
        source: Box<pbs_tape::changer::ChangerError>,
    },
    #[error(transparent)]
    Device(Box<DeviceError>),
    #[error(transparent)]
    Tape(#[from] TapeAccessError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<DeviceError> for LocationError {
    fn from(e: DeviceError) -> Self {
        LocationError::Device(Box::new(e))
    }
}

/// A configured changer: its name, device path and export slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangerRef {
    pub name: String,
    pub path: String,
    pub export_slots: Vec<usize>,
}

/// The configured changers; with no drive configured, the embedded
/// library's changer (when the library exists).
pub fn configured_changers(config: &Config) -> Result<Vec<ChangerRef>, LocationError> {
    let mut changers: Vec<ChangerRef> = config
        .changers
        .iter()
        .map(|c| ChangerRef {
            name: c.name.clone(),
            path: c.path.clone(),
            export_slots: c.export_slots.clone(),
        })
        .collect();
    if config.uses_embedded_library() && changers.is_empty() {
        let dir = config::embedded_library_dir()?;
        if dir.join(config::EMBEDDED_CHANGER).exists() {
            changers.push(ChangerRef {
                name: config::EMBEDDED_CHANGER.to_string(),
                path: dir.join(config::EMBEDDED_CHANGER).display().to_string(),
                export_slots: Vec::new(),
            });
        }
    }
    Ok(changers)
}

/// The changer of a resolved drive, if it has one.
pub fn changer_of(drive: &ResolvedDrive) -> Option<ChangerRef> {
    Some(ChangerRef {
        name: drive.changer.clone()?,
        path: drive.changer_path.clone()?,
        export_slots: drive.export_slots.clone(),
    })
}

/// What a changer holds at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangerView {
    pub changer: ChangerRef,
    pub status: ChangerStatus,
}

/// One slot a tape can leave (or enter) the changer through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSlot {
    /// Slot number as `pmtx status` shows it.
    pub slot: usize,
    pub full: bool,
    pub barcode: Option<String>,
    /// True for a storage slot configured as export slot.
    pub configured: bool,
}

impl ChangerView {
    /// Labels of the data cartridges in the drives and storage slots (not
    /// in import/export or export slots).
    pub fn online_labels(&self) -> Vec<String> {
        let export = &self.changer.export_slots;
        self.status
            .drives
            .iter()
            .filter_map(|d| d.barcode.clone())
            .chain(
                self.status
                    .slots
                    .iter()
                    .filter(|s| !s.import_export && !export.contains(&s.number))
                    .filter_map(|s| s.barcode.clone()),
            )
            .filter(|b| !is_cleaning_barcode(b))
            .collect()
    }

    /// Import/export slots and configured export slots, by number.
    pub fn export_slots(&self) -> Vec<ExportSlot> {
        let export = &self.changer.export_slots;
        self.status
            .all_slots()
            .filter(|s| s.import_export || export.contains(&s.number))
            .map(|s| ExportSlot {
                slot: s.number,
                full: s.full,
                barcode: s.barcode.clone(),
                configured: !s.import_export,
            })
            .collect()
    }
}

/// Reads what a changer holds (READ ELEMENT STATUS).
pub fn read_changer(changer: &ChangerRef) -> Result<ChangerView, LocationError> {
    let err = |source| LocationError::Changer {
        name: changer.name.clone(),
        path: changer.path.clone(),
        source: Box::new(source),
    };
    let mut mc = MediaChanger::open(&changer.path).map_err(err)?;
    let status = mc.status().map_err(err)?;
    Ok(ChangerView {
        changer: changer.clone(),
        status,
    })
}

/// What [`update_online_status`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OnlineUpdate {
    /// Changers read.
    pub changers: Vec<String>,
    /// Labels whose location changed.
    pub changed: Vec<String>,
    /// Changers that could not be read, with the error (their tapes keep
    /// their locations).
    pub unreachable: Vec<(String, String)>,
}

/// Brings the catalog's locations up to date from every configured changer
/// (see the module documentation).
pub fn update_online_status(
    catalog: &Catalog,
    config: &Config,
) -> Result<OnlineUpdate, LocationError> {
    let changers = configured_changers(config)?;
    let mut update = OnlineUpdate::default();
    for changer in &changers {
        match read_changer(changer) {
            Ok(view) => {
                let changed = catalog.sync_media_locations(&changer.name, &view.online_labels())?;
                update.changed.extend(changed);
                update.changers.push(changer.name.clone());
            }
            Err(e) => update
                .unreachable
                .push((changer.name.clone(), e.to_string())),
        }
    }
    let names: Vec<&str> = changers.iter().map(|c| c.name.as_str()).collect();
    let mut gone: Vec<String> = catalog
        .media_list()?
        .into_iter()
        .filter_map(|m| match (m.location, m.location_name) {
            (MediaLocation::Online, Some(c)) if !names.contains(&c.as_str()) => Some(c),
            _ => None,
        })
        .collect();
    gone.sort();
    gone.dedup();
    for changer in gone {
        update
            .changed
            .extend(catalog.forget_changer_locations(&changer)?);
    }
    Ok(update)
}

/// What `ptape inventory` found on one cartridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryEntry {
    /// The barcode.
    pub barcode: String,
    /// The media UUID on the tape's label, when it has one.
    pub uuid: Option<Uuid>,
    /// What happened: `known` (not read), `blank`, `catalogued`,
    /// `updated`, `unknown-media-set`, `foreign`, `conflict`.
    pub outcome: String,
    /// Warnings (barcode and label text differ, ...).
    pub notes: Vec<String>,
}

/// Loads the cartridges of the drive's changer that the catalog does not
/// know (all of them with `read_all`), reads their labels and records them:
/// a tape with a ptape label becomes known (free, or of a pool and media
/// set the catalog knows; a tape of an unknown media set is recorded with
/// status `unknown` and never written: `ptape catalog scan` reads it).
/// Cleaning cartridges are skipped; blank or foreign cartridges are only
/// reported. Locations are brought up to date first.
pub fn update_inventory<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    read_all: bool,
) -> Result<Vec<InventoryEntry>, LocationError> {
    let labels = devices.online_labels()?;
    let changer = devices.changer_name();
    if let Some(name) = &changer {
        catalog.sync_media_locations(name, &labels)?;
    }
    let mut entries = Vec::new();
    for barcode in labels {
        if is_cleaning_barcode(&barcode) {
            continue;
        }
        let known = catalog.media_by_label(&barcode)?;
        if known.is_some() && !read_all {
            entries.push(InventoryEntry {
                barcode,
                uuid: known.map(|m| m.uuid),
                outcome: "known".into(),
                notes: Vec::new(),
            });
            continue;
        }
        entries.push(read_one(devices, catalog, &barcode, changer.as_deref())?);
    }
    Ok(entries)
}

fn read_one<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    barcode: &str,
    changer: Option<&str>,
) -> Result<InventoryEntry, LocationError> {
    let mut entry = InventoryEntry {
        barcode: barcode.to_string(),
        uuid: None,
        outcome: String::new(),
        notes: Vec::new(),
    };
    let mut tape = devices
        .load(barcode)
        .map_err(|e| TapeAccessError::device(barcode, e))?;
    let labels = read_media_label(&mut tape).and_then(|label| match label {
        Some(l) => read_media_set_label(&mut tape).map(|set| Some((l, set))),
        None => Ok(None),
    });
    devices
        .unload(tape)
        .map_err(|e| TapeAccessError::device(barcode, e))?;
    let (label, set) = match labels {
        Ok(Some(l)) => l,
        Ok(None) => {
            entry.outcome = "blank".into();
            return Ok(entry);
        }
        Err(e) => {
            entry.outcome = "foreign".into();
            entry.notes.push(format!("no ptape label: {e}"));
            return Ok(entry);
        }
    };
    entry.uuid = Some(label.uuid);
    if label.label_text != barcode {
        entry.notes.push(format!(
            "barcode {barcode} and label text {:?} differ; the catalog uses the barcode",
            label.label_text
        ));
    }
    let (location, name) = match changer {
        Some(c) => (MediaLocation::Online, Some(c)),
        None => (MediaLocation::Offline, None),
    };
    if let Some(known) = catalog.media_by_label(barcode)? {
        if known.uuid != label.uuid {
            entry.outcome = "conflict".into();
            entry.notes.push(format!(
                "the catalog knows {barcode} as media {}, the tape carries {} (relabelled elsewhere?); nothing changed",
                known.uuid, label.uuid
            ));
            return Ok(entry);
        }
        catalog.set_media_location(known.uuid, location, name)?;
        entry.outcome = "updated".into();
        return Ok(entry);
    }
    let mut media =
        MediaRecord::new_labelled(label.uuid, barcode, None, location, name, label.ctime);
    entry.outcome = "catalogued".into();
    if let Some(set) = set {
        match catalog.media_set(set.uuid)? {
            Some(known) if catalog.pool(&known.pool)?.is_some() => {
                media.pool = Some(known.pool.clone());
                catalog.insert_media(&media)?;
                let seq = u32::try_from(set.seq_nr).unwrap_or(u32::MAX);
                catalog.assign_media_to_set(media.uuid, &known, seq)?;
                catalog.set_media_status(media.uuid, MediaStatus::Full)?;
                entry
                    .notes
                    .push(format!("member {seq} of media set {}", set.uuid));
                return Ok(entry);
            }
            _ => {
                media.status = MediaStatus::Unknown;
                media.pool = catalog.pool(&set.pool)?.map(|p| p.name);
                entry.outcome = "unknown-media-set".into();
                entry.notes.push(format!(
                    "carries media set {} of pool {:?}, which the catalog does not know: recorded as unknown, never written; `ptape catalog scan` reads its contents",
                    set.uuid, set.pool
                ));
            }
        }
    }
    catalog.insert_media(&media)?;
    Ok(entry)
}
