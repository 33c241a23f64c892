//! A media set's key in the drive: loading it (SECURITY PROTOCOL OUT, set
//! data encryption page, SSC-5 8.5.3), checking the drive's state (data
//! encryption status page) and clearing it, with the vendor quirks:
//!
//! - the AES-256-GCM algorithm index is looked up in the capabilities page
//!   by algorithm code 0x00010014 (it differs by vendor and firmware);
//! - no key-associated data: the page carries KAD format 0 and no KAD
//!   descriptor (some drives refuse any);
//! - decryption mode MIXED keeps the unencrypted labels readable while a
//!   key is loaded; a drive that refuses MIXED (ILLEGAL REQUEST, invalid
//!   field in parameter list) gets DECRYPT instead, and the labels are
//!   then only read while no key is loaded (ptape reads them before it
//!   loads the key anyway);
//! - a drive configured for library- or system-managed encryption (CFG_P
//!   = 10b in the capabilities page, or AES-256-GCM offered for external
//!   control only) cannot take a key from ptape: a clear error says so;
//! - a key left active by another program (`pmt encryption set`) is seen
//!   before an unencrypted pool writes, which then refuses.
//!
//! The key is sent from a zeroizing buffer and never logged.

use pbs_tape::drive::encryption::{
    self, decryption_mode, decryption_mode_name, encryption_mode, EncryptionCapabilities,
    EncryptionStatus, ALGORITHM_AES_256_GCM,
};
use pbs_tape::drive::{DriveError, LtoDrive};
use pbs_tape::format::MemoryTape;
use pbs_tape::scsi::{ScsiTransport, SenseKey};
use zeroize::Zeroizing;

use super::crypto::DriveKey;

/// CFG_P value: the configuration prevents the application client from
/// setting encryption parameters (SSC-5 table 239).
const CFG_P_PREVENTED: u8 = 0b10;
/// ENCRYPT_C value: capable of encrypting with a key from the application.
const CAPABLE_IN_DEVICE: u8 = 2;
/// ASC 26h: INVALID FIELD IN PARAMETER LIST.
const ASC_INVALID_FIELD_IN_PARAMETER_LIST: u8 = 0x26;

/// Why a drive cannot (or must not) encrypt as asked.
#[derive(Debug, thiserror::Error)]
pub enum DriveKeyError {
    #[error("drive {device} has no hardware encryption (it does not answer SECURITY PROTOCOL IN); write encrypted pools with an LTO-4 or later drive")]
    NoHardwareEncryption { device: String },
    #[error("drive {device} offers no AES-256-GCM algorithm with a 32-byte key (it offers: {offered}); ptape encrypts with AES-256-GCM")]
    NoAes256Gcm { device: String, offered: String },
    #[error("drive {device} is set to library- or system-managed encryption ({why}), so ptape cannot load its key; switch the drive to application-managed encryption in the library's (or drive's) management interface")]
    ManagedElsewhere { device: String, why: String },
    #[error("drive {device} has an encryption key left active by another program (encryption mode {encryption}, decryption mode {decryption}; e.g. pmt encryption set): refusing to write an unencrypted pool with it; clear it with: pmt -f {device} encryption clear")]
    ForeignKey {
        device: String,
        encryption: &'static str,
        decryption: &'static str,
    },
    #[error("drive {device} did not take the key: its status shows encryption mode {encryption}, decryption mode {decryption}, algorithm index {index} (expected encrypt, {expected_decryption}, index {expected_index})")]
    NotApplied {
        device: String,
        encryption: &'static str,
        decryption: &'static str,
        index: u8,
        expected_decryption: &'static str,
        expected_index: u8,
    },
    #[error(transparent)]
    Drive(#[from] DriveError),
}

/// A drive (or a tape in it) whose hardware encryption ptape controls.
pub trait HardwareEncryption {
    /// The SCSI transport and device name for encryption commands;
    /// `None` when the device has no hardware encryption at all.
    fn encryption_transport(&mut self) -> Option<(&mut dyn ScsiTransport, &str)>;
}

impl HardwareEncryption for LtoDrive {
    fn encryption_transport(&mut self) -> Option<(&mut dyn ScsiTransport, &str)> {
        Some(self.transport_and_path())
    }
}

/// Cartridges in memory have no drive, so no hardware encryption.
impl HardwareEncryption for MemoryTape {
    fn encryption_transport(&mut self) -> Option<(&mut dyn ScsiTransport, &str)> {
        None
    }
}

/// How the drive was set up with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadedKey {
    /// AES-256-GCM's index in the drive's capabilities page.
    pub algorithm_index: u8,
    /// MIXED, or DECRYPT when the drive refused MIXED.
    pub decryption_mode: u8,
}

impl LoadedKey {
    /// `mixed` or `decrypt`.
    pub fn decryption_mode_name(&self) -> &'static str {
        decryption_mode_name(self.decryption_mode)
    }
}

fn is_not_supported(e: &DriveError) -> bool {
    matches!(e, DriveError::NotSupported { .. })
}

fn refused_parameter(e: &DriveError) -> bool {
    e.scsi_error().and_then(|s| s.sense()).is_some_and(|s| {
        s.key == SenseKey::IllegalRequest && s.asc == ASC_INVALID_FIELD_IN_PARAMETER_LIST
    })
}

/// The capabilities page; [`DriveKeyError::NoHardwareEncryption`] when the
/// drive does not answer SECURITY PROTOCOL IN.
fn capabilities(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<EncryptionCapabilities, DriveKeyError> {
    encryption::encryption_capabilities(t, device).map_err(|e| {
        if is_not_supported(&e) {
            DriveKeyError::NoHardwareEncryption {
                device: device.to_string(),
            }
        } else {
            e.into()
        }
    })
}

/// The AES-256-GCM index to encrypt with, or why the drive cannot.
pub fn aes_index(caps: &EncryptionCapabilities, device: &str) -> Result<u8, DriveKeyError> {
    if caps.config_prevented == CFG_P_PREVENTED {
        return Err(DriveKeyError::ManagedElsewhere {
            device: device.to_string(),
            why: "its capabilities page says the configuration prevents application-managed keys (CFG_P=10b)".into(),
        });
    }
    if let Some(index) = caps.aes256_gcm_index() {
        return Ok(index);
    }
    if let Some(aes) = caps
        .algorithms
        .iter()
        .find(|a| a.algorithm_code == ALGORITHM_AES_256_GCM)
    {
        if aes.encrypt_capable != CAPABLE_IN_DEVICE || aes.decrypt_capable != CAPABLE_IN_DEVICE {
            return Err(DriveKeyError::ManagedElsewhere {
                device: device.to_string(),
                why: format!(
                    "AES-256-GCM is offered with ENCRYPT_C={} DECRYPT_C={}, not for keys set by the application",
                    aes.encrypt_capable, aes.decrypt_capable
                ),
            });
        }
    }
    let offered = caps
        .algorithms
        .iter()
        .map(|a| format!("{:#010x} ({} key bytes)", a.algorithm_code, a.key_length))
        .collect::<Vec<_>>();
    Err(DriveKeyError::NoAes256Gcm {
        device: device.to_string(),
        offered: if offered.is_empty() {
            "nothing".into()
        } else {
            offered.join(", ")
        },
    })
}

/// Checks, before anything is written, that the drive can take a key
/// from ptape: it answers SECURITY PROTOCOL IN, offers AES-256-GCM with a
/// 32-byte key and is not set to library- or system-managed encryption.
pub fn check_can_encrypt(drive: &mut dyn HardwareEncryption) -> Result<u8, DriveKeyError> {
    let Some((t, device)) = drive.encryption_transport() else {
        return Err(DriveKeyError::NoHardwareEncryption {
            device: "(no drive)".into(),
        });
    };
    let device = device.to_string();
    let caps = capabilities(t, &device)?;
    aes_index(&caps, &device)
}

/// The drive's encryption status; `None` when it has no hardware
/// encryption.
pub fn drive_status(
    drive: &mut dyn HardwareEncryption,
) -> Result<Option<EncryptionStatus>, DriveKeyError> {
    let Some((t, device)) = drive.encryption_transport() else {
        return Ok(None);
    };
    match encryption::encryption_status(t, device) {
        Ok(s) => Ok(Some(s)),
        Err(e) if is_not_supported(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Loads `key` into the drive: AES-256-GCM, encryption mode ENCRYPT,
/// decryption mode MIXED (DECRYPT when MIXED is refused), no KAD; then
/// reads the status page back and requires exactly that state.
pub fn load_drive_key(
    drive: &mut dyn HardwareEncryption,
    key: &DriveKey,
) -> Result<LoadedKey, DriveKeyError> {
    let Some((t, device)) = drive.encryption_transport() else {
        return Err(DriveKeyError::NoHardwareEncryption {
            device: "(no drive)".into(),
        });
    };
    let device = device.to_string();
    let caps = capabilities(t, &device)?;
    let index = aes_index(&caps, &device)?;
    let mut loaded = LoadedKey {
        algorithm_index: index,
        decryption_mode: decryption_mode::MIXED,
    };
    let page = |dec: u8| {
        Zeroizing::new(encryption::encode_set_data_encryption(
            encryption_mode::ENCRYPT,
            dec,
            index,
            key.as_bytes(),
        ))
    };
    match encryption::set_data_encryption(t, &device, &page(decryption_mode::MIXED)) {
        Ok(()) => {}
        Err(e) if refused_parameter(&e) => {
            tracing::info!("drive {device} refused decryption mode mixed; using decrypt");
            loaded.decryption_mode = decryption_mode::DECRYPT;
            encryption::set_data_encryption(t, &device, &page(decryption_mode::DECRYPT))?;
        }
        Err(e) => return Err(e.into()),
    }
    check_loaded(drive, &loaded)?;
    Ok(loaded)
}

/// Checks that the drive still encrypts as `loaded` says (before writing).
pub fn check_loaded(
    drive: &mut dyn HardwareEncryption,
    loaded: &LoadedKey,
) -> Result<(), DriveKeyError> {
    let Some((t, device)) = drive.encryption_transport() else {
        return Err(DriveKeyError::NoHardwareEncryption {
            device: "(no drive)".into(),
        });
    };
    let device = device.to_string();
    let s = encryption::encryption_status(t, &device)?;
    let ok = s.encrypting
        && s.decryption_mode == decryption_mode_name(loaded.decryption_mode)
        && s.algorithm_index == loaded.algorithm_index;
    if !ok {
        return Err(DriveKeyError::NotApplied {
            device,
            encryption: s.encryption_mode,
            decryption: s.decryption_mode,
            index: s.algorithm_index,
            expected_decryption: loaded.decryption_mode_name(),
            expected_index: loaded.algorithm_index,
        });
    }
    Ok(())
}

/// Turns encryption off and drops the key, then checks the drive says so.
/// A drive without hardware encryption has nothing to clear.
pub fn clear_drive_key(drive: &mut dyn HardwareEncryption) -> Result<(), DriveKeyError> {
    let Some((t, device)) = drive.encryption_transport() else {
        return Ok(());
    };
    let device = device.to_string();
    match encryption::clear_encryption(t, &device) {
        Ok(()) => {}
        Err(e) if is_not_supported(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let s = encryption::encryption_status(t, &device)?;
    if s.encryption_mode != encryption_mode_name_disable() || s.decryption_mode != "disable" {
        return Err(DriveKeyError::NotApplied {
            device,
            encryption: s.encryption_mode,
            decryption: s.decryption_mode,
            index: s.algorithm_index,
            expected_decryption: "disable",
            expected_index: s.algorithm_index,
        });
    }
    Ok(())
}

fn encryption_mode_name_disable() -> &'static str {
    encryption::encryption_mode_name(encryption_mode::DISABLE)
}

/// Before an unencrypted pool writes: refuses when the drive has an
/// encryption or decryption mode left active (someone else's key).
pub fn check_no_foreign_key(drive: &mut dyn HardwareEncryption) -> Result<(), DriveKeyError> {
    let device = drive
        .encryption_transport()
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    match drive_status(drive)? {
        Some(s) if s.encryption_mode != "disable" || s.decryption_mode != "disable" => {
            Err(DriveKeyError::ForeignKey {
                device,
                encryption: s.encryption_mode,
                decryption: s.decryption_mode,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use pbs_tape::drive::encryption::{EncryptionAlgorithm, EncryptionCapabilities};
    use pbs_tape::emulator::state::{DrivePersonality, EncryptionControl, LibraryConfig};
    use pbs_tape::emulator::Library;
    use uuid::Uuid;

    use super::*;
    use crate::config::ResolvedDrive;
    use crate::keys::PlainKey;
    use crate::library::LibraryDevices;

    /// A standalone emulated drive with `personality` and a cartridge in it.
    fn drive(dir: &std::path::Path, personality: DrivePersonality) -> (Library, LtoDrive) {
        let config = LibraryConfig {
            drives: 1,
            slots: 0,
            ie_slots: 0,
            drive_personality: personality,
            ..LibraryConfig::default()
        };
        let lib = Library::create(dir, config, &[], &[]).unwrap();
        lib.insert(0, "KEY001L9").unwrap();
        let devices = LibraryDevices::from_resolved(ResolvedDrive {
            name: "drive0".into(),
            path: lib.drive_device_path(0).display().to_string(),
            changer_path: None,
            changer_drivenum: 0,
            embedded: false,
            ..Default::default()
        })
        .unwrap();
        let tape = devices.open_drive().unwrap();
        (lib, tape)
    }

    /// The key the emulated drive holds (hex), from its state file.
    fn key_in_drive(lib: &Library) -> Option<String> {
        let text = std::fs::read_to_string(lib.drive_state_path(0)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["settings"]["encryption"]["key_hex"]
            .as_str()
            .map(str::to_string)
    }

    #[test]
    fn load_check_and_clear_the_media_set_key() {
        let dir = tempfile::tempdir().unwrap();
        let (lib, mut tape) = drive(dir.path(), DrivePersonality::default());
        check_no_foreign_key(&mut tape).unwrap();
        let key = PlainKey::generate().unwrap();
        let (set1, set2) = (Uuid::new_v4(), Uuid::new_v4());
        let loaded = load_drive_key(&mut tape, &key.drive_key(&set1).unwrap()).unwrap();
        assert_eq!(loaded.decryption_mode_name(), "mixed");
        // The emulator lists a vendor algorithm first: the index is looked up.
        assert_eq!(loaded.algorithm_index, 2);
        check_loaded(&mut tape, &loaded).unwrap();
        let first = key_in_drive(&lib).unwrap();
        assert_eq!(
            first,
            pbs_tape::format::hex(key.drive_key(&set1).unwrap().as_bytes())
        );
        assert_ne!(first, pbs_tape::format::hex(key.as_bytes()));
        // Our own key counts as foreign to an unencrypted job.
        let err = check_no_foreign_key(&mut tape).unwrap_err();
        assert!(matches!(err, DriveKeyError::ForeignKey { .. }), "{err}");
        load_drive_key(&mut tape, &key.drive_key(&set2).unwrap()).unwrap();
        assert_ne!(key_in_drive(&lib).unwrap(), first);
        clear_drive_key(&mut tape).unwrap();
        assert_eq!(key_in_drive(&lib), None);
        check_no_foreign_key(&mut tape).unwrap();
        let err = check_loaded(&mut tape, &loaded).unwrap_err();
        assert!(matches!(err, DriveKeyError::NotApplied { .. }), "{err}");
    }

    #[test]
    fn a_drive_that_refuses_mixed_gets_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let personality = DrivePersonality {
            encryption_mixed: false,
            ..DrivePersonality::default()
        };
        let (lib, mut tape) = drive(dir.path(), personality);
        let key = PlainKey::generate()
            .unwrap()
            .drive_key(&Uuid::new_v4())
            .unwrap();
        let loaded = load_drive_key(&mut tape, &key).unwrap();
        assert_eq!(loaded.decryption_mode_name(), "decrypt");
        check_loaded(&mut tape, &loaded).unwrap();
        assert!(key_in_drive(&lib).is_some());
        clear_drive_key(&mut tape).unwrap();
    }

    #[test]
    fn library_managed_and_missing_encryption_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let personality = DrivePersonality {
            encryption_control: EncryptionControl::Library,
            ..DrivePersonality::default()
        };
        let (lib, mut tape) = drive(&dir.path().join("lme"), personality);
        let key = PlainKey::generate()
            .unwrap()
            .drive_key(&Uuid::new_v4())
            .unwrap();
        let err = load_drive_key(&mut tape, &key).unwrap_err();
        assert!(
            matches!(err, DriveKeyError::ManagedElsewhere { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("library- or system-managed"),
            "{err}"
        );
        assert_eq!(key_in_drive(&lib), None);

        let personality = DrivePersonality {
            encryption: false,
            ..DrivePersonality::default()
        };
        let (_lib, mut tape) = drive(&dir.path().join("none"), personality);
        let err = load_drive_key(&mut tape, &key).unwrap_err();
        assert!(
            matches!(err, DriveKeyError::NoHardwareEncryption { .. }),
            "{err}"
        );
        // Nothing to be left active, nothing to clear.
        check_no_foreign_key(&mut tape).unwrap();
        clear_drive_key(&mut tape).unwrap();
        assert!(matches!(
            load_drive_key(&mut MemoryTape::new(), &key),
            Err(DriveKeyError::NoHardwareEncryption { .. })
        ));
    }

    fn algorithm(index: u8, code: u32, capable: u8) -> EncryptionAlgorithm {
        EncryptionAlgorithm {
            index,
            algorithm_code: code,
            name: "x",
            key_length: 32,
            encrypt_capable: capable,
            decrypt_capable: capable,
        }
    }

    #[test]
    fn aes_index_by_algorithm_code() {
        let caps = |config_prevented, algorithms| EncryptionCapabilities {
            config_prevented,
            algorithms,
        };
        let aes = ALGORITHM_AES_256_GCM;
        assert_eq!(
            aes_index(
                &caps(1, vec![algorithm(1, 0x0001_0010, 2), algorithm(7, aes, 2)]),
                "d"
            )
            .unwrap(),
            7
        );
        let err = aes_index(&caps(1, vec![algorithm(1, 0x0001_0010, 2)]), "d").unwrap_err();
        assert!(matches!(err, DriveKeyError::NoAes256Gcm { .. }), "{err}");
        assert!(err.to_string().contains("0x00010010"), "{err}");
        let err = aes_index(&caps(2, vec![algorithm(1, aes, 2)]), "d").unwrap_err();
        assert!(err.to_string().contains("CFG_P=10b"), "{err}");
        let err = aes_index(&caps(0, vec![algorithm(1, aes, 1)]), "d").unwrap_err();
        assert!(err.to_string().contains("ENCRYPT_C=1"), "{err}");
    }
}
