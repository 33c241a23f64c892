//! `ptape media ...`, `ptape snapshots`: tapes and snapshots in the catalog.

use anyhow::Result;
use clap::Subcommand;
use ptape::catalog::{Catalog, CatalogError, MediaLocation, MediaStatus};
use ptape::config;
use ptape::library::LibraryDevices;
use ptape::locations;
use ptape::pool::{self, media::Destination, media_set::SetStatus};
use tape_cli::output::{human_bytes, opt, ListTable, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum MediaCmd {
    /// List labelled tapes with their media set, status and location.
    List {
        /// Only the tapes of this pool.
        #[arg(long)]
        pool: Option<String>,
        /// First read every configured changer: tapes in a drive or storage
        /// slot are online there, tapes no longer seen are offline.
        #[arg(long)]
        update_status: bool,
    },
    /// Change a tape's status or location by hand.
    Update {
        /// Label (barcode) of the tape.
        label: String,
        /// New status: full, damaged, retired (writable: only a tape in no
        /// media set).
        #[arg(long)]
        status: Option<MediaStatus>,
        /// New location: online, offline, vault (prefer `ptape media move`).
        #[arg(long)]
        location: Option<MediaLocation>,
    },
    /// Record that a tape was taken to a vault or back to the shelf.
    #[command(group(clap::ArgGroup::new("to").required(true).args(["vault", "offline"])))]
    Move {
        /// Label (barcode) of the tape.
        label: String,
        /// The vault it is stored in (never written there).
        #[arg(long, value_name = "NAME")]
        vault: Option<String>,
        /// Out of any library and vault (for standalone drives).
        #[arg(long)]
        offline: bool,
    },
    /// Remove a tape from the catalog (lost, broken, or no longer ptape's).
    Destroy {
        /// Label (barcode) of the tape.
        label: String,
        /// Also a tape of a media set that has not expired (the whole set is
        /// forgotten).
        #[arg(long)]
        force: bool,
    },
}

pub fn media(cmd: MediaCmd, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let now = crate::pool_cmds::now()?;
    match cmd {
        MediaCmd::Update {
            label,
            status,
            location,
        } => {
            let mut media = catalog
                .media_by_label(&label)?
                .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
            if let Some(status) = status {
                media = pool::media::set_status(&catalog, &label, status)?;
            }
            if let Some(location) = location {
                catalog.set_media_location(media.uuid, location, media.location_name.as_deref())?;
            }
            let media = catalog
                .media_by_uuid(media.uuid)?
                .ok_or_else(|| CatalogError::UnknownMedia(label.clone()))?;
            out.print(&media, |m| {
                format!(
                    "{}: status {}, location {}",
                    m.label,
                    m.status,
                    m.location_text()
                )
            })
        }
        MediaCmd::Move {
            label,
            vault,
            offline: _,
        } => {
            let to = match vault {
                Some(name) => Destination::Vault(name),
                None => Destination::Offline,
            };
            let media = pool::media::move_media(&catalog, &label, &to)?;
            out.print(&media, |m| format!("{}: {}", m.label, m.location_text()))
        }
        MediaCmd::Destroy { label, force } => {
            let gone = pool::media::destroy_media(&catalog, &label, force, &now)?;
            out.print(&gone, |g| match g.media_set {
                Some(set) => format!(
                    "destroyed {} (media {}); its media set {set} is forgotten",
                    g.label, g.uuid
                ),
                None => format!("destroyed {} (media {})", g.label, g.uuid),
            })
        }
        MediaCmd::List {
            pool,
            update_status,
        } => {
            if update_status {
                let cfg = config::load_config()?;
                let update = locations::update_online_status(&catalog, &cfg)?;
                for (changer, why) in &update.unreachable {
                    eprintln!("warning: changer {changer} not read, its tapes keep their locations: {why}");
                }
            }
            let media = pool::media::media_infos(&catalog, pool.as_deref(), &now)?;
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
                for i in media {
                    let m = &i.media;
                    let set = match (&i.media_set_name, i.media_set_status) {
                        (Some(name), Some(SetStatus::Open)) => name.clone(),
                        (Some(name), Some(status)) => format!("{name} ({status})"),
                        _ => "-".to_string(),
                    };
                    t.row([
                        m.label.clone(),
                        opt(m.pool.as_ref()),
                        set,
                        opt(m.seq_nr),
                        m.status.to_string(),
                        m.location_text(),
                        human_bytes(m.bytes_used),
                        m.uuid.to_string(),
                    ]);
                }
                t.render()
            })
        }
    }
}

/// `ptape inventory`.
#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// The changer to inventory (default: the default drive's changer).
    #[arg(long)]
    changer: Option<String>,
    /// Read the labels of catalogued tapes too, not only unknown ones.
    #[arg(long)]
    read_all_labels: bool,
}

pub fn inventory(args: InventoryArgs, out: OutputFormat) -> Result<()> {
    let cfg = config::load_config()?;
    let catalog = Catalog::open_default()?;
    let mut devices = match &args.changer {
        Some(changer) => LibraryDevices::from_resolved(cfg.resolve_changer_drive(changer)?)?,
        None => LibraryDevices::open(&cfg, None)?,
    };
    if devices.drive().changer_path.is_none() {
        anyhow::bail!(
            "drive {} sits in no changer: inventory reads the cartridges of a changer (give --changer)",
            devices.drive().name
        );
    }
    let entries = locations::update_inventory(&mut devices, &catalog, args.read_all_labels)?;
    for e in &entries {
        for note in &e.notes {
            eprintln!("{}: {note}", e.barcode);
        }
    }
    out.print(&entries, |entries| {
        let mut t = ListTable::new(&["barcode", "outcome", "uuid"]);
        for e in entries {
            t.row([e.barcode.clone(), e.outcome.clone(), opt(e.uuid)]);
        }
        t.render()
    })
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
