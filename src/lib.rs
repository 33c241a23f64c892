//! `ptape`: pools, media catalog, backup and restore on top of `pbs-tape`.
//!
//! - [`config`]: configuration and data locations, configured drives and changers.
//! - [`chunking`]: content-defined chunking and SHA-256 digests.
//! - [`manifest`]: snapshot manifests (the file tree of a backup).
//! - [`catalog`]: the SQLite media catalog.
//! - [`pool`]: media pools, retention and media set allocation.
//! - [`error`]: the umbrella [`Error`].
#![forbid(unsafe_code)]

pub mod backup;
pub mod catalog;
pub mod chunking;
pub mod config;
pub mod devices;
pub mod error;
pub mod inventory;
pub mod library;
pub mod manifest;
pub mod pool;
pub mod source;
pub mod status;
pub mod writer;

pub use error::Error;
