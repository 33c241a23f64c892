//! Decoding READ ELEMENT STATUS data (SMC-3 6.15) into [`Element`]s.
//!
//! The parser is pure (bytes in, elements out) and trusts only what the
//! data states: the report and page byte counts and the element
//! descriptor length are taken from the headers, clamped to the bytes
//! actually received. A truncated report yields the complete descriptors
//! it holds and `truncated = true`; it never invents an element whose
//! descriptor is not fully present.

use serde::Serialize;
use zerocopy::FromBytes;

use super::wire::{
    u24, DeviceIdHead, ElementDescriptorHead, ElementStatusHeader, ElementStatusPageHeader,
    VolumeTag, CODE_SET_ASCII, ELEM_ACCESS, ELEM_EXCEPT, ELEM_FULL, ELEM_IMPEXP, ELEM_INVERT,
    ELEM_SVALID, ID_TYPE_T10_VENDOR, ID_TYPE_VENDOR_SPECIFIC, PAGE_AVOLTAG, PAGE_PVOLTAG,
    VOLUME_TAG_LEN,
};

/// The four element types of a media changer (SMC-3 table 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementType {
    /// The robot (picker).
    MediumTransport,
    /// A storage slot.
    Storage,
    /// An import/export slot (mail slot).
    ImportExport,
    /// A tape drive.
    DataTransfer,
}

impl ElementType {
    /// All types in the order a status report lists them.
    pub const ALL: [ElementType; 4] = [
        ElementType::MediumTransport,
        ElementType::Storage,
        ElementType::ImportExport,
        ElementType::DataTransfer,
    ];

    /// The ELEMENT TYPE CODE.
    pub fn code(self) -> u8 {
        match self {
            ElementType::MediumTransport => 1,
            ElementType::Storage => 2,
            ElementType::ImportExport => 3,
            ElementType::DataTransfer => 4,
        }
    }

    /// Decode an ELEMENT TYPE CODE (0 = "all" is not an element type).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(ElementType::MediumTransport),
            2 => Some(ElementType::Storage),
            3 => Some(ElementType::ImportExport),
            4 => Some(ElementType::DataTransfer),
            _ => None,
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            ElementType::MediumTransport => "medium transport",
            ElementType::Storage => "storage",
            ElementType::ImportExport => "import/export",
            ElementType::DataTransfer => "data transfer",
        }
    }
}

/// A device identifier reported for a data transfer element (DVCID=1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceIdentifier {
    /// CODE SET (1 binary, 2 ASCII, 3 UTF-8).
    pub code_set: u8,
    /// IDENTIFIER TYPE (0 vendor specific, 1 T10 vendor id, 2 EUI-64, 3 NAA, ...).
    pub identifier_type: u8,
    /// The identifier: trimmed text for ASCII code sets, hex otherwise.
    pub identifier: String,
    /// T10 vendor identification (type 1 only).
    pub vendor: Option<String>,
    /// Product identification (type 1 only, when present).
    pub product: Option<String>,
    /// Serial number extracted from the identifier, if the type carries one.
    pub serial: Option<String>,
}

/// One element as READ ELEMENT STATUS reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    pub element_type: ElementType,
    pub address: u16,
    /// A cartridge is in the element.
    pub full: bool,
    /// The element is in an abnormal state: see `asc`/`ascq`.
    pub except: bool,
    /// The medium transport can reach the element.
    pub access: bool,
    /// Import/export only: the cartridge was put in by the operator.
    pub import_export: bool,
    pub asc: u8,
    pub ascq: u8,
    /// Element the cartridge came from, when the changer knows (SVALID).
    pub source_address: Option<u16>,
    /// The cartridge was inverted on its last move.
    pub invert: bool,
    /// Primary volume tag (barcode), trimmed; `None` when absent or blank.
    pub primary_tag: Option<String>,
    /// Alternate volume tag, trimmed; `None` when absent or blank.
    pub alternate_tag: Option<String>,
    /// Device identifier (data transfer elements with DVCID).
    pub device_id: Option<DeviceIdentifier>,
}

/// One decoded READ ELEMENT STATUS response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementStatusReport {
    /// FIRST ELEMENT ADDRESS REPORTED.
    pub first_address: u16,
    /// NUMBER OF ELEMENTS AVAILABLE (elements meeting the request).
    pub elements_available: u16,
    /// BYTE COUNT OF REPORT AVAILABLE (after the 8-byte header).
    pub report_bytes_available: u32,
    /// Fewer bytes were received than the report states: ask again from
    /// the address after the last element.
    pub truncated: bool,
    /// Every complete descriptor, in report order.
    pub elements: Vec<Element>,
}

/// Element status data that cannot be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElementStatusError {
    #[error("element status data too short: {0} bytes, the header alone is 8")]
    TooShort(usize),
    #[error("element status page at byte {offset} states descriptor length {length}, at least 3 bytes (address and flags) are needed")]
    BadDescriptorLength { offset: usize, length: u16 },
    #[error("element status page at byte {offset} has unknown element type code {code}")]
    UnknownElementType { offset: usize, code: u8 },
}

const HEADER_LEN: usize = size_of::<ElementStatusHeader>();
const PAGE_HEADER_LEN: usize = size_of::<ElementStatusPageHeader>();
const DESC_HEAD_LEN: usize = size_of::<ElementDescriptorHead>();

/// Decode READ ELEMENT STATUS data. `bytes` is what the device transferred
/// (possibly truncated by the allocation length).
pub fn parse_element_status(bytes: &[u8]) -> Result<ElementStatusReport, ElementStatusError> {
    let (header, _) = ElementStatusHeader::read_from_prefix(bytes)
        .map_err(|_| ElementStatusError::TooShort(bytes.len()))?;
    let report_bytes_available = u24(header.byte_count);
    let stated_end = HEADER_LEN.saturating_add(report_bytes_available as usize);
    let end = stated_end.min(bytes.len());
    let mut truncated = stated_end > bytes.len();
    let mut elements = Vec::new();

    let mut pos = HEADER_LEN;
    while pos < end {
        let Ok((page, _)) = ElementStatusPageHeader::read_from_prefix(&bytes[pos..end]) else {
            truncated = true;
            break;
        };
        let element_type = ElementType::from_code(page.element_type & 0x0f).ok_or(
            ElementStatusError::UnknownElementType {
                offset: pos,
                code: page.element_type,
            },
        )?;
        let desc_len = page.descriptor_length.get();
        if desc_len < 3 {
            return Err(ElementStatusError::BadDescriptorLength {
                offset: pos,
                length: desc_len,
            });
        }
        let page_stated_end = (pos + PAGE_HEADER_LEN).saturating_add(u24(page.byte_count) as usize);
        let page_end = page_stated_end.min(end);
        if page_stated_end > end {
            truncated = true;
        }
        let mut dpos = pos + PAGE_HEADER_LEN;
        while dpos + desc_len as usize <= page_end {
            let desc = &bytes[dpos..dpos + desc_len as usize];
            elements.push(parse_descriptor(element_type, page.flags, desc));
            dpos += desc_len as usize;
        }
        pos = page_stated_end;
    }

    Ok(ElementStatusReport {
        first_address: header.first_element_address.get(),
        elements_available: header.number_of_elements.get(),
        report_bytes_available,
        truncated,
        elements,
    })
}

/// Decode one element descriptor of `desc.len()` (>= 3) bytes.
fn parse_descriptor(element_type: ElementType, page_flags: u8, desc: &[u8]) -> Element {
    // Descriptors shorter than the common 12-byte head (old changers) are
    // read as if zero-padded: absent fields read as "not reported".
    let mut head_bytes = [0u8; DESC_HEAD_LEN];
    let n = desc.len().min(DESC_HEAD_LEN);
    head_bytes[..n].copy_from_slice(&desc[..n]);
    let head = ElementDescriptorHead::read_from_bytes(&head_bytes[..])
        .unwrap_or_else(|_| ElementDescriptorHead::default());
    let svalid = n >= DESC_HEAD_LEN && head.source_flags & ELEM_SVALID != 0;

    let mut rest = desc.get(DESC_HEAD_LEN..).unwrap_or(&[]);
    let primary_tag = take_tag(page_flags & PAGE_PVOLTAG != 0, &mut rest);
    // Some changers set AVOLTAG for drives without sending an alternate tag
    // (seen in mhvtl's DVCID personalities): when what is left is exactly
    // one device identifier, it is not a volume tag.
    let bogus_avoltag = element_type == ElementType::DataTransfer && is_exact_device_id(rest);
    let alternate_tag = take_tag(page_flags & PAGE_AVOLTAG != 0 && !bogus_avoltag, &mut rest);
    let device_id = if element_type == ElementType::DataTransfer {
        parse_device_id(rest)
    } else {
        None
    };

    Element {
        element_type,
        address: head.address.get(),
        full: head.flags & ELEM_FULL != 0,
        except: head.flags & ELEM_EXCEPT != 0,
        access: head.flags & ELEM_ACCESS != 0,
        import_export: element_type == ElementType::ImportExport && head.flags & ELEM_IMPEXP != 0,
        asc: head.asc,
        ascq: head.ascq,
        source_address: svalid.then(|| head.source_address.get()),
        invert: svalid && head.source_flags & ELEM_INVERT != 0,
        primary_tag,
        alternate_tag,
        device_id,
    }
}

/// Take a 36-byte volume tag off the front of `rest` when the page says
/// it is present and the descriptor holds it.
fn take_tag(present: bool, rest: &mut &[u8]) -> Option<String> {
    if !present || rest.len() < VOLUME_TAG_LEN {
        return None;
    }
    let (tag, tail) = rest.split_at(VOLUME_TAG_LEN);
    *rest = tail;
    VolumeTag::read_from_bytes(tag)
        .ok()
        .and_then(|t| volume_identifier(&t.identifier))
}

/// A volume identifier as text: stops at the first NUL, trims spaces;
/// `None` when blank. Non-ASCII bytes are replaced (never trusted).
pub fn volume_identifier(raw: &[u8]) -> Option<String> {
    let raw = raw.split(|&b| b == 0).next().unwrap_or(&[]);
    let text: String = raw
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// True when `rest` is one device identification (code set 1..=3, a
/// non-empty identifier) that fills it exactly.
fn is_exact_device_id(rest: &[u8]) -> bool {
    DeviceIdHead::read_from_prefix(rest).is_ok_and(|(h, body)| {
        (1..=3).contains(&(h.code_set & 0x0f))
            && h.identifier_length > 0
            && h.identifier_length as usize == body.len()
    })
}

/// Decode the device identification part (code set, type, length, identifier).
fn parse_device_id(rest: &[u8]) -> Option<DeviceIdentifier> {
    let (head, body) = DeviceIdHead::read_from_prefix(rest).ok()?;
    let len = (head.identifier_length as usize).min(body.len());
    if len == 0 {
        return None;
    }
    let ident = &body[..len];
    let code_set = head.code_set & 0x0f;
    let identifier_type = head.identifier_type & 0x0f;
    let text_like = code_set == CODE_SET_ASCII || code_set == 3;
    let identifier = if text_like {
        volume_identifier(ident).unwrap_or_default()
    } else {
        ident.iter().map(|b| format!("{b:02x}")).collect()
    };
    let (vendor, product, serial) = match (text_like, identifier_type) {
        (true, ID_TYPE_T10_VENDOR) => {
            let field = |from: usize, to: usize| {
                ident
                    .get(from..to.min(ident.len()))
                    .and_then(volume_identifier)
            };
            (field(0, 8), field(8, 24), field(24, ident.len()))
        }
        (true, ID_TYPE_VENDOR_SPECIFIC) => (None, None, volume_identifier(ident)),
        _ => (None, None, None),
    };
    Some(DeviceIdentifier {
        code_set,
        identifier_type,
        identifier,
        vendor,
        product,
        serial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(kind: u8, flags: u8, desc_len: u16, descs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = descs.concat();
        let mut p = vec![kind, flags];
        p.extend_from_slice(&desc_len.to_be_bytes());
        p.push(0);
        p.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        p.extend_from_slice(&body);
        p
    }

    fn report(first: u16, n: u16, pages: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = pages.concat();
        let mut r = first.to_be_bytes().to_vec();
        r.extend_from_slice(&n.to_be_bytes());
        r.push(0);
        r.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        r.extend_from_slice(&body);
        r
    }

    fn slot_desc(addr: u16, full: bool, tag: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 12 + 36];
        d[0..2].copy_from_slice(&addr.to_be_bytes());
        d[2] = if full {
            ELEM_FULL | ELEM_ACCESS
        } else {
            ELEM_ACCESS
        };
        d[12..12 + tag.len()].copy_from_slice(tag);
        d
    }

    #[test]
    fn storage_page_with_tags() {
        let bytes = report(
            0x1000,
            2,
            &[page(
                2,
                PAGE_PVOLTAG,
                48,
                &[
                    slot_desc(0x1000, true, b"ABC001L9                        "),
                    slot_desc(0x1001, false, &[]),
                ],
            )],
        );
        let r = parse_element_status(&bytes).unwrap();
        assert!(!r.truncated);
        assert_eq!(r.elements.len(), 2);
        assert_eq!(r.elements[0].primary_tag.as_deref(), Some("ABC001L9"));
        assert!(r.elements[0].full);
        assert_eq!(r.elements[1].address, 0x1001);
        assert_eq!(r.elements[1].primary_tag, None);
    }

    #[test]
    fn nul_padded_tag_is_trimmed() {
        assert_eq!(
            volume_identifier(b"CLN001CU\0\0\0\0garbage"),
            Some("CLN001CU".into())
        );
        assert_eq!(volume_identifier(b"   \0  "), None);
    }

    #[test]
    fn truncated_report_keeps_complete_descriptors_only() {
        let full = report(
            0x1000,
            2,
            &[page(
                2,
                PAGE_PVOLTAG,
                48,
                &[
                    slot_desc(0x1000, true, b"A1"),
                    slot_desc(0x1001, true, b"A2"),
                ],
            )],
        );
        let r = parse_element_status(&full[..8 + 8 + 48 + 20]).unwrap();
        assert!(r.truncated);
        assert_eq!(r.elements.len(), 1);
        assert_eq!(r.elements[0].primary_tag.as_deref(), Some("A1"));
    }

    #[test]
    fn drive_with_t10_dvcid_and_source() {
        let mut d = vec![0u8; 12 + 36 + 4 + 34];
        d[0..2].copy_from_slice(&0x100u16.to_be_bytes());
        d[2] = ELEM_FULL | ELEM_ACCESS;
        d[9] = ELEM_SVALID;
        d[10..12].copy_from_slice(&0x1002u16.to_be_bytes());
        d[12..20].copy_from_slice(b"ABC003L9");
        d[48..52].copy_from_slice(&[CODE_SET_ASCII, ID_TYPE_T10_VENDOR, 0, 34]);
        d[52..86].copy_from_slice(b"IBM     ULT3580-HH9     10WT012345");
        let bytes = report(0x100, 1, &[page(4, PAGE_PVOLTAG, 86, &[d])]);
        let e = &parse_element_status(&bytes).unwrap().elements[0];
        assert_eq!(e.element_type, ElementType::DataTransfer);
        assert_eq!(e.source_address, Some(0x1002));
        let id = e.device_id.as_ref().unwrap();
        assert_eq!(id.vendor.as_deref(), Some("IBM"));
        assert_eq!(id.product.as_deref(), Some("ULT3580-HH9"));
        assert_eq!(id.serial.as_deref(), Some("10WT012345"));
    }

    #[test]
    fn bogus_avoltag_on_drives_keeps_the_dvcid() {
        let mut d = vec![0u8; 12 + 4 + 10];
        d[0..2].copy_from_slice(&0x1f4u16.to_be_bytes());
        d[12..16].copy_from_slice(&[CODE_SET_ASCII, ID_TYPE_VENDOR_SPECIFIC, 0, 10]);
        d[16..26].copy_from_slice(b"XYZZY_B1  ");
        let bytes = report(0x1f4, 1, &[page(4, PAGE_AVOLTAG, 26, &[d])]);
        let e = &parse_element_status(&bytes).unwrap().elements[0];
        assert_eq!(e.alternate_tag, None);
        let id = e.device_id.as_ref().unwrap();
        assert_eq!(id.serial.as_deref(), Some("XYZZY_B1"));
    }

    #[test]
    fn zero_descriptor_length_is_an_error_not_a_loop() {
        let bytes = report(0, 1, &[page(2, 0, 0, &[vec![0; 12]])]);
        assert!(matches!(
            parse_element_status(&bytes),
            Err(ElementStatusError::BadDescriptorLength { .. })
        ));
    }
}
