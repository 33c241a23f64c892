//! A tape the job needs is not online: "please insert LABEL", waiting per
//! `--wait` (tapes put into the import/export slots are imported), failing
//! at once with `--no-wait`, and naming the tapes when the wait runs out.
//! In-memory cartridges; the wait polls every millisecond.

mod common;

use std::time::Duration;

use ptape::backup::{run_backup, BackupOptions};
use ptape::catalog::Catalog;
use ptape::devices::MemoryDevices;
use ptape::lock::WaitPolicy;
use ptape::media_request::{Need, TapeRequest, WaitForTapes};
use ptape::restore::{run_restore, RestoreError, RestoreOptions};
use ptape::writer::{WriterError, WriterEvents};

/// Records the requests and notes.
#[derive(Default)]
struct Recorder {
    requests: Vec<TapeRequest>,
    notes: Vec<String>,
}

impl WriterEvents for Recorder {
    fn tape_needed(&mut self, request: &TapeRequest) {
        self.notes.push(request.message());
        self.requests.push(request.clone());
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
}

fn wait(policy: WaitPolicy) -> WaitForTapes {
    WaitForTapes {
        policy,
        interval: Duration::from_millis(1),
    }
}

fn options(src: &std::path::Path, id: &str, policy: WaitPolicy) -> BackupOptions {
    let mut o = BackupOptions::new("default", vec![src.to_path_buf()]);
    o.id = Some(id.into());
    o.wait = wait(policy);
    o
}

/// Moves a cartridge from the library into its import/export slot.
fn to_mailbox(devices: &mut MemoryDevices, label: &str) {
    let tape = devices.cartridges.remove(label).unwrap();
    devices.mailbox.insert(label.to_string(), tape);
}

#[test]
fn appending_asks_for_the_set_tape_and_waits_for_the_mail_slot() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 512 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 2, u64::MAX);
    let first = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "one", WaitPolicy::NoWait),
        &mut Recorder::default(),
    )
    .unwrap();
    assert_eq!(first.tapes, ["PT0001L9"]);

    // The operator took the set's tape out: --no-wait fails at once, names
    // it, and moves nothing (not even from the mail slot).
    to_mailbox(&mut devices, "PT0001L9");
    let mut events = Recorder::default();
    let err = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "two", WaitPolicy::NoWait),
        &mut events,
    )
    .unwrap_err();
    let text = format!("{err}");
    assert!(
        text.contains("PT0001L9") && text.contains("not online") && text.contains("--wait"),
        "{text}"
    );
    assert_eq!(events.requests.len(), 1);
    let request = &events.requests[0];
    assert_eq!(request.labels, ["PT0001L9"]);
    assert_eq!(request.changer.as_deref(), Some("memory"));
    assert!(
        events
            .notes
            .iter()
            .any(|n| n.starts_with("please insert PT0001L9 into changer 'memory'")),
        "{:?}",
        events.notes
    );
    assert!(devices.mailbox.contains_key("PT0001L9"));
    assert_eq!(cat.snapshots(None).unwrap().len(), 1);
    // The other blank tape was not used instead: the set's tape is needed.
    assert!(cat.media_by_label("PT0002L9").unwrap().is_none());

    // With --wait the tape is taken from the mail slot and appended to.
    let mut events = Recorder::default();
    let second = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "two", WaitPolicy::seconds(30)),
        &mut events,
    )
    .unwrap();
    assert_eq!(second.tapes, ["PT0001L9"]);
    assert_eq!(second.media_set, first.media_set);
    assert!(devices.mailbox.is_empty());
    assert_eq!(events.requests.len(), 1);
    assert_eq!(cat.snapshots(None).unwrap().len(), 2);
}

#[test]
fn a_wait_that_runs_out_names_the_missing_tape_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 256 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 1, u64::MAX);
    run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "one", WaitPolicy::NoWait),
        &mut Recorder::default(),
    )
    .unwrap();
    // Gone altogether (on a shelf).
    let shelf = devices.cartridges.remove("PT0001L9").unwrap();
    let err = run_backup(
        &mut devices,
        &mut cat,
        &options(
            &src,
            "two",
            WaitPolicy::Wait(Some(Duration::from_millis(20))),
        ),
        &mut Recorder::default(),
    )
    .unwrap_err();
    let text = format!("{err}");
    assert!(
        text.contains("PT0001L9") && text.contains("gave up after waiting"),
        "{text}"
    );
    let ptape::backup::BackupError::Writer(WriterError::TapeNotInserted(request)) = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(request.missing(), ["PT0001L9"]);
    assert_eq!(cat.snapshots(None).unwrap().len(), 1);
    // Nothing was written to the tape meanwhile.
    devices.cartridges.insert("PT0001L9".into(), shelf);
}

#[test]
fn restore_asks_for_every_missing_tape_at_once_and_waits() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 512 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 1, u64::MAX);
    let backup = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "one", WaitPolicy::NoWait),
        &mut Recorder::default(),
    )
    .unwrap();
    to_mailbox(&mut devices, "PT0001L9");
    let out = dir.path().join("out");
    let mut events = Recorder::default();
    let err = run_restore(
        &mut devices,
        &cat,
        &RestoreOptions::new(&backup.snapshot, &out),
        &mut events,
    )
    .unwrap_err();
    assert!(
        matches!(&err, RestoreError::MediaOffline { labels } if labels == &["PT0001L9"]),
        "{err}"
    );
    assert_eq!(events.requests[0].need, Need::All);
    assert!(events.requests[0].reason.contains(&backup.snapshot));

    let mut options = RestoreOptions::new(&backup.snapshot, &out);
    options.wait = wait(WaitPolicy::FOREVER);
    let result = run_restore(&mut devices, &cat, &options, &mut Recorder::default()).unwrap();
    assert_eq!(result.tapes, ["PT0001L9"]);
    assert!(devices.mailbox.is_empty());
    assert!(result.files > 0);
}

#[test]
fn list_media_without_a_file_index_lists_the_set_up_to_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 256 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 1, u64::MAX);
    let backup = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "one", WaitPolicy::NoWait),
        &mut Recorder::default(),
    )
    .unwrap();
    let needed = ptape::restore::media_needed(&cat, &backup.snapshot).unwrap();
    assert!(!needed.exact);
    assert_eq!(needed.tapes.len(), 1);
    assert_eq!(needed.tapes[0].label, "PT0001L9");
    assert!(needed.tapes[0].snapshot_archive);
    assert!(needed.offline.is_empty());
    assert!(matches!(
        ptape::restore::media_needed(&cat, "default/nope/1"),
        Err(RestoreError::UnknownSnapshot(_))
    ));
}

#[test]
fn export_with_fewer_free_mail_slots_than_members_exports_what_fits() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 3 * 1024 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    // Small tapes: the set spans three.
    let mut devices = MemoryDevices::blank("PT", 4, 1024 * 1024);
    devices.mailbox_slots = 2;
    let mut o = options(&src, "one", WaitPolicy::NoWait);
    o.chunker = ptape::chunking::ChunkerConfig {
        min: 16 * 1024,
        avg: 64 * 1024,
        max: 256 * 1024,
    };
    o.format = pbs_tape::format::WriterConfig {
        block_size: 64 * 1024,
        archive_cap: 256 * 1024,
        commit_interval: 512 * 1024,
    };
    let backup = run_backup(&mut devices, &mut cat, &o, &mut Recorder::default()).unwrap();
    assert!(backup.tapes.len() >= 3, "{:?}", backup.tapes);
    let now = ptape::pool::Moment::utc(i64::MAX / 4);
    let export =
        ptape::pool::export_media_set(&cat, &mut devices, &backup.media_set.to_string(), &now)
            .unwrap();
    let exported: Vec<&str> = export.exported.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(exported, backup.tapes[..2]);
    let rest: Vec<&str> = export
        .not_exported
        .iter()
        .map(|t| t.label.as_str())
        .collect();
    assert_eq!(rest, backup.tapes[2..]);
    assert!(export.not_exported[0]
        .reason
        .contains("no free import/export slot"));
    for label in &backup.tapes[..2] {
        assert!(devices.mailbox.contains_key(label));
        let m = cat.media_by_label(label).unwrap().unwrap();
        assert_eq!(m.location, ptape::catalog::MediaLocation::Offline);
    }
    let m = cat.media_by_label(&backup.tapes[2]).unwrap().unwrap();
    assert_eq!(m.location, ptape::catalog::MediaLocation::Online);
    // The operator empties the mail slots; exporting again takes the rest
    // (the ones gone are not in the library any more).
    devices.mailbox.clear();
    let again =
        ptape::pool::export_media_set(&cat, &mut devices, &backup.media_set.to_string(), &now)
            .unwrap();
    let exported: Vec<&str> = again.exported.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(exported, backup.tapes[2..]);
    assert_eq!(again.not_exported.len(), 2);
    assert!(again.not_exported[0].reason.contains("not in the library"));
}

/// Asks to stop after `after` looks (a scheduled job's SIGTERM while it
/// waits for a tape).
#[derive(Default)]
struct StopWhileWaiting {
    after: u32,
    looks: u32,
    requests: u32,
}

impl WriterEvents for StopWhileWaiting {
    fn tape_needed(&mut self, _request: &TapeRequest) {
        self.requests += 1;
    }
    fn stop_requested(&mut self) -> bool {
        self.looks += 1;
        self.looks > self.after
    }
}

#[test]
fn a_stop_request_ends_a_wait_without_limit_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 256 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut devices = MemoryDevices::blank("PT", 1, u64::MAX);
    run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "one", WaitPolicy::NoWait),
        &mut Recorder::default(),
    )
    .unwrap();
    let shelf = devices.cartridges.remove("PT0001L9").unwrap();
    let mut events = StopWhileWaiting {
        after: 3,
        ..StopWhileWaiting::default()
    };
    let err = run_backup(
        &mut devices,
        &mut cat,
        &options(&src, "two", WaitPolicy::FOREVER),
        &mut events,
    )
    .unwrap_err();
    let text = format!("{err}");
    assert!(
        text.contains("stopped while waiting for PT0001L9"),
        "{text}"
    );
    assert_eq!(events.requests, 1, "asked once");
    assert_eq!(
        events.looks, 4,
        "stopped at the first look after the request"
    );
    let ptape::backup::BackupError::Writer(WriterError::TapeNotInserted(request)) = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(request.missing(), ["PT0001L9"]);
    assert_eq!(cat.snapshots(None).unwrap().len(), 1);
    devices.cartridges.insert("PT0001L9".into(), shelf);
}
