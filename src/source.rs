//! The source reader: producer threads that walk the backup sources,
//! chunk every regular file and hash the chunks, and deliver the chunks,
//! then the manifest, to the tape writer in manifest order.
//!
//! Stages (each a thread, connected by bounded channels):
//! - the *source reader* walks the sources, cuts files with one reused
//!   [`crate::chunking::Chunker`] and copies each chunk into a pooled
//!   buffer; it queues a hash job, and the job's reply slot in chunk order;
//! - *chunk hashers* (`hash_workers` of them) compute the SHA-256 digests
//!   in parallel;
//! - the consumer, [`SourceReader::next_item`], takes the reply slots in
//!   order: the writer sees the chunks in walk order whatever the hashers'
//!   timing, and the manifest's digests are filled in that order
//!   (deterministic manifests).
//!
//! Memory stays bounded whatever the file sizes: the chunker's buffer
//! (twice the maximum chunk size) plus at most `queue_chunks + 2` chunk
//! buffers, recycled through a pool (more chunks cannot be in flight: each
//! queued reply slot stands for one, plus the one the reader is queueing
//! and the one the consumer holds).
//!
//! Every thread reports its outcome through its own [`ProducerToken`] of
//! the format layer's finish barrier, so a walk or hasher that failed (or
//! panicked) can never be mistaken for a complete one; a closed channel
//! alone is never success.

mod buffers;
mod hashers;

use std::path::PathBuf;

use crossbeam_channel::{bounded, Receiver, Sender};
use pbs_tape::format::ProducerToken;

use self::buffers::{BufferPool, PooledBuf};
pub(crate) use self::hashers::HashFn;
use self::hashers::{spawn_hasher, HashJob, Worker};
use crate::chunking::{ChunkerConfig, Digest};
use crate::manifest::{walk_sources, Manifest, ManifestDraft, ManifestError, WalkSink};
use crate::stream::walk::{Source, WalkOptions};

/// Default number of chunks queued for the consumer.
pub const DEFAULT_CHANNEL_CHUNKS: usize = 4;
/// Most hashing threads chosen automatically (`hash_workers` 0).
pub const MAX_AUTO_HASH_WORKERS: usize = 4;

/// What to read and how.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The sources, checked ([`crate::stream::walk::check_sources`]).
    pub sources: Vec<Source>,
    /// Excludes, file system boundaries, warnings.
    pub walk: WalkOptions,
    /// Snapshot name recorded in the manifest.
    pub snapshot: String,
    pub chunker: ChunkerConfig,
    /// Chunks queued, in order, for the consumer (at least 1).
    pub queue_chunks: usize,
    /// Hashing threads; 0 picks one per CPU, at most [`MAX_AUTO_HASH_WORKERS`].
    pub hash_workers: usize,
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

/// One chunk of a regular file, hashed. Its buffer returns to the reader's
/// pool when the chunk is dropped.
#[derive(Debug)]
pub struct SourceChunk {
    pub digest: Digest,
    data: PooledBuf,
}

impl SourceChunk {
    /// The chunk's bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// What the source reader delivers.
#[derive(Debug)]
pub enum SourceItem {
    /// The next chunk of a regular file (in manifest order).
    Chunk(SourceChunk),
    /// A problem that did not stop the walk (`PATH: what`); the entry is
    /// missing or marked incomplete.
    Warning(String),
    /// A remark for the job log.
    Note(String),
    /// The walk is complete; no further items follow.
    Done(Box<Manifest>),
}

/// Why [`SourceReader::next_item`] has no item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceStop {
    /// A producer stopped before the manifest: the producer set (or
    /// [`SourceReader::finish`]) says which and why.
    Stopped,
    /// The chunks delivered do not add up to the manifest.
    Invalid(String),
}

/// What the reader queues, in order, for the consumer.
enum Ordered {
    Chunk(Receiver<SourceChunk>),
    Warning(String),
    Note(String),
    Done(ManifestDraft),
}

/// The consuming end of a running source pipeline.
#[derive(Debug)]
pub struct SourceReader {
    ordered: Option<Receiver<Ordered>>,
    /// Dropped to tell a reader waiting for a free buffer to stop.
    cancel: Option<Sender<()>>,
    /// Digests of the chunks delivered so far, in order.
    digests: Vec<Digest>,
    /// The hashers, then the source reader.
    workers: Vec<Worker>,
}

impl std::fmt::Debug for Ordered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ordered::Chunk(_) => "Chunk",
            Ordered::Warning(_) => "Warning",
            Ordered::Note(_) => "Note",
            Ordered::Done(_) => "Done",
        })
    }
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
    config: SourceConfig,
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
        digests: Vec::new(),
        workers,
    })
}

/// The source reader's work: walk, cut, queue every chunk for hashing and
/// its reply slot for the consumer, then the manifest draft.
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
    walk_sources(
        &config.sources,
        &config.walk,
        &config.snapshot,
        config.chunker,
        &mut sink,
    )
    .and_then(|draft| ordered.send(Ordered::Done(draft)).map_err(|_| stopped()))
    .map_err(|e| e.to_string())
}

fn stopped() -> ManifestError {
    ManifestError::Aborted("the tape writer stopped".into())
}

/// Hands the walk's chunks to the hashers and everything, in order, to
/// the consumer.
struct PipelineSink<'a> {
    pool: BufferPool,
    jobs: &'a Sender<HashJob>,
    ordered: &'a Sender<Ordered>,
    cancel: &'a Receiver<()>,
}

impl WalkSink for PipelineSink<'_> {
    fn chunk(&mut self, data: &[u8]) -> Result<(), ManifestError> {
        let data = self.pool.take_copy(data, self.cancel).ok_or_else(stopped)?;
        let (reply, slot) = bounded(1);
        self.jobs
            .send(HashJob { data, reply })
            .map_err(|_| ManifestError::Aborted("the chunk hashers stopped".into()))?;
        self.ordered
            .send(Ordered::Chunk(slot))
            .map_err(|_| stopped())
    }

    fn warning(&mut self, message: String) -> Result<(), ManifestError> {
        self.ordered
            .send(Ordered::Warning(message))
            .map_err(|_| stopped())
    }

    fn note(&mut self, message: String) {
        let _ = self.ordered.send(Ordered::Note(message));
    }
}

impl SourceReader {
    /// The next chunk (in manifest order) or, after the last one, the
    /// manifest with every digest filled in.
    pub fn next_item(&mut self) -> Result<SourceItem, SourceStop> {
        let ordered = self.ordered.as_ref().ok_or(SourceStop::Stopped)?;
        match ordered.recv() {
            Ok(Ordered::Chunk(slot)) => {
                // A slot closed without a result: its hasher died.
                let chunk = slot.recv().map_err(|_| SourceStop::Stopped)?;
                self.digests.push(chunk.digest);
                Ok(SourceItem::Chunk(chunk))
            }
            Ok(Ordered::Warning(w)) => Ok(SourceItem::Warning(w)),
            Ok(Ordered::Note(n)) => Ok(SourceItem::Note(n)),
            Ok(Ordered::Done(draft)) => {
                self.ordered = None;
                draft
                    .complete(std::mem::take(&mut self.digests))
                    .map(|m| SourceItem::Done(Box::new(m)))
                    .map_err(|e| SourceStop::Invalid(e.to_string()))
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
    sources.iter().map(|p| walk(p)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
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
            snapshot: "s".into(),
            chunker: small(),
            queue_chunks: 1,
            hash_workers,
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

    /// Chunks delivered, in order: (digest, bytes).
    type Delivered = Vec<(Digest, Vec<u8>)>;

    /// Drains the pipeline: (chunks in order, manifest).
    fn drain(reader: &mut SourceReader) -> Result<(Delivered, Manifest), SourceStop> {
        let mut chunks = Vec::new();
        loop {
            match reader.next_item()? {
                SourceItem::Chunk(c) => chunks.push((c.digest, c.data().to_vec())),
                SourceItem::Done(m) => return Ok((chunks, *m)),
                SourceItem::Warning(_) | SourceItem::Note(_) => {}
            }
        }
    }

    #[test]
    fn streams_chunks_in_order_then_manifest_and_reports_success() {
        let dir = tempfile::tempdir().unwrap();
        let root = tree(dir.path());
        let producers = ProducerSet::new();
        let mut reader =
            spawn_source_reader(config(vec![root.clone()], 3), |n| producers.register(n)).unwrap();
        let (chunks, manifest) = drain(&mut reader).unwrap();
        reader.finish().unwrap();
        producers.wait_all().unwrap();
        // The same chunks, in the same order, as the single-threaded walk.
        let expected = crate::manifest::build_manifest(&[root], "s", small(), |_| Ok(())).unwrap();
        assert_eq!(manifest, expected);
        let listed: Vec<Digest> = manifest
            .entries
            .iter()
            .filter_map(|e| match &e.kind {
                crate::manifest::EntryKind::File { chunks } => Some(chunks.iter().map(|c| c.0)),
                _ => None,
            })
            .flatten()
            .collect();
        let sent: Vec<Digest> = chunks.iter().map(|(d, _)| *d).collect();
        assert_eq!(listed, sent);
        for (digest, data) in &chunks {
            assert_eq!(*digest, crate::chunking::sha256(data));
        }
        let bytes: usize = chunks.iter().map(|(_, d)| d.len()).sum();
        assert_eq!(bytes, 405_000);
        assert_eq!(manifest.total_file_bytes(), 405_000);
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
        assert!(matches!(reader.next_item().unwrap(), SourceItem::Done(m) if m.entries.is_empty()));
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
    fn a_failing_hasher_fails_the_pipeline_never_a_short_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = tree(dir.path());
        let producers = ProducerSet::new();
        let mut reader = spawn_with_hasher(
            config(vec![root], 1),
            |n| producers.register(n),
            panicking_hash,
        )
        .unwrap();
        // Chunks of a and b arrive; c's chunk (5000 bytes) kills its hasher.
        let stop = drain(&mut reader).unwrap_err();
        assert_eq!(stop, SourceStop::Stopped);
        let err = reader.finish().unwrap_err();
        assert!(err.contains("chunk hasher 1"), "{err}");
        let barrier = producers.wait_all().unwrap_err().to_string();
        assert!(barrier.contains("chunk hasher 1"), "{barrier}");
    }
}
