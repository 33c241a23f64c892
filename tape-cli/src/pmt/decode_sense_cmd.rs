//! `pmt decode-sense HEX...`: sense bytes as found in kernel logs or other
//! tools' output, explained field by field (no device needed).

use std::io::Read;

use anyhow::Context;
use pbs_tape::scsi::sense_report::{decode_sense, parse_hex, SenseFormat, SenseReport};
use tape_cli::output::{opt, yes_no, KvTable, OutputFormat};

/// Decode `hex` (the words given; `-` or none: standard input) and print.
pub fn decode_sense_command(hex: &[String], format: OutputFormat) -> anyhow::Result<()> {
    let text = if hex.is_empty() || hex == ["-"] {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read sense bytes from standard input")?;
        text
    } else {
        hex.join(" ")
    };
    let bytes = parse_hex(&text)?;
    let report = decode_sense(&bytes).with_context(|| {
        format!(
            "{} bytes are not sense data (the first byte must be a response code 70h-73h)",
            bytes.len()
        )
    })?;
    format.print(&report, report_text)
}

fn report_text(r: &SenseReport) -> String {
    let mut t = KvTable::new();
    let form = match r.format {
        SenseFormat::Fixed => "fixed",
        SenseFormat::Descriptor => "descriptor",
    };
    let when = if r.deferred { "deferred" } else { "current" };
    t.row(
        "response code",
        format!("{:#04x} ({when} error, {form} format)", r.response_code),
    );
    t.row(
        "sense key",
        format!("{:#x} {}", r.sense_key.code, r.sense_key.name),
    );
    t.row(
        "ASC/ASCQ",
        format!("{:02X}/{:02X} {}", r.asc, r.ascq, r.asc_text),
    );
    t.opt_row("valid", r.valid.map(yes_no));
    let info = r.information.map(|i| match r.information_signed {
        Some(s) if s < 0 => format!("{i} ({s} as a signed residue)"),
        _ => i.to_string(),
    });
    t.row("information", opt(info));
    t.row("command-specific", opt(r.command_specific));
    t.row(
        "stream bits",
        format!(
            "FILEMARK={} EOM={} ILI={}",
            u8::from(r.filemark),
            u8::from(r.eom),
            u8::from(r.ili)
        ),
    );
    t.row("sense key specific", opt(r.sense_key_specific));
    t.row("FRU", r.fru);
    t.row(
        "length",
        format!(
            "{} bytes (additional sense length {})",
            r.length,
            opt(r.additional_length)
        ),
    );
    for d in &r.descriptors {
        t.row(
            &format!("descriptor {:#04x}", d.code),
            format!("{}: {}", d.name, d.hex),
        );
    }
    let mut text = t.render();
    for note in &r.notes {
        text.push_str(&format!("\n- {note}"));
    }
    text
}
