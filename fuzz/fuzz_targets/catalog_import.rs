//! Catalog archive import (what a catalog scan does with the catalog
//! archive of a tape when the database is lost): any payload gives a typed
//! error, or is imported into an empty catalog; importing it twice adds
//! nothing the second time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptape::catalog::{Catalog, TapeCatalog};

fuzz_target!(|data: &[u8]| {
    let tape = match TapeCatalog::decode(data) {
        Ok(tape) => tape,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    let mut catalog = Catalog::open_in_memory().expect("in-memory catalog");
    match catalog.import_tape(&tape) {
        Ok(_) => {
            let again = catalog
                .import_tape(&tape)
                .expect("import the same tape again");
            assert_eq!(again, 0, "a second import added archives");
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
