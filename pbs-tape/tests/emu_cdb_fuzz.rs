//! Random CDBs and buffers against the emulated drive and changer: every
//! command ends in a completion or an error, never a panic, and the device
//! keeps answering afterwards.

mod emu_util;

use emu_util::*;
use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{open_device, Library};
use pbs_tape::scsi::{DataDirection, ScsiError, ScsiTransport};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Opcodes the emulator knows, so random CDBs reach the handlers often.
const OPCODES: &[u8] = &[
    0x00, 0x01, 0x03, 0x04, 0x05, 0x07, 0x08, 0x0a, 0x10, 0x11, 0x12, 0x15, 0x19, 0x1a, 0x1b, 0x1e,
    0x2b, 0x34, 0x44, 0x4c, 0x4d, 0x55, 0x5a, 0x8c, 0x8d, 0x91, 0x92, 0xa2, 0xa5, 0xa6, 0xb5, 0xb8,
];

#[derive(Debug, Clone)]
struct Case {
    cdb: Vec<u8>,
    direction: u8,
    buf_len: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let opcode = prop_oneof![3 => proptest::sample::select(OPCODES), 1 => any::<u8>()];
    (
        opcode,
        proptest::collection::vec(any::<u8>(), 0..16),
        0u8..3,
        0usize..4096,
    )
        .prop_map(|(op, rest, direction, buf_len)| {
            let mut cdb = vec![op];
            cdb.extend(rest);
            Case {
                cdb,
                direction,
                buf_len,
            }
        })
}

fn run(dev: &mut impl ScsiTransport, c: &Case) {
    let mut buf = vec![0u8; c.buf_len];
    let data = match c.direction {
        0 => DataDirection::None,
        1 => DataDirection::FromDevice(&mut buf),
        _ => DataDirection::ToDevice(&buf),
    };
    match dev.execute(&c.cdb, data, T) {
        Ok(done) => assert!(done.transferred <= c.buf_len),
        Err(ScsiError::CheckCondition { transferred, .. }) => assert!(transferred <= c.buf_len),
        Err(ScsiError::InvalidCdb(_)) | Err(ScsiError::TransferTooLarge { .. }) => {}
        Err(other) => panic!("unexpected error {other:?} for {c:?}"),
    }
}

/// Send `cases` random commands to `dev`; returns it for the checks after.
fn fuzz<T: ScsiTransport>(dev: T, cases: u32) -> T {
    let dev = std::cell::RefCell::new(dev);
    let mut runner = TestRunner::new(Config::with_cases(cases));
    runner
        .run(&case(), |c| {
            run(&mut *dev.borrow_mut(), &c);
            Ok(())
        })
        .unwrap();
    dev.into_inner()
}

#[test]
fn random_cdbs_never_panic_the_drive() {
    let fx = Fixture::standalone(4 << 20, 1 << 20);
    let mut dev = fuzz(fx.open(), 3000);
    // Still a working drive: clear any unit attention, then TUR may only
    // fail for a reason a host can act on (e.g. the random CDBs unloaded it).
    let _ = tur(&mut dev);
    let _ = tur(&mut dev);
}

#[test]
fn random_cdbs_never_panic_the_changer() {
    let tmp = tempfile::tempdir().unwrap();
    let barcodes: Vec<String> = (1..=4).map(|i| format!("ABC{i:03}L9")).collect();
    let config = LibraryConfig {
        slots: 8,
        ie_slots: 1,
        drives: 2,
        ..LibraryConfig::default()
    };
    let lib = Library::create(tmp.path(), config, &barcodes, &[]).unwrap();
    let mut dev = fuzz(open_device(&lib.changer_device_path()).unwrap(), 2000);
    let mut inq = [0u8; 36];
    dev.execute(
        &[0x12, 0, 0, 0, 36, 0],
        DataDirection::FromDevice(&mut inq),
        T,
    )
    .unwrap();
    assert_eq!(inq[0], 0x08);
}
