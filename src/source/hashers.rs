//! The hashing stage: worker threads that compute chunk digests in
//! parallel. Each job carries its own reply slot, and the source reader
//! queues those slots in chunk order, so the consumer receives the chunks
//! in stream order however the workers are scheduled.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use pbs_tape::format::ProducerToken;

use super::buffers::PooledBuf;
use super::SourceChunk;
use crate::chunking::Digest;

/// Computes a chunk's digest (SHA-256; tests substitute failing ones).
pub(crate) type HashFn = fn(&[u8]) -> Digest;

/// One chunk to hash and where its result goes.
pub(crate) struct HashJob {
    pub(crate) data: PooledBuf,
    pub(crate) stream: crate::stream::encode::StreamKind,
    pub(crate) reply: Sender<SourceChunk>,
}

/// A running worker: its producer name and thread.
pub(crate) type Worker = (String, JoinHandle<Result<(), String>>);

/// Starts one worker (named `name` in the producer set and in errors)
/// taking jobs from `jobs` until the source reader closes it. It reports
/// success when every result it computed was delivered.
pub(crate) fn spawn_hasher(
    name: String,
    hash: HashFn,
    jobs: Receiver<HashJob>,
    token: ProducerToken,
) -> std::io::Result<Worker> {
    let handle = std::thread::Builder::new()
        .name("ptape-hash".into())
        .spawn(move || {
            let result = hash_all(hash, &jobs);
            token.complete(result.clone());
            result
        })?;
    Ok((name, handle))
}

fn hash_all(hash: HashFn, jobs: &Receiver<HashJob>) -> Result<(), String> {
    for job in jobs.iter() {
        let digest = hash(&job.data);
        let chunk = SourceChunk {
            digest,
            stream: job.stream,
            data: job.data,
        };
        // The slot holds one result: this never blocks, and fails only
        // when the consumer is gone.
        job.reply
            .send(chunk)
            .map_err(|_| "the tape writer stopped".to_string())?;
    }
    Ok(())
}
