//! Whole tape files as byte streams: what `pmt write` and `pmt read` do
//! (`tar cf - dir | pmt write`, `pmt read | tar xf -`).
//!
//! A tape file is a run of variable-length blocks ended by a filemark.
//! Writing cuts the input into blocks of a chosen size (the last one may be
//! shorter) and ends with one filemark written without IMMED, so the data
//! is on the medium when [`write_tape_file`] returns. Reading copies blocks
//! until the filemark and leaves the head after it, like mt/dd on an nst
//! device.

use std::io::{self, Read, Write};

use serde::Serialize;

use super::lto::LtoDrive;
use super::{DriveError, ReadEvent, WriteStatus};

/// How a tape file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileEnd {
    /// A filemark (the head is after it).
    Filemark,
    /// End of data without a closing filemark.
    EndOfData,
}

/// What a tape file copy moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TapeFileSummary {
    pub blocks: u64,
    pub bytes: u64,
    /// Reading: how the file ended. Writing: always [`FileEnd::Filemark`].
    pub end: FileEnd,
    /// Writing passed the early-warning point: the cartridge is nearly full.
    pub early_warning: bool,
}

impl TapeFileSummary {
    /// Nothing copied yet, ending at a filemark.
    fn new() -> Self {
        TapeFileSummary {
            blocks: 0,
            bytes: 0,
            end: FileEnd::Filemark,
            early_warning: false,
        }
    }
}

/// Why a tape file copy failed.
#[derive(Debug, thiserror::Error)]
pub enum TapeFileError {
    #[error(transparent)]
    Drive(#[from] DriveError),
    #[error("cannot read the input: {0}")]
    Input(#[source] io::Error),
    #[error("cannot write the output: {0}")]
    Output(#[source] io::Error),
    /// Reading found end of data before any block: there is no file here.
    #[error("end of data on {device}: there is no tape file at this position")]
    NoFile { device: String },
}

/// Fill `buf` from `input` as far as possible; returns the bytes read (less
/// than `buf.len()` only at end of input).
fn fill(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Write all of `input` as one tape file of `block_size`-byte blocks at the
/// current position, then one filemark (flushed). Switches the drive to
/// variable-block mode first.
pub fn write_tape_file(
    drive: &mut LtoDrive,
    input: &mut dyn Read,
    block_size: usize,
) -> Result<TapeFileSummary, TapeFileError> {
    let max = drive.max_block_size();
    if block_size == 0 {
        return Err(
            DriveError::InvalidArgument("block size must be at least 1 byte".into()).into(),
        );
    }
    if block_size > max {
        return Err(DriveError::BlockTooLarge {
            len: block_size,
            max,
            device: drive.path().to_string(),
        }
        .into());
    }
    drive.set_variable_block_mode()?;
    let mut buf = vec![0u8; block_size];
    let mut summary = TapeFileSummary::new();
    loop {
        let n = fill(input, &mut buf).map_err(TapeFileError::Input)?;
        if n == 0 {
            break;
        }
        if drive.write_block(&buf[..n])? == WriteStatus::EarlyWarning {
            summary.early_warning = true;
        }
        summary.blocks += 1;
        summary.bytes += n as u64;
        if n < block_size {
            break;
        }
    }
    if drive.write_filemarks(1, false)? == WriteStatus::EarlyWarning {
        summary.early_warning = true;
    }
    Ok(summary)
}

/// Copy the tape file at the current position to `output`, block by block,
/// up to and over its filemark. End of data after at least one block ends
/// the file too; end of data at once is [`TapeFileError::NoFile`].
/// Switches the drive to variable-block mode first.
pub fn read_tape_file(
    drive: &mut LtoDrive,
    output: &mut dyn Write,
) -> Result<TapeFileSummary, TapeFileError> {
    drive.set_variable_block_mode()?;
    let mut buf = vec![0u8; drive.max_block_size()];
    let mut summary = TapeFileSummary::new();
    loop {
        match drive.read_block(&mut buf)? {
            ReadEvent::Block(n) => {
                output.write_all(&buf[..n]).map_err(TapeFileError::Output)?;
                summary.blocks += 1;
                summary.bytes += n as u64;
            }
            ReadEvent::Filemark => break,
            ReadEvent::EndOfData if summary.blocks == 0 => {
                return Err(TapeFileError::NoFile {
                    device: drive.path().to_string(),
                })
            }
            ReadEvent::EndOfData => {
                summary.end = FileEnd::EndOfData;
                break;
            }
        }
    }
    output.flush().map_err(TapeFileError::Output)?;
    Ok(summary)
}
