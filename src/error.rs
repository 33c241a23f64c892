//! The umbrella error of the ptape library: one variant per module error.

use crate::backup::BackupError;
use crate::catalog::CatalogError;
use crate::chunking::ChunkError;
use crate::config::ConfigError;
use crate::inventory::InventoryError;
use crate::library::LibraryError;
use crate::pool::PoolError;
use crate::stream::walk::WalkError;
use crate::writer::WriterError;

/// Any error of the ptape library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Library(#[from] LibraryError),
}
