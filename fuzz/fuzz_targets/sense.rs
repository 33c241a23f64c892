//! Sense data parser: any bytes give sense data or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pbs_tape::scsi::SenseData::parse(data);
});
