//! The key store: `tape-keys.json` in the configuration directory.
//!
//! A JSON array, one object per key: `fingerprint`, `hint`, `created`,
//! `modified` (RFC 3339), the passphrase-wrapped copy (`kdf`, `data`, as in
//! [`KeyConfig`]) and, for keys meant for automation, an `unwrapped` copy
//! (64 hex digits). A key has at least one of the two copies.
//!
//! The file and its lock `.tape-keys.lck` are mode 0600 (a store that
//! others can read is refused); the directory is created 0700. Every change
//! takes the lock, reads the file, changes it and replaces it atomically
//! (temporary file, fsync, rename, fsync of the directory).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use pbs_tape::format::{KdfParams, KeyConfig};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::crypto::{self, Kdf, Passphrase, PlainKey};
use super::{Fingerprint, KeyError};

/// File name of the key store inside the configuration directory.
pub const KEYS_FILE: &str = "tape-keys.json";
/// File name of its lock.
pub const LOCK_FILE: &str = ".tape-keys.lck";
/// Longest hint, characters.
pub const MAX_HINT_LEN: usize = 64;

/// One key as stored.
#[derive(Serialize, Deserialize)]
struct StoredKey {
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    created: String,
    modified: String,
    /// The passphrase key derivation of the wrapped copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kdf: Option<KdfParams>,
    /// The wrapped copy (base64 IV || tag || ciphertext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<String>,
    /// The unwrapped copy, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unwrapped: Option<String>,
}

impl Drop for StoredKey {
    fn drop(&mut self) {
        self.unwrapped.zeroize();
    }
}

impl StoredKey {
    fn fingerprint(&self) -> Result<Fingerprint, KeyError> {
        self.fingerprint.parse()
    }

    fn wrapped(&self) -> Option<(&KdfParams, &str)> {
        match (&self.kdf, &self.data) {
            (Some(kdf), Some(data)) => Some((kdf, data.as_str())),
            _ => None,
        }
    }

    fn unwrapped_key(&self) -> Result<Option<PlainKey>, KeyError> {
        let Some(hex) = &self.unwrapped else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(
            pbs_tape::drive::encryption::parse_key_file(hex.as_bytes()).map_err(|_| {
                KeyError::Corrupt(format!(
                    "the unwrapped copy of key {} is not 64 hex digits",
                    self.fingerprint
                ))
            })?,
        );
        Ok(Some(PlainKey::from_bytes(*bytes)))
    }

    fn info(&self) -> Result<KeyInfo, KeyError> {
        Ok(KeyInfo {
            fingerprint: self.fingerprint()?,
            hint: self.hint.clone(),
            kdf: self.kdf.as_ref().map_or("none", KdfParams::name),
            created: self.created.clone(),
            modified: self.modified.clone(),
            unwrapped_copy: self.unwrapped.is_some(),
        })
    }

    fn key_config(&self) -> Option<KeyConfig> {
        let (kdf, data) = self.wrapped()?;
        Some(KeyConfig {
            kdf: kdf.clone(),
            created: self.created.clone(),
            modified: self.modified.clone(),
            data: data.to_string(),
            fingerprint: Some(self.fingerprint.clone()),
            hint: self.hint.clone(),
        })
    }
}

/// What `ptape key list|show` tells about a key (never key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub fingerprint: Fingerprint,
    pub hint: Option<String>,
    /// `scrypt`, `pbkdf2`, or `none` (no passphrase-protected copy).
    pub kdf: &'static str,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339.
    pub modified: String,
    /// An unwrapped copy is stored (for automation).
    #[serde(skip)]
    pub unwrapped_copy: bool,
}

/// What [`KeyStore::import`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Added,
    /// The key was already in the store (nothing changed).
    AlreadyPresent,
}

/// The key store in one directory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

/// The current time, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks a hint: 1 to 64 characters, one line.
pub fn validate_hint(hint: &str) -> Result<(), KeyError> {
    let n = hint.chars().count();
    if n == 0 || n > MAX_HINT_LEN || hint.chars().any(char::is_control) {
        return Err(KeyError::InvalidHint(hint.to_string()));
    }
    Ok(())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

impl KeyStore {
    /// The store in `dir`.
    pub fn at(dir: &Path) -> KeyStore {
        KeyStore {
            dir: dir.to_path_buf(),
        }
    }

    /// The store in the configuration directory.
    pub fn open_default() -> Result<KeyStore, KeyError> {
        Ok(KeyStore::at(&crate::config::config_dir()?))
    }

    /// Path of `tape-keys.json`.
    pub fn path(&self) -> PathBuf {
        self.dir.join(KEYS_FILE)
    }

    fn lock(&self) -> Result<Flock<File>, KeyError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(io_err(&self.dir))?;
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_err(&path))?;
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| KeyError::Io {
            path,
            source: errno.into(),
        })
    }

    fn load(&self) -> Result<Vec<StoredKey>, KeyError> {
        let path = self.path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mode = file.metadata().map_err(io_err(&path))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecureFile {
                path,
                mode: mode & 0o777,
            });
        }
        let text = Zeroizing::new(std::fs::read(&path).map_err(io_err(&path))?);
        let keys: Vec<StoredKey> =
            serde_json::from_slice(&text).map_err(|source| KeyError::Json {
                path: path.clone(),
                source,
            })?;
        let mut seen = std::collections::HashSet::new();
        for k in &keys {
            let fp = k.fingerprint().map_err(|_| {
                KeyError::Corrupt(format!(
                    "{}: invalid fingerprint {:?}",
                    path.display(),
                    k.fingerprint
                ))
            })?;
            if !seen.insert(fp) {
                return Err(KeyError::Corrupt(format!(
                    "{}: key {fp} is listed twice",
                    path.display()
                )));
            }
            if let Some(key) = k.unwrapped_key()? {
                let actual = Fingerprint::of_key(&key)?;
                if actual != fp {
                    return Err(KeyError::Corrupt(format!(
                        "{}: the unwrapped copy of key {fp} has fingerprint {actual}",
                        path.display()
                    )));
                }
            }
            if k.wrapped().is_none() && k.unwrapped.is_none() {
                return Err(KeyError::Corrupt(format!(
                    "{}: key {fp} has neither a wrapped nor an unwrapped copy",
                    path.display()
                )));
            }
        }
        Ok(keys)
    }

    fn save(&self, keys: &[StoredKey]) -> Result<(), KeyError> {
        let path = self.path();
        let tmp = self.dir.join(format!("{KEYS_FILE}.tmp"));
        let text =
            Zeroizing::new(
                serde_json::to_vec_pretty(keys).map_err(|source| KeyError::Json {
                    path: path.clone(),
                    source,
                })?,
            );
        let _ = std::fs::remove_file(&tmp);
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        file.write_all(&text).map_err(io_err(&tmp))?;
        file.sync_all().map_err(io_err(&tmp))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))
    }

    /// Loads under the lock, lets `change` edit, saves.
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut Vec<StoredKey>) -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let _lock = self.lock()?;
        let mut keys = self.load()?;
        let out = change(&mut keys)?;
        self.save(&keys)?;
        Ok(out)
    }

    /// Every key, in creation order.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeyError> {
        self.load()?.iter().map(StoredKey::info).collect()
    }

    /// The key named by `text`: a full fingerprint or its short form
    /// (any unique prefix of at least 8 bytes).
    pub fn find(&self, text: &str) -> Result<KeyInfo, KeyError> {
        let keys = self.load()?;
        find_index(&keys, text).and_then(|i| keys[i].info())
    }

    /// The key with fingerprint `fp`, if stored.
    pub fn get(&self, fp: &Fingerprint) -> Result<Option<KeyInfo>, KeyError> {
        let keys = self.load()?;
        for k in &keys {
            if k.fingerprint()? == *fp {
                return k.info().map(Some);
            }
        }
        Ok(None)
    }

    /// Creates a new random key: wrapped with `passphrase` (scrypt or
    /// PBKDF2), or stored unwrapped with [`Kdf::None`].
    pub fn create(
        &self,
        hint: &str,
        kdf: Kdf,
        passphrase: Option<&Passphrase>,
    ) -> Result<KeyInfo, KeyError> {
        self.add_key(PlainKey::generate()?, hint, kdf, passphrase)
    }

    /// Stores a given key (as [`KeyStore::create`] does a new one).
    pub fn add_key(
        &self,
        key: PlainKey,
        hint: &str,
        kdf: Kdf,
        passphrase: Option<&Passphrase>,
    ) -> Result<KeyInfo, KeyError> {
        validate_hint(hint)?;
        let fingerprint = Fingerprint::of_key(&key)?;
        let now = now_rfc3339();
        let mut stored = StoredKey {
            fingerprint: fingerprint.to_string(),
            hint: Some(hint.to_string()),
            created: now.clone(),
            modified: now,
            kdf: None,
            data: None,
            unwrapped: None,
        };
        set_protection(&mut stored, &key, kdf, passphrase)?;
        self.modify(|keys| {
            if keys.iter().any(|k| k.fingerprint == stored.fingerprint) {
                return Err(KeyError::AlreadyExists(fingerprint.to_string()));
            }
            let info = stored.info()?;
            keys.push(stored);
            Ok(info)
        })
    }

    /// The passphrase-wrapped form of key `fp` (for the media set label and
    /// paper keys).
    pub fn key_config(&self, fp: &Fingerprint) -> Result<KeyConfig, KeyError> {
        let keys = self.load()?;
        let k = &keys[index_of(&keys, fp)?];
        k.key_config()
            .ok_or_else(|| KeyError::NoWrappedCopy(fp.to_string()))
    }

    /// True when key `fp` can be used without a passphrase (it has an
    /// unwrapped copy).
    pub fn has_unwrapped_copy(&self, fp: &Fingerprint) -> Result<bool, KeyError> {
        let keys = self.load()?;
        Ok(keys[index_of(&keys, fp)?].unwrapped.is_some())
    }

    /// The plain key `fp`: its unwrapped copy, else its wrapped copy opened
    /// with `passphrase` ([`KeyError::NeedPassphrase`] without one,
    /// [`KeyError::WrongPassphrase`] with the hint for a wrong one).
    pub fn unlock(
        &self,
        fp: &Fingerprint,
        passphrase: Option<&Passphrase>,
    ) -> Result<PlainKey, KeyError> {
        let keys = self.load()?;
        let k = &keys[index_of(&keys, fp)?];
        if let Some(key) = k.unwrapped_key()? {
            return Ok(key);
        }
        let Some(passphrase) = passphrase else {
            return Err(KeyError::NeedPassphrase {
                fingerprint: fp.to_string(),
                hint: k.hint.clone(),
            });
        };
        open_wrapped(k, fp, passphrase)
    }

    /// Changes the passphrase (or the KDF) of key `fp`.
    ///
    /// The key is opened with `old` (its current passphrase). Without it:
    /// a key without passphrase (kdf none) is opened from its unwrapped
    /// copy; `force` (root only) does the same for a key that has both
    /// copies, so a forgotten passphrase can be reset. `new_kdf` none drops
    /// the wrapped copy and keeps an unwrapped one; otherwise the key is
    /// wrapped with `new` and an existing unwrapped copy stays.
    pub fn change_passphrase(
        &self,
        fp: &Fingerprint,
        old: Option<&Passphrase>,
        new_kdf: Kdf,
        new: Option<&Passphrase>,
        force: bool,
    ) -> Result<KeyInfo, KeyError> {
        if force && !is_root() {
            return Err(KeyError::ForceNeedsRoot);
        }
        self.modify(|keys| {
            let i = index_of(keys, fp)?;
            let k = &mut keys[i];
            let key = match (old, k.wrapped().is_some(), k.unwrapped_key()?) {
                (_, false, Some(key)) => key,
                (_, true, Some(key)) if force => key,
                (Some(old), true, _) => open_wrapped(k, fp, old)?,
                (None, true, unwrapped) => {
                    return Err(if unwrapped.is_some() {
                        KeyError::NeedPassphraseOrForce {
                            fingerprint: fp.to_string(),
                            hint: k.hint.clone(),
                        }
                    } else if force {
                        KeyError::NoUnwrappedCopy(fp.to_string())
                    } else {
                        KeyError::NeedPassphrase {
                            fingerprint: fp.to_string(),
                            hint: k.hint.clone(),
                        }
                    })
                }
                (_, false, None) => {
                    return Err(KeyError::Corrupt(format!("key {fp} has no copy")));
                }
            };
            let keep_unwrapped = k.unwrapped.is_some();
            set_protection(k, &key, new_kdf, new)?;
            if keep_unwrapped && k.unwrapped.is_none() {
                k.unwrapped = Some(pbs_tape::format::hex(key.as_bytes()));
            }
            k.modified = now_rfc3339();
            k.info()
        })
    }

    /// Removes key `fp` from the store (both copies). Whether a pool still
    /// uses it is the caller's check ([`super::remove_key`]).
    pub fn remove(&self, fp: &Fingerprint) -> Result<KeyInfo, KeyError> {
        self.modify(|keys| {
            let i = index_of(keys, fp)?;
            let info = keys[i].info()?;
            keys.remove(i);
            Ok(info)
        })
    }

    /// Imports a wrapped key (paper key, key file, tape): opens it with
    /// `passphrase` to prove the fingerprint, then stores the wrapped copy.
    /// A key already in the store stays as it is.
    pub fn import(
        &self,
        config: &KeyConfig,
        passphrase: &Passphrase,
    ) -> Result<(KeyInfo, Imported), KeyError> {
        let (_key, fingerprint) = crypto::unwrap_key_config(config, passphrase)?;
        if let Some(hint) = &config.hint {
            validate_hint(hint)?;
        }
        self.modify(|keys| {
            for k in keys.iter() {
                if k.fingerprint()? == fingerprint {
                    return Ok((k.info()?, Imported::AlreadyPresent));
                }
            }
            let stored = StoredKey {
                fingerprint: fingerprint.to_string(),
                hint: config.hint.clone(),
                created: config.created.clone(),
                modified: config.modified.clone(),
                kdf: Some(config.kdf.clone()),
                data: Some(config.data.clone()),
                unwrapped: None,
            };
            let info = stored.info()?;
            keys.push(stored);
            Ok((info, Imported::Added))
        })
    }
}

/// Sets the copies of `k` for `kdf`: wrapped with `passphrase`, or only
/// unwrapped for [`Kdf::None`].
fn set_protection(
    k: &mut StoredKey,
    key: &PlainKey,
    kdf: Kdf,
    passphrase: Option<&Passphrase>,
) -> Result<(), KeyError> {
    if kdf == Kdf::None {
        k.kdf = None;
        k.data = None;
        k.unwrapped = Some(pbs_tape::format::hex(key.as_bytes()));
        return Ok(());
    }
    let passphrase = passphrase.ok_or(KeyError::NewPassphraseMissing)?;
    let wrapped = crypto::wrap(key, kdf, passphrase)?;
    k.kdf = Some(wrapped.kdf);
    k.data = Some(wrapped.data);
    Ok(())
}

fn open_wrapped(
    k: &StoredKey,
    fp: &Fingerprint,
    passphrase: &Passphrase,
) -> Result<PlainKey, KeyError> {
    let (kdf, data) = k
        .wrapped()
        .ok_or_else(|| KeyError::NoWrappedCopy(fp.to_string()))?;
    let key = crypto::unwrap(kdf, data, passphrase)?.ok_or_else(|| KeyError::WrongPassphrase {
        fingerprint: fp.to_string(),
        hint: k.hint.clone(),
    })?;
    if Fingerprint::of_key(&key)? != *fp {
        return Err(KeyError::Corrupt(format!(
            "the wrapped copy of key {fp} holds another key"
        )));
    }
    Ok(key)
}

fn index_of(keys: &[StoredKey], fp: &Fingerprint) -> Result<usize, KeyError> {
    for (i, k) in keys.iter().enumerate() {
        if k.fingerprint()? == *fp {
            return Ok(i);
        }
    }
    Err(KeyError::UnknownKey(fp.to_string()))
}

fn find_index(keys: &[StoredKey], text: &str) -> Result<usize, KeyError> {
    let mut found = None;
    for (i, k) in keys.iter().enumerate() {
        if k.fingerprint()?.matches(text) {
            if found.is_some() {
                return Err(KeyError::AmbiguousKey(text.to_string()));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| KeyError::UnknownKey(text.to_string()))
}
