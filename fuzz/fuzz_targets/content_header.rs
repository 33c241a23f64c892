//! Content header parser: any bytes give a header or a typed error; a
//! parsed header encodes back to the same 40 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbs_tape::format::{ContentHeader, CONTENT_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = ContentHeader::parse(data) {
        let encoded = header.encode();
        assert_eq!(encoded[..24], data[..24]);
        assert_eq!(encoded.len(), CONTENT_HEADER_LEN);
    }
});
