//! `ptape pool ...`, `ptape media list`, `ptape snapshots`: catalog views.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use ptape::catalog::{Allocation, Catalog, CatalogError, MediaLocation, MediaStatus};
use ptape::pool::{self, Retention};
use tape_cli::output::{human_bytes, opt, ListTable, OutputFormat};

/// Media set allocation policy of a pool.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AllocationArg {
    /// Keep appending to the current media set.
    Continue,
    /// Start a new media set for every backup.
    AlwaysNew,
}

impl From<AllocationArg> for Allocation {
    fn from(a: AllocationArg) -> Allocation {
        match a {
            AllocationArg::Continue => Allocation::Continue,
            AllocationArg::AlwaysNew => Allocation::AlwaysNew,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PoolCmd {
    /// Create a media pool.
    Create {
        name: String,
        /// How long closed media sets are protected: 'keep' or e.g. 30d, 8w, 1y.
        #[arg(long, default_value = "keep")]
        retention: String,
        #[arg(long, value_enum, default_value_t = AllocationArg::Continue)]
        allocation: AllocationArg,
    },
    /// List media pools.
    List,
}

#[derive(Debug, Subcommand)]
pub enum MediaCmd {
    /// List labelled tapes.
    List,
    /// Change a tape's status or location.
    Update {
        /// Label (barcode) of the tape.
        label: String,
        /// New status: writable, full, retired, damaged.
        #[arg(long)]
        status: Option<MediaStatus>,
        /// New location: online, offline, vault.
        #[arg(long)]
        location: Option<MediaLocation>,
    },
}

pub fn pool(cmd: PoolCmd, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    match cmd {
        PoolCmd::Create {
            name,
            retention,
            allocation,
        } => {
            let retention: Retention = retention.parse()?;
            pool::create_pool(&catalog, &name, retention, allocation.into())?;
            println!("created pool {name}");
            Ok(())
        }
        PoolCmd::List => {
            let pools = catalog.pools()?;
            out.print(&pools, |pools| {
                let mut t = ListTable::new(&["name", "allocation", "retention"]);
                for p in pools {
                    t.row([
                        p.name.clone(),
                        p.allocation.to_string(),
                        Retention::from_days(p.retention_days).to_string(),
                    ]);
                }
                t.render()
            })
        }
    }
}

pub fn media(cmd: MediaCmd, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    match cmd {
        MediaCmd::Update {
            label,
            status,
            location,
        } => {
            let media = catalog
                .media_by_label(&label)?
                .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
            if let Some(status) = status {
                catalog.set_media_status(media.uuid, status)?;
            }
            if let Some(location) = location {
                catalog.set_media_location(media.uuid, location)?;
            }
            let media = catalog
                .media_by_uuid(media.uuid)?
                .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
            out.print(&media, |m| {
                format!("{}: status {}, location {}", m.label, m.status, m.location)
            })
        }
        MediaCmd::List => {
            let media = catalog.media_list()?;
            out.print(&media, |media| {
                let mut t = ListTable::new(&[
                    "label",
                    "pool",
                    "media set",
                    "seq",
                    "status",
                    "location",
                    "used",
                    "uuid",
                ]);
                for m in media {
                    t.row([
                        m.label.clone(),
                        opt(m.pool.as_ref()),
                        opt(m.media_set),
                        opt(m.seq_nr),
                        m.status.to_string(),
                        m.location.to_string(),
                        human_bytes(m.bytes_used),
                        m.uuid.to_string(),
                    ]);
                }
                t.render()
            })
        }
    }
}

pub fn snapshots(pool: Option<String>, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let snaps = catalog.snapshots(pool.as_deref())?;
    out.print(&snaps, |snaps| {
        let mut t = ListTable::new(&["snapshot", "entries", "size", "media set"]);
        for s in snaps {
            t.row([
                s.name.clone(),
                s.entries.to_string(),
                human_bytes(s.total_bytes),
                s.media_set.to_string(),
            ]);
        }
        t.render()
    })
}
