//! The emulated drive's own byte-level encoders for SPC data: log pages
//! (SPC-5 7.3), attribute lists (SPC-5 7.4), mode parameter headers and
//! block descriptors (SPC-5 7.5, SSC-5 8.3.1), written from the
//! standard's tables and not with the drive layer's structs (see
//! `ssc_wire`). The numbers (page codes, parameter codes, attribute ids)
//! come from `crate::spec`; the layouts are spelled out here per field.

/// `value` big endian in `width` bytes (1..=8), saturating at the largest
/// value the field holds (counters of SPC log parameters and binary
/// attributes saturate rather than wrap).
pub(crate) fn be_field(value: u64, width: usize) -> Vec<u8> {
    let width = width.clamp(1, 8);
    let max = if width == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    let v = value.min(max);
    (0..width).rev().map(|i| (v >> (8 * i)) as u8).collect()
}

/// An ASCII field of `len` bytes: left-aligned, padded with spaces (SPC-5
/// 4.3.2), cut when longer.
pub(crate) fn ascii_field(text: &str, len: usize) -> Vec<u8> {
    let mut out = vec![b' '; len];
    for (dst, src) in out.iter_mut().zip(text.bytes()) {
        *dst = src;
    }
    out
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// One log parameter: PARAMETER CODE, the control byte (DU, TSD, ETC, TMC,
/// FORMAT AND LINKING) and the value.
pub(crate) type LogParam = (u16, u8, Vec<u8>);

/// A log page (SPC-5 7.3.2): byte 0 DS, SPF (0) and PAGE CODE (bits 5..0),
/// byte 1 SUBPAGE CODE (0), bytes 2..3 PAGE LENGTH (bytes after the
/// header), then per parameter (SPC-5 7.3.2.2): bytes 0..1 PARAMETER CODE,
/// byte 2 control, byte 3 PARAMETER LENGTH, the value (at most 255 bytes).
pub(crate) fn log_page(page: u8, params: &[LogParam]) -> Vec<u8> {
    let mut out = vec![page & 0x3f, 0, 0, 0];
    for (code, control, value) in params {
        let value = &value[..value.len().min(255)];
        out.extend_from_slice(&code.to_be_bytes());
        out.push(*control);
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    set_log_length(&mut out);
    out
}

/// The supported pages page (SPC-5 7.3.18): the header, then one byte per
/// page code instead of parameters.
pub(crate) fn supported_log_pages(pages: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00, 0, 0, 0];
    out.extend_from_slice(pages);
    set_log_length(&mut out);
    out
}

fn set_log_length(page: &mut [u8]) {
    let len = (page.len() - 4).min(usize::from(u16::MAX)) as u16;
    page[2..4].copy_from_slice(&len.to_be_bytes());
}

/// Volume statistics partition record descriptors (SSC-5 8.2.8, "volume
/// statistics partition record descriptor"): byte 0 PARTITION RECORD
/// LENGTH (bytes after it: 3 + width), byte 1 reserved, bytes 2..3
/// PARTITION NUMBER, then the value in `width` bytes.
pub(crate) fn partition_records(values: &[(u16, u64)], width: usize) -> Vec<u8> {
    let width = width.clamp(1, 8);
    let mut out = Vec::new();
    for (partition, value) in values {
        out.push((3 + width) as u8);
        out.push(0);
        out.extend_from_slice(&partition.to_be_bytes());
        out.extend_from_slice(&be_field(*value, width));
    }
    out
}

/// One attribute (SPC-5 7.4.1, "MAM attribute format"): bytes 0..1
/// ATTRIBUTE IDENTIFIER, byte 2 READ ONLY (bit 7) and FORMAT (bits 1..0),
/// bytes 3..4 ATTRIBUTE LENGTH, the value.
pub(crate) fn attribute(out: &mut Vec<u8>, id: u16, read_only: bool, format: u8, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&id.to_be_bytes());
    out.push((format & 0x03) | if read_only { 0x80 } else { 0 });
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// READ ATTRIBUTE data (SPC-5 6.21.2): bytes 0..3 AVAILABLE DATA (the
/// bytes after this field), then `body`.
pub(crate) fn with_available_data(body: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(body.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(body);
    out
}

/// An attribute of a WRITE ATTRIBUTE parameter list: its identifier,
/// FORMAT bits, and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedAttribute<'a> {
    pub id: u16,
    pub format: u8,
    pub value: &'a [u8],
}

/// Walk the attributes after the 4-byte header of a WRITE ATTRIBUTE
/// parameter list. `Err(byte)`: the attribute at that byte offset is
/// truncated (its header, or its value: offset + 3, the length field).
pub(crate) fn parse_attribute_list(list: &[u8]) -> Result<Vec<ListedAttribute<'_>>, usize> {
    let mut out = Vec::new();
    let mut pos = 4;
    while pos < list.len() {
        let Some(h) = list.get(pos..pos + 5) else {
            return Err(pos);
        };
        let id = u16::from_be_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let Some(value) = list.get(pos + 5..pos + 5 + len) else {
            return Err(pos + 3);
        };
        out.push(ListedAttribute {
            id,
            format: h[2] & 0x03,
            value,
        });
        pos += 5 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert_eq!(be_field(0x0102, 2), vec![1, 2]);
        assert_eq!(be_field(0x1_0000, 2), vec![0xff, 0xff]);
        assert_eq!(be_field(5, 8), vec![0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(ascii_field("AB", 4), b"AB  ".to_vec());
        assert_eq!(ascii_field("ABCDE", 4), b"ABCD".to_vec());
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
    }

    #[test]
    fn log_page_bytes() {
        // SPC-5 table 341/342: header, then code, control, length, value.
        let page = log_page(
            0x31,
            &[(0x0001, 0x00, vec![0, 0, 0, 7]), (0x0003, 0x03, vec![9])],
        );
        assert_eq!(
            page,
            vec![
                0x31, 0, 0, 13, //
                0, 1, 0x00, 4, 0, 0, 0, 7, //
                0, 3, 0x03, 1, 9
            ]
        );
        assert_eq!(
            supported_log_pages(&[0x00, 0x17]),
            vec![0, 0, 0, 2, 0, 0x17]
        );
        assert_eq!(
            partition_records(&[(0, 300)], 4),
            vec![7, 0, 0, 0, 0, 0, 1, 44]
        );
    }

    #[test]
    fn attribute_bytes() {
        let mut a = Vec::new();
        attribute(&mut a, 0x0401, true, 1, b"AB");
        assert_eq!(a, vec![0x04, 0x01, 0x81, 0, 2, b'A', b'B']);
        let list = with_available_data(&a);
        assert_eq!(&list[..4], &[0, 0, 0, 7]);
        let parsed = parse_attribute_list(&list).unwrap();
        assert_eq!(
            parsed,
            vec![ListedAttribute {
                id: 0x0401,
                format: 1,
                value: b"AB"
            }]
        );
        assert_eq!(parse_attribute_list(&list[..list.len() - 1]), Err(7));
        assert_eq!(parse_attribute_list(&list[..6]), Err(4));
    }
}
