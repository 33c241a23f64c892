//! VOLUME OVERFLOW in the middle of a chunk archive: the tape ended
//! before the drive's early warning let the writer close the archive.
//!
//! Nothing written since the last commit counts: the open archive has no
//! end (no end-of-stream record, no filemark) and the archives finished
//! since the commit were never proven on the medium. Their chunks are read
//! back from the tape ([`read_back`]: every entry verified by its SHA-256)
//! into a spill file, the tape is marked full and unloaded, and the job
//! writes those chunks again on the next tape ([`Replay`]) before it goes
//! on with its source. When a chunk cannot be read back the job fails (as
//! it would have without the read-back): the source cannot give it again.

use std::collections::HashSet;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use pbs_tape::format::{ChunkArchiveReader, TapeRead};

use crate::chunking::Digest;
use crate::devices::TapeMotion;
use crate::source::SourceChunk;

/// Chunks read back from an overflowed tape, handed out once each.
pub struct Replay {
    /// Copies the writer kept in memory (handed out first).
    kept: Vec<(Digest, Vec<u8>)>,
    spill: BufReader<std::fs::File>,
    /// Chunks in the spill file not yet handed out.
    spilled: u64,
    /// What an earlier overflow in the job left to write (handed out
    /// after these).
    then: Option<Box<Replay>>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("left", &self.left())
            .finish()
    }
}

impl Replay {
    /// Chunks not yet handed out.
    pub fn left(&self) -> u64 {
        self.kept.len() as u64 + self.spilled + self.then.as_ref().map_or(0, |t| t.left())
    }

    /// Hands out `earlier` (what is left of a previous replay) after this
    /// one's chunks.
    pub fn then(mut self, earlier: Option<Replay>) -> Replay {
        self.then = earlier.map(Box::new);
        self
    }

    /// The next chunk to write again, `None` when all were handed out.
    pub fn next_chunk(&mut self) -> Result<Option<SourceChunk>, String> {
        if let Some((digest, data)) = self.kept.pop() {
            return Ok(Some(SourceChunk::detached(digest, data)));
        }
        if self.spilled == 0 {
            return match self.then.as_mut() {
                Some(earlier) => earlier.next_chunk(),
                None => Ok(None),
            };
        }
        let mut digest = [0u8; 32];
        let mut len = [0u8; 8];
        self.spill
            .read_exact(&mut digest)
            .and_then(|()| self.spill.read_exact(&mut len))
            .map_err(spill_err)?;
        let mut data = vec![0u8; u64::from_le_bytes(len) as usize];
        self.spill.read_exact(&mut data).map_err(spill_err)?;
        self.spilled -= 1;
        Ok(Some(SourceChunk::detached(digest, data)))
    }
}

fn spill_err(e: std::io::Error) -> String {
    format!("spill file of the chunks read back from the full tape: {e}")
}

/// Reads the chunk archives that start at tape files `files` (in order;
/// the last one may end without its end-of-stream record) and keeps every
/// entry whose digest is in `lost`, once. Fails unless all of `lost` were
/// found. The replay hands out `kept` (chunks the writer still has) too.
pub fn read_back<T: TapeRead + TapeMotion>(
    tape: &mut T,
    files: &[u64],
    lost: &HashSet<Digest>,
    kept: Vec<(Digest, Vec<u8>)>,
) -> Result<Replay, String> {
    let file = tempfile::tempfile().map_err(spill_err)?;
    let mut spill = BufWriter::new(file);
    let mut found: HashSet<Digest> = HashSet::new();
    let mut last_problem = None;
    for &number in files {
        if lost.is_empty() {
            break;
        }
        if found.len() == lost.len() {
            break;
        }
        if let Err(e) = tape.locate_file(number) {
            last_problem = Some(format!("locating file {number}: {e}"));
            continue;
        }
        let mut reader = match ChunkArchiveReader::new(tape) {
            Ok(r) => r,
            Err(e) => {
                last_problem = Some(format!("file {number}: {e}"));
                continue;
            }
        };
        loop {
            match reader.next_entry() {
                Ok(Some(entry)) => {
                    if lost.contains(&entry.digest) && found.insert(entry.digest) {
                        spill
                            .write_all(&entry.digest)
                            .and_then(|()| {
                                spill.write_all(&(entry.data.len() as u64).to_le_bytes())
                            })
                            .and_then(|()| spill.write_all(&entry.data))
                            .map_err(spill_err)?;
                    }
                }
                Ok(None) => break,
                // The end of what reached the tape (the open archive).
                Err(e) => {
                    last_problem = Some(format!("file {number}: {e}"));
                    break;
                }
            }
        }
    }
    if found.len() != lost.len() {
        return Err(format!(
            "{} of {} chunks written since the last commit could not be read back{}",
            lost.len() - found.len(),
            lost.len(),
            last_problem.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    let mut file = spill.into_inner().map_err(|e| spill_err(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(spill_err)?;
    Ok(Replay {
        kept,
        spill: BufReader::new(file),
        spilled: found.len() as u64,
        then: None,
    })
}
