//! Log page codes, the LOG SENSE page control and parameter control bytes
//! (SPC-5 6.9, 7.3), and the parameter codes of the SSC pages (volume
//! statistics, tape capacity). Numbers only: the drive layer and the
//! emulator each have their own encoders and decoders.

/// Supported log pages (SPC-5 7.3.18).
pub const PAGE_SUPPORTED_PAGES: u8 = 0x00;
/// TapeAlert response log page (SSC-5 8.2.5): one 64-bit parameter.
pub const PAGE_TAPE_ALERT_RESPONSE: u8 = 0x12;
/// Volume statistics log page (SSC-5 8.2.8).
pub const PAGE_VOLUME_STATISTICS: u8 = 0x17;
/// TapeAlert log page (SSC-5 8.2.3): parameters 0x0001..0x0040.
pub const PAGE_TAPE_ALERT: u8 = 0x2E;
/// Tape capacity log page (vendor-specific range, common to all LTO drives).
pub const PAGE_TAPE_CAPACITY: u8 = 0x31;

/// Page control field of LOG SENSE: cumulative values (SPC-5 6.9).
pub const PC_CUMULATIVE: u8 = 0x01;

/// Parameter control byte: binary format list (FORMAT AND LINKING = 11b).
pub const CONTROL_BINARY_LIST: u8 = 0x03;
/// Parameter control byte: ASCII format list (FORMAT AND LINKING = 01b).
pub const CONTROL_ASCII_LIST: u8 = 0x01;
/// Parameter control byte: bounded data counter (FORMAT AND LINKING = 00b).
pub const CONTROL_COUNTER: u8 = 0x00;

/// Parameter codes of the tape capacity log page 0x31 (LTO drives of all
/// vendors; IBM and HPE SCSI reference manuals), values in MiB.
pub mod tape_capacity {
    /// Main partition (partition 0) remaining capacity, MiB.
    pub const MAIN_REMAINING: u16 = 0x0001;
    /// Alternate partition (partition 1) remaining capacity, MiB.
    pub const ALTERNATE_REMAINING: u16 = 0x0002;
    /// Main partition maximum capacity, MiB.
    pub const MAIN_MAXIMUM: u16 = 0x0003;
    /// Alternate partition maximum capacity, MiB.
    pub const ALTERNATE_MAXIMUM: u16 = 0x0004;
}

/// Parameter codes of the volume statistics log page (SSC-5 table 196).
pub mod volume_statistics {
    pub const PAGE_VALID: u16 = 0x0000;
    pub const VOLUME_MOUNTS: u16 = 0x0001;
    pub const VOLUME_DATASETS_WRITTEN: u16 = 0x0002;
    pub const RECOVERED_WRITE_DATA_ERRORS: u16 = 0x0003;
    pub const UNRECOVERED_WRITE_DATA_ERRORS: u16 = 0x0004;
    pub const WRITE_SERVO_ERRORS: u16 = 0x0005;
    pub const UNRECOVERED_WRITE_SERVO_ERRORS: u16 = 0x0006;
    pub const VOLUME_DATASETS_READ: u16 = 0x0007;
    pub const RECOVERED_READ_ERRORS: u16 = 0x0008;
    pub const UNRECOVERED_READ_ERRORS: u16 = 0x0009;
    pub const LAST_MOUNT_UNRECOVERED_WRITE_ERRORS: u16 = 0x000C;
    pub const LAST_MOUNT_UNRECOVERED_READ_ERRORS: u16 = 0x000D;
    pub const LAST_MOUNT_MBYTES_WRITTEN: u16 = 0x000E;
    pub const LAST_MOUNT_MBYTES_READ: u16 = 0x000F;
    pub const LIFETIME_MBYTES_WRITTEN: u16 = 0x0010;
    pub const LIFETIME_MBYTES_READ: u16 = 0x0011;
    pub const LAST_LOAD_WRITE_COMPRESSION_RATIO: u16 = 0x0012;
    pub const LAST_LOAD_READ_COMPRESSION_RATIO: u16 = 0x0013;
    pub const MEDIUM_MOUNT_TIME: u16 = 0x0014;
    pub const MEDIUM_READY_TIME: u16 = 0x0015;
    pub const TOTAL_NATIVE_CAPACITY: u16 = 0x0016;
    pub const TOTAL_USED_NATIVE_CAPACITY: u16 = 0x0017;
    pub const VOLUME_SERIAL_NUMBER: u16 = 0x0040;
    pub const TAPE_LOT_IDENTIFIER: u16 = 0x0041;
    pub const VOLUME_BARCODE: u16 = 0x0042;
    pub const VOLUME_MANUFACTURER: u16 = 0x0043;
    pub const VOLUME_LICENSE_CODE: u16 = 0x0044;
    pub const VOLUME_PERSONALITY: u16 = 0x0045;
    pub const WRITE_PROTECT: u16 = 0x0080;
    pub const WORM: u16 = 0x0081;
    pub const MAXIMUM_RECOMMENDED_TAPE_PATH_TEMPERATURE_EXCEEDED: u16 = 0x0082;
    pub const BEGINNING_OF_MEDIUM_PASSES: u16 = 0x0101;
    pub const MIDDLE_OF_TAPE_PASSES: u16 = 0x0102;
    pub const FIRST_ENCRYPTED_LOGICAL_OBJECT: u16 = 0x0200;
    pub const FIRST_UNENCRYPTED_LOGICAL_OBJECT: u16 = 0x0201;
    pub const APPROXIMATE_NATIVE_CAPACITY_OF_PARTITIONS: u16 = 0x0202;
    pub const APPROXIMATE_USED_NATIVE_CAPACITY_OF_PARTITIONS: u16 = 0x0203;
    pub const REMAINING_CAPACITY_TO_EARLY_WARNING_OF_PARTITIONS: u16 = 0x0204;
}
