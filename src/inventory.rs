//! Labelling tapes: writing the media label (tape file 0) through the
//! format layer and recording the tape in the catalog.
//!
//! Rules:
//! - a tape that already carries a label is relabelled only with `force`;
//! - a tape in a live media set (writable, or closed within its pool's
//!   retention) is never relabelled, `force` or not;
//! - labelling all unlabelled cartridges of a changer takes only blank
//!   ones that the catalog does not know, never cleaning cartridges;
//! - forget before overwrite: a relabelled tape's catalog rows, and every
//!   snapshot of its (expired) media set, are removed in one transaction
//!   *before* the new label is written. A crash in between leaves a tape
//!   the catalog no longer trusts, never rows for overwritten data.

use pbs_tape::format::{
    read_media_label, FormatError, MediaLabel, MediaWriter, TapeLimits, WriterConfig,
};
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, MediaLocation, MediaRecord};
use crate::devices::{DeviceError, TapeDevices, TapeMotion};
use crate::pool::{self, media_set::SetStatus, Moment};
use crate::reading::TapeAccessError;

/// Errors of labelling.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{0} is a cleaning cartridge; it cannot be labelled")]
    CleaningCartridge(String),
    #[error("tape {label} is already labelled (media {uuid}); use --force to relabel it")]
    AlreadyLabelled { label: String, uuid: String },
    #[error("tape {label} belongs to media set {set} of pool {pool}, which is still live; it cannot be relabelled")]
    InLiveMediaSet {
        label: String,
        set: Uuid,
        pool: String,
    },
    #[error(
        "tape {label} holds data that is not a ptape label ({reason}); use --force to overwrite it"
    )]
    NotBlank { label: String, reason: String },
    /// The drive path cannot move a block of the format's smallest size in
    /// one command, so ptape could not read back what it writes there.
    #[error("{device} can move at most {max} bytes in one command (drive and host adapter limits), but ptape writes blocks of {needed} bytes and must read them back on the same path; tape {label} was not labelled")]
    PathTooNarrow {
        label: String,
        device: String,
        max: usize,
        needed: usize,
    },
    /// A format or device error on the tape being labelled.
    #[error(transparent)]
    Tape(#[from] TapeAccessError),
    #[error(transparent)]
    Devices(Box<DeviceError>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Pool(#[from] crate::pool::PoolError),
}

impl From<DeviceError> for InventoryError {
    fn from(e: DeviceError) -> Self {
        InventoryError::Devices(Box::new(e))
    }
}

/// Cartridges labelled, and those skipped with the reason.
pub type LabelAllOutcome = (Vec<MediaRecord>, Vec<(String, String)>);

/// The largest power-of-two block size not above `wanted` and `max`
/// (at least the format's smallest block).
pub fn fit_block_size(wanted: usize, max: usize) -> usize {
    let limit = wanted.min(max).max(pbs_tape::format::LABEL_BLOCK_SIZE);
    1usize << (usize::BITS - 1 - limit.leading_zeros())
}

/// Refuses a drive path that cannot move the blocks ptape writes: every
/// block written must be readable on the same path, and the smallest block
/// the format writes is [`pbs_tape::format::constants::MIN_BLOCK_SIZE`].
fn check_block_path<T: TapeLimits>(tape: &T, label: &str) -> Result<(), InventoryError> {
    let max = tape.max_block_size();
    let needed = pbs_tape::format::constants::MIN_BLOCK_SIZE;
    if max < needed {
        return Err(InventoryError::PathTooNarrow {
            label: label.to_string(),
            device: tape.device_name(),
            max,
            needed,
        });
    }
    Ok(())
}

/// Refuses when the catalogued tape is in a live media set (one that has
/// not expired at `now`).
fn check_not_live(
    catalog: &Catalog,
    media: &MediaRecord,
    now: &Moment,
) -> Result<(), InventoryError> {
    let Some(set_uuid) = media.media_set else {
        return Ok(());
    };
    let Some(set) = catalog.media_set(set_uuid)? else {
        return Ok(());
    };
    match pool::media_set_status(catalog, set_uuid, now)? {
        Some(SetStatus::Expired) | None => Ok(()),
        Some(_) => Err(InventoryError::InLiveMediaSet {
            label: media.label.clone(),
            set: set.uuid,
            pool: set.pool,
        }),
    }
}

/// Writes a media label on the cartridge `label` (loaded through
/// `devices`) and records it for `pool` (`None`: free for any pool).
pub fn label_tape<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    label: &str,
    pool: Option<&str>,
    force: bool,
    now: &Moment,
) -> Result<MediaRecord, InventoryError> {
    if pbs_tape::changer::is_cleaning_barcode(label) {
        return Err(InventoryError::CleaningCartridge(label.to_string()));
    }
    if let Some(p) = pool {
        pool::get_pool(catalog, p)?;
    }
    let known = catalog.media_by_label(label)?;
    if let Some(media) = &known {
        check_not_live(catalog, media, now)?;
        if !force {
            return Err(InventoryError::AlreadyLabelled {
                label: label.to_string(),
                uuid: media.uuid.to_string(),
            });
        }
    }
    let dev_err = |source| InventoryError::from(TapeAccessError::device(label, source));
    let fmt_err = |source| InventoryError::from(TapeAccessError::format(label, source));
    let mut tape = devices.load(label).map_err(dev_err)?;
    // A reset or medium change from now on stops the label write.
    tape.begin_write_session();
    let mut forget: Vec<Uuid> = known.iter().map(|m| m.uuid).collect();
    let checked = (|| {
        check_block_path(&tape, label)?;
        match read_media_label(&mut tape) {
            Ok(None) => {}
            Ok(Some(existing)) => {
                if let Some(media) = catalog.media_by_uuid(existing.uuid)? {
                    check_not_live(catalog, &media, now)?;
                    forget.push(media.uuid);
                }
                if !force {
                    return Err(InventoryError::AlreadyLabelled {
                        label: label.to_string(),
                        uuid: existing.uuid.to_string(),
                    });
                }
            }
            Err(e) if !force => {
                return Err(InventoryError::NotBlank {
                    label: label.to_string(),
                    reason: e.to_string(),
                })
            }
            Err(_) => {}
        }
        Ok(())
    })();
    // Forget before overwrite.
    let forgotten = checked.and_then(|()| {
        for uuid in &forget {
            catalog.delete_media(*uuid)?;
        }
        Ok(())
    });
    if let Err(e) = forgotten {
        let _ = devices.unload(tape);
        return Err(e);
    }
    let (tape, media_uuid) = match write_label(tape, label, now.time) {
        Ok(v) => v,
        Err((tape, e)) => {
            if let Some(tape) = tape {
                let _ = devices.unload(tape);
            }
            return Err(match e {
                LabelWriteError::Tape(e) => dev_err(DeviceError::from(e)),
                LabelWriteError::Format(e) => fmt_err(e),
            });
        }
    };
    devices.unload(tape).map_err(dev_err)?;
    let changer = devices.changer_name();
    let location = match changer {
        Some(_) => MediaLocation::Online,
        None => MediaLocation::Offline,
    };
    let media = MediaRecord::new_labelled(
        media_uuid,
        label,
        pool,
        location,
        changer.as_deref(),
        now.time,
    );
    catalog.insert_media(&media)?;
    Ok(media)
}

enum LabelWriteError {
    Tape(pbs_tape::format::TapeIoError),
    Format(FormatError),
}

/// Rewinds, writes a new media label and commits it (flush + position
/// check). Gives the tape back unless the writer could not even be set up
/// (then the handle is gone; the cartridge stays in the drive).
fn write_label<T>(
    mut tape: T,
    label: &str,
    now: i64,
) -> Result<(T, Uuid), (Option<T>, LabelWriteError)>
where
    T: pbs_tape::format::TapeWrite + TapeMotion,
{
    if let Err(e) = tape.rewind() {
        return Err((Some(tape), LabelWriteError::Tape(e)));
    }
    let config = WriterConfig {
        block_size: fit_block_size(WriterConfig::default().block_size, tape.max_block_size()),
        ..WriterConfig::default()
    };
    let mut writer =
        MediaWriter::new(tape, config).map_err(|e| (None, LabelWriteError::Format(e)))?;
    let uuid = Uuid::new_v4();
    let result = writer
        .write_media_label(&MediaLabel {
            label_text: label.to_string(),
            uuid,
            ctime: now,
        })
        .and_then(|_| writer.commit());
    let tape = writer.into_tape();
    match result {
        Ok(_) => Ok((tape, uuid)),
        Err(e) => Err((Some(tape), LabelWriteError::Format(e))),
    }
}

/// Labels every cartridge the changer holds that the catalog does not know
/// and that is blank. Cleaning cartridges are never touched (the devices
/// do not list them). Returns the new media and the labels skipped with
/// the reason.
pub fn label_all_unlabelled<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    pool: Option<&str>,
    now: &Moment,
) -> Result<LabelAllOutcome, InventoryError> {
    let mut labelled = Vec::new();
    let mut skipped = Vec::new();
    for label in devices.online_labels()? {
        if catalog.media_by_label(&label)?.is_some() {
            continue;
        }
        match label_tape(devices, catalog, &label, pool, false, now) {
            Ok(media) => labelled.push(media),
            Err(e @ (InventoryError::AlreadyLabelled { .. } | InventoryError::NotBlank { .. })) => {
                skipped.push((label, e.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok((labelled, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::MemoryDevices;

    fn now() -> Moment {
        Moment::utc(1_000_000)
    }

    #[test]
    fn block_size_fits_device() {
        assert_eq!(fit_block_size(256 * 1024, 16 * 1024 * 1024), 256 * 1024);
        assert_eq!(fit_block_size(256 * 1024, 200 * 1024), 128 * 1024);
        assert_eq!(fit_block_size(256 * 1024, 1024), 64 * 1024);
    }

    #[test]
    fn labels_blank_refuses_relabel_without_force() {
        let cat = Catalog::open_in_memory().unwrap();
        let mut dev = MemoryDevices::blank("LB", 2, u64::MAX);
        let m = label_tape(&mut dev, &cat, "LB0001L9", Some("default"), false, &now()).unwrap();
        assert_eq!(
            cat.media_by_label("LB0001L9").unwrap().unwrap().uuid,
            m.uuid
        );
        let tape = dev.cartridges.get_mut("LB0001L9").unwrap();
        tape.rewind();
        assert_eq!(read_media_label(tape).unwrap().unwrap().uuid, m.uuid);
        assert!(matches!(
            label_tape(&mut dev, &cat, "LB0001L9", None, false, &now()),
            Err(InventoryError::AlreadyLabelled { .. })
        ));
        let again = label_tape(&mut dev, &cat, "LB0001L9", None, true, &now()).unwrap();
        assert_ne!(again.uuid, m.uuid);
        assert!(cat.media_by_uuid(m.uuid).unwrap().is_none());
        assert!(matches!(
            label_tape(&mut dev, &cat, "LB0002L9", Some("nope"), false, &now()),
            Err(InventoryError::Pool(_))
        ));
    }

    #[test]
    fn a_path_narrower_than_the_smallest_block_is_refused_before_writing() {
        let cat = Catalog::open_in_memory().unwrap();
        let mut dev = MemoryDevices::blank("NP", 1, u64::MAX);
        let narrow = pbs_tape::format::constants::MIN_BLOCK_SIZE / 2;
        let tape = dev.cartridges.remove("NP0001L9").unwrap();
        dev.cartridges
            .insert("NP0001L9".into(), tape.with_max_block_size(narrow));
        let err = label_tape(&mut dev, &cat, "NP0001L9", None, true, &now()).unwrap_err();
        assert!(
            matches!(err, InventoryError::PathTooNarrow { max, .. } if max == narrow),
            "{err:?}"
        );
        assert!(err.to_string().contains("read them back"), "{err}");
        assert!(
            dev.cartridges["NP0001L9"].records().is_empty(),
            "nothing written"
        );
        assert!(cat.media_by_label("NP0001L9").unwrap().is_none());
    }

    #[test]
    fn tape_in_live_media_set_is_never_relabelled() {
        let cat = Catalog::open_in_memory().unwrap();
        let mut dev = MemoryDevices::blank("LV", 1, u64::MAX);
        let m = label_tape(&mut dev, &cat, "LV0001L9", None, false, &now()).unwrap();
        let p = pool::get_pool(&cat, "default").unwrap();
        let set = pool::choose_media_set(&cat, &p, false, &now()).unwrap();
        pool::start_media_set(&cat, set.record()).unwrap();
        cat.assign_media_to_set(m.uuid, set.record(), 0).unwrap();
        assert!(matches!(
            label_tape(&mut dev, &cat, "LV0001L9", None, true, &now()),
            Err(InventoryError::InLiveMediaSet { .. })
        ));
    }

    #[test]
    fn label_all_takes_only_blank_unknown_cartridges() {
        let cat = Catalog::open_in_memory().unwrap();
        let mut dev = MemoryDevices::blank("AL", 3, u64::MAX);
        label_tape(&mut dev, &cat, "AL0001L9", None, false, &now()).unwrap();
        // AL0002L9 carries data that is no label.
        dev.cartridges
            .get_mut("AL0002L9")
            .unwrap()
            .records_mut()
            .push(pbs_tape::format::image::TapeRecord::Block(vec![0u8; 100]));
        let (done, skipped) =
            label_all_unlabelled(&mut dev, &cat, Some("default"), &now()).unwrap();
        let labels: Vec<&str> = done.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["AL0003L9"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, "AL0002L9");
    }
}
