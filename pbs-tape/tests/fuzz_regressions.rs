//! Inputs the fuzzers (`fuzz/`) found, kept as regression tests.

mod emu_util;

use emu_util::*;
use pbs_tape::emulator::open_device;
use pbs_tape::scsi::{DataDirection, ScsiTransport};

/// fuzz target `emulator_cdb`: a command without data phase given a buffer
/// reported `residual == 0` although nothing of the buffer was moved
/// (`transferred + residual` must be the buffer length, as with SG_IO).
#[test]
fn no_data_command_with_buffer_reports_full_residual() {
    let f = Fixture::with_config(pbs_tape::emulator::state::LibraryConfig::default());
    let mut changer = open_device(&f.lib.changer_device_path()).unwrap();
    // Opened past the unit attention of the freshly loaded cartridge.
    let mut drive = f.open();
    // PREVENT ALLOW MEDIUM REMOVAL (the crash input) with one data-out byte.
    let done = changer
        .execute(&[0x1e, 0, 0, 0, 0, 0], DataDirection::ToDevice(&[0xae]), T)
        .unwrap();
    assert_eq!((done.transferred, done.residual), (0, 1));
    // TEST UNIT READY with a data-in buffer.
    let mut buf = [0u8; 4];
    let done = drive
        .execute(&[0, 0, 0, 0, 0, 0], DataDirection::FromDevice(&mut buf), T)
        .unwrap();
    assert_eq!((done.transferred, done.residual), (0, 4));
}
