//! The source reader: producer threads that walk the backup sources,
//! encode them into the snapshot's two streams (metadata and payload,
//! [`crate::stream`]), hash the chunks, and deliver the chunks to the
//! tape writer in stream order.
//!
//! Stages (each a thread, connected by bounded channels):
//! - the *source reader* walks the sources ([`crate::stream::walk`]) and
//!   encodes them ([`crate::stream::encode`]): metadata entries and file
//!   bytes go through one [`crate::stream::chunker::StreamChunker`] per
//!   stream; each chunk is copied into a pooled buffer, a hash job queued
//!   and its reply slot queued, in order, for the consumer;
//! - *chunk hashers* (`hash_workers` of them) compute the SHA-256 digests
//!   in parallel;
//! - the consumer, [`SourceReader::next_item`], takes the reply slots in
//!   order and appends each chunk's index entry (digest, stream offset,
//!   length) to its stream's index, spooled to an unnamed temporary file:
//!   nothing that grows with the file count is held in memory.
//!
//! Memory stays bounded whatever the tree: two chunker buffers (twice the
//! maximum chunk size each) plus at most `queue_chunks + 2` chunk buffers,
//! recycled through a pool.
//!
//! Every thread reports its outcome through its own [`ProducerToken`] of
//! the format layer's finish barrier, so a walk or hasher that failed (or
//! panicked) can never be mistaken for a complete one; a closed channel
//! alone is never success.

mod buffers;
mod hashers;

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::PathBuf;

use crossbeam_channel::{bounded, Receiver, Sender};
use pbs_tape::format::ProducerToken;

use self::buffers::{BufferPool, PooledBuf};
pub(crate) use self::hashers::HashFn;
use self::hashers::{spawn_hasher, HashJob, Worker};
use crate::catalog::file_index::Staging;
use crate::chunking::{ChunkerConfig, Digest};
use crate::stream::encode::{EncodeOptions, EncodeStats, Encoder, StreamKind, StreamSink};
use crate::stream::index::{self, IndexEntry, Summary, INDEX_ENTRY_LEN};
use crate::stream::walk::{walk, Source, WalkOptions};

/// Default number of chunks queued for the consumer.
pub const DEFAULT_CHANNEL_CHUNKS: usize = 4;
/// Most hashing threads chosen automatically (`hash_workers` 0).
pub const MAX_AUTO_HASH_WORKERS: usize = 4;

/// What to read and how.
#[derive(Debug)]
pub struct SourceConfig {
    /// The sources, checked ([`crate::stream::walk::check_sources`]).
    pub sources: Vec<Source>,
    /// Excludes, file system boundaries, warnings.
    pub walk: WalkOptions,
    pub chunker: ChunkerConfig,
    /// Chunks queued, in order, for the consumer (at least 1).
    pub queue_chunks: usize,
    /// Hashing threads; 0 picks one per CPU, at most [`MAX_AUTO_HASH_WORKERS`].
    pub hash_workers: usize,
    /// Where metadata chunks are kept for the local file index.
    pub staging: Option<Staging>,
    /// The previous snapshot whose unchanged files' chunks are reused
    /// (incremental backup); `None` reads every file.
    pub reference: Option<crate::stream::reference::Reference>,
}

/// The number of hashing threads used for a requested `hash_workers`.
pub fn hash_workers_for(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_AUTO_HASH_WORKERS)
}

/// One chunk of either stream, hashed. Its buffer returns to the reader's
/// pool when the chunk is dropped.
#[derive(Debug)]
pub struct SourceChunk {
    pub digest: Digest,
    pub stream: StreamKind,
    data: PooledBuf,
}

impl SourceChunk {
    /// The chunk's bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// A chunk that comes from no source stream: one the writer read back
    /// from a tape to write it again (see `writer::overflow`).
    pub(crate) fn detached(digest: Digest, data: Vec<u8>) -> SourceChunk {
        SourceChunk {
            digest,
            stream: StreamKind::Payload,
            data: PooledBuf::detached(data),
        }
    }
}

/// What the source reader delivers.
#[derive(Debug)]
pub enum SourceItem {
    /// The next chunk (in stream order).
    Chunk(SourceChunk),
    /// The next payload chunk is this chunk of the reference snapshot
    /// (incremental backup), taken over by digest without its bytes: it
    /// must be in the media set already.
    Reused { digest: Digest, len: u64 },
    /// A problem that did not stop the walk (`PATH: what`); the entry is
    /// missing or marked incomplete.
    Warning(String),
    /// A remark for the job log.
    Note(String),
    /// The walk is complete; no further items follow.
    Done(Box<Streams>),
}

/// Why [`SourceReader::next_item`] has no item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceStop {
    /// A producer stopped before the end: the producer set (or
    /// [`SourceReader::finish`]) says which and why.
    Stopped,
    /// The chunks delivered do not add up to the streams.
    Invalid(String),
}

/// What the reader queues, in order, for the consumer.
enum Ordered {
    Chunk(Receiver<SourceChunk>),
    Reused(Digest, u64),
    Warning(String),
    Note(String),
    Done(EncodeStats),
}

impl std::fmt::Debug for Ordered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ordered::Chunk(_) => "Chunk",
            Ordered::Reused(..) => "Reused",
            Ordered::Warning(_) => "Warning",
            Ordered::Note(_) => "Note",
            Ordered::Done(_) => "Done",
        })
    }
}

/// One stream's chunk index, spooled to an unnamed temporary file.
#[derive(Debug)]
struct IndexSpool {
    file: Option<BufWriter<File>>,
    chunks: u64,
    bytes: u64,
}

impl IndexSpool {
    fn new() -> Self {
        IndexSpool {
            file: None,
            chunks: 0,
            bytes: 0,
        }
    }

    fn push(&mut self, digest: Digest, len: u64) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(tempfile::tempfile()?));
        }
        let entry = IndexEntry {
            digest,
            offset: self.bytes,
            len,
        };
        if let Some(f) = &mut self.file {
            f.write_all(&entry.encode())?;
        }
        self.chunks += 1;
        self.bytes += len;
        Ok(())
    }

    /// The spooled entries, from the start.
    fn reader(&mut self) -> std::io::Result<Box<dyn Read + Send>> {
        match self.file.take() {
            None => Ok(Box::new(std::io::empty())),
            Some(w) => {
                let mut f = w.into_inner().map_err(|e| e.into_error())?;
                f.rewind()?;
                Ok(Box::new(std::io::BufReader::new(f)))
            }
        }
    }
}

/// The streams of a finished walk: their counts and spooled indexes.
#[derive(Debug)]
pub struct Streams {
    pub stats: EncodeStats,
    metadata: IndexSpool,
    payload: IndexSpool,
    /// The metadata chunks kept for the local file index, unless keeping
    /// them failed (`index_failure` says why).
    pub staging: Option<Staging>,
    pub index_failure: Option<String>,
}

impl Streams {
    /// The summary of a snapshot with these streams (the job fills in
    /// name, time and the rest).
    pub fn summary(&self, snapshot: &str, time: i64, chunker: ChunkerConfig) -> Summary {
        Summary {
            snapshot: snapshot.to_string(),
            time,
            sources: Vec::new(),
            excludes: Vec::new(),
            chunker,
            entries: self.stats.entries,
            files: self.stats.files,
            file_bytes: self.stats.file_bytes,
            incomplete: self.stats.incomplete,
            warnings: self.stats.warnings,
            metadata_bytes: self.metadata.bytes,
            metadata_chunks: self.metadata.chunks,
            payload_bytes: self.payload.bytes,
            payload_chunks: self.payload.chunks,
            reference: None,
            reused_bytes: self.stats.reused_bytes,
        }
    }

    /// Writes the snapshot index (`summary` and both chunk indexes) into an
    /// unnamed temporary file; returns it, rewound, and its length.
    pub fn write_index(&mut self, summary: &Summary) -> Result<(File, u64), String> {
        let io = |e: std::io::Error| format!("spooling the snapshot index: {e}");
        let head = index::encode_head(summary).map_err(|e| e.to_string())?;
        let mut out = BufWriter::new(tempfile::tempfile().map_err(io)?);
        out.write_all(&head).map_err(io)?;
        let mut len = head.len() as u64;
        for spool in [&mut self.metadata, &mut self.payload] {
            let copied = std::io::copy(&mut spool.reader().map_err(io)?, &mut out).map_err(io)?;
            if copied != spool.chunks * INDEX_ENTRY_LEN as u64 {
                return Err(format!(
                    "spooled snapshot index is {copied} bytes, expected {}",
                    spool.chunks * INDEX_ENTRY_LEN as u64
                ));
            }
            len += copied;
        }
        let mut file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.rewind().map_err(io)?;
        Ok((file, len))
    }
}

/// The consuming end of a running source pipeline.
#[derive(Debug)]
pub struct SourceReader {
    ordered: Option<Receiver<Ordered>>,
    /// Dropped to tell a reader waiting for a free buffer to stop.
    cancel: Option<Sender<()>>,
    metadata: IndexSpool,
    payload: IndexSpool,
    staging: Option<Staging>,
    index_failure: Option<String>,
    /// The hashers, then the source reader.
    workers: Vec<Worker>,
}

/// Starts the pipeline. `register` registers one producer in the writer's
/// producer set per thread (`chunk hasher 1..N`, then `source reader`);
/// each thread completes its token with its outcome.
pub fn spawn_source_reader(
    config: SourceConfig,
    register: impl FnMut(&str) -> ProducerToken,
) -> std::io::Result<SourceReader> {
    spawn_with_hasher(config, register, crate::chunking::sha256)
}

/// [`spawn_source_reader`] with another digest function (tests).
pub(crate) fn spawn_with_hasher(
    mut config: SourceConfig,
    mut register: impl FnMut(&str) -> ProducerToken,
    hash: HashFn,
) -> std::io::Result<SourceReader> {
    let hashers = hash_workers_for(config.hash_workers);
    let queue = config.queue_chunks.max(1);
    let (job_tx, job_rx) = bounded::<HashJob>(hashers);
    let (ordered_tx, ordered_rx) = bounded(queue);
    let (cancel_tx, cancel_rx) = bounded::<()>(0);
    // Hashers first: when one dies, the producer set names it (the root
    // cause) before the reader it stopped.
    let mut workers = Vec::with_capacity(hashers + 1);
    for i in 1..=hashers {
        let name = format!("chunk hasher {i}");
        let token = register(&name);
        workers.push(spawn_hasher(name, hash, job_rx.clone(), token)?);
    }
    drop(job_rx);
    let staging = config.staging.take();
    let reader_token = register("source reader");
    // In flight at once: the queued chunks, one being queued by the reader
    // and one held by the consumer.
    let pool = BufferPool::new(queue + 2);
    let handle = std::thread::Builder::new()
        .name("ptape-source".into())
        .spawn(move || {
            let result = read_sources(config, pool, &job_tx, &ordered_tx, &cancel_rx);
            drop(job_tx);
            drop(ordered_tx);
            reader_token.complete(result.clone());
            result
        })?;
    workers.push(("source reader".to_string(), handle));
    Ok(SourceReader {
        ordered: Some(ordered_rx),
        cancel: Some(cancel_tx),
        metadata: IndexSpool::new(),
        payload: IndexSpool::new(),
        staging,
        index_failure: None,
        workers,
    })
}

/// The source reader's work: walk and encode; every chunk queued for
/// hashing and its reply slot for the consumer; then the counts.
fn read_sources(
    config: SourceConfig,
    pool: BufferPool,
    jobs: &Sender<HashJob>,
    ordered: &Sender<Ordered>,
    cancel: &Receiver<()>,
) -> Result<(), String> {
    let mut sink = PipelineSink {
        pool,
        jobs,
        ordered,
        cancel,
    };
    let options = EncodeOptions {
        fail_on_warning: config.walk.fail_on_warning,
        before_read: config.walk.before_read,
    };
    let mut encoder = Encoder::new(config.chunker, options, &mut sink)
        .map_err(|e| e.to_string())?
        .with_reference(config.reference);
    let walked = walk(&config.sources, &config.walk, &mut encoder);
    let stats = encoder.finish(walked)?;
    ordered
        .send(Ordered::Done(stats))
        .map_err(|_| STOPPED.to_string())
}

const STOPPED: &str = "the tape writer stopped";

/// Hands the encoder's chunks to the hashers and everything, in order, to
/// the consumer.
struct PipelineSink<'a> {
    pool: BufferPool,
    jobs: &'a Sender<HashJob>,
    ordered: &'a Sender<Ordered>,
    cancel: &'a Receiver<()>,
}

impl StreamSink for PipelineSink<'_> {
    fn chunk(&mut self, stream: StreamKind, data: &[u8]) -> Result<(), String> {
        let data = self
            .pool
            .take_copy(data, self.cancel)
            .ok_or_else(|| STOPPED.to_string())?;
        let (reply, slot) = bounded(1);
        self.jobs
            .send(HashJob {
                data,
                stream,
                reply,
            })
            .map_err(|_| "the chunk hashers stopped".to_string())?;
        self.ordered
            .send(Ordered::Chunk(slot))
            .map_err(|_| STOPPED.to_string())
    }

    fn reused(&mut self, digest: &Digest, len: u64) -> Result<(), String> {
        self.ordered
            .send(Ordered::Reused(*digest, len))
            .map_err(|_| STOPPED.to_string())
    }

    fn warning(&mut self, message: String) -> Result<(), String> {
        self.ordered
            .send(Ordered::Warning(message))
            .map_err(|_| STOPPED.to_string())
    }

    fn note(&mut self, message: String) {
        let _ = self.ordered.send(Ordered::Note(message));
    }
}

impl SourceReader {
    /// The next chunk (in stream order), warning or note; after the last,
    /// the streams with their spooled indexes.
    pub fn next_item(&mut self) -> Result<SourceItem, SourceStop> {
        let ordered = self.ordered.as_ref().ok_or(SourceStop::Stopped)?;
        match ordered.recv() {
            Ok(Ordered::Chunk(slot)) => {
                // A slot closed without a result: its hasher died.
                let chunk = slot.recv().map_err(|_| SourceStop::Stopped)?;
                if chunk.stream == StreamKind::Metadata {
                    if let Some(staging) = &self.staging {
                        if let Err(e) = staging.put_chunk(&chunk.digest, chunk.data()) {
                            self.index_failure = Some(e.to_string());
                            self.staging = None;
                        }
                    }
                }
                let spool = match chunk.stream {
                    StreamKind::Metadata => &mut self.metadata,
                    StreamKind::Payload => &mut self.payload,
                };
                spool
                    .push(chunk.digest, chunk.data().len() as u64)
                    .map_err(|e| SourceStop::Invalid(format!("spooling a chunk index: {e}")))?;
                Ok(SourceItem::Chunk(chunk))
            }
            Ok(Ordered::Reused(digest, len)) => {
                self.payload
                    .push(digest, len)
                    .map_err(|e| SourceStop::Invalid(format!("spooling a chunk index: {e}")))?;
                Ok(SourceItem::Reused { digest, len })
            }
            Ok(Ordered::Warning(w)) => Ok(SourceItem::Warning(w)),
            Ok(Ordered::Note(n)) => Ok(SourceItem::Note(n)),
            Ok(Ordered::Done(stats)) => {
                self.ordered = None;
                for (what, spool, expected) in [
                    ("metadata", &self.metadata, stats.metadata_bytes),
                    ("payload", &self.payload, stats.payload_bytes),
                ] {
                    if spool.bytes != expected {
                        return Err(SourceStop::Invalid(format!(
                            "{} bytes of {what} chunks for a {expected}-byte {what} stream",
                            spool.bytes
                        )));
                    }
                }
                Ok(SourceItem::Done(Box::new(Streams {
                    stats,
                    metadata: std::mem::replace(&mut self.metadata, IndexSpool::new()),
                    payload: std::mem::replace(&mut self.payload, IndexSpool::new()),
                    staging: self.staging.take(),
                    index_failure: self.index_failure.take(),
                })))
            }
            Err(_) => Err(SourceStop::Stopped),
        }
    }

    /// Stops the pipeline (producers stop at their next hand-over) and
    /// waits for its threads. Returns every thread's error (hashers', then
    /// the source reader's) joined by `; `.
    pub fn finish(mut self) -> Result<(), String> {
        self.ordered = None;
        self.cancel = None;
        let errors: Vec<String> = std::mem::take(&mut self.workers)
            .into_iter()
            .filter_map(|(name, handle)| match handle.join() {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{name}: {e}")),
                Err(_) => Some(format!("the {name} thread panicked")),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Sum of the sizes of the regular files under `sources` (stat only; for
/// progress estimates). Unreadable entries count as 0.
pub fn estimate_bytes(sources: &[PathBuf]) -> u64 {
    fn walk(path: &std::path::Path) -> u64 {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return 0;
        };
        if meta.is_file() {
            meta.len()
        } else if meta.is_dir() {
            std::fs::read_dir(path)
                .map(|rd| rd.flatten().map(|e| walk(&e.path())).sum())
                .unwrap_or(0)
        } else {
            0
        }
    }
    sources
        .iter()
        .map(|p| match std::fs::metadata(p) {
            Ok(m) if m.is_file() => m.len(),
            _ => walk(p),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::entry::{EntryReader, Kind};
    use crate::stream::index::SnapshotIndex;
    use pbs_tape::format::ProducerSet;

    fn small() -> ChunkerConfig {
        ChunkerConfig {
            min: 1024,
            avg: 4096,
            max: 16384,
        }
    }

    fn config(sources: Vec<PathBuf>, hash_workers: usize) -> SourceConfig {
        SourceConfig {
            sources: sources
                .iter()
                .map(|p| Source {
                    path: p.clone(),
                    name: p.file_name().unwrap().as_encoded_bytes().to_vec(),
                    link_target: None,
                })
                .collect(),
            walk: WalkOptions::default(),
            chunker: small(),
            queue_chunks: 1,
            hash_workers,
            staging: None,
            reference: None,
        }
    }

    fn tree(dir: &std::path::Path) -> PathBuf {
        use rand::{RngCore, SeedableRng};
        let root = dir.join("src");
        std::fs::create_dir(&root).unwrap();
        let mut data = vec![0u8; 300_000];
        rand::rngs::StdRng::seed_from_u64(9).fill_bytes(&mut data);
        std::fs::write(root.join("a"), &data).unwrap();
        std::fs::write(root.join("b"), vec![3u8; 100_000]).unwrap();
        std::fs::write(root.join("c"), &data[..5000]).unwrap();
        root
    }

    /// Chunks delivered, in order: (stream, digest, bytes).
    type Delivered = Vec<(StreamKind, Digest, Vec<u8>)>;

    /// Drains the pipeline: (chunks in order, streams).
    fn drain(reader: &mut SourceReader) -> Result<(Delivered, Streams), SourceStop> {
        let mut chunks = Vec::new();
        loop {
            match reader.next_item()? {
                SourceItem::Chunk(c) => chunks.push((c.stream, c.digest, c.data().to_vec())),
                SourceItem::Done(s) => return Ok((chunks, *s)),
                SourceItem::Warning(_) | SourceItem::Note(_) | SourceItem::Reused { .. } => {}
            }
        }
    }

    #[test]
    fn streams_chunks_in_order_then_the_indexes_and_reports_success() {
        let dir = tempfile::tempdir().unwrap();
        let root = tree(dir.path());
        let producers = ProducerSet::new();
        let mut reader =
            spawn_source_reader(config(vec![root], 3), |n| producers.register(n)).unwrap();
        let (chunks, mut streams) = drain(&mut reader).unwrap();
        reader.finish().unwrap();
        producers.wait_all().unwrap();
        for (_, digest, data) in &chunks {
            assert_eq!(*digest, crate::chunking::sha256(data));
        }
        let payload: Vec<u8> = chunks
            .iter()
            .filter(|c| c.0 == StreamKind::Payload)
            .flat_map(|c| c.2.clone())
            .collect();
        assert_eq!(payload.len(), 405_000);
        assert_eq!(streams.stats.file_bytes, 405_000);
        assert_eq!(streams.stats.entries, 4);
        let summary = streams.summary("s", 1, small());
        let (file, len) = streams.write_index(&summary).unwrap();
        assert_eq!(file.metadata().unwrap().len(), len);
        let index = SnapshotIndex::read(std::io::BufReader::new(file)).unwrap();
        assert_eq!(index.summary, summary);
        let listed: Vec<Digest> = index.payload.iter().map(|e| e.digest).collect();
        let sent: Vec<Digest> = chunks
            .iter()
            .filter(|c| c.0 == StreamKind::Payload)
            .map(|c| c.1)
            .collect();
        assert_eq!(listed, sent);
        // The metadata stream decodes to the tree, with payload ranges
        // that tile the payload stream.
        let meta: Vec<u8> = chunks
            .iter()
            .filter(|c| c.0 == StreamKind::Metadata)
            .flat_map(|c| c.2.clone())
            .collect();
        let mut r = EntryReader::new(&meta[..], 0);
        let mut files = Vec::new();
        while let Some((_, e)) = r.next_entry().unwrap() {
            files.push((e.path.to_string(), e.kind, e.offset, e.size));
        }
        assert_eq!(
            files,
            [
                ("src".to_string(), Kind::Dir, 0, 0),
                ("src/a".to_string(), Kind::File, 0, 300_000),
                ("src/b".to_string(), Kind::File, 300_000, 100_000),
                ("src/c".to_string(), Kind::File, 400_000, 5000),
            ]
        );
        assert_eq!(&payload[400_000..], &payload[..5000]);
    }

    #[test]
    fn a_source_that_vanished_after_its_check_is_a_warning() {
        let producers = ProducerSet::new();
        let mut reader = spawn_source_reader(
            config(vec![PathBuf::from("/nonexistent/ptape-test")], 2),
            |n| producers.register(n),
        )
        .unwrap();
        match reader.next_item().unwrap() {
            SourceItem::Warning(w) => assert!(w.contains("ptape-test: vanished"), "{w}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(reader.next_item().unwrap(), SourceItem::Done(s) if s.stats.entries == 0));
        reader.finish().unwrap();
        producers.wait_all().unwrap();
    }

    #[test]
    fn dropping_the_consumer_stops_the_producers() {
        let dir = tempfile::tempdir().unwrap();
        let root = tree(dir.path());
        let producers = ProducerSet::new();
        let mut reader =
            spawn_source_reader(config(vec![root], 2), |n| producers.register(n)).unwrap();
        // Take one chunk and keep it: the reader then waits on a full queue
        // or an empty buffer pool until the consumer goes away.
        let held = reader.next_item().unwrap();
        let err = reader.finish().unwrap_err();
        assert!(err.contains("tape writer stopped"), "{err}");
        assert!(producers.wait_all().is_err());
        drop(held);
    }

    fn panicking_hash(data: &[u8]) -> Digest {
        if data.len() == 5000 {
            panic!("injected hasher failure");
        }
        crate::chunking::sha256(data)
    }

    #[test]
    fn a_failing_hasher_fails_the_pipeline_never_short_streams() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("c"), vec![7u8; 5000]).unwrap();
        let producers = ProducerSet::new();
        let mut cfg = config(vec![root], 1);
        cfg.chunker = ChunkerConfig {
            min: 64,
            avg: 256,
            max: 5000,
        };
        let mut reader = spawn_with_hasher(cfg, |n| producers.register(n), panicking_hash).unwrap();
        let stop = drain(&mut reader).unwrap_err();
        assert_eq!(stop, SourceStop::Stopped);
        let err = reader.finish().unwrap_err();
        assert!(err.contains("chunk hasher 1"), "{err}");
        let barrier = producers.wait_all().unwrap_err().to_string();
        assert!(barrier.contains("chunk hasher 1"), "{barrier}");
    }
}
