//! The tape image format shared by [`super::MemoryTape`] and
//! [`super::FileTape`]: `PTAPEIMG`, then records until the end of the file.
//! A record is `'B'` + u32 big-endian length + the block bytes, or `'F'`
//! (a filemark). The end of the file is the end of data.

use super::constants::{IMAGE_MAGIC, IMAGE_RECORD_BLOCK, IMAGE_RECORD_FILEMARK};

/// One record on an image tape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapeRecord {
    Block(Vec<u8>),
    Filemark,
}

/// Length of a block record's prefix (tag + length).
pub const BLOCK_RECORD_PREFIX: usize = 5;

/// The prefix of a block record of `len` bytes.
pub fn block_record_prefix(len: usize) -> Result<[u8; BLOCK_RECORD_PREFIX], String> {
    let len = u32::try_from(len)
        .map_err(|_| format!("block of {len} bytes is too large for an image"))?;
    let mut p = [0u8; BLOCK_RECORD_PREFIX];
    p[0] = IMAGE_RECORD_BLOCK;
    p[1..].copy_from_slice(&len.to_be_bytes());
    Ok(p)
}

/// Encode records as an image.
pub fn encode_image(records: &[TapeRecord]) -> Vec<u8> {
    let mut out = IMAGE_MAGIC.to_vec();
    for r in records {
        match r {
            TapeRecord::Block(b) => {
                // Blocks in memory are < 4 GiB (checked on write).
                out.push(IMAGE_RECORD_BLOCK);
                out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                out.extend_from_slice(b);
            }
            TapeRecord::Filemark => out.push(IMAGE_RECORD_FILEMARK),
        }
    }
    out
}

/// Decode an image; the error says what is wrong and where.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<TapeRecord>, String> {
    let rest = bytes
        .strip_prefix(&IMAGE_MAGIC)
        .ok_or_else(|| "missing PTAPEIMG magic".to_string())?;
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < rest.len() {
        let offset = at + IMAGE_MAGIC.len();
        match rest[at] {
            IMAGE_RECORD_FILEMARK => {
                records.push(TapeRecord::Filemark);
                at += 1;
            }
            IMAGE_RECORD_BLOCK => {
                let len_bytes: [u8; 4] =
                    rest.get(at + 1..at + 5)
                        .and_then(|s| s.try_into().ok())
                        .ok_or_else(|| format!("truncated record length at offset {offset}"))?;
                let len = u32::from_be_bytes(len_bytes) as usize;
                let data = rest
                    .get(at + 5..)
                    .and_then(|s| s.get(..len))
                    .ok_or_else(|| format!("truncated block of {len} bytes at offset {offset}"))?;
                records.push(TapeRecord::Block(data.to_vec()));
                at += 5 + len;
            }
            tag => return Err(format!("unknown record tag {tag:#04x} at offset {offset}")),
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trip_and_errors() {
        let recs = vec![
            TapeRecord::Block(b"abc".to_vec()),
            TapeRecord::Filemark,
            TapeRecord::Block(vec![]),
        ];
        let img = encode_image(&recs);
        assert_eq!(decode_image(&img).unwrap(), recs);
        assert!(decode_image(b"nope").is_err());
        assert!(decode_image(&img[..img.len() - 2])
            .unwrap_err()
            .contains("truncated"));
        let mut bad = img.clone();
        bad[8] = b'Z';
        assert!(decode_image(&bad)
            .unwrap_err()
            .contains("unknown record tag"));
    }
}
