//! Block encryption of the emulated drive: AES-256-GCM as LTO drives use it
//! (SSC-5 8.5, algorithm code 0x00010014), with the key set by SECURITY
//! PROTOCOL OUT.
//!
//! A sealed block is `IV (12 bytes) || ciphertext || tag (16 bytes)`; the
//! key fingerprint (first 8 bytes of SHA-256 of the key) is stored beside
//! it by the caller and bound to the block as additional authenticated
//! data. Failures are the DATA PROTECT senses a drive reports
//! (SPC-5 Annex F): 7/7401 unable to decrypt data (no key), 7/7402
//! unencrypted data encountered while decrypting, 7/7403 incorrect data
//! encryption key, 7/7404 cryptographic integrity validation failed.

use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

use super::cdb::CheckCondition;
use super::drive_state::{DriveSettings, EncryptionSettings};
use super::spc_wire::hex;
use crate::scsi::{SenseData, SenseKey};
use crate::spec::security::decryption_mode;

/// Length of the random IV stored in front of each sealed block.
pub const IV_LEN: usize = 12;
/// Length of the GCM tag stored after the ciphertext.
pub const TAG_LEN: usize = 16;

/// ASC of the security errors (SPC-5 Annex F).
const ASC_SECURITY: u8 = 0x74;

fn data_protect(ascq: u8) -> CheckCondition {
    CheckCondition::new(SenseData::new(SenseKey::DataProtect, ASC_SECURITY, ascq))
}

/// DATA PROTECT 7/7401 UNABLE TO DECRYPT DATA.
pub fn unable_to_decrypt() -> CheckCondition {
    data_protect(0x01)
}

/// DATA PROTECT 7/7402 UNENCRYPTED DATA ENCOUNTERED WHILE DECRYPTING.
pub fn unencrypted_data_while_decrypting() -> CheckCondition {
    data_protect(0x02)
}

/// DATA PROTECT 7/7403 INCORRECT DATA ENCRYPTION KEY.
pub fn incorrect_key() -> CheckCondition {
    data_protect(0x03)
}

/// DATA PROTECT 7/7404 CRYPTOGRAPHIC INTEGRITY VALIDATION FAILED.
pub fn integrity_validation_failed() -> CheckCondition {
    data_protect(0x04)
}

/// HARDWARE ERROR 4/4400 INTERNAL TARGET FAILURE (the stored key is unusable
/// or the crypto library failed).
fn internal_failure() -> CheckCondition {
    CheckCondition::new(SenseData::new(SenseKey::HardwareError, 0x44, 0x00))
}

/// Decode a 64-hex-digit key (the form `EncryptionSettings::key_hex` keeps).
pub fn decode_key_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut key = [0u8; 32];
    for (k, i) in key.iter_mut().zip((0..64).step_by(2)) {
        *k = u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?;
    }
    Some(key)
}

/// Encode a key as lower-case hex.
pub fn encode_key_hex(key: &[u8]) -> String {
    hex(key)
}

/// First 8 bytes of SHA-256 of the key.
pub fn key_fingerprint(key: &[u8]) -> [u8; 8] {
    let digest = openssl::sha::sha256(key);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// Seal one block with the key of `enc`: returns the sealed bytes and the
/// key fingerprint to store with the block.
pub fn encrypt_block(
    enc: &EncryptionSettings,
    block: &[u8],
) -> Result<(Vec<u8>, [u8; 8]), CheckCondition> {
    let key = decode_key_hex(&enc.key_hex).ok_or_else(internal_failure)?;
    let fingerprint = key_fingerprint(&key);
    let mut iv = [0u8; IV_LEN];
    openssl::rand::rand_bytes(&mut iv).map_err(|_| internal_failure())?;
    let mut tag = [0u8; TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        &key,
        Some(&iv),
        &fingerprint,
        block,
        &mut tag,
    )
    .map_err(|_| internal_failure())?;
    let mut sealed = Vec::with_capacity(IV_LEN + ciphertext.len() + TAG_LEN);
    sealed.extend_from_slice(&iv);
    sealed.extend_from_slice(&ciphertext);
    sealed.extend_from_slice(&tag);
    Ok((sealed, fingerprint))
}

/// Open a sealed block written with the key whose fingerprint is
/// `fingerprint`, as the drive's decryption mode dictates: RAW returns the
/// sealed bytes, DECRYPT/MIXED need the right key.
pub fn decrypt_block(
    settings: &DriveSettings,
    fingerprint: &[u8; 8],
    sealed: &[u8],
) -> Result<Vec<u8>, CheckCondition> {
    let Some(enc) = settings
        .encryption
        .as_ref()
        .filter(|e| e.decryption_mode != decryption_mode::DISABLE)
    else {
        return Err(unable_to_decrypt());
    };
    if enc.decryption_mode == decryption_mode::RAW {
        return Ok(sealed.to_vec());
    }
    let key = decode_key_hex(&enc.key_hex).ok_or_else(unable_to_decrypt)?;
    if key_fingerprint(&key) != *fingerprint {
        return Err(incorrect_key());
    }
    if sealed.len() < IV_LEN + TAG_LEN {
        return Err(integrity_validation_failed());
    }
    let (iv, rest) = sealed.split_at(IV_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    decrypt_aead(
        Cipher::aes_256_gcm(),
        &key,
        Some(iv),
        fingerprint,
        ciphertext,
        tag,
    )
    .map_err(|_| integrity_validation_failed())
}

/// Check reading an unencrypted block: decryption mode DECRYPT refuses it
/// with 7/7402; DISABLE, RAW and MIXED return it.
pub fn check_unencrypted_read(settings: &DriveSettings) -> Result<(), CheckCondition> {
    match &settings.encryption {
        Some(e) if e.decryption_mode == decryption_mode::DECRYPT => {
            Err(unencrypted_data_while_decrypting())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(key: u8, decryption: u8) -> DriveSettings {
        DriveSettings {
            encryption: Some(EncryptionSettings {
                algorithm_index: 2,
                encryption_mode: 2,
                decryption_mode: decryption,
                key_hex: encode_key_hex(&[key; 32]),
                clear_key_on_demount: false,
            }),
            ..DriveSettings::default()
        }
    }

    #[test]
    fn round_trip_and_errors() {
        let s = settings(1, decryption_mode::DECRYPT);
        let enc = s.encryption.clone().unwrap();
        let (sealed, fp) = encrypt_block(&enc, b"hello tape").unwrap();
        assert_eq!(sealed.len(), IV_LEN + 10 + TAG_LEN);
        assert_ne!(&sealed[IV_LEN..IV_LEN + 10], b"hello tape");
        assert_eq!(fp, key_fingerprint(&[1; 32]));
        assert_eq!(decrypt_block(&s, &fp, &sealed).unwrap(), b"hello tape");

        let wrong = settings(2, decryption_mode::DECRYPT);
        let e = decrypt_block(&wrong, &fp, &sealed).unwrap_err();
        assert!(e.sense.is(SenseKey::DataProtect, 0x74, 0x03));

        let none = DriveSettings::default();
        let e = decrypt_block(&none, &fp, &sealed).unwrap_err();
        assert!(e.sense.is(SenseKey::DataProtect, 0x74, 0x01));

        let mut tampered = sealed.clone();
        tampered[IV_LEN] ^= 1;
        let e = decrypt_block(&s, &fp, &tampered).unwrap_err();
        assert!(e.sense.is(SenseKey::DataProtect, 0x74, 0x04));
        assert!(decrypt_block(&s, &fp, &sealed[..5]).is_err());

        let raw = settings(9, decryption_mode::RAW);
        assert_eq!(decrypt_block(&raw, &fp, &sealed).unwrap(), sealed);
    }

    #[test]
    fn unencrypted_reads() {
        assert!(check_unencrypted_read(&DriveSettings::default()).is_ok());
        assert!(check_unencrypted_read(&settings(1, decryption_mode::MIXED)).is_ok());
        let e = check_unencrypted_read(&settings(1, decryption_mode::DECRYPT)).unwrap_err();
        assert!(e.sense.is(SenseKey::DataProtect, 0x74, 0x02));
    }

    #[test]
    fn key_hex() {
        let key: Vec<u8> = (0..32).collect();
        let hex = encode_key_hex(&key);
        assert_eq!(decode_key_hex(&hex).unwrap().to_vec(), key);
        assert_eq!(decode_key_hex("abc"), None);
        assert_eq!(decode_key_hex(&"g".repeat(64)), None);
    }
}
