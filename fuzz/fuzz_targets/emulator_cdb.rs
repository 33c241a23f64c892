//! The emulator's CDB dispatch: random CDBs with random data-out (and
//! data-in buffers of random size) sent to the drive and the changer of a
//! fresh temporary library with a cartridge loaded. Every command ends in
//! GOOD or CHECK CONDITION (or a typed transport error), never a panic, and
//! never reports more bytes moved than the buffer holds.
//!
//! Input: a sequence of commands, each `device` (bit 0: changer), opcode,
//! length selector (bit 7 clear: the opcode group's CDB length, else
//! 1..=16), the rest of the CDB, `direction` (0 none, 1 in, 2 out), a
//! 16-bit buffer length, and for data-out the bytes.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use pbs_tape::emulator::cdb::cdb_length_for;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{open_device, Library};
use pbs_tape::scsi::{DataDirection, ScsiError, ScsiTransport};
use ptape_fuzz::Input;

/// Most commands of one input.
const MAX_COMMANDS: usize = 24;
/// Largest buffer of one command (the library's max transfer).
const MAX_TRANSFER: usize = 1 << 16;
/// Timeout handed to every command (the emulator answers at once).
const TIMEOUT: Duration = Duration::from_secs(1);

fn library(dir: &std::path::Path) -> Library {
    let config = LibraryConfig {
        drives: 1,
        slots: 4,
        ie_slots: 1,
        capacity: 4 << 20,
        early_warning: 1 << 20,
        max_transfer: MAX_TRANSFER,
        serial: "FUZZ".into(),
        ..LibraryConfig::default()
    };
    let barcodes = ["FUZ001L9".to_string(), "FUZ002L9".to_string()];
    let lib = Library::create(dir, config, &barcodes, &["CLN001L1".to_string()])
        .expect("create the fuzz library");
    lib.insert(0, "FUZ003L9").expect("load a cartridge");
    lib
}

/// A fresh directory for the library, in memory (`/dev/shm`) when there
/// is one: the library writes its state file for every change.
fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("temporary directory")
}

fuzz_target!(|data: &[u8]| {
    let tmp = scratch_dir();
    let lib = library(tmp.path());
    let mut drive = open_device(&lib.drive_device_path(0)).expect("open the drive");
    let mut changer = open_device(&lib.changer_device_path()).expect("open the changer");
    let mut input = Input::new(data);
    let mut buf = vec![0u8; MAX_TRANSFER];
    for _ in 0..MAX_COMMANDS {
        if input.is_empty() {
            break;
        }
        let device: &mut dyn ScsiTransport = if input.byte() & 1 == 0 {
            &mut drive
        } else {
            &mut changer
        };
        // Mostly CDBs of the length their opcode group asks for, so the
        // fuzzer gets past the length check; sometimes any length.
        let opcode = input.byte();
        let length = input.byte();
        let cdb_len = match cdb_length_for(opcode) {
            Some(n) if length & 0x80 == 0 => n,
            _ => usize::from(length % 16) + 1,
        };
        let mut cdb = vec![opcode];
        cdb.extend_from_slice(input.bytes(cdb_len - 1));
        let direction = input.byte() % 3;
        let len = usize::from(input.u16()).min(MAX_TRANSFER);
        let (outcome, buffer) = match direction {
            0 => (device.execute(&cdb, DataDirection::None, TIMEOUT), 0),
            1 => (
                device.execute(&cdb, DataDirection::FromDevice(&mut buf[..len]), TIMEOUT),
                len,
            ),
            _ => {
                let out = input.bytes(len);
                (
                    device.execute(&cdb, DataDirection::ToDevice(out), TIMEOUT),
                    out.len(),
                )
            }
        };
        // A completion, even a failed one, splits the buffer into moved
        // and not moved bytes: `transferred + residual == buffer length`.
        match outcome {
            Ok(done) => {
                assert!(done.transferred <= buffer, "{cdb:02x?}: {done:?}");
                assert_eq!(done.transferred + done.residual, buffer, "{cdb:02x?}");
            }
            Err(ScsiError::CheckCondition {
                sense,
                transferred,
                residual,
            }) => {
                assert!(transferred <= buffer, "{cdb:02x?}: {transferred}");
                assert_eq!(transferred + residual, buffer, "{cdb:02x?}");
                assert!(!sense.to_string().is_empty());
            }
            Err(other) => assert!(!other.to_string().is_empty()),
        }
    }
});
