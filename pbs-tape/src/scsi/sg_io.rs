//! The Linux SCSI generic (sg) backend: one `SG_IO` ioctl per command.
//!
//! This is the only module of the crate with `unsafe` code: the ioctls
//! that hand the kernel raw pointers into our buffers. Everything that can
//! be decided without the kernel (header layout, status mapping) is in
//! safe, pure functions that are unit-tested without a device.
//!
//! References: the Linux SCSI generic HOWTO (sg v3 interface,
//! `include/scsi/sg.h`), SAM-5 5.3 (status codes).

#![deny(unsafe_op_in_unsafe_fn)]
// Every other module of the SCSI layer forbids unsafe code; the ioctls need it.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

use super::devpath::{resolve_sg_path, SYSFS_ROOT};
use super::opcodes::opcode_name;
use super::sense::SenseData;
use super::transport::{status, Completion, DataDirection, DeviceError, ScsiError, ScsiTransport};

/// `interface_id` of the sg v3 interface.
const SG_INTERFACE_ID: i32 = b'S' as i32;
/// No data phase.
pub const SG_DXFER_NONE: i32 = -1;
/// Data-out (host to device).
pub const SG_DXFER_TO_DEV: i32 = -2;
/// Data-in (device to host).
pub const SG_DXFER_FROM_DEV: i32 = -3;
/// Size of the sense buffer we give the kernel (`mx_sb_len`).
pub const SENSE_BUFFER_LEN: usize = 64;
/// Oldest sg driver version with the v3 interface we use (3.0.0).
const MIN_SG_VERSION: i32 = 30000;
/// Largest CDB the sg v3 interface accepts.
const MAX_CDB_LEN: usize = 16;
/// Smallest CDB (group 0 commands).
const MIN_CDB_LEN: usize = 6;
/// Transfer limit used when the driver does not tell us one.
const FALLBACK_MAX_TRANSFER: usize = 64 * 1024;

/// Linux host status: the command timed out (`DID_TIME_OUT`).
pub const DID_TIME_OUT: u16 = 0x03;
/// Linux driver status: timeout (`DRIVER_TIMEOUT`, low nibble).
pub const DRIVER_TIMEOUT: u16 = 0x06;
/// Linux driver status: sense data is valid (`DRIVER_SENSE`, low nibble).
pub const DRIVER_SENSE: u16 = 0x08;

/// The Linux `sg_io_hdr_t` (include/scsi/sg.h), field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SgIoHdr {
    pub interface_id: i32,
    pub dxfer_direction: i32,
    pub cmd_len: u8,
    pub mx_sb_len: u8,
    pub iovec_count: u16,
    pub dxfer_len: u32,
    pub dxferp: *mut c_void,
    pub cmdp: *const u8,
    pub sbp: *mut u8,
    /// Milliseconds.
    pub timeout: u32,
    pub flags: u32,
    pub pack_id: i32,
    pub usr_ptr: *mut c_void,
    pub status: u8,
    pub masked_status: u8,
    pub msg_status: u8,
    pub sb_len_wr: u8,
    pub host_status: u16,
    pub driver_status: u16,
    pub resid: i32,
    pub duration: u32,
    pub info: u32,
}

nix::ioctl_readwrite_bad!(
    /// `SG_IO`: execute one command (sg v3 interface).
    sg_io_ioctl,
    0x2285,
    SgIoHdr
);
nix::ioctl_read_bad!(
    /// `SG_GET_VERSION_NUM`: the sg driver version, e.g. 30536.
    sg_get_version_num,
    0x2282,
    libc::c_int
);
nix::ioctl_read_bad!(
    /// `SG_GET_RESERVED_SIZE`: size of the sg reserved buffer.
    sg_get_reserved_size,
    0x2272,
    libc::c_int
);
nix::ioctl_read_bad!(
    /// `BLKSECTGET` on an sg node: the queue's max transfer in bytes.
    blk_sect_get,
    0x1267,
    libc::c_int
);
nix::ioctl_read_bad!(
    /// `SG_GET_SG_TABLESIZE`: the host adapter's scatter-gather table size
    /// (the queue's max_segments).
    sg_get_sg_tablesize,
    0x227F,
    libc::c_int
);

/// Build the `sg_io_hdr_t` for one command. Pure: only stores pointers.
///
/// The timeout is converted to milliseconds and saturates at `u32::MAX`
/// (which the sg driver treats as "no timeout").
pub fn build_header(
    cdb: &[u8],
    data: &mut DataDirection<'_>,
    sense: &mut [u8; SENSE_BUFFER_LEN],
    timeout: Duration,
) -> Result<SgIoHdr, ScsiError> {
    if !(MIN_CDB_LEN..=MAX_CDB_LEN).contains(&cdb.len()) {
        return Err(ScsiError::InvalidCdb(cdb.len()));
    }
    let (direction, ptr, len): (i32, *mut c_void, usize) = match data {
        DataDirection::None => (SG_DXFER_NONE, std::ptr::null_mut(), 0),
        DataDirection::FromDevice(b) => (SG_DXFER_FROM_DEV, b.as_mut_ptr().cast(), b.len()),
        // The kernel only reads a data-out buffer; the pointer type is shared.
        DataDirection::ToDevice(b) => (SG_DXFER_TO_DEV, b.as_ptr().cast_mut().cast(), b.len()),
    };
    let dxfer_len = u32::try_from(len).map_err(|_| ScsiError::TransferTooLarge {
        len,
        max: u32::MAX as usize,
    })?;
    let timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
    Ok(SgIoHdr {
        interface_id: SG_INTERFACE_ID,
        dxfer_direction: direction,
        cmd_len: cdb.len() as u8,
        mx_sb_len: SENSE_BUFFER_LEN as u8,
        iovec_count: 0,
        dxfer_len,
        dxferp: ptr,
        cmdp: cdb.as_ptr(),
        sbp: sense.as_mut_ptr(),
        timeout: timeout_ms,
        flags: 0,
        pack_id: 0,
        usr_ptr: std::ptr::null_mut(),
        status: 0,
        masked_status: 0,
        msg_status: 0,
        sb_len_wr: 0,
        host_status: 0,
        driver_status: 0,
        resid: 0,
        duration: 0,
        info: 0,
    })
}

/// What the kernel reported for one command (the output fields of the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SgOutcome {
    pub status: u8,
    pub host_status: u16,
    pub driver_status: u16,
    pub resid: i32,
    /// Valid sense bytes (`sb_len_wr`).
    pub sense_len: usize,
}

impl SgOutcome {
    /// The output fields of a header the kernel filled in.
    pub fn from_header(hdr: &SgIoHdr) -> Self {
        SgOutcome {
            status: hdr.status,
            host_status: hdr.host_status,
            driver_status: hdr.driver_status,
            resid: hdr.resid,
            sense_len: hdr.sb_len_wr as usize,
        }
    }
}

/// Map the kernel's report to a [`Completion`] or a [`ScsiError`].
///
/// Order: host status (DID_TIME_OUT is a timeout, anything else a
/// transport failure), driver status (low nibble; DRIVER_TIMEOUT is a
/// timeout, DRIVER_SENSE is not an error by itself), then the SCSI status:
/// GOOD/CONDITION MET complete, CHECK CONDITION decodes the sense, anything
/// else is [`ScsiError::Status`].
pub fn classify(
    outcome: &SgOutcome,
    sense: &[u8],
    data_len: usize,
    timeout: Duration,
) -> Result<Completion, ScsiError> {
    let residual = usize::try_from(outcome.resid).unwrap_or(0).min(data_len);
    let transferred = data_len - residual;
    if outcome.host_status != 0 {
        if outcome.host_status == DID_TIME_OUT {
            return Err(ScsiError::Timeout(timeout));
        }
        return Err(ScsiError::Transport {
            host_status: outcome.host_status,
            driver_status: outcome.driver_status,
        });
    }
    match outcome.driver_status & 0x0f {
        0 | DRIVER_SENSE => {}
        DRIVER_TIMEOUT => return Err(ScsiError::Timeout(timeout)),
        _ => {
            return Err(ScsiError::Transport {
                host_status: outcome.host_status,
                driver_status: outcome.driver_status,
            })
        }
    }
    // Bits 1..5 carry the status code (SAM-5 5.3.1); bits 0, 6, 7 are reserved.
    match outcome.status & 0x3e {
        status::GOOD | status::CONDITION_MET => Ok(Completion {
            transferred,
            residual,
        }),
        status::CHECK_CONDITION => {
            let valid = &sense[..outcome.sense_len.min(sense.len())];
            match SenseData::parse(valid) {
                Ok(sense) => Err(ScsiError::CheckCondition {
                    sense,
                    transferred,
                    residual,
                }),
                Err(_) => Err(ScsiError::NoSense),
            }
        }
        other => Err(ScsiError::Status(other)),
    }
}

/// Map an `open(2)` failure on `path`.
fn open_error(path: &str, err: io::Error) -> DeviceError {
    let path = path.to_string();
    match err.raw_os_error() {
        Some(libc::ENOENT | libc::ENXIO | libc::ENODEV) => DeviceError::NotFound { path },
        Some(libc::EBUSY) => DeviceError::Busy { path },
        Some(libc::EACCES | libc::EPERM) => DeviceError::PermissionDenied { path },
        _ => DeviceError::Io { path, source: err },
    }
}

/// Map a failed SG_IO ioctl. The kernel refuses with EINVAL a data buffer
/// the host adapter cannot map in one request (too many scatter-gather
/// entries), before the device sees the command: for a transfer larger
/// than one page that is what EINVAL means, so it is reported as the
/// host adapter's limit rather than as a bare "Invalid argument".
fn ioctl_error(path: &str, err: nix::Error, len: usize, limit: usize) -> ScsiError {
    if err == nix::Error::EINVAL && len > MIN_MAPPED_TRANSFER {
        return if len > limit {
            ScsiError::TransferTooLarge { len, max: limit }
        } else {
            ScsiError::TransferRefused {
                len,
                reported_limit: limit,
            }
        };
    }
    DeviceError::Io {
        path: path.to_string(),
        source: io::Error::from(err),
    }
    .into()
}

/// Transfers up to this size always fit one scatter-gather entry, so an
/// EINVAL for them has another cause.
const MIN_MAPPED_TRANSFER: usize = 4096;

/// An open Linux sg device node.
#[derive(Debug)]
pub struct SgDevice {
    file: File,
    /// The path as the user gave it (for messages).
    path: String,
    /// The sg node actually opened.
    sg_path: String,
    limit: TransferLimit,
    version: i32,
}

impl SgDevice {
    /// Open a device: `/dev/sgN`, a tape node (`/dev/nstN`, `/dev/stN`, mode
    /// variants), a changer node (`/dev/schN`) or a `/dev/tape/by-id` link;
    /// non-sg nodes are resolved to their sg node through sysfs.
    ///
    /// Opens with O_NONBLOCK (so a busy tape does not block the open) and
    /// clears it afterwards so SG_IO waits for the command; checks that the
    /// node speaks sg v3 (SG_GET_VERSION_NUM >= 30000).
    pub fn open(path: &str) -> Result<SgDevice, ScsiError> {
        let sg = resolve_sg_path(Path::new(path), Path::new(SYSFS_ROOT))?;
        let sg_path = sg.display().to_string();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&sg)
            .map_err(|e| open_error(path, e))?;
        let fd = file.as_raw_fd();
        let io_err = |e: nix::Error| DeviceError::Io {
            path: path.to_string(),
            source: io::Error::from(e),
        };
        let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(io_err)?;
        let flags = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
        fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(io_err)?;

        let mut version: libc::c_int = 0;
        // SAFETY: `fd` is an open descriptor owned by `file`; the ioctl
        // writes one c_int to `version`, which lives for the whole call.
        let res = unsafe { sg_get_version_num(fd, &mut version) };
        match res {
            Ok(_) if version >= MIN_SG_VERSION => {}
            Ok(_) | Err(nix::Error::ENOTTY | nix::Error::EINVAL) => {
                return Err(DeviceError::NotSgDevice {
                    path: path.to_string(),
                }
                .into())
            }
            Err(e) => return Err(io_err(e).into()),
        }
        let limit = query_transfer_limit(fd);
        tracing::debug!(path, sg_path, version, %limit, "opened sg device");
        Ok(SgDevice {
            file,
            path: path.to_string(),
            sg_path,
            limit,
            version,
        })
    }

    /// The sg node that was opened (e.g. `/dev/sg3` for `/dev/nst0`).
    pub fn sg_path(&self) -> &str {
        &self.sg_path
    }

    /// The sg driver version (e.g. 30536 for 3.5.36).
    pub fn driver_version(&self) -> i32 {
        self.version
    }

    /// What limits one transfer on this path (see [`TransferLimit`]).
    pub fn transfer_limit(&self) -> TransferLimit {
        self.limit
    }
}

/// What the kernel says limits one SG_IO data transfer on a device path.
///
/// The request queue reports its largest request (`max_sectors`, BLKSECTGET
/// in bytes), but the host adapter must also map the user buffer into at most
/// `max_segments` scatter-gather entries (SG_GET_SG_TABLESIZE). The sg driver
/// maps the caller's pages directly, which are not contiguous in general, so
/// each entry holds one page: a transfer above `max_segments` x page size
/// fails with EINVAL although the queue would accept it (mhVTL's pseudo HBA:
/// 128 entries, 512 KiB, while max_sectors says 1280 KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferLimit {
    /// BLKSECTGET: the queue's max_sectors, in bytes.
    pub queue_max_bytes: Option<usize>,
    /// SG_GET_SG_TABLESIZE: the queue's max_segments.
    pub max_segments: Option<usize>,
    /// The memory page size (one scatter-gather entry).
    pub page_size: usize,
    /// SG_GET_RESERVED_SIZE, used only when neither of the above is known.
    pub reserved_size: Option<usize>,
}

impl TransferLimit {
    /// The largest single transfer in bytes: the smaller of the queue's
    /// limit and max_segments x page size; the sg reserved buffer size when
    /// the driver tells neither, else 64 KiB.
    pub fn bytes(&self) -> usize {
        let segments = self.max_segments.map(|n| n.saturating_mul(self.page_size));
        match (self.queue_max_bytes, segments) {
            (Some(q), Some(s)) => q.min(s),
            (Some(q), None) => q,
            (None, Some(s)) => s,
            (None, None) => self.reserved_size.unwrap_or(FALLBACK_MAX_TRANSFER),
        }
    }
}

impl std::fmt::Display for TransferLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.bytes())?;
        let queue = self
            .queue_max_bytes
            .map(|q| format!("queue max_sectors {q} bytes"));
        let segments = self
            .max_segments
            .map(|n| format!("{n} segments x {} bytes", self.page_size));
        let parts: Vec<String> = queue.into_iter().chain(segments).collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// A positive `c_int` an ioctl wrote, as a size.
fn positive(ok: bool, value: libc::c_int) -> Option<usize> {
    (ok && value > 0).then_some(value as usize)
}

/// Ask the sg driver for the limits of one transfer on `fd`.
fn query_transfer_limit(fd: libc::c_int) -> TransferLimit {
    let mut bytes: libc::c_int = 0;
    // SAFETY: `fd` is an open sg descriptor; the ioctl writes one c_int to
    // `bytes`, which outlives the call.
    let queue_max_bytes = positive(unsafe { blk_sect_get(fd, &mut bytes) }.is_ok(), bytes);
    let mut segments: libc::c_int = 0;
    // SAFETY: as above; SG_GET_SG_TABLESIZE writes one c_int.
    let max_segments = positive(
        unsafe { sg_get_sg_tablesize(fd, &mut segments) }.is_ok(),
        segments,
    );
    let mut reserved: libc::c_int = 0;
    // SAFETY: as above; SG_GET_RESERVED_SIZE writes one c_int.
    let reserved_size = positive(
        unsafe { sg_get_reserved_size(fd, &mut reserved) }.is_ok(),
        reserved,
    );
    // SAFETY: sysconf only reads a configuration value.
    let page_size = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .ok()
        .filter(|&p| p > 0)
        .unwrap_or(4096);
    TransferLimit {
        queue_max_bytes,
        max_segments,
        page_size,
        reserved_size,
    }
}

impl ScsiTransport for SgDevice {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        let len = data.len();
        let max = self.limit.bytes();
        if len > max {
            return Err(ScsiError::TransferTooLarge { len, max });
        }
        let mut sense = [0u8; SENSE_BUFFER_LEN];
        let mut hdr = build_header(cdb, &mut data, &mut sense, timeout)?;
        // SAFETY: `hdr` points at `cdb`, the data buffer inside `data` and
        // `sense`, all of which are borrowed for this whole function and so
        // outlive the synchronous SG_IO call; lengths in `hdr` match the
        // buffers (build_header takes them from the slices); the data-out
        // buffer is only read by the kernel.
        let res = unsafe { sg_io_ioctl(self.file.as_raw_fd(), &mut hdr) };
        if let Err(e) = res {
            return Err(ioctl_error(&self.path, e, len, max));
        }
        let outcome = SgOutcome::from_header(&hdr);
        let result = classify(&outcome, &sense, len, timeout);
        match &result {
            Ok(done) => tracing::trace!(
                path = self.path,
                op = opcode_name(cdb[0]),
                transferred = done.transferred,
                duration_ms = hdr.duration,
                "SG_IO"
            ),
            Err(e) => tracing::debug!(
                path = self.path,
                op = opcode_name(cdb[0]),
                ?outcome,
                duration_ms = hdr.duration,
                "SG_IO: {e}"
            ),
        }
        result
    }

    fn max_transfer(&self) -> usize {
        self.limit.bytes()
    }

    fn path(&self) -> &str {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::SenseKey;

    const T: Duration = Duration::from_secs(60);

    fn outcome(status: u8, host: u16, driver: u16, resid: i32, sense_len: usize) -> SgOutcome {
        SgOutcome {
            status,
            host_status: host,
            driver_status: driver,
            resid,
            sense_len,
        }
    }

    #[test]
    fn header_data_in_fields() {
        let cdb = [0x12, 0, 0, 0, 96, 0];
        let mut buf = [0u8; 96];
        let buf_ptr = buf.as_mut_ptr() as usize;
        let mut sense = [0u8; SENSE_BUFFER_LEN];
        let mut data = DataDirection::FromDevice(&mut buf);
        let h = build_header(&cdb, &mut data, &mut sense, Duration::from_secs(2400)).unwrap();
        assert_eq!(h.interface_id, 'S' as i32);
        assert_eq!(h.dxfer_direction, SG_DXFER_FROM_DEV);
        assert_eq!(h.cmd_len, 6);
        assert_eq!(h.mx_sb_len, 64);
        assert_eq!(h.iovec_count, 0);
        assert_eq!(h.dxfer_len, 96);
        assert_eq!(h.dxferp as usize, buf_ptr);
        assert_eq!(h.cmdp, cdb.as_ptr());
        assert_eq!(h.sbp, sense.as_mut_ptr());
        assert_eq!(h.timeout, 2_400_000);
        assert_eq!(h.flags, 0);
        assert_eq!(
            (h.status, h.host_status, h.driver_status, h.resid),
            (0, 0, 0, 0)
        );
    }

    #[test]
    fn header_data_out_and_none() {
        let cdb = [0x0a, 0, 0, 0x10, 0, 0];
        let payload = [7u8; 4096];
        let mut sense = [0u8; SENSE_BUFFER_LEN];
        let mut data = DataDirection::ToDevice(&payload);
        let h = build_header(&cdb, &mut data, &mut sense, T).unwrap();
        assert_eq!(h.dxfer_direction, SG_DXFER_TO_DEV);
        assert_eq!(h.dxfer_len, 4096);
        assert_eq!(h.dxferp as usize, payload.as_ptr() as usize);

        let tur = [0u8; 6];
        let h = build_header(&tur, &mut DataDirection::None, &mut sense, T).unwrap();
        assert_eq!(h.dxfer_direction, SG_DXFER_NONE);
        assert_eq!(h.dxfer_len, 0);
        assert!(h.dxferp.is_null());
        assert_eq!(h.timeout, 60_000);
    }

    #[test]
    fn header_timeout_saturates_and_cdb_length_checked() {
        let mut sense = [0u8; SENSE_BUFFER_LEN];
        let h = build_header(
            &[0u8; 16],
            &mut DataDirection::None,
            &mut sense,
            Duration::from_secs(u64::MAX),
        )
        .unwrap();
        assert_eq!(h.timeout, u32::MAX);
        assert_eq!(h.cmd_len, 16);
        for bad in [0usize, 5, 17] {
            let cdb = vec![0u8; bad];
            let err = build_header(&cdb, &mut DataDirection::None, &mut sense, T).unwrap_err();
            assert!(matches!(err, ScsiError::InvalidCdb(n) if n == bad));
        }
    }

    #[test]
    fn good_status_reports_residual() {
        let c = classify(&outcome(0, 0, 0, 24, 0), &[], 96, T).unwrap();
        assert_eq!(
            c,
            Completion {
                transferred: 72,
                residual: 24
            }
        );
        // A bogus negative or too large resid is clamped.
        let c = classify(&outcome(0, 0, 0, -5, 0), &[], 10, T).unwrap();
        assert_eq!(
            c,
            Completion {
                transferred: 10,
                residual: 0
            }
        );
        let c = classify(&outcome(0, 0, 0, 500, 0), &[], 10, T).unwrap();
        assert_eq!(
            c,
            Completion {
                transferred: 0,
                residual: 10
            }
        );
    }

    #[test]
    fn check_condition_decodes_sense() {
        let sense = SenseData::new(SenseKey::NoSense, 0, 1)
            .with_filemark()
            .to_fixed_bytes();
        let err = classify(
            &outcome(0x02, 0, DRIVER_SENSE, 4096, sense.len()),
            &sense,
            65536,
            T,
        )
        .unwrap_err();
        match err {
            ScsiError::CheckCondition {
                sense,
                transferred,
                residual,
            } => {
                assert!(sense.filemark);
                assert_eq!((transferred, residual), (61440, 4096));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn check_condition_without_sense() {
        let err = classify(&outcome(0x02, 0, 0, 0, 0), &[0u8; 64], 0, T).unwrap_err();
        assert!(matches!(err, ScsiError::NoSense));
        // Only sb_len_wr bytes count, even if the buffer holds more.
        let sense = SenseData::new(SenseKey::MediumError, 0x0c, 0).to_fixed_bytes();
        let err = classify(&outcome(0x02, 0, DRIVER_SENSE, 0, 2), &sense, 0, T).unwrap_err();
        assert!(matches!(err, ScsiError::NoSense));
    }

    #[test]
    fn other_status_values() {
        for st in [
            status::BUSY,
            status::RESERVATION_CONFLICT,
            status::TASK_SET_FULL,
        ] {
            let err = classify(&outcome(st, 0, 0, 0, 0), &[], 0, T).unwrap_err();
            assert!(matches!(err, ScsiError::Status(s) if s == st));
        }
        assert!(classify(&outcome(status::CONDITION_MET, 0, 0, 0, 0), &[], 0, T).is_ok());
    }

    #[test]
    fn host_and_driver_failures() {
        let err = classify(&outcome(0, DID_TIME_OUT, 0, 0, 0), &[], 0, T).unwrap_err();
        assert!(matches!(err, ScsiError::Timeout(t) if t == T));
        let err = classify(&outcome(0, 0x01, 0, 0, 0), &[], 0, T).unwrap_err();
        assert!(matches!(
            err,
            ScsiError::Transport {
                host_status: 0x01,
                driver_status: 0
            }
        ));
        let err = classify(&outcome(0, 0, DRIVER_TIMEOUT, 0, 0), &[], 0, T).unwrap_err();
        assert!(matches!(err, ScsiError::Timeout(_)));
        // Host status wins over a CHECK CONDITION status.
        let err = classify(&outcome(0x02, 0x07, DRIVER_SENSE, 0, 0), &[], 0, T).unwrap_err();
        assert!(matches!(
            err,
            ScsiError::Transport {
                host_status: 0x07,
                ..
            }
        ));
        // Suggestion bits in the upper nibble with DRIVER_SENSE are not a failure.
        let sense = SenseData::new(SenseKey::NotReady, 0x3a, 0).to_fixed_bytes();
        let err =
            classify(&outcome(0x02, 0, 0x10 | DRIVER_SENSE, 0, 18), &sense, 0, T).unwrap_err();
        assert!(err
            .sense()
            .is_some_and(|s| s.is(SenseKey::NotReady, 0x3a, 0)));
    }

    #[test]
    fn open_errors_map_to_device_errors() {
        let e = open_error("/dev/sg9", io::Error::from_raw_os_error(libc::ENOENT));
        assert!(matches!(e, DeviceError::NotFound { ref path } if path == "/dev/sg9"));
        let e = open_error("x", io::Error::from_raw_os_error(libc::ENXIO));
        assert!(matches!(e, DeviceError::NotFound { .. }));
        let e = open_error("x", io::Error::from_raw_os_error(libc::EBUSY));
        assert!(matches!(e, DeviceError::Busy { .. }));
        let e = open_error("x", io::Error::from_raw_os_error(libc::EACCES));
        assert!(matches!(e, DeviceError::PermissionDenied { .. }));
        let e = open_error("x", io::Error::from_raw_os_error(libc::EIO));
        assert!(matches!(e, DeviceError::Io { .. }));
    }

    #[test]
    fn transfer_limit_is_the_smallest_of_queue_and_segments() {
        // mhVTL's pseudo HBA: max_sectors 2560 (1280 KiB), SG_ALL = 128 entries.
        let mhvtl = TransferLimit {
            queue_max_bytes: Some(1280 * 1024),
            max_segments: Some(128),
            page_size: 4096,
            reserved_size: Some(32 * 1024),
        };
        assert_eq!(mhvtl.bytes(), 512 * 1024);
        assert_eq!(
            mhvtl.to_string(),
            "524288 bytes (queue max_sectors 1310720 bytes, 128 segments x 4096 bytes)"
        );
        // Built with 2048 entries: the queue is the limit.
        let wide = TransferLimit {
            max_segments: Some(2048),
            ..mhvtl
        };
        assert_eq!(wide.bytes(), 1280 * 1024);
        let queue_only = TransferLimit {
            max_segments: None,
            ..mhvtl
        };
        assert_eq!(queue_only.bytes(), 1280 * 1024);
        let segments_only = TransferLimit {
            queue_max_bytes: None,
            ..mhvtl
        };
        assert_eq!(segments_only.bytes(), 512 * 1024);
        let reserved = TransferLimit {
            queue_max_bytes: None,
            max_segments: None,
            ..mhvtl
        };
        assert_eq!(reserved.bytes(), 32 * 1024);
        assert_eq!(
            TransferLimit {
                reserved_size: None,
                ..reserved
            }
            .bytes(),
            FALLBACK_MAX_TRANSFER
        );
        // A huge table cannot overflow.
        let huge = TransferLimit {
            queue_max_bytes: None,
            max_segments: Some(usize::MAX),
            ..mhvtl
        };
        assert_eq!(huge.bytes(), usize::MAX);
    }

    #[test]
    fn einval_on_a_large_transfer_names_the_host_adapter_limit() {
        let e = ioctl_error("/dev/sg0", nix::Error::EINVAL, 1310720, 524288);
        assert!(matches!(
            e,
            ScsiError::TransferTooLarge {
                len: 1310720,
                max: 524288
            }
        ));
        assert_eq!(
            e.to_string(),
            "the host adapter cannot move 1310720 bytes in one command (limit 524288)"
        );
        // Within what the driver reported: the kernel's word is final.
        let e = ioctl_error("/dev/sg0", nix::Error::EINVAL, 528384, 1310720);
        assert!(matches!(e, ScsiError::TransferRefused { len: 528384, .. }));
        assert!(e.to_string().contains("cannot move 528384 bytes"), "{e}");
        // Small transfers and other errors stay what they are.
        let e = ioctl_error("/dev/sg0", nix::Error::EINVAL, 512, 524288);
        assert!(
            matches!(e, ScsiError::Device(DeviceError::Io { .. })),
            "{e:?}"
        );
        let e = ioctl_error("/dev/sg0", nix::Error::EIO, 1310720, 524288);
        assert!(
            matches!(e, ScsiError::Device(DeviceError::Io { .. })),
            "{e:?}"
        );
    }

    #[test]
    fn open_regular_file_is_not_sg() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sg42");
        std::fs::write(&f, b"").unwrap();
        let err = SgDevice::open(f.to_str().unwrap()).unwrap_err();
        assert!(
            matches!(err, ScsiError::Device(DeviceError::NotSgDevice { .. })),
            "{err:?}"
        );
    }

    /// Field offsets of sg_io_hdr_t on LP64 (x86_64, aarch64), 88 bytes.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn header_layout_matches_kernel_abi() {
        use std::mem::offset_of;
        assert_eq!(std::mem::size_of::<SgIoHdr>(), 88);
        let offsets = [
            (offset_of!(SgIoHdr, interface_id), 0),
            (offset_of!(SgIoHdr, dxfer_direction), 4),
            (offset_of!(SgIoHdr, cmd_len), 8),
            (offset_of!(SgIoHdr, mx_sb_len), 9),
            (offset_of!(SgIoHdr, iovec_count), 10),
            (offset_of!(SgIoHdr, dxfer_len), 12),
            (offset_of!(SgIoHdr, dxferp), 16),
            (offset_of!(SgIoHdr, cmdp), 24),
            (offset_of!(SgIoHdr, sbp), 32),
            (offset_of!(SgIoHdr, timeout), 40),
            (offset_of!(SgIoHdr, flags), 44),
            (offset_of!(SgIoHdr, pack_id), 48),
            (offset_of!(SgIoHdr, usr_ptr), 56),
            (offset_of!(SgIoHdr, status), 64),
            (offset_of!(SgIoHdr, masked_status), 65),
            (offset_of!(SgIoHdr, msg_status), 66),
            (offset_of!(SgIoHdr, sb_len_wr), 67),
            (offset_of!(SgIoHdr, host_status), 68),
            (offset_of!(SgIoHdr, driver_status), 70),
            (offset_of!(SgIoHdr, resid), 72),
            (offset_of!(SgIoHdr, duration), 76),
            (offset_of!(SgIoHdr, info), 80),
        ];
        for (i, (got, want)) in offsets.iter().enumerate() {
            assert_eq!(got, want, "field #{i}");
        }
    }
}
