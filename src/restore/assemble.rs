//! Putting chunks into the restored files as they come off the tapes, in
//! whatever order: a chunk is written to every place whose offset is known
//! (all earlier chunks of that file written); a chunk needed further on
//! waits in a spool file on disk, so memory holds one chunk at a time.
//! All-zero chunks are not written (the files are pre-sized): sparse files
//! stay sparse.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use super::{io_err, RestoreError};
use crate::chunking::Digest;

/// One regular file being restored.
pub(super) struct FileJob {
    pub(super) temp: PathBuf,
    pub(super) chunks: Vec<Digest>,
    pub(super) size: u64,
    /// Index of the next chunk to write and its offset.
    pub(super) next: usize,
    pub(super) offset: u64,
}

/// Chunks that arrived before the place they are needed could be written.
pub(super) struct Spool {
    path: PathBuf,
    file: Option<File>,
    end: u64,
    index: HashMap<Digest, (u64, usize)>,
}

impl Spool {
    fn put(&mut self, digest: Digest, data: &[u8]) -> Result<(), RestoreError> {
        if self.index.contains_key(&digest) {
            return Ok(());
        }
        if self.file.is_none() {
            let f = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&self.path)
                .map_err(io_err(&self.path))?;
            self.file = Some(f);
        }
        if let Some(f) = &self.file {
            f.write_all_at(data, self.end).map_err(io_err(&self.path))?;
        }
        self.index.insert(digest, (self.end, data.len()));
        self.end += data.len() as u64;
        Ok(())
    }

    fn get(&self, digest: &Digest, buf: &mut Vec<u8>) -> Result<bool, RestoreError> {
        let (Some(&(offset, len)), Some(f)) = (self.index.get(digest), &self.file) else {
            return Ok(false);
        };
        buf.resize(len, 0);
        f.read_exact_at(buf, offset).map_err(io_err(&self.path))?;
        Ok(true)
    }

    pub(super) fn remove(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes arriving chunks into the temporary files.
pub(super) struct Assembler {
    pub(super) jobs: Vec<FileJob>,
    /// digest -> jobs that still need it.
    waiting: HashMap<Digest, Vec<usize>>,
    /// digest -> places not yet written.
    remaining: HashMap<Digest, u64>,
    pub(super) spool: Spool,
    open: Option<(usize, File)>,
    scratch: Vec<u8>,
}

impl Assembler {
    pub(super) fn new(jobs: Vec<FileJob>, spool_path: PathBuf) -> Self {
        let mut waiting: HashMap<Digest, Vec<usize>> = HashMap::new();
        let mut remaining: HashMap<Digest, u64> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            for d in &job.chunks {
                *remaining.entry(*d).or_default() += 1;
                let list = waiting.entry(*d).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        Assembler {
            jobs,
            waiting,
            remaining,
            spool: Spool {
                path: spool_path,
                file: None,
                end: 0,
                index: HashMap::new(),
            },
            open: None,
            scratch: Vec::new(),
        }
    }

    /// True when some file still waits for `digest`.
    pub(super) fn wants(&self, digest: &Digest) -> bool {
        self.waiting.contains_key(digest)
    }

    /// Takes one verified chunk.
    pub(super) fn accept(&mut self, digest: Digest, data: &[u8]) -> Result<(), RestoreError> {
        let Some(jobs) = self.waiting.remove(&digest) else {
            return Ok(());
        };
        for job in jobs {
            self.advance(job, Some((&digest, data)))?;
        }
        if self.remaining.get(&digest).copied().unwrap_or(0) > 0 {
            self.spool.put(digest, data)?;
        }
        Ok(())
    }

    /// Writes job `i`'s chunks in order while their data is at hand.
    pub(super) fn advance(
        &mut self,
        i: usize,
        in_hand: Option<(&Digest, &[u8])>,
    ) -> Result<(), RestoreError> {
        let mut buf = std::mem::take(&mut self.scratch);
        let result = (|| {
            while let Some(&d) = self.jobs[i].chunks.get(self.jobs[i].next) {
                let data: &[u8] = match in_hand {
                    Some((h, data)) if *h == d => data,
                    _ if self.spool.get(&d, &mut buf)? => &buf,
                    _ => {
                        self.waiting.entry(d).or_default().push(i);
                        break;
                    }
                };
                let offset = self.jobs[i].offset;
                if data.iter().any(|&b| b != 0) {
                    self.file(i)?
                        .write_all_at(data, offset)
                        .map_err(io_err(&self.jobs[i].temp))?;
                }
                let job = &mut self.jobs[i];
                job.offset += data.len() as u64;
                job.next += 1;
                if let Some(n) = self.remaining.get_mut(&d) {
                    *n = n.saturating_sub(1);
                }
            }
            Ok(())
        })();
        self.scratch = buf;
        result
    }

    fn file(&mut self, i: usize) -> Result<&File, RestoreError> {
        let slot = match self.open.take() {
            Some((j, f)) if j == i => (j, f),
            _ => {
                let path = &self.jobs[i].temp;
                let f = File::options()
                    .write(true)
                    .open(path)
                    .map_err(io_err(path))?;
                (i, f)
            }
        };
        Ok(&self.open.insert(slot).1)
    }

    /// Checks every file is complete and has its manifest size.
    pub(super) fn finish(&mut self) -> Result<(), RestoreError> {
        self.open = None;
        self.spool.remove();
        for job in &self.jobs {
            if job.next != job.chunks.len() || job.offset != job.size {
                return Err(RestoreError::SizeMismatch {
                    path: job.temp.clone(),
                    got: job.offset,
                    want: job.size,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembler_writes_out_of_order_and_repeated_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let a = [1u8; 32];
        let b = [2u8; 32];
        let z = [3u8; 32];
        let temp = dir.path().join("f");
        std::fs::write(&temp, b"").unwrap();
        File::options()
            .write(true)
            .open(&temp)
            .unwrap()
            .set_len(11)
            .unwrap();
        let job = FileJob {
            temp: temp.clone(),
            chunks: vec![a, z, b, a, z],
            size: 11,
            next: 0,
            offset: 0,
        };
        let mut asm = Assembler::new(vec![job], dir.path().join("spool"));
        // Tape order: b, z, a (b and z arrive before their offsets are known).
        asm.accept(b, b"BBB").unwrap();
        asm.accept(z, &[0, 0]).unwrap();
        assert!(asm.wants(&a));
        asm.accept(a, b"AA").unwrap();
        assert!(!asm.wants(&a) && !asm.wants(&b) && !asm.wants(&z));
        asm.finish().unwrap();
        assert_eq!(std::fs::read(&temp).unwrap(), b"AA\0\0BBBAA\0\0");
        assert!(!dir.path().join("spool").exists());
    }
}
