//! The scripted mt-style session: write three files, fsf 2, read the third
//! back, bsf 1, eod, weof, status.

mod pmt_util;

use pmt_util::{pattern, Emu};

#[test]
fn mt_style_session() {
    let emu = Emu::new();
    let files = [
        pattern(1, 200_000),
        pattern(2, 65_536 * 3),
        pattern(3, 150_001),
    ];
    for f in &files {
        let summary = emu.write_file(f, 65_536);
        assert_eq!(summary["bytes"].as_u64(), Some(f.len() as u64));
        assert_eq!(summary["end"], "filemark");
    }
    // blocks per file: 4, 3, 3 (+1 filemark each) -> objects 5, 4, 4.
    assert_eq!(emu.pos(&["rewind"]), (0, 0));
    assert_eq!(emu.pos(&["fsf", "2"]), (2, 9));
    let third = emu.read_file();
    assert_eq!(third.len(), files[2].len());
    assert!(third == files[2], "third file differs");
    // read leaves the head after the file's filemark.
    let status = emu.json(&["status"]);
    assert_eq!(status["file_number"], 3);
    assert_eq!(status["logical_object_number"], 13);

    assert_eq!(emu.pos(&["bsf", "1"]), (2, 12));
    assert_eq!(emu.pos(&["eod"]), (3, 13));
    assert_eq!(emu.pos(&["weof"]), (4, 14));

    let status = emu.json(&["status"]);
    assert_eq!(status["medium_state"], "ready");
    assert_eq!(status["file_number"], 4);
    assert_eq!(status["logical_object_number"], 14);
    assert_eq!(status["bot"], false);
    assert_eq!(status["partition"], 0);

    // The second file is still intact after all this.
    emu.json(&["asf", "1"]);
    assert!(emu.read_file() == files[1]);
}

#[test]
fn tar_style_pipeline_round_trips() {
    // `tar cf - dir | pmt write` then `pmt read | tar xf -`: arbitrary bytes
    // through stdin and stdout, with an odd tail block.
    let emu = Emu::new();
    let data = pattern(42, 1_000_003);
    emu.write_file(&data, 262_144);
    emu.json(&["rewind"]);
    assert!(emu.read_file() == data);
}
