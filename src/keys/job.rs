//! Keys for the jobs that write and read encrypted media sets.
//!
//! - [`KeyAccess`]: where a job finds keys (the key store) and their
//!   passphrase (`--passphrase-file F`, `$PTAPE_PASSPHRASE`, or the file
//!   named in the scheduler's configuration). Cheap to clone; keys are
//!   opened only when a job meets an encrypted media set.
//! - [`SetKey`]: the key of the media set a job writes: its fingerprint,
//!   its passphrase-wrapped copy (for the media set label) and the
//!   per-set drive key. Opened before any tape is touched, so a wrong
//!   passphrase fails the job before it writes anything.
//! - [`ReadKeys`]: the keys a reader (restore, verify, catalog scan) loads
//!   into the drive, one media set at a time, after reading the set's
//!   (unencrypted) labels and before reading its data. A key that is not
//!   in the store fails there, before any data is read, naming the tape,
//!   the media set, the fingerprint and the hint.

use std::path::{Path, PathBuf};

use pbs_tape::format::{KeyConfig, MediaSetLabel};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::crypto::{DriveKey, Passphrase};
use super::drive::{self, DriveKeyError, HardwareEncryption, LoadedKey};
use super::store::KeyStore;
use super::unlock::{KeyRing, PassphraseSource, PASSPHRASE_ENV};
use super::{Fingerprint, KeyError};

/// Where a job's passphrase comes from.
#[derive(Debug, Clone, Default)]
pub enum PassphraseOrigin {
    /// Nowhere: only keys with an unwrapped copy open.
    #[default]
    None,
    /// The first line of this file, read when a key is opened.
    File(PathBuf),
    /// This passphrase.
    Given(Passphrase),
}

/// Where a job finds keys and their passphrase.
#[derive(Debug, Clone, Default)]
pub struct KeyAccess {
    /// Directory of the key store; `None`: the configuration directory.
    pub store_dir: Option<PathBuf>,
    pub passphrase: PassphraseOrigin,
}

impl KeyAccess {
    /// The key store in `dir`, passphrases from `passphrase`.
    pub fn new(store_dir: Option<&Path>, passphrase: PassphraseOrigin) -> KeyAccess {
        KeyAccess {
            store_dir: store_dir.map(Path::to_path_buf),
            passphrase,
        }
    }

    /// What the command line gives: `--passphrase-file F`, else
    /// `$PTAPE_PASSPHRASE`, else no passphrase (keys stored unwrapped
    /// still open). The default key store.
    pub fn from_cli(passphrase_file: Option<&Path>) -> Result<KeyAccess, KeyError> {
        let passphrase = match passphrase_file {
            Some(file) => PassphraseOrigin::File(file.to_path_buf()),
            None => match std::env::var(PASSPHRASE_ENV) {
                Ok(value) => PassphraseOrigin::Given(Passphrase::new(Zeroizing::new(value))?),
                Err(_) => PassphraseOrigin::None,
            },
        };
        Ok(KeyAccess {
            store_dir: None,
            passphrase,
        })
    }

    /// The key store.
    pub fn store(&self) -> Result<KeyStore, KeyError> {
        match &self.store_dir {
            Some(dir) => Ok(KeyStore::at(dir)),
            None => KeyStore::open_default(),
        }
    }

    /// A key ring over the store with this passphrase.
    pub fn ring(&self) -> Result<KeyRing, KeyError> {
        let source = match &self.passphrase {
            PassphraseOrigin::None => PassphraseSource::None,
            PassphraseOrigin::File(path) => PassphraseSource::File(path.clone()),
            PassphraseOrigin::Given(p) => PassphraseSource::Given(p.clone()),
        };
        Ok(KeyRing::new(self.store()?, source))
    }
}

/// The key of the media set a job writes.
#[derive(Debug)]
pub struct SetKey {
    pub fingerprint: Fingerprint,
    /// The passphrase-wrapped key, recorded in the media set label.
    pub config: KeyConfig,
    drive_key: DriveKey,
}

impl SetKey {
    /// Opens key `fingerprint` (as the catalog records it) for media set
    /// `set`. The key must have a passphrase-wrapped copy: the media set
    /// label carries it, so the key can be recovered from the tape.
    pub fn open(access: &KeyAccess, fingerprint: &str, set: Uuid) -> Result<SetKey, KeyError> {
        let fp: Fingerprint = fingerprint.parse()?;
        let mut ring = access.ring()?;
        if !ring.contains(&fp)? {
            return Err(KeyError::UnknownKey(fp.to_string()));
        }
        let config = ring.key_config(&fp)?;
        let drive_key = ring.key(&fp)?.drive_key(&set)?;
        Ok(SetKey {
            fingerprint: fp,
            config,
            drive_key,
        })
    }

    /// The per-set key given to the drive.
    pub fn drive_key(&self) -> &DriveKey {
        &self.drive_key
    }
}

/// Before a job writes on the tape in the drive (before any label): an
/// unencrypted job refuses a key left active by someone else; an
/// encrypting job needs a drive that can take its key, and clears a key
/// left active (so the labels are written unencrypted). Returns a note
/// when a key was cleared.
pub fn prepare_drive_for_writing(
    tape: &mut dyn HardwareEncryption,
    encrypting: bool,
) -> Result<Option<String>, DriveKeyError> {
    if !encrypting {
        drive::check_no_foreign_key(tape)?;
        return Ok(None);
    }
    drive::check_can_encrypt(tape)?;
    match drive::check_no_foreign_key(tape) {
        Ok(()) => Ok(None),
        Err(DriveKeyError::ForeignKey {
            device,
            encryption,
            decryption,
        }) => {
            drive::clear_drive_key(tape)?;
            Ok(Some(format!(
                "drive {device} had an encryption key left active (encryption mode {encryption}, decryption mode {decryption}); cleared before writing the labels"
            )))
        }
        Err(e) => Err(e),
    }
}

/// The key of the media set whose data a reader is about to read.
#[derive(Debug)]
pub struct ReadKeys {
    access: KeyAccess,
    ring: Option<KeyRing>,
    /// The media set whose key is in the drive.
    loaded: Option<(Uuid, LoadedKey)>,
}

impl ReadKeys {
    pub fn new(access: KeyAccess) -> ReadKeys {
        ReadKeys {
            access,
            ring: None,
            loaded: None,
        }
    }

    fn ring(&mut self) -> Result<&mut KeyRing, KeyError> {
        if self.ring.is_none() {
            self.ring = Some(self.access.ring()?);
        }
        Ok(self.ring.as_mut().expect("ring set above"))
    }

    /// Checks that the key of an encrypted media set is in the store,
    /// before any tape is read: the error names tape `label` (the first
    /// one the reader needs), the set and the fingerprint.
    pub fn check_available(
        &mut self,
        label: &str,
        set: Uuid,
        fingerprint: Option<&str>,
        hint: Option<&str>,
    ) -> Result<(), KeyError> {
        let Some(text) = fingerprint else {
            return Ok(());
        };
        let fp: Fingerprint = text.parse()?;
        if self.ring()?.contains(&fp)? {
            return Ok(());
        }
        Err(KeyError::MissingTapeKey {
            label: label.to_string(),
            media_set: set,
            fingerprint: fp.to_string(),
            hint: hint.map(str::to_string),
        })
    }

    /// Sets the drive up for reading the data of tape `label`, whose media
    /// set label is `set` (read from the tape, unencrypted): loads the
    /// set's drive key, or clears a key this reader loaded when the set is
    /// not encrypted. A key not in the store fails with
    /// [`KeyError::MissingTapeKey`] before any data is read.
    pub fn prepare(
        &mut self,
        tape: &mut dyn HardwareEncryption,
        label: &str,
        set: &MediaSetLabel,
    ) -> Result<(), KeyError> {
        let hint = set.key_config.as_ref().and_then(|c| c.hint.as_deref());
        let Some(text) = set.encryption_key_fingerprint.as_deref() else {
            return self.release(tape).map_err(Into::into);
        };
        if matches!(self.loaded, Some((uuid, _)) if uuid == set.uuid) {
            drive::check_loaded(tape, &self.loaded.expect("matched").1)?;
            return Ok(());
        }
        self.check_available(label, set.uuid, Some(text), hint)?;
        let fp: Fingerprint = text.parse()?;
        let key = self.ring()?.key(&fp)?.drive_key(&set.uuid)?;
        // Whatever was loaded is replaced; until the new key is proven
        // loaded, nothing counts as ours.
        self.loaded = None;
        let loaded = drive::load_drive_key(tape, &key)?;
        self.loaded = Some((set.uuid, loaded));
        Ok(())
    }

    /// True while this reader has a key in the drive.
    pub fn has_loaded(&self) -> bool {
        self.loaded.is_some()
    }

    /// Clears the key this reader loaded (before the tape is unloaded or
    /// the job ends).
    pub fn release(&mut self, tape: &mut dyn HardwareEncryption) -> Result<(), DriveKeyError> {
        if self.loaded.take().is_some() {
            drive::clear_drive_key(tape)?;
        }
        Ok(())
    }
}
