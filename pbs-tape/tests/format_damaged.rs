//! Damaged tape images: each one is read and must fail with exactly the
//! expected error. The images under `tests/data/tapes/` are produced by
//! `damaged_tapes()` below (`PTAPE_REGEN_TAPES=1 cargo test -p pbs-tape
//! --test format_damaged -- --ignored regenerate`); every test checks both
//! the committed file and a freshly generated image.

mod format_util;

use std::path::PathBuf;

use format_util::{chunk, written_tape};
use pbs_tape::format::block::{check_block, seal_block, FLAG_INCOMPLETE};
use pbs_tape::format::image::TapeRecord;
use pbs_tape::format::{
    scan_tape, ChunkWrite, FormatError, MediaWriter, MemoryTape, ScannedContent, ScannedFile,
    BLOCK_HEADER_LEN,
};

/// Record indices in `written_tape`: 0 label, 1 FM, 2 set label, 3 FM,
/// 4.. chunk archive blocks, FM, snapshot block, FM, catalog block, FM.
const ARCHIVE_FIRST_RECORD: usize = 4;

fn block_mut(tape: &mut MemoryTape, record: usize) -> &mut Vec<u8> {
    match &mut tape.records_mut()[record] {
        TapeRecord::Block(b) => b,
        TapeRecord::Filemark => panic!("record {record} is a filemark"),
    }
}

/// Re-seal a block after editing its payload, keeping sequence and record count;
/// `flags` replaces the flags when given.
fn reseal(block: &mut [u8], flags: Option<u16>, record_count: Option<u64>) {
    let mut header = [0u8; BLOCK_HEADER_LEN];
    header.copy_from_slice(&block[..BLOCK_HEADER_LEN]);
    let seq = u32::from_be_bytes(header[12..16].try_into().unwrap());
    let old_flags = u16::from_be_bytes(header[10..12].try_into().unwrap());
    let old_count = u64::from_be_bytes(header[24..32].try_into().unwrap());
    seal_block(
        block,
        seq,
        flags.unwrap_or(old_flags),
        record_count.unwrap_or(old_count),
    );
}

/// A tape whose chunk archive is one full block and an end block.
fn multi_block_tape() -> MemoryTape {
    written_tape(3, 30_000)
}

/// A tape whose chunk archive is one end-of-stream block.
fn small_tape() -> MemoryTape {
    written_tape(3, 500)
}

type Check = fn(&FormatError) -> bool;

struct Case {
    name: &'static str,
    build: fn() -> MemoryTape,
    /// None: the tape must scan without error.
    expect: Option<Check>,
}

fn damaged_tapes() -> Vec<Case> {
    vec![
        Case {
            name: "good",
            build: small_tape,
            expect: None,
        },
        Case {
            name: "bit_flip",
            build: || {
                let mut t = small_tape();
                block_mut(&mut t, ARCHIVE_FIRST_RECORD)[200] ^= 0x10;
                t
            },
            expect: Some(|e| matches!(e, FormatError::ChecksumMismatch { sequence: 0, .. })),
        },
        Case {
            name: "bad_block_magic",
            build: || {
                let mut t = small_tape();
                block_mut(&mut t, ARCHIVE_FIRST_RECORD)[0] = b'X';
                t
            },
            expect: Some(|e| matches!(e, FormatError::BadBlockMagic { sequence: 0, .. })),
        },
        Case {
            name: "missing_block",
            build: || {
                let mut t = multi_block_tape();
                t.records_mut().remove(ARCHIVE_FIRST_RECORD);
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::SequenceGap {
                        expected: 0,
                        found: 1
                    }
                )
            }),
        },
        Case {
            name: "duplicate_block",
            build: || {
                let mut t = multi_block_tape();
                let dup = t.records()[ARCHIVE_FIRST_RECORD].clone();
                t.records_mut().insert(ARCHIVE_FIRST_RECORD + 1, dup);
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::DuplicateBlock {
                        expected: 1,
                        found: 0
                    }
                )
            }),
        },
        Case {
            name: "cut_short_filemark",
            build: || {
                let mut t = multi_block_tape();
                // Remove the end-of-stream block: a filemark follows block 0.
                t.records_mut().remove(ARCHIVE_FIRST_RECORD + 1);
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::StreamCutShort {
                        at: "filemark",
                        blocks: 1
                    }
                )
            }),
        },
        Case {
            name: "cut_short_end_of_data",
            build: || {
                let mut t = multi_block_tape();
                t.records_mut().truncate(ARCHIVE_FIRST_RECORD + 1);
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::StreamCutShort {
                        at: "end of data",
                        blocks: 1
                    }
                )
            }),
        },
        Case {
            name: "missing_filemark",
            build: || {
                let mut t = small_tape();
                t.records_mut().pop();
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::MissingFilemark {
                        found: "end of data"
                    }
                )
            }),
        },
        Case {
            name: "incomplete_snapshot",
            build: || {
                let mut t = small_tape();
                // records: 4 archive, 5 FM, 6 snapshot, 7 FM
                let b = block_mut(&mut t, 6);
                let flags = check_block(b, 0).unwrap().flags | FLAG_INCOMPLETE;
                reseal(b, Some(flags), None);
                t
            },
            expect: Some(|e| matches!(e, FormatError::StreamIncomplete { records: 0 })),
        },
        Case {
            name: "digest_mismatch",
            build: || {
                let mut t = small_tape();
                let b = block_mut(&mut t, ARCHIVE_FIRST_RECORD);
                let last = b.len() - 1;
                b[last] ^= 0xff; // last byte of the last chunk's data
                reseal(b, None, None);
                t
            },
            expect: Some(|e| matches!(e, FormatError::DigestMismatch { index: 2, .. })),
        },
        Case {
            name: "truncated_entry",
            build: || {
                let mut t = small_tape();
                let b = block_mut(&mut t, ARCHIVE_FIRST_RECORD);
                b.truncate(b.len() - 100);
                reseal(b, None, None);
                t
            },
            expect: Some(|e| matches!(e, FormatError::TruncatedEntry { index: 2 })),
        },
        Case {
            name: "record_count_mismatch",
            build: || {
                let mut t = small_tape();
                reseal(block_mut(&mut t, ARCHIVE_FIRST_RECORD), None, Some(4));
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::RecordCountMismatch {
                        recorded: 4,
                        found: 3
                    }
                )
            }),
        },
        Case {
            name: "bad_entry_magic",
            build: || {
                let mut t = small_tape();
                let b = block_mut(&mut t, ARCHIVE_FIRST_RECORD);
                // First entry starts after block header, content header and body.
                let at = b
                    .windows(8)
                    .position(|w| w == b"PTCHUNK1")
                    .expect("entry magic");
                b[at + 7] = b'9';
                reseal(b, None, None);
                t
            },
            expect: Some(|e| matches!(e, FormatError::BadEntryMagic { index: 0, .. })),
        },
        Case {
            name: "bad_content_magic",
            build: || {
                let mut t = small_tape();
                let b = block_mut(&mut t, 0);
                b[BLOCK_HEADER_LEN] = b'Q';
                reseal(b, None, None);
                t
            },
            expect: Some(|e| matches!(e, FormatError::BadContentMagic { .. })),
        },
        Case {
            name: "bad_label_json",
            build: || {
                let mut t = small_tape();
                let b = block_mut(&mut t, 0);
                let at = b
                    .windows(10)
                    .position(|w| w == b"label_text")
                    .expect("json");
                b[at] = b'"'; // breaks the JSON syntax
                reseal(b, None, None);
                t
            },
            expect: Some(|e| {
                matches!(
                    e,
                    FormatError::BadContentBody {
                        what: "media label",
                        ..
                    }
                )
            }),
        },
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/tapes")
}

fn scan(tape: &mut MemoryTape) -> Result<Vec<ScannedFile>, FormatError> {
    scan_tape(tape, 0).collect()
}

fn check_case(case: &Case, mut tape: MemoryTape, origin: &str) {
    match (scan(&mut tape), case.expect) {
        (Ok(files), None) => assert_eq!(files.len(), 5, "{origin} {}", case.name),
        (Ok(_), Some(_)) => panic!("{origin} {}: damaged tape scanned without error", case.name),
        (Err(e), None) => panic!("{origin} {}: unexpected error {e}", case.name),
        (Err(e), Some(check)) => assert!(check(&e), "{origin} {}: wrong error {e:?}", case.name),
    }
}

#[test]
fn generated_damaged_tapes_fail_with_the_exact_error() {
    for case in damaged_tapes() {
        check_case(&case, (case.build)(), "generated");
    }
}

/// `format_v1.img` is a good tape written by on-tape format version 1:
/// it is refused at its media label, naming both versions.
#[test]
fn tapes_of_format_version_1_are_refused_naming_both_versions() {
    let bytes = std::fs::read(corpus_dir().join("format_v1.img")).unwrap();
    let mut tape = MemoryTape::from_image(&bytes).expect("image decodes");
    let err = pbs_tape::format::read_media_label(&mut tape).unwrap_err();
    assert!(
        matches!(err, FormatError::UnsupportedContentVersion(1)),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("format version 1"), "{text}");
    assert!(text.contains("version 2"), "{text}");
}

#[test]
fn committed_damaged_tapes_fail_with_the_exact_error() {
    for case in damaged_tapes() {
        let path = corpus_dir().join(format!("{}.img", case.name));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let tape = MemoryTape::from_image(&bytes).expect("image decodes");
        check_case(&case, tape, "committed");
    }
}

#[test]
fn corpus_is_small() {
    let total: u64 = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum();
    assert!(total < 1024 * 1024, "corpus is {total} bytes");
}

#[test]
fn good_tape_content_is_right() {
    let mut tape = small_tape();
    let files = scan(&mut tape).unwrap();
    match &files[2].content {
        ScannedContent::ChunkArchive { digests, .. } => {
            let want: Vec<_> = (0..3).map(|i| chunk(i, 500).1).collect();
            assert_eq!(digests, &want);
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A label and a chunk archive ended at early warning inside its third
/// entry: incomplete but consistent (two entries, continues on next tape).
fn spanned_tape() -> MemoryTape {
    let tape = MemoryTape::new().with_early_warning(60 * 1024);
    let mut w = MediaWriter::new(tape, format_util::small_config()).unwrap();
    w.write_media_label(&format_util::media_label("SPAN01L9"))
        .unwrap();
    let mut a = w.start_chunk_archive("store1").unwrap();
    let mut stored = 0;
    for i in 0..10 {
        let (data, digest) = chunk(i, 30_000);
        match a.add_chunk(&digest, &data).unwrap() {
            ChunkWrite::Stored { .. } => stored += 1,
            ChunkWrite::MediumFull { stored: s } => {
                stored += u64::from(s);
                break;
            }
        }
    }
    assert_eq!(stored, 2);
    a.finish().unwrap();
    w.commit().unwrap();
    let mut t = w.into_tape();
    t.rewind();
    t
}

fn check_spanned(mut tape: MemoryTape) {
    let files = scan(&mut tape).unwrap();
    assert_eq!(files.len(), 2);
    match &files[1].content {
        ScannedContent::ChunkArchive {
            digests,
            continues_on_next_tape,
            ..
        } => {
            assert!(continues_on_next_tape);
            let want: Vec<_> = (0..2).map(|i| chunk(i, 30_000).1).collect();
            assert_eq!(digests, &want);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn spanned_archive_reads_as_continuing() {
    check_spanned(spanned_tape());
    let bytes = std::fs::read(corpus_dir().join("spanned.img")).unwrap();
    check_spanned(MemoryTape::from_image(&bytes).unwrap());
}

#[test]
#[ignore = "writes the corpus: PTAPE_REGEN_TAPES=1"]
fn regenerate() {
    if std::env::var_os("PTAPE_REGEN_TAPES").is_none() {
        return;
    }
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for case in damaged_tapes() {
        std::fs::write(
            dir.join(format!("{}.img", case.name)),
            (case.build)().to_image(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("spanned.img"), spanned_tape().to_image()).unwrap();
}
