//! `MediaChanger` against a scripted changer that replays captured bytes
//! and behaves like quirky hardware: MODE SENSE(6) rejected (fallback to
//! MODE SENSE(10)), DVCID rejected for storage elements, replies built from
//! the STK L80 capture in tests/data/element-status/.

mod hex_fixture;

use pbs_tape::changer::MediaChanger;
use pbs_tape::scsi::opcodes::{MODE_SENSE_10, MODE_SENSE_6, READ_ELEMENT_STATUS};
use pbs_tape::scsi::testing::{check_condition, ScriptedTransport};
use pbs_tape::scsi::{ScsiError, SenseData, SenseKey};

fn fixture(name: &str) -> Vec<u8> {
    hex_fixture::read("element-status", name)
}

fn illegal(asc: u8) -> ScsiError {
    check_condition(SenseData::new(SenseKey::IllegalRequest, asc, 0))
}

/// Replays the STK L80 capture: page 0x1D only via MODE SENSE(10), drives
/// from the READ ELEMENT STATUS capture, no other elements reported.
fn stk_replay(mode_page: Vec<u8>, drives: Vec<u8>) -> ScriptedTransport {
    ScriptedTransport::new("stk-replay")
        .with_max_transfer(1 << 16)
        .respond_with(move |cdb| match cdb[0] {
            MODE_SENSE_6 => Err(illegal(0x20)),
            MODE_SENSE_10 => {
                // The 6-byte capture's header (4 bytes) becomes an 8-byte one.
                let body = &mode_page[4..];
                let mut r = ((body.len() + 6) as u16).to_be_bytes().to_vec();
                r.extend_from_slice(&[0; 6]);
                r.extend_from_slice(body);
                Ok(r)
            }
            READ_ELEMENT_STATUS => {
                let dvcid = cdb[6] & 1 != 0;
                match cdb[1] & 0x0f {
                    4 => Ok(drives.clone()),
                    _ if dvcid => Err(illegal(0x24)),
                    _ => Ok(vec![0, 0, 0, 0, 0, 0, 0, 0]),
                }
            }
            _ => Err(illegal(0x20)),
        })
}

#[test]
fn stk_l80_capture_through_media_changer() {
    let replay = stk_replay(
        fixture("stk-l80-mode-1d.hex"),
        fixture("stk-l80-drives-dvcid.hex"),
    );
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

    let cmds = &c.transport_mut().cdbs();
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
