//! SECURITY PROTOCOL IN (0xA2, SPC-5 6.40) and OUT (0xB5, SPC-5 6.41) of
//! the emulated drive: protocol 0x00 (supported protocols, certificate) and
//! protocol 0x20 tape data encryption (SSC-5 8.5).
//!
//! The capabilities page lists two algorithms: index 1 a vendor-specific
//! algorithm the emulator only lists (not capable of encryption here) and
//! index 2 AES-256-GCM, so hosts must look the index up as on real drives.
//! The next block encryption status page reports status 0h (cannot be
//! determined): the information commands do not see block contents.

use super::super::cdb::{Cdb, CdbResult, CheckCondition};
use super::super::crypto::encode_key_hex;
use super::super::drive_state::EncryptionSettings;
use super::super::state::EncryptionControl;
use super::{parameter_list, respond, InfoContext};
use crate::scsi::DataDirection;
use crate::spec::security::{
    decryption_mode, encryption_mode, page, AES_256_KEY_LENGTH, ALGORITHM_AES_256_GCM,
    KEY_FORMAT_PLAIN, PROTOCOL_INFORMATION, PROTOCOL_TAPE_DATA_ENCRYPTION, SCOPE_ALL_IT_NEXUS,
};

/// Algorithm index of AES-256-GCM in the capabilities page.
pub const AES_INDEX: u8 = 2;
/// Algorithm index of the listed-only vendor algorithm.
const VENDOR_INDEX: u8 = 1;
/// Its (vendor-specific range) algorithm code.
const VENDOR_ALGORITHM: u32 = 0xFF00_0001;

/// SPIN pages of protocol 0x20, ascending.
const IN_PAGES: [u16; 6] = [
    page::IN_SUPPORT,
    page::OUT_SUPPORT,
    page::CAPABILITIES,
    page::SUPPORTED_KEY_FORMATS,
    page::STATUS,
    page::NEXT_BLOCK_STATUS,
];

/// Length of a standard algorithm descriptor (SSC-5 8.5.2.4): bytes 0..23,
/// DESCRIPTOR LENGTH 20 (the bytes after byte 3).
const ALGORITHM_DESCRIPTOR_LEN: usize = 24;

fn put_be(out: &mut [u8], at: usize, width: usize, value: u64) {
    for i in 0..width {
        out[at + i] = (value >> (8 * (width - 1 - i))) as u8;
    }
}

/// A tape data encryption page (SSC-5 8.5.2.1): bytes 0..1 PAGE CODE,
/// bytes 2..3 PAGE LENGTH (the bytes after the header), then `body`.
fn page_bytes(code: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&(body.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A page of 2-byte codes (the IN and OUT support pages, SSC-5 8.5.2.2/3).
fn code_list_page(code: u16, items: &[u16]) -> Vec<u8> {
    let body: Vec<u8> = items.iter().flat_map(|i| i.to_be_bytes()).collect();
    page_bytes(code, &body)
}

/// A standard data encryption algorithm descriptor (SSC-5 8.5.2.4): byte 0
/// ALGORITHM INDEX, bytes 2..3 DESCRIPTOR LENGTH, byte 4 AVFMV (bit 7),
/// SDK_C, MAC_C, DELB_C, DECRYPT_C (bits 3..2), ENCRYPT_C (bits 1..0);
/// byte 5 AVFCLP, NONCE_C, KADF_C, VCELB_C, UKADF, AKADF (0 here); bytes
/// 6..7 / 8..9 MAXIMUM UNAUTHENTICATED / AUTHENTICATED KEY-ASSOCIATED DATA
/// BYTES (0); bytes 10..11 KEY LENGTH; byte 12 DKAD_C, EEMC_C, RDMC_C,
/// EAREM (0); bytes 14..15 / 16..17 MAXIMUM EEDK COUNT / SIZE (0); bytes
/// 20..23 SECURITY ALGORITHM CODE.
fn algorithm(index: u8, code: u32, key_length: u16, crypt_c: u8) -> [u8; ALGORITHM_DESCRIPTOR_LEN] {
    let mut d = [0u8; ALGORITHM_DESCRIPTOR_LEN];
    d[0] = index;
    put_be(&mut d, 2, 2, (ALGORITHM_DESCRIPTOR_LEN - 4) as u64);
    d[4] = 0x80 | (crypt_c & 0x0f);
    put_be(&mut d, 10, 2, u64::from(key_length));
    put_be(&mut d, 20, 4, u64::from(code));
    d
}

/// DECRYPT_C and ENCRYPT_C (byte 4 bits 3..0): 10b each, capable and
/// controlled by the device server; 01b each, capable only under external
/// control; 0: not capable.
const CRYPT_C_DEVICE_SERVER: u8 = 0b1010;
const CRYPT_C_EXTERNAL: u8 = 0b0101;

/// Data encryption capabilities page (SSC-5 8.5.2.4): byte 4 CFG_P (bits
/// 1..0), bytes 5..19 reserved, then the algorithm descriptors.
fn capabilities_page(control: EncryptionControl) -> Vec<u8> {
    let aes_c = match control {
        EncryptionControl::Application => CRYPT_C_DEVICE_SERVER,
        EncryptionControl::Library => CRYPT_C_EXTERNAL,
    };
    let mut body = vec![0u8; 16];
    // CFG_P = 01b: the application may set encryption parameters; 10b:
    // the configuration prevents it (library-managed).
    body[0] = match control {
        EncryptionControl::Application => 0x01,
        EncryptionControl::Library => 0x02,
    };
    body.extend_from_slice(&algorithm(VENDOR_INDEX, VENDOR_ALGORITHM, 16, 0));
    body.extend_from_slice(&algorithm(
        AES_INDEX,
        ALGORITHM_AES_256_GCM,
        AES_256_KEY_LENGTH,
        aes_c,
    ));
    page_bytes(page::CAPABILITIES, &body)
}

/// Data encryption status page (SSC-5 8.5.2.7), page length 20: byte 4
/// I_T NEXUS SCOPE (bits 7..5) and KEY SCOPE (bits 2..0), byte 5
/// ENCRYPTION MODE, byte 6 DECRYPTION MODE, byte 7 ALGORITHM INDEX, bytes
/// 8..11 KEY INSTANCE COUNTER, byte 12 PARAMETERS CONTROL, VCELB, CEEMS,
/// RDMD (0), byte 13 KEY-ASSOCIATED DATA FORMAT (0), bytes 14..15 AVAILABLE
/// SUPPLEMENTAL DECRYPTION KEYS (0), bytes 16..23 reserved.
fn status_page(ctx: &InfoContext<'_>) -> Vec<u8> {
    let enc = ctx.settings.encryption.as_ref();
    let mut body = [0u8; 20];
    if let Some(e) = enc {
        body[0] = SCOPE_ALL_IT_NEXUS << 5;
        body[1] = e.encryption_mode;
        body[2] = e.decryption_mode;
        body[3] = e.algorithm_index;
        put_be(&mut body, 4, 4, 1);
    }
    page_bytes(page::STATUS, &body)
}

/// Next block encryption status page (SSC-5 8.5.2.8), page length 12:
/// bytes 4..11 LOGICAL OBJECT NUMBER, byte 12 COMPRESSION STATUS (bits
/// 7..4) and ENCRYPTION STATUS (bits 3..0; 0h: cannot be determined), byte
/// 13 ALGORITHM INDEX, byte 14 EMES, RDMDS, byte 15 NEXT BLOCK KAD FORMAT.
fn next_block_page(ctx: &InfoContext<'_>) -> Vec<u8> {
    let mut body = [0u8; 12];
    let object = ctx.medium.as_ref().map_or(0, |m| m.logical_object);
    put_be(&mut body, 0, 8, object);
    page_bytes(page::NEXT_BLOCK_STATUS, &body)
}

/// Common CDB checks of SECURITY PROTOCOL IN/OUT; returns (protocol,
/// protocol specific, length).
fn parse(raw: &[u8]) -> Result<(u8, u16, usize), CheckCondition> {
    let cdb = Cdb::parse(raw)?;
    // INC_512 (byte 4 bit 7) is not supported; the rest is reserved.
    cdb.reserved(4, 0xff)?;
    cdb.reserved(5, 0xff)?;
    cdb.reserved(10, 0xff)?;
    Ok((
        cdb.byte(1),
        cdb.be16(2),
        usize::try_from(cdb.be32(6)).unwrap_or(usize::MAX),
    ))
}

/// SECURITY PROTOCOL IN (0xA2).
pub fn security_protocol_in(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: DataDirection<'_>,
) -> CdbResult {
    Cdb::parse(raw)?;
    if !ctx.config.drive_personality.encryption {
        return Err(CheckCondition::invalid_opcode());
    }
    let (protocol, specific, alloc) = parse(raw)?;
    let response = match (protocol, specific) {
        (PROTOCOL_INFORMATION, 0x0000) => {
            // 6 reserved bytes, list length, protocol list.
            let list = [PROTOCOL_INFORMATION, PROTOCOL_TAPE_DATA_ENCRYPTION];
            let mut out = vec![0u8; 6];
            out.extend_from_slice(&(list.len() as u16).to_be_bytes());
            out.extend_from_slice(&list);
            out
        }
        // Certificate data: none.
        (PROTOCOL_INFORMATION, 0x0001) => vec![0, 0, 0, 0],
        (PROTOCOL_INFORMATION, _) => return Err(CheckCondition::invalid_field_in_cdb(2, None)),
        (PROTOCOL_TAPE_DATA_ENCRYPTION, p) => match p {
            page::IN_SUPPORT => code_list_page(page::IN_SUPPORT, &IN_PAGES),
            page::OUT_SUPPORT => code_list_page(page::OUT_SUPPORT, &[page::SET_DATA_ENCRYPTION]),
            page::CAPABILITIES => {
                capabilities_page(ctx.config.drive_personality.encryption_control)
            }
            page::SUPPORTED_KEY_FORMATS => {
                page_bytes(page::SUPPORTED_KEY_FORMATS, &[KEY_FORMAT_PLAIN])
            }
            page::STATUS => status_page(ctx),
            page::NEXT_BLOCK_STATUS => next_block_page(ctx),
            _ => return Err(CheckCondition::invalid_field_in_cdb(2, None)),
        },
        _ => return Err(CheckCondition::invalid_field_in_cdb(1, None)),
    };
    respond(data, alloc, &response)
}

/// SECURITY PROTOCOL OUT (0xB5): set data encryption page 0x0010.
pub fn security_protocol_out(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: DataDirection<'_>,
) -> CdbResult {
    Cdb::parse(raw)?;
    if !ctx.config.drive_personality.encryption {
        return Err(CheckCondition::invalid_opcode());
    }
    let (protocol, specific, len) = parse(raw)?;
    if protocol != PROTOCOL_TAPE_DATA_ENCRYPTION {
        return Err(CheckCondition::invalid_field_in_cdb(1, None));
    }
    if specific != page::SET_DATA_ENCRYPTION {
        return Err(CheckCondition::invalid_field_in_cdb(2, None));
    }
    let list = parameter_list(&data, len)?;
    // Set data encryption page (SSC-5 8.5.3.2): bytes 0..1 PAGE CODE,
    // 2..3 PAGE LENGTH, byte 4 SCOPE (bits 7..5) and LOCK (bit 0), byte 5
    // CEEM (7..6), RDMC (5..4), SDK (3), CKOD (2), CKORP (1), CKORL (0),
    // byte 6 ENCRYPTION MODE, 7 DECRYPTION MODE, 8 ALGORITHM INDEX, 9
    // LOGICAL BLOCK ENCRYPTION KEY FORMAT, 10 KAD FORMAT, 11..17 reserved,
    // 18..19 LOGICAL BLOCK ENCRYPTION KEY LENGTH, then the key.
    const KEY_AT: usize = 20;
    if list.len() < KEY_AT {
        return Err(CheckCondition::parameter_list_length_error());
    }
    let be16 = |at: usize| u16::from_be_bytes([list[at], list[at + 1]]);
    let bad = CheckCondition::invalid_field_in_parameter_list;
    if be16(0) != page::SET_DATA_ENCRYPTION {
        return Err(bad(0));
    }
    if 4 + usize::from(be16(2)) > list.len() {
        return Err(bad(2));
    }
    // SCOPE: public (0), local (1), all I_T nexus (2); LOCK accepted.
    let scope_lock = list[4];
    if scope_lock >> 5 > SCOPE_ALL_IT_NEXUS || scope_lock & 0x1e != 0 {
        return Err(bad(4));
    }
    // CEEM 0/1 (no external encryption mode check), RDMC 0/2/3, SDK 0.
    let flags = list[5];
    let ceem = flags >> 6;
    let rdmc = (flags >> 4) & 0x03;
    if ceem > 1 || rdmc == 1 || flags & 0x08 != 0 {
        return Err(bad(5));
    }
    let enc_mode = list[6];
    let dec_mode = list[7];
    let algorithm_index = list[8];
    let key_format = list[9];
    let kad_format = list[10];
    if enc_mode != encryption_mode::DISABLE && enc_mode != encryption_mode::ENCRYPT {
        return Err(bad(6));
    }
    if dec_mode > decryption_mode::MIXED {
        return Err(bad(7));
    }
    let key_length = usize::from(be16(18));
    if enc_mode == encryption_mode::DISABLE && dec_mode == decryption_mode::DISABLE {
        if ctx.settings.encryption.take().is_some() {
            ctx.settings_changed = true;
        }
        return Ok(crate::emulator::cdb::no_data());
    }
    let personality = &ctx.config.drive_personality;
    if personality.encryption_control == EncryptionControl::Library {
        // Keys come from the library: the application may not set one.
        return Err(bad(6));
    }
    if dec_mode == decryption_mode::MIXED && !personality.encryption_mixed {
        return Err(bad(7));
    }
    if algorithm_index != AES_INDEX {
        return Err(bad(8));
    }
    if key_format != KEY_FORMAT_PLAIN {
        return Err(bad(9));
    }
    if kad_format != 0 {
        return Err(bad(10));
    }
    if key_length != usize::from(AES_256_KEY_LENGTH) {
        return Err(bad(18));
    }
    let Some(key) = list.get(KEY_AT..KEY_AT + key_length) else {
        return Err(CheckCondition::parameter_list_length_error());
    };
    let new = EncryptionSettings {
        algorithm_index,
        encryption_mode: enc_mode,
        decryption_mode: dec_mode,
        key_hex: encode_key_hex(key),
        clear_key_on_demount: flags & 0x04 != 0,
    };
    if ctx.settings.encryption.as_ref() != Some(&new) {
        ctx.settings.encryption = Some(new);
        ctx.settings_changed = true;
    }
    Ok(crate::emulator::cdb::no_data())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_illegal, Fixture};
    use crate::drive::encryption::{
        decode_capabilities, decode_next_block_status, decode_status, encode_set_data_encryption,
    };

    fn spin(protocol: u8, page: u16, alloc: u32) -> [u8; 12] {
        let [p0, p1] = page.to_be_bytes();
        let [a0, a1, a2, a3] = alloc.to_be_bytes();
        [0xa2, protocol, p0, p1, 0, 0, a0, a1, a2, a3, 0, 0]
    }

    fn spout(len: usize) -> [u8; 12] {
        let [a0, a1, a2, a3] = (len as u32).to_be_bytes();
        [0xb5, 0x20, 0x00, 0x10, 0, 0, a0, a1, a2, a3, 0, 0]
    }

    /// The encoders' bytes, from SSC-5 8.5.2.4 (capabilities page and
    /// standard algorithm descriptor) and 8.5.2.2/3 (support pages).
    #[test]
    fn page_bytes_literal() {
        #[rustfmt::skip]
        let aes = [
            0x02, 0x00, 0x00, 0x14, // index 2, descriptor length 20
            0x8a, 0x00, 0x00, 0x00, 0x00, 0x00, // AVFMV, DECRYPT_C=ENCRYPT_C=10b; no KAD
            0x00, 0x20, // key length 32
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x01, 0x00, 0x14, // AES-256-GCM
        ];
        assert_eq!(
            super::algorithm(2, 0x0001_0014, 32, super::CRYPT_C_DEVICE_SERVER),
            aes
        );
        let cap = super::capabilities_page(super::EncryptionControl::Application);
        assert_eq!(&cap[..5], &[0x00, 0x10, 0x00, 16 + 48, 0x01]);
        assert_eq!(&cap[44..68], &aes);
        let lib = super::capabilities_page(super::EncryptionControl::Library);
        assert_eq!((lib[4], lib[44 + 4]), (0x02, 0x85));
        assert_eq!(
            super::code_list_page(0x0001, &[0x0010]),
            vec![0x00, 0x01, 0x00, 0x02, 0x00, 0x10]
        );
    }

    #[test]
    fn capabilities_need_lookup() {
        let mut f = Fixture::new();
        let caps = decode_capabilities(&f.read(&spin(0x20, 0x10, 8192), 8192).unwrap()).unwrap();
        assert_eq!(caps.algorithms.len(), 2);
        assert_eq!(caps.algorithms[0].index, 1);
        assert_ne!(caps.algorithms[0].name, "AES-256-GCM");
        assert_eq!(caps.aes256_gcm_index(), Some(super::AES_INDEX));
        let protocols = f.read(&spin(0, 0, 100), 100).unwrap();
        assert_eq!(protocols, vec![0, 0, 0, 0, 0, 0, 0, 2, 0x00, 0x20]);
        let pages = f.read(&spin(0x20, 0, 100), 100).unwrap();
        assert_eq!(&pages[..4], &[0, 0, 0, 12]);
        let formats = f.read(&spin(0x20, 0x11, 100), 100).unwrap();
        assert_eq!(formats, vec![0, 0x11, 0, 1, 0]);
    }

    #[test]
    fn set_and_clear_key() {
        let mut f = Fixture::new();
        let page = encode_set_data_encryption(2, 3, super::AES_INDEX, &[0x5a; 32]);
        let (res, changed, _) = f.run(
            &spout(page.len()),
            crate::scsi::DataDirection::ToDevice(&page),
        );
        res.unwrap();
        assert!(changed);
        let enc = f.settings.encryption.clone().unwrap();
        assert_eq!((enc.encryption_mode, enc.decryption_mode), (2, 3));
        assert_eq!(enc.key_hex, "5a".repeat(32));
        let st = decode_status(&f.read(&spin(0x20, 0x20, 100), 100).unwrap()).unwrap();
        assert!(st.encrypting);
        assert_eq!(st.decryption_mode, "mixed");
        assert_eq!(st.algorithm_index, super::AES_INDEX);
        let nb = decode_next_block_status(&f.read(&spin(0x20, 0x21, 100), 100).unwrap()).unwrap();
        assert_eq!(nb.encryption_status, 0);
        let clear = encode_set_data_encryption(0, 0, super::AES_INDEX, &[]);
        f.write(&spout(clear.len()), &clear).unwrap();
        assert!(f.settings.encryption.is_none());
        let st = decode_status(&f.read(&spin(0x20, 0x20, 100), 100).unwrap()).unwrap();
        assert!(!st.encrypting);
    }

    #[test]
    fn mixed_refused_and_library_managed_personalities() {
        let mut f = Fixture::new();
        f.config.drive_personality.encryption_mixed = false;
        let mixed = encode_set_data_encryption(2, 3, super::AES_INDEX, &[1; 32]);
        assert_illegal(
            &f.write(&spout(mixed.len()), &mixed).unwrap_err(),
            0x26,
            Some(7),
        );
        let decrypt = encode_set_data_encryption(2, 2, super::AES_INDEX, &[1; 32]);
        f.write(&spout(decrypt.len()), &decrypt).unwrap();
        assert!(f.settings.encryption.is_some());

        let mut f = Fixture::new();
        f.config.drive_personality.encryption_control =
            crate::emulator::state::EncryptionControl::Library;
        let caps = decode_capabilities(&f.read(&spin(0x20, 0x10, 8192), 8192).unwrap()).unwrap();
        assert_eq!(caps.config_prevented, 2);
        assert_eq!(caps.aes256_gcm_index(), None);
        assert_illegal(
            &f.write(&spout(decrypt.len()), &decrypt).unwrap_err(),
            0x26,
            Some(6),
        );
        assert!(f.settings.encryption.is_none());
    }

    #[test]
    fn validation() {
        let mut f = Fixture::new();
        let bad_index = encode_set_data_encryption(2, 2, 1, &[1; 32]);
        assert_illegal(
            &f.write(&spout(bad_index.len()), &bad_index).unwrap_err(),
            0x26,
            Some(8),
        );
        let short_key = encode_set_data_encryption(2, 2, super::AES_INDEX, &[1; 16]);
        assert_illegal(
            &f.write(&spout(short_key.len()), &short_key).unwrap_err(),
            0x26,
            Some(18),
        );
        let external = encode_set_data_encryption(1, 2, super::AES_INDEX, &[1; 32]);
        assert_illegal(
            &f.write(&spout(external.len()), &external).unwrap_err(),
            0x26,
            Some(6),
        );
        let mut sdk = encode_set_data_encryption(2, 2, super::AES_INDEX, &[1; 32]);
        sdk[5] = 0x08;
        assert_illegal(
            &f.write(&spout(sdk.len()), &sdk).unwrap_err(),
            0x26,
            Some(5),
        );
        let mut scope = encode_set_data_encryption(2, 2, super::AES_INDEX, &[1; 32]);
        scope[4] = 0xE0;
        assert_illegal(
            &f.write(&spout(scope.len()), &scope).unwrap_err(),
            0x26,
            Some(4),
        );
        let ok = encode_set_data_encryption(2, 2, super::AES_INDEX, &[1; 32]);
        assert_illegal(&f.write(&spout(ok.len() + 8), &ok).unwrap_err(), 0x1a, None);
        assert!(f.settings.encryption.is_none());
        // CDB errors.
        assert_illegal(
            &f.read(&spin(0x20, 0x30, 100), 100).unwrap_err(),
            0x24,
            Some(2),
        );
        assert_illegal(
            &f.read(&spin(0x21, 0, 100), 100).unwrap_err(),
            0x24,
            Some(1),
        );
        let mut inc = spin(0x20, 0x10, 100);
        inc[4] = 0x80;
        assert_illegal(&f.read(&inc, 100).unwrap_err(), 0x24, Some(4));
        f.config.drive_personality.encryption = false;
        assert_illegal(
            &f.read(&spin(0x20, 0x10, 100), 100).unwrap_err(),
            0x20,
            None,
        );
        assert_illegal(&f.write(&spout(ok.len()), &ok).unwrap_err(), 0x20, None);
    }
}
