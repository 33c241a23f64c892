//! Captured byte strings under tests/data/: `.hex` files with `#` comment
//! lines, then hex bytes separated by whitespace.

use std::path::PathBuf;

/// The bytes of `tests/data/<dir>/<name>`; panics (failing the test) when
/// the file is missing or holds something other than hex bytes.
pub fn read(dir: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|e| panic!("hex byte {h:?}: {e}")))
        .collect()
}
