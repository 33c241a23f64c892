//! Shared helpers of the information pages: field readers and writers
//! (big-endian integers of any width, space-padded ASCII fields, hex) and
//! decode errors made by pure decoders, which the command functions
//! complete with the device name.

use super::DriveError;

/// A decode error without device (the command function fills it in, see
/// [`with_device`]).
pub(crate) fn decode_error(what: &'static str, message: impl Into<String>) -> DriveError {
    DriveError::Decode {
        what,
        device: String::new(),
        message: message.into(),
    }
}

/// Fill in the device name of a [`DriveError::Decode`] made by a pure decoder.
pub(crate) fn with_device(err: DriveError, device: &str) -> DriveError {
    match err {
        DriveError::Decode {
            what,
            device: d,
            message,
        } if d.is_empty() => DriveError::Decode {
            what,
            device: device.to_string(),
            message,
        },
        other => other,
    }
}

/// Big-endian unsigned integer of 1..=8 bytes (log parameter values and MAM
/// attributes come in several widths). `None` for empty or wider values.
pub fn be_uint(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Text of an ASCII field: trailing spaces and NULs removed.
pub fn ascii_field(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .rposition(|b| *b != b' ' && *b != 0)
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `value` as a big-endian field of `width` bytes (1..=8), saturating at
/// the largest value the width holds (counters stop, they do not wrap).
pub fn be_saturating(value: u64, width: usize) -> Vec<u8> {
    let width = width.clamp(1, 8);
    let max = if width == 8 {
        u64::MAX
    } else {
        (1u64 << (width * 8)) - 1
    };
    value.min(max).to_be_bytes()[8 - width..].to_vec()
}

/// `text` as an ASCII field of `len` bytes: cut to `len`, padded with spaces.
pub fn space_padded(text: &str, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = text.bytes().take(len).collect();
    v.resize(len, b' ');
    v
}

/// Lower-case hex of bytes (raw values kept for the user).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(be_uint(&[]), None);
        assert_eq!(be_uint(&[1; 9]), None);
        assert_eq!(be_uint(&[0x01, 0x02]), Some(0x0102));
        assert_eq!(ascii_field(b"HPE     \0\0"), "HPE");
        assert_eq!(ascii_field(b"    "), "");
        assert_eq!(to_hex(&[0xbe, 0x0f]), "be0f");
        assert_eq!(be_saturating(0x1234, 1), vec![0xff]);
        assert_eq!(be_saturating(0x1234, 4), vec![0, 0, 0x12, 0x34]);
        assert_eq!(space_padded("LTO", 5), b"LTO  ");
        assert_eq!(space_padded("LTO-CVE-X", 8), b"LTO-CVE-");
        let e = with_device(decode_error("x page", "short"), "st0");
        assert_eq!(e.to_string(), "cannot decode x page from st0: short");
    }
}
