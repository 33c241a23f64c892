//! `pmt decode-sense`: sense bytes from the command line or standard
//! input, fixed and descriptor format, table and JSON; bad input is a clear
//! error (exit 1).

mod pmt_util;

use pmt_util::{pmt, run_fails, run_json, run_stdout};

#[test]
fn fixed_format_illegal_request_as_table_and_json() {
    let bytes = "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 cc 00 01";
    let mut cmd = pmt();
    cmd.arg("decode-sense").args(bytes.split(' '));
    let text = run_stdout(cmd);
    assert!(text.contains("ILLEGAL REQUEST"), "{text}");
    assert!(text.contains("24/00 invalid field in CDB"), "{text}");
    assert!(text.contains("CDB byte 1 bit 4"), "{text}");
    let mut cmd = pmt();
    cmd.args(["decode-sense", "700005000000000a00000000240000cc0001"]);
    let v = run_json(cmd, &["decode-sense"]);
    assert_eq!(v["format"], "fixed");
    assert_eq!(v["sense_key"]["name"], "ILLEGAL REQUEST");
    assert_eq!(v["asc"], 0x24);
    assert_eq!(v["sense_key_specific"]["kind"], "field_pointer");
    assert_eq!(v["sense_key_specific"]["byte"], 1);
    assert_eq!(v["sense_key_specific"]["bit"], 4);
}

#[test]
fn tape_residue_deferred_errors_and_descriptor_format_from_stdin() {
    // NO SENSE, ILI, VALID, INFORMATION 0x0007ff5e = 524126 (short block)
    let mut cmd = pmt();
    cmd.args([
        "decode-sense",
        "f0:00:20:00:07:ff:5e:0a:00:00:00:00:00:00:00:00:00:00",
    ]);
    let v = run_json(cmd, &["decode-sense"]);
    assert_eq!(v["ili"], true);
    assert_eq!(v["information_signed"], 524126);
    assert!(v["notes"][0]
        .as_str()
        .unwrap()
        .contains("524126 bytes shorter"));
    // Deferred MEDIUM ERROR 03/0C00 in descriptor format with an
    // information descriptor, given on standard input.
    let mut cmd = pmt();
    cmd.args(["decode-sense", "-", "--output-format", "json"])
        .write_stdin("73 03 0c 00 00 00 00 0c\n00 0a 80 00 00 00 00 00 00 00 04 d2\n");
    let v: serde_json::Value = serde_json::from_str(&run_stdout(cmd)).unwrap();
    assert_eq!(v["format"], "descriptor");
    assert_eq!(v["deferred"], true);
    assert_eq!(v["information"], 1234);
    assert_eq!(v["asc_text"], "write error");
    assert_eq!(v["descriptors"][0]["name"], "information");
}

#[test]
fn input_that_is_not_sense_data_is_a_clear_error() {
    let mut cmd = pmt();
    cmd.args(["decode-sense", "70", "zz"]);
    let err = run_fails(cmd);
    assert!(err.contains("'zz' is not hexadecimal"), "{err}");
    let mut cmd = pmt();
    cmd.args(["decode-sense", "12", "00", "00"]);
    let err = run_fails(cmd);
    assert!(err.contains("response code 70h-73h"), "{err}");
    let mut cmd = pmt();
    cmd.args(["decode-sense", "700"]);
    let err = run_fails(cmd);
    assert!(err.contains("odd number of hex digits"), "{err}");
}
