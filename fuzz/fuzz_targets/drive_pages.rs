//! Drive information decoders (MAM attributes, volume statistics, TapeAlert,
//! capacity, density support, encryption pages, mode data, log pages, READ
//! POSITION long form, READ BLOCK LIMITS, key files): any bytes give a
//! decoded value or a typed error, never a panic. The first input byte
//! picks the decoder, the rest is the device's answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbs_tape::drive::{
    capacity, density, encryption, log_page, mam, mode_pages, tape_alert, volume_statistics,
    BlockLimits, Position,
};
use ptape_fuzz::exercise;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 18 {
        0 => exercise(mam::decode_attribute_values(bytes)),
        1 => exercise(mam::decode_attribute_list(bytes)),
        2 => exercise(volume_statistics::decode_volume_statistics(bytes)),
        3 => exercise(volume_statistics::decode_partition_records(bytes).ok_or("no records")),
        4 => exercise(tape_alert::decode_tape_alert_page(bytes)),
        5 => exercise(tape_alert::decode_tape_alert_response(bytes)),
        6 => exercise(capacity::decode_tape_capacity(bytes)),
        7 => exercise(density::decode_density_support(bytes)),
        8 => exercise(encryption::decode_capabilities(bytes)),
        9 => exercise(encryption::decode_status(bytes)),
        10 => exercise(encryption::decode_next_block_status(bytes)),
        11 => exercise(encryption::parse_key_file(bytes)),
        12 => exercise(mode_pages::decode_mode_data(bytes, false)),
        13 => exercise(mode_pages::decode_mode_data(bytes, true)),
        14 => exercise(mode_pages::decode_compression_page(bytes)),
        15 => {
            if let Some((&page, rest)) = bytes.split_first() {
                exercise(log_page::parse_log_page(rest, page & 0x3f, "fuzz"));
            }
        }
        16 => {
            let position = Position::decode_long(bytes);
            assert!(position.is_err() || bytes.len() >= 32);
            exercise(position);
        }
        _ => {
            if let Ok(limits) = BlockLimits::decode(bytes) {
                let largest = limits.largest_block(usize::MAX);
                assert!(largest <= 0xff_ffff);
            }
        }
    }
});
