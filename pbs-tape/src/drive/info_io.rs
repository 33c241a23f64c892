//! Issuing the SSC information commands (LOG SENSE, MODE SENSE/SELECT,
//! READ/WRITE ATTRIBUTE, REPORT DENSITY SUPPORT, SECURITY PROTOCOL IN/OUT):
//! one data-in and one data-out helper that apply the command timeout and
//! classify failures into [`DriveError`].

use crate::scsi::timeouts::timeout_for;
use crate::scsi::{DataDirection, ScsiTransport};

use super::DriveError;

/// Run a data-in command with a buffer of `alloc` bytes; returns the bytes
/// the device transferred. ILLEGAL REQUEST becomes
/// [`DriveError::NotSupported`] naming `feature`.
pub(crate) fn data_in(
    t: &mut dyn ScsiTransport,
    device: &str,
    command: &'static str,
    feature: &str,
    cdb: &[u8],
    alloc: usize,
) -> Result<Vec<u8>, DriveError> {
    let mut buf = vec![0u8; alloc];
    let done = t
        .execute(cdb, DataDirection::FromDevice(&mut buf), timeout_for(cdb))
        .map_err(|e| DriveError::from_scsi(command, Some(feature), device, e))?;
    buf.truncate(done.transferred.min(alloc));
    Ok(buf)
}

/// Run a data-out command sending `data`.
pub(crate) fn data_out(
    t: &mut dyn ScsiTransport,
    device: &str,
    command: &'static str,
    feature: &str,
    cdb: &[u8],
    data: &[u8],
) -> Result<(), DriveError> {
    t.execute(cdb, DataDirection::ToDevice(data), timeout_for(cdb))
        .map_err(|e| DriveError::from_scsi(command, Some(feature), device, e))?;
    Ok(())
}

/// The drive layer's scripted test transport ([`super::mock::Mock`]),
/// extended to record the data-out bytes of every command, which the
/// MODE SELECT, WRITE ATTRIBUTE and SECURITY PROTOCOL OUT tests check.
#[cfg(test)]
pub(crate) mod mock {
    use std::time::Duration;

    use super::super::mock::{Answer, Mock};
    use crate::scsi::discovery::PERIPHERAL_TYPE_TAPE;
    use crate::scsi::{Completion, DataDirection, ScsiError, ScsiTransport};

    pub struct Scripted {
        inner: Mock,
        /// Every CDB with its data-out bytes, in order.
        pub sent: Vec<(Vec<u8>, Vec<u8>)>,
    }

    impl Default for Scripted {
        fn default() -> Self {
            Scripted {
                inner: Mock {
                    peripheral_type: PERIPHERAL_TYPE_TAPE,
                    fixed: Vec::new(),
                    script: Default::default(),
                    log: Default::default(),
                },
                sent: Vec::new(),
            }
        }
    }

    impl Scripted {
        /// Answer CDBs starting with `prefix` (first match wins; anything
        /// else completes with GOOD and no data).
        pub fn on(mut self, prefix: &[u8], answer: Answer) -> Self {
            self.inner.fixed.push((prefix.to_vec(), answer));
            self
        }
    }

    impl ScsiTransport for Scripted {
        fn execute(
            &mut self,
            cdb: &[u8],
            data: DataDirection<'_>,
            timeout: Duration,
        ) -> Result<Completion, ScsiError> {
            let out = match &data {
                DataDirection::ToDevice(b) => b.to_vec(),
                _ => Vec::new(),
            };
            self.sent.push((cdb.to_vec(), out));
            self.inner.execute(cdb, data, timeout)
        }

        fn max_transfer(&self) -> usize {
            self.inner.max_transfer()
        }

        fn path(&self) -> &str {
            self.inner.path()
        }
    }
}
