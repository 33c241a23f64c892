//! Snapshot manifest decoder (the payload of a snapshot archive read back
//! from tape): any bytes give a checked manifest or a typed error, and a
//! decoded manifest encodes to bytes that decode to the same manifest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptape::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    match Manifest::decode(data) {
        Ok(manifest) => {
            let bytes = manifest.encode().expect("encode a decoded manifest");
            let again = Manifest::decode(&bytes).expect("decode an encoded manifest");
            assert_eq!(again, manifest);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
