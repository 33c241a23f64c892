//! Volume statistics log page 0x17 (SSC-5 8.2.8, LTO-5 and later): what the
//! cartridge has been through (mounts, data sets, errors, lifetime bytes,
//! passes) and its identity, from the drive's view of the cartridge memory.
//!
//! Every parameter code SSC-5 defines is decoded into a named field;
//! unknown (vendor) parameters are kept raw in [`VolumeStatistics::other`].

use serde::Serialize;

use super::decode::{ascii_field, be_saturating, be_uint, to_hex, with_device};
use super::log_page::{self, parse_log_page, PAGE_VOLUME_STATISTICS};
use super::DriveError;
use crate::scsi::ScsiTransport;

/// Parameter codes of the volume statistics log page (SSC-5 table 196).
pub use crate::spec::log::volume_statistics as param;

/// One value of a partition-list parameter (codes 0x0200..=0x0204).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PartitionValue {
    pub partition: u16,
    pub value: u64,
}

/// A parameter this decoder does not know, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawParameter {
    pub code: u16,
    /// Value bytes as lower-case hex.
    pub value_hex: String,
}

/// Decoded volume statistics. Counters the drive did not report are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VolumeStatistics {
    pub page_valid: Option<bool>,
    pub volume_mounts: Option<u64>,
    pub volume_datasets_written: Option<u64>,
    pub recovered_write_data_errors: Option<u64>,
    pub unrecovered_write_data_errors: Option<u64>,
    pub write_servo_errors: Option<u64>,
    pub unrecovered_write_servo_errors: Option<u64>,
    pub volume_datasets_read: Option<u64>,
    pub recovered_read_errors: Option<u64>,
    pub unrecovered_read_errors: Option<u64>,
    pub last_mount_unrecovered_write_errors: Option<u64>,
    pub last_mount_unrecovered_read_errors: Option<u64>,
    pub last_mount_mbytes_written: Option<u64>,
    pub last_mount_mbytes_read: Option<u64>,
    pub lifetime_mbytes_written: Option<u64>,
    pub lifetime_mbytes_read: Option<u64>,
    pub last_load_write_compression_ratio: Option<u64>,
    pub last_load_read_compression_ratio: Option<u64>,
    pub medium_mount_time: Option<u64>,
    pub medium_ready_time: Option<u64>,
    pub total_native_capacity: Option<u64>,
    pub total_used_native_capacity: Option<u64>,
    pub volume_serial_number: Option<String>,
    pub tape_lot_identifier: Option<String>,
    pub volume_barcode: Option<String>,
    pub volume_manufacturer: Option<String>,
    pub volume_license_code: Option<String>,
    pub volume_personality: Option<String>,
    pub write_protect: Option<bool>,
    pub worm: Option<bool>,
    pub maximum_recommended_tape_path_temperature_exceeded: Option<bool>,
    pub beginning_of_medium_passes: Option<u64>,
    pub middle_of_tape_passes: Option<u64>,
    pub first_encrypted_logical_object: Vec<PartitionValue>,
    pub first_unencrypted_logical_object: Vec<PartitionValue>,
    pub approximate_native_capacity_of_partitions: Vec<PartitionValue>,
    pub approximate_used_native_capacity_of_partitions: Vec<PartitionValue>,
    pub remaining_capacity_to_early_warning_of_partitions: Vec<PartitionValue>,
    /// Parameters not defined by SSC-5 (vendor specific) or malformed.
    pub other: Vec<RawParameter>,
}

/// Decode the records of a partition-list parameter: each record is
/// `[length - 1, reserved, partition (2 bytes), value]`. A record running
/// past the parameter ends the list.
pub fn decode_partition_records(value: &[u8]) -> Option<Vec<PartitionValue>> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let len = usize::from(rest[0]) + 1;
        if len < 5 || len > rest.len() {
            return None;
        }
        out.push(PartitionValue {
            partition: u16::from_be_bytes([rest[2], rest[3]]),
            value: be_uint(&rest[4..len])?,
        });
        rest = &rest[len..];
    }
    Some(out)
}

/// Encode partition-list records with `width`-byte values (test data).
pub fn encode_partition_records(values: &[PartitionValue], width: usize) -> Vec<u8> {
    let width = width.clamp(1, 8);
    let mut out = Vec::new();
    for v in values {
        out.push((3 + width) as u8);
        out.push(0);
        out.extend_from_slice(&v.partition.to_be_bytes());
        out.extend_from_slice(&be_saturating(v.value, width));
    }
    out
}

/// Decode log page 0x17.
pub fn decode_volume_statistics(bytes: &[u8]) -> Result<VolumeStatistics, DriveError> {
    use param::*;
    let page = parse_log_page(
        bytes,
        PAGE_VOLUME_STATISTICS,
        "volume statistics log page 0x17",
    )?;
    let mut s = VolumeStatistics::default();
    for p in &page.parameters {
        let num = be_uint(p.value);
        let text = Some(ascii_field(p.value));
        let flag = p.value.first().map(|b| b & 0x01 != 0);
        let known = match p.code {
            PAGE_VALID => flag.map(|v| s.page_valid = Some(v)),
            VOLUME_MOUNTS => num.map(|v| s.volume_mounts = Some(v)),
            VOLUME_DATASETS_WRITTEN => num.map(|v| s.volume_datasets_written = Some(v)),
            RECOVERED_WRITE_DATA_ERRORS => num.map(|v| s.recovered_write_data_errors = Some(v)),
            UNRECOVERED_WRITE_DATA_ERRORS => num.map(|v| s.unrecovered_write_data_errors = Some(v)),
            WRITE_SERVO_ERRORS => num.map(|v| s.write_servo_errors = Some(v)),
            UNRECOVERED_WRITE_SERVO_ERRORS => {
                num.map(|v| s.unrecovered_write_servo_errors = Some(v))
            }
            VOLUME_DATASETS_READ => num.map(|v| s.volume_datasets_read = Some(v)),
            RECOVERED_READ_ERRORS => num.map(|v| s.recovered_read_errors = Some(v)),
            UNRECOVERED_READ_ERRORS => num.map(|v| s.unrecovered_read_errors = Some(v)),
            LAST_MOUNT_UNRECOVERED_WRITE_ERRORS => {
                num.map(|v| s.last_mount_unrecovered_write_errors = Some(v))
            }
            LAST_MOUNT_UNRECOVERED_READ_ERRORS => {
                num.map(|v| s.last_mount_unrecovered_read_errors = Some(v))
            }
            LAST_MOUNT_MBYTES_WRITTEN => num.map(|v| s.last_mount_mbytes_written = Some(v)),
            LAST_MOUNT_MBYTES_READ => num.map(|v| s.last_mount_mbytes_read = Some(v)),
            LIFETIME_MBYTES_WRITTEN => num.map(|v| s.lifetime_mbytes_written = Some(v)),
            LIFETIME_MBYTES_READ => num.map(|v| s.lifetime_mbytes_read = Some(v)),
            LAST_LOAD_WRITE_COMPRESSION_RATIO => {
                num.map(|v| s.last_load_write_compression_ratio = Some(v))
            }
            LAST_LOAD_READ_COMPRESSION_RATIO => {
                num.map(|v| s.last_load_read_compression_ratio = Some(v))
            }
            MEDIUM_MOUNT_TIME => num.map(|v| s.medium_mount_time = Some(v)),
            MEDIUM_READY_TIME => num.map(|v| s.medium_ready_time = Some(v)),
            TOTAL_NATIVE_CAPACITY => num.map(|v| s.total_native_capacity = Some(v)),
            TOTAL_USED_NATIVE_CAPACITY => num.map(|v| s.total_used_native_capacity = Some(v)),
            VOLUME_SERIAL_NUMBER => text.map(|v| s.volume_serial_number = Some(v)),
            TAPE_LOT_IDENTIFIER => text.map(|v| s.tape_lot_identifier = Some(v)),
            VOLUME_BARCODE => text.map(|v| s.volume_barcode = Some(v)),
            VOLUME_MANUFACTURER => text.map(|v| s.volume_manufacturer = Some(v)),
            VOLUME_LICENSE_CODE => text.map(|v| s.volume_license_code = Some(v)),
            VOLUME_PERSONALITY => text.map(|v| s.volume_personality = Some(v)),
            WRITE_PROTECT => flag.map(|v| s.write_protect = Some(v)),
            WORM => flag.map(|v| s.worm = Some(v)),
            MAXIMUM_RECOMMENDED_TAPE_PATH_TEMPERATURE_EXCEEDED => {
                flag.map(|v| s.maximum_recommended_tape_path_temperature_exceeded = Some(v))
            }
            BEGINNING_OF_MEDIUM_PASSES => num.map(|v| s.beginning_of_medium_passes = Some(v)),
            MIDDLE_OF_TAPE_PASSES => num.map(|v| s.middle_of_tape_passes = Some(v)),
            FIRST_ENCRYPTED_LOGICAL_OBJECT
            | FIRST_UNENCRYPTED_LOGICAL_OBJECT
            | APPROXIMATE_NATIVE_CAPACITY_OF_PARTITIONS
            | APPROXIMATE_USED_NATIVE_CAPACITY_OF_PARTITIONS
            | REMAINING_CAPACITY_TO_EARLY_WARNING_OF_PARTITIONS => {
                decode_partition_records(p.value).map(|list| match p.code {
                    FIRST_ENCRYPTED_LOGICAL_OBJECT => s.first_encrypted_logical_object = list,
                    FIRST_UNENCRYPTED_LOGICAL_OBJECT => s.first_unencrypted_logical_object = list,
                    APPROXIMATE_NATIVE_CAPACITY_OF_PARTITIONS => {
                        s.approximate_native_capacity_of_partitions = list
                    }
                    APPROXIMATE_USED_NATIVE_CAPACITY_OF_PARTITIONS => {
                        s.approximate_used_native_capacity_of_partitions = list
                    }
                    _ => s.remaining_capacity_to_early_warning_of_partitions = list,
                })
            }
            _ => None,
        };
        if known.is_none() {
            s.other.push(RawParameter {
                code: p.code,
                value_hex: to_hex(p.value),
            });
        }
    }
    Ok(s)
}

/// LOG SENSE page 0x17: statistics of the loaded cartridge.
pub fn read_volume_statistics(
    t: &mut dyn ScsiTransport,
    device: &str,
) -> Result<VolumeStatistics, DriveError> {
    let bytes = log_page::read_log_page(
        t,
        device,
        PAGE_VOLUME_STATISTICS,
        "volume statistics log page 0x17",
    )?;
    decode_volume_statistics(&bytes).map_err(|e| with_device(e, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-built page 0x17 with the parameter widths LTO drives use (SSC:
    /// 4-byte counters, 8-byte lifetime MB, ASCII serial, partition records
    /// with 4-byte values as LTFS parses them), followed by a vendor
    /// parameter 0xF000. No device dump was at hand.
    fn sample() -> Vec<u8> {
        let mut body: Vec<u8> = vec![
            0x00, 0x00, 0x03, 0x01, 0x01, // page valid
            0x00, 0x01, 0x03, 0x04, 0x00, 0x00, 0x00, 0x2a, // 42 mounts
            0x00, 0x02, 0x03, 0x04, 0x00, 0x01, 0x86, 0xa0, // 100000 data sets written
            0x00, 0x04, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // no unrecovered write errors
            0x00, 0x10, 0x03, 0x08, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xa0, // 2500000 MB
            0x00, 0x40, 0x01, 0x0c, b'1', b'0', b'W', b'T', b'0', b'3', b'4', b'1', b'2', b'3',
            b' ', b' ', // serial, space padded
            0x00, 0x80, 0x03, 0x01, 0x00, // not write protected
            0x01, 0x01, 0x03, 0x04, 0x00, 0x00, 0x01, 0x00, // 256 BOM passes
            0x02, 0x02, 0x03, 0x10, // native capacity of partitions, 2 records
            0x07, 0x00, 0x00, 0x00, 0x00, 0x26, 0x25, 0xa0, //
            0x07, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, //
            0xf0, 0x00, 0x03, 0x02, 0xbe, 0xef, // vendor specific
        ];
        let mut page = vec![0x17, 0x00];
        page.extend_from_slice(&(body.len() as u16).to_be_bytes());
        page.append(&mut body);
        page
    }

    #[test]
    fn decodes_sample() {
        let s = decode_volume_statistics(&sample()).unwrap();
        assert_eq!(s.page_valid, Some(true));
        assert_eq!(s.volume_mounts, Some(42));
        assert_eq!(s.volume_datasets_written, Some(100_000));
        assert_eq!(s.unrecovered_write_data_errors, Some(0));
        assert_eq!(s.lifetime_mbytes_written, Some(2_500_000));
        assert_eq!(s.volume_serial_number.as_deref(), Some("10WT034123"));
        assert_eq!(s.write_protect, Some(false));
        assert_eq!(s.beginning_of_medium_passes, Some(256));
        assert_eq!(
            s.approximate_native_capacity_of_partitions,
            vec![
                PartitionValue {
                    partition: 0,
                    value: 2_500_000
                },
                PartitionValue {
                    partition: 1,
                    value: 0
                }
            ]
        );
        assert_eq!(s.lifetime_mbytes_read, None);
        assert_eq!(
            s.other,
            vec![RawParameter {
                code: 0xf000,
                value_hex: "beef".into()
            }]
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["volume_mounts"], 42);
        assert_eq!(json["volume_serial_number"], "10WT034123");
    }

    #[test]
    fn truncated_and_malformed() {
        let page = sample();
        for cut in 0..page.len() {
            let _ = decode_volume_statistics(&page[..cut]);
        }
        let s = decode_volume_statistics(&page[..20]).unwrap();
        assert_eq!(s.volume_mounts, Some(42));
        assert_eq!(s.volume_datasets_written, None);
        // A partition record claiming more bytes than the parameter holds.
        assert_eq!(decode_partition_records(&[0x09, 0, 0, 0, 1, 2]), None);
        let list = [PartitionValue {
            partition: 3,
            value: 77,
        }];
        assert_eq!(
            decode_partition_records(&encode_partition_records(&list, 4)),
            Some(list.to_vec())
        );
    }
}
