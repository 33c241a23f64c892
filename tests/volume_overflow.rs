//! VOLUME OVERFLOW (the physical end of the tape) in a chunk archive: the
//! chunks of the open archive are lost with it and the source cannot give
//! them again, so the job fails; but the tape is marked full, and the next
//! job goes on with another tape instead of running into the same end.

mod restore_util;
mod sweep_util;

use ptape::catalog::MediaStatus;
use sweep_util::{error_chain, Lab, Setup};

const KIB: u64 = 1024;

#[test]
fn a_tape_that_hit_volume_overflow_is_full_and_the_next_job_moves_on() {
    // Early warning 4 KiB before the end: the next 64 KiB block after it
    // runs into the end of the tape.
    let setup = Setup {
        tapes: 3,
        early_warning: 4 * KIB,
        capacity: 1024 * KIB,
        ..Setup::single_tape()
    };
    let mut lab = Lab::new(setup);
    let err = lab.backup("host").unwrap_err();
    let text = error_chain(&err);
    assert!(text.contains("VOLUME OVERFLOW"), "{text}");
    let first = lab.catalog.media_by_label("SW0001L9").unwrap().unwrap();
    assert_eq!(first.status, MediaStatus::Full);
    assert!(lab.snapshot_names().is_empty());

    // The next job does not touch the full tape: it joins the next one to
    // the set (and may run into that one's end too).
    let image = lab.lib.tape_image_path("SW0001L9");
    let before = std::fs::read(&image).unwrap();
    let _ = lab.backup("host");
    assert_eq!(
        std::fs::read(&image).unwrap(),
        before,
        "SW0001L9 was written again"
    );
    let second = lab.catalog.media_by_label("SW0002L9").unwrap().unwrap();
    assert_eq!(second.media_set, first.media_set);
    assert_eq!(second.seq_nr, Some(1));
}
