//! A backup job: sources -> chunks -> tapes of a pool, then the snapshot.
//!
//! Snapshot names are `POOL/ID/TIME`: the pool, an identifier of the
//! backed-up machine or data (default: the host name) and the job's start
//! time in UTC, RFC 3339 to the second (`default/web1/2026-11-25T12:00:00Z`).
//!
//! The job succeeds only when the format layer's final barrier returned the
//! snapshot archive as durable and its rows are in the catalog. On any
//! failure the job returns the error; the catalog then holds rows only for
//! archives an earlier barrier proved to be on tape.

use std::path::PathBuf;

use pbs_tape::format::WriterConfig;

use crate::catalog::Catalog;
use crate::chunking::ChunkerConfig;
use crate::devices::TapeDevices;
use crate::source::{spawn_source_reader, DEFAULT_CHANNEL_CHUNKS};
use crate::writer::{JobSummary, PoolWriter, WriterError, WriterEvents, WriterOptions};

/// Errors of a backup job.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup source given")]
    NoSources,
    #[error("invalid snapshot id {0:?}: use letters, digits, '-', '_' and '.', no '/'")]
    InvalidId(String),
    #[error("snapshot {0} already exists; retry in a second")]
    SnapshotExists(String),
    #[error("cannot start the source reader: {0}")]
    Spawn(#[source] std::io::Error),
    #[error(transparent)]
    Chunker(#[from] crate::chunking::ChunkError),
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}

/// What to back up and how.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub pool: String,
    pub sources: Vec<PathBuf>,
    /// Middle part of the snapshot name (default: host name).
    pub id: Option<String>,
    pub new_media_set: bool,
    /// Label blank changer cartridges into the set when needed.
    pub auto_label: bool,
    pub chunker: ChunkerConfig,
    pub format: WriterConfig,
    /// Chunks buffered between the source reader and the tape writer.
    pub channel_chunks: usize,
}

impl BackupOptions {
    pub fn new(pool: &str, sources: Vec<PathBuf>) -> Self {
        BackupOptions {
            pool: pool.to_string(),
            sources,
            id: None,
            new_media_set: false,
            auto_label: true,
            chunker: ChunkerConfig::default(),
            format: WriterConfig::default(),
            channel_chunks: DEFAULT_CHANNEL_CHUNKS,
        }
    }
}

/// A finished backup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupResult {
    pub snapshot: String,
    pub media_set: uuid::Uuid,
    pub tapes: Vec<String>,
    pub entries: u64,
    pub total_bytes: u64,
    pub chunks_written: u64,
    pub chunks_deduplicated: u64,
    pub bytes_written: u64,
}

/// The host name, or `localhost` when it cannot be read.
pub fn default_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().split('.').next().unwrap_or_default().to_string())
        .filter(|h| is_valid_id(h))
        .unwrap_or_else(|| "localhost".to_string())
}

fn is_valid_id(id: &str) -> bool {
    crate::config::validate_name(id).is_ok()
}

/// `POOL/ID/TIME` for a start time in seconds since the epoch.
pub fn snapshot_name(pool: &str, id: &str, time: i64) -> String {
    let ts = jiff::Timestamp::from_second(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{pool}/{id}/{}", ts.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

/// Runs a backup job on `devices`; see the module documentation.
pub fn run_backup<D: TapeDevices>(
    devices: D,
    catalog: &mut Catalog,
    options: &BackupOptions,
    events: &mut dyn WriterEvents,
) -> Result<BackupResult, BackupError> {
    if options.sources.is_empty() {
        return Err(BackupError::NoSources);
    }
    options.chunker.validate()?;
    let id = match &options.id {
        Some(id) if is_valid_id(id) => id.clone(),
        Some(id) => return Err(BackupError::InvalidId(id.clone())),
        None => default_id(),
    };
    let time = crate::catalog::now_epoch();
    let name = snapshot_name(&options.pool, &id, time);
    if catalog.snapshot(&name)?.is_some() {
        return Err(BackupError::SnapshotExists(name));
    }
    let mut writer_options = WriterOptions::new(&options.pool);
    writer_options.new_media_set = options.new_media_set;
    writer_options.auto_label = options.auto_label;
    writer_options.format = options.format.clone();
    let mut writer = PoolWriter::new(devices, catalog, writer_options, events)?;
    let token = writer.register_producer("source reader");
    let reader = spawn_source_reader(
        options.sources.clone(),
        name.clone(),
        options.chunker,
        options.channel_chunks,
        token,
    )
    .map_err(BackupError::Spawn)?;
    let manifest = match writer.write_chunks(&reader.items) {
        Ok(m) => m,
        Err(e) => {
            writer.abort();
            // Stop the producer (closing the channel) and wait for it.
            let _ = reader.finish();
            return Err(e.into());
        }
    };
    let source_result = reader.finish();
    if let Err(message) = source_result {
        writer.abort();
        return Err(WriterError::Source(message).into());
    }
    let summary: JobSummary = writer.finish_job(&manifest, time)?;
    Ok(BackupResult {
        snapshot: name,
        media_set: summary.media_set,
        tapes: summary.tapes,
        entries: manifest.entries.len() as u64,
        total_bytes: manifest.total_file_bytes(),
        chunks_written: summary.chunks_written,
        chunks_deduplicated: summary.chunks_deduplicated,
        bytes_written: summary.bytes_written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_are_pool_id_utc_time() {
        assert_eq!(
            snapshot_name("default", "web1", 1_795_608_000),
            "default/web1/2026-11-25T12:00:00Z"
        );
        assert!(is_valid_id(&default_id()));
        assert!(!is_valid_id("a/b"));
    }
}
