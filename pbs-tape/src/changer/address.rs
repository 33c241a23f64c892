//! Element address assignment: where each element type starts and how many
//! elements it has (MODE SENSE page 0x1D, SMC-3 7.3.4).

use serde::Serialize;
use zerocopy::byteorder::big_endian::U16;
use zerocopy::FromBytes;

use super::element_status::ElementType;
use super::wire::{ElementAddressPage, PAGE_ELEMENT_ADDRESS_ASSIGNMENT};

/// A run of element addresses: `first .. first + count`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ElementRange {
    pub first: u16,
    pub count: u16,
}

impl ElementRange {
    /// True when `address` lies in this range.
    pub fn contains(&self, address: u16) -> bool {
        address >= self.first && u32::from(address) < u32::from(self.first) + u32::from(self.count)
    }
}

/// Element addresses of all four element types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ElementAddressAssignment {
    pub transport: ElementRange,
    pub storage: ElementRange,
    pub import_export: ElementRange,
    pub data_transfer: ElementRange,
}

impl ElementAddressAssignment {
    /// The range of one element type.
    pub fn range(&self, element_type: ElementType) -> ElementRange {
        match element_type {
            ElementType::MediumTransport => self.transport,
            ElementType::Storage => self.storage,
            ElementType::ImportExport => self.import_export,
            ElementType::DataTransfer => self.data_transfer,
        }
    }

    /// Decode the page body.
    pub fn from_page(page: &ElementAddressPage) -> Self {
        let r = |first: U16, count: U16| ElementRange {
            first: first.get(),
            count: count.get(),
        };
        ElementAddressAssignment {
            transport: r(page.transport_first, page.transport_count),
            storage: r(page.storage_first, page.storage_count),
            import_export: r(page.import_export_first, page.import_export_count),
            data_transfer: r(page.data_transfer_first, page.data_transfer_count),
        }
    }

    /// Encode as mode page 0x1D (test captures; the emulator has its own encoder).
    pub fn to_page(&self) -> ElementAddressPage {
        let u = U16::new;
        ElementAddressPage {
            page_code: PAGE_ELEMENT_ADDRESS_ASSIGNMENT,
            page_length: (size_of::<ElementAddressPage>() - 2) as u8,
            transport_first: u(self.transport.first),
            transport_count: u(self.transport.count),
            storage_first: u(self.storage.first),
            storage_count: u(self.storage.count),
            import_export_first: u(self.import_export.first),
            import_export_count: u(self.import_export.count),
            data_transfer_first: u(self.data_transfer.first),
            data_transfer_count: u(self.data_transfer.count),
            reserved: [0; 2],
        }
    }

    /// Find page 0x1D in MODE SENSE data. `header_len` is 4 for
    /// MODE SENSE(6) and 8 for MODE SENSE(10); block descriptors (if the
    /// changer sent any despite DBD) are skipped as the header states.
    pub fn from_mode_data(data: &[u8], header_len: usize) -> Result<Self, String> {
        let (data_len, bd_len) = match header_len {
            4 if data.len() >= 4 => (data[0] as usize + 1, data[3] as usize),
            8 if data.len() >= 8 => (
                u16::from_be_bytes([data[0], data[1]]) as usize + 2,
                u16::from_be_bytes([data[6], data[7]]) as usize,
            ),
            _ => {
                return Err(format!(
                    "mode parameter data too short ({} bytes)",
                    data.len()
                ))
            }
        };
        let end = data_len.min(data.len());
        let mut pos = header_len + bd_len;
        while pos + 2 <= end {
            let code = data[pos] & 0x3f;
            let subpage_format = data[pos] & 0x40 != 0;
            let (body_start, len) = if subpage_format {
                if pos + 4 > end {
                    break;
                }
                (
                    pos + 4,
                    u16::from_be_bytes([data[pos + 2], data[pos + 3]]) as usize,
                )
            } else {
                (pos, data[pos + 1] as usize + 2)
            };
            if code == PAGE_ELEMENT_ADDRESS_ASSIGNMENT && !subpage_format {
                let page = ElementAddressPage::read_from_prefix(&data[body_start..end])
                    .map(|(p, _)| p)
                    .map_err(|_| {
                        format!(
                            "element address assignment page truncated ({} of {} bytes)",
                            end - body_start,
                            size_of::<ElementAddressPage>()
                        )
                    })?;
                return Ok(Self::from_page(&page));
            }
            // Both forms advance by at least the 2- or 4-byte page header.
            pos = body_start + len;
        }
        Err("no element address assignment page (0x1D) in the mode data".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::IntoBytes;

    fn sample() -> ElementAddressAssignment {
        ElementAddressAssignment {
            transport: ElementRange { first: 0, count: 1 },
            storage: ElementRange {
                first: 0x1000,
                count: 24,
            },
            import_export: ElementRange {
                first: 0x10,
                count: 2,
            },
            data_transfer: ElementRange {
                first: 0x100,
                count: 2,
            },
        }
    }

    #[test]
    fn mode_sense6_round_trip_with_block_descriptor() {
        let page = sample().to_page();
        let mut data = vec![0u8, 0, 0, 8];
        data.extend_from_slice(&[0xAA; 8]);
        data.extend_from_slice(page.as_bytes());
        data[0] = (data.len() - 1) as u8;
        assert_eq!(
            ElementAddressAssignment::from_mode_data(&data, 4).unwrap(),
            sample()
        );
    }

    #[test]
    fn mode_sense10_skips_other_pages() {
        let mut data = vec![0u8; 8];
        data.extend_from_slice(&[0x1E, 2, 0, 0]);
        data.extend_from_slice(sample().to_page().as_bytes());
        let len = (data.len() - 2) as u16;
        data[0..2].copy_from_slice(&len.to_be_bytes());
        assert_eq!(
            ElementAddressAssignment::from_mode_data(&data, 8).unwrap(),
            sample()
        );
    }

    #[test]
    fn missing_or_truncated_page_is_an_error() {
        assert!(ElementAddressAssignment::from_mode_data(&[3, 0, 0, 0], 4).is_err());
        let mut data = vec![0u8, 0, 0, 0];
        data.extend_from_slice(&sample().to_page().as_bytes()[..10]);
        data[0] = (data.len() - 1) as u8;
        assert!(ElementAddressAssignment::from_mode_data(&data, 4).is_err());
        assert!(ElementAddressAssignment::from_mode_data(&[], 8).is_err());
    }

    #[test]
    fn range_contains() {
        let r = ElementRange {
            first: 0xFFFF,
            count: 1,
        };
        assert!(r.contains(0xFFFF));
        assert!(!r.contains(0xFFFE));
    }
}
