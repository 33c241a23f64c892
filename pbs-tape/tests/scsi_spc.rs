//! SPC command wrappers against a scripted device that answers like a real
//! one: full data truncated to the allocation length, CDBs recorded.

use pbs_tape::scsi::spc::{self, Association};
use pbs_tape::scsi::testing::ScriptedTransport;
use pbs_tape::scsi::{ScsiError, SenseData, SenseKey};

/// A device that answers by (opcode, page) with canned data; records every
/// CDB and data-out.
fn fake(answer: fn(&[u8]) -> Result<Vec<u8>, ScsiError>) -> ScriptedTransport {
    ScriptedTransport::new("fake")
        .with_max_transfer(1 << 20)
        .respond_with(answer)
}

fn standard_inquiry() -> Vec<u8> {
    let mut d = vec![0x01, 0x80, 0x06, 0x12, 91, 0, 0, 0];
    d.extend_from_slice(b"IBM     ");
    d.extend_from_slice(b"ULT3580-TD9     ");
    d.extend_from_slice(b"Q3F2");
    d.resize(96, 0);
    d
}

fn vpd(page: u8, body: &[u8]) -> Vec<u8> {
    let mut d = vec![0x01, page];
    d.extend_from_slice(&(body.len() as u16).to_be_bytes());
    d.extend_from_slice(body);
    d
}

fn tape_drive(cdb: &[u8]) -> Result<Vec<u8>, ScsiError> {
    match (cdb[0], cdb.get(1).copied().unwrap_or(0) & 1, cdb[2]) {
        (0x00, _, _) => Ok(Vec::new()),
        (0x12, 0, _) => Ok(standard_inquiry()),
        (0x12, 1, 0x00) => Ok(vpd(0x00, &[0x00, 0x80, 0x83])),
        (0x12, 1, 0x80) => Ok(vpd(0x80, b"  10WT012345\0")),
        (0x12, 1, 0x83) => {
            let mut body = vec![0x02, 0x01, 0x00, 0x22];
            body.extend_from_slice(b"IBM     ULT3580-TD9     10WT012345");
            body.extend_from_slice(&[0x01, 0x03, 0x00, 0x08]);
            body.extend_from_slice(&[0x50, 0x05, 0x07, 0x63, 0x12, 0x34, 0x56, 0x78]);
            // Target port, PIV=1, protocol 6 (SAS), relative target port 1.
            body.extend_from_slice(&[0x61, 0x94, 0x00, 0x04, 0, 0, 0, 1]);
            // Truncated trailing descriptor (length 8, only 2 bytes present).
            body.extend_from_slice(&[0x01, 0x03, 0x00, 0x08, 0xaa, 0xbb]);
            Ok(vpd(0x83, &body))
        }
        (0x4d, _, pc_page) => {
            let page = pc_page & 0x3f;
            let params: Vec<u8> = match page {
                0x00 => vec![0x00, 0x0c, 0x2e, 0x31],
                // A 600-byte page: more than the header read, less than 0xFFFF.
                0x17 => (0..600u32).map(|i| i as u8).collect(),
                _ => {
                    return Err(ScsiError::CheckCondition {
                        sense: SenseData::new(SenseKey::IllegalRequest, 0x24, 0),
                        transferred: 0,
                        residual: 0,
                    })
                }
            };
            let mut d = vec![page, 0];
            d.extend_from_slice(&(params.len() as u16).to_be_bytes());
            d.extend_from_slice(&params);
            Ok(d)
        }
        (0x5a, _, _) => {
            // Header (mode data length = total - 2), 8-byte block descriptor, page 0Fh.
            let mut d = vec![0, 0, 0, 0x10, 0, 0, 0, 8];
            d.extend_from_slice(&[0x5c, 0, 0, 0, 0, 0, 0, 0]);
            d.extend_from_slice(&[0x0f, 0x0e, 0xc0, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
            let len = (d.len() - 2) as u16;
            d[..2].copy_from_slice(&len.to_be_bytes());
            Ok(d)
        }
        (0x1a, _, _) => Ok(vec![11, 0, 0x10, 8, 0x5c, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]),
        (0x55, _, _) => Ok(Vec::new()),
        (0x03, _, _) => Ok(SenseData::new(SenseKey::NotReady, 0x04, 0x01)
            .with_sense_key_specific([0, 0x40, 0])
            .to_fixed_bytes()),
        (0xa0, _, _) => {
            let mut d = vec![0, 0, 0, 16, 0, 0, 0, 0];
            d.extend_from_slice(&[0; 8]);
            d.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
            Ok(d)
        }
        _ => Err(ScsiError::CheckCondition {
            sense: SenseData::new(SenseKey::IllegalRequest, 0x20, 0),
            transferred: 0,
            residual: 0,
        }),
    }
}

#[test]
fn inquiry_decodes_standard_data() {
    let mut d = fake(tape_drive);
    let inq = spc::inquiry(&mut d).unwrap();
    assert_eq!(inq.peripheral_type, 1);
    assert_eq!(inq.peripheral_qualifier, 0);
    assert!(inq.removable);
    assert_eq!(inq.version, 6);
    assert_eq!(inq.vendor, "IBM");
    assert_eq!(inq.product, "ULT3580-TD9");
    assert_eq!(inq.revision, "Q3F2");
    assert_eq!(d.cdbs()[0], [0x12, 0, 0, 0, 96, 0]);
}

#[test]
fn inquiry_too_short_is_typed_error() {
    let mut d = fake(|_| Ok(vec![0x01, 0x80, 0x06]));
    let err = spc::inquiry(&mut d).unwrap_err();
    assert!(
        matches!(
            err,
            ScsiError::InvalidResponse {
                command: "INQUIRY",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn vpd_pages_read_length_first() {
    let mut d = fake(tape_drive);
    assert_eq!(
        spc::supported_vpd_pages(&mut d).unwrap(),
        [0x00, 0x80, 0x83]
    );
    // Header read (alloc 4), then the whole page (alloc 4 + 3).
    assert_eq!(d.cdbs()[0], [0x12, 0x01, 0x00, 0, 4, 0]);
    assert_eq!(d.cdbs()[1], [0x12, 0x01, 0x00, 0, 7, 0]);
    assert_eq!(spc::unit_serial_number(&mut d).unwrap(), "10WT012345");
}

#[test]
fn device_identification_designators() {
    let mut d = fake(tape_drive);
    let ids = spc::device_identification(&mut d).unwrap();
    assert_eq!(ids.len(), 3, "truncated trailing descriptor is dropped");
    assert_eq!(ids[0].designator_type, 1);
    assert_eq!(ids[0].type_name(), "T10 vendor ID");
    assert_eq!(ids[0].to_text(), "IBM     ULT3580-TD9     10WT012345");
    assert_eq!(ids[0].association, Association::LogicalUnit);
    assert_eq!(ids[1].to_text(), "naa.5005076312345678");
    assert_eq!(ids[2].association, Association::TargetPort);
    assert_eq!(ids[2].protocol, Some(6));
    assert_eq!(ids[2].designator_type, 4);
    assert_eq!(ids[2].value, [0, 0, 0, 1]);
}

#[test]
fn log_sense_reads_whole_page() {
    let mut d = fake(tape_drive);
    let page = spc::log_sense(&mut d, 0x17, 0).unwrap();
    assert_eq!(page.len(), 604);
    assert_eq!(&page[..4], &[0x17, 0, 0x02, 0x58]);
    assert_eq!(page[4 + 599], (599u32 as u8));
    assert_eq!(d.cdbs()[0], [0x4d, 0, 0x57, 0, 0, 0, 0, 0, 4, 0]);
    assert_eq!(d.cdbs()[1], [0x4d, 0, 0x57, 0, 0, 0, 0, 0x02, 0x5c, 0]);
    assert_eq!(
        spc::supported_log_pages(&mut d).unwrap(),
        [0x00, 0x0c, 0x2e, 0x31]
    );
}

#[test]
fn log_sense_unsupported_page_passes_sense_through() {
    let mut d = fake(tape_drive);
    let err = spc::log_sense(&mut d, 0x2e, 0).unwrap_err();
    assert!(err
        .sense()
        .is_some_and(|s| s.is(SenseKey::IllegalRequest, 0x24, 0)));
}

#[test]
fn mode_sense_and_select() {
    let mut d = fake(tape_drive);
    let data = spc::mode_sense10(&mut d, 0x0f, 0, false).unwrap();
    assert_eq!(data.len(), 32);
    assert_eq!(data[8], 0x5c, "density code in the block descriptor");
    assert_eq!(data[16], 0x0f);
    assert_eq!(d.cdbs()[0], [0x5a, 0, 0x0f, 0, 0, 0, 0, 0, 8, 0]);
    assert_eq!(d.cdbs()[1], [0x5a, 0, 0x0f, 0, 0, 0, 0, 0, 32, 0]);

    let six = spc::mode_sense6(&mut d, 0x10, 0x01, true).unwrap();
    assert_eq!(six.len(), 12, "cut to mode data length + 1");
    assert_eq!(d.cdbs()[2], [0x1a, 0x08, 0x10, 0x01, 0xff, 0]);

    spc::mode_select10(&mut d, &data, true).unwrap();
    assert_eq!(d.cdbs()[3], [0x55, 0x11, 0, 0, 0, 0, 0, 0, 32, 0]);
    assert_eq!(d.data_out()[0].1, data);
}

#[test]
fn tur_request_sense_report_luns() {
    let mut d = fake(tape_drive);
    spc::test_unit_ready(&mut d).unwrap();
    assert_eq!(d.cdbs()[0], [0; 6]);
    let sense = spc::request_sense(&mut d).unwrap();
    assert!(sense.is(SenseKey::NotReady, 0x04, 0x01));
    assert_eq!(
        sense.key_specific().and_then(|k| k.progress_fraction()),
        Some(0.25)
    );
    assert_eq!(
        spc::report_luns(&mut d).unwrap(),
        [0, 0x0001_0000_0000_0000]
    );
    assert_eq!(d.cdbs()[2], [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]);
    assert_eq!(d.cdbs()[3], [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0]);
}

/// Answers every command with the same bytes (truncated to the allocation length).
fn garbage(bytes: Vec<u8>) -> ScriptedTransport {
    ScriptedTransport::new("garbage")
        .with_max_transfer(1 << 16)
        .respond_with(move |_| Ok(bytes.clone()))
}

#[test]
fn mode_sense10_with_impossible_length_is_typed_error() {
    // Mode data length 0: shorter than the 8-byte header it is part of.
    let mut g = garbage(vec![0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0x0e]);
    let err = spc::mode_sense10(&mut g, 0x0f, 0, true).unwrap_err();
    assert!(
        matches!(
            err,
            ScsiError::InvalidResponse {
                command: "MODE SENSE(10)",
                ..
            }
        ),
        "{err:?}"
    );
}

proptest::proptest! {
    /// Whatever a device answers, the wrappers return Ok or a typed error.
    #[test]
    fn random_answers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
        let mut g = garbage(bytes);
        let _ = spc::inquiry(&mut g);
        let _ = spc::supported_vpd_pages(&mut g);
        let _ = spc::unit_serial_number(&mut g);
        let _ = spc::device_identification(&mut g);
        let _ = spc::request_sense(&mut g);
        let _ = spc::mode_sense6(&mut g, 0x3f, 0, false);
        let _ = spc::mode_sense10(&mut g, 0x3f, 0xff, false);
        let _ = spc::log_sense(&mut g, 0x17, 0);
        let _ = spc::supported_log_pages(&mut g);
        let _ = spc::report_luns(&mut g);
    }
}
