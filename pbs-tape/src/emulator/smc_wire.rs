//! The emulated changer's own byte-level encoders and CDB field readers
//! (SMC-3), written from the standard's field tables and not from the
//! changer layer's structs (`crate::changer::wire`), so that the changer
//! code's decoders meet a second, independent reading of the standard.
//! Offsets are spelled out per field; the tests pin the bytes.

/// Element type codes (SMC-3 READ ELEMENT STATUS, ELEMENT TYPE CODE).
pub(crate) mod element_type {
    pub const TRANSPORT: u8 = 1;
    pub const STORAGE: u8 = 2;
    pub const IMPORT_EXPORT: u8 = 3;
    pub const DATA_TRANSFER: u8 = 4;
}

/// Mode page codes the changer answers (SMC-3 mode parameters; SPC-5 for 3Fh).
pub(crate) const PAGE_ELEMENT_ADDRESS_ASSIGNMENT: u8 = 0x1d;
pub(crate) const PAGE_TRANSPORT_GEOMETRY: u8 = 0x1e;
pub(crate) const PAGE_DEVICE_CAPABILITIES: u8 = 0x1f;
pub(crate) const PAGE_ALL: u8 = 0x3f;

/// Element descriptor byte 2 bits (SMC-3 element descriptors): FULL, ACCESS;
/// import/export elements also INENAB and EXENAB.
pub(crate) const DESC_FULL: u8 = 1 << 0;
pub(crate) const DESC_ACCESS: u8 = 1 << 3;
pub(crate) const DESC_EXENAB: u8 = 1 << 4;
pub(crate) const DESC_INENAB: u8 = 1 << 5;

/// Length of a volume tag field (volume identifier 32, reserved 2, volume
/// sequence number 2).
pub(crate) const VOLUME_TAG_LEN: usize = 36;
const VOLUME_IDENTIFIER_LEN: usize = 32;

/// One element type's addresses: `count` elements from `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub first: u16,
    pub count: u16,
}

impl Range {
    pub fn contains(&self, address: u16) -> bool {
        address >= self.first && u32::from(address) < u32::from(self.first) + u32::from(self.count)
    }

    /// The address of the element with index `i`.
    pub fn at(&self, i: usize) -> u16 {
        self.first.wrapping_add(i as u16)
    }
}

/// The four element ranges of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addresses {
    pub transport: Range,
    pub storage: Range,
    pub import_export: Range,
    pub data_transfer: Range,
}

fn put16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn put24(out: &mut [u8], at: usize, v: usize) {
    let v = v.min(0xff_ffff) as u32;
    out[at..at + 3].copy_from_slice(&v.to_be_bytes()[1..]);
}

/// A big-endian 16-bit CDB field at `at` (0 when the CDB is too short:
/// callers check the CDB length first).
pub(crate) fn cdb16(cdb: &[u8], at: usize) -> u16 {
    match cdb.get(at..at + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// A big-endian 24-bit CDB field at `at`.
pub(crate) fn cdb24(cdb: &[u8], at: usize) -> usize {
    match cdb.get(at..at + 3) {
        Some(&[a, b, c]) => u32::from_be_bytes([0, a, b, c]) as usize,
        _ => 0,
    }
}

/// Element address assignment page 1Dh: byte 0 page code, byte 1 page
/// length (12h), then first address and number of elements (2 + 2 bytes
/// each) of the medium transport, storage, import/export and data transfer
/// elements, 2 reserved bytes: 20 bytes in all.
pub(crate) fn address_page(a: &Addresses) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = PAGE_ELEMENT_ADDRESS_ASSIGNMENT;
    p[1] = 0x12;
    for (i, r) in [a.transport, a.storage, a.import_export, a.data_transfer]
        .iter()
        .enumerate()
    {
        put16(&mut p, 2 + 4 * i, r.first);
        put16(&mut p, 4 + 4 * i, r.count);
    }
    p
}

/// READ ELEMENT STATUS data header (8 bytes): FIRST ELEMENT ADDRESS
/// REPORTED, NUMBER OF ELEMENTS AVAILABLE, reserved, BYTE COUNT OF REPORT
/// AVAILABLE (24 bits, the bytes after this header).
pub(crate) fn status_header(first: u16, elements: u16, report_bytes: usize) -> [u8; 8] {
    let mut h = [0u8; 8];
    put16(&mut h, 0, first);
    put16(&mut h, 2, elements);
    put24(&mut h, 5, report_bytes);
    h
}

/// Element status page header (8 bytes): ELEMENT TYPE CODE, PVOLTAG (bit
/// 7) / AVOLTAG (bit 6), ELEMENT DESCRIPTOR LENGTH (16 bits), reserved,
/// BYTE COUNT OF DESCRIPTOR DATA AVAILABLE (24 bits).
pub(crate) fn page_header(type_code: u8, pvoltag: bool, desc_len: usize, bytes: usize) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0] = type_code;
    h[1] = if pvoltag { 0x80 } else { 0 };
    put16(&mut h, 2, desc_len.min(0xffff) as u16);
    put24(&mut h, 5, bytes);
    h
}

/// The first 12 bytes of an element descriptor: ELEMENT ADDRESS, flags
/// (byte 2), ADDITIONAL SENSE CODE and QUALIFIER (bytes 4, 5; zero),
/// SVALID (byte 9 bit 7) and SOURCE STORAGE ELEMENT ADDRESS (bytes 10..11).
pub(crate) fn descriptor_head(address: u16, flags: u8, source: Option<u16>) -> [u8; 12] {
    let mut d = [0u8; 12];
    put16(&mut d, 0, address);
    d[2] = flags;
    if let Some(s) = source {
        d[9] = 0x80;
        put16(&mut d, 10, s);
    }
    d
}

/// A primary volume tag: the volume identifier left-aligned and padded
/// with spaces to 32 bytes (all zero for no cartridge), 2 reserved bytes,
/// volume sequence number 0.
pub(crate) fn volume_tag(barcode: Option<&str>) -> [u8; VOLUME_TAG_LEN] {
    let mut t = [0u8; VOLUME_TAG_LEN];
    if let Some(b) = barcode {
        t[..VOLUME_IDENTIFIER_LEN].fill(b' ');
        for (dst, src) in t.iter_mut().zip(b.bytes().take(VOLUME_IDENTIFIER_LEN)) {
            *dst = src;
        }
    }
    t
}

/// A data transfer element's device identifier (DVCID=1): CODE SET 2
/// (ASCII), IDENTIFIER TYPE 1 (T10 vendor identification), reserved,
/// IDENTIFIER LENGTH, then the identifier: vendor (8, space padded),
/// product (16, space padded), serial number.
pub(crate) fn t10_device_identifier(vendor: &str, product: &str, serial: &str) -> Vec<u8> {
    let pad = |s: &str, n: usize| {
        let mut v: Vec<u8> = s.bytes().take(n).collect();
        v.resize(n, b' ');
        v
    };
    let mut ident = pad(vendor, 8);
    ident.extend_from_slice(&pad(product, 16));
    ident.extend_from_slice(serial.as_bytes());
    ident.truncate(usize::from(u8::MAX));
    let mut d = vec![0x02, 0x01, 0x00, ident.len() as u8];
    d.extend_from_slice(&ident);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib() -> Addresses {
        Addresses {
            transport: Range { first: 1, count: 1 },
            storage: Range {
                first: 0x1000,
                count: 16,
            },
            import_export: Range {
                first: 0x10,
                count: 1,
            },
            data_transfer: Range {
                first: 0x100,
                count: 2,
            },
        }
    }

    #[test]
    fn address_page_bytes() {
        assert_eq!(
            address_page(&lib()),
            [
                0x1d, 0x12, // page code, length
                0x00, 0x01, 0x00, 0x01, // transport
                0x10, 0x00, 0x00, 0x10, // storage
                0x00, 0x10, 0x00, 0x01, // import/export
                0x01, 0x00, 0x00, 0x02, // data transfer
                0x00, 0x00,
            ]
        );
        assert!(lib().storage.contains(0x100f) && !lib().storage.contains(0x1010));
    }

    #[test]
    fn headers_and_descriptor_bytes() {
        assert_eq!(
            status_header(0x1000, 3, 0x012345),
            [0x10, 0, 0, 3, 0, 0x01, 0x23, 0x45]
        );
        assert_eq!(
            page_header(2, true, 52, 156),
            [2, 0x80, 0, 52, 0, 0, 0, 156]
        );
        assert_eq!(
            descriptor_head(0x100, DESC_FULL | DESC_ACCESS, Some(0x1002)),
            [0x01, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0x80, 0x10, 0x02]
        );
        let t = volume_tag(Some("ABC001L9"));
        assert_eq!(&t[..10], b"ABC001L9  ");
        assert_eq!(&t[32..], &[0, 0, 0, 0]);
        assert_eq!(volume_tag(None), [0u8; 36]);
        let id = t10_device_identifier("PTAPE", "ULTRIUM-TD9", "S1");
        assert_eq!(&id[..4], &[2, 1, 0, 26]);
        assert_eq!(&id[4..12], b"PTAPE   ");
        assert_eq!(&id[28..], b"S1");
    }

    #[test]
    fn cdb_fields() {
        let cdb = [
            0xb8, 0x12, 0x10, 0x01, 0x00, 0x05, 0x01, 0x00, 0xff, 0xff, 0, 0,
        ];
        assert_eq!(cdb16(&cdb, 2), 0x1001);
        assert_eq!(cdb24(&cdb, 7), 0xffff);
        assert_eq!(cdb16(&cdb[..3], 2), 0);
    }
}
