//! The source reader: a producer thread that walks the backup sources,
//! chunks every regular file and sends the chunks, then the manifest,
//! through a bounded channel to the tape writer.
//!
//! Memory stays bounded whatever the file sizes: at most `capacity` chunks
//! wait in the channel, plus one being chunked. The thread reports its
//! outcome through a [`ProducerToken`] of the format layer's finish barrier,
//! so a walk that failed (or panicked) can never be mistaken for a
//! complete one.

use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver};
use pbs_tape::format::ProducerToken;

use crate::chunking::{Chunk, ChunkerConfig};
use crate::manifest::{build_manifest, Manifest, ManifestError};

/// What the source reader sends.
#[derive(Debug)]
pub enum SourceItem {
    /// The next chunk of a regular file (in manifest order).
    Chunk(Chunk),
    /// The walk is complete; no further items follow.
    Done(Box<Manifest>),
}

/// The receiving end of a running source reader.
#[derive(Debug)]
pub struct SourceReader {
    pub items: Receiver<SourceItem>,
    handle: Option<JoinHandle<Result<(), String>>>,
}

/// Default channel capacity in chunks.
pub const DEFAULT_CHANNEL_CHUNKS: usize = 4;

/// Starts the producer thread. `token` must come from the writer's
/// producer set; the thread completes it with its outcome.
pub fn spawn_source_reader(
    sources: Vec<PathBuf>,
    snapshot: String,
    chunker: ChunkerConfig,
    capacity: usize,
    token: ProducerToken,
) -> std::io::Result<SourceReader> {
    let (tx, rx) = bounded(capacity.max(1));
    let handle = std::thread::Builder::new()
        .name("ptape-source".into())
        .spawn(move || {
            let result = build_manifest(&sources, &snapshot, chunker, |chunk| {
                tx.send(SourceItem::Chunk(chunk))
                    .map_err(|_| ManifestError::Aborted("the tape writer stopped".into()))
            })
            .and_then(|manifest| {
                tx.send(SourceItem::Done(Box::new(manifest)))
                    .map_err(|_| ManifestError::Aborted("the tape writer stopped".into()))
            })
            .map_err(|e| e.to_string());
            drop(tx);
            token.complete(result.clone());
            result
        })?;
    Ok(SourceReader {
        items: rx,
        handle: Some(handle),
    })
}

impl SourceReader {
    /// Stops reading (drops the channel so the producer stops at its next
    /// send) and waits for the thread. Returns its error message, if any.
    pub fn finish(mut self) -> Result<(), String> {
        let handle = self.handle.take();
        drop(self);
        match handle.map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the source reader thread panicked".into()),
            None => Ok(()),
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

    #[test]
    fn streams_chunks_then_manifest_and_reports_success() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("f"), vec![3u8; 100_000]).unwrap();
        let producers = ProducerSet::new();
        let reader =
            spawn_source_reader(vec![root], "s".into(), small(), 1, producers.register("r"))
                .unwrap();
        let mut bytes = 0;
        let mut manifest = None;
        for item in reader.items.iter() {
            match item {
                SourceItem::Chunk(c) => bytes += c.data.len(),
                SourceItem::Done(m) => manifest = Some(m),
            }
        }
        reader.finish().unwrap();
        producers.wait_all().unwrap();
        assert_eq!(bytes, 100_000);
        assert_eq!(manifest.unwrap().total_file_bytes(), 100_000);
    }

    #[test]
    fn missing_source_is_a_reported_failure() {
        let producers = ProducerSet::new();
        let reader = spawn_source_reader(
            vec![PathBuf::from("/nonexistent/ptape-test")],
            "s".into(),
            small(),
            1,
            producers.register("source reader"),
        )
        .unwrap();
        assert!(reader.items.iter().next().is_none());
        let err = reader.finish().unwrap_err();
        assert!(err.contains("/nonexistent/ptape-test"), "{err}");
        assert!(producers.wait_all().is_err());
    }

    #[test]
    fn dropping_the_receiver_stops_the_producer() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("src");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("f"), vec![1u8; 200_000]).unwrap();
        let producers = ProducerSet::new();
        let reader =
            spawn_source_reader(vec![root], "s".into(), small(), 1, producers.register("r"))
                .unwrap();
        let err = reader.finish().unwrap_err();
        assert!(err.contains("tape writer stopped"), "{err}");
    }
}
