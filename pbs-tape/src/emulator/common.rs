//! SPC commands every emulated device answers the same way: INQUIRY
//! (standard data and VPD pages 0x00, 0x80, 0x83) and REQUEST SENSE, plus
//! the conversion of internal failures into sense data.

use zerocopy::byteorder::big_endian::U16;
use zerocopy::{Immutable, IntoBytes, KnownLayout, Unaligned};

use super::cdb::{data_in, invalid_field, Cdb, CdbResult, CheckCondition};
use crate::scsi::{DataDirection, SenseData, SenseKey};

/// Peripheral device type of a sequential-access device (tape drive).
pub const PERIPHERAL_TAPE: u8 = 0x01;
/// Peripheral device type of a medium changer.
pub const PERIPHERAL_CHANGER: u8 = 0x08;
/// T10 vendor identification of all emulated devices.
pub const VENDOR: &str = "PTAPE";
/// Product revision level of all emulated devices.
pub const REVISION: &str = "0100";
/// Version descriptor: SPC-4 (SPC-5 table "version descriptor values").
const VERSION_SPC4: u16 = 0x0460;

/// VPD pages answered.
const VPD_SUPPORTED: u8 = 0x00;
const VPD_SERIAL: u8 = 0x80;
const VPD_DEVICE_ID: u8 = 0x83;

/// What INQUIRY reports about a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub peripheral_type: u8,
    /// Removable medium (RMB): set for tape drives.
    pub removable: bool,
    pub product: String,
    pub serial: String,
}

impl Identity {
    /// NAA locally-assigned (type 3) identifier derived from the serial.
    pub fn naa(&self) -> u64 {
        let h = crc32c::crc32c(self.serial.as_bytes()) as u64;
        let h2 = crc32c::crc32c_append(0x5a5a_5a5a, self.serial.as_bytes()) as u64;
        (0x3u64 << 60) | (((h << 28) ^ h2) & 0x0fff_ffff_ffff_ffff)
    }
}

/// Standard INQUIRY data, 96 bytes (SPC-5 6.7.2).
#[derive(IntoBytes, Immutable, KnownLayout, Unaligned)]
#[repr(C)]
struct StandardInquiry {
    peripheral: u8,
    rmb: u8,
    version: u8,
    /// HISUP (bit 4) and RESPONSE DATA FORMAT 2.
    response_format: u8,
    additional_length: u8,
    flags: [u8; 3],
    vendor: [u8; 8],
    product: [u8; 16],
    revision: [u8; 4],
    vendor_specific: [u8; 20],
    reserved1: [u8; 2],
    version_descriptors: [U16; 8],
    reserved2: [u8; 22],
}

/// Space-padded ASCII field.
fn ascii<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [b' '; N];
    for (o, b) in out.iter_mut().zip(s.bytes()) {
        *o = b;
    }
    out
}

/// INQUIRY (opcode 0x12, SPC-5 6.7).
pub fn inquiry(id: &Identity, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
    cdb.reserved(1, 0xfe)?;
    let evpd = cdb.bit(1, 0);
    let page = cdb.byte(2);
    let alloc = cdb.be16(3) as usize;
    let bytes = if !evpd {
        if page != 0 {
            return Err(invalid_field(2));
        }
        standard_inquiry(id)
    } else {
        vpd_page(id, page).ok_or_else(|| invalid_field(2))?
    };
    Ok(respond(data, &bytes, alloc))
}

/// Copy `bytes` into the data-in buffer, truncated to the allocation length.
pub fn respond(data: DataDirection<'_>, bytes: &[u8], alloc: usize) -> crate::scsi::Completion {
    match data {
        DataDirection::FromDevice(buf) => {
            let n = alloc.min(buf.len());
            let mut c = data_in(&mut buf[..n], bytes);
            c.residual = buf.len() - c.transferred;
            c
        }
        _ => super::cdb::no_data(),
    }
}

fn standard_inquiry(id: &Identity) -> Vec<u8> {
    let mut descriptors = [U16::new(0); 8];
    descriptors[0] = U16::new(VERSION_SPC4);
    let data = StandardInquiry {
        peripheral: id.peripheral_type,
        rmb: if id.removable { 0x80 } else { 0 },
        version: 0x06,
        response_format: 0x12,
        additional_length: (std::mem::size_of::<StandardInquiry>() - 5) as u8,
        flags: [0, 0, 0x02], // CMDQUE
        vendor: ascii(VENDOR),
        product: ascii(&id.product),
        revision: ascii(REVISION),
        vendor_specific: [0; 20],
        reserved1: [0; 2],
        version_descriptors: descriptors,
        reserved2: [0; 22],
    };
    data.as_bytes().to_vec()
}

fn vpd_page(id: &Identity, page: u8) -> Option<Vec<u8>> {
    let body: Vec<u8> = match page {
        VPD_SUPPORTED => vec![VPD_SUPPORTED, VPD_SERIAL, VPD_DEVICE_ID],
        VPD_SERIAL => id.serial.as_bytes().to_vec(),
        VPD_DEVICE_ID => {
            let mut t10 = Vec::new();
            t10.extend_from_slice(&ascii::<8>(VENDOR));
            t10.extend_from_slice(&ascii::<16>(&id.product));
            t10.extend_from_slice(id.serial.as_bytes());
            let mut b = Vec::new();
            // T10 vendor ID designator: code set ASCII (2), association 0, type 1.
            b.extend_from_slice(&[0x02, 0x01, 0x00, t10.len() as u8]);
            b.extend_from_slice(&t10);
            // NAA designator: code set binary (1), association 0, type 3.
            b.extend_from_slice(&[0x01, 0x03, 0x00, 0x08]);
            b.extend_from_slice(&id.naa().to_be_bytes());
            b
        }
        _ => return None,
    };
    let mut out = vec![id.peripheral_type, page];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// REQUEST SENSE (opcode 0x03, SPC-5 6.39): report and clear the pending
/// sense (unit attention, deferred error), or NO SENSE.
pub fn request_sense(
    pending: &mut Option<SenseData>,
    cdb: &Cdb<'_>,
    data: DataDirection<'_>,
) -> CdbResult {
    cdb.reserved(1, 0xfe)?;
    cdb.reserved_bytes(2..4)?;
    let desc = cdb.bit(1, 0);
    let alloc = cdb.byte(4) as usize;
    let sense = pending
        .take()
        .unwrap_or_else(|| SenseData::new(SenseKey::NoSense, 0, 0));
    let bytes = if desc {
        sense.to_descriptor_bytes()
    } else {
        sense.to_fixed_bytes()
    };
    Ok(respond(data, &bytes, alloc))
}

/// HARDWARE ERROR, INTERNAL TARGET FAILURE (04/4400): the emulator could not
/// read or write its own files. The cause is logged.
pub fn internal_failure(err: impl std::fmt::Display) -> CheckCondition {
    tracing::warn!("emulated device internal failure: {err}");
    CheckCondition::new(SenseData::new(SenseKey::HardwareError, 0x44, 0x00))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity {
            peripheral_type: PERIPHERAL_TAPE,
            removable: true,
            product: "ULTRIUM-TD9".into(),
            serial: "EMU1234D00".into(),
        }
    }

    fn run(cdb: &[u8], buf: &mut [u8]) -> CdbResult {
        let c = Cdb::parse(cdb)?;
        inquiry(&id(), &c, DataDirection::FromDevice(buf))
    }

    #[test]
    fn standard_data_and_truncation() {
        let mut buf = [0u8; 96];
        let c = run(&[0x12, 0, 0, 0, 96, 0], &mut buf).unwrap();
        assert_eq!(c.transferred, 96);
        assert_eq!(buf[0], PERIPHERAL_TAPE);
        assert_eq!(buf[1], 0x80);
        assert_eq!(buf[4], 91);
        assert_eq!(&buf[8..13], b"PTAPE");
        assert_eq!(&buf[16..27], b"ULTRIUM-TD9");
        let mut small = [0u8; 96];
        let c = run(&[0x12, 0, 0, 0, 36, 0], &mut small).unwrap();
        assert_eq!((c.transferred, c.residual), (36, 60));
    }

    #[test]
    fn vpd_pages() {
        let mut buf = [0u8; 255];
        run(&[0x12, 1, 0x80, 0, 255, 0], &mut buf).unwrap();
        assert_eq!(&buf[4..14], b"EMU1234D00");
        let c = run(&[0x12, 1, 0x83, 0, 255, 0], &mut buf).unwrap();
        assert_eq!(buf[4] & 0x0f, 2);
        assert_eq!(buf[5] & 0x0f, 1);
        let t10_len = buf[7] as usize;
        assert_eq!(&buf[8..13], b"PTAPE");
        let naa = 8 + t10_len;
        assert_eq!(buf[naa + 1] & 0x0f, 3);
        assert_eq!(buf[naa + 4] >> 4, 3);
        assert_eq!(c.transferred, naa + 12);
        let e = run(&[0x12, 1, 0x99, 0, 255, 0], &mut buf).unwrap_err();
        assert_eq!(e.sense.asc, 0x24);
        let e = run(&[0x12, 0, 0x80, 0, 255, 0], &mut buf).unwrap_err();
        assert_eq!(e.sense.sense_key_specific, Some([0x40, 0, 2]));
        let e = run(&[0x12, 2, 0, 0, 255, 0], &mut buf).unwrap_err();
        assert_eq!(e.sense.sense_key_specific, Some([0x48 | 1, 0, 1]));
    }

    #[test]
    fn request_sense_reports_and_clears() {
        let mut pending = Some(SenseData::new(SenseKey::UnitAttention, 0x29, 0));
        let mut buf = [0u8; 32];
        let cdb = [0x03, 0, 0, 0, 18, 0];
        let c = Cdb::parse(&cdb).unwrap();
        let r = request_sense(&mut pending, &c, DataDirection::FromDevice(&mut buf)).unwrap();
        assert_eq!(r.transferred, 18);
        assert_eq!((buf[2] & 0x0f, buf[12]), (6, 0x29));
        let r = request_sense(&mut pending, &c, DataDirection::FromDevice(&mut buf)).unwrap();
        assert_eq!(r.transferred, 18);
        assert_eq!((buf[2] & 0x0f, buf[12]), (0, 0));
    }
}
