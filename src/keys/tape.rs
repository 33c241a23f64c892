//! The key as a tape carries it: the media set label (tape file 1) names
//! the key's fingerprint and holds its passphrase-wrapped copy. Labels are
//! written before the drive gets a key, so they read without one.

use pbs_tape::format::{read_media_label, read_media_set_label, KeyConfig, TapeRead};
use uuid::Uuid;

use super::crypto::Passphrase;
use super::store::{Imported, KeyInfo, KeyStore};
use super::{Fingerprint, KeyError};
use crate::devices::TapeMotion;
use crate::reading::{locate, TapeAccessError};

/// What a tape's labels say about its encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapeKey {
    /// Label text (barcode) of the tape.
    pub label: String,
    pub media_set: Uuid,
    pub pool: String,
    /// Fingerprint of the set's key; `None`: the set is not encrypted.
    pub fingerprint: Option<String>,
    /// The wrapped key recorded with it.
    pub key_config: Option<KeyConfig>,
}

impl TapeKey {
    /// The hint recorded with the key, if any.
    pub fn hint(&self) -> Option<&str> {
        self.key_config.as_ref().and_then(|c| c.hint.as_deref())
    }
}

fn tape_err(label: &str) -> impl FnOnce(pbs_tape::format::FormatError) -> KeyError + '_ {
    move |e| KeyError::Tape(Box::new(TapeAccessError::format(label, e)))
}

/// Reads files 0 and 1 of the tape (from BOT; no key needed).
pub fn read_tape_key<T: TapeRead + TapeMotion>(tape: &mut T) -> Result<TapeKey, KeyError> {
    tape.rewind()
        .map_err(|e| KeyError::Tape(Box::new(TapeAccessError::io("(in drive)", e))))?;
    let media = read_media_label(tape)
        .map_err(tape_err("(in drive)"))?
        .ok_or(KeyError::BlankTape)?;
    let label = media.label_text;
    locate(tape, &label, 1).map_err(|e| KeyError::Tape(Box::new(e)))?;
    let set = read_media_set_label(tape)
        .map_err(tape_err(&label))?
        .ok_or_else(|| KeyError::NoMediaSet(label.clone()))?;
    Ok(TapeKey {
        label,
        media_set: set.uuid,
        pool: set.pool,
        fingerprint: set.encryption_key_fingerprint,
        key_config: set.key_config,
    })
}

/// `ptape key restore`: reads the wrapped key from the tape's media set
/// label, opens it with the passphrase `ask` returns (it gets the
/// fingerprint and hint), checks its fingerprint and stores it.
pub fn restore_key_from_tape<T: TapeRead + TapeMotion>(
    store: &KeyStore,
    tape: &mut T,
    ask: impl FnOnce(&Fingerprint, Option<&str>) -> Result<Passphrase, KeyError>,
) -> Result<(TapeKey, KeyInfo, Imported), KeyError> {
    let found = read_tape_key(tape)?;
    let Some(config) = found.key_config.clone() else {
        return Err(match &found.fingerprint {
            Some(fp) => KeyError::NoKeyConfigOnTape {
                label: found.label.clone(),
                fingerprint: fp.clone(),
            },
            None => KeyError::NotEncrypted {
                label: found.label.clone(),
                media_set: found.media_set,
            },
        });
    };
    let stated = config
        .fingerprint
        .as_deref()
        .or(found.fingerprint.as_deref())
        .ok_or_else(|| KeyError::Corrupt("the key on tape names no fingerprint".into()))?;
    let fp: Fingerprint = stated.parse()?;
    if let Some(label_fp) = &found.fingerprint {
        if label_fp.parse::<Fingerprint>()? != fp {
            return Err(KeyError::Corrupt(format!(
                "tape {}: the media set label names key {label_fp} but carries key {fp}",
                found.label
            )));
        }
    }
    let passphrase = ask(&fp, config.hint.as_deref())?;
    let (info, imported) = store.import(&config, &passphrase)?;
    Ok((found, info, imported))
}
