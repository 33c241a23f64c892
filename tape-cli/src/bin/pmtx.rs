//! `pmtx`: media changer control, like mtx.
//!
//! Slots are numbered from 1 (import/export slots follow the storage
//! slots), drives from 0, as mtx does. See docs/pmtx.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser, Subcommand};
use serde::Serialize;

use pbs_tape::changer::{self, clean_drive, ChangerStatus, MediaChanger, MoveOutcome, Place, Step};
use pbs_tape::scsi::{discovery, spc, ScsiTransport};
use tape_cli::device::{select_device, DeviceKind};
use tape_cli::docgen::{run_doc_command, DocCommand};
use tape_cli::output::{opt, KvTable, ListTable, OutputArgs, OutputFormat};

/// Media changer control (SCSI medium changers and emulated libraries).
///
/// Slot numbers are 1-based and import/export slots are numbered after the
/// storage slots (like mtx); drive numbers are 0-based.
#[derive(Parser)]
#[command(name = "pmtx", version)]
struct Cli {
    /// Changer device (sg node, /dev/tape/by-id/...-sg or an emulated
    /// library's DIR/changer). Default: $CHANGER, then the configured default changer.
    #[arg(short = 'f', long = "device", global = true)]
    device: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    wait: tape_cli::wait::WaitArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show drives, slots and import/export slots.
    Status,
    /// Re-scan the library (INITIALIZE ELEMENT STATUS), then show its status.
    Inventory,
    /// Load a cartridge into a drive, from a slot or by barcode.
    Load {
        /// Slot to load from (1-based).
        #[arg(required_unless_present = "barcode", conflicts_with = "barcode")]
        slot: Option<usize>,
        /// Load the cartridge with this barcode instead.
        #[arg(long)]
        barcode: Option<String>,
        /// Drive number (0-based).
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
    },
    /// Put the cartridge in a drive back into a slot.
    Unload {
        /// Drive number (0-based).
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
        /// Slot to put it in (default: the slot it came from).
        #[arg(long)]
        target_slot: Option<usize>,
    },
    /// Move a cartridge from one slot to another (empty) slot.
    Transfer { from: usize, to: usize },
    /// Exchange cartridges: SRC goes to DST1, DST1's cartridge to DST2 (default SRC).
    Exchange {
        src: usize,
        dst1: usize,
        dst2: Option<usize>,
    },
    /// Load the first full slot into the (empty) drive.
    First {
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
    },
    /// Load the last full slot into the (empty) drive.
    Last {
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
    },
    /// Unload the drive to its source slot and load the next full slot after it.
    Next {
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
    },
    /// Unload the drive to its source slot and load the full slot before it.
    Previous {
        #[arg(long, default_value_t = 0)]
        drivenum: usize,
    },
    /// Move cartridges from import/export slots into free storage slots.
    Import {
        #[arg(required = true)]
        barcodes: Vec<String>,
    },
    /// Move cartridges from storage slots into free import/export slots.
    Export {
        #[arg(required = true)]
        barcodes: Vec<String>,
    },
    /// Clean a drive with a cleaning cartridge (barcode CLN...) and put it back.
    Clean {
        #[arg(long)]
        drivenum: usize,
        /// Longest wait for the drive to finish cleaning, in seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Show the changer's INQUIRY data and serial number.
    Inquiry,
    /// List changers: sysfs (/sys) and emulated libraries.
    Scan {
        /// Emulated library directories to include.
        #[arg(long, num_args = 1..)]
        emulated: Vec<PathBuf>,
    },
    #[command(flatten)]
    Doc(DocCommand),
}

fn main() -> ExitCode {
    tape_cli::report::init_logging();
    let cli = Cli::parse();
    tape_cli::wait::set_process_defaults("pmtx", &Cli::command(), &cli.wait);
    tape_cli::report::run("pmtx", || run(cli))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let out = cli.output.format();
    match cli.command {
        Command::Doc(doc) => return run_doc_command(&doc, Cli::command()),
        Command::Scan { emulated } => return scan(out, &emulated),
        _ => {}
    }
    let path = select_device(cli.device.as_deref(), DeviceKind::Changer, || {
        Ok(ptape::config::default_changer_path()?)
    })?;
    // The changer is this command's until it ends (see `ptape::lock`).
    let _lock = tape_cli::device::lock_device(
        ptape::lock::DeviceRole::Changer,
        &path,
        cli.wait.policy(),
        |p| MediaChanger::open(p).map(drop).map_err(Into::into),
    )?;
    let mut changer = MediaChanger::open(&path)?;
    changer.set_ejector(pbs_tape::discovery::serial_ejector(&path));
    match cli.command {
        Command::Status => print_status(out, &path, &changer.status()?),
        Command::Inventory => print_status(out, &path, &changer.inventory()?),
        Command::Load {
            slot,
            barcode,
            drivenum,
        } => {
            let m = match (slot, barcode) {
                (_, Some(b)) => changer.load_barcode(&b, drivenum)?,
                (Some(s), None) => changer.load_slot(s, drivenum)?,
                (None, None) => bail!("give a slot or --barcode"),
            };
            print_moves(out, &[m])
        }
        Command::Unload {
            drivenum,
            target_slot,
        } => print_moves(out, &[changer.unload(drivenum, target_slot)?]),
        Command::Transfer { from, to } => print_moves(out, &[changer.transfer(from, to)?]),
        Command::Exchange { src, dst1, dst2 } => {
            print_moves(out, &changer.exchange(src, dst1, dst2)?)
        }
        Command::First { drivenum } => print_moves(out, &changer.step(drivenum, Step::First)?),
        Command::Last { drivenum } => print_moves(out, &changer.step(drivenum, Step::Last)?),
        Command::Next { drivenum } => print_moves(out, &changer.step(drivenum, Step::Next)?),
        Command::Previous { drivenum } => {
            print_moves(out, &changer.step(drivenum, Step::Previous)?)
        }
        Command::Import { barcodes } => each(out, &barcodes, |b| changer.import(b)),
        Command::Export { barcodes } => each(out, &barcodes, |b| changer.export(b)),
        Command::Clean { drivenum, timeout } => {
            let report = clean_drive(&mut changer, drivenum, Duration::from_secs(timeout))?;
            out.print(&report, |r| {
                format!(
                    "drive {} cleaned with {} (slot {})",
                    r.drive, r.barcode, r.slot
                )
            })
        }
        Command::Inquiry => inquiry(out, changer.transport_mut()),
        Command::Scan { .. } | Command::Doc(_) => Ok(()),
    }
}

fn open(path: &str) -> anyhow::Result<Box<dyn ScsiTransport>> {
    pbs_tape::device::open_transport(path).with_context(|| format!("cannot open changer {path}"))
}

/// One move per barcode; on a failure the moves already done are printed
/// before the error.
fn each(
    out: OutputFormat,
    barcodes: &[String],
    mut one: impl FnMut(&str) -> Result<MoveOutcome, changer::ChangerError>,
) -> anyhow::Result<()> {
    let mut done = Vec::new();
    for b in barcodes {
        match one(b) {
            Ok(m) => done.push(m),
            Err(e) => {
                if !done.is_empty() {
                    print_moves(out, &done)?;
                }
                return Err(e.into());
            }
        }
    }
    print_moves(out, &done)
}

fn print_moves(out: OutputFormat, moves: &[MoveOutcome]) -> anyhow::Result<()> {
    out.print(moves, |moves| {
        moves
            .iter()
            .map(|m| {
                let what = m.barcode.as_deref().unwrap_or("cartridge without barcode");
                let verb = match (m.from, m.to) {
                    (_, Place::Drive(_)) => "loaded",
                    (Place::Drive(_), _) => "unloaded",
                    _ => "moved",
                };
                format!("{verb} {what} from {} to {}\n", m.from, m.to)
            })
            .collect()
    })
}

fn print_status(out: OutputFormat, path: &str, status: &ChangerStatus) -> anyhow::Result<()> {
    out.print(status, |s| {
        let mut t = ListTable::new(&["element", "address", "state", "barcode", "details"]);
        for d in &s.drives {
            let mut details = Vec::new();
            if let Some(slot) = d.source_slot {
                details.push(format!("from slot {slot}"));
            }
            if let Some(serial) = &d.serial {
                details.push(format!("serial {serial}"));
            }
            if let Some(e) = &d.exception {
                details.push(format!("{} ({:02X}/{:02X})", e.description, e.asc, e.ascq));
            }
            t.row([
                format!("drive {}", d.index),
                format!("{:#06x}", d.address),
                full_empty(d.full).into(),
                opt(d.barcode.as_deref()),
                details.join(", "),
            ]);
        }
        for sl in s.all_slots() {
            let name = if sl.import_export {
                format!("slot {} (i/e)", sl.number)
            } else {
                format!("slot {}", sl.number)
            };
            let details = sl
                .exception
                .as_ref()
                .map(|e| format!("{} ({:02X}/{:02X})", e.description, e.asc, e.ascq))
                .unwrap_or_default();
            t.row([
                name,
                format!("{:#06x}", sl.address),
                full_empty(sl.full).into(),
                opt(sl.barcode.as_deref()),
                details,
            ]);
        }
        format!(
            "changer {path}: {} drive(s), {} slot(s), {} import/export slot(s)\n{}",
            s.drives.len(),
            s.slots.len(),
            s.import_export.len(),
            t.render()
        )
    })
}

fn full_empty(full: bool) -> &'static str {
    if full {
        "full"
    } else {
        "empty"
    }
}

/// INQUIRY data plus unit serial number, as JSON / table.
#[derive(Serialize)]
struct InquiryReport {
    vendor: String,
    product: String,
    revision: String,
    peripheral_type: u8,
    serial: Option<String>,
}

fn inquiry(out: OutputFormat, t: &mut dyn ScsiTransport) -> anyhow::Result<()> {
    let report = inquiry_report(t)?;
    out.print(&report, |r| {
        let mut t = KvTable::new();
        t.row("vendor", &r.vendor)
            .row("product", &r.product)
            .row("revision", &r.revision)
            .row("peripheral type", r.peripheral_type)
            .opt_row("serial", r.serial.as_deref());
        t.render()
    })
}

fn inquiry_report(t: &mut dyn ScsiTransport) -> anyhow::Result<InquiryReport> {
    let inq = spc::inquiry(t).with_context(|| format!("INQUIRY failed on {}", t.path()))?;
    Ok(InquiryReport {
        vendor: inq.vendor,
        product: inq.product,
        revision: inq.revision,
        peripheral_type: inq.peripheral_type,
        serial: spc::unit_serial_number(t).ok(),
    })
}

/// One changer found by `scan`.
#[derive(Serialize)]
struct ScannedChanger {
    path: String,
    /// The ch driver's node (`/dev/schN`) of a sysfs changer.
    device_path: Option<String>,
    vendor: String,
    product: String,
    serial: Option<String>,
    by_id: Option<String>,
    emulated: bool,
}

fn scan(out: OutputFormat, emulated: &[PathBuf]) -> anyhow::Result<()> {
    let mut found: Vec<ScannedChanger> =
        discovery::scan_changers(Path::new(pbs_tape::scsi::devpath::SYSFS_ROOT))
            .into_iter()
            .map(|d| ScannedChanger {
                path: d.sg_path,
                device_path: d.device_path,
                vendor: d.vendor,
                product: d.model,
                serial: d.serial,
                by_id: d.by_id,
                emulated: false,
            })
            .collect();
    for dir in emulated {
        let path = dir.join("changer").display().to_string();
        let mut t = open(&path)?;
        let r = inquiry_report(t.as_mut())?;
        found.push(ScannedChanger {
            path,
            device_path: None,
            vendor: r.vendor,
            product: r.product,
            serial: r.serial,
            by_id: None,
            emulated: true,
        });
    }
    out.print(&found, |found| {
        let mut t = ListTable::new(&["path", "sch", "vendor", "product", "serial", "by-id"]);
        for c in found {
            t.row([
                c.path.clone(),
                opt(c.device_path.as_deref()),
                c.vendor.clone(),
                c.product.clone(),
                opt(c.serial.as_deref()),
                opt(c.by_id.as_deref()),
            ]);
        }
        if found.is_empty() {
            "no changers found".to_string()
        } else {
            t.render()
        }
    })
}
