//! `ptape`: pools, media catalog, backup and restore on top of `pbs-tape`.
//!
//! - [`config`]: configuration and data locations, configured drives and changers.
//! - [`chunking`]: content-defined chunking and SHA-256 digests.
//! - [`catalog`]: the SQLite media catalog.
//! - [`pool`]: media pools, retention and media set allocation.
//! - [`schedule`]: calendar events, time spans, the injectable clock.
//! - [`inventory`]: labelling tapes.
//! - [`keys`]: tape encryption keys (key store, passphrases, paper keys).
//! - [`devices`]: what the writer needs from drives and changers
//!   ([`devices::TapeDevices`]), and in-memory cartridges for tests.
//! - [`locations`]: where tapes are (changer inventories, vaults).
//! - [`lock`]: exclusive devices (per-serial device locks), pool locks and
//!   the shared [`lock::WaitPolicy`] (`--wait`, `--no-wait`).
//! - [`media_request`]: asking the operator for tapes and waiting for them.
//! - [`library`]: the configured drive and changer, or the embedded
//!   emulated library, as [`devices::TapeDevices`].
//! - [`stream`]: a snapshot as two chunked streams (metadata entries and
//!   file payload), their chunk indexes, and walking the sources
//!   (excludes, warnings).
//! - [`source`]: the reader thread that walks and chunks the sources.
//! - [`writer`]: the pool writer (tapes of a media set, spanning, the
//!   finish barrier, catalog rows).
//! - [`backup`]: a backup job and snapshot naming.
//! - [`job`]: scheduled jobs (jobs.toml, history, task logs, the daemon).
//! - [`notify`]: notification targets (webhook, sendmail, command) and
//!   the events sent to them.
//! - [`status`]: what ptape will use (`ptape status`).
//! - [`error`]: the umbrella [`Error`].
//!
//! ```no_run
//! use ptape::backup::{run_backup, BackupOptions};
//! use ptape::catalog::Catalog;
//! use ptape::library::LibraryDevices;
//! use ptape::writer::NoEvents;
//!
//! # fn main() -> Result<(), ptape::Error> {
//! let config = ptape::config::load_config()?;
//! let mut catalog = Catalog::open_default()?;
//! let devices = LibraryDevices::open(&config, None)?;
//! let options = BackupOptions::new("default", vec!["/home/alice".into()]);
//! let result = run_backup(devices, &mut catalog, &options, &mut NoEvents)?;
//! println!("snapshot {}", result.snapshot);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod backup;
pub mod catalog;
pub mod chunking;
pub mod config;
pub mod content;
pub mod devices;
pub mod error;
pub mod inventory;
pub mod job;
pub mod keys;
pub mod library;
pub mod locations;
pub mod lock;
pub mod media_request;
pub mod notify;
pub mod pool;
pub mod reading;
pub mod restore;
pub mod scan;
pub mod schedule;
pub mod source;
pub mod status;
pub mod stream;
pub mod verify;
pub mod writer;

pub use error::Error;
