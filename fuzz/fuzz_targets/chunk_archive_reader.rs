//! Chunk archive reader over any tape image: entries handed out are always
//! verified (digest equals SHA-256 of the data), never a wrong chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbs_tape::format::{scan_tape, sha256, ChunkArchiveReader, MemoryTape};

fuzz_target!(|data: &[u8]| {
    let mut image = b"PTAPEIMG".to_vec();
    image.extend_from_slice(data);
    let Ok(tape) = MemoryTape::from_image(&image) else {
        return;
    };
    let mut tape = tape.with_max_block_size(1 << 20);
    if let Ok(reader) = ChunkArchiveReader::new(&mut tape) {
        for entry in reader.flatten() {
            assert_eq!(sha256(&entry.data), entry.digest);
        }
    }
    tape.rewind();
    for _ in scan_tape(&mut tape, 0) {}
});
