//! Sense decoding against captured byte strings (tests/data/sense/*.hex)
//! and property tests: random bytes never panic, encode -> parse round-trips.

mod hex_fixture;

use pbs_tape::scsi::{SenseData, SenseKey, SenseKeySpecific, SenseParseError};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    hex_fixture::read("sense", name)
}

#[test]
fn fixed_tape_medium_error_with_information() {
    let s = SenseData::parse(&fixture("fixed_tape_medium_format_corrupted.hex")).unwrap();
    assert_eq!(s.response_code, 0x70);
    assert!(!s.deferred);
    assert_eq!(s.key, SenseKey::MediumError);
    assert_eq!((s.asc, s.ascq), (0x31, 0x00));
    assert_eq!(s.information, Some(0x2ec));
    assert_eq!(s.sense_key_specific, None, "bytes 15..18 were not returned");
    assert!(!s.filemark && !s.eom && !s.ili);
    assert_eq!(
        s.to_string(),
        "MEDIUM ERROR: medium format corrupted (03/3100) information 748"
    );
}

#[test]
fn fixed_illegal_request_field_pointer() {
    let s = SenseData::parse(&fixture("fixed_illegal_opcode_field_pointer.hex")).unwrap();
    assert_eq!(s.key, SenseKey::IllegalRequest);
    assert!(s.is(SenseKey::IllegalRequest, 0x20, 0x00));
    assert_eq!(s.information, None, "VALID is clear");
    assert_eq!(
        s.key_specific(),
        Some(SenseKeySpecific::FieldPointer {
            in_cdb: true,
            bit: None,
            byte: 0
        })
    );
    assert_eq!(
        s.to_string(),
        "ILLEGAL REQUEST: invalid command operation code (05/2000), CDB byte 0"
    );
}

#[test]
fn fixed_command_specific_and_no_sksv() {
    let s = SenseData::parse(&fixture("fixed_medium_error_command_specific.hex")).unwrap();
    assert_eq!(s.key, SenseKey::MediumError);
    assert_eq!((s.asc, s.ascq), (0x11, 0x04));
    assert_eq!(s.command_specific, Some(0x4051_e001));
    assert_eq!(s.sense_key_specific, None);
    assert_eq!(s.fru, 0);
}

#[test]
fn descriptor_field_pointer_and_fru() {
    let s = SenseData::parse(&fixture("descriptor_field_pointer_fru.hex")).unwrap();
    assert_eq!(s.response_code, 0x72);
    assert_eq!(s.key, SenseKey::IllegalRequest);
    assert_eq!((s.asc, s.ascq), (0x24, 0x00));
    assert_eq!(s.fru, 0x01);
    assert_eq!(s.sense_key_specific, Some([0x4c, 0x00, 0x01]));
    assert_eq!(
        s.key_specific(),
        Some(SenseKeySpecific::FieldPointer {
            in_cdb: true,
            bit: Some(4),
            byte: 1
        })
    );
    assert!(s.to_string().contains("CDB byte 1 bit 4"));
}

#[test]
fn descriptor_unknown_descriptor_is_skipped() {
    let s = SenseData::parse(&fixture("descriptor_ata_passthrough.hex")).unwrap();
    assert_eq!(s.key, SenseKey::RecoveredError);
    assert_eq!((s.asc, s.ascq), (0x00, 0x1d));
    assert_eq!(s.information, None);
    assert_eq!(s.sense_key_specific, None);
    assert_eq!(s.asc_text(), "ATA pass through information available");
}

#[test]
fn descriptor_stream_commands_and_information() {
    // 0/00/01 FILEMARK, ILI, information (residue) 512: stream commands
    // descriptor 04h and information descriptor 00h.
    let bytes = [
        0x72, 0x00, 0x00, 0x01, 0, 0, 0, 0x10, // header, additional length 16
        0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x02, 0x00, // information
        0x04, 0x02, 0x00, 0xa0, // stream commands: FILEMARK + ILI
    ];
    let s = SenseData::parse(&bytes).unwrap();
    assert!(s.filemark && s.ili && !s.eom);
    assert_eq!(s.information, Some(512));
    assert_eq!(s.key, SenseKey::NoSense);
    assert_eq!(
        s.to_string(),
        "NO SENSE: filemark detected (00/0001) residue 512 [FILEMARK ILI]"
    );
}

#[test]
fn ili_with_negative_residue() {
    // Fixed format: block larger than requested, residue -1024 (0xFFFFFC00).
    let s = SenseData::new(SenseKey::NoSense, 0, 0)
        .with_ili()
        .with_information(0xffff_fc00);
    let parsed = SenseData::parse(&s.to_fixed_bytes()).unwrap();
    assert!(parsed.to_string().contains("residue -1024"), "{parsed}");
    // Descriptor format carries 8 bytes.
    let s = SenseData::new(SenseKey::NoSense, 0, 0)
        .with_ili()
        .with_information((-1024i64) as u64);
    let parsed = SenseData::parse(&s.to_descriptor_bytes()).unwrap();
    assert!(parsed.to_string().contains("residue -1024"), "{parsed}");
}

#[test]
fn fixed_deferred_write_error_and_flags() {
    // Deferred (0x71) write error with EOM and VALID/INFORMATION.
    let mut b = [0u8; 18];
    b[0] = 0x80 | 0x71;
    b[2] = 0x40 | 0x03;
    b[3..7].copy_from_slice(&1234u32.to_be_bytes());
    b[7] = 10;
    b[12] = 0x0c;
    let s = SenseData::parse(&b).unwrap();
    assert!(s.deferred && s.eom);
    assert_eq!(s.key, SenseKey::MediumError);
    assert_eq!(
        s.to_string(),
        "deferred error: MEDIUM ERROR: write error (03/0C00) information 1234 [EOM]"
    );
}

#[test]
fn key_specific_variants() {
    let ns = SenseData::new(SenseKey::NotReady, 0x04, 0x07).with_sense_key_specific([0, 0x80, 0]);
    let p = ns.key_specific().unwrap();
    assert_eq!(p, SenseKeySpecific::Progress(0x8000));
    assert_eq!(p.progress_fraction(), Some(0.5));
    let me = SenseData::new(SenseKey::MediumError, 0x11, 0).with_sense_key_specific([0, 0, 7]);
    assert_eq!(
        me.key_specific(),
        Some(SenseKeySpecific::ActualRetryCount(7))
    );
    let ca = SenseData::new(SenseKey::CopyAborted, 0x0d, 0).with_sense_key_specific([0x2a, 0, 9]);
    assert_eq!(
        ca.key_specific(),
        Some(SenseKeySpecific::SegmentPointer {
            segment_descriptor: true,
            bit: Some(2),
            byte: 9
        })
    );
    let ua = SenseData::new(SenseKey::UnitAttention, 0x29, 0).with_sense_key_specific([1, 0, 0]);
    assert_eq!(
        ua.key_specific(),
        Some(SenseKeySpecific::UnitAttentionQueueOverflow(true))
    );
}

#[test]
fn malformed_inputs_are_errors() {
    assert_eq!(SenseData::parse(&[]), Err(SenseParseError::Empty));
    assert_eq!(
        SenseData::parse(&[0x70, 0]),
        Err(SenseParseError::TooShort(2))
    );
    assert_eq!(
        SenseData::parse(&[0x72, 0, 0]),
        Err(SenseParseError::TooShort(3))
    );
    assert_eq!(
        SenseData::parse(&[0x7f, 0, 0, 0]),
        Err(SenseParseError::UnknownResponseCode(0x7f))
    );
    // Descriptor whose length runs past the end: header fields still decode.
    let s = SenseData::parse(&[0x72, 0x03, 0x11, 0x00, 0, 0, 0, 0x20, 0x00, 0x0a, 0x80]).unwrap();
    assert_eq!(s.key, SenseKey::MediumError);
    assert_eq!(s.information, None);
}

fn sense_strategy() -> impl Strategy<Value = SenseData> {
    (
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
        proptest::option::of(any::<u32>()),
        proptest::option::of(1u32..),
        any::<(bool, bool, bool)>(),
        proptest::option::of(any::<[u8; 3]>()),
        any::<u8>(),
    )
        .prop_map(|(key, asc, ascq, deferred, info, cs, flags, sks, fru)| {
            let mut s = SenseData::new(SenseKey::from_u8(key), asc, ascq);
            if deferred {
                s = s.deferred();
            }
            if let Some(info) = info {
                s = s.with_information(info as u64);
            }
            s.command_specific = cs.map(u64::from);
            s.filemark = flags.0;
            s.eom = flags.1;
            s.ili = flags.2;
            if let Some(sks) = sks {
                s = s.with_sense_key_specific([sks[0] & 0x7f, sks[1], sks[2]]);
            }
            s.fru = fru;
            s
        })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(s) = SenseData::parse(&bytes) {
            let _ = s.to_string();
            let _ = s.key_specific();
        }
    }

    #[test]
    fn random_descriptor_bodies_never_panic(
        key in any::<u8>(),
        add_len in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..260),
    ) {
        let mut bytes = vec![0x72, key, 0, 0, 0, 0, 0, add_len];
        bytes.extend_from_slice(&body);
        let s = SenseData::parse(&bytes).unwrap();
        let _ = s.to_string();
    }

    #[test]
    fn fixed_round_trip(s in sense_strategy()) {
        prop_assert_eq!(SenseData::parse(&s.to_fixed_bytes()).unwrap(), s);
    }

    #[test]
    fn descriptor_round_trip(s in sense_strategy(), wide_info in any::<u64>()) {
        let mut s = s;
        if s.information.is_some() {
            s.information = Some(wide_info);
        }
        let mut expected = s.clone();
        expected.response_code = if s.deferred { 0x73 } else { 0x72 };
        prop_assert_eq!(SenseData::parse(&s.to_descriptor_bytes()).unwrap(), expected);
    }
}

#[test]
fn unsupported_request_classification() {
    let opcode = SenseData::new(SenseKey::IllegalRequest, 0x20, 0);
    let field = SenseData::new(SenseKey::IllegalRequest, 0x24, 0);
    let parameter = SenseData::new(SenseKey::IllegalRequest, 0x26, 0);
    let not_ready = SenseData::new(SenseKey::NotReady, 0x24, 0);
    assert!(opcode.is_unsupported_request() && !opcode.is_invalid_field_in_cdb());
    assert!(field.is_unsupported_request() && field.is_invalid_field_in_cdb());
    assert!(!parameter.is_unsupported_request() && !parameter.is_invalid_field_in_cdb());
    assert!(!not_ready.is_unsupported_request() && !not_ready.is_invalid_field_in_cdb());
}
