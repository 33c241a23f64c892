//! Snapshot index and metadata stream decoders (what a restore reads back
//! from tape): any bytes give a checked index or a typed error, a decoded
//! index encodes back to the same bytes, and the entry reader never
//! panics and never loops (it resynchronises past damage).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ptape::stream::entry::EntryReader;
use ptape::stream::index::SnapshotIndex;

fuzz_target!(|data: &[u8]| {
    match SnapshotIndex::read(data) {
        Ok(index) => {
            let mut bytes = Vec::new();
            index.write(&mut bytes).expect("encode a decoded index");
            let again = SnapshotIndex::read(&bytes[..]).expect("decode an encoded index");
            assert_eq!(again, index);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    let mut reader = EntryReader::new(data, 0);
    let mut last = None;
    while let Ok(Some((at, entry))) = reader.next_entry() {
        assert!(last.is_none_or(|l| at > l));
        let mut bytes = Vec::new();
        entry.encode_into(&mut bytes).expect("encode a decoded entry");
        last = Some(at);
    }
});
