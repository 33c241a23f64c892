//! The information page decoders never panic, whatever the device sends:
//! arbitrary bytes, and valid pages cut at every length or with lengths
//! that lie.

use pbs_tape::drive::capacity::decode_tape_capacity;
use pbs_tape::drive::density::decode_density_support;
use pbs_tape::drive::encryption::{
    decode_capabilities, decode_next_block_status, decode_status, parse_key_file,
};
use pbs_tape::drive::log_page::parse_log_page;
use pbs_tape::drive::mam::{decode_attribute_list, decode_attribute_values};
use pbs_tape::drive::mode_pages::{decode_mode_data, mode_settings};
use pbs_tape::drive::tape_alert::{decode_tape_alert_page, decode_tape_alert_response};
use pbs_tape::drive::volume_statistics::{decode_partition_records, decode_volume_statistics};
use proptest::prelude::*;

fn decode_all(bytes: &[u8]) {
    let _ = parse_log_page(bytes, bytes.first().map_or(0, |b| b & 0x3f), "fuzz");
    let _ = decode_tape_capacity(bytes);
    let _ = decode_tape_alert_page(bytes);
    let _ = decode_tape_alert_response(bytes);
    let _ = decode_volume_statistics(bytes);
    let _ = decode_partition_records(bytes);
    let _ = decode_density_support(bytes);
    let _ = decode_capabilities(bytes);
    let _ = decode_status(bytes);
    let _ = decode_next_block_status(bytes);
    let _ = decode_attribute_values(bytes);
    let _ = decode_attribute_list(bytes);
    let _ = parse_key_file(bytes);
    for ten in [false, true] {
        if let Ok(md) = decode_mode_data(bytes, ten) {
            let _ = mode_settings(&md);
            let _ = md.encode10(true);
            let _ = md.encode6(false);
        }
    }
}

/// A page-shaped input: a header naming one of our pages with a length
/// that may lie, then random parameters.
fn page_like() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0x00u8, 0x12, 0x17, 0x2e, 0x31]),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(page, len, body)| {
            let mut v = vec![page, 0];
            v.extend_from_slice(&len.to_be_bytes());
            v.extend(body);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn page_shaped_bytes_never_panic(bytes in page_like()) {
        decode_all(&bytes);
    }
}
