//! Key material and the cryptography around it (all through OpenSSL):
//! random keys, passphrase key derivation (scrypt or PBKDF2), wrapping with
//! AES-256-GCM, and the per-media-set drive key.
//!
//! Every buffer that holds a plain key, a derived key or a passphrase is
//! zeroed when dropped, and none of them prints its contents (`Debug`
//! says `<redacted>`).

use std::fmt;

use openssl::hash::MessageDigest;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use pbs_tape::format::{KdfParams, KeyConfig};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Fingerprint, KeyError};

/// Length of a tape key (AES-256).
pub const KEY_LEN: usize = 32;
/// Shortest passphrase accepted.
pub const MIN_PASSPHRASE_LEN: usize = 5;
/// Length of the random salt of a passphrase key derivation.
const SALT_LEN: usize = 32;
/// IV length of the wrapped key.
const WRAP_IV_LEN: usize = 16;
/// GCM tag length of the wrapped key.
const WRAP_TAG_LEN: usize = 16;
/// scrypt cost parameters (64 MiB of memory, a fraction of a second).
const SCRYPT_N: u64 = 65536;
const SCRYPT_R: u64 = 8;
const SCRYPT_P: u64 = 1;
/// Memory limit handed to OpenSSL's scrypt (also bounds parameters read
/// from a key file or a tape).
const SCRYPT_MAX_MEM: u64 = 1025 * 1024 * 1024;
/// PBKDF2-HMAC-SHA256 iterations of a new key.
const PBKDF2_ITERATIONS: u32 = 65535;
/// Largest PBKDF2 iteration count accepted from a key file or tape.
const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
/// Iterations of the per-media-set drive key derivation.
const DRIVE_KEY_ITERATIONS: usize = 10;

/// A plain 256-bit tape key.
#[derive(Clone)]
pub struct PlainKey(Zeroizing<[u8; KEY_LEN]>);

impl PlainKey {
    /// A new random key (OpenSSL's CSPRNG).
    pub fn generate() -> Result<PlainKey, KeyError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        openssl::rand::rand_bytes(&mut key[..])?;
        Ok(PlainKey(key))
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> PlainKey {
        PlainKey(Zeroizing::new(bytes))
    }

    /// From a slice that must be exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<PlainKey> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return None;
        }
        key.copy_from_slice(bytes);
        Some(PlainKey(key))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key given to the drive for media set `set`:
    /// PBKDF2-HMAC-SHA256(password = this key, salt = the set's 16 UUID
    /// bytes, 10 iterations, 32 bytes). Each media set gets its own AES key.
    pub fn drive_key(&self, set: &Uuid) -> Result<DriveKey, KeyError> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        openssl::pkcs5::pbkdf2_hmac(
            &self.0[..],
            set.as_bytes(),
            DRIVE_KEY_ITERATIONS,
            MessageDigest::sha256(),
            &mut out[..],
        )?;
        Ok(DriveKey(out))
    }
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainKey(<redacted>)")
    }
}

/// The AES-256 key loaded into a drive for one media set.
pub struct DriveKey(Zeroizing<[u8; KEY_LEN]>);

impl DriveKey {
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DriveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DriveKey(<redacted>)")
    }
}

/// A passphrase, at least [`MIN_PASSPHRASE_LEN`] characters.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Checks the length; one trailing newline (as files and pipes end)
    /// is not part of the passphrase.
    pub fn new(text: Zeroizing<String>) -> Result<Passphrase, KeyError> {
        let mut text = text;
        for end in ["\r\n", "\n"] {
            if text.ends_with(end) {
                let keep = text.len() - end.len();
                text.truncate(keep);
                break;
            }
        }
        if text.chars().count() < MIN_PASSPHRASE_LEN {
            return Err(KeyError::PassphraseTooShort);
        }
        Ok(Passphrase(text))
    }

    /// The first line of file `path`.
    pub fn from_file(path: &std::path::Path) -> Result<Passphrase, KeyError> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| KeyError::PassphraseFile(path.to_path_buf()))?;
        let line = text.split('\n').next().unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        Passphrase::new(Zeroizing::new(line.to_string()))
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl PartialEq for Passphrase {
    /// Constant-time comparison.
    fn eq(&self, other: &Passphrase) -> bool {
        self.0.len() == other.0.len() && openssl::memcmp::eq(self.as_bytes(), other.as_bytes())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// The passphrase key derivation of a new wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// Stored unwrapped (for automation; no passphrase).
    None,
    /// scrypt, the default.
    Scrypt,
    /// PBKDF2-HMAC-SHA256.
    Pbkdf2,
}

impl Kdf {
    pub fn name(self) -> &'static str {
        match self {
            Kdf::None => "none",
            Kdf::Scrypt => "scrypt",
            Kdf::Pbkdf2 => "pbkdf2",
        }
    }

    /// Fresh parameters with a random salt (`None` for [`Kdf::None`]).
    fn new_params(self) -> Result<Option<KdfParams>, KeyError> {
        let mut salt = [0u8; SALT_LEN];
        openssl::rand::rand_bytes(&mut salt)?;
        let salt = openssl::base64::encode_block(&salt);
        Ok(match self {
            Kdf::None => None,
            Kdf::Scrypt => Some(KdfParams::Scrypt {
                n: SCRYPT_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
                salt,
            }),
            Kdf::Pbkdf2 => Some(KdfParams::Pbkdf2 {
                iter: PBKDF2_ITERATIONS,
                salt,
            }),
        })
    }
}

impl std::str::FromStr for Kdf {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Kdf, KeyError> {
        match s {
            "none" => Ok(Kdf::None),
            "scrypt" => Ok(Kdf::Scrypt),
            "pbkdf2" => Ok(Kdf::Pbkdf2),
            _ => Err(KeyError::InvalidKdf(s.to_string())),
        }
    }
}

impl fmt::Display for Kdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn decode_base64(text: &str, what: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    openssl::base64::decode_block(text)
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Corrupt(format!("{what} is not valid base64")))
}

/// The wrapping key derived from `passphrase` with `params`.
fn wrapping_key(
    params: &KdfParams,
    passphrase: &Passphrase,
) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    match params {
        KdfParams::Scrypt { n, r, p, salt } => {
            let salt = decode_base64(salt, "the scrypt salt")?;
            // Bound what a key file or tape may ask for (memory 128*r*n).
            let mem = 128u64.saturating_mul(*r).saturating_mul(*n);
            if mem > SCRYPT_MAX_MEM || *p == 0 || *p > 16 || !n.is_power_of_two() || *n < 2 {
                return Err(KeyError::Corrupt(format!(
                    "scrypt parameters n={n} r={r} p={p} are out of range"
                )));
            }
            openssl::pkcs5::scrypt(
                passphrase.as_bytes(),
                &salt,
                *n,
                *r,
                *p,
                SCRYPT_MAX_MEM,
                &mut key[..],
            )?;
        }
        KdfParams::Pbkdf2 { iter, salt } => {
            let salt = decode_base64(salt, "the PBKDF2 salt")?;
            if *iter == 0 || *iter > PBKDF2_MAX_ITERATIONS {
                return Err(KeyError::Corrupt(format!(
                    "PBKDF2 iteration count {iter} is out of range"
                )));
            }
            openssl::pkcs5::pbkdf2_hmac(
                passphrase.as_bytes(),
                &salt,
                *iter as usize,
                MessageDigest::sha256(),
                &mut key[..],
            )?;
        }
    }
    Ok(key)
}

/// A wrapped key: the KDF parameters and base64 `IV || tag || ciphertext`.
pub(crate) struct Wrapped {
    pub kdf: KdfParams,
    pub data: String,
}

/// Wraps `key` with a key derived from `passphrase` (`kdf` must not be
/// [`Kdf::None`]).
pub(crate) fn wrap(key: &PlainKey, kdf: Kdf, passphrase: &Passphrase) -> Result<Wrapped, KeyError> {
    let params = kdf
        .new_params()?
        .ok_or(KeyError::InvalidKdf("none".into()))?;
    let wrapping = wrapping_key(&params, passphrase)?;
    let mut iv = [0u8; WRAP_IV_LEN];
    openssl::rand::rand_bytes(&mut iv)?;
    let mut tag = [0u8; WRAP_TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        &wrapping[..],
        Some(&iv),
        &[],
        key.as_bytes(),
        &mut tag,
    )?;
    let mut data = Vec::with_capacity(WRAP_IV_LEN + WRAP_TAG_LEN + ciphertext.len());
    data.extend_from_slice(&iv);
    data.extend_from_slice(&tag);
    data.extend_from_slice(&ciphertext);
    Ok(Wrapped {
        kdf: params,
        data: openssl::base64::encode_block(&data),
    })
}

/// Unwraps `data` (base64 `IV || tag || ciphertext`) with `passphrase`.
/// `None` when the passphrase is wrong (the GCM tag does not verify).
pub(crate) fn unwrap(
    kdf: &KdfParams,
    data: &str,
    passphrase: &Passphrase,
) -> Result<Option<PlainKey>, KeyError> {
    let bytes = decode_base64(data, "the wrapped key")?;
    if bytes.len() != WRAP_IV_LEN + WRAP_TAG_LEN + KEY_LEN {
        return Err(KeyError::Corrupt(format!(
            "the wrapped key is {} bytes, expected {}",
            bytes.len(),
            WRAP_IV_LEN + WRAP_TAG_LEN + KEY_LEN
        )));
    }
    let wrapping = wrapping_key(kdf, passphrase)?;
    let (iv, rest) = bytes.split_at(WRAP_IV_LEN);
    let (tag, ciphertext) = rest.split_at(WRAP_TAG_LEN);
    match decrypt_aead(
        Cipher::aes_256_gcm(),
        &wrapping[..],
        Some(iv),
        &[],
        ciphertext,
        tag,
    ) {
        Ok(plain) => {
            let plain = Zeroizing::new(plain);
            Ok(PlainKey::from_slice(&plain))
        }
        Err(_) => Ok(None),
    }
}

/// Unwraps a key config with `passphrase` and checks that the key has the
/// fingerprint the config names.
pub fn unwrap_key_config(
    config: &KeyConfig,
    passphrase: &Passphrase,
) -> Result<(PlainKey, Fingerprint), KeyError> {
    let hint = config.hint.clone();
    let Some(key) = unwrap(&config.kdf, &config.data, passphrase)? else {
        return Err(KeyError::WrongPassphrase {
            fingerprint: config.fingerprint.clone().unwrap_or_default(),
            hint,
        });
    };
    let fingerprint = Fingerprint::of_key(&key)?;
    if let Some(stated) = &config.fingerprint {
        let stated: Fingerprint = stated.parse()?;
        if stated != fingerprint {
            return Err(KeyError::Corrupt(format!(
                "the key config names fingerprint {stated}, but its key has {fingerprint}"
            )));
        }
    }
    Ok((key, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(Zeroizing::new(s.to_string())).unwrap()
    }

    #[test]
    fn wrap_and_unwrap_with_both_kdfs() {
        let key = PlainKey::generate().unwrap();
        for kdf in [Kdf::Scrypt, Kdf::Pbkdf2] {
            let w = wrap(&key, kdf, &pass("correct horse")).unwrap();
            assert_eq!(w.kdf.name(), kdf.name());
            let back = unwrap(&w.kdf, &w.data, &pass("correct horse"))
                .unwrap()
                .unwrap();
            assert_eq!(back.as_bytes(), key.as_bytes());
            assert!(unwrap(&w.kdf, &w.data, &pass("wrong horse"))
                .unwrap()
                .is_none());
            // The wrapped form never contains the key.
            let raw = openssl::base64::decode_block(&w.data).unwrap();
            assert!(!raw.windows(KEY_LEN).any(|win| win == key.as_bytes()));
        }
        assert!(wrap(&key, Kdf::None, &pass("12345")).is_err());
    }

    #[test]
    fn passphrases_shorter_than_five_are_refused() {
        assert!(matches!(
            Passphrase::new(Zeroizing::new("1234".into())),
            Err(KeyError::PassphraseTooShort)
        ));
        // A trailing newline does not count.
        assert!(Passphrase::new(Zeroizing::new("1234\n".into())).is_err());
        assert!(Passphrase::new(Zeroizing::new("12345\n".into())).is_ok());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p");
        std::fs::write(&file, "12345\r\nsecond line\n").unwrap();
        let from_file = Passphrase::from_file(&file).unwrap();
        assert!(from_file == Passphrase::new(Zeroizing::new("12345".into())).unwrap());
    }

    #[test]
    fn drive_key_depends_on_the_media_set() {
        let key = PlainKey::from_bytes(std::array::from_fn(|i| i as u8));
        let set: Uuid = "00112233-4455-6677-8899-aabbccddeeff".parse().unwrap();
        // Computed independently (python hashlib.pbkdf2_hmac).
        assert_eq!(
            pbs_tape::format::hex(key.drive_key(&set).unwrap().as_bytes()),
            "4bca5067f786d57691cc3c2487c10bc85c353a88b9e6316e20983c0a4b8a1d7c"
        );
        let other = key.drive_key(&Uuid::new_v4()).unwrap();
        assert_ne!(other.as_bytes(), key.drive_key(&set).unwrap().as_bytes());
        assert_eq!(format!("{key:?}"), "PlainKey(<redacted>)");
    }

    #[test]
    fn hostile_kdf_parameters_are_refused() {
        let p = pass("hello world");
        let salt = openssl::base64::encode_block(&[0u8; 32]);
        let data = openssl::base64::encode_block(&[0u8; 64]);
        for kdf in [
            KdfParams::Scrypt {
                n: 1 << 30,
                r: 8,
                p: 1,
                salt: salt.clone(),
            },
            KdfParams::Scrypt {
                n: 1000,
                r: 8,
                p: 1,
                salt: salt.clone(),
            },
            KdfParams::Pbkdf2 { iter: 0, salt },
        ] {
            assert!(matches!(unwrap(&kdf, &data, &p), Err(KeyError::Corrupt(_))));
        }
    }
}
