//! Device dispatch: an [`EmulatedDevice`] is opened on a device file of a
//! library (`DIR/driveN`, `DIR/changer`) and answers CDBs through the same
//! [`ScsiTransport`] trait as the Linux SG_IO backend.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::cdb::{Cdb, CdbResult};
use super::changer;
use super::common::{self, Identity, PERIPHERAL_CHANGER};
use super::drive::EmulatedDrive;
use super::library::{Library, CHANGER_FILE, DEVICE_MAGIC};
use crate::scsi::opcodes::{INQUIRY, REQUEST_SENSE, TEST_UNIT_READY};
use crate::scsi::{Completion, DataDirection, DeviceError, ScsiError, ScsiTransport, SenseData};

/// Product identification of the emulated changer.
pub const CHANGER_PRODUCT: &str = "EMULATED-LIBRARY";

/// Which device of a library a device file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Changer,
    Drive(usize),
}

/// Read the header of a device file: `None` when it is not one. Only
/// regular files are opened: a device node (`/dev/nst0`, `/dev/sg3`) is
/// never touched, since opening a tape node can move the tape.
pub fn read_device_file(path: &Path) -> Option<DeviceKind> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = [0u8; 128];
    let mut file = std::fs::File::open(path).ok()?;
    let n = file.read(&mut head).ok()?;
    let text = std::str::from_utf8(&head[..n]).ok()?;
    let mut lines = text.lines();
    if lines.next()? != DEVICE_MAGIC {
        return None;
    }
    let kind = lines.next()?;
    if kind == CHANGER_FILE {
        return Some(DeviceKind::Changer);
    }
    kind.strip_prefix("drive ")
        .and_then(|n| n.parse().ok())
        .map(DeviceKind::Drive)
}

/// True when `path` is a device file of an emulated library.
pub fn is_emulated_device(path: &Path) -> bool {
    read_device_file(path).is_some()
}

/// The serial number of the device a device file names, read from the
/// library's state without opening the device (an open drive is held
/// exclusively; callers key their own locks by this serial first).
pub fn device_serial(path: &Path) -> Result<String, ScsiError> {
    let path_str = path.display().to_string();
    let invalid = |message: String| DeviceError::Invalid {
        path: path_str.clone(),
        message,
    };
    let kind =
        read_device_file(path).ok_or_else(|| invalid("not an emulated tape device".into()))?;
    let real = std::fs::canonicalize(path).map_err(|source| DeviceError::Io {
        path: path_str.clone(),
        source,
    })?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let lib = Library::open(dir).map_err(|e| invalid(e.to_string()))?;
    let state = lib.read_state().map_err(|e| invalid(e.to_string()))?;
    match kind {
        DeviceKind::Changer => Ok(state.config.serial.clone()),
        DeviceKind::Drive(n) => state
            .drives
            .get(n)
            .map(|d| d.serial.clone())
            .ok_or_else(|| invalid(format!("the library has no drive {n}")).into()),
    }
}

/// Open an emulated device. A drive is opened exclusively: another
/// process holding it gives [`DeviceError::Busy`].
pub fn open_device(path: &Path) -> Result<EmulatedDevice, ScsiError> {
    let path_str = path.display().to_string();
    let kind = read_device_file(path).ok_or_else(|| DeviceError::Invalid {
        path: path_str.clone(),
        message: "not an emulated tape device".into(),
    })?;
    // The library is the directory of the real file (the user may give a
    // symlink to it, e.g. from /dev).
    let real = std::fs::canonicalize(path).map_err(|source| DeviceError::Io {
        path: path_str.clone(),
        source,
    })?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let lib = Library::open(dir).map_err(|e| DeviceError::Invalid {
        path: path_str.clone(),
        message: e.to_string(),
    })?;
    let inner = match kind {
        DeviceKind::Drive(n) => Inner::Drive(Box::new(EmulatedDrive::open(lib, n, path)?)),
        DeviceKind::Changer => {
            let state = lib.read_state().map_err(|e| DeviceError::Invalid {
                path: path_str.clone(),
                message: e.to_string(),
            })?;
            Inner::Changer(ChangerDevice {
                identity: Identity {
                    peripheral_type: PERIPHERAL_CHANGER,
                    removable: false,
                    product: CHANGER_PRODUCT.into(),
                    serial: state.config.serial.clone(),
                },
                max_transfer: state.config.max_transfer,
                lib,
                pending: None,
            })
        }
    };
    Ok(EmulatedDevice {
        path: path_str,
        inner,
    })
}

/// An open emulated drive or changer.
pub struct EmulatedDevice {
    path: String,
    inner: Inner,
}

enum Inner {
    Drive(Box<EmulatedDrive>),
    Changer(ChangerDevice),
}

impl std::fmt::Debug for EmulatedDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedDevice")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl EmulatedDevice {
    /// Which device this is.
    pub fn kind(&self) -> DeviceKind {
        match &self.inner {
            Inner::Drive(d) => DeviceKind::Drive(d.index()),
            Inner::Changer(_) => DeviceKind::Changer,
        }
    }
}

impl ScsiTransport for EmulatedDevice {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        if cdb.is_empty() || cdb.len() > 16 {
            return Err(ScsiError::InvalidCdb(cdb.len()));
        }
        let len = data.len();
        let max = self.max_transfer();
        if len > max {
            return Err(ScsiError::TransferTooLarge { len, max });
        }
        let result = match &mut self.inner {
            Inner::Drive(drive) => drive.execute(cdb, data.reborrow(), timeout)?,
            Inner::Changer(changer) => changer.execute(cdb, data.reborrow()),
        };
        if let (Err(c), DataDirection::FromDevice(buf)) = (&result, &mut data) {
            if c.transferred == 0 {
                clobber_untransferred(buf);
            }
        }
        // The residual is the part of the caller's buffer not moved, also
        // for commands without a data phase (as with SG_IO).
        match result {
            Ok(done) => Ok(Completion {
                transferred: done.transferred.min(len),
                residual: len - done.transferred.min(len),
            }),
            Err(c) => Err(ScsiError::CheckCondition {
                sense: c.sense,
                transferred: c.transferred.min(len),
                residual: len - c.transferred.min(len),
            }),
        }
    }

    fn max_transfer(&self) -> usize {
        match &self.inner {
            Inner::Drive(d) => d.max_transfer(),
            Inner::Changer(c) => c.max_transfer,
        }
    }

    fn path(&self) -> &str {
        &self.path
    }
}

/// What a real kernel may leave in a data-in buffer after a command that
/// moved no data (a READ that met a filemark or end of data, a refused
/// INQUIRY): the sg driver copies its whole bounce buffer back, so the
/// caller's bytes are gone (mhVTL behind Linux 6.12 leaves zeros). SG_IO
/// promises nothing about the bytes past what was transferred; the
/// emulator zeroes them so that code relying on them fails here too.
fn clobber_untransferred(buf: &mut [u8]) {
    buf.fill(0);
}

/// The changer: INQUIRY, TEST UNIT READY and REQUEST SENSE here, the SMC
/// commands in [`changer::execute`].
struct ChangerDevice {
    lib: Library,
    identity: Identity,
    max_transfer: usize,
    pending: Option<SenseData>,
}

impl ChangerDevice {
    fn execute(&mut self, raw: &[u8], data: DataDirection<'_>) -> CdbResult {
        let opcode = raw.first().copied().unwrap_or(0);
        match opcode {
            INQUIRY | REQUEST_SENSE | TEST_UNIT_READY => {
                let cdb = Cdb::parse(raw)?;
                match opcode {
                    INQUIRY => common::inquiry(&self.identity, &cdb, data),
                    REQUEST_SENSE => common::request_sense(&mut self.pending, &cdb, data),
                    _ => {
                        cdb.reserved_bytes(1..5)?;
                        Ok(super::cdb::no_data())
                    }
                }
            }
            _ => changer::execute(&self.lib, raw, data),
        }
    }
}
