//! Open a device by the path a user gives: an emulated library device file
//! or a Linux SCSI device (sg, st/nst, sch or a `/dev/tape/by-id` link).
//!
//! Either way the result is a [`ScsiTransport`] wrapped in
//! [`UnitAttentionRetry`], so the first command after a medium change or
//! reset is retried once instead of failing.

#![forbid(unsafe_code)]

use std::path::Path;

use crate::emulator;
use crate::scsi::retry::UnitAttentionRetry;
use crate::scsi::sg_io::SgDevice;
use crate::scsi::{DeviceError, ScsiError, ScsiTransport};

/// Open `path` as a SCSI transport (see the module documentation).
/// Tape drives use [`open_device`] instead: [`crate::drive::LtoDrive`]
/// keeps its own [`UnitAttentionRetry`] to run writing sessions.
///
/// Errors: an empty path is [`DeviceError::Invalid`]; a path that does not
/// exist (or a dangling link) is [`DeviceError::NotFound`] naming it; the
/// rest come from [`emulator::open_device`] or [`SgDevice::open`].
pub fn open_transport(path: &str) -> Result<Box<dyn ScsiTransport>, ScsiError> {
    Ok(Box::new(UnitAttentionRetry::new(open_device(path)?)))
}

/// Open `path` as a bare SCSI transport, without the unit attention retry.
///
/// Errors as [`open_transport`].
pub fn open_device(path: &str) -> Result<Box<dyn ScsiTransport>, ScsiError> {
    if path.is_empty() {
        return Err(DeviceError::Invalid {
            path: String::new(),
            message: "empty device path".into(),
        }
        .into());
    }
    let p = Path::new(path);
    if std::fs::metadata(p).is_err() {
        return Err(DeviceError::NotFound {
            path: path.to_string(),
        }
        .into());
    }
    if emulator::is_emulated_device(p) {
        return Ok(Box::new(emulator::open_device(p)?));
    }
    Ok(Box::new(SgDevice::open(path)?))
}
