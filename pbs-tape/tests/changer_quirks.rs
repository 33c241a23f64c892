//! `MediaChanger` against a scripted changer that replays captured bytes
//! and behaves like quirky hardware: MODE SENSE(6) rejected (fallback to
//! MODE SENSE(10)), DVCID rejected for storage elements, replies built from
//! the STK L80 capture in tests/data/element-status/.

use std::path::PathBuf;
use std::time::Duration;

use pbs_tape::changer::MediaChanger;
use pbs_tape::scsi::opcodes::{MODE_SENSE_10, MODE_SENSE_6, READ_ELEMENT_STATUS};
use pbs_tape::scsi::{Completion, DataDirection, ScsiError, ScsiTransport, SenseData, SenseKey};

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/data/element-status",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

/// Replays the STK L80 capture: page 0x1D only via MODE SENSE(10), drives
/// from the READ ELEMENT STATUS capture, no other elements reported.
struct StkReplay {
    mode_page: Vec<u8>,
    drives: Vec<u8>,
    commands: Vec<Vec<u8>>,
}

fn illegal(asc: u8) -> ScsiError {
    ScsiError::CheckCondition {
        sense: SenseData::new(SenseKey::IllegalRequest, asc, 0),
        transferred: 0,
        residual: 0,
    }
}

impl ScsiTransport for StkReplay {
    fn execute(
        &mut self,
        cdb: &[u8],
        data: DataDirection<'_>,
        _timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        self.commands.push(cdb.to_vec());
        let reply: Vec<u8> = match cdb[0] {
            MODE_SENSE_6 => return Err(illegal(0x20)),
            MODE_SENSE_10 => {
                // The 6-byte capture's header (4 bytes) becomes an 8-byte one.
                let body = &self.mode_page[4..];
                let mut r = ((body.len() + 6) as u16).to_be_bytes().to_vec();
                r.extend_from_slice(&[0; 6]);
                r.extend_from_slice(body);
                r
            }
            READ_ELEMENT_STATUS => {
                let dvcid = cdb[6] & 1 != 0;
                match cdb[1] & 0x0f {
                    4 => self.drives.clone(),
                    _ if dvcid => return Err(illegal(0x24)),
                    _ => vec![0, 0, 0, 0, 0, 0, 0, 0],
                }
            }
            _ => return Err(illegal(0x20)),
        };
        let DataDirection::FromDevice(buf) = data else {
            return Err(illegal(0x24));
        };
        let n = reply.len().min(buf.len());
        buf[..n].copy_from_slice(&reply[..n]);
        Ok(Completion {
            transferred: n,
            residual: buf.len() - n,
        })
    }

    fn max_transfer(&self) -> usize {
        1 << 16
    }

    fn path(&self) -> &str {
        "stk-replay"
    }
}

#[test]
fn stk_l80_capture_through_media_changer() {
    let replay = StkReplay {
        mode_page: fixture("stk-l80-mode-1d.hex"),
        drives: fixture("stk-l80-drives-dvcid.hex"),
        commands: Vec::new(),
    };
    let mut c = MediaChanger::new(replay);
    let s = c.status().unwrap();
    let serials: Vec<_> = s.drives.iter().map(|d| d.serial.as_deref()).collect();
    assert_eq!(
        serials,
        [
            Some("XYZZY_B1"),
            Some("XYZZY_B2"),
            Some("XYZZY_B3"),
            Some("XYZZY_B4")
        ]
    );
    assert_eq!(s.drives[3].address, 503);
    assert!(s.slots.is_empty(), "no storage element was reported");

    let cmds = &c.transport_mut().commands;
    assert_eq!(cmds[0][0], MODE_SENSE_6);
    assert_eq!(cmds[1][0], MODE_SENSE_10);
    let res: Vec<&Vec<u8>> = cmds
        .iter()
        .filter(|c| c[0] == READ_ELEMENT_STATUS)
        .collect();
    // Every request asks for at most 0xFFFF bytes and starts at the
    // element type's first address from page 0x1D.
    for r in &res {
        assert_eq!(r[7], 0, "allocation length above 0xFFFF");
    }
    let drive_req = res.iter().find(|r| r[1] & 0x0f == 4).unwrap();
    assert_eq!(u16::from_be_bytes([drive_req[2], drive_req[3]]), 500);
    assert_eq!(u16::from_be_bytes([drive_req[4], drive_req[5]]), 4);
    assert_eq!(drive_req[6] & 1, 1, "DVCID asked for drives");
    assert_eq!(drive_req[1] & 0x10, 0x10, "VOLTAG asked for");
    let storage_req = res.iter().find(|r| r[1] & 0x0f == 2).unwrap();
    assert_eq!(u16::from_be_bytes([storage_req[2], storage_req[3]]), 1000);
    assert_eq!(storage_req[6] & 1, 0, "no DVCID for storage elements");
}
