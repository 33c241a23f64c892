//! Block framing: any bytes as one block, and any bytes as a tape image
//! read stream by stream, give a typed error or data, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbs_tape::format::block::check_block;
use pbs_tape::format::{BlockReader, MemoryTape};

fuzz_target!(|data: &[u8]| {
    let _ = check_block(data, 0);
    let mut image = b"PTAPEIMG".to_vec();
    image.extend_from_slice(data);
    if let Ok(tape) = MemoryTape::from_image(&image) {
        let mut tape = tape.with_max_block_size(1 << 20);
        for _ in 0..4 {
            let mut reader = BlockReader::with_incomplete(&mut tape, true);
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
});
