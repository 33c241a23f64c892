//! Early warning at every block index of a 20-block archive must span, not
//! fail: the archive ends at an entry boundary marked "continues", the
//! entry in flight is written whole on the next tape, nothing is lost and
//! nothing recorded twice. A hard end of medium without warning fails.

mod barrier_util;
mod format_util;

use std::collections::HashSet;

use barrier_util::{EmuTape, MIB};
use format_util::{
    archive_chunks, media_label, scan_all, small_config, tape_digests, write_archive,
    ARCHIVE_BLOCKS, ARCHIVE_CHUNKS,
};
use pbs_tape::emulator::image::FILEMARK_COST;
use pbs_tape::format::{
    image::TapeRecord, ChunkWrite, FormatError, MediaWriter, MemoryTape, PendingArchive,
};

const CAPACITY: u64 = 64 * MIB;

/// Sizes of the label block and of the 20 archive blocks, from a dry run.
fn block_sizes() -> (u64, Vec<u64>) {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    write_archive(&mut w, &archive_chunks()).unwrap();
    let sizes: Vec<u64> = w
        .into_tape()
        .records()
        .iter()
        .filter_map(|r| match r {
            TapeRecord::Block(b) => Some(b.len() as u64),
            TapeRecord::Filemark => None,
        })
        .collect();
    (sizes[0], sizes[1..].to_vec())
}

/// Write every chunk, spanning tapes at early warning; returns the commit
/// lists per tape.
fn write_spanning(emu: &EmuTape) -> Vec<Vec<PendingArchive>> {
    let chunks = archive_chunks();
    let mut commits = Vec::new();
    let mut next = 0;
    let mut tape_no = 1;
    while next < chunks.len() || commits.is_empty() {
        let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
        w.write_media_label(&media_label(&format!("TAPE{tape_no:02}L9")))
            .unwrap();
        let mut a = w.start_chunk_archive("store1").unwrap();
        while next < chunks.len() {
            let (data, digest) = &chunks[next];
            match a.add_chunk(digest, data).unwrap() {
                ChunkWrite::Stored { .. } => next += 1,
                ChunkWrite::MediumFull { stored } => {
                    if stored {
                        next += 1;
                    }
                    break;
                }
            }
        }
        a.finish().unwrap();
        commits.push(w.commit().unwrap());
        assert!(
            tape_no <= ARCHIVE_CHUNKS,
            "every tape must take at least one entry"
        );
        if next < chunks.len() {
            drop(w);
            tape_no += 1;
            emu.change_tape(&format!("TAPE{tape_no:02}L9"));
        }
    }
    commits
}

#[test]
fn early_warning_at_every_block_index_spans() {
    let (label_len, sizes) = block_sizes();
    assert_eq!(sizes.len() as u64, ARCHIVE_BLOCKS);
    let all: Vec<[u8; 32]> = archive_chunks().iter().map(|c| c.1).collect();
    for k in 0..ARCHIVE_BLOCKS as usize {
        // Medium used before archive block k: label block, its filemark,
        // archive blocks 0..k. Early warning starts within block k.
        let before: u64 = label_len + FILEMARK_COST + sizes[..k].iter().sum::<u64>();
        let threshold = before + sizes[k] - 1;
        let emu = EmuTape::new(CAPACITY, CAPACITY - threshold);
        let commits = write_spanning(&emu);

        // Nothing lost, nothing twice: the committed digests, in order,
        // are exactly all chunks.
        let committed: Vec<[u8; 32]> = commits
            .iter()
            .flatten()
            .flat_map(|a| a.digests.iter().copied())
            .collect();
        assert_eq!(committed, all, "early warning at block {k}");
        let first_archive = &commits[0][1];
        if (k as u64) < ARCHIVE_BLOCKS - 1 {
            assert!(first_archive.continues_on_next_tape, "block {k}");
            assert!(commits.len() >= 2, "block {k}");
        }
        // Every tape but the last ends with an archive that continues.
        for commit in &commits[..commits.len() - 1] {
            assert!(commit.last().unwrap().continues_on_next_tape);
        }
        assert!(
            !commits
                .last()
                .unwrap()
                .last()
                .unwrap()
                .continues_on_next_tape
        );

        // Read both tapes back: what each holds is what its commit said.
        let mut on_tapes = Vec::new();
        for (i, commit) in commits.iter().enumerate() {
            if i > 0 || commits.len() > 1 {
                emu.change_tape(&format!("TAPE{:02}L9", i + 1));
            }
            let mut drive = emu.drive();
            drive.rewind().unwrap();
            let digests = tape_digests(&mut drive);
            let said: Vec<[u8; 32]> = commit.iter().flat_map(|a| a.digests.clone()).collect();
            assert_eq!(digests, said, "block {k}, tape {}", i + 1);
            on_tapes.extend(digests);
        }
        assert_eq!(on_tapes, all);
        let unique: HashSet<_> = on_tapes.iter().collect();
        assert_eq!(unique.len(), all.len());
    }
}

#[test]
fn hard_end_of_medium_without_warning_fails() {
    // No early-warning zone: the first sign of the end is VOLUME OVERFLOW.
    let (label_len, sizes) = block_sizes();
    let capacity = label_len + FILEMARK_COST + sizes[..7].iter().sum::<u64>() + 100;
    let emu = EmuTape::new(capacity, 0);
    let mut w = MediaWriter::new(emu.drive(), small_config()).unwrap();
    w.write_media_label(&media_label("TAPE01L9")).unwrap();
    let label_commit = w.commit().unwrap();
    let result = write_archive(&mut w, &archive_chunks());
    match &result {
        Err(e) => assert!(e.is_end_of_medium(), "{e:?}"),
        Ok(_) => panic!("writing past the end of the medium succeeded"),
    }
    assert!(matches!(w.commit(), Err(FormatError::Poisoned { .. })));
    drop(w);
    assert_eq!(label_commit.len(), 1);
    let mut drive = emu.drive();
    drive.rewind().unwrap();
    let files = scan_all(&mut drive);
    assert!(files[0].is_ok());
    assert!(matches!(
        files.get(1),
        Some(Err(FormatError::StreamCutShort { blocks: 7, .. }))
    ));
}
