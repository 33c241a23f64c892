//! `ptape pool ...` and `ptape media-set ...`: pools and their media sets.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use jiff::tz::TimeZone;
use ptape::catalog::Catalog;
use ptape::devices::TapeDevices;
use ptape::library::LibraryDevices;
use ptape::pool::media_set::MediaSetInfo;
use ptape::pool::{self, Moment, PoolInfo, PoolSettings, PoolUpdate};
use ptape::schedule::Clock;
use tape_cli::output::{opt, KvTable, ListTable, OutputFormat};
use tape_cli::report::FinishedWithWarnings;

/// "Now" for this run: the clock (or the test-only `PTAPE_TEST_NOW`) in the
/// system's time zone.
pub fn now() -> Result<Moment> {
    Ok(Moment::from_clock(&Clock::from_env()?))
}

/// A time as the text output shows it: local, to the minute.
pub fn show_time(epoch: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| epoch.to_string())
}

fn show_opt_time(epoch: Option<i64>, tz: &TimeZone) -> String {
    epoch.map_or_else(|| "-".to_string(), |t| show_time(t, tz))
}

/// Settings of `pool create` and `pool update`.
#[derive(Debug, clap::Args)]
pub struct PoolSettingsArgs {
    /// When a new media set starts: continue, always, or a calendar event
    /// ('daily', 'mon', 'mon..fri 22:00'; see `ptape calendar-event`).
    #[arg(long, value_name = "continue|always|CALENDAR")]
    allocation: Option<String>,
    /// How long a closed media set is kept: keep, overwrite, or a time span
    /// counted from when the set was closed ('30d', '8 weeks', '1y').
    #[arg(long, value_name = "keep|overwrite|SPAN")]
    retention: Option<String>,
    /// Media set names: strftime of the set's start (local time); %c is the
    /// date and time, %id% the set's UUID (default: %c).
    #[arg(long)]
    template: Option<String>,
    /// A one-line description.
    #[arg(long)]
    comment: Option<String>,
    /// Encrypt new media sets with this key (its fingerprint or short form,
    /// see `ptape key list`).
    #[arg(long, value_name = "FINGERPRINT")]
    encrypt: Option<String>,
}

/// Settings `pool update --delete` clears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolProperty {
    Template,
    Comment,
    Encrypt,
}

#[derive(Debug, Subcommand)]
pub enum PoolCmd {
    /// Create a media pool (default: allocation continue, retention keep).
    Create {
        name: String,
        #[command(flatten)]
        settings: PoolSettingsArgs,
    },
    /// Change a pool's settings.
    Update {
        name: String,
        #[command(flatten)]
        settings: PoolSettingsArgs,
        /// Clear a setting (repeatable).
        #[arg(long, value_enum, value_name = "PROPERTY")]
        delete: Vec<PoolProperty>,
    },
    /// Show a pool, its tapes and media sets.
    Show { name: String },
    /// List media pools.
    List,
    /// Remove a pool (refused while tapes belong to it).
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum MediaSetCmd {
    /// List media sets (oldest first) with their status and expiry.
    List {
        /// Only the media sets of this pool.
        #[arg(long)]
        pool: Option<String>,
    },
    /// Show one media set (UUID, unique UUID prefix, or name).
    Show { set: String },
    /// Close a media set: its writable tape becomes full, the next backup of
    /// its pool starts a new set, and its retention starts now.
    Close { set: String },
    /// Move every tape of a media set into free import/export slots of the
    /// changer (configured export slots count), in sequence order; with too
    /// few free slots, export what fits and name the rest (exit 3).
    Export {
        set: String,
        /// The changer to export from (default: the default drive's).
        #[arg(long, conflicts_with = "drive")]
        changer: Option<String>,
        /// The drive whose changer to use.
        #[arg(long)]
        drive: Option<String>,
    },
}

fn parse_settings(args: PoolSettingsArgs) -> Result<PoolUpdate> {
    Ok(PoolUpdate {
        allocation: args.allocation.map(|a| a.parse()).transpose()?,
        retention: args.retention.map(|r| r.parse()).transpose()?,
        template: args.template.map(Some),
        comment: args.comment.map(Some),
        encrypt: args
            .encrypt
            .map(|text| key_fingerprint(&text))
            .transpose()?
            .map(Some),
    })
}

/// The full fingerprint of a stored key given by its fingerprint or short
/// form (the key must be in `ptape key list`).
fn key_fingerprint(text: &str) -> Result<String> {
    let store = ptape::keys::KeyStore::open_default()?;
    Ok(ptape::keys::check_pool_key(&store, text)?.to_string())
}

fn pool_text(info: &PoolInfo) -> String {
    let p = &info.pool;
    let mut t = KvTable::new();
    t.row("name", &p.name);
    t.row("allocation", &p.allocation);
    t.row("retention", &p.retention);
    t.row(
        "template",
        p.template
            .as_deref()
            .unwrap_or(ptape::catalog::DEFAULT_MEDIA_SET_TEMPLATE),
    );
    t.opt_row("comment", p.comment.as_ref());
    t.opt_row("encrypt", p.encrypt.as_ref());
    t.row(
        "media",
        if info.media.is_empty() {
            "-".to_string()
        } else {
            info.media.join(", ")
        },
    );
    t.row("media sets", info.media_sets);
    t.opt_row("current media set", info.current_media_set.as_ref());
    t.row("snapshots", info.snapshots);
    t.render()
}

/// Rewrites `pools.toml` after a pool changed in the catalog. The change
/// stands either way; a file that cannot be written is a warning (exit 3).
fn save_pools_file(catalog: &Catalog) -> Result<()> {
    let written = pool::config_file::pools_file()
        .map_err(anyhow::Error::from)
        .and_then(|path| pool::config_file::save(catalog, &path).map_err(anyhow::Error::from));
    if let Err(e) = written {
        eprintln!(
            "warning: the pool was changed in the catalog, but pools.toml (its copy that \
             survives the loss of the catalog) was not written: {e:#}"
        );
        return Err(FinishedWithWarnings {
            job: "pool",
            count: 1,
        }
        .into());
    }
    Ok(())
}

pub fn pool(cmd: PoolCmd, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let now = now()?;
    let changes = matches!(
        cmd,
        PoolCmd::Create { .. } | PoolCmd::Update { .. } | PoolCmd::Remove { .. }
    );
    pool_cmd(&catalog, cmd, out, &now)?;
    if changes {
        save_pools_file(&catalog)?;
    }
    Ok(())
}

fn pool_cmd(catalog: &Catalog, cmd: PoolCmd, out: OutputFormat, now: &Moment) -> Result<()> {
    match cmd {
        PoolCmd::Create { name, settings } => {
            let update = parse_settings(settings)?;
            let defaults = PoolSettings::default();
            let settings = PoolSettings {
                allocation: update.allocation.unwrap_or(defaults.allocation),
                retention: update.retention.unwrap_or(defaults.retention),
                template: update.template.flatten(),
                comment: update.comment.flatten(),
                encrypt: update.encrypt.flatten(),
            };
            pool::create_pool(catalog, &name, settings, now.time)?;
            let info = pool::pool_info(catalog, &name, now)?;
            out.print(&info, |i| {
                format!("created pool {}\n{}", i.pool.name, pool_text(i))
            })
        }
        PoolCmd::Update {
            name,
            settings,
            delete,
        } => {
            let mut update = parse_settings(settings)?;
            for property in delete {
                match property {
                    PoolProperty::Template => update.template = Some(None),
                    PoolProperty::Comment => update.comment = Some(None),
                    PoolProperty::Encrypt => update.encrypt = Some(None),
                }
            }
            pool::update_pool(catalog, &name, update)?;
            let info = pool::pool_info(catalog, &name, now)?;
            out.print(&info, pool_text)
        }
        PoolCmd::Show { name } => {
            let info = pool::pool_info(catalog, &name, now)?;
            out.print(&info, pool_text)
        }
        PoolCmd::List => {
            let mut infos = Vec::new();
            for p in catalog.pools()? {
                infos.push(pool::pool_info(catalog, &p.name, now)?);
            }
            out.print(&infos, |infos| {
                let mut t = ListTable::new(&[
                    "name",
                    "allocation",
                    "retention",
                    "template",
                    "media",
                    "comment",
                ]);
                for i in infos {
                    t.row([
                        i.pool.name.clone(),
                        i.pool.allocation.to_string(),
                        i.pool.retention.to_string(),
                        opt(i.pool.template.as_ref()),
                        i.media.len().to_string(),
                        opt(i.pool.comment.as_ref()),
                    ]);
                }
                t.render()
            })
        }
        PoolCmd::Remove { name } => {
            pool::remove_pool(catalog, &name)?;
            println!("removed pool {name}");
            Ok(())
        }
    }
}

fn media_set_text(i: &MediaSetInfo, tz: &TimeZone) -> String {
    let mut t = KvTable::new();
    t.row("name", &i.name);
    t.row("uuid", i.uuid);
    t.row("pool", &i.pool);
    t.row("status", i.status);
    t.row(
        "members",
        if i.members.is_empty() {
            "-".to_string()
        } else {
            i.members.join(", ")
        },
    );
    t.row("start time", show_time(i.start_time, tz));
    t.row("last write", show_opt_time(i.last_write, tz));
    t.row("closed", show_opt_time(i.closed, tz));
    t.row(
        "expires",
        match i.expires {
            Some(e) => show_time(e, tz),
            None if i.closed.is_some() => "never".to_string(),
            None => "-".to_string(),
        },
    );
    t.render()
}

pub fn media_set(cmd: MediaSetCmd, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let now = now()?;
    match cmd {
        MediaSetCmd::List { pool } => {
            let infos = pool::media_set_infos(&catalog, pool.as_deref(), &now)?;
            out.print(&infos, |infos| {
                if infos.is_empty() {
                    return "no media sets".to_string();
                }
                let mut t = ListTable::new(&[
                    "name", "pool", "status", "members", "start", "expires", "uuid",
                ]);
                for i in infos {
                    t.row([
                        i.name.clone(),
                        i.pool.clone(),
                        i.status.to_string(),
                        i.members.join(","),
                        show_time(i.start_time, &now.tz),
                        show_opt_time(i.expires, &now.tz),
                        i.uuid.to_string(),
                    ]);
                }
                t.render()
            })
        }
        MediaSetCmd::Show { set } => {
            let info = pool::find_media_set(&catalog, &set, &now)?;
            out.print(&info, |i| media_set_text(i, &now.tz))
        }
        MediaSetCmd::Export {
            set,
            changer,
            drive,
        } => {
            let cfg = ptape::config::load_config()?;
            let mut devices = match &changer {
                Some(c) => LibraryDevices::from_resolved(cfg.resolve_changer_drive(c)?)?,
                None => LibraryDevices::open(&cfg, drive.as_deref())?,
            };
            if devices.changer_name().is_none() {
                anyhow::bail!(
                    "drive '{}' has no changer: there are no import/export slots to export to",
                    devices.drive_name()
                );
            }
            let export = pool::export_media_set(&catalog, &mut devices, &set, &now)?;
            out.print(&export, export_text)?;
            if !export.not_exported.is_empty() {
                return Err(FinishedWithWarnings {
                    job: "media-set export",
                    count: export.not_exported.len() as u64,
                }
                .into());
            }
            Ok(())
        }
        MediaSetCmd::Close { set } => {
            let info = pool::close_media_set(&catalog, &set, &now)?;
            out.print(&info, |i| {
                format!(
                    "closed media set {}\n{}",
                    i.name,
                    media_set_text(i, &now.tz)
                )
            })
        }
    }
}

/// A media set export as text: what went where, and what did not.
pub fn export_text(e: &pool::MediaSetExport) -> String {
    let mut text = format!("media set {}:", e.name);
    if e.exported.is_empty() {
        text.push_str(" nothing exported");
    }
    for t in &e.exported {
        text.push_str(&format!("\nexported {} to slot {}", t.label, t.slot));
    }
    for t in &e.not_exported {
        text.push_str(&format!("\nnot exported: {} ({})", t.label, t.reason));
    }
    text
}
