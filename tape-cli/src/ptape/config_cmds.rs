//! `ptape drive ...` and `ptape changer ...`: the configured devices.

use anyhow::Result;
use clap::Subcommand;
use ptape::config::{self, ChangerConfig, DriveConfig};
use tape_cli::output::{opt, ListTable, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum DriveCmd {
    /// List configured drives.
    List,
    /// Add a drive.
    Add {
        /// Name of the drive.
        name: String,
        /// Device path (/dev/sgN, /dev/tape/by-id/..., or an emulated DIR/driveN).
        #[arg(long)]
        path: String,
        /// Name of the configured changer the drive sits in.
        #[arg(long)]
        changer: Option<String>,
        /// Index of the drive in that changer.
        #[arg(long)]
        changer_drivenum: Option<u32>,
        /// Clean the drive with a cleaning cartridge (CLN...) of its changer
        /// when it asks for cleaning (TapeAlert flags read at load and after
        /// each job).
        #[arg(long)]
        auto_clean: bool,
    },
    /// Change a drive's settings.
    Update {
        /// Name of the drive.
        name: String,
        /// Clean automatically when the drive asks for it (`--auto-clean`,
        /// `--auto-clean=false` to stop).
        #[arg(long, required = true, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
        auto_clean: Option<bool>,
    },
    /// Remove a drive.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ChangerCmd {
    /// List configured changers.
    List,
    /// Add a changer.
    Add {
        /// Name of the changer.
        name: String,
        /// Device path (/dev/sgN or an emulated DIR/changer).
        #[arg(long)]
        path: String,
        /// Storage slots to use as export slots (comma list), for libraries
        /// whose mail slot is not visible over SCSI.
        #[arg(long, value_delimiter = ',', value_name = "SLOTS")]
        export_slots: Vec<usize>,
    },
    /// Change a changer's export slots.
    Update {
        /// Name of the changer.
        name: String,
        /// Storage slots to use as export slots (comma list; empty: none).
        #[arg(long, value_delimiter = ',', value_name = "SLOTS", num_args = 0..=1)]
        export_slots: Option<Vec<usize>>,
    },
    /// Remove a changer (no drive may refer to it).
    Remove { name: String },
}

pub fn drive(cmd: DriveCmd, out: OutputFormat) -> Result<()> {
    let mut cfg = config::load_config()?;
    match cmd {
        DriveCmd::List => out.print(&cfg.drives, |drives| {
            let mut t = ListTable::new(&["name", "path", "changer", "drivenum", "auto-clean"]);
            for d in drives {
                t.row([
                    d.name.clone(),
                    d.path.clone(),
                    opt(d.changer.as_ref()),
                    opt(d.changer_drivenum),
                    if d.auto_clean { "yes" } else { "no" }.to_string(),
                ]);
            }
            t.render()
        }),
        DriveCmd::Add {
            name,
            path,
            changer,
            changer_drivenum,
            auto_clean,
        } => {
            cfg.add_drive(DriveConfig {
                name: name.clone(),
                path,
                changer,
                changer_drivenum,
                auto_clean,
            })?;
            config::save_config(&cfg)?;
            println!("added drive {name}");
            Ok(())
        }
        DriveCmd::Update { name, auto_clean } => {
            cfg.drive(&name)?;
            let drive = cfg
                .drives
                .iter_mut()
                .find(|d| d.name == name)
                .ok_or_else(|| anyhow::anyhow!("no drive named {name:?} is configured"))?;
            // Required by clap: there is nothing else to change yet.
            let auto_clean = auto_clean.unwrap_or(drive.auto_clean);
            drive.auto_clean = auto_clean;
            config::save_config(&cfg)?;
            println!(
                "drive {name}: automatic cleaning {}",
                if auto_clean { "on" } else { "off" }
            );
            Ok(())
        }
        DriveCmd::Remove { name } => {
            cfg.remove_drive(&name)?;
            config::save_config(&cfg)?;
            println!("removed drive {name}");
            Ok(())
        }
    }
}

pub fn changer(cmd: ChangerCmd, out: OutputFormat) -> Result<()> {
    let mut cfg = config::load_config()?;
    match cmd {
        ChangerCmd::List => out.print(&cfg.changers, |changers| {
            let mut t = ListTable::new(&["name", "path", "export slots"]);
            for c in changers {
                let slots: Vec<String> = c.export_slots.iter().map(|s| s.to_string()).collect();
                t.row([c.name.clone(), c.path.clone(), slots.join(",")]);
            }
            t.render()
        }),
        ChangerCmd::Add {
            name,
            path,
            export_slots,
        } => {
            cfg.add_changer(ChangerConfig {
                name: name.clone(),
                path,
                export_slots,
            })?;
            config::save_config(&cfg)?;
            println!("added changer {name}");
            Ok(())
        }
        ChangerCmd::Update { name, export_slots } => {
            if let Some(slots) = export_slots {
                cfg.set_export_slots(&name, slots)?;
            }
            config::save_config(&cfg)?;
            println!("updated changer {name}");
            Ok(())
        }
        ChangerCmd::Remove { name } => {
            cfg.remove_changer(&name)?;
            config::save_config(&cfg)?;
            println!("removed changer {name}");
            Ok(())
        }
    }
}
