//! Snapshot names never collide: two backups of one pool and id started
//! in the same second both succeed, one after the other and while the
//! first still runs (its name is reserved beside the catalog).

mod restore_util;
mod sweep_util;

use ptape::backup::{parse_snapshot_name, reserve_snapshot_name};
use ptape::restore::{run_restore, RestoreOptions};
use ptape::schedule::Clock;
use ptape::writer::NoEvents;
use restore_util::assert_same_tree;
use sweep_util::{Lab, Setup};

const T0: i64 = 1_795_608_000; // 2026-11-25T12:00:00Z

#[test]
fn two_backups_in_the_same_second_both_succeed() {
    let mut lab = Lab::new(Setup::single_tape());
    let clock = Clock::Fixed(jiff::Timestamp::from_second(T0).unwrap());
    let mut names = Vec::new();
    for _ in 0..3 {
        let mut options = lab.options("host");
        options.clock = clock;
        let r = ptape::backup::run_backup(lab.devices(), &mut lab.catalog, &options, &mut NoEvents)
            .unwrap();
        names.push(r.snapshot);
    }
    assert_eq!(
        names,
        [
            "default/host/2026-11-25T12:00:00Z",
            "default/host/2026-11-25T12:00:01Z",
            "default/host/2026-11-25T12:00:02Z",
        ]
    );
    for (i, name) in names.iter().enumerate() {
        let row = lab.catalog.snapshot(name).unwrap().unwrap();
        assert_eq!(row.time, T0 + i as i64);
        assert_eq!(parse_snapshot_name(name).unwrap().2, row.time);
        let out = lab.tmp.path().join(format!("out{i}"));
        run_restore(
            lab.devices(),
            &lab.catalog,
            &RestoreOptions::new(name, &out),
            &mut NoEvents,
        )
        .unwrap();
        assert_same_tree(&lab.src, &out.join(lab.src.file_name().unwrap()));
    }
}

#[test]
fn a_running_job_reserves_its_name() {
    let lab = Lab::new(Setup::single_tape());
    let (first, t1, held) = reserve_snapshot_name(&lab.catalog, "default", "host", T0).unwrap();
    // A second job started in the same second, while the first runs.
    let (second, t2, other) = reserve_snapshot_name(&lab.catalog, "default", "host", T0).unwrap();
    assert_eq!(first, "default/host/2026-11-25T12:00:00Z");
    assert_eq!(second, "default/host/2026-11-25T12:00:01Z");
    assert_eq!((t1, t2), (T0, T0 + 1));
    // Another id or pool is not affected.
    let (third, _, _keep) = reserve_snapshot_name(&lab.catalog, "default", "web", T0).unwrap();
    assert_eq!(third, "default/web/2026-11-25T12:00:00Z");
    // A job that ends without a snapshot frees its name.
    drop(held);
    let (again, _, _r) = reserve_snapshot_name(&lab.catalog, "default", "host", T0).unwrap();
    assert_eq!(again, first);
    other.committed();
}
