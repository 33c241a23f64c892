//! Unit tests of the writer and readers against [`MemoryTape`].

use super::*;

fn chunk(i: u32, len: usize) -> (Vec<u8>, [u8; 32]) {
    let data: Vec<u8> = (0..len)
        .map(|j| (j as u32 ^ i.wrapping_mul(2654435761)) as u8)
        .collect();
    let digest = sha256(&data);
    (data, digest)
}

fn small_config() -> WriterConfig {
    WriterConfig {
        block_size: 64 * 1024,
        ..WriterConfig::default()
    }
}

fn label() -> MediaLabel {
    MediaLabel {
        label_text: "ABC001L9".into(),
        uuid: uuid::Uuid::new_v4(),
        ctime: 1_700_000_000,
    }
}

#[test]
fn label_chunks_snapshot_catalog_round_trip() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    let ml = label();
    w.write_media_label(&ml).unwrap();
    let set = MediaSetLabel {
        pool: "daily".into(),
        uuid: uuid::Uuid::new_v4(),
        seq_nr: 2,
        ctime: 1_700_000_001,
        encryption_key_fingerprint: Some("aa:bb".into()),
        key_config: Some(crate::format::KeyConfig {
            kdf: crate::format::KdfParams::Scrypt {
                n: 65536,
                r: 8,
                p: 1,
                salt: "c2FsdA==".into(),
            },
            created: "2026-01-01T00:00:00Z".into(),
            modified: "2026-01-02T00:00:00Z".into(),
            data: "d3JhcHBlZA==".into(),
            fingerprint: Some("aa:bb".into()),
            hint: Some("the usual".into()),
        }),
    };
    w.write_media_set_label(&set).unwrap();
    let mut a = w.start_chunk_archive("store").unwrap();
    let chunks: Vec<_> = (0..10)
        .map(|i| chunk(i, 30_000 + i as usize * 7000))
        .collect();
    for (data, digest) in &chunks {
        assert_eq!(
            a.add_chunk(digest, data).unwrap(),
            ChunkWrite::Stored {
                archive_full: false
            }
        );
    }
    let pa = a.finish().unwrap();
    assert_eq!(pa.file_number, 2);
    assert_eq!(pa.digests.len(), 10);
    w.write_snapshot_archive("vm/100/2024", b"manifest")
        .unwrap();
    w.write_catalog_archive(ml.uuid, b"rows").unwrap();
    let committed = w.commit().unwrap();
    assert_eq!(committed.len(), 5);
    assert_eq!(committed[2], pa);
    assert!(w.pending().is_empty());

    let mut tape = w.into_tape();
    assert_eq!(tape.records()[0..2].len(), 2);
    tape.rewind();
    assert_eq!(read_media_label(&mut tape).unwrap(), Some(ml.clone()));
    assert_eq!(read_media_set_label(&mut tape).unwrap(), Some(set.clone()));
    let mut r = ChunkArchiveReader::new(&mut tape).unwrap();
    assert_eq!(r.info().store, "store");
    for (data, digest) in &chunks {
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(&e.digest, digest);
        assert_eq!(&e.data, data);
    }
    assert!(r.next_entry().unwrap().is_none());
    assert!(!r.continues_on_next_tape());
    let s = read_snapshot_archive(&mut tape).unwrap();
    assert_eq!(
        (s.snapshot.as_str(), s.manifest.as_slice()),
        ("vm/100/2024", &b"manifest"[..])
    );
    let c = read_catalog_archive(&mut tape).unwrap();
    assert_eq!((c.media_uuid, c.data.as_slice()), (ml.uuid, &b"rows"[..]));

    tape.rewind();
    let files: Vec<_> = scan_tape(&mut tape, 0).collect::<Result<_, _>>().unwrap();
    assert_eq!(files.len(), 5);
    assert_eq!(files[0].content, ScannedContent::MediaLabel(ml));
    assert_eq!(files[1].content, ScannedContent::MediaSetLabel(set));
    match &files[2].content {
        ScannedContent::ChunkArchive {
            digests,
            continues_on_next_tape,
            ..
        } => {
            assert_eq!(digests, &pa.digests);
            assert!(!continues_on_next_tape);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(files[4].file_number, 4);
}

#[test]
fn blank_tape_has_no_label() {
    let mut tape = MemoryTape::new();
    assert_eq!(read_media_label(&mut tape).unwrap(), None);
}

#[test]
fn label_is_one_small_block_whatever_the_block_size() {
    let config = WriterConfig {
        block_size: 1 << 20,
        ..WriterConfig::default()
    };
    let mut w = MediaWriter::new(MemoryTape::new(), config).unwrap();
    w.write_media_label(&label()).unwrap();
    w.commit().unwrap();
    let tape = w.into_tape();
    match &tape.records()[0] {
        image::TapeRecord::Block(b) => assert!(b.len() <= LABEL_BLOCK_SIZE),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(tape.records()[1], image::TapeRecord::Filemark);
    // A reader limited to 64 KiB blocks still reads it.
    let mut small = tape.clone().with_max_block_size(64 * 1024);
    small.rewind();
    assert!(read_media_label(&mut small).unwrap().is_some());
}

#[test]
fn media_label_only_at_file_zero() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    assert!(matches!(
        w.write_media_set_label(&MediaSetLabel {
            pool: "p".into(),
            uuid: uuid::Uuid::nil(),
            seq_nr: 0,
            ctime: 0,
            encryption_key_fingerprint: None,
            key_config: None,
        }),
        Err(FormatError::WrongFile { file: 1, .. })
    ));
    assert!(w.is_poisoned());
}

#[test]
fn spanning_at_early_warning_keeps_exactly_the_complete_entries() {
    // Early warning after ~5 blocks of 64 KiB; chunks of 40 KB cross blocks.
    let tape = MemoryTape::new().with_early_warning(5 * 64 * 1024 + 100);
    let mut w = MediaWriter::new(tape, small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    let chunks: Vec<_> = (0..40).map(|i| chunk(i, 40_000)).collect();
    let mut a = w.start_chunk_archive("s").unwrap();
    let mut next = 0;
    loop {
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
    // After medium full, nothing more is taken.
    assert_eq!(
        a.add_chunk(&chunks[next].1, &chunks[next].0).unwrap(),
        ChunkWrite::MediumFull { stored: false }
    );
    let pa = a.finish().unwrap();
    assert!(pa.continues_on_next_tape);
    assert_eq!(pa.digests.len(), next);
    assert!(w.medium_full() && w.commit_due());
    assert!(matches!(
        w.start_chunk_archive("s"),
        Err(FormatError::MediumFull)
    ));
    let committed = w.commit().unwrap();
    assert_eq!(committed.len(), 2);
    let mut tape = w.into_tape();
    tape.locate_file(1).unwrap();
    let mut r = ChunkArchiveReader::new(&mut tape).unwrap();
    let read: Vec<_> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(read.len(), next);
    assert!(r.continues_on_next_tape());
    for (e, (data, digest)) in read.iter().zip(&chunks) {
        assert_eq!((&e.digest, &e.data), (digest, data));
    }
}

#[test]
fn dropping_an_unfinished_archive_poisons_and_commits_nothing() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    let (data, digest) = chunk(1, 1000);
    {
        let mut a = w.start_chunk_archive("s").unwrap();
        a.add_chunk(&digest, &data).unwrap();
    }
    assert!(w.is_poisoned());
    assert!(matches!(w.commit(), Err(FormatError::Poisoned { .. })));
    assert!(matches!(
        w.write_snapshot_archive("x", b""),
        Err(FormatError::Poisoned { .. })
    ));
}

#[test]
fn archive_cap_reports_full() {
    let config = WriterConfig {
        block_size: 64 * 1024,
        archive_cap: 100_000,
        ..WriterConfig::default()
    };
    let mut w = MediaWriter::new(MemoryTape::new(), config).unwrap();
    let mut a = w.start_chunk_archive("s").unwrap();
    let (data, digest) = chunk(0, 60_000);
    assert_eq!(
        a.add_chunk(&digest, &data).unwrap(),
        ChunkWrite::Stored {
            archive_full: false
        }
    );
    assert_eq!(
        a.add_chunk(&digest, &data).unwrap(),
        ChunkWrite::Stored { archive_full: true }
    );
    a.finish().unwrap();
}

#[test]
fn commit_interval_makes_commit_due() {
    let config = WriterConfig {
        block_size: 64 * 1024,
        commit_interval: 1000,
        ..WriterConfig::default()
    };
    let mut w = MediaWriter::new(MemoryTape::new(), config).unwrap();
    assert!(!w.commit_due());
    w.write_snapshot_archive("s", &[7u8; 2000]).unwrap();
    assert!(w.commit_due());
    assert_eq!(w.checkpoint().unwrap().len(), 1);
    assert!(!w.commit_due());
}

#[test]
fn invalid_configs_are_refused() {
    for block_size in [1000, 32 * 1024, 96 * 1024, 32 << 20] {
        let c = WriterConfig {
            block_size,
            ..WriterConfig::default()
        };
        assert!(matches!(
            MediaWriter::new(MemoryTape::new(), c),
            Err(FormatError::InvalidBlockSize { .. })
        ));
    }
    let c = WriterConfig {
        archive_cap: 0,
        ..WriterConfig::default()
    };
    assert!(matches!(
        MediaWriter::new(MemoryTape::new(), c),
        Err(FormatError::InvalidConfig(_))
    ));
}

#[test]
fn file_tape_round_trip_and_truncating_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.img");
    let mut w = MediaWriter::new(FileTape::create(&path).unwrap(), small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    w.write_snapshot_archive("a", &[1u8; 200_000]).unwrap();
    w.write_snapshot_archive("b", b"second").unwrap();
    assert_eq!(w.commit().unwrap().len(), 3);
    drop(w);
    let mut t = FileTape::open(&path).unwrap();
    assert!(read_media_label(&mut t).unwrap().is_some());
    assert_eq!(
        read_snapshot_archive(&mut t).unwrap().manifest,
        vec![1u8; 200_000]
    );
    // Overwrite file 2: the old one disappears.
    let mut w = MediaWriter::new(t, small_config()).unwrap();
    w.write_catalog_archive(uuid::Uuid::nil(), b"cat").unwrap();
    w.commit().unwrap();
    let mut t = w.into_tape();
    t.rewind().unwrap();
    let files: Vec<_> = scan_tape(&mut t, 0).collect::<Result<_, _>>().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[2].header.content_type, ContentType::CatalogArchive);
}

/// A tape that counts flushes and filemark kinds, and can silently drop a
/// block (a drive that lost data without saying so).
struct Probe {
    inner: MemoryTape,
    flushes: usize,
    immediate_filemarks: usize,
    synchronous_filemarks: usize,
    drop_block: Option<usize>,
    blocks: usize,
}

impl Probe {
    fn new() -> Self {
        Probe {
            inner: MemoryTape::new(),
            flushes: 0,
            immediate_filemarks: 0,
            synchronous_filemarks: 0,
            drop_block: None,
            blocks: 0,
        }
    }
}

impl TapeLimits for Probe {
    fn max_block_size(&self) -> usize {
        self.inner.max_block_size()
    }
    fn device_name(&self) -> String {
        "probe".into()
    }
}

impl TapeWrite for Probe {
    fn write_block(&mut self, block: &[u8]) -> Result<WriteOutcome, TapeIoError> {
        self.blocks += 1;
        if self.drop_block == Some(self.blocks - 1) {
            return Ok(WriteOutcome::Written);
        }
        self.inner.write_block(block)
    }
    fn write_filemark(&mut self, immediate: bool) -> Result<WriteOutcome, TapeIoError> {
        if immediate {
            self.immediate_filemarks += 1;
        } else {
            self.synchronous_filemarks += 1;
        }
        self.inner.write_filemark(immediate)
    }
    fn flush(&mut self) -> Result<(), TapeIoError> {
        self.flushes += 1;
        self.inner.flush()
    }
    fn position(&mut self) -> Result<TapePosition, TapeIoError> {
        self.inner.position()
    }
}

#[test]
fn flushes_happen_only_at_commit_points() {
    let mut w = MediaWriter::new(Probe::new(), small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    for i in 0..6 {
        let mut a = w.start_chunk_archive("s").unwrap();
        let (data, digest) = chunk(i, 70_000);
        a.add_chunk(&digest, &data).unwrap();
        a.finish().unwrap();
        if i == 2 {
            assert_eq!(w.checkpoint().unwrap().len(), 4);
        }
    }
    assert_eq!(w.commit().unwrap().len(), 3);
    let probe = w.into_tape();
    assert_eq!(probe.flushes, 2);
    assert_eq!(probe.immediate_filemarks, 7);
    assert_eq!(probe.synchronous_filemarks, 0);
}

#[test]
fn a_silently_lost_block_fails_the_position_check() {
    let mut probe = Probe::new();
    probe.drop_block = Some(3);
    let mut w = MediaWriter::new(probe, small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    let mut a = w.start_chunk_archive("s").unwrap();
    for i in 0..8 {
        let (data, digest) = chunk(i, 40_000);
        a.add_chunk(&digest, &data).unwrap();
    }
    a.finish().unwrap();
    match w.commit() {
        Err(FormatError::PositionMismatch { expected, actual }) => {
            assert_eq!(expected.logical_object, actual.logical_object + 1)
        }
        other => panic!("expected a position mismatch, got {other:?}"),
    }
    assert!(w.pending().len() == 2 && w.is_poisoned());
    assert!(w.commit().is_err());
}

#[test]
fn read_ahead_reads_the_same_tape() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    let mut a = w.start_chunk_archive("s").unwrap();
    let chunks: Vec<_> = (0..12).map(|i| chunk(i, 50_000)).collect();
    for (data, digest) in &chunks {
        a.add_chunk(digest, data).unwrap();
    }
    a.finish().unwrap();
    w.write_snapshot_archive("snap", b"m").unwrap();
    w.commit().unwrap();
    let mut tape = w.into_tape();
    tape.rewind();
    let mut plain_tape = tape.clone();
    let plain: Vec<_> = scan_tape(&mut plain_tape, 0)
        .collect::<Result<_, _>>()
        .unwrap();
    let mut ahead = ReadAhead::new(tape, 3);
    let read: Vec<_> = scan_tape(&mut ahead, 0).collect::<Result<_, _>>().unwrap();
    assert_eq!(read, plain);
    assert_eq!(read.len(), 3);
    // After end of data the worker paused; the tape comes back.
    let mut tape = ahead.into_inner().unwrap();
    assert_eq!(
        tape.read_block(&mut [0u8; 16]).unwrap(),
        ReadOutcome::EndOfData
    );
}

#[test]
fn read_ahead_stops_at_filemarks_and_passes_errors() {
    let mut tape = MemoryTape::new();
    tape.write_block(&[1u8; 100]).unwrap();
    tape.write_filemark(true).unwrap();
    tape.write_block(&[2u8; 5000]).unwrap();
    tape.rewind();
    let mut ahead = ReadAhead::new(tape.with_max_block_size(4096), 4);
    let mut buf = vec![0u8; 4096];
    assert_eq!(ahead.read_block(&mut buf).unwrap(), ReadOutcome::Block(100));
    assert_eq!(ahead.read_block(&mut buf).unwrap(), ReadOutcome::Filemark);
    // The worker waited at the filemark: the tape is right after it.
    let mut tape = ahead.into_inner().unwrap();
    assert_eq!(tape.position().unwrap().logical_object, 2);
    let mut ahead = ReadAhead::new(tape, 2);
    assert!(matches!(
        ahead.read_block(&mut buf),
        Err(TapeIoError::BlockLargerThanBuffer { block: 5000, .. })
    ));
    drop(ahead);
}

#[test]
fn every_recorded_entry_position_opens_the_archive_at_that_entry() {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
    w.write_media_label(&label()).unwrap();
    let mut a = w.start_chunk_archive("store").unwrap();
    // Entries smaller and larger than a block, starting anywhere in one.
    let chunks: Vec<_> = (0..12)
        .map(|i| chunk(i, 5_000 + i as usize * 23_000))
        .collect();
    for (data, digest) in &chunks {
        a.add_chunk(digest, data).unwrap();
    }
    let pa = a.finish().unwrap();
    w.commit().unwrap();
    assert_eq!(pa.positions.len(), chunks.len());
    assert!(pa.positions.windows(2).all(|p| p[0] < p[1]));
    assert!(pa.positions.iter().any(|p| p.block > 2 && p.offset > 0));
    let mut tape = w.into_tape();
    for (i, position) in pa.positions.iter().enumerate() {
        tape.locate_object(pa.first_object + u64::from(position.block))
            .unwrap();
        let mut r = ChunkArchiveReader::at_entry(&mut tape, *position).unwrap();
        // From there on to the archive's end, every entry verified.
        for (data, digest) in &chunks[i..] {
            let e = r.next_entry().unwrap().unwrap();
            assert_eq!((&e.digest, &e.data), (digest, data));
        }
        assert!(r.next_entry().unwrap().is_none());
    }
    // The scanner reads the same positions back.
    tape.locate_file(1).unwrap();
    match scan_tape(&mut tape, 1).next().unwrap().unwrap().content {
        ScannedContent::ChunkArchive { positions, .. } => assert_eq!(positions, pa.positions),
        other => panic!("unexpected {other:?}"),
    }
    // At the wrong block the reader says so instead of reading on.
    let p = pa.positions[5];
    tape.locate_object(pa.first_object + u64::from(p.block) + 1)
        .unwrap();
    assert!(matches!(
        ChunkArchiveReader::at_entry(&mut tape, p),
        Err(FormatError::SequenceGap { .. })
    ));
    // An offset past the block's payload is refused.
    let last = *pa.positions.last().unwrap();
    tape.locate_object(pa.first_object + u64::from(last.block))
        .unwrap();
    let beyond = EntryPosition {
        block: last.block,
        offset: 1 << 20,
    };
    assert!(matches!(
        ChunkArchiveReader::at_entry(&mut tape, beyond),
        Err(FormatError::EntryOutsideBlock { .. })
    ));
}
