//! READ ELEMENT STATUS / MODE SENSE page 0x1D decoding on byte captures of
//! several library personalities (see tests/data/element-status/README.md),
//! and property tests: random or truncated data never panics and never
//! yields more elements than fit in the bytes.

mod hex_fixture;

use pbs_tape::changer::{
    parse_element_status, ChangerStatus, ElementAddressAssignment, ElementType,
};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    hex_fixture::read("element-status", name)
}

#[test]
fn stk_l80_mode_page() {
    let a = ElementAddressAssignment::from_mode_data(&fixture("stk-l80-mode-1d.hex"), 4).unwrap();
    assert_eq!((a.transport.first, a.transport.count), (1, 1));
    assert_eq!((a.storage.first, a.storage.count), (1000, 40));
    assert_eq!((a.import_export.first, a.import_export.count), (10, 4));
    assert_eq!((a.data_transfer.first, a.data_transfer.count), (500, 4));
}

#[test]
fn stk_l80_drives_with_t10_dvcid() {
    let r = parse_element_status(&fixture("stk-l80-drives-dvcid.hex")).unwrap();
    assert!(!r.truncated);
    assert_eq!(r.elements_available, 4);
    let addrs: Vec<u16> = r.elements.iter().map(|e| e.address).collect();
    assert_eq!(addrs, vec![500, 501, 502, 503]);
    let status = ChangerStatus::from_elements(&r.elements);
    let serials: Vec<_> = status
        .drives
        .iter()
        .map(|d| d.serial.clone().unwrap())
        .collect();
    assert_eq!(serials, ["XYZZY_B1", "XYZZY_B2", "XYZZY_B3", "XYZZY_B4"]);
    let id = status.drives[0].device_id.as_ref().unwrap();
    assert_eq!(id.vendor.as_deref(), Some("STK"));
    assert_eq!(id.product.as_deref(), Some("T10000B"));
    assert!(status
        .drives
        .iter()
        .all(|d| !d.full && d.access && d.barcode.is_none()));
}

#[test]
fn autoloader_without_import_export_and_nul_tags() {
    let r = parse_element_status(&fixture("autoloader-8slot-nul-tags.hex")).unwrap();
    let s = ChangerStatus::from_elements(&r.elements);
    assert_eq!(s.transports.len(), 1);
    assert_eq!(s.slots.len(), 8);
    assert!(s.import_export.is_empty());
    let tags: Vec<Option<&str>> = s.slots.iter().map(|s| s.barcode.as_deref()).collect();
    assert_eq!(
        tags,
        [
            Some("ABC001L9"),
            Some("ABC002L9"),
            None,
            Some("CLN001CU"),
            None,
            None,
            Some("ABC007L9"),
            None
        ]
    );
    assert_eq!(s.drives.len(), 1);
    let d = &s.drives[0];
    assert_eq!(d.barcode.as_deref(), Some("ABC003L9"));
    assert_eq!(d.source_slot, Some(2));
    assert_eq!(d.serial, None, "no DVCID: no serial");
    assert!(d.device_id.is_none());
}

#[test]
fn library_with_import_export_and_serial_only_dvcid() {
    let r = parse_element_status(&fixture("library-ie-dvcid-serial.hex")).unwrap();
    let s = ChangerStatus::from_elements(&r.elements);
    assert_eq!(s.slots.len(), 4);
    assert_eq!(s.import_export.len(), 2);
    let ie0 = &s.import_export[0];
    assert_eq!(
        (ie0.number, ie0.full, ie0.barcode.as_deref()),
        (5, true, Some("NEW001L8"))
    );
    let ie1 = &s.import_export[1];
    let ex = ie1.exception.as_ref().unwrap();
    assert_eq!((ex.asc, ex.ascq), (0x3b, 0x12));
    assert!(ie0.exception.is_none());
    assert_eq!(s.drives[0].serial.as_deref(), Some("HU1234567A"));
    assert_eq!(s.drives[1].serial.as_deref(), Some("HU1234567B"));
    assert_eq!(s.drives[0].source_slot, Some(2));
    assert_eq!(s.drives[0].barcode.as_deref(), Some("LIB002L8"));
    let raw_ie = r
        .elements
        .iter()
        .find(|e| e.element_type == ElementType::ImportExport && e.full)
        .unwrap();
    assert!(raw_ie.import_export);
}

#[test]
fn old_changer_without_tags_and_odd_byte_count() {
    let r = parse_element_status(&fixture("old-no-voltag-16byte.hex")).unwrap();
    assert_eq!(r.elements.len(), 3, "stray bytes are no element");
    assert!(r.elements.iter().all(|e| e.primary_tag.is_none()));
    assert_eq!(
        r.elements.iter().map(|e| e.full).collect::<Vec<_>>(),
        [true, false, true]
    );
}

#[test]
fn every_fixture_truncated_anywhere_parses_a_prefix() {
    for name in [
        "stk-l80-drives-dvcid.hex",
        "autoloader-8slot-nul-tags.hex",
        "library-ie-dvcid-serial.hex",
        "old-no-voltag-16byte.hex",
    ] {
        let full = fixture(name);
        let all = parse_element_status(&full).unwrap().elements;
        for cut in 8..full.len() {
            let part = parse_element_status(&full[..cut]).unwrap();
            assert!(part.truncated, "{name} cut at {cut}");
            assert!(part.elements.len() <= all.len());
            assert_eq!(
                part.elements[..],
                all[..part.elements.len()],
                "{name} cut at {cut}"
            );
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic_nor_invent(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(r) = parse_element_status(&bytes) {
            // Every element needs its own >= 3 descriptor bytes after the
            // 8-byte header and an 8-byte page header.
            prop_assert!(r.elements.len() * 3 + 16 <= bytes.len().max(16));
        }
    }

    #[test]
    fn structured_pages_truncated_never_invent(
        kind in 1u8..=4,
        flags in prop_oneof![Just(0u8), Just(0x80), Just(0xc0)],
        desc_len in 3u16..140,
        count in 0usize..12,
        fill in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let body_len = desc_len as usize * count;
        let mut page = vec![kind, flags];
        page.extend_from_slice(&desc_len.to_be_bytes());
        page.push(0);
        page.extend_from_slice(&(body_len as u32).to_be_bytes()[1..]);
        page.extend(std::iter::repeat_n(fill, body_len));
        let mut bytes = vec![0, 0, 0, count as u8, 0];
        bytes.extend_from_slice(&(page.len() as u32).to_be_bytes()[1..]);
        bytes.extend_from_slice(&page);
        let full = parse_element_status(&bytes).unwrap();
        prop_assert_eq!(full.elements.len(), count);
        let n = cut.index(bytes.len() + 1);
        if let Ok(part) = parse_element_status(&bytes[..n]) {
            let fits = n.saturating_sub(16) / desc_len as usize;
            prop_assert!(part.elements.len() <= fits);
            prop_assert_eq!(&part.elements[..], &full.elements[..part.elements.len()]);
        }
    }
}
