//! Key fingerprints: 32 bytes that name a key without revealing it.
//!
//! `id_key = PBKDF2-HMAC-SHA256(password = key, salt = "_id_key",
//! 10 iterations, 32 bytes)`, then `fingerprint = SHA-256(SHA-256(
//! "Proxmox Backup Encryption Key Fingerprint") || id_key)`: the reference
//! design's derivation, so a key imported from its paper keys keeps the
//! fingerprint its users know. Written as 32 lower-case hex pairs joined by
//! `:`; the short form is the first 8 bytes.

use std::fmt;

use openssl::hash::MessageDigest;

use super::crypto::PlainKey;
use super::KeyError;

/// Salt of the fingerprint's identification key.
const ID_KEY_SALT: &[u8] = b"_id_key";
/// Iterations of the identification key derivation.
const ID_KEY_ITERATIONS: usize = 10;
/// Text hashed into the fingerprint input.
const FINGERPRINT_INPUT: &[u8] = b"Proxmox Backup Encryption Key Fingerprint";
/// Bytes of the short form.
pub const SHORT_LEN: usize = 8;

/// The fingerprint of a tape encryption key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `key`.
    pub fn of_key(key: &PlainKey) -> Result<Fingerprint, KeyError> {
        let mut id_key = zeroize::Zeroizing::new([0u8; 32]);
        openssl::pkcs5::pbkdf2_hmac(
            key.as_bytes(),
            ID_KEY_SALT,
            ID_KEY_ITERATIONS,
            MessageDigest::sha256(),
            &mut id_key[..],
        )?;
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(&openssl::sha::sha256(FINGERPRINT_INPUT));
        hasher.update(&id_key[..]);
        Ok(Fingerprint(hasher.finish()))
    }

    /// The 32 bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The short form: the first 8 bytes, colon-separated.
    pub fn short(&self) -> String {
        colon_hex(&self.0[..SHORT_LEN])
    }

    /// True when `text` (full or short form, with or without colons,
    /// at least the 8 bytes of the short form) names this fingerprint.
    pub fn matches(&self, text: &str) -> bool {
        match parse_hex(text) {
            Some(bytes) if bytes.len() >= SHORT_LEN && bytes.len() <= 32 => {
                self.0.starts_with(&bytes)
            }
            _ => false,
        }
    }
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Hex digits (colons ignored) to bytes; `None` for anything else.
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.trim().bytes().filter(|b| *b != b':').collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&colon_hex(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.short())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = KeyError;

    /// The full form: 32 bytes of hex, colons optional.
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = parse_hex(s).ok_or_else(|| KeyError::InvalidFingerprint(s.to_string()))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::InvalidFingerprint(s.to_string()))?;
        Ok(Fingerprint(array))
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_of_a_known_key() {
        // Computed independently (python: hashlib.pbkdf2_hmac and sha256).
        let key = PlainKey::from_bytes([0u8; 32]);
        let fp = Fingerprint::of_key(&key).unwrap();
        let text = fp.to_string();
        assert_eq!(
            text,
            "6f:10:a0:83:b8:9e:37:06:a0:b8:ce:ca:cc:12:0e:9f:\
             40:6e:49:37:e8:60:0d:78:6d:42:0d:38:fb:67:de:7a"
        );
        assert_eq!(text.len(), 95);
        assert_eq!(text.matches(':').count(), 31);
        assert_eq!(fp.short().len(), 23);
        assert!(text.starts_with(&fp.short()));
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(text.replace(':', "").parse::<Fingerprint>().unwrap(), fp);
        assert!(fp.matches(&fp.short()));
        assert!(fp.matches(&text));
        assert!(!fp.matches("00:11"));
        assert!(!fp.matches("zz"));
        let other = Fingerprint::of_key(&PlainKey::from_bytes([1u8; 32])).unwrap();
        assert_ne!(fp, other);
    }

    #[test]
    fn bad_fingerprints_are_refused() {
        for bad in ["", "00", "g0", &"0".repeat(63), &"0".repeat(66)] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad:?}");
        }
    }
}
