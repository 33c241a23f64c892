//! Tape encryption keys: the key store, passphrase wrapping, fingerprints,
//! paper keys, and the per-media-set key a drive encrypts with.
//!
//! - [`store`]: `tape-keys.json` in the configuration directory (mode
//!   0600, locked while changed): each key wrapped with a passphrase
//!   (scrypt by default, or PBKDF2; AES-256-GCM) and/or unwrapped for
//!   automation (`--kdf none`).
//! - [`crypto`]: [`PlainKey`] (random 256-bit keys), [`Passphrase`],
//!   wrapping, and [`PlainKey::drive_key`]: the key loaded into the drive
//!   for a media set is PBKDF2-HMAC-SHA256 of the stored key salted with
//!   the set's UUID, so every media set has its own AES key.
//! - [`drive`]: loading a media set's key into the drive and checking the
//!   drive's state, with the vendor quirks (mixed mode refused,
//!   library-managed encryption, a key left active by someone else).
//! - [`fingerprint`]: the 32-byte [`Fingerprint`] that names a key
//!   (colon-separated hex; the short form is the first 8 bytes).
//! - [`paperkey`]: the printable backup of a wrapped key, with a QR code.
//! - [`tape`]: reading the key a tape carries ([`restore_key_from_tape`]).
//! - [`job`]: keys for the jobs that write and read encrypted media sets
//!   ([`KeyAccess`], [`SetKey`], [`ReadKeys`]).
//! - [`unlock`]: [`KeyRing`], which opens keys for a job with passphrases
//!   from a file, the environment (`PTAPE_PASSPHRASE`) or a prompt.
//!
//! Key material lives in zeroizing buffers and is never logged or printed.
//! The media set label carries the fingerprint and the wrapped key (never
//! the plain key), so a key can be recovered from a tape with its
//! passphrase (`ptape key restore`).

use std::path::PathBuf;

pub mod crypto;
pub mod drive;
pub mod fingerprint;
pub mod job;
pub mod paperkey;
pub mod store;
pub mod tape;
pub mod unlock;

pub use crypto::{unwrap_key_config, DriveKey, Kdf, Passphrase, PlainKey};
pub use drive::{DriveKeyError, HardwareEncryption, LoadedKey};
pub use fingerprint::Fingerprint;
pub use job::{KeyAccess, PassphraseOrigin, ReadKeys, SetKey};
pub use store::{Imported, KeyInfo, KeyStore};
pub use tape::{read_tape_key, restore_key_from_tape, TapeKey};
pub use unlock::{unlock_with_passphrase_file, KeyRing, PassphraseSource, PASSPHRASE_ENV};

/// Errors of key management.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid key store: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} can be read by others (mode {mode:04o}); run: chmod 600 {path}")]
    InsecureFile { path: PathBuf, mode: u32 },
    #[error("key store: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("invalid key fingerprint {0:?}: expected 32 bytes of hex, like 14:f8:79:...")]
    InvalidFingerprint(String),
    #[error("invalid KDF {0:?}: use scrypt, pbkdf2 or none")]
    InvalidKdf(String),
    #[error("invalid hint {0:?}: use 1 to 64 characters on one line")]
    InvalidHint(String),
    #[error("no tape encryption key {0} in the key store; import it with ptape key import or recover it with ptape key restore")]
    UnknownKey(String),
    #[error("{0:?} matches more than one key: give more of the fingerprint")]
    AmbiguousKey(String),
    #[error("key {0} is already in the key store")]
    AlreadyExists(String),
    #[error("the passphrase is too short: use at least 5 characters")]
    PassphraseTooShort,
    #[error("{0}: the passphrase file is not UTF-8 text")]
    PassphraseFile(PathBuf),
    #[error("wrong passphrase for key {fingerprint}{}", hint_suffix(.hint))]
    WrongPassphrase {
        fingerprint: String,
        hint: Option<String>,
    },
    #[error("key {fingerprint} needs its passphrase{}: give --passphrase-file FILE or set PTAPE_PASSPHRASE", hint_suffix(.hint))]
    NeedPassphrase {
        fingerprint: String,
        hint: Option<String>,
    },
    #[error("key {fingerprint} needs its old passphrase{}, or --force (root) to reset it from the unwrapped copy", hint_suffix(.hint))]
    NeedPassphraseOrForce {
        fingerprint: String,
        hint: Option<String>,
    },
    #[error("a new passphrase is needed (or --kdf none to store the key unwrapped)")]
    NewPassphraseMissing,
    #[error("key {0} has no passphrase-protected copy (it was stored with --kdf none); give it one with: ptape key change-passphrase {0} --kdf scrypt")]
    NoWrappedCopy(String),
    #[error("key {0} has no unwrapped copy, so --force cannot reset its passphrase: give the old passphrase")]
    NoUnwrappedCopy(String),
    #[error("--force resets a passphrase without the old one and is for root only")]
    ForceNeedsRoot,
    #[error("key {fingerprint} is used by pool(s) {}; change their key first, or remove it anyway with --force (tapes written with it can then only be read after importing it again)", .pools.join(", "))]
    InUse {
        fingerprint: String,
        pools: Vec<String>,
    },
    #[error(transparent)]
    Tape(Box<crate::reading::TapeAccessError>),
    #[error("the tape in the drive is blank (no media label)")]
    BlankTape,
    #[error("tape {0} belongs to no media set (no media set label)")]
    NoMediaSet(String),
    #[error("tape {label} of media set {media_set} is not encrypted: it carries no key")]
    NotEncrypted {
        label: String,
        media_set: uuid::Uuid,
    },
    #[error("media does not contain any encryption key configuration: tape {label} names key {fingerprint} but carries no wrapped copy of it")]
    NoKeyConfigOnTape { label: String, fingerprint: String },
    #[error("tape {label} of media set {media_set} is encrypted with key {fingerprint}{}; import it with ptape key import or recover it with ptape key restore", hint_suffix(.hint))]
    MissingTapeKey {
        label: String,
        media_set: uuid::Uuid,
        fingerprint: String,
        hint: Option<String>,
    },
    #[error(transparent)]
    Drive(Box<DriveKeyError>),
    #[error("paper key: {0}")]
    PaperKey(String),
    #[error("cryptography failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

/// Checks a pool's `--encrypt` value: the key (full fingerprint or its
/// short form) must be in `store`. Returns its full fingerprint, the form
/// the catalog records.
pub fn check_pool_key(store: &KeyStore, text: &str) -> Result<Fingerprint, KeyError> {
    Ok(store.find(text)?.fingerprint)
}

/// `ptape key remove`: refuses while a pool encrypts with the key, unless
/// `force`.
pub fn remove_key(
    store: &KeyStore,
    catalog: &crate::catalog::Catalog,
    fingerprint: &Fingerprint,
    force: bool,
) -> Result<KeyInfo, KeyError> {
    let pools = catalog.pools_using_key(&fingerprint.to_string())?;
    if !pools.is_empty() && !force {
        return Err(KeyError::InUse {
            fingerprint: fingerprint.to_string(),
            pools,
        });
    }
    store.remove(fingerprint)
}

impl From<DriveKeyError> for KeyError {
    fn from(e: DriveKeyError) -> Self {
        KeyError::Drive(Box::new(e))
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" (hint: {h})"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
