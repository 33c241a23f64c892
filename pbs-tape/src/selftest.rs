//! A btape-style check of a drive and its cartridge (`pmt selftest`), for an
//! admin before trusting them: write records and filemarks, rewind, read
//! back and compare, LOCATE and SPACE over records and files, filemark and
//! end-of-data reporting, append after end of data, write and read speed
//! with incompressible data, and with a changer an unload and load through
//! it. After every step the position the drive reports is compared with
//! the one the step must end at.
//!
//! The cartridge's contents are overwritten; a cartridge with a ptape
//! label is refused unless forced.

use std::time::Instant;

use serde::Serialize;

use crate::changer::status::Place;
use crate::changer::MediaChanger;
use crate::drive::{DriveError, LtoDrive, ReadEvent, SpaceStop, WriteStatus};
use crate::format::{read_media_label, MediaLabel};
use crate::scsi::ScsiTransport;

/// What the self test writes and measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SelfTestOptions {
    /// Records in tape files 0, 1 and 2 (the appended one).
    pub records: [u64; 3],
    /// Size of those records.
    pub record_size: usize,
    /// Block size of the speed measurement (fitted to the drive's limit).
    pub block_size: usize,
    /// Bytes written and read for the speed measurement.
    pub speed_bytes: u64,
    /// Overwrite a cartridge that holds a ptape label.
    pub force: bool,
}

impl SelfTestOptions {
    /// A few MiB: minutes on a real drive, seconds on the emulator.
    pub fn quick(block_size: usize) -> Self {
        SelfTestOptions {
            records: [20, 12, 5],
            record_size: 64 * 1024,
            block_size,
            speed_bytes: 8 << 20,
            force: false,
        }
    }

    /// btape's record counts and a speed measurement long enough for a
    /// real drive to stream (1 GiB).
    pub fn full(block_size: usize) -> Self {
        SelfTestOptions {
            records: [1000, 1000, 10],
            speed_bytes: 1 << 30,
            ..Self::quick(block_size)
        }
    }
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Pass,
    Fail,
    /// Not run: an earlier step it builds on failed, or no changer.
    Skipped,
}

/// Where the head was after a step, as the drive reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepPosition {
    /// From READ POSITION (long form) or counted since BOT (short form).
    pub file_number: Option<u64>,
    pub logical_object: u64,
}

/// One step of the self test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// Stable identifier, e.g. `write_files`.
    pub step: &'static str,
    /// What it checks, for people.
    pub title: &'static str,
    pub result: StepResult,
    /// What was seen (on failure: what went wrong).
    pub detail: String,
    pub seconds: f64,
    pub position: Option<StepPosition>,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfTestReport {
    pub device: String,
    pub vendor: String,
    pub product: String,
    pub serial: Option<String>,
    pub options: SelfTestOptions,
    /// The drive's largest block through this path.
    pub max_block_size: usize,
    pub steps: Vec<StepReport>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// MB/s (10^6 bytes per second), incompressible data.
    pub write_mb_per_s: Option<f64>,
    pub read_mb_per_s: Option<f64>,
    /// True when no step failed.
    pub ok: bool,
}

/// Why the self test did not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SelfTestError {
    #[error("{device} holds the ptape label {label} (media {uuid}); the self test overwrites the cartridge: use --force to test it anyway")]
    PtapeLabel {
        device: String,
        label: String,
        uuid: String,
    },
    #[error("{device}: {message}")]
    Unusable { device: String, message: String },
    #[error(transparent)]
    Drive(#[from] DriveError),
}

/// The changer and drive number, for the unload/load step.
pub struct ChangerLink<'a> {
    pub changer: &'a mut MediaChanger<Box<dyn ScsiTransport>>,
    pub drive: usize,
}

/// Incompressible content of record `id` (its number in the first 8 bytes).
pub fn record_bytes(id: u64, len: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
}

type StepOutcome = Result<(String, Option<StepPosition>), String>;

/// A step that ran, or why it did not.
enum Outcome {
    Ran(StepOutcome),
    Skipped(&'static str),
}

/// Collects the steps into the report and shows each as it ends.
struct Steps<'r, 'f> {
    report: &'r mut SelfTestReport,
    on_step: &'f mut dyn FnMut(&StepReport),
}

impl Steps<'_, '_> {
    /// Record a step; true when it passed.
    fn record(
        &mut self,
        step: &'static str,
        title: &'static str,
        start: Instant,
        outcome: Outcome,
    ) -> bool {
        let (result, detail, position) = match outcome {
            Outcome::Ran(Ok((detail, position))) => (StepResult::Pass, detail, position),
            Outcome::Ran(Err(detail)) => (StepResult::Fail, detail, None),
            Outcome::Skipped(why) => (StepResult::Skipped, why.to_string(), None),
        };
        let r = StepReport {
            step,
            title,
            result,
            detail,
            seconds: start.elapsed().as_secs_f64(),
            position,
        };
        (self.on_step)(&r);
        self.report.steps.push(r);
        result == StepResult::Pass
    }
}

struct Run<'d> {
    drive: &'d mut LtoDrive,
    opts: SelfTestOptions,
    buf: Vec<u8>,
    expected: Vec<u8>,
}

impl Run<'_> {
    /// First logical object of tape file `file` (0, 1, 2; 3 = the speed file).
    fn file_start(&self, file: usize) -> u64 {
        self.opts.records[..file.min(3)].iter().map(|r| r + 1).sum()
    }

    fn record_id(file: usize, n: u64) -> u64 {
        ((file as u64) << 32) | n
    }

    fn err(what: &str, e: impl std::fmt::Display) -> String {
        format!("{what}: {e}")
    }

    /// The head must be at `object` of `file`.
    fn at(&mut self, file: u64, object: u64) -> Result<StepPosition, String> {
        let p = self
            .drive
            .read_position()
            .map_err(|e| Self::err("READ POSITION", e))?;
        let file_number = p.file_number.or(self.drive.tracked_file_number());
        let got = StepPosition {
            file_number,
            logical_object: p.logical_object,
        };
        if p.logical_object != object || file_number.is_some_and(|f| f != file) {
            return Err(format!(
                "the drive reports file {} object {}, expected file {file} object {object}",
                file_number.map_or("?".into(), |f| f.to_string()),
                p.logical_object
            ));
        }
        Ok(got)
    }

    fn write_file(&mut self, file: usize) -> Result<(), String> {
        for n in 0..self.opts.records[file] {
            record_bytes(
                Self::record_id(file, n),
                self.opts.record_size,
                &mut self.buf,
            );
            self.drive
                .write_block(&self.buf)
                .map_err(|e| Self::err(&format!("write record {n} of file {file}"), e))?;
        }
        self.drive
            .write_filemarks(1, false)
            .map_err(|e| Self::err(&format!("filemark after file {file}"), e))?;
        Ok(())
    }

    /// Read the next record and require it to be record `n` of `file`.
    fn read_record(&mut self, file: usize, n: u64) -> Result<(), String> {
        self.buf.resize(self.drive.max_block_size(), 0);
        match self.drive.read_block(&mut self.buf) {
            Ok(ReadEvent::Block(len)) => {
                record_bytes(
                    Self::record_id(file, n),
                    self.opts.record_size,
                    &mut self.expected,
                );
                if self.buf[..len] != self.expected[..] {
                    let at = self.buf[..len]
                        .iter()
                        .zip(&self.expected)
                        .position(|(a, b)| a != b)
                        .unwrap_or(len.min(self.expected.len()));
                    return Err(format!(
                        "record {n} of file {file}: {len} bytes read differ from the {} written, first at byte {at}",
                        self.expected.len()
                    ));
                }
                Ok(())
            }
            Ok(other) => Err(format!(
                "record {n} of file {file}: expected a block, the drive reported {other:?}"
            )),
            Err(e) => Err(Self::err(&format!("read record {n} of file {file}"), e)),
        }
    }

    fn expect_event(&mut self, want: ReadEvent, what: &str) -> Result<(), String> {
        self.buf.resize(self.drive.max_block_size(), 0);
        match self.drive.read_block(&mut self.buf) {
            Ok(got) if got == want => Ok(()),
            Ok(got) => Err(format!(
                "{what}: expected {want:?}, the drive reported {got:?}"
            )),
            Err(e) => Err(Self::err(what, e)),
        }
    }

    fn read_file(&mut self, file: usize) -> Result<(), String> {
        for n in 0..self.opts.records[file] {
            self.read_record(file, n)?;
        }
        self.expect_event(ReadEvent::Filemark, &format!("end of file {file}"))
    }

    /// Locate to logical object `object` (LOCATE(16)); without LOCATE,
    /// rewind and space over `file` filemarks and `block` blocks.
    fn seek(&mut self, file: usize, block: u64) -> Result<(), String> {
        let object = self.file_start(file) + block;
        match self.drive.locate(object) {
            Ok(()) => Ok(()),
            Err(DriveError::NotSupported { .. }) => self
                .drive
                .locate_file(file as u64)
                .and_then(|()| self.drive.space_blocks(block as i64))
                .map_err(|e| Self::err("rewind and space (no LOCATE)", e)),
            Err(e) => Err(Self::err(&format!("LOCATE to object {object}"), e)),
        }
    }

    /// Run the check named `step` (see `CHECKS` in [`run_selftest`]).
    fn check(&mut self, step: &str) -> StepOutcome {
        match step {
            "read_back" => self.read_back(),
            "locate_blocks" => self.locate_blocks(),
            "space_records" => self.space_records(),
            "space_files" => self.space_files(),
            "filemark_reporting" => self.filemark_reporting(),
            "end_of_data_reporting" => self.end_of_data_reporting(),
            "append" => self.append(),
            other => Err(format!("no check named {other}")),
        }
    }

    fn rewind(&mut self) -> Result<(), String> {
        self.drive.rewind().map_err(|e| Self::err("REWIND", e))
    }

    fn write_files(&mut self) -> StepOutcome {
        self.rewind()?;
        self.drive
            .set_variable_block_mode()
            .map_err(|e| Self::err("variable-block mode", e))?;
        self.write_file(0)?;
        let p = self.at(1, self.file_start(1))?;
        self.write_file(1)?;
        let p2 = self.at(2, self.file_start(2))?;
        let [r0, r1, _] = self.opts.records;
        Ok((
            format!(
                "{r0} + {r1} records of {} bytes, 2 filemarks; position after file 0: object {}",
                self.opts.record_size, p.logical_object
            ),
            Some(p2),
        ))
    }

    fn read_back(&mut self) -> StepOutcome {
        self.rewind()?;
        self.at(0, 0)?;
        self.read_file(0)?;
        self.at(1, self.file_start(1))?;
        self.read_file(1)?;
        let p = self.at(2, self.file_start(2))?;
        self.expect_event(ReadEvent::EndOfData, "after the last filemark")?;
        Ok((
            "every record identical; a filemark after each file, then end of data".into(),
            Some(p),
        ))
    }

    fn locate_blocks(&mut self) -> StepOutcome {
        let [r0, r1, _] = self.opts.records;
        let mut p = None;
        for (file, block) in [(0, 4.min(r0 - 1)), (0, r0 - 1), (1, 0), (1, r1 - 1)] {
            self.seek(file, block)?;
            self.read_record(file, block)?;
            p = Some(self.at(file as u64, self.file_start(file) + block + 1)?);
        }
        Ok((
            format!(
                "read records 0:4, 0:{}, 1:0, 1:{} after LOCATE",
                r0 - 1,
                r1 - 1
            ),
            p,
        ))
    }

    fn space_records(&mut self) -> StepOutcome {
        self.rewind()?;
        self.drive
            .space_blocks(3)
            .map_err(|e| Self::err("SPACE 3 blocks", e))?;
        self.at(0, 3)?;
        self.read_record(0, 3)?;
        self.drive
            .space_blocks(-2)
            .map_err(|e| Self::err("SPACE -2 blocks", e))?;
        self.at(0, 2)?;
        self.read_record(0, 2)?;
        let p = self.at(0, 3)?;
        Ok((
            "forward 3, read record 3, back 2, read record 2".into(),
            Some(p),
        ))
    }

    fn space_files(&mut self) -> StepOutcome {
        let start1 = self.file_start(1);
        self.rewind()?;
        self.drive
            .space_filemarks(1)
            .map_err(|e| Self::err("SPACE 1 filemark", e))?;
        self.at(1, start1)?;
        self.read_record(1, 0)?;
        self.drive
            .space_filemarks(-1)
            .map_err(|e| Self::err("SPACE -1 filemark", e))?;
        // Backwards the head stops on the BOP side of the filemark.
        self.at(0, start1 - 1)?;
        self.drive
            .space_filemarks(1)
            .map_err(|e| Self::err("SPACE 1 filemark", e))?;
        let p = self.at(1, start1)?;
        Ok((
            "forward over 1 filemark to file 1, back over it to the end of file 0, forward again"
                .into(),
            Some(p),
        ))
    }

    fn filemark_reporting(&mut self) -> StepOutcome {
        let r0 = self.opts.records[0];
        self.rewind()?;
        match self.drive.space_blocks(r0 as i64 + 5) {
            Err(DriveError::SpaceStopped { shortfall, .. })
                if shortfall.stop == SpaceStop::Filemark =>
            {
                if shortfall.done.is_some_and(|d| d != r0) {
                    return Err(format!(
                        "spacing blocks stopped at the filemark after {:?} blocks, file 0 has {r0}",
                        shortfall.done
                    ));
                }
            }
            Ok(()) => {
                return Err(format!(
                    "SPACE {} blocks crossed the filemark silently",
                    r0 + 5
                ))
            }
            Err(e) => return Err(Self::err("SPACE blocks into a filemark", e)),
        }
        let p = self.at(1, self.file_start(1))?;
        Ok((
            format!("SPACE {} blocks stopped at the filemark after {r0}", r0 + 5),
            Some(p),
        ))
    }

    fn end_of_data_reporting(&mut self) -> StepOutcome {
        let end = self.file_start(2);
        self.drive
            .move_to_eod()
            .map_err(|e| Self::err("SPACE to end of data", e))?;
        self.at(2, end)?;
        self.expect_event(ReadEvent::EndOfData, "READ at end of data")?;
        match self.drive.space_filemarks(1) {
            Err(DriveError::SpaceStopped { shortfall, .. })
                if shortfall.stop == SpaceStop::EndOfData => {}
            Ok(()) => return Err("SPACE 1 filemark past end of data succeeded".into()),
            Err(e) => return Err(Self::err("SPACE past end of data", e)),
        }
        let p = self.at(2, end)?;
        Ok((
            "READ and SPACE at end of data report BLANK CHECK, the head stays".into(),
            Some(p),
        ))
    }

    fn append(&mut self) -> StepOutcome {
        self.drive
            .move_to_eod()
            .map_err(|e| Self::err("SPACE to end of data", e))?;
        self.write_file(2)?;
        self.at(3, self.file_start(3))?;
        self.drive
            .locate_file(2)
            .map_err(|e| Self::err("locate file 2", e))?;
        self.read_file(2)?;
        self.rewind()?;
        self.read_record(0, 0)?;
        let p = self.at(0, 1)?;
        Ok((
            format!(
                "{} records appended as file 2 and read back; file 0 intact",
                self.opts.records[2]
            ),
            Some(p),
        ))
    }

    fn write_speed(&mut self) -> Result<(String, Option<StepPosition>, f64, u64), String> {
        let size = self.opts.block_size;
        self.drive
            .move_to_eod()
            .map_err(|e| Self::err("SPACE to end of data", e))?;
        let blocks = self.opts.speed_bytes.div_ceil(size as u64).max(1);
        let mut data = Vec::new();
        let start = Instant::now();
        let mut written = 0u64;
        let mut early_warning = false;
        for n in 0..blocks {
            record_bytes(Self::record_id(3, n), size, &mut data);
            match self.drive.write_block(&data) {
                Ok(WriteStatus::Ok) => written += 1,
                Ok(WriteStatus::EarlyWarning) => {
                    written += 1;
                    early_warning = true;
                    break;
                }
                Err(e) => return Err(Self::err(&format!("write block {n}"), e)),
            }
        }
        self.drive
            .write_filemarks(1, false)
            .map_err(|e| Self::err("filemark and flush", e))?;
        let secs = start.elapsed().as_secs_f64();
        let bytes = written * size as u64;
        let rate = bytes as f64 / secs.max(1e-9) / 1e6;
        let p = self.at(4, self.file_start(3) + written + 1)?;
        let mut detail = format!("{bytes} bytes in {written} blocks of {size} in {secs:.2} s");
        if early_warning {
            detail.push_str(" (stopped at early warning)");
        }
        Ok((detail, Some(p), rate, written))
    }

    fn read_speed(&mut self, blocks: u64) -> Result<(String, Option<StepPosition>, f64), String> {
        let size = self.opts.block_size;
        self.drive
            .locate_file(3)
            .map_err(|e| Self::err("locate file 3", e))?;
        let mut expected = Vec::new();
        self.buf.resize(self.drive.max_block_size(), 0);
        let start = Instant::now();
        for n in 0..blocks {
            match self.drive.read_block(&mut self.buf) {
                Ok(ReadEvent::Block(len)) => {
                    record_bytes(Self::record_id(3, n), size, &mut expected);
                    if self.buf[..len] != expected[..] {
                        return Err(format!("speed block {n}: the data read differs"));
                    }
                }
                Ok(other) => return Err(format!("speed block {n}: the drive reported {other:?}")),
                Err(e) => return Err(Self::err(&format!("read block {n}"), e)),
            }
        }
        self.expect_event(ReadEvent::Filemark, "end of the speed file")?;
        let secs = start.elapsed().as_secs_f64();
        let bytes = blocks * size as u64;
        let rate = bytes as f64 / secs.max(1e-9) / 1e6;
        let p = self.at(4, self.file_start(3) + blocks + 1)?;
        Ok((
            format!("{bytes} bytes read and compared in {secs:.2} s"),
            Some(p),
            rate,
        ))
    }

    fn changer_cycle(&mut self, link: &mut ChangerLink<'_>) -> StepOutcome {
        // The cartridge leaves the drive: no position to keep.
        self.drive.end_write_session();
        self.drive
            .unload()
            .map_err(|e| Self::err("LOAD UNLOAD (unload)", e))?;
        let out = link
            .changer
            .unload(link.drive, None)
            .map_err(|e| Self::err("changer unload", e))?;
        let Place::Slot(slot) = out.to else {
            return Err(format!("the changer unloaded to {}, not to a slot", out.to));
        };
        link.changer
            .load_slot(slot, link.drive)
            .map_err(|e| Self::err(&format!("changer load from slot {slot}"), e))?;
        self.drive
            .wait_until_ready(crate::drive::lto::MAX_BECOMING_READY)
            .map_err(|e| Self::err("wait until ready after the load", e))?;
        // Loaded and ready (its unit attention seen): a new session from
        // the rewind below.
        self.drive.begin_write_session();
        self.rewind()?;
        self.read_record(0, 0)?;
        let p = self.at(0, 1)?;
        Ok((
            format!("unloaded to slot {slot} and loaded again; record 0 reads back"),
            Some(p),
        ))
    }
}

/// Refuses a cartridge that holds a ptape label (unless `force`); the tape
/// is rewound. A blank or foreign cartridge is fine.
fn check_label(drive: &mut LtoDrive, force: bool) -> Result<(), SelfTestError> {
    drive.rewind()?;
    let found: Option<MediaLabel> = read_media_label(drive).ok().flatten();
    drive.rewind()?;
    match found {
        Some(label) if !force => Err(SelfTestError::PtapeLabel {
            device: drive.path().to_string(),
            label: label.label_text,
            uuid: label.uuid.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Run the self test on the cartridge in `drive`; `on_step` sees each step
/// as it ends. Errors only when it cannot start (no cartridge, a ptape
/// label without `force`); failing steps are in the report.
pub fn run_selftest(
    drive: &mut LtoDrive,
    opts: SelfTestOptions,
    mut changer: Option<ChangerLink<'_>>,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<SelfTestReport, SelfTestError> {
    drive.wait_until_ready(crate::drive::lto::MAX_BECOMING_READY)?;
    let max_block_size = drive.max_block_size();
    let mut opts = opts;
    opts.block_size = opts.block_size.clamp(1, max_block_size);
    if opts.record_size > max_block_size || opts.records.iter().any(|&r| r < 2) {
        return Err(SelfTestError::Unusable {
            device: drive.path().to_string(),
            message: format!(
                "records of {} bytes (at least 2 per file) do not fit the largest block of {max_block_size} bytes",
                opts.record_size
            ),
        });
    }
    check_label(drive, opts.force)?;
    // From here on a reset or medium change fails every positional command
    // instead of letting the test write at a position it did not prove.
    drive.begin_write_session();
    let identity = drive.identity().clone();
    let mut report = SelfTestReport {
        device: drive.path().to_string(),
        vendor: identity.vendor,
        product: identity.product,
        serial: identity.serial,
        options: opts,
        max_block_size,
        steps: Vec::new(),
        passed: 0,
        failed: 0,
        skipped: 0,
        write_mb_per_s: None,
        read_mb_per_s: None,
        ok: false,
    };
    let mut run = Run {
        drive,
        opts,
        buf: Vec::new(),
        expected: Vec::new(),
    };
    let mut steps = Steps {
        report: &mut report,
        on_step,
    };
    let t = Instant::now();
    let written = run.write_files();
    let written = steps.record(
        "write_files",
        "write records and filemarks (variable-block mode)",
        t,
        Outcome::Ran(written),
    );
    const CHECKS: [(&str, &str); 7] = [
        (
            "read_back",
            "rewind, read back and compare, end of data after the last filemark",
        ),
        (
            "locate_blocks",
            "LOCATE to records of both files and read them",
        ),
        ("space_records", "SPACE forward and back over records"),
        ("space_files", "SPACE forward and back over files"),
        (
            "filemark_reporting",
            "a SPACE over records stops at the filemark",
        ),
        (
            "end_of_data_reporting",
            "READ and SPACE at end of data report it",
        ),
        (
            "append",
            "append a file after end of data, earlier data intact",
        ),
    ];
    for (step, title) in CHECKS {
        let t = Instant::now();
        let outcome = match written {
            true => Outcome::Ran(run.check(step)),
            false => Outcome::Skipped("the write step failed"),
        };
        steps.record(step, title, t, outcome);
    }
    let t = Instant::now();
    let (outcome, blocks) = match run.write_speed() {
        Ok((detail, position, rate, blocks)) => {
            steps.report.write_mb_per_s = Some(rate);
            (
                Ok((format!("{rate:.1} MB/s: {detail}"), position)),
                Some(blocks),
            )
        }
        Err(e) => (Err(e), None),
    };
    steps.record(
        "write_speed",
        "write speed, incompressible data",
        t,
        Outcome::Ran(outcome),
    );
    let t = Instant::now();
    let outcome = match blocks {
        Some(blocks) => Outcome::Ran(run.read_speed(blocks).map(|(detail, position, rate)| {
            steps.report.read_mb_per_s = Some(rate);
            (format!("{rate:.1} MB/s: {detail}"), position)
        })),
        None => Outcome::Skipped("the write speed step failed"),
    };
    steps.record("read_speed", "read speed, data compared", t, outcome);
    let t = Instant::now();
    let outcome = match changer.as_mut() {
        Some(link) => Outcome::Ran(run.changer_cycle(link)),
        None => Outcome::Skipped("no changer given"),
    };
    steps.record("changer", "unload and load through the changer", t, outcome);
    let _ = run.drive.rewind();
    run.drive.end_write_session();
    for s in &report.steps {
        match s.result {
            StepResult::Pass => report.passed += 1,
            StepResult::Fail => report.failed += 1,
            StepResult::Skipped => report.skipped += 1,
        }
    }
    report.ok = report.failed == 0;
    Ok(report)
}
