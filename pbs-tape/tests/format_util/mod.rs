//! Shared helpers of the format and barrier tests: deterministic chunks,
//! labels, and small tapes written through the real writer.
#![allow(dead_code)]

use pbs_tape::format::{sha256, MediaLabel, MediaSetLabel, MediaWriter, MemoryTape, WriterConfig};

/// A chunk of `len` pseudo-random bytes (seeded by `i`) and its digest.
pub fn chunk(i: u64, len: usize) -> (Vec<u8>, [u8; 32]) {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let digest = sha256(&data);
    (data, digest)
}

pub fn media_label(barcode: &str) -> MediaLabel {
    MediaLabel {
        label_text: barcode.into(),
        uuid: uuid::Uuid::from_u128(0x1111_2222_3333_4444_5555_6666_7777_8888),
        ctime: 1_750_000_000,
    }
}

pub fn media_set_label(seq_nr: u64) -> MediaSetLabel {
    MediaSetLabel {
        pool: "daily".into(),
        uuid: uuid::Uuid::from_u128(0xaaaa_bbbb_cccc_dddd_eeee_ffff_0000_1111),
        seq_nr,
        ctime: 1_750_000_001,
        encryption_key_fingerprint: None,
        key_config: None,
    }
}

/// Smallest legal block size: keeps test tapes small.
pub fn small_config() -> WriterConfig {
    WriterConfig {
        block_size: 64 * 1024,
        ..WriterConfig::default()
    }
}

/// Label, set label, one chunk archive of `chunks` chunks of `len` bytes,
/// a snapshot archive and a catalog archive; committed.
pub fn written_tape(chunks: u64, len: usize) -> MemoryTape {
    let mut w = MediaWriter::new(MemoryTape::new(), small_config()).expect("writer");
    w.write_media_label(&media_label("TEST01L9"))
        .expect("label");
    w.write_media_set_label(&media_set_label(0))
        .expect("set label");
    let mut a = w.start_chunk_archive("store1").expect("archive");
    for i in 0..chunks {
        let (data, digest) = chunk(i, len);
        a.add_chunk(&digest, &data).expect("chunk");
    }
    a.finish().expect("finish");
    w.write_snapshot_archive("host/a/2025-01-01", b"{\"files\":3}")
        .expect("snapshot");
    w.write_catalog_archive(media_label("TEST01L9").uuid, b"catalog rows")
        .expect("catalog");
    w.commit().expect("commit");
    let mut tape = w.into_tape();
    tape.rewind();
    tape
}

use pbs_tape::format::{
    scan_tape, ChunkWrite, FormatError, PendingArchive, ScannedContent, ScannedFile, TapeRead,
    TapeWrite,
};

/// Chunks of the "20-block archive": 31 chunks of 40 KiB make 19 full
/// 64 KiB blocks and an end-of-stream block.
pub const ARCHIVE_CHUNKS: u64 = 31;
pub const ARCHIVE_CHUNK_LEN: usize = 40 * 1024;
pub const ARCHIVE_BLOCKS: u64 = 20;

pub fn archive_chunks() -> Vec<(Vec<u8>, [u8; 32])> {
    (0..ARCHIVE_CHUNKS)
        .map(|i| chunk(i, ARCHIVE_CHUNK_LEN))
        .collect()
}

/// Write all `chunks` as one archive and finish it (no early warning expected).
pub fn write_archive<T: TapeWrite>(
    w: &mut MediaWriter<T>,
    chunks: &[(Vec<u8>, [u8; 32])],
) -> Result<PendingArchive, FormatError> {
    let mut a = w.start_chunk_archive("store1")?;
    for (data, digest) in chunks {
        match a.add_chunk(digest, data)? {
            ChunkWrite::Stored { .. } => {}
            ChunkWrite::MediumFull { .. } => panic!("unexpected early warning"),
        }
    }
    a.finish()
}

/// Scan a whole tape from BOT, keeping the error (if any) as the last item.
pub fn scan_all<R: TapeRead>(tape: &mut R) -> Vec<Result<ScannedFile, FormatError>> {
    scan_tape(tape, 0).collect()
}

/// The digests of the chunk archives found on a tape (all must read cleanly).
pub fn tape_digests<R: TapeRead>(tape: &mut R) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for file in scan_all(tape) {
        let file = file.expect("tape reads cleanly");
        if let ScannedContent::ChunkArchive { digests, .. } = file.content {
            out.extend(digests);
        }
    }
    out
}
