//! `pmt`: control an LTO tape drive, like mt-st, plus what only SCSI shows
//! (cartridge memory, TapeAlert, volume statistics, densities, encryption).
//!
//! Thin: parse, call `pbs_tape::drive`, print. See `docs/pmt.md`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use pbs_tape::discovery::scan_drives;
use pbs_tape::drive::lto::MAX_BECOMING_READY;
use pbs_tape::drive::scan::DriveListing;
use pbs_tape::drive::status::{DriveStatus, MediumState};
use pbs_tape::drive::tape_file::{read_tape_file, write_tape_file};
use pbs_tape::drive::{
    density, encryption, mam, tape_alert, volume_statistics, DriveOptions, LtoDrive, Position,
    PositionForm,
};
use pbs_tape::scsi::devpath::SYSFS_ROOT;
use ptape::lock::{DeviceLock, DeviceRole};
use tape_cli::device::{select_device, DeviceKind};
use tape_cli::docgen::{run_doc_command, DocCommand};
use tape_cli::output::{
    human_bytes, opt, parse_usize_size, yes_no, KvTable, ListTable, OutputArgs, OutputFormat,
};
use tape_cli::report;

#[path = "../pmt/decode_sense_cmd.rs"]
mod decode_sense_cmd;
#[path = "../pmt/selftest_cmd.rs"]
mod selftest_cmd;

/// Default block size of `pmt write`: 256 KiB.
const DEFAULT_WRITE_BLOCK_SIZE: usize = 256 * 1024;

#[derive(Parser)]
#[command(
    name = "pmt",
    version,
    about = "Control an LTO tape drive (like mt-st, plus SCSI-level information)",
    long_about = "Control an LTO tape drive: position, write and read tape files, show status, \
                  cartridge memory, TapeAlert flags, volume statistics, densities and encryption.\n\n\
                  The drive is -f/--device, else $TAPE, else the configured default drive."
)]
struct Cli {
    /// Tape drive: /dev/sgN, /dev/nstN, /dev/tape/by-id/..., or an emulated DIR/driveN
    #[arg(short = 'f', long, global = true, value_name = "DEVICE")]
    device: Option<String>,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    wait: tape_cli::wait::WaitArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Count {
    /// How many (default 1)
    #[arg(default_value_t = 1)]
    count: u32,
}

impl Count {
    /// The count as a forward SPACE count.
    fn forward(&self) -> i64 {
        i64::from(self.count)
    }

    /// The count as a backward SPACE count.
    fn backward(&self) -> i64 {
        -i64::from(self.count)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Drive, cartridge and position status
    Status,
    /// Rewind to the beginning of the tape
    Rewind,
    /// Forward space COUNT files: the head ends at the first block of the next file
    Fsf(Count),
    /// Backward space COUNT files: the head ends at the last block of the previous file
    Bsf(Count),
    /// Forward space COUNT files, then back over the last filemark (end of that file)
    Fsfm(Count),
    /// Backward space COUNT files, then forward over that filemark (start of the next file)
    Bsfm(Count),
    /// Forward space COUNT blocks (records)
    Fsr(Count),
    /// Backward space COUNT blocks (records)
    Bsr(Count),
    /// Absolute file: position at the start of file FILE (0 = beginning of tape)
    Asf {
        /// File number (counted from 0)
        file: u64,
    },
    /// Space to end of data (where the next file is appended)
    Eod,
    /// Write COUNT filemarks (default 1) and flush
    Weof(Count),
    /// Erase from the current position: long erase to end of tape, or with --fast just write end of data
    Erase {
        /// Short erase: write end of data here (seconds instead of hours)
        #[arg(long)]
        fast: bool,
    },
    /// Make the cartridge empty (FORMAT MEDIUM, then a long erase unless --fast)
    Format {
        /// Skip the long erase
        #[arg(long)]
        fast: bool,
    },
    /// Load (thread) the cartridge and wait until it is ready
    Load,
    /// Unlock, rewind and eject the cartridge
    #[command(visible_aliases = ["unload", "offline"])]
    Eject,
    /// Prevent medium removal
    Lock,
    /// Allow medium removal
    Unlock,
    /// Set drive options (block size, compression, buffer mode)
    Options(OptionsArgs),
    /// Show the cartridge memory (MAM attributes)
    CartridgeMemory,
    /// Show the volume statistics log page (0x17)
    VolumeStatistics,
    /// Show the current TapeAlert flags
    TapeAlertFlags,
    /// Show the densities the drive and the loaded cartridge support
    Density,
    /// Hardware encryption: status, set a key, clear it
    Encryption {
        #[command(subcommand)]
        command: EncryptionCommand,
    },
    /// Write standard input to the tape as one file (blocks, then a filemark)
    Write {
        /// Block size: bytes, or with a KiB/MiB suffix (e.g. 256KiB)
        #[arg(long, short = 'b', value_parser = parse_usize_size, default_value_t = DEFAULT_WRITE_BLOCK_SIZE)]
        block_size: usize,
    },
    /// Copy one tape file to standard output; stops after its filemark
    Read,
    /// Check the drive and its cartridge like btape: write, read back, position,
    /// filemarks, end of data, append, speed; overwrites the cartridge
    Selftest(selftest_cmd::SelftestArgs),
    /// Decode sense bytes (hex, as in kernel logs or sg3-utils output; no device)
    DecodeSense {
        /// Sense bytes in hex, e.g. `70 00 05 00 00 00 00 0a 00 00 00 00 24 00`; none or `-`: read standard input
        #[arg(value_name = "HEX")]
        hex: Vec<String>,
    },
    /// List tape drives (sysfs) and emulated drives
    Scan {
        /// Emulated library directories to list drives of
        #[arg(long, value_name = "DIR")]
        emulated: Vec<PathBuf>,
    },
    #[command(flatten)]
    Doc(DocCommand),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnOff {
    On,
    Off,
}

impl OnOff {
    fn enabled(self) -> bool {
        self == OnOff::On
    }
}

#[derive(Args)]
struct OptionsArgs {
    /// Block size in bytes; 0 = variable-block mode
    #[arg(long)]
    blocksize: Option<u32>,
    /// Data compression
    #[arg(long, value_enum)]
    compression: Option<OnOff>,
    /// Buffered mode
    #[arg(long, value_enum)]
    buffer_mode: Option<OnOff>,
    /// Variable-block mode, compression on, buffered mode (applied before the other options)
    #[arg(long)]
    defaults: bool,
}

#[derive(Subcommand)]
enum EncryptionCommand {
    /// Show the encryption status
    Status,
    /// Encrypt with the key in FILE (64 hex characters or 32 raw bytes)
    Set {
        /// Key file
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
    },
    /// Switch encryption off and clear the key
    Clear,
}

/// JSON result of commands that move the tape or change the drive.
#[derive(Serialize)]
struct ActionReport {
    command: &'static str,
    device: String,
    /// Position after the command; null when no cartridge is loaded any more.
    position: Option<Position>,
}

fn main() -> ExitCode {
    report::init_logging();
    let cli = Cli::parse();
    tape_cli::wait::set_process_defaults("pmt", &Cli::command(), &cli.wait);
    report::run("pmt", || run(cli))
}

/// `-f`, else `$TAPE`, else the configured default drive; the embedded
/// library's drive only when that library exists.
fn drive_path(cli: &Cli) -> anyhow::Result<String> {
    select_device(cli.device.as_deref(), DeviceKind::Drive, || {
        let drive = ptape::config::load_config()?.resolve_drive(None)?;
        if drive.embedded && !Path::new(&drive.path).exists() {
            return Ok(None);
        }
        Ok(Some(drive.path))
    })
}

/// Lock the drive (for the whole command: see `ptape::lock`), then open it.
fn open(cli: &Cli) -> anyhow::Result<(DeviceLock, LtoDrive)> {
    let path = drive_path(cli)?;
    let lock = tape_cli::device::lock_device(DeviceRole::Drive, &path, cli.wait.policy(), |p| {
        LtoDrive::open(p).map(drop).map_err(Into::into)
    })?;
    let drive = if writes_at_position(&cli.command) {
        LtoDrive::open_for_writing(&path)?
    } else {
        LtoDrive::open(&path)?
    };
    Ok((lock, drive))
}

/// Commands that write at the current position: they run as a writing
/// session, so a reset or medium change since the last command (the
/// position the user set up is gone) fails them instead of writing at BOT.
fn writes_at_position(command: &Command) -> bool {
    matches!(
        command,
        Command::Write { .. } | Command::Weof(_) | Command::Erase { .. }
    )
}

/// What to do when a writing command lost the position.
const POSITION_LOST_HINT: &str =
    "position the tape explicitly (pmt rewind, pmt eod, pmt asf N) and run the command again";

/// Adds [`POSITION_LOST_HINT`] to an error caused by a lost position.
fn position_hint(err: anyhow::Error) -> anyhow::Error {
    let lost = err.chain().any(|c| {
        c.downcast_ref::<pbs_tape::drive::DriveError>()
            .is_some_and(|e| e.position_lost().is_some())
            || c.downcast_ref::<pbs_tape::scsi::ScsiError>()
                .is_some_and(|e| e.position_lost().is_some())
    });
    if lost {
        anyhow::anyhow!("{}; {POSITION_LOST_HINT}", report::error_message(&err))
    } else {
        err
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let format = cli.output.format();
    match &cli.command {
        Command::Doc(doc) => return run_doc_command(doc, Cli::command()),
        Command::Scan { emulated } => return scan(emulated, format),
        Command::DecodeSense { hex } => return decode_sense_cmd::decode_sense_command(hex, format),
        _ => {}
    }
    let (_lock, drive) = open(&cli).map_err(position_hint)?;
    run_command(&cli, drive, format).map_err(position_hint)
}

fn run_command(cli: &Cli, mut drive: LtoDrive, format: OutputFormat) -> anyhow::Result<()> {
    match &cli.command {
        Command::Status => {
            let status = drive.status()?;
            format.print(&status, status_text)?;
        }
        Command::Rewind => action(&mut drive, format, "rewind", LtoDrive::rewind)?,
        Command::Fsf(n) => action(&mut drive, format, "fsf", |d| {
            d.space_filemarks(n.forward())
        })?,
        Command::Bsf(n) => action(&mut drive, format, "bsf", |d| {
            d.space_filemarks(n.backward())
        })?,
        Command::Fsfm(n) => action(&mut drive, format, "fsfm", |d| {
            d.space_filemarks_other_side(n.forward())
        })?,
        Command::Bsfm(n) => action(&mut drive, format, "bsfm", |d| {
            d.space_filemarks_other_side(n.backward())
        })?,
        Command::Fsr(n) => action(&mut drive, format, "fsr", |d| d.space_blocks(n.forward()))?,
        Command::Bsr(n) => action(&mut drive, format, "bsr", |d| d.space_blocks(n.backward()))?,
        Command::Asf { file } => action(&mut drive, format, "asf", |d| d.locate_file(*file))?,
        Command::Eod => action(&mut drive, format, "eod", LtoDrive::move_to_eod)?,
        Command::Weof(n) => action(&mut drive, format, "weof", |d| {
            d.write_filemarks(n.count, false).map(|_| ())
        })?,
        Command::Erase { fast } => action(&mut drive, format, "erase", |d| d.erase(!fast))?,
        Command::Format { fast } => action(&mut drive, format, "format", |d| d.format(*fast))?,
        Command::Load => action(&mut drive, format, "load", |d| {
            d.load()?;
            d.wait_until_ready(MAX_BECOMING_READY)
        })?,
        Command::Eject => control(&mut drive, format, "eject", LtoDrive::eject)?,
        Command::Lock => control(&mut drive, format, "lock", LtoDrive::lock)?,
        Command::Unlock => control(&mut drive, format, "unlock", LtoDrive::unlock)?,
        Command::Options(args) => options(&mut drive, args, format)?,
        Command::CartridgeMemory => {
            let (t, path) = drive.transport_and_path();
            let attributes = mam::read_cartridge_memory(t, path)?;
            format.print(&attributes, |a| mam_text(a))?;
        }
        Command::VolumeStatistics => {
            let (t, path) = drive.transport_and_path();
            let stats = volume_statistics::read_volume_statistics(t, path)?;
            format.print(&stats, json_table)?;
        }
        Command::TapeAlertFlags => {
            let (t, path) = drive.transport_and_path();
            let flags = tape_alert::read_tape_alert_flags(t, path)?;
            let entries = flags.entries();
            format.print(&entries, |e| tape_alert_text(e))?;
        }
        Command::Density => {
            let (t, path) = drive.transport_and_path();
            let drive_densities = density::report_density_support(t, path, false)?;
            // The loaded cartridge's densities (MEDIA=1); none without a cartridge.
            let (t, path) = drive.transport_and_path();
            let medium = match density::report_density_support(t, path, true) {
                Ok(d) => Some(d),
                Err(pbs_tape::drive::DriveError::NoMedium { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            let report = DensityReport {
                drive: drive_densities,
                medium,
            };
            format.print(&report, density_text)?;
        }
        Command::Encryption { command } => encryption_command(&mut drive, command, format)?,
        Command::Write { block_size } => {
            let mut stdin = io::stdin().lock();
            let summary = write_tape_file(&mut drive, &mut stdin, *block_size)?;
            if summary.early_warning {
                eprintln!("pmt: warning: early warning reached, the cartridge is nearly full");
            }
            format.print(&summary, |s| {
                let blocks = if s.blocks == 1 { "block" } else { "blocks" };
                format!(
                    "wrote {} {blocks} ({}) and a filemark",
                    s.blocks,
                    human_bytes(s.bytes)
                )
            })?;
        }
        Command::Read => {
            let mut stdout = io::stdout().lock();
            let summary = read_tape_file(&mut drive, &mut stdout)?;
            if format.is_json() {
                eprintln!("{}", format.to_json(&summary)?);
            }
        }
        Command::Selftest(args) => selftest_cmd::selftest(&mut drive, args, format)?,
        // Handled above, before a drive is opened.
        Command::Doc(_) | Command::Scan { .. } | Command::DecodeSense { .. } => {}
    }
    Ok(())
}

/// Run a positioning command and report the position afterwards (JSON only;
/// text output stays silent like mt).
fn action(
    drive: &mut LtoDrive,
    format: OutputFormat,
    command: &'static str,
    op: impl FnOnce(&mut LtoDrive) -> Result<(), pbs_tape::drive::DriveError>,
) -> anyhow::Result<()> {
    run_and_report(drive, format, command, op, true)
}

/// Run a command after which there may be no position to report (eject,
/// or lock/unlock without a cartridge): the position is then `null`.
fn control(
    drive: &mut LtoDrive,
    format: OutputFormat,
    command: &'static str,
    op: impl FnOnce(&mut LtoDrive) -> Result<(), pbs_tape::drive::DriveError>,
) -> anyhow::Result<()> {
    run_and_report(drive, format, command, op, false)
}

/// Run `op`, then (JSON only) report the position; without
/// `position_required` a failing READ POSITION reports `null`.
fn run_and_report(
    drive: &mut LtoDrive,
    format: OutputFormat,
    command: &'static str,
    op: impl FnOnce(&mut LtoDrive) -> Result<(), pbs_tape::drive::DriveError>,
    position_required: bool,
) -> anyhow::Result<()> {
    op(drive)?;
    if format.is_json() {
        let position = match drive.read_position() {
            Ok(p) => Some(p),
            Err(e) if position_required => return Err(e.into()),
            Err(_) => None,
        };
        print_action(drive, format, command, position)?;
    }
    Ok(())
}

fn print_action(
    drive: &LtoDrive,
    format: OutputFormat,
    command: &'static str,
    position: Option<Position>,
) -> anyhow::Result<()> {
    let report = ActionReport {
        command,
        device: drive.path().to_string(),
        position,
    };
    format.print(&report, |_| String::new())
}

fn options(drive: &mut LtoDrive, args: &OptionsArgs, format: OutputFormat) -> anyhow::Result<()> {
    let requested = DriveOptions {
        block_size: args.blocksize,
        compression: args.compression.map(OnOff::enabled),
        buffer_mode: args.buffer_mode.map(|b| u8::from(b.enabled())),
    };
    if args.defaults {
        drive.set_options(&DriveOptions::DEFAULTS)?;
    }
    drive.set_options(&requested)?;
    let status = drive.status()?;
    format.print(&status, |s| {
        let mut t = KvTable::new();
        t.row("block size", block_size_text(s.block_size));
        t.opt_row("compression", s.compression.map(yes_no));
        t.opt_row("buffer mode", s.buffer_mode);
        t.render()
    })
}

fn encryption_command(
    drive: &mut LtoDrive,
    command: &EncryptionCommand,
    format: OutputFormat,
) -> anyhow::Result<()> {
    match command {
        EncryptionCommand::Set { key_file } => {
            let bytes = std::fs::read(key_file)
                .with_context(|| format!("cannot read key file {}", key_file.display()))?;
            let key = encryption::parse_key_file(&bytes)?;
            let (t, path) = drive.transport_and_path();
            encryption::set_encryption_key(t, path, &key)?;
        }
        EncryptionCommand::Clear => {
            let (t, path) = drive.transport_and_path();
            encryption::clear_encryption(t, path)?;
        }
        EncryptionCommand::Status => {}
    }
    let (t, path) = drive.transport_and_path();
    let status = encryption::encryption_status(t, path)?;
    format.print(&status, json_table)
}

fn block_size_text(block_size: Option<u32>) -> String {
    match block_size {
        Some(0) => "variable".to_string(),
        Some(n) => format!("{n} bytes (fixed)"),
        None => "-".to_string(),
    }
}

fn status_text(s: &DriveStatus) -> String {
    let mut t = KvTable::new();
    t.row("device", &s.device);
    t.row("vendor", &s.vendor);
    t.row("product", &s.product);
    t.row("revision", &s.revision);
    t.opt_row("serial", s.serial.as_deref());
    t.row("max block size", s.max_block_size);
    let medium = match s.medium_state {
        MediumState::Ready => "ready".to_string(),
        MediumState::NoMedium => "no medium".to_string(),
        MediumState::BecomingReady => "becoming ready".to_string(),
        MediumState::NotReady => format!("not ready: {}", opt(s.not_ready_reason.as_deref())),
    };
    t.row("medium", medium);
    t.opt_row("write protected", s.write_protected.map(yes_no));
    let density = match (s.density_code, s.density_name.as_deref()) {
        (Some(code), Some(name)) => Some(format!("{code:#04x} ({name})")),
        (Some(code), None) => Some(format!("{code:#04x}")),
        _ => None,
    };
    t.opt_row("density", density);
    t.opt_row("medium type", s.medium_type.as_deref());
    t.row("block size", block_size_text(s.block_size));
    t.opt_row("compression", s.compression.map(yes_no));
    t.opt_row("buffer mode", s.buffer_mode);
    t.opt_row("file number", s.file_number);
    t.opt_row("block number", s.block_number);
    t.opt_row("logical object", s.logical_object_number);
    t.opt_row(
        "position form",
        s.position_form.map(|f| match f {
            PositionForm::Long => "long (READ POSITION long form)",
            PositionForm::Short => "short (the drive rejects the long form: no file number)",
        }),
    );
    let mut flags = Vec::new();
    if s.bot == Some(true) {
        flags.push("BOT");
    }
    if s.eom == Some(true) {
        flags.push("EOM");
    }
    if s.write_protected == Some(true) {
        flags.push("WR_PROT");
    }
    if s.medium_state == MediumState::Ready {
        flags.push("ONLINE");
    }
    t.row("flags", flags.join(" "));
    t.opt_row("position error", s.position_error.as_deref());
    t.render()
}

fn mam_text(attributes: &[mam::MamAttribute]) -> String {
    let mut t = ListTable::new(&["id", "name", "value"]);
    for a in attributes {
        t.row([
            format!("{:#06x}", a.id),
            a.name.to_string(),
            mam_value_text(&a.value),
        ]);
    }
    t.render()
}

fn mam_value_text(value: &mam::MamValue) -> String {
    match value {
        mam::MamValue::Number { value, unit: "" } => value.to_string(),
        mam::MamValue::Number { value, unit } => format!("{value} {unit}"),
        mam::MamValue::Text { value } | mam::MamValue::Date { value } => value.clone(),
        mam::MamValue::Bytes { hex } => format!("0x{hex}"),
    }
}

fn tape_alert_text(entries: &[tape_alert::TapeAlertEntry]) -> String {
    if entries.is_empty() {
        return "no TapeAlert flags set".to_string();
    }
    let mut t = ListTable::new(&["flag", "severity", "message"]);
    for e in entries {
        t.row([
            format!("{} {}", e.flag, e.name),
            format!("{:?}", e.severity),
            e.message.to_string(),
        ]);
    }
    t.render()
}

/// `pmt density` output: what the drive supports and what the loaded
/// cartridge supports (null without a cartridge).
#[derive(Serialize)]
struct DensityReport {
    drive: Vec<density::DensityDescriptor>,
    medium: Option<Vec<density::DensityDescriptor>>,
}

fn density_table(descriptors: &[density::DensityDescriptor]) -> String {
    let mut t = ListTable::new(&[
        "code",
        "name",
        "description",
        "write",
        "default",
        "capacity",
    ]);
    for d in descriptors {
        t.row([
            format!("{:#04x}", d.primary_density_code),
            d.density_name.clone(),
            d.description.clone(),
            yes_no(d.writable).to_string(),
            yes_no(d.default).to_string(),
            format!("{} MB", d.capacity_mb),
        ]);
    }
    t.render()
}

fn density_text(report: &DensityReport) -> String {
    let mut out = format!("densities of the drive:\n{}", density_table(&report.drive));
    match &report.medium {
        Some(m) => out.push_str(&format!(
            "\ndensities of the loaded cartridge:\n{}",
            density_table(m)
        )),
        None => out.push_str("\nno cartridge loaded"),
    }
    out
}

/// A name/value table of a serializable record's top-level fields.
fn json_table<T: Serialize>(value: &T) -> String {
    let mut t = KvTable::new();
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => {
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::Null => "-".to_string(),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                t.row(&k.replace('_', " "), text);
            }
        }
        Ok(other) => {
            t.row("value", other);
        }
        Err(e) => {
            t.row("error", e);
        }
    }
    t.render()
}

fn scan(emulated: &[PathBuf], format: OutputFormat) -> anyhow::Result<()> {
    for dir in emulated {
        if !dir.is_dir() {
            bail!("{}: not an emulated library directory", dir.display());
        }
    }
    let dirs: Vec<&Path> = emulated.iter().map(PathBuf::as_path).collect();
    let drives = scan_drives(Path::new(SYSFS_ROOT), &dirs);
    format.print(&drives, |d| scan_text(d))?;
    io::stdout().flush()?;
    Ok(())
}

fn scan_text(drives: &[DriveListing]) -> String {
    if drives.is_empty() {
        return "no tape drives found".to_string();
    }
    let mut t = ListTable::new(&["path", "vendor", "model", "serial", "sg", "nst", "by-id"]);
    for d in drives {
        t.row([
            d.path.clone(),
            d.vendor.clone(),
            d.model.clone(),
            opt(d.serial.as_deref()),
            opt(d.sg_path.as_deref()),
            opt(d.device_path.as_deref()),
            opt(d.by_id.as_deref()),
        ]);
    }
    t.render()
}
