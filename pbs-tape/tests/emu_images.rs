//! Damaged tape images kept under `tests/data/emulator/` (see its README):
//! a torn write is repaired on open, a corrupted block reads as a medium
//! error, never as end of data.

mod emu_util;

use std::path::{Path, PathBuf};

use emu_util::*;
use pbs_tape::emulator::image::{self, Record, TapeImage};
use pbs_tape::emulator::open_device;
use pbs_tape::scsi::SenseKey;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/emulator")
        .join(name)
}

/// Copy fixture `name` (payload and index) to `dest` (the `.tape` path).
fn copy_fixture(name: &str, dest: &Path) {
    std::fs::copy(fixture(&format!("{name}.tape")), dest).unwrap();
    std::fs::copy(
        fixture(&format!("{name}.tape.idx")),
        image::index_path(dest),
    )
    .unwrap();
}

#[test]
fn torn_write_is_cut_off_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("T.tape");
    copy_fixture("torn", &path);
    // Read-only summary already ignores the torn tail.
    assert_eq!(image::summarize(&path).unwrap().objects, 2);
    let mut img = TapeImage::open(&path).unwrap();
    assert_eq!(img.len(), 2);
    assert_eq!(img.record(1), Some(Record::Filemark));
    let mut buf = Vec::new();
    img.read_block(0, &mut buf).unwrap();
    assert_eq!(buf, b"hello tape");
    // Appending continues right after the consistent part.
    img.append_block(b"after repair", Default::default())
        .unwrap();
    drop(img);
    let mut img = TapeImage::open(&path).unwrap();
    assert_eq!(img.len(), 3);
    img.read_block(2, &mut buf).unwrap();
    assert_eq!(buf, b"after repair");
}

#[test]
fn corrupted_block_is_a_medium_error_through_the_drive() {
    let fx = Fixture::standalone(64 << 20, 8 << 20);
    copy_fixture("corrupt-middle", &fx.lib.tape_image_path("TAPE01L9"));
    let mut dev = open_device(&fx.drive_path()).unwrap();
    let _ = tur(&mut dev);
    rewind(&mut dev).unwrap();
    assert_eq!(read(&mut dev, 100).unwrap().len(), 64);
    assert_sense(read(&mut dev, 100), SenseKey::MediumError, 0x11, 0);
    // Unrecovered: the head stays at the bad block; the host may skip it.
    assert_eq!(position(&mut dev).0, 1);
    space6(&mut dev, 0, 1).unwrap();
    let last = read(&mut dev, 100).unwrap();
    assert_eq!(last.len(), 64);
    assert_eq!(last[1], 31 ^ 3);
}
