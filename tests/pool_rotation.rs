//! Pool rotation over simulated months with an injected clock (no
//! sleeps): daily sets kept 3 days, weekly + yearly pools side by side,
//! and a vaulted tape that is never chosen. Each backup runs the real
//! writer on in-memory cartridges; the invariant checked at every step is
//! the issue's: a tape of a set is reused only after that set expired
//! (closed for the retention span), never earlier.

mod common;

use std::collections::HashMap;
use std::path::Path;

use jiff::tz::TimeZone;
use ptape::backup::{run_backup, BackupOptions};
use ptape::catalog::{Catalog, MediaLocation};
use ptape::devices::MemoryDevices;
use ptape::pool::media_set::{MediaSetInfo, SetStatus};
use ptape::pool::{self, Moment, PoolSettings};
use ptape::schedule::Clock;
use ptape::writer::NoEvents;
use uuid::Uuid;

const DAY: i64 = 86_400;

fn epoch(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_second()
}

fn moment(t: i64) -> Moment {
    // The writer matches calendar events in the system time zone.
    Moment::new(t, TimeZone::system())
}

fn make_pool(cat: &Catalog, name: &str, allocation: &str, retention: &str) {
    pool::create_pool(
        cat,
        name,
        PoolSettings {
            allocation: allocation.parse().unwrap(),
            retention: retention.parse().unwrap(),
            ..PoolSettings::default()
        },
        0,
    )
    .unwrap();
}

/// The pools' sets at `t`, by UUID.
fn sets_at(cat: &Catalog, t: i64) -> HashMap<Uuid, MediaSetInfo> {
    pool::media_set_infos(cat, None, &moment(t))
        .unwrap()
        .into_iter()
        .map(|i| (i.uuid, i))
        .collect()
}

/// One backup of `pool` at time `t`; checks that every tape it wrote that
/// belonged to another set before belonged to an expired set of the same
/// pool. Returns the tapes written and, for each reused one, the start
/// time of the set it came from.
fn backup_at(
    cat: &mut Catalog,
    devices: &mut MemoryDevices,
    src: &Path,
    pool_name: &str,
    t: i64,
) -> (Vec<String>, Vec<i64>) {
    let before = sets_at(cat, t);
    let owner: HashMap<String, Uuid> = before
        .values()
        .flat_map(|s| s.members.iter().map(|m| (m.clone(), s.uuid)))
        .collect();
    let mut o = BackupOptions::new(pool_name, vec![src.to_path_buf()]);
    o.id = Some("host".into());
    o.clock = Clock::fixed_epoch(t);
    let result = run_backup(&mut *devices, cat, &o, &mut NoEvents)
        .unwrap_or_else(|e| panic!("backup of {pool_name} at {t}: {e}"));
    let mut reused = Vec::new();
    for label in &result.tapes {
        let Some(old) = owner.get(label) else {
            continue;
        };
        if *old == result.media_set {
            continue;
        }
        let old = &before[old];
        assert_eq!(old.pool, pool_name, "{label} came from another pool");
        assert_eq!(
            old.status,
            SetStatus::Expired,
            "{label} of set {} reused at {t} before it expired ({:?})",
            old.name,
            old.expires
        );
        assert!(old.expires.is_some_and(|e| e <= t));
        reused.push(old.start_time);
    }
    (result.tapes, reused)
}

#[test]
fn a_month_of_daily_backups_reuses_a_set_only_after_three_days_closed() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    make_pool(&cat, "daily", "daily", "3d");
    let mut devices = MemoryDevices::blank("DY", 12, u64::MAX);
    let start = epoch("2026-03-01T22:00:00Z");
    let mut reused = 0;
    let mut used = std::collections::BTreeSet::new();
    for day in 0..31 {
        let t = start + day * DAY;
        let (tapes, r) = backup_at(&mut cat, &mut devices, &src, "daily", t);
        // Independent of the library's arithmetic: a set started at 22:00
        // closes at the next midnight (local time, within a day) and
        // expires 3 days later, so the first backup that may reuse it is
        // the one 4 days after its start; counting from the start would
        // reuse it after 3.
        for start in &r {
            assert_eq!(t - start, 4 * DAY, "set of {start} reused at {t}");
        }
        reused += r.len();
        used.extend(tapes);
        // Every set that is not expired still has its tapes: closed sets
        // are counted from their close, never from their start.
        for set in sets_at(&cat, t).values() {
            if let Some(closed) = set.closed.filter(|c| *c <= t) {
                assert_eq!(set.expires, Some(closed + 3 * DAY), "{}", set.name);
            }
            if set.status != SetStatus::Expired {
                assert!(
                    !set.members.is_empty(),
                    "live set {} lost its tapes",
                    set.name
                );
            }
        }
    }
    // One new set a day; a set closes at the next midnight and expires
    // three days later: five tapes rotate, the rest stay blank.
    assert!(reused >= 20, "only {reused} reuses");
    assert!(used.len() <= 6, "{used:?}");
    // Reusing a tape forgets its expired set with its snapshots: what is
    // left is today's set and the three closed ones within retention.
    let live = sets_at(&cat, start + 30 * DAY)
        .values()
        .filter(|s| s.status != SetStatus::Expired)
        .count();
    assert_eq!(live, 4);
    assert_eq!(cat.snapshots(None).unwrap().len(), 4);
}

#[test]
fn weekly_and_yearly_pools_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    make_pool(&cat, "weekly", "mon", "3 weeks");
    make_pool(&cat, "yearly", "yearly", "keep");
    let mut devices = MemoryDevices::blank("WY", 16, u64::MAX);
    // Monday 2026-01-05 21:00 UTC, daily to the weekly pool for 15 weeks;
    // every Sunday also to the yearly pool.
    let start = epoch("2026-01-05T21:00:00Z");
    let mut yearly_tapes = std::collections::BTreeSet::new();
    let mut weekly_tapes = std::collections::BTreeSet::new();
    let mut weekly_reused = 0;
    for day in 0..15 * 7 {
        let t = start + day * DAY;
        let (tapes, r) = backup_at(&mut cat, &mut devices, &src, "weekly", t);
        // A weekly set (Monday to Sunday) closes at the next Monday 00:00
        // and is kept 3 weeks: reused no earlier than 4 weeks after it
        // started.
        for start in &r {
            assert!(
                t - start >= 4 * 7 * DAY - DAY,
                "set of {start} reused at {t}"
            );
        }
        weekly_reused += r.len();
        weekly_tapes.extend(tapes);
        if day % 7 == 6 {
            let (tapes, r) = backup_at(&mut cat, &mut devices, &src, "yearly", t + 3600);
            assert!(r.is_empty(), "a yearly (keep) tape was reused");
            yearly_tapes.extend(tapes);
        }
    }
    // The pools never share a tape; the yearly pool appended to one set all
    // year (allocation yearly), kept forever.
    assert!(weekly_tapes.is_disjoint(&yearly_tapes));
    let now = start + 15 * 7 * DAY;
    let yearly: Vec<MediaSetInfo> = pool::media_set_infos(&cat, Some("yearly"), &moment(now))
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(yearly.len(), 1);
    assert_ne!(yearly[0].status, SetStatus::Expired);
    // Weekly sets (new each Monday) expire three weeks after they close:
    // about four rotate.
    assert!(weekly_reused >= 8, "only {weekly_reused} reuses");
    assert!(weekly_tapes.len() <= 5, "{weekly_tapes:?}");
}

#[test]
fn a_vaulted_tape_is_never_chosen_nor_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    make_pool(&cat, "p", "always", "overwrite");
    let mut devices = MemoryDevices::blank("VT", 2, u64::MAX);
    let t0 = epoch("2026-02-01T12:00:00Z");
    let (first, _) = backup_at(&mut cat, &mut devices, &src, "p", t0);
    assert_eq!(first, ["VT0001L9"]);
    // Off to the vault: out of the library, then moved in the catalog.
    let shelf = devices.cartridges.remove("VT0001L9").unwrap();
    let (second, _) = backup_at(&mut cat, &mut devices, &src, "p", t0 + DAY);
    assert_eq!(second, ["VT0002L9"]);
    pool::media::move_media(
        &cat,
        "VT0001L9",
        &pool::media::Destination::Vault("offsite".into()),
    )
    .unwrap();
    // Its set expired and is the oldest, so it would come first; in the
    // vault it is never chosen: the other expired tape (allocation always,
    // retention overwrite: expired when its job ended) is reused instead.
    let (third, reused) = backup_at(&mut cat, &mut devices, &src, "p", t0 + 2 * DAY);
    assert_eq!(third, ["VT0002L9"]);
    assert_eq!(reused.len(), 1);
    let vaulted = cat.media_by_label("VT0001L9").unwrap().unwrap();
    assert_eq!(vaulted.location, MediaLocation::Vault);
    // With no tape in the library at all, the job fails asking for the
    // offline one, never for the vaulted one.
    let other = devices.cartridges.remove("VT0002L9").unwrap();
    let mut o = BackupOptions::new("p", vec![src.clone()]);
    o.clock = Clock::fixed_epoch(t0 + 3 * DAY);
    o.auto_label = false;
    let mut events = Recorder::default();
    let err = run_backup(&mut devices, &mut cat, &o, &mut events).unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("VT0001L9"), "{text}");
    assert!(
        events
            .needed
            .iter()
            .all(|l| !l.contains(&"VT0001L9".to_string())),
        "{:?}",
        events.needed
    );
    drop((shelf, other));
}

#[derive(Default)]
struct Recorder {
    needed: Vec<Vec<String>>,
}

impl ptape::writer::WriterEvents for Recorder {
    fn tape_needed(&mut self, request: &ptape::media_request::TapeRequest) {
        self.needed.push(request.labels.clone());
    }
}

/// While a restore reads an expired set (it holds the set's read lock),
/// its tapes are not offered for reuse and a backup takes another tape;
/// once the restore is done the set is reused. A second process is the
/// same to `flock` as a second open file description here.
#[test]
fn an_expired_set_that_a_restore_reads_is_not_reused() {
    use ptape::lock::{set_being_read, SetReadLock};
    use ptape::pool::Reach;
    use ptape::restore::{run_restore, RestoreOptions};

    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let catalog_path = dir.path().join("catalog.db");
    let mut cat = Catalog::open(&catalog_path).unwrap();
    make_pool(&cat, "p", "always", "overwrite");
    let mut devices = MemoryDevices::blank("RR", 3, u64::MAX);
    let t0 = epoch("2026-02-01T12:00:00Z");
    let (first, _) = backup_at(&mut cat, &mut devices, &src, "p", t0);
    assert_eq!(first, ["RR0001L9"]);
    let old_set = cat.media_by_label("RR0001L9").unwrap().unwrap().media_set;
    let old_set = old_set.unwrap();
    assert_eq!(sets_at(&cat, t0 + DAY)[&old_set].status, SetStatus::Expired);

    // A restore reads the expired set: the next backup takes a blank
    // cartridge instead of the (otherwise first) expired tape.
    let reading = SetReadLock::acquire(Some(&catalog_path), old_set).unwrap();
    let (second, reused) = backup_at(&mut cat, &mut devices, &src, "p", t0 + DAY);
    assert_eq!(second, ["RR0002L9"]);
    assert!(reused.is_empty());
    assert!(sets_at(&cat, t0 + DAY).contains_key(&old_set));
    assert!(!cat.snapshots(Some("p")).unwrap().is_empty());
    drop(reading);

    // The restore itself registers its set while it reads: seen by the
    // planner from the restore's own tape callback.
    let snapshot = cat
        .snapshots(Some("p"))
        .unwrap()
        .into_iter()
        .find(|s| s.media_set == old_set)
        .unwrap();
    struct Probe<'c> {
        catalog: &'c Catalog,
        locks: std::path::PathBuf,
        set: Uuid,
        seen: Vec<(bool, Vec<String>)>,
    }
    impl ptape::writer::WriterEvents for Probe<'_> {
        fn tape(&mut self, _label: &str, _seq: u32) {
            let plan = pool::plan_next_tape(
                self.catalog,
                "p",
                None,
                &Reach::Changer {
                    name: ptape::devices::MEMORY_CHANGER.into(),
                },
                &[],
                &moment(epoch("2026-02-01T12:00:00Z") + 2 * DAY),
            )
            .unwrap();
            let offered = plan
                .join
                .iter()
                .filter_map(|c| c.label().map(str::to_string))
                .collect();
            self.seen
                .push((set_being_read(&self.locks, self.set), offered));
        }
    }
    let mut probe = Probe {
        catalog: &cat,
        locks: dir.path().join("locks"),
        set: old_set,
        seen: Vec::new(),
    };
    let out = dir.path().join("out");
    run_restore(
        &mut devices,
        &cat,
        &RestoreOptions::new(&snapshot.name, &out),
        &mut probe,
    )
    .unwrap();
    assert!(!probe.seen.is_empty());
    for (busy, offered) in &probe.seen {
        assert!(busy, "the restore did not register its media set");
        assert!(
            !offered.iter().any(|l| l == "RR0001L9"),
            "the tape being read was offered for reuse: {offered:?}"
        );
    }
    assert!(!set_being_read(&dir.path().join("locks"), old_set));

    // Restore done: the oldest expired set is reused now.
    let (third, reused) = backup_at(&mut cat, &mut devices, &src, "p", t0 + 2 * DAY);
    assert_eq!(third, ["RR0001L9"]);
    assert_eq!(reused, [t0]);
    assert!(!sets_at(&cat, t0 + 2 * DAY).contains_key(&old_set));
}

#[derive(Default)]
struct Notes {
    notes: Vec<String>,
    needed: Vec<Vec<String>>,
}

impl ptape::writer::WriterEvents for Notes {
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
    fn tape_needed(&mut self, request: &ptape::media_request::TapeRequest) {
        self.notes.push(request.message());
        self.needed.push(request.labels.clone());
    }
}

/// The return from the vault: a vaulted tape makes the next backup start a
/// new set ("last member is in vault"); a tape brought back before its set
/// expired is never written, and once the set expired it is asked for,
/// imported from the mail slot and reused.
#[test]
fn a_tape_back_from_the_vault_is_reused_only_after_its_set_expired() {
    use ptape::lock::WaitPolicy;
    use ptape::media_request::WaitForTapes;
    use ptape::pool::media::{move_media, Destination};

    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let mut cat = Catalog::open_in_memory().unwrap();
    make_pool(&cat, "offsite", "continue", "1w");
    let mut devices = MemoryDevices::blank("OV", 2, u64::MAX);
    let t0 = epoch("2026-04-03T22:00:00Z");
    let run = |cat: &mut Catalog, devices: &mut MemoryDevices, t: i64, wait: WaitPolicy| {
        let mut o = BackupOptions::new("offsite", vec![src.clone()]);
        o.id = Some("host".into());
        o.clock = Clock::fixed_epoch(t);
        o.wait = WaitForTapes {
            policy: wait,
            interval: std::time::Duration::from_millis(1),
        };
        let mut events = Notes::default();
        let result = run_backup(&mut *devices, cat, &o, &mut events);
        (result, events)
    };
    let to_vault = |cat: &Catalog, devices: &mut MemoryDevices, label: &str| {
        // Exported (out of the library, offline), then recorded in the vault.
        let tape = devices.cartridges.remove(label).unwrap();
        let uuid = cat.media_by_label(label).unwrap().unwrap().uuid;
        cat.set_media_location(uuid, MediaLocation::Offline, None)
            .unwrap();
        move_media(cat, label, &Destination::Vault("offsite".into())).unwrap();
        tape
    };

    // Friday: the first set, its tape goes offsite.
    let (first, _) = run(&mut cat, &mut devices, t0, WaitPolicy::NoWait);
    let first = first.unwrap();
    assert_eq!(first.tapes, ["OV0001L9"]);
    let ov1 = to_vault(&cat, &mut devices, "OV0001L9");

    // Saturday: the set's writable tape is in the vault: a new set.
    let (second, events) = run(&mut cat, &mut devices, t0 + DAY, WaitPolicy::NoWait);
    let second = second.unwrap();
    assert_ne!(second.media_set, first.media_set);
    assert_eq!(second.tapes, ["OV0002L9"]);
    assert!(
        events
            .notes
            .iter()
            .any(|n| n == "new media set: last member is in vault 'offsite' (OV0001L9)"),
        "{:?}",
        events.notes
    );
    let sets = sets_at(&cat, t0 + DAY);
    assert_eq!(sets[&first.media_set].closed, Some(t0 + DAY));
    assert_eq!(sets[&first.media_set].expires, Some(t0 + 8 * DAY));
    let ov2 = to_vault(&cat, &mut devices, "OV0002L9");

    // OV0001L9 comes back early (recorded offline, put into the mail
    // slot): its set has not expired, so no backup takes it, with or
    // without waiting; it stays in the mail slot and keeps its set.
    move_media(&cat, "OV0001L9", &Destination::Offline).unwrap();
    devices.mailbox.insert("OV0001L9".into(), ov1);
    for (t, wait) in [
        (t0 + 2 * DAY, WaitPolicy::NoWait),
        (t0 + 8 * DAY - 60, WaitPolicy::seconds(30)),
    ] {
        let (result, events) = run(&mut cat, &mut devices, t, wait);
        assert!(result.is_err(), "a backup at {t} wrote");
        assert!(
            events.needed.iter().flatten().all(|l| l != "OV0001L9"),
            "asked for OV0001L9 before its set expired: {:?}",
            events.needed
        );
        assert!(devices.mailbox.contains_key("OV0001L9"));
        assert_eq!(sets_at(&cat, t)[&first.media_set].members, ["OV0001L9"]);
        assert!(cat.snapshot(&first.snapshot).unwrap().is_some());
    }

    // A week after its set closed it expired: without waiting the backup
    // asks for it; waiting, it is imported from the mail slot and reused.
    let t = t0 + 8 * DAY + 3600;
    assert_eq!(
        sets_at(&cat, t)[&first.media_set].status,
        SetStatus::Expired
    );
    let (result, events) = run(&mut cat, &mut devices, t, WaitPolicy::NoWait);
    assert!(result.is_err());
    assert_eq!(events.needed, [vec!["OV0001L9".to_string()]]);
    assert!(
        events
            .notes
            .iter()
            .any(|n| n.starts_with("please insert OV0001L9 into changer 'memory'")),
        "{:?}",
        events.notes
    );
    let (result, _) = run(&mut cat, &mut devices, t + 60, WaitPolicy::seconds(30));
    let third = result.unwrap();
    assert_eq!(third.tapes, ["OV0001L9"]);
    assert!(devices.mailbox.is_empty());
    assert!(cat.snapshot(&first.snapshot).unwrap().is_none());
    // The second set (closed by the third, still in the vault) is kept.
    assert!(cat.snapshot(&second.snapshot).unwrap().is_some());
    assert_eq!(
        cat.media_by_label("OV0002L9").unwrap().unwrap().location,
        MediaLocation::Vault
    );
    drop(ov2);
}

/// A restore that registers its set after the allocation chose one of its
/// tapes, but before the backup forgot the set: the backup's reuse lock
/// fails, the tape is skipped (unloaded, never written) and the next one
/// is taken. Simulated by devices that register a reader when the chosen
/// tape is loaded.
#[test]
fn a_restore_arriving_after_the_choice_still_keeps_its_set() {
    use ptape::devices::{DeviceError, TapeDevices};
    use ptape::lock::SetReadLock;

    struct RacingRestore {
        inner: MemoryDevices,
        catalog: std::path::PathBuf,
        target: Option<(String, Uuid)>,
        reader: Option<SetReadLock>,
    }
    impl TapeDevices for RacingRestore {
        type Tape = <MemoryDevices as TapeDevices>::Tape;
        fn online_labels(&mut self) -> Result<Vec<String>, DeviceError> {
            self.inner.online_labels()
        }
        fn can_autolabel(&self) -> bool {
            self.inner.can_autolabel()
        }
        fn drive_name(&self) -> String {
            self.inner.drive_name()
        }
        fn changer_name(&self) -> Option<String> {
            self.inner.changer_name()
        }
        fn load(&mut self, label: &str) -> Result<Self::Tape, DeviceError> {
            if let Some((tape, set)) = &self.target {
                if tape == label && self.reader.is_none() {
                    self.reader = Some(SetReadLock::acquire(Some(&self.catalog), *set).unwrap());
                }
            }
            self.inner.load(label)
        }
        fn unload(&mut self, tape: Self::Tape) -> Result<(), DeviceError> {
            self.inner.unload(tape)
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let src = common::make_tree(dir.path(), 64 * 1024);
    let catalog_path = dir.path().join("catalog.db");
    let mut cat = Catalog::open(&catalog_path).unwrap();
    make_pool(&cat, "p", "always", "overwrite");
    let mut devices = MemoryDevices::blank("RC", 2, u64::MAX);
    let t0 = epoch("2026-02-01T12:00:00Z");
    let (first, _) = backup_at(&mut cat, &mut devices, &src, "p", t0);
    assert_eq!(first, ["RC0001L9"]);
    let old_set = cat
        .media_by_label("RC0001L9")
        .unwrap()
        .unwrap()
        .media_set
        .unwrap();
    let mut racing = RacingRestore {
        inner: devices,
        catalog: catalog_path.clone(),
        target: Some(("RC0001L9".into(), old_set)),
        reader: None,
    };
    let mut o = BackupOptions::new("p", vec![src.clone()]);
    o.id = Some("host".into());
    o.clock = Clock::fixed_epoch(t0 + DAY);
    let mut notes = Notes::default();
    let result = run_backup(&mut racing, &mut cat, &o, &mut notes).unwrap();
    assert!(
        racing.reader.is_some(),
        "the expired tape was not chosen first"
    );
    assert_eq!(result.tapes, ["RC0002L9"]);
    assert!(
        notes
            .notes
            .iter()
            .any(|n| n
                == &format!("skipped RC0001L9: media set {old_set} is being read by a restore")),
        "{:?}",
        notes.notes
    );
    assert_eq!(sets_at(&cat, t0 + DAY)[&old_set].members, ["RC0001L9"]);
    assert_eq!(cat.snapshots(Some("p")).unwrap().len(), 2);
}
