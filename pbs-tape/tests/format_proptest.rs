//! Property tests of the three parsers (block reader, content header,
//! chunk archive reader): random, truncated and bit-flipped input gives a
//! typed error, never a panic, never a wrong chunk.

mod format_util;

use std::collections::HashMap;

use format_util::{chunk, small_config};
use pbs_tape::format::block::check_block;
use pbs_tape::format::{
    scan_tape, sha256, BlockReader, ChunkArchiveReader, ChunkWrite, ContentHeader, ContentType,
    MediaWriter, MemoryTape, ScannedContent,
};
use proptest::prelude::*;

/// A committed tape with one chunk archive of the given chunk sizes
/// (file 0), plus the chunks by digest.
fn archive_tape(sizes: &[usize]) -> (MemoryTape, HashMap<[u8; 32], Vec<u8>>) {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    let mut a = w.start_chunk_archive("p").unwrap();
    let mut chunks = HashMap::new();
    for (i, &len) in sizes.iter().enumerate() {
        let (data, digest) = chunk(i as u64, len);
        assert!(matches!(
            a.add_chunk(&digest, &data).unwrap(),
            ChunkWrite::Stored { .. }
        ));
        chunks.insert(digest, data);
    }
    a.finish().unwrap();
    w.commit().unwrap();
    let mut t = w.into_tape();
    t.rewind();
    (t, chunks)
}

/// Entries as (digest, data).
type Entries = Vec<([u8; 32], Vec<u8>)>;

/// Read every entry the reader hands out until it stops; true when the
/// archive ended cleanly.
fn read_entries(tape: &mut MemoryTape) -> (Entries, bool) {
    let mut out = Vec::new();
    let mut reader = match ChunkArchiveReader::new(tape) {
        Ok(r) => r,
        Err(_) => return (out, false),
    };
    loop {
        match reader.next_entry() {
            Ok(Some(e)) => out.push((e.digest, e.data)),
            Ok(None) => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

fn flip(bytes: &mut [u8], bits: &[usize]) {
    let n = bytes.len() * 8;
    for &b in bits {
        let b = b % n;
        bytes[b / 8] ^= 1 << (b % 8);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn block_check_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), seq in any::<u32>()) {
        let _ = check_block(&bytes, seq);
    }

    #[test]
    fn block_reader_never_panics_on_random_images(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut img = b"PTAPEIMG".to_vec();
        img.extend_from_slice(&bytes);
        if let Ok(mut tape) = MemoryTape::from_image(&img) {
            let mut reader = BlockReader::new(&mut tape);
            let mut buf = [0u8; 64];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 { break; }
            }
        }
    }

    #[test]
    fn content_header_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = ContentHeader::parse(&bytes);
    }

    #[test]
    fn content_header_round_trips(kind in 0usize..5, uuid in any::<u128>(), len in 0u64..=61440) {
        let h = ContentHeader {
            content_type: ContentType::ALL[kind],
            uuid: uuid::Uuid::from_u128(uuid),
            body_len: len,
        };
        prop_assert_eq!(ContentHeader::parse(&h.encode()).unwrap(), h);
    }

    #[test]
    fn content_header_magic_or_length_damage_is_an_error(
        kind in 0usize..5, byte in prop_oneof![0usize..8, 24usize..30, 32usize..36], bit in 0u8..8,
    ) {
        let h = ContentHeader {
            content_type: ContentType::ALL[kind],
            uuid: uuid::Uuid::nil(),
            body_len: 100,
        };
        let mut bytes = h.encode();
        bytes[byte] ^= 1 << bit;
        prop_assert!(ContentHeader::parse(&bytes).is_err());
    }

    #[test]
    fn chunk_archive_round_trips(sizes in proptest::collection::vec(0usize..100_000, 0..6)) {
        let (mut tape, chunks) = archive_tape(&sizes);
        let (entries, ok) = read_entries(&mut tape);
        prop_assert!(ok);
        prop_assert_eq!(entries.len(), sizes.len());
        for (digest, data) in entries {
            prop_assert_eq!(chunks.get(&digest), Some(&data));
        }
    }

    #[test]
    fn bit_flipped_archive_gives_error_never_a_wrong_chunk(
        sizes in proptest::collection::vec(1usize..70_000, 1..4),
        bits in proptest::collection::vec(any::<usize>(), 1..4),
    ) {
        let (tape, chunks) = archive_tape(&sizes);
        let mut img = tape.to_image();
        flip(&mut img, &bits);
        if let Ok(mut damaged) = MemoryTape::from_image(&img) {
            let (entries, ok) = read_entries(&mut damaged);
            prop_assert!(!ok || entries.len() == sizes.len());
            for (digest, data) in entries {
                prop_assert_eq!(sha256(&data), digest);
                prop_assert_eq!(chunks.get(&digest), Some(&data));
            }
        }
    }

    #[test]
    fn truncated_tape_gives_error_never_a_wrong_chunk(
        sizes in proptest::collection::vec(1usize..70_000, 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let (tape, chunks) = archive_tape(&sizes);
        let img = tape.to_image();
        let cut = 8 + cut.index(img.len() - 8);
        if let Ok(mut damaged) = MemoryTape::from_image(&img[..cut]) {
            let (entries, ok) = read_entries(&mut damaged);
            prop_assert!(!ok, "a truncated tape must not read as a complete archive");
            for (digest, data) in entries {
                prop_assert_eq!(chunks.get(&digest), Some(&data));
            }
        }
    }

    #[test]
    fn scanning_a_damaged_tape_never_panics(
        bits in proptest::collection::vec(any::<usize>(), 1..8),
    ) {
        let tape = format_util::written_tape(2, 300);
        let mut img = tape.to_image();
        flip(&mut img, &bits);
        if let Ok(mut damaged) = MemoryTape::from_image(&img) {
            for file in scan_tape(&mut damaged, 0).flatten() {
                if let ScannedContent::ChunkArchive { digests, .. } = file.content {
                    for (i, d) in digests.iter().enumerate() {
                        prop_assert_eq!(d, &chunk(i as u64, 300).1);
                    }
                }
            }
        }
    }
}
