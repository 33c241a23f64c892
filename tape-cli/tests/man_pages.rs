//! The man pages under docs/man are what the binaries generate today:
//! regenerate them with `BIN man docs/man` after changing a command line.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn checked_in_man_pages_match_the_clap_definitions() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/man");
    for bin in ["pmt", "pmtx", "ptape", "tape-emu"] {
        let dir = tempfile::tempdir().unwrap();
        Command::cargo_bin(bin)
            .unwrap()
            .arg("man")
            .arg(dir.path())
            .assert()
            .success();
        let mut pages = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_owned();
            let fresh = std::fs::read_to_string(&path).unwrap();
            let checked_in = std::fs::read_to_string(docs.join(&name)).unwrap_or_else(|_| {
                panic!(
                    "docs/man/{} is missing: run `{bin} man docs/man`",
                    name.to_string_lossy()
                )
            });
            assert_eq!(
                fresh,
                checked_in,
                "docs/man/{} is stale: run `{bin} man docs/man`",
                name.to_string_lossy()
            );
            pages += 1;
        }
        assert!(pages > 1, "{bin} wrote {pages} man pages");
    }
}
