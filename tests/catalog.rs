//! Media catalog: migrations, archive commits, chunk sets, export/import.

use ptape::catalog::export::TapeCatalog;
use ptape::catalog::schema::{self, SCHEMA_VERSION};
use ptape::catalog::*;
use uuid::Uuid;

fn pool(name: &str) -> PoolRecord {
    PoolRecord {
        name: name.into(),
        allocation: Allocation::Continue,
        retention: "30d".parse().unwrap(),
        template: None,
        comment: None,
        encrypt: None,
        created: 1_700_000_000,
    }
}

fn media(label: &str, pool: &str) -> MediaRecord {
    MediaRecord {
        uuid: Uuid::new_v4(),
        label: label.into(),
        pool: Some(pool.into()),
        media_set: None,
        seq_nr: None,
        status: MediaStatus::Writable,
        location: MediaLocation::Online,
        location_name: Some("lib".into()),
        bytes_used: 0,
        labelled: 1_700_000_000,
    }
}

fn set(pool: &str) -> MediaSetRecord {
    MediaSetRecord {
        uuid: Uuid::new_v4(),
        pool: pool.into(),
        created: 1_700_000_100,
        status: MediaSetStatus::Writable,
        closed: None,
        last_write: None,
        encrypt: None,
    }
}

fn chunk_archive(media: Uuid, file_number: u64, digests: &[[u8; 32]]) -> ArchiveCommit {
    ArchiveCommit {
        archive: ArchiveRecord {
            uuid: Uuid::new_v4(),
            media,
            file_number,
            content: ContentType::Chunks,
            first_object: 0,
            last_object: digests.len().saturating_sub(1) as u64,
            complete: true,
            entries: digests.len() as u64,
            bytes: 1000,
        },
        chunks: digests.to_vec(),
        positions: Vec::new(),
        snapshot: None,
    }
}

/// A catalog with pool "p", one media set and one tape in it.
fn setup() -> (Catalog, MediaRecord, MediaSetRecord) {
    let cat = Catalog::open_in_memory().unwrap();
    cat.insert_pool(&pool("p")).unwrap();
    let m = media("PT0001L9", "p");
    cat.insert_media(&m).unwrap();
    let s = set("p");
    cat.insert_media_set(&s).unwrap();
    cat.assign_media_to_set(m.uuid, &s, 0).unwrap();
    let m = cat.media_by_uuid(m.uuid).unwrap().unwrap();
    (cat, m, s)
}

#[test]
fn new_database_is_current_in_wal_mode_with_default_pool() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(&dir.path().join("sub/catalog.db")).unwrap();
    assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = cat
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let pools = cat.pools().unwrap();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].name, "default");
    assert_eq!(pools[0].allocation, Allocation::Continue);
}

#[test]
fn version_1_database_upgrades_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        assert_eq!(schema::schema_version(&conn).unwrap(), 1);
        // A v1 snapshot row has no statistics columns yet.
        conn.execute_batch(
            "INSERT INTO media_sets VALUES ('6f1f7f6e-0000-4000-8000-000000000001', 'default', 5, 'writable');
             INSERT INTO media (uuid, label, pool, media_set, seq_nr, status, location, bytes_used, labelled)
               VALUES ('6f1f7f6e-0000-4000-8000-000000000002', 'OLD001L9', 'default',
                       '6f1f7f6e-0000-4000-8000-000000000001', 0, 'writable', 'online', 10, 5);
             INSERT INTO archives VALUES ('6f1f7f6e-0000-4000-8000-000000000003',
                       '6f1f7f6e-0000-4000-8000-000000000002', 2, 'snapshot', 0, 0, 1, 1, 10);
             INSERT INTO snapshots VALUES ('default/h/t', 'default', 5,
                       '6f1f7f6e-0000-4000-8000-000000000001', '6f1f7f6e-0000-4000-8000-000000000002',
                       2, '6f1f7f6e-0000-4000-8000-000000000003');",
        )
        .unwrap();
        let has_entries: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_table_info('snapshots') WHERE name = 'entries')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_entries);
    }
    let cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    let snaps = cat.snapshots(None).unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].name, "default/h/t");
    assert_eq!(snaps[0].entries, 0);
    assert_eq!(
        cat.media_by_label("OLD001L9").unwrap().unwrap().bytes_used,
        10
    );
}

#[test]
fn newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    assert!(matches!(
        Catalog::open(&path),
        Err(CatalogError::TooNew { .. })
    ));
}

#[test]
fn commit_archive_records_chunks_snapshot_and_bytes() {
    let (mut cat, m, s) = setup();
    let d1 = [1u8; 32];
    let d2 = [2u8; 32];
    cat.commit_archive(&chunk_archive(m.uuid, 1, &[d1, d2]))
        .unwrap();
    let snap_archive = Uuid::new_v4();
    let mut commit = chunk_archive(m.uuid, 2, &[]);
    commit.archive.uuid = snap_archive;
    commit.archive.content = ContentType::Snapshot;
    commit.snapshot = Some(SnapshotRecord {
        name: "p/host/2026-11-25T12:00:00Z".into(),
        pool: "p".into(),
        time: 1_700_000_200,
        media_set: s.uuid,
        media: m.uuid,
        file_number: 2,
        archive: snap_archive,
        entries: 7,
        total_bytes: 12345,
    });
    cat.commit_archive(&commit).unwrap();

    let digests = cat.media_set_digests(s.uuid).unwrap();
    assert_eq!(digests, [d1, d2].into_iter().collect());
    assert!(cat.media_set_digests(Uuid::new_v4()).unwrap().is_empty());
    assert_eq!(cat.chunks_of_archive(m.uuid, 1).unwrap(), vec![d1, d2]);
    let loc = cat.chunk_locations(&d2, Some(s.uuid)).unwrap();
    assert_eq!(loc.len(), 1);
    assert_eq!((loc[0].media, loc[0].file_number), (m.uuid, 1));
    assert_eq!(cat.media_by_uuid(m.uuid).unwrap().unwrap().bytes_used, 2000);
    let snap = cat
        .snapshot("p/host/2026-11-25T12:00:00Z")
        .unwrap()
        .unwrap();
    assert_eq!(
        (snap.entries, snap.total_bytes, snap.file_number),
        (7, 12345, 2)
    );
    let archives = cat.archives_of_media(m.uuid).unwrap();
    assert_eq!(archives.len(), 2);
    assert!(archives.iter().all(|a| a.complete));
}

#[test]
fn failed_commit_leaves_no_rows() {
    let (mut cat, m, s) = setup();
    cat.commit_archive(&chunk_archive(m.uuid, 1, &[[1u8; 32]]))
        .unwrap();
    // Same file number again: the archive insert fails, and so must the
    // chunk rows of the same transaction.
    let err = cat.commit_archive(&chunk_archive(m.uuid, 1, &[[9u8; 32]]));
    assert!(err.is_err());
    assert!(!cat.media_set_digests(s.uuid).unwrap().contains(&[9u8; 32]));
    // Unknown media: nothing is inserted either.
    assert!(cat
        .commit_archive(&chunk_archive(Uuid::new_v4(), 1, &[[8u8; 32]]))
        .is_err());
    let n: i64 = cat
        .connection()
        .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn export_then_import_into_an_empty_catalog_restores_rows() {
    let (mut cat, m, s) = setup();
    cat.commit_archive(&chunk_archive(m.uuid, 1, &[[1u8; 32], [3u8; 32]]))
        .unwrap();
    let payload = cat.export_tape(m.uuid).unwrap().encode().unwrap();

    let mut fresh = Catalog::open_in_memory().unwrap();
    let tape = TapeCatalog::decode(&payload).unwrap();
    assert_eq!(fresh.import_tape(&tape).unwrap(), 1);
    assert_eq!(fresh.import_tape(&tape).unwrap(), 0, "import is idempotent");
    assert_eq!(
        fresh.media_set_digests(s.uuid).unwrap(),
        cat.media_set_digests(s.uuid).unwrap()
    );
    let back = fresh.media_by_label("PT0001L9").unwrap().unwrap();
    assert_eq!(back.uuid, m.uuid);
    assert_eq!(back.media_set, Some(s.uuid));
    assert_eq!(back.bytes_used, 1000);
    assert_eq!(fresh.pool("p").unwrap().unwrap(), pool("p"));
    assert!(matches!(
        TapeCatalog::decode(br#"{"version": 99}"#),
        Err(CatalogError::PayloadVersion(99))
    ));
}

#[test]
fn writable_media_set_and_closing() {
    let (cat, m, s) = setup();
    assert_eq!(cat.writable_media_set("p").unwrap().unwrap().uuid, s.uuid);
    assert_eq!(cat.media_of_set(s.uuid).unwrap()[0].uuid, m.uuid);
    cat.close_media_set(s.uuid, 1_700_000_500).unwrap();
    assert!(cat.writable_media_set("p").unwrap().is_none());
    // Its writable tape is full; closing again keeps the first close time.
    assert_eq!(
        cat.media_of_set(s.uuid).unwrap()[0].status,
        MediaStatus::Full
    );
    cat.close_media_set(s.uuid, 1_700_000_900).unwrap();
    assert_eq!(
        cat.media_set(s.uuid).unwrap().unwrap().closed,
        Some(1_700_000_500)
    );
    assert!(matches!(
        cat.insert_pool(&pool("p")),
        Err(CatalogError::PoolExists(_))
    ));
    assert!(matches!(
        cat.insert_media(&media("X", "nope")),
        Err(CatalogError::UnknownPool(_))
    ));
}

#[test]
fn media_locations_follow_the_changer_inventory() {
    let (cat, m, _) = setup();
    let other = media("PT0002L9", "p");
    cat.insert_media(&other).unwrap();
    cat.set_media_location(other.uuid, MediaLocation::Vault, Some("offsite"))
        .unwrap();
    let third = media("PT0003L9", "p");
    cat.insert_media(&third).unwrap();
    cat.set_media_location(third.uuid, MediaLocation::Online, Some("lib2"))
        .unwrap();
    // lib is empty: its tape goes offline; the vaulted one and the one in
    // another changer stay where they are.
    assert_eq!(cat.sync_media_locations("lib", &[]).unwrap(), ["PT0001L9"]);
    let get = |uuid| cat.media_by_uuid(uuid).unwrap().unwrap();
    assert_eq!(get(m.uuid).location, MediaLocation::Offline);
    assert_eq!(get(m.uuid).location_name, None);
    assert_eq!(get(other.uuid).location_text(), "vault (offsite)");
    assert_eq!(get(third.uuid).location_text(), "online (lib2)");
    // Seen in lib: online there, even the one that was in the vault.
    cat.sync_media_locations("lib", &["PT0001L9".into(), "PT0002L9".into()])
        .unwrap();
    assert_eq!(get(m.uuid).location_text(), "online (lib)");
    assert_eq!(get(other.uuid).location_text(), "online (lib)");
    assert_eq!(get(third.uuid).location_text(), "online (lib2)");
    assert_eq!(cat.forget_changer_locations("lib2").unwrap(), ["PT0003L9"]);
    assert_eq!(get(third.uuid).location, MediaLocation::Offline);
}
