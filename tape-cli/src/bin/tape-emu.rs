//! `tape-emu`: create and operate a file-backed emulated tape library.
//!
//! The library's device files (`DIR/changer`, `DIR/drive0`, ...) are used
//! with `pmtx -f`, `pmt -f` and `ptape` like real devices; this tool plays
//! the operator: it builds the library, shows its state, inserts and takes
//! out cartridges, flips write-protect tabs and arms faults.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use pbs_tape::drive::tape_alert::TapeAlertFlags;
use pbs_tape::emulator::barcode::parse_barcode_list;
use pbs_tape::emulator::fault::{DeviceId, FaultKind, FaultSpec};
use pbs_tape::emulator::library::LibraryStatus;
use pbs_tape::emulator::state::{
    defaults, CartridgeKind, ChangerPersonality, DrivePersonality, EncryptionControl,
    LibraryConfig, Location,
};
use pbs_tape::emulator::Library;
use tape_cli::docgen::{run_doc_command, DocCommand};
use tape_cli::output::{human_bytes, parse_size, yes_no, KvTable, ListTable, OutputArgs};

#[derive(Parser)]
#[command(
    name = "tape-emu",
    version,
    about = "Create and operate an emulated tape library"
)]
struct Cli {
    #[command(flatten)]
    output: OutputArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new library in DIR.
    Create(CreateArgs),
    /// Show slots, drives, cartridges and armed faults.
    Status {
        /// Library directory.
        dir: PathBuf,
    },
    /// Put a cartridge straight into a drive (standalone drive); an
    /// unknown barcode becomes a new blank cartridge.
    Insert {
        /// Library directory.
        dir: PathBuf,
        /// Drive number (`0` or `drive0`).
        drive: String,
        /// Barcode of the cartridge.
        barcode: String,
    },
    /// Take the cartridge out of a drive.
    Remove {
        /// Library directory.
        dir: PathBuf,
        /// Drive number (`0` or `drive0`).
        drive: String,
    },
    /// Put a cartridge into a free import/export slot (new if unknown).
    Import {
        /// Library directory.
        dir: PathBuf,
        /// Barcode of the cartridge.
        barcode: String,
    },
    /// Take the cartridge out of an import/export slot.
    Take {
        /// Library directory.
        dir: PathBuf,
        /// Slot number as `pmtx` shows it: 1-based, import/export slots
        /// after the storage slots.
        slot: usize,
    },
    /// Arm a fault on a device, or `clear` all faults.
    Fault(FaultArgs),
    /// Set or clear the write-protect tab of a cartridge.
    WriteProtect {
        /// Library directory.
        dir: PathBuf,
        /// Barcode of the cartridge.
        barcode: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    #[command(flatten)]
    Doc(DocCommand),
}

#[derive(clap::Args)]
struct CreateArgs {
    /// Library directory.
    dir: PathBuf,
    /// Number of tape drives.
    #[arg(long, default_value_t = 1)]
    drives: usize,
    /// Storage slots; 0 makes a standalone drive without changer.
    #[arg(long, default_value_t = 16)]
    slots: usize,
    /// Import/export (mail) slots (default: 1 with a changer, 0 without).
    #[arg(long)]
    ie_slots: Option<usize>,
    /// Data cartridges put into the slots: `ABC001L9..ABC016L9,XYZ001L9`.
    #[arg(long, default_value = "")]
    barcodes: String,
    /// Cleaning cartridges (`CLN001L1`, ranges allowed).
    #[arg(long, default_value = "")]
    cleaning: String,
    /// Capacity of each cartridge (KiB/MiB/GiB/TiB suffixes).
    #[arg(long, value_parser = parse_size, default_value = "2GiB")]
    capacity: u64,
    /// Early-warning zone before the end of a cartridge.
    #[arg(long, value_parser = parse_size, default_value = "64MiB")]
    early_warning: u64,
    /// LTO generation of the drives (5..=10).
    #[arg(long, default_value_t = defaults::LTO_GENERATION)]
    lto: u8,
    /// Largest block / transfer the drives accept.
    #[arg(long, value_parser = parse_size, default_value = "1MiB")]
    max_transfer: u64,
    /// Library serial number (default: random).
    #[arg(long)]
    serial: Option<String>,
    /// The changer has no barcode reader (no volume tags).
    #[arg(long)]
    no_barcode_reader: bool,
    /// The changer does not report drive serials (DVCID).
    #[arg(long)]
    no_dvcid: bool,
    /// The drives do not answer LOG SENSE.
    #[arg(long)]
    no_log_sense: bool,
    /// The drives have no cartridge memory access (READ/WRITE ATTRIBUTE).
    #[arg(long)]
    no_mam: bool,
    /// The drives have no hardware encryption.
    #[arg(long)]
    no_encryption: bool,
    /// The drives only accept fixed-block READ/WRITE.
    #[arg(long)]
    fixed_block_only: bool,
    /// The drives refuse decryption mode mixed (as some models do).
    #[arg(long)]
    no_mixed_decryption: bool,
    /// The drives are set to library-managed encryption: they refuse keys
    /// from the application.
    #[arg(long)]
    library_managed_encryption: bool,
    /// The drives answer only the short form of READ POSITION (no file
    /// number), like older drives and Linux's scsi_debug tape.
    #[arg(long)]
    short_position_only: bool,
    /// First element addresses: transport,slots,import-export,drives
    /// (decimal or 0x hex), e.g. `0,0x1000,0x10,0x100`.
    #[arg(long, value_parser = parse_element_bases)]
    element_bases: Option<[u16; 4]>,
}

#[derive(clap::Args)]
struct FaultArgs {
    /// Library directory.
    dir: PathBuf,
    /// What goes wrong, or `clear` to remove all armed faults.
    /// `tape-alert` raises the TapeAlert flags given with `--flags` (the
    /// drive answers them in LOG SENSE page 0x2E, like a real drive).
    #[arg(value_parser = ["write-error", "deferred-write-error", "read-error",
        "move-hardware-error", "power-loss", "timeout", "tape-alert", "clear"])]
    kind: String,
    /// Device: `changer` or `driveN`.
    #[arg(long, default_value = "drive0")]
    device: String,
    /// Matching commands that pass before the fault fires.
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// TapeAlert flags for `tape-alert`: numbers 1-64 or names, comma
    /// separated (e.g. `4`, `MEDIA,CLEAN_NOW`, `clean-now`).
    #[arg(long, value_delimiter = ',', value_parser = parse_tape_alert_flag)]
    flags: Vec<TapeAlertFlags>,
}

/// One TapeAlert flag by number (1-64) or name (`CLEAN_NOW`, `clean-now`).
fn parse_tape_alert_flag(text: &str) -> Result<TapeAlertFlags, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u8>() {
        return TapeAlertFlags::from_number(n)
            .ok_or_else(|| format!("TapeAlert flag {n} does not exist (1-64)"));
    }
    TapeAlertFlags::from_name(&t.to_ascii_uppercase().replace('-', "_")).ok_or_else(|| {
        format!("unknown TapeAlert flag {t:?} (a number 1-64 or a name like CLEAN_NOW)")
    })
}

fn parse_number_u16(text: &str) -> Result<u16, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("'{t}' is not an element address (0..=65535)"))
}

fn parse_element_bases(text: &str) -> Result<[u16; 4], String> {
    let parts: Vec<&str> = text.split(',').collect();
    let [t, s, ie, d] = parts.as_slice() else {
        return Err("expected four addresses: transport,slots,import-export,drives".into());
    };
    Ok([
        parse_number_u16(t)?,
        parse_number_u16(s)?,
        parse_number_u16(ie)?,
        parse_number_u16(d)?,
    ])
}

fn parse_drive(text: &str) -> Result<usize> {
    text.strip_prefix("drive")
        .unwrap_or(text)
        .parse()
        .with_context(|| format!("'{text}' is not a drive number (e.g. 0 or drive0)"))
}

/// The import/export slot index of a 1-based `pmtx`-style slot number.
fn ie_index(slot: usize, slots: usize, ie_slots: usize) -> Result<usize> {
    if ie_slots == 0 {
        bail!("the library has no import/export slots");
    }
    let (first, last) = (slots + 1, slots + ie_slots);
    if (1..=slots).contains(&slot) {
        bail!("slot {slot} is a storage slot; only import/export slots ({first}..={last}) can be taken out");
    }
    if !(first..=last).contains(&slot) {
        bail!("slot {slot} does not exist (import/export slots are {first}..={last})");
    }
    Ok(slot - first)
}

/// A location as `pmtx` names it (1-based slots, import/export slots
/// after the storage slots).
fn element_name(location: Location, slots: usize) -> String {
    match location {
        Location::Slot(i) => format!("slot {}", i + 1),
        Location::ImportExport(i) => format!("slot {} (i/e)", slots + i + 1),
        Location::Drive(i) => format!("drive {i}"),
    }
}

fn open(dir: &std::path::Path) -> Result<Library> {
    Library::open(dir).with_context(|| format!("opening library {}", dir.display()))
}

fn create(args: CreateArgs) -> Result<()> {
    let barcodes = parse_barcode_list(&args.barcodes).context("--barcodes")?;
    let cleaning = parse_barcode_list(&args.cleaning).context("--cleaning")?;
    let mut changer = ChangerPersonality {
        barcode_reader: !args.no_barcode_reader,
        dvcid: !args.no_dvcid,
        ..ChangerPersonality::default()
    };
    if let Some([t, s, ie, d]) = args.element_bases {
        changer.transport_base = t;
        changer.slot_base = s;
        changer.ie_base = ie;
        changer.drive_base = d;
    }
    let mut config = LibraryConfig {
        drives: args.drives,
        slots: args.slots,
        ie_slots: args.ie_slots.unwrap_or(usize::from(args.slots > 0)),
        capacity: args.capacity,
        early_warning: args.early_warning,
        lto_generation: args.lto,
        max_transfer: usize::try_from(args.max_transfer).context("--max-transfer")?,
        drive_personality: DrivePersonality {
            log_sense: !args.no_log_sense,
            mam: !args.no_mam,
            encryption: !args.no_encryption,
            fixed_block_only: args.fixed_block_only,
            encryption_mixed: !args.no_mixed_decryption,
            encryption_control: if args.library_managed_encryption {
                EncryptionControl::Library
            } else {
                EncryptionControl::Application
            },
            short_position_only: args.short_position_only,
        },
        changer_personality: changer,
        ..LibraryConfig::default()
    };
    if let Some(serial) = args.serial {
        config.serial = serial;
    }
    let lib = Library::create(&args.dir, config, &barcodes, &cleaning)
        .with_context(|| format!("creating library in {}", args.dir.display()))?;
    let state = lib.read_state()?;
    println!(
        "created library {} in {}: {} drive(s), {} slot(s), {} import/export slot(s), {} cartridge(s)",
        state.config.serial,
        args.dir.display(),
        state.config.drives,
        state.config.slots,
        state.config.ie_slots,
        state.cartridges.len()
    );
    if state.has_changer() {
        println!("changer: {}", lib.changer_device_path().display());
    }
    for i in 0..state.config.drives {
        println!("drive{i}:  {}", lib.drive_device_path(i).display());
    }
    Ok(())
}

fn status_text(st: &LibraryStatus) -> String {
    let cfg = &st.state.config;
    let mut head = KvTable::new();
    head.row("library", &st.dir)
        .row("serial", &cfg.serial)
        .row("generation", st.state.generation)
        .row(
            "drives",
            format!("{} x LTO-{}", cfg.drives, cfg.lto_generation),
        )
        .row("slots", cfg.slots)
        .row("import/export slots", cfg.ie_slots)
        .row("capacity", human_bytes(cfg.capacity))
        .row("early warning", human_bytes(cfg.early_warning))
        .row("max transfer", human_bytes(cfg.max_transfer as u64));
    let used = |barcode: &str| {
        st.cartridges
            .iter()
            .find(|c| c.cartridge.barcode == barcode)
            .map(|c| match c.cartridge.kind {
                _ if c.image_error.is_some() => "unreadable image".to_string(),
                CartridgeKind::Cleaning { uses_left } => format!("cleaning, {uses_left} uses left"),
                CartridgeKind::Data => format!(
                    "{} / {}",
                    human_bytes(c.used_bytes),
                    human_bytes(c.cartridge.capacity)
                ),
            })
            .unwrap_or_default()
    };
    let wp = |barcode: &str| {
        st.state
            .cartridges
            .get(barcode)
            .map(|c| yes_no(c.write_protected))
            .unwrap_or("")
    };
    let mut elems = ListTable::new(&[
        "element",
        "barcode",
        "loaded",
        "source",
        "used",
        "write-protected",
    ]);
    for (i, bay) in st.state.drives.iter().enumerate() {
        let b = bay.cartridge.as_deref().unwrap_or("");
        let loaded = if bay.cartridge.is_some() {
            yes_no(bay.loaded)
        } else {
            ""
        };
        let source = bay
            .source
            .map(|l| element_name(l, cfg.slots))
            .unwrap_or_default();
        elems.row([
            format!("drive {i}"),
            b.into(),
            loaded.into(),
            source,
            used(b),
            wp(b).into(),
        ]);
    }
    let slots = st
        .state
        .slots
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("slot {}", i + 1), s));
    let ie = st
        .state
        .ie_slots
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("slot {} (i/e)", cfg.slots + i + 1), s));
    for (name, content) in slots.chain(ie) {
        let b = content.as_deref().unwrap_or("");
        elems.row([
            name,
            b.into(),
            String::new(),
            String::new(),
            used(b),
            wp(b).into(),
        ]);
    }
    for c in st.cartridges.iter().filter(|c| c.location.is_none()) {
        let b = &c.cartridge.barcode;
        elems.row([
            "shelf".into(),
            b.clone(),
            String::new(),
            String::new(),
            used(b),
            wp(b).into(),
        ]);
    }
    let mut out = head.render();
    out.push('\n');
    out.push_str(&elems.render());
    if !st.state.faults.is_empty() {
        let mut faults = ListTable::new(&["device", "fault", "after"]);
        for f in &st.state.faults {
            faults.row([
                f.device.to_string(),
                f.kind.to_string(),
                f.after.to_string(),
            ]);
        }
        out.push_str("\narmed faults:\n");
        out.push_str(&faults.render());
    }
    out
}

fn main() -> std::process::ExitCode {
    tape_cli::report::init_logging();
    let cli = Cli::parse();
    let format = cli.output.format();
    tape_cli::report::run("tape-emu", || match cli.command {
        Command::Create(args) => create(args),
        Command::Status { dir } => {
            let st = open(&dir)?.status()?;
            format.print(&st, status_text)
        }
        Command::Insert {
            dir,
            drive,
            barcode,
        } => {
            let drive = parse_drive(&drive)?;
            open(&dir)?.insert(drive, &barcode)?;
            println!("inserted {barcode} into drive {drive}");
            Ok(())
        }
        Command::Remove { dir, drive } => {
            let drive = parse_drive(&drive)?;
            let barcode = open(&dir)?.remove(drive)?;
            println!("removed {barcode} from drive {drive}");
            Ok(())
        }
        Command::Import { dir, barcode } => {
            let lib = open(&dir)?;
            let index = lib.import(&barcode)?;
            let slots = lib.read_state()?.config.slots;
            println!("imported {barcode} into slot {} (i/e)", slots + index + 1);
            Ok(())
        }
        Command::Take { dir, slot } => {
            let lib = open(&dir)?;
            let state = lib.read_state()?;
            let index = ie_index(slot, state.config.slots, state.config.ie_slots)?;
            if state.ie_slots.get(index).is_some_and(Option::is_none) {
                bail!("slot {slot} is empty");
            }
            let barcode = lib.take(index)?;
            println!("took {barcode} out of slot {slot} (i/e)");
            Ok(())
        }
        Command::Fault(args) => {
            let lib = open(&args.dir)?;
            if args.kind == "clear" {
                lib.clear_faults()?;
                println!("cleared all faults");
                return Ok(());
            }
            let mut kind: FaultKind = args.kind.parse()?;
            let flags = args
                .flags
                .iter()
                .fold(TapeAlertFlags::empty(), |all, f| all | *f);
            match (&mut kind, flags.is_empty()) {
                (FaultKind::TapeAlert(bits), false) => *bits = flags.bits(),
                (FaultKind::TapeAlert(_), true) => {
                    anyhow::bail!(
                        "tape-alert needs the flags to raise: --flags 4 or --flags MEDIA,CLEAN_NOW"
                    )
                }
                (_, false) => anyhow::bail!("--flags belongs to tape-alert only"),
                (_, true) => {}
            }
            let device: DeviceId = args.device.parse().map_err(anyhow::Error::msg)?;
            lib.arm_fault(FaultSpec {
                device,
                kind,
                after: args.after,
            })?;
            println!(
                "armed {kind} on {device} after {} matching command(s)",
                args.after
            );
            Ok(())
        }
        Command::WriteProtect {
            dir,
            barcode,
            state,
        } => {
            let on = state == "on";
            open(&dir)?.set_write_protect(&barcode, on)?;
            println!(
                "write protect {} for {barcode}",
                if on { "set" } else { "cleared" }
            );
            Ok(())
        }
        Command::Doc(doc) => run_doc_command(&doc, Cli::command()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ie_slot_numbers_follow_storage_slots() {
        assert_eq!(ie_index(5, 4, 2).unwrap(), 0);
        assert_eq!(ie_index(6, 4, 2).unwrap(), 1);
        assert!(ie_index(3, 4, 2)
            .unwrap_err()
            .to_string()
            .contains("storage slot"));
        assert!(ie_index(7, 4, 2).is_err());
        assert!(ie_index(1, 4, 0).is_err());
    }

    #[test]
    fn element_names_match_pmtx() {
        assert_eq!(element_name(Location::Slot(0), 4), "slot 1");
        assert_eq!(element_name(Location::ImportExport(1), 4), "slot 6 (i/e)");
        assert_eq!(element_name(Location::Drive(2), 4), "drive 2");
    }

    #[test]
    fn element_bases() {
        assert_eq!(
            parse_element_bases("0,0x1000,16,0x100").unwrap(),
            [0, 0x1000, 16, 0x100]
        );
        assert!(parse_element_bases("0,1,2").is_err());
    }
}
