//! READ ELEMENT STATUS parser: any bytes give a report or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pbs_tape::changer::parse_element_status(data);
});
