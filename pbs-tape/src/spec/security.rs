//! SECURITY PROTOCOL IN/OUT numbers (SPC-5 6.40, 6.41, 7.7) and the tape
//! data encryption protocol's page codes and field values (SSC-5 8.5).
//! Numbers only.

/// Security protocol information (SPC-5 7.7.1).
pub const PROTOCOL_INFORMATION: u8 = 0x00;
/// Tape data encryption security protocol (SSC-5 8.5).
pub const PROTOCOL_TAPE_DATA_ENCRYPTION: u8 = 0x20;

/// Tape data encryption pages (SSC-5 tables 236 and 253).
pub mod page {
    pub const IN_SUPPORT: u16 = 0x0000;
    pub const OUT_SUPPORT: u16 = 0x0001;
    pub const CAPABILITIES: u16 = 0x0010;
    pub const SUPPORTED_KEY_FORMATS: u16 = 0x0011;
    pub const MANAGEMENT_CAPABILITIES: u16 = 0x0012;
    pub const STATUS: u16 = 0x0020;
    pub const NEXT_BLOCK_STATUS: u16 = 0x0021;
    /// SECURITY PROTOCOL OUT: set data encryption.
    pub const SET_DATA_ENCRYPTION: u16 = 0x0010;
}

/// Security algorithm code of AES-256-GCM (SSC-5 table 242).
pub const ALGORITHM_AES_256_GCM: u32 = 0x0001_0014;
/// Key length of AES-256, bytes.
pub const AES_256_KEY_LENGTH: u16 = 32;
/// Logical block encryption key format: plain-text key.
pub const KEY_FORMAT_PLAIN: u8 = 0x00;
/// Set data encryption flags byte: CEEM = 01b (do not check the
/// encryption mode of externally encrypted blocks).
pub const CEEM_NO_CHECK: u8 = 0x40;
/// SCOPE field value: all I_T nexus.
pub const SCOPE_ALL_IT_NEXUS: u8 = 0x02;

/// Encryption mode values (SSC-5 table 256).
pub mod encryption_mode {
    pub const DISABLE: u8 = 0;
    pub const EXTERNAL: u8 = 1;
    pub const ENCRYPT: u8 = 2;
}

/// Decryption mode values (SSC-5 table 257).
pub mod decryption_mode {
    pub const DISABLE: u8 = 0;
    pub const RAW: u8 = 1;
    pub const DECRYPT: u8 = 2;
    pub const MIXED: u8 = 3;
}
