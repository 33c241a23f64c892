//! Cutting one continuous stream (the payload stream: every regular file's
//! bytes one after the other; the metadata stream: the entries) into
//! content-defined chunks, whatever the boundaries of the files fed in.
//!
//! The cut points are FastCDC 2020's (normalization level 1, the standard
//! gear table, as [`crate::chunking::Chunker`]): a chunk is cut as soon as
//! `max` bytes are buffered, from those bytes; at the end of the stream (or
//! a forced boundary, see [`StreamChunker::flush`]) the rest is cut the
//! same way, the last chunk possibly shorter than `min`. Small files thus
//! share chunks: the chunk count follows bytes, not files.
//!
//! Memory: one buffer of twice the maximum chunk size; files are read
//! straight into it, and each byte is moved at most once more.

use std::io::Read;

use fastcdc::v2020::{self, Normalization};

use crate::chunking::{ChunkError, ChunkerConfig};

/// Where a chunk goes: it gets its bytes, valid during the call only.
pub trait ChunkSink {
    type Error;
    fn chunk(&mut self, data: &[u8]) -> Result<(), Self::Error>;
}

impl<E, F: FnMut(&[u8]) -> Result<(), E>> ChunkSink for F {
    type Error = E;
    fn chunk(&mut self, data: &[u8]) -> Result<(), E> {
        self(data)
    }
}

/// Why [`StreamChunker::read_from`] stopped early.
#[derive(Debug)]
pub enum ReadError<E> {
    /// The source failed after `read` bytes (those are in the stream).
    Io { read: u64, error: std::io::Error },
    /// The sink refused a chunk.
    Sink(E),
}

/// A content-defined chunker over one continuous stream.
#[derive(Debug)]
pub struct StreamChunker {
    config: ChunkerConfig,
    mask_s: u64,
    mask_l: u64,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes fed so far (the stream offset of the next byte).
    fed: u64,
}

impl StreamChunker {
    pub fn new(config: ChunkerConfig) -> Result<Self, ChunkError> {
        config.validate()?;
        let bits = v2020::logarithm2(config.avg);
        let level = Normalization::Level1.bits();
        Ok(StreamChunker {
            config,
            mask_s: v2020::MASKS[(bits + level) as usize],
            mask_l: v2020::MASKS[(bits - level) as usize],
            buf: Vec::new(),
            start: 0,
            end: 0,
            fed: 0,
        })
    }

    /// The chunk size limits.
    pub fn config(&self) -> ChunkerConfig {
        self.config
    }

    /// Bytes fed so far: the stream offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.fed
    }

    fn max(&self) -> usize {
        self.config.max as usize
    }

    /// Room for at least `want` more bytes after `end`.
    fn make_room(&mut self, want: usize) {
        if self.buf.is_empty() {
            // Zeroed pages from the allocator: touched only when written.
            self.buf = vec![0; 2 * self.max()];
        }
        if self.buf.len() - self.end < want {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Cuts one chunk from the buffered bytes (at most `max` of them).
    fn cut<S: ChunkSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        let window_end = self.end.min(self.start + self.max());
        let (_hash, len) = v2020::cut(
            &self.buf[self.start..window_end],
            self.config.min as usize,
            self.config.avg as usize,
            self.max(),
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        let len = len.max(1).min(window_end - self.start);
        let chunk_start = self.start;
        self.start += len;
        sink.chunk(&self.buf[chunk_start..chunk_start + len])
    }

    /// Cuts every chunk that more input cannot change (`max` bytes buffered).
    fn cut_ready<S: ChunkSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        while self.end - self.start >= self.max() {
            self.cut(sink)?;
        }
        Ok(())
    }

    /// Appends `data` to the stream.
    pub fn push<S: ChunkSink>(&mut self, mut data: &[u8], sink: &mut S) -> Result<(), S::Error> {
        while !data.is_empty() {
            let max = self.max();
            self.make_room(max);
            let n = data.len().min(self.buf.len() - self.end);
            self.buf[self.end..self.end + n].copy_from_slice(&data[..n]);
            self.end += n;
            self.fed += n as u64;
            data = &data[n..];
            self.cut_ready(sink)?;
        }
        Ok(())
    }

    /// Appends what `reader` yields until its end or `limit` bytes;
    /// returns the bytes read.
    pub fn read_from<R: Read, S: ChunkSink>(
        &mut self,
        reader: &mut R,
        limit: u64,
        sink: &mut S,
    ) -> Result<u64, ReadError<S::Error>> {
        let mut read = 0u64;
        while read < limit {
            let max = self.max();
            self.make_room(max);
            let room =
                (self.buf.len() - self.end).min((limit - read).min(usize::MAX as u64) as usize);
            match reader.read(&mut self.buf[self.end..self.end + room]) {
                Ok(0) => break,
                Ok(n) => {
                    self.end += n;
                    self.fed += n as u64;
                    read += n as u64;
                    self.cut_ready(sink).map_err(ReadError::Sink)?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(ReadError::Io { read, error }),
            }
        }
        Ok(read)
    }

    /// Appends a whole file known not to be sparse (its allocated blocks
    /// cover its size): read straight to its end, without the
    /// `SEEK_DATA`/`SEEK_HOLE` probes and the `fstat` of
    /// [`Self::read_file`] (two to four system calls per file, most of the
    /// per-file cost for small files). Returns the bytes appended.
    pub fn read_dense_file<S: ChunkSink>(
        &mut self,
        file: &std::fs::File,
        sink: &mut S,
    ) -> Result<u64, ReadError<S::Error>> {
        let mut f = file;
        self.read_from(&mut f, u64::MAX, sink)
    }

    /// Appends a whole file, which may be sparse: its data segments are
    /// read (found with `SEEK_DATA`/`SEEK_HOLE`), its holes appended as
    /// zeros without reading them, then whatever follows up to the end of
    /// the file (it may have grown). Returns the bytes appended. A file
    /// system without `SEEK_DATA` is read whole.
    pub fn read_file<S: ChunkSink>(
        &mut self,
        file: &std::fs::File,
        sink: &mut S,
    ) -> Result<u64, ReadError<S::Error>> {
        use nix::unistd::{lseek, Whence};
        use std::io::{Seek, SeekFrom};
        use std::os::fd::AsRawFd;
        let io = |read: u64, error: std::io::Error| ReadError::Io { read, error };
        let size = file.metadata().map_err(|e| io(0, e))?.len();
        let mut pos = 0u64;
        while pos < size {
            let data = match lseek(file.as_raw_fd(), pos as i64, Whence::SeekData) {
                Ok(d) => (d as u64).min(size),
                // Only a hole up to the end.
                Err(nix::errno::Errno::ENXIO) => size,
                // No SEEK_DATA here: read the rest.
                Err(_) => break,
            };
            if data > pos {
                self.push_zeros(data - pos, sink).map_err(ReadError::Sink)?;
                pos = data;
            }
            if pos >= size {
                break;
            }
            let hole = match lseek(file.as_raw_fd(), pos as i64, Whence::SeekHole) {
                Ok(h) => (h as u64).clamp(pos, size),
                Err(_) => size,
            };
            let mut f = file;
            f.seek(SeekFrom::Start(pos)).map_err(|e| io(pos, e))?;
            let want = hole - pos;
            let n = match self.read_from(&mut f, want, sink) {
                Ok(n) => n,
                Err(ReadError::Io { read, error }) => return Err(io(pos + read, error)),
                Err(e) => return Err(e),
            };
            pos += n;
            if n < want {
                // Shorter than the segment: the file shrank.
                return Ok(pos);
            }
        }
        let mut f = file;
        f.seek(SeekFrom::Start(pos)).map_err(|e| io(pos, e))?;
        match self.read_from(&mut f, u64::MAX, sink) {
            Ok(n) => Ok(pos + n),
            Err(ReadError::Io { read, error }) => Err(io(pos + read, error)),
            Err(e) => Err(e),
        }
    }

    /// Appends `len` zero bytes (the holes of a sparse file).
    pub fn push_zeros<S: ChunkSink>(&mut self, mut len: u64, sink: &mut S) -> Result<(), S::Error> {
        while len > 0 {
            let max = self.max();
            self.make_room(max);
            let n = (self.buf.len() - self.end).min(len.min(usize::MAX as u64) as usize);
            self.buf[self.end..self.end + n].fill(0);
            self.end += n;
            self.fed += n as u64;
            len -= n as u64;
            self.cut_ready(sink)?;
        }
        Ok(())
    }

    /// Cuts everything buffered: at the end of the stream, or where the
    /// next bytes must start a new chunk.
    pub fn flush<S: ChunkSink>(&mut self, sink: &mut S) -> Result<(), S::Error> {
        while self.start < self.end {
            self.cut(sink)?;
        }
        self.start = 0;
        self.end = 0;
        Ok(())
    }

    /// Moves the stream offset past `len` bytes supplied elsewhere (whole
    /// chunks reused from an earlier snapshot). Call after [`Self::flush`].
    pub fn skip(&mut self, len: u64) {
        debug_assert_eq!(self.start, self.end);
        self.fed += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    fn small() -> ChunkerConfig {
        ChunkerConfig {
            min: 1024,
            avg: 4096,
            max: 16384,
        }
    }

    fn random(len: usize, seed: u64) -> Vec<u8> {
        let mut v = vec![0u8; len];
        rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
        v
    }

    /// Feeding a stream in any pieces gives fastcdc's StreamCDC cut points
    /// for the whole stream.
    #[test]
    fn cuts_match_stream_cdc_however_the_stream_is_fed() {
        let data = random(300_000, 1);
        let expected: Vec<Vec<u8>> =
            fastcdc::v2020::StreamCDC::new(&data[..], small().min, small().avg, small().max)
                .map(|c| c.unwrap().data)
                .collect();
        for piece in [1usize, 7, 1000, 16384, 100_000] {
            let mut c = StreamChunker::new(small()).unwrap();
            let mut got: Vec<Vec<u8>> = Vec::new();
            let mut sink = |d: &[u8]| -> Result<(), ()> {
                got.push(d.to_vec());
                Ok(())
            };
            for (i, p) in data.chunks(piece).enumerate() {
                if i % 2 == 0 {
                    c.push(p, &mut sink).unwrap();
                } else {
                    c.read_from(&mut &p[..], u64::MAX, &mut sink).unwrap();
                }
            }
            c.flush(&mut sink).unwrap();
            assert_eq!(got, expected, "pieces of {piece}");
            assert_eq!(c.offset(), data.len() as u64);
        }
    }

    /// A sparse file's holes are appended as zeros without being read: the
    /// same chunks as the bytes read whole.
    #[test]
    fn a_sparse_file_reads_as_its_bytes() {
        use std::io::{Seek, SeekFrom, Write};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let mut f = std::fs::File::create(&path).unwrap();
        let data = random(70_000, 3);
        f.seek(SeekFrom::Start(1 << 20)).unwrap();
        f.write_all(&data).unwrap();
        f.seek(SeekFrom::Start(3 << 20)).unwrap();
        f.write_all(&data[..5]).unwrap();
        f.set_len((5 << 20) + 3).unwrap();
        drop(f);
        let whole = std::fs::read(&path).unwrap();
        let chunks = |sparse: bool| {
            let mut c = StreamChunker::new(small()).unwrap();
            let mut got: Vec<Vec<u8>> = Vec::new();
            let mut sink = |d: &[u8]| -> Result<(), ()> {
                got.push(d.to_vec());
                Ok(())
            };
            let n = if sparse {
                let file = std::fs::File::open(&path).unwrap();
                c.read_file(&file, &mut sink).unwrap()
            } else {
                c.push(&whole, &mut sink).unwrap();
                whole.len() as u64
            };
            c.flush(&mut sink).unwrap();
            assert_eq!(n, whole.len() as u64);
            got
        };
        assert_eq!(chunks(true), chunks(false));
    }

    #[test]
    fn small_files_pack_into_few_chunks_and_zeros_and_limits_work() {
        let mut c = StreamChunker::new(small()).unwrap();
        let mut sizes = Vec::new();
        let mut sink = |d: &[u8]| -> Result<(), ()> {
            sizes.push(d.len());
            Ok(())
        };
        let mut fed = 0;
        for i in 0..1000u64 {
            let file = random(100 + (i as usize * 37) % 400, i);
            let got = c.read_from(&mut &file[..], 250, &mut sink).unwrap();
            assert_eq!(got, 250.min(file.len() as u64));
            fed += got as usize;
        }
        c.push_zeros(50_000, &mut sink).unwrap();
        c.flush(&mut sink).unwrap();
        let total: usize = sizes.iter().sum();
        assert_eq!(total as u64, c.offset());
        assert_eq!(total, fed + 50_000);
        assert!(sizes.len() < 300_000 / 1024 + 2, "{} chunks", sizes.len());
        assert!(sizes.iter().all(|&s| s <= 16384));
    }
}
