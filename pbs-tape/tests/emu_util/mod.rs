//! Shared helpers of the emulator integration tests: a fresh library per
//! test and one-line CDB calls.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pbs_tape::emulator::state::LibraryConfig;
use pbs_tape::emulator::{open_device, EmulatedDevice, Library};
use pbs_tape::scsi::{Completion, DataDirection, ScsiError, ScsiTransport, SenseData, SenseKey};

pub const T: Duration = Duration::from_secs(60);

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub lib: Library,
}

impl Fixture {
    /// A standalone drive (no changer) with `capacity`/`early_warning`,
    /// cartridge `TAPE01L9` inserted.
    pub fn standalone(capacity: u64, early_warning: u64) -> Fixture {
        Self::with_config(LibraryConfig {
            slots: 0,
            ie_slots: 0,
            capacity,
            early_warning,
            ..LibraryConfig::default()
        })
    }

    pub fn with_config(config: LibraryConfig) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let lib = Library::create(tmp.path(), config, &[], &[]).unwrap();
        lib.insert(0, "TAPE01L9").unwrap();
        Fixture { tmp, lib }
    }

    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    pub fn drive_path(&self) -> PathBuf {
        self.lib.drive_device_path(0)
    }

    /// Open drive 0 and consume the unit attention of the fresh load.
    pub fn open(&self) -> EmulatedDevice {
        let mut dev = open_device(&self.drive_path()).unwrap();
        let _ = tur(&mut dev);
        dev
    }
}

pub fn exec(dev: &mut EmulatedDevice, cdb: &[u8]) -> Result<Completion, ScsiError> {
    dev.execute(cdb, DataDirection::None, T)
}

pub fn sense_of<T: std::fmt::Debug>(r: Result<T, ScsiError>) -> SenseData {
    match r {
        Err(ScsiError::CheckCondition { sense, .. }) => sense,
        other => panic!("expected CHECK CONDITION, got {other:?}"),
    }
}

pub fn assert_sense<T: std::fmt::Debug>(
    r: Result<T, ScsiError>,
    key: SenseKey,
    asc: u8,
    ascq: u8,
) -> SenseData {
    let s = sense_of(r);
    assert!(
        s.is(key, asc, ascq),
        "expected {key:?} {asc:02x}/{ascq:02x}, got {s}"
    );
    s
}

pub fn tur(dev: &mut EmulatedDevice) -> Result<Completion, ScsiError> {
    exec(dev, &[0, 0, 0, 0, 0, 0])
}

pub fn write(dev: &mut EmulatedDevice, data: &[u8]) -> Result<Completion, ScsiError> {
    let n = data.len() as u32;
    let cdb = [0x0a, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8, 0];
    dev.execute(&cdb, DataDirection::ToDevice(data), T)
}

pub fn write_fixed(
    dev: &mut EmulatedDevice,
    blocks: u32,
    data: &[u8],
) -> Result<Completion, ScsiError> {
    let cdb = [
        0x0a,
        1,
        (blocks >> 16) as u8,
        (blocks >> 8) as u8,
        blocks as u8,
        0,
    ];
    dev.execute(&cdb, DataDirection::ToDevice(data), T)
}

pub fn read_raw(
    dev: &mut EmulatedDevice,
    len: u32,
    sili: bool,
    buf: &mut [u8],
) -> Result<Completion, ScsiError> {
    let cdb = [
        0x08,
        if sili { 2 } else { 0 },
        (len >> 16) as u8,
        (len >> 8) as u8,
        len as u8,
        0,
    ];
    dev.execute(&cdb, DataDirection::FromDevice(buf), T)
}

/// Read one variable block of at most `max` bytes (SILI set).
pub fn read(dev: &mut EmulatedDevice, max: usize) -> Result<Vec<u8>, ScsiError> {
    let mut buf = vec![0u8; max];
    let c = read_raw(dev, max as u32, true, &mut buf)?;
    buf.truncate(c.transferred);
    Ok(buf)
}

pub fn wfm(dev: &mut EmulatedDevice, count: u32, immed: bool) -> Result<Completion, ScsiError> {
    exec(
        dev,
        &[
            0x10,
            immed as u8,
            (count >> 16) as u8,
            (count >> 8) as u8,
            count as u8,
            0,
        ],
    )
}

pub fn rewind(dev: &mut EmulatedDevice) -> Result<Completion, ScsiError> {
    exec(dev, &[0x01, 0, 0, 0, 0, 0])
}

pub fn space6(dev: &mut EmulatedDevice, code: u8, count: i32) -> Result<Completion, ScsiError> {
    let c = count.to_be_bytes();
    exec(dev, &[0x11, code, c[1], c[2], c[3], 0])
}

pub fn space16(dev: &mut EmulatedDevice, code: u8, count: i64) -> Result<Completion, ScsiError> {
    let mut cdb = [0u8; 16];
    cdb[0] = 0x91;
    cdb[1] = code;
    cdb[4..12].copy_from_slice(&count.to_be_bytes());
    exec(dev, &cdb)
}

pub fn locate16(dev: &mut EmulatedDevice, dest_type: u8, id: u64) -> Result<Completion, ScsiError> {
    let mut cdb = [0u8; 16];
    cdb[0] = 0x92;
    cdb[1] = dest_type << 3;
    cdb[4..12].copy_from_slice(&id.to_be_bytes());
    exec(dev, &cdb)
}

/// READ POSITION long form: (logical object, file number, BOP, EOP).
pub fn position(dev: &mut EmulatedDevice) -> (u64, u64, bool, bool) {
    let mut buf = [0u8; 32];
    let cdb = [0x34, 0x06, 0, 0, 0, 0, 0, 0, 32, 0];
    let c = dev
        .execute(&cdb, DataDirection::FromDevice(&mut buf), T)
        .unwrap();
    assert_eq!(c.transferred, 32);
    let obj = u64::from_be_bytes(buf[8..16].try_into().unwrap());
    let file = u64::from_be_bytes(buf[16..24].try_into().unwrap());
    (obj, file, buf[0] & 0x80 != 0, buf[0] & 0x40 != 0)
}

pub fn block(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 13) as u8 ^ seed)
        .collect()
}
