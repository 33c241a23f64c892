//! What a catalog scan believes of what it reads from a tape. Names read
//! from a tape (label text, pool, snapshot names) are checked like user
//! input; a catalog archive is trusted only for the tape (media UUID) and
//! the media set it describes, and only when that is the media set of the
//! tape it was read from.

use pbs_tape::format::{MediaLabel, MediaSetLabel};

use crate::catalog::TapeCatalog;
use crate::config::{validate_label, validate_name};

/// A media label whose label text is not a valid label.
pub(super) fn check_media_label(label: &MediaLabel) -> Result<(), String> {
    validate_label(&label.label_text).map_err(|e| format!("its media label is not usable: {e}"))
}

/// A media set label whose pool name is not a valid name.
pub(super) fn check_set_label(set: &MediaSetLabel) -> Result<(), String> {
    validate_name(&set.pool).map_err(|e| format!("its media set label names no valid pool: {e}"))
}

/// Whether a snapshot name read from a tape of a set of `pool` is a valid
/// `POOL/ID/TIME` of that pool.
pub(super) fn snapshot_name_ok(name: &str, pool: &str) -> bool {
    crate::backup::parse_snapshot_name(name).is_some_and(|(p, _, _)| p == pool)
}

/// The rows of catalog archive `tc`, read from a tape whose media set
/// label is `set`, that may be imported: the whole archive is refused when
/// it describes another media set (or pool) than the tape carries, or a
/// tape by an invalid label; archive and snapshot rows of other tapes or
/// sets, and a pool record of another pool, are dropped (each drop noted).
pub(super) fn trusted_rows(
    mut tc: TapeCatalog,
    set: &MediaSetLabel,
) -> Result<(TapeCatalog, Vec<String>), String> {
    let described = tc.media_set.as_ref().map(|s| s.uuid);
    if described != Some(set.uuid) || tc.media.media_set != Some(set.uuid) {
        return Err(format!(
            "it describes tape {} of media set {}, this tape belongs to media set {}",
            tc.media.uuid,
            described.map_or_else(|| "(none)".to_string(), |u| u.to_string()),
            set.uuid
        ));
    }
    validate_label(&tc.media.label).map_err(|e| e.to_string())?;
    let set_pool = tc.media_set.as_ref().map(|s| s.pool.as_str());
    if set_pool != Some(set.pool.as_str())
        || tc.media.pool.as_deref().is_some_and(|p| p != set.pool)
    {
        return Err(format!(
            "it names pool {:?}, the media set label of this tape names {:?}",
            set_pool.unwrap_or_default(),
            set.pool
        ));
    }
    let mut notes = Vec::new();
    if tc.pool.as_ref().is_some_and(|p| p.name != set.pool) {
        notes.push("its pool record names another pool: ignored".to_string());
        tc.pool = None;
    }
    let media = tc.media.uuid;
    let before = tc.archives.len();
    tc.archives.retain(|a| a.archive.media == media);
    if tc.archives.len() < before {
        notes.push(format!(
            "{} archive rows of other tapes ignored",
            before - tc.archives.len()
        ));
    }
    let before = tc.snapshots.len();
    tc.snapshots.retain(|s| {
        s.media == media
            && s.media_set == set.uuid
            && s.pool == set.pool
            && snapshot_name_ok(&s.name, &set.pool)
    });
    if tc.snapshots.len() < before {
        notes.push(format!(
            "{} snapshot rows of other tapes, sets or pools, or with invalid names, ignored",
            before - tc.snapshots.len()
        ));
    }
    Ok((tc, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::export::{ArchiveExport, TAPE_CATALOG_VERSION};
    use crate::catalog::{
        ArchiveRecord, ContentType, MediaLocation, MediaRecord, MediaSetRecord, SnapshotRecord,
    };
    use uuid::Uuid;

    fn set_label(pool: &str) -> MediaSetLabel {
        MediaSetLabel {
            pool: pool.into(),
            uuid: Uuid::new_v4(),
            seq_nr: 0,
            ctime: 100,
            encryption_key_fingerprint: None,
            key_config: None,
        }
    }

    fn archive(media: Uuid, file: u64) -> ArchiveExport {
        ArchiveExport {
            archive: ArchiveRecord {
                uuid: Uuid::new_v4(),
                media,
                file_number: file,
                content: ContentType::Snapshot,
                first_object: 0,
                last_object: 1,
                complete: true,
                entries: 1,
                bytes: 1,
            },
            chunks: Vec::new(),
            positions: Vec::new(),
        }
    }

    fn snapshot(name: &str, pool: &str, set: Uuid, media: Uuid, file: u64) -> SnapshotRecord {
        SnapshotRecord {
            name: name.into(),
            pool: pool.into(),
            time: 0,
            media_set: set,
            media,
            file_number: file,
            archive: Uuid::new_v4(),
            entries: 0,
            total_bytes: 0,
        }
    }

    fn catalog_of(set: &MediaSetLabel, label: &str) -> TapeCatalog {
        let mut media = MediaRecord::new_labelled(
            Uuid::new_v4(),
            label,
            Some(&set.pool),
            MediaLocation::Online,
            None,
            0,
        );
        media.media_set = Some(set.uuid);
        let mut record = MediaSetRecord::new(&set.pool, set.ctime, None);
        record.uuid = set.uuid;
        TapeCatalog {
            version: TAPE_CATALOG_VERSION,
            media,
            media_set: Some(record),
            pool: None,
            archives: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    #[test]
    fn rows_of_the_described_tape_are_kept_others_dropped() {
        let set = set_label("offsite");
        let mut tc = catalog_of(&set, "AB0001L9");
        let me = tc.media.uuid;
        let other = Uuid::new_v4();
        tc.archives = vec![archive(me, 2), archive(other, 2)];
        tc.snapshots = vec![
            snapshot(
                "offsite/web/2026-11-25T12:00:00Z",
                "offsite",
                set.uuid,
                me,
                2,
            ),
            snapshot(
                "offsite/web/2026-11-25T12:00:01Z",
                "offsite",
                set.uuid,
                other,
                2,
            ),
            snapshot("other/web/2026-11-25T12:00:00Z", "offsite", set.uuid, me, 2),
            snapshot(
                "offsite/../2026-11-25T12:00:00Z",
                "offsite",
                set.uuid,
                me,
                2,
            ),
            snapshot(
                "offsite/web/2026-11-25T12:00:02Z",
                "offsite",
                Uuid::new_v4(),
                me,
                2,
            ),
        ];
        let (kept, notes) = trusted_rows(tc, &set).unwrap();
        assert_eq!(kept.archives.len(), 1);
        assert_eq!(kept.archives[0].archive.media, me);
        assert_eq!(kept.snapshots.len(), 1);
        assert_eq!(kept.snapshots[0].name, "offsite/web/2026-11-25T12:00:00Z");
        assert_eq!(notes.len(), 2, "{notes:?}");
    }

    #[test]
    fn another_set_or_pool_or_a_bad_label_is_refused() {
        let set = set_label("offsite");
        let foreign_set = set_label("offsite");
        assert!(trusted_rows(catalog_of(&foreign_set, "AB0001L9"), &set)
            .unwrap_err()
            .contains("media set"));
        let mut tc = catalog_of(&set, "AB0001L9");
        tc.media_set.as_mut().unwrap().pool = "evil".into();
        assert!(trusted_rows(tc, &set).unwrap_err().contains("pool"));
        let tc = catalog_of(&set, "../../etc");
        assert!(trusted_rows(tc, &set).is_err());
    }

    #[test]
    fn names_from_labels_are_checked() {
        let label = |text: &str| MediaLabel {
            label_text: text.into(),
            uuid: Uuid::new_v4(),
            ctime: 0,
        };
        assert!(check_media_label(&label("PT0001L9")).is_ok());
        assert!(check_media_label(&label("")).is_err());
        assert!(check_media_label(&label("a b")).is_err());
        assert!(check_media_label(&label("x\u{1b}[2J")).is_err());
        assert!(check_set_label(&set_label("default")).is_ok());
        assert!(check_set_label(&set_label("../pool")).is_err());
        assert!(check_set_label(&set_label(&"p".repeat(65))).is_err());
    }
}
