//! The passphrase-wrapped form of a tape encryption key, as the media set
//! label (tape file 1), paper keys and key files carry it.
//!
//! The JSON layout is the reference design's key config (so its paper keys
//! can be read back): `kdf` names the passphrase key derivation and its
//! parameters, `data` is base64 of `IV (16 bytes) || GCM tag (16 bytes) ||
//! AES-256-GCM ciphertext of the 32-byte key`, encrypted with the
//! passphrase-derived key and no additional authenticated data. This module
//! only holds the layout; deriving, wrapping and unwrapping live in
//! `ptape::keys`. It never holds a plain key.

use serde::{Deserialize, Serialize};

/// How the wrapping key is derived from the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KdfParams {
    /// scrypt (RFC 7914) with cost `n`, block size `r`, parallelism `p`.
    #[serde(rename = "Scrypt")]
    Scrypt {
        n: u64,
        r: u64,
        p: u64,
        /// Base64 of the random salt.
        salt: String,
    },
    /// PBKDF2-HMAC-SHA256 (RFC 8018) with `iter` iterations.
    #[serde(rename = "PBKDF2")]
    Pbkdf2 {
        iter: u32,
        /// Base64 of the random salt.
        salt: String,
    },
}

impl KdfParams {
    /// `scrypt` or `pbkdf2`.
    pub fn name(&self) -> &'static str {
        match self {
            KdfParams::Scrypt { .. } => "scrypt",
            KdfParams::Pbkdf2 { .. } => "pbkdf2",
        }
    }
}

/// A passphrase-wrapped tape encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyConfig {
    /// The passphrase key derivation. Always set for a wrapped key.
    pub kdf: KdfParams,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Last change (of the passphrase), RFC 3339.
    pub modified: String,
    /// Base64 of IV || tag || ciphertext.
    pub data: String,
    /// Fingerprint of the key (32 bytes, colon-separated hex).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The passphrase hint.
    #[serde(default)]
    pub hint: Option<String>,
}
