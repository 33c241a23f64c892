//! Getting plain keys for jobs: a [`KeyRing`] opens keys of the store as a
//! job needs them, with passphrases from a [`PassphraseSource`], and keeps
//! the opened keys (zeroized on drop) for the rest of the job.
//!
//! The scheduler names a passphrase file in its configuration and uses
//! [`KeyRing::with_passphrase_file`] (or [`unlock_with_passphrase_file`]
//! for a single key).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pbs_tape::format::KeyConfig;
use zeroize::Zeroizing;

use super::crypto::{Passphrase, PlainKey};
use super::store::KeyStore;
use super::{Fingerprint, KeyError};

/// Environment variable that may hold the passphrase (for scripts).
pub const PASSPHRASE_ENV: &str = "PTAPE_PASSPHRASE";

/// A callback that asks for the passphrase of a key (fingerprint, hint).
pub type AskPassphrase =
    Box<dyn FnMut(&Fingerprint, Option<&str>) -> Result<Passphrase, KeyError> + Send>;

/// Where passphrases come from.
pub enum PassphraseSource {
    /// Nowhere: only keys with an unwrapped copy open.
    None,
    /// The first line of this file, read when needed.
    File(PathBuf),
    /// This passphrase.
    Given(Passphrase),
    /// Asked (e.g. on the terminal).
    Ask(AskPassphrase),
}

impl std::fmt::Debug for PassphraseSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassphraseSource::None => f.write_str("None"),
            PassphraseSource::File(p) => write!(f, "File({})", p.display()),
            PassphraseSource::Given(_) => f.write_str("Given(<redacted>)"),
            PassphraseSource::Ask(_) => f.write_str("Ask"),
        }
    }
}

impl PassphraseSource {
    /// `$PTAPE_PASSPHRASE` when set (an error when it is too short).
    pub fn from_env() -> Result<Option<PassphraseSource>, KeyError> {
        match std::env::var(PASSPHRASE_ENV) {
            Ok(value) => Ok(Some(PassphraseSource::Given(Passphrase::new(
                Zeroizing::new(value),
            )?))),
            Err(_) => Ok(None),
        }
    }

    /// The passphrase for key `fp`, `None` when this source has none.
    pub fn passphrase(
        &mut self,
        fp: &Fingerprint,
        hint: Option<&str>,
    ) -> Result<Option<Passphrase>, KeyError> {
        match self {
            PassphraseSource::None => Ok(None),
            PassphraseSource::File(path) => Passphrase::from_file(path).map(Some),
            PassphraseSource::Given(p) => Ok(Some(p.clone())),
            PassphraseSource::Ask(ask) => ask(fp, hint).map(Some),
        }
    }
}

/// Keys opened for a job.
#[derive(Debug)]
pub struct KeyRing {
    store: KeyStore,
    source: PassphraseSource,
    opened: HashMap<Fingerprint, PlainKey>,
}

impl KeyRing {
    pub fn new(store: KeyStore, source: PassphraseSource) -> KeyRing {
        KeyRing {
            store,
            source,
            opened: HashMap::new(),
        }
    }

    /// The default key store, passphrases from file `path` (the scheduler).
    pub fn with_passphrase_file(path: &Path) -> Result<KeyRing, KeyError> {
        Ok(KeyRing::new(
            KeyStore::open_default()?,
            PassphraseSource::File(path.to_path_buf()),
        ))
    }

    /// The key store.
    pub fn store(&self) -> &KeyStore {
        &self.store
    }

    /// True when key `fp` is in the store.
    pub fn contains(&self, fp: &Fingerprint) -> Result<bool, KeyError> {
        Ok(self.opened.contains_key(fp) || self.store.get(fp)?.is_some())
    }

    /// The plain key `fp`, opened once per ring.
    pub fn key(&mut self, fp: &Fingerprint) -> Result<PlainKey, KeyError> {
        if let Some(key) = self.opened.get(fp) {
            return Ok(key.clone());
        }
        let info = self
            .store
            .get(fp)?
            .ok_or_else(|| KeyError::UnknownKey(fp.to_string()))?;
        let key = if info.unwrapped_copy {
            self.store.unlock(fp, None)?
        } else {
            let passphrase = self.source.passphrase(fp, info.hint.as_deref())?;
            self.store.unlock(fp, passphrase.as_ref())?
        };
        self.opened.insert(*fp, key.clone());
        Ok(key)
    }

    /// The passphrase-wrapped form of key `fp`.
    pub fn key_config(&self, fp: &Fingerprint) -> Result<KeyConfig, KeyError> {
        self.store.key_config(fp)
    }
}

/// Opens key `fp` of the default store with the passphrase in file `path`
/// (for the scheduler).
pub fn unlock_with_passphrase_file(fp: &Fingerprint, path: &Path) -> Result<PlainKey, KeyError> {
    KeyRing::with_passphrase_file(path)?.key(fp)
}
