//! State of an emulated drive and of each cartridge's cartridge memory,
//! shared by the SSC data path (`drive.rs`) and the SSC information
//! commands (`ssc_info.rs`: MODE, LOG, ATTRIBUTE, DENSITY, SECURITY PROTOCOL).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Drive settings that persist across opens (stored in `DIR/driveN.json`
/// together with the position), like a real drive keeps them until reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveSettings {
    /// Block length from the mode block descriptor; 0 = variable-block mode.
    pub block_size: u32,
    /// Data compression enabled (mode page 0x0F DCE).
    pub compression: bool,
    /// Buffered mode (mode parameter header); 1 = writes are buffered.
    pub buffer_mode: u8,
    /// Active data encryption (SECURITY PROTOCOL OUT page 0x0010), if any.
    pub encryption: Option<EncryptionSettings>,
    /// Current TapeAlert flags: bit (n-1) is flag n (1..=64).
    pub tape_alerts: u64,
}

impl Default for DriveSettings {
    fn default() -> Self {
        DriveSettings {
            block_size: 0,
            compression: true,
            buffer_mode: 1,
            encryption: None,
            tape_alerts: 0,
        }
    }
}

/// Encryption set by SECURITY PROTOCOL OUT (SSC-4 8.5.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionSettings {
    /// Algorithm index the host chose (must name AES-256-GCM in the capabilities page).
    pub algorithm_index: u8,
    /// Encryption mode: 0 disable, 2 encrypt.
    pub encryption_mode: u8,
    /// Decryption mode: 0 disable, 1 raw, 2 decrypt, 3 mixed.
    pub decryption_mode: u8,
    /// The 256-bit key, hex encoded.
    pub key_hex: String,
    /// CKOD: clear the key when the medium is demounted (the unload path
    /// sets `DriveSettings::encryption` to `None`).
    #[serde(default)]
    pub clear_key_on_demount: bool,
}

/// What the emulator remembers of a cartridge beside its tape image
/// (`DIR/tapes/<barcode>.mam.json`): host-written MAM attributes and
/// lifetime counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediumInfo {
    /// Host-writable attributes (WRITE ATTRIBUTE): id -> raw value bytes.
    pub host_attributes: BTreeMap<u16, Vec<u8>>,
    /// Times the cartridge was loaded.
    pub load_count: u64,
    /// Lifetime bytes written to / read from the medium.
    pub lifetime_bytes_written: u64,
    pub lifetime_bytes_read: u64,
    /// Write and read errors seen (recovered or not).
    pub write_errors: u64,
    pub read_errors: u64,
    /// Date the emulated cartridge was "manufactured" (YYYYMMDD).
    pub manufacture_date: String,
    /// Medium serial number (MAM 0x0401).
    pub medium_serial: String,
    /// Bytes written / read since the current (or last) load: reset when
    /// the cartridge is loaded, counted with the lifetime counters
    /// (MAM 0x0222/0x0223, volume statistics 0x000E/0x000F).
    #[serde(default)]
    pub last_load_bytes_written: u64,
    #[serde(default)]
    pub last_load_bytes_read: u64,
    /// Times the medium was formatted / initialized (MAM 0x0007).
    #[serde(default)]
    pub initialization_count: u64,
}
