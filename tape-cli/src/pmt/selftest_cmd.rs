//! `pmt selftest [--quick]`: check a drive and its cartridge before
//! trusting them (see `pbs_tape::selftest`); each step is printed as it
//! ends, then a summary. Exit code 1 when a step failed.

use anyhow::bail;
use clap::Args;
use pbs_tape::changer::MediaChanger;
use pbs_tape::drive::LtoDrive;
use pbs_tape::selftest::{
    run_selftest, ChangerLink, SelfTestOptions, SelfTestReport, StepReport, StepResult,
};
use tape_cli::output::{parse_size, parse_usize_size, OutputFormat};

/// ptape's block size: what the speed is measured with by default.
const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;

#[derive(Args)]
pub struct SelftestArgs {
    /// A few MiB and a few records per file (seconds to minutes); without
    /// it btape's 1000-record files and 1 GiB for the speed measurement
    #[arg(long)]
    quick: bool,
    /// Test a cartridge that holds a ptape label (everything on it is lost)
    #[arg(long)]
    force: bool,
    /// Block size of the speed measurement (default 256 KiB, ptape's)
    #[arg(long, value_parser = parse_usize_size)]
    block_size: Option<usize>,
    /// Bytes written and read for the speed measurement (default 8 MiB with --quick, else 1 GiB)
    #[arg(long, value_parser = parse_size)]
    speed_size: Option<u64>,
    /// The drive's changer: also unload and load the cartridge through it
    #[arg(long, value_name = "CHANGER")]
    changer: Option<String>,
    /// The drive's number in the changer
    #[arg(long, default_value_t = 0, requires = "changer")]
    drivenum: usize,
}

pub fn selftest(
    drive: &mut LtoDrive,
    args: &SelftestArgs,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let block_size = args.block_size.unwrap_or(DEFAULT_BLOCK_SIZE);
    let mut opts = if args.quick {
        SelfTestOptions::quick(block_size)
    } else {
        SelfTestOptions::full(block_size)
    };
    opts.force = args.force;
    if let Some(bytes) = args.speed_size {
        opts.speed_bytes = bytes;
    }
    let mut changer = match &args.changer {
        Some(path) => Some(MediaChanger::open(path)?),
        None => None,
    };
    let link = changer.as_mut().map(|changer| ChangerLink {
        changer,
        drive: args.drivenum,
    });
    let text = !format.is_json();
    let mut show = |step: &StepReport| {
        if text {
            println!("{}", step_line(step));
        }
    };
    let report = run_selftest(drive, opts, link, &mut show)?;
    format.print(&report, summary_text)?;
    if !report.ok {
        bail!(
            "self test of {} failed: {} of {} steps",
            report.device,
            report.failed,
            report.steps.len()
        );
    }
    Ok(())
}

fn step_line(s: &StepReport) -> String {
    let verdict = match s.result {
        StepResult::Pass => "PASS",
        StepResult::Fail => "FAIL",
        StepResult::Skipped => "SKIP",
    };
    let at = s.position.map_or(String::new(), |p| {
        let file = p.file_number.map_or("?".into(), |f| f.to_string());
        format!(" [file {file}, object {}]", p.logical_object)
    });
    format!(
        "{verdict}  {} ({:.1} s){at}\n      {}",
        s.title, s.seconds, s.detail
    )
}

fn summary_text(r: &SelfTestReport) -> String {
    let rate = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} MB/s"));
    format!(
        "self test of {} ({} {}{}): {} passed, {} failed, {} skipped; write {}, read {} ({}-byte blocks)",
        r.device,
        r.vendor,
        r.product,
        r.serial.as_deref().map_or(String::new(), |s| format!(", serial {s}")),
        r.passed,
        r.failed,
        r.skipped,
        rate(r.write_mb_per_s),
        rate(r.read_mb_per_s),
        r.options.block_size
    )
}
