//! A medium change (UNIT ATTENTION 28/00) or reset (29/00) reported in the
//! middle of writing an archive: the WRITE that got it is never issued
//! again, no later WRITE or WRITE FILEMARKS reaches the device, and the
//! writer fails naming the event. Scripted transport: a minimal drive that
//! counts logical objects and answers READ POSITION.

mod format_util;

use std::sync::{Arc, Mutex};

use format_util::{chunk, small_config};
use pbs_tape::drive::LtoDrive;
use pbs_tape::format::{ChunkWrite, FormatError, MediaWriter};
use pbs_tape::scsi::opcodes::{
    INQUIRY, READ_BLOCK_LIMITS, READ_POSITION, WRITE_6, WRITE_FILEMARKS_6,
};
use pbs_tape::scsi::testing::{check_condition, ScriptedTransport};
use pbs_tape::scsi::{SenseData, SenseKey};

/// The drive's state: logical objects written, and which WRITE (counted
/// from 1) answers with the unit attention.
struct Drive {
    objects: u64,
    filemarks: u64,
    writes: u64,
    fail_on_write: u64,
    event: (u8, u8),
}

/// READ POSITION long form (BOP flagged at object 0).
fn long_form(object: u64, file: u64) -> Vec<u8> {
    let mut d = vec![0u8; 8];
    if object == 0 {
        d[0] = 0x80;
    }
    d.extend_from_slice(&object.to_be_bytes());
    d.extend_from_slice(&file.to_be_bytes());
    d.extend_from_slice(&[0; 8]);
    d
}

/// A scripted drive answering INQUIRY, READ BLOCK LIMITS, READ POSITION,
/// WRITE and WRITE FILEMARKS; WRITE number `fail_on_write` gets the unit
/// attention `event` (ASC, ASCQ) once.
fn scripted_drive(fail_on_write: u64, event: (u8, u8)) -> (ScriptedTransport, Arc<Mutex<Drive>>) {
    let state = Arc::new(Mutex::new(Drive {
        objects: 0,
        filemarks: 0,
        writes: 0,
        fail_on_write,
        event,
    }));
    let s = state.clone();
    let transport = ScriptedTransport::new("/scripted/nst0")
        .with_max_transfer(1 << 20)
        .respond_with(move |cdb| {
            let mut d = s.lock().unwrap();
            match cdb[0] {
                INQUIRY if cdb[1] & 1 == 0 => {
                    let mut r = vec![0u8; 36];
                    r[0] = 1;
                    r[4] = 31;
                    r[8..16].copy_from_slice(b"SCRIPTED");
                    r[16..32].copy_from_slice(b"ULTRIUM-TD9     ");
                    Ok(r)
                }
                INQUIRY => Ok(b"\x01\x80\x00\x04S999".to_vec()),
                READ_BLOCK_LIMITS => Ok(vec![0, 0x10, 0, 0, 0, 1]),
                READ_POSITION => Ok(long_form(d.objects, d.filemarks)),
                WRITE_6 => {
                    d.writes += 1;
                    if d.writes == d.fail_on_write {
                        let (asc, ascq) = d.event;
                        return Err(check_condition(SenseData::new(
                            SenseKey::UnitAttention,
                            asc,
                            ascq,
                        )));
                    }
                    d.objects += 1;
                    Ok(Vec::new())
                }
                WRITE_FILEMARKS_6 => {
                    let n = u64::from(cdb[4]);
                    d.objects += n;
                    d.filemarks += n;
                    Ok(Vec::new())
                }
                _ => Ok(Vec::new()),
            }
        });
    (transport, state)
}

/// Writes a chunk archive of 12 blocks on a drive whose `fail_on_write`-th
/// WRITE reports `event`; returns the writer's outcome and the opcodes the
/// device received.
fn write_through(
    fail_on_write: u64,
    event: (u8, u8),
    session: bool,
) -> (Result<(), FormatError>, Vec<u8>) {
    let (transport, _state) = scripted_drive(fail_on_write, event);
    let log = transport.log();
    let mut drive = LtoDrive::from_transport(Box::new(transport)).unwrap();
    if session {
        drive.begin_write_session();
    }
    let result = (|| {
        let mut w = MediaWriter::new(drive, small_config())?;
        let mut archive = w.start_chunk_archive("store")?;
        for i in 0..20 {
            let (data, digest) = chunk(i, 40 * 1024);
            match archive.add_chunk(&digest, &data)? {
                ChunkWrite::Stored { .. } => {}
                ChunkWrite::MediumFull { .. } => unreachable!("no early warning"),
            }
        }
        archive.finish()?;
        w.commit().map(|_| ())
    })();
    let opcodes = log.lock().unwrap().iter().map(|c| c[0]).collect();
    (result, opcodes)
}

fn writes_after(opcodes: &[u8], nth_write: u64) -> Vec<u8> {
    let mut seen = 0;
    let mut after = Vec::new();
    for &op in opcodes {
        if seen >= nth_write && matches!(op, WRITE_6 | WRITE_FILEMARKS_6) {
            after.push(op);
        }
        if op == WRITE_6 {
            seen += 1;
        }
    }
    after
}

#[test]
fn a_medium_change_mid_write_reissues_no_write() {
    for session in [true, false] {
        for event in [(0x28, 0x00), (0x29, 0x00)] {
            for nth in [1, 2, 5, 12] {
                let (result, opcodes) = write_through(nth, event, session);
                let err = result.expect_err("the write must fail");
                let total_writes = opcodes.iter().filter(|&&o| o == WRITE_6).count() as u64;
                assert_eq!(
                    total_writes, nth,
                    "session {session}, event {event:?} on WRITE {nth}: a WRITE was re-issued \
                     or writing went on ({opcodes:02x?})"
                );
                assert_eq!(
                    writes_after(&opcodes, nth),
                    Vec::<u8>::new(),
                    "nothing is written after the unit attention"
                );
                let text = err.to_string();
                let named = if event.0 == 0x28 {
                    "medium may have changed"
                } else {
                    "power on, reset"
                };
                assert!(text.contains(named), "the error names the event: {text}");
            }
        }
    }
}
