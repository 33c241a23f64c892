//! Densities: REPORT DENSITY SUPPORT (SSC-5 6.13) and the table of LTO
//! generations by density code.
//!
//! Density codes and descriptor values are the ones LTO drives report
//! (IBM, HPE and Quantum LTO SCSI reference manuals). LTO-10: no vendor
//! manual was at hand; we use density code 0x63, the code a public source
//! gives for an LTO-10 drive, and report bits per mm and tracks as 0
//! (unknown) - real drives are decoded from what they report anyway.

use serde::Serialize;
use zerocopy::byteorder::big_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::decode::{ascii_field, decode_error, space_padded, with_device};
use super::info_io;
use super::DriveError;
use crate::scsi::opcodes::REPORT_DENSITY_SUPPORT;
use crate::scsi::ScsiTransport;

/// Header of the REPORT DENSITY SUPPORT data (SSC-5 table 46).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DensityHeader {
    /// Bytes following this field.
    pub available_length: U16,
    pub reserved: [u8; 2],
}

/// Density support data block descriptor (SSC-5 table 47), 52 bytes.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct DensityDescriptorWire {
    pub primary_density_code: u8,
    pub secondary_density_code: u8,
    /// WRTOK (bit 7), DUP (bit 6), DEFLT (bit 5), DLV (bit 0).
    pub flags: u8,
    /// Bytes following this field (0x0030) when DLV is set; reserved before SSC-3.
    pub descriptor_length: U16,
    pub bits_per_mm: [u8; 3],
    /// Tenths of a millimetre.
    pub media_width: U16,
    pub tracks: U16,
    /// Capacity in MB (10^6 bytes per SSC; some old IBM firmware used MiB).
    pub capacity: U32,
    pub assigning_organization: [u8; 8],
    pub density_name: [u8; 8],
    pub description: [u8; 20],
}

pub const FLAG_WRTOK: u8 = 0x80;
pub const FLAG_DUP: u8 = 0x40;
pub const FLAG_DEFLT: u8 = 0x20;
pub const FLAG_DLV: u8 = 0x01;
/// DESCRIPTOR LENGTH value of a 52-byte descriptor.
pub const DESCRIPTOR_LENGTH: u16 = 0x30;
/// Size of one descriptor, header to description.
pub const DESCRIPTOR_SIZE: usize = std::mem::size_of::<DensityDescriptorWire>();

/// One decoded density descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DensityDescriptor {
    pub primary_density_code: u8,
    pub secondary_density_code: u8,
    /// The drive can write this density.
    pub writable: bool,
    pub duplicate: bool,
    /// Default density (with MEDIA=1: the density of the loaded medium).
    pub default: bool,
    pub bits_per_mm: u32,
    /// Tenths of a millimetre.
    pub media_width: u16,
    pub tracks: u16,
    /// Capacity in MB as reported.
    pub capacity_mb: u32,
    pub assigning_organization: String,
    pub density_name: String,
    pub description: String,
}

impl DensityDescriptor {
    /// The wire form of this descriptor (DLV set, descriptor length 0x30).
    pub fn to_wire(&self) -> DensityDescriptorWire {
        let bpm = self.bits_per_mm.min(0x00ff_ffff).to_be_bytes();
        let flags = FLAG_DLV
            | if self.writable { FLAG_WRTOK } else { 0 }
            | if self.duplicate { FLAG_DUP } else { 0 }
            | if self.default { FLAG_DEFLT } else { 0 };
        DensityDescriptorWire {
            primary_density_code: self.primary_density_code,
            secondary_density_code: self.secondary_density_code,
            flags,
            descriptor_length: U16::new(DESCRIPTOR_LENGTH),
            bits_per_mm: [bpm[1], bpm[2], bpm[3]],
            media_width: U16::new(self.media_width),
            tracks: U16::new(self.tracks),
            capacity: U32::new(self.capacity_mb),
            assigning_organization: padded(&self.assigning_organization),
            density_name: padded(&self.density_name),
            description: padded(&self.description),
        }
    }
}

/// ASCII field padded with spaces (cut to the field size).
pub fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [b' '; N];
    out.copy_from_slice(&space_padded(text, N));
    out
}

/// Decode REPORT DENSITY SUPPORT data (MEDIUM TYPE = 0). Descriptors are
/// walked by their stated length when DLV is set, else 52 bytes each; a
/// descriptor cut off by the allocation length ends the list.
pub fn decode_density_support(bytes: &[u8]) -> Result<Vec<DensityDescriptor>, DriveError> {
    let what = "REPORT DENSITY SUPPORT data";
    let (header, rest) = DensityHeader::ref_from_prefix(bytes).map_err(|_| {
        decode_error(
            what,
            format!("{} bytes, shorter than the 4-byte header", bytes.len()),
        )
    })?;
    // available_length counts from byte 2 on.
    let stated = usize::from(header.available_length.get()).saturating_sub(2);
    let mut body = &rest[..stated.min(rest.len())];
    let mut out = Vec::new();
    while let Ok((d, _)) = DensityDescriptorWire::ref_from_prefix(body) {
        let step = if d.flags & FLAG_DLV != 0 {
            4 + usize::from(d.descriptor_length.get())
        } else {
            DESCRIPTOR_SIZE
        };
        if step < DESCRIPTOR_SIZE {
            return Err(decode_error(
                what,
                format!(
                    "descriptor length {:#06x} is too small",
                    d.descriptor_length.get()
                ),
            ));
        }
        let [a, b, c] = d.bits_per_mm;
        out.push(DensityDescriptor {
            primary_density_code: d.primary_density_code,
            secondary_density_code: d.secondary_density_code,
            writable: d.flags & FLAG_WRTOK != 0,
            duplicate: d.flags & FLAG_DUP != 0,
            default: d.flags & FLAG_DEFLT != 0,
            bits_per_mm: u32::from_be_bytes([0, a, b, c]),
            media_width: d.media_width.get(),
            tracks: d.tracks.get(),
            capacity_mb: d.capacity.get(),
            assigning_organization: ascii_field(&d.assigning_organization),
            density_name: ascii_field(&d.density_name),
            description: ascii_field(&d.description),
        });
        body = body.get(step..).unwrap_or(&[]);
    }
    Ok(out)
}

/// Encode REPORT DENSITY SUPPORT data (test captures; the emulator has its own encoder).
pub fn encode_density_support(descriptors: &[DensityDescriptor]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + descriptors.len() * DESCRIPTOR_SIZE);
    let available = (2 + descriptors.len() * DESCRIPTOR_SIZE).min(usize::from(u16::MAX)) as u16;
    out.extend_from_slice(
        DensityHeader {
            available_length: U16::new(available),
            reserved: [0; 2],
        }
        .as_bytes(),
    );
    for d in descriptors {
        out.extend_from_slice(d.to_wire().as_bytes());
    }
    out
}

/// REPORT DENSITY SUPPORT (opcode 0x44, SSC-5 6.13). `media`: report only
/// the densities of the loaded medium (MEDIA bit) instead of all the drive
/// supports.
pub fn report_density_support(
    t: &mut dyn ScsiTransport,
    device: &str,
    media: bool,
) -> Result<Vec<DensityDescriptor>, DriveError> {
    const ALLOC: u16 = 4 + 20 * DESCRIPTOR_SIZE as u16;
    let [hi, lo] = ALLOC.to_be_bytes();
    let cdb = [
        REPORT_DENSITY_SUPPORT,
        u8::from(media),
        0,
        0,
        0,
        0,
        0,
        hi,
        lo,
        0,
    ];
    let bytes = info_io::data_in(
        t,
        device,
        "REPORT DENSITY SUPPORT",
        "REPORT DENSITY SUPPORT",
        &cdb,
        usize::from(ALLOC),
    )?;
    decode_density_support(&bytes).map_err(|e| with_device(e, device))
}

pub use crate::spec::lto::{
    drive_densities, lto_density_of_generation, lto_generation, LtoInfo, LTO7_TYPE_M,
    LTO_ASSIGNING_ORGANIZATION, LTO_DENSITIES, LTO_MEDIA_WIDTH,
};

impl From<&LtoInfo> for DensityDescriptor {
    fn from(i: &LtoInfo) -> Self {
        DensityDescriptor {
            primary_density_code: i.density_code,
            secondary_density_code: i.density_code,
            writable: true,
            duplicate: false,
            default: false,
            bits_per_mm: i.bits_per_mm,
            media_width: LTO_MEDIA_WIDTH,
            tracks: i.tracks,
            capacity_mb: (i.native_capacity_bytes / 1_000_000).min(u64::from(u32::MAX)) as u32,
            assigning_organization: LTO_ASSIGNING_ORGANIZATION.to_string(),
            density_name: i.density_name.to_string(),
            description: i.description.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What our encoder makes for an LTO-9 drive with MEDIA=0: LTO-8 then
    /// LTO-9 descriptors, the second being the default.
    fn lto9_sample() -> Vec<u8> {
        let mut d8 = DensityDescriptor::from(&lto_generation(0x5E).unwrap());
        let mut d9 = DensityDescriptor::from(&lto_generation(0x60).unwrap());
        d8.writable = true;
        d9.default = true;
        encode_density_support(&[d8, d9])
    }

    #[test]
    fn decodes_descriptor_bytes() {
        let bytes = lto9_sample();
        assert_eq!(&bytes[..4], &[0x00, 0x6a, 0, 0]);
        let second = &bytes[4 + 52..];
        assert_eq!(second[0], 0x60);
        assert_eq!(second[2], 0xA1, "WRTOK | DEFLT | DLV");
        assert_eq!(&second[3..5], &[0x00, 0x30]);
        assert_eq!(&second[5..8], &[0x00, 0x59, 0xF7], "23031 bits per mm");
        assert_eq!(&second[8..10], &[0x00, 127]);
        assert_eq!(&second[16..24], b"LTO-CVE ");
        assert_eq!(&second[24..32], b"U-932   ");
        let list = decode_density_support(&bytes).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].primary_density_code, 0x60);
        assert!(list[1].default && list[1].writable);
        assert_eq!(list[1].capacity_mb, 18_000_000);
        assert_eq!(list[1].tracks, 8960);
        assert_eq!(list[1].description, "Ultrium 9/32T");
    }

    /// `sg_rep_density -HHH` of an HP LTO-5 drive (sg3_utils
    /// inhex/rep_density.hex): LTO-3 read-only, LTO-4, LTO-5 default;
    /// DLV clear, descriptor length bytes zero.
    const SG3_REP_DENSITY: &str = "
        00 9e 00 00 44 44 00 00  00 00 25 a6 00 7f 02 c0
        00 06 1a 80 4c 54 4f 2d  43 56 45 20 55 2d 33 31
        36 20 20 20 55 6c 74 72  69 75 6d 20 33 2f 31 36
        54 20 20 20 20 20 20 20  46 46 80 00 00 00 31 b5
        00 7f 03 80 00 0c 35 00  4c 54 4f 2d 43 56 45 20
        55 2d 34 31 36 20 20 20  55 6c 74 72 69 75 6d 20
        34 2f 31 36 54 20 20 20  20 20 20 20 58 58 a0 00
        00 00 3b 26 00 7f 05 00  00 16 e3 60 4c 54 4f 2d
        43 56 45 20 55 2d 35 31  36 20 20 20 55 6c 74 72
        69 75 6d 20 35 2f 31 36  54 20 20 20 20 20 20 20";

    /// The same drive with MEDIA=1 (inhex/rep_density_media.hex): the
    /// loaded LTO-5 cartridge with its actual capacity.
    const SG3_REP_DENSITY_MEDIA: &str = "
        00 36 00 00 58 58 a0 00  00 00 3b 26 00 7f 05 00
        00 17 85 3e 4c 54 4f 2d  43 56 45 20 55 2d 35 31
        36 20 20 20 55 6c 74 72  69 75 6d 20 35 2f 31 36
        54 20 20 20 20 20 20 20";

    fn unhex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_real_drive_captures() {
        let list = decode_density_support(&unhex(SG3_REP_DENSITY)).unwrap();
        assert_eq!(list.len(), 3);
        for (d, code) in list.iter().zip([0x44u8, 0x46, 0x58]) {
            let info = lto_generation(code).unwrap();
            assert_eq!(d.primary_density_code, code);
            assert_eq!(d.bits_per_mm, info.bits_per_mm, "{}", info.name);
            assert_eq!(d.tracks, info.tracks, "{}", info.name);
            assert_eq!(d.density_name, info.density_name);
            assert_eq!(d.description, info.description);
            assert_eq!(
                u64::from(d.capacity_mb) * 1_000_000,
                info.native_capacity_bytes
            );
            assert_eq!(d.assigning_organization, LTO_ASSIGNING_ORGANIZATION);
            assert_eq!(d.media_width, LTO_MEDIA_WIDTH);
        }
        assert!(!list[0].writable && list[1].writable && list[2].writable);
        assert!(list[2].default && !list[1].default);
        let media = decode_density_support(&unhex(SG3_REP_DENSITY_MEDIA)).unwrap();
        assert_eq!(media.len(), 1);
        assert_eq!(media[0].capacity_mb, 1_541_438);
        // Our encoder writes the same bytes apart from DLV and descriptor length.
        let ours = encode_density_support(&list);
        let theirs = unhex(SG3_REP_DENSITY);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let in_desc = (i >= 4).then(|| (i - 4) % DESCRIPTOR_SIZE);
            match in_desc {
                Some(2) => assert_eq!(a & !FLAG_DLV, *b, "byte {i}"),
                Some(3) | Some(4) => {}
                _ => assert_eq!(a, b, "byte {i}"),
            }
        }
    }

    #[test]
    fn decodes_pre_ssc3_descriptor_without_dlv() {
        // HP Ultrium 2 manual layout: bytes 3-4 reserved (zero), DLV clear.
        let mut d = DensityDescriptor::from(&lto_generation(0x42).unwrap())
            .to_wire()
            .as_bytes()
            .to_vec();
        d[2] = 0xA0;
        d[3] = 0;
        d[4] = 0;
        let mut bytes = vec![0x00, 0x36, 0, 0];
        bytes.extend_from_slice(&d);
        let list = decode_density_support(&bytes).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].density_name, "U-28");
        assert_eq!(list[0].bits_per_mm, 7398);
    }

    #[test]
    fn truncated_input() {
        let bytes = lto9_sample();
        for cut in 0..bytes.len() {
            let res = decode_density_support(&bytes[..cut]);
            match cut {
                0..=3 => assert!(res.is_err()),
                4..=55 => assert_eq!(res.unwrap().len(), 0),
                56..=107 => assert_eq!(res.unwrap().len(), 1),
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn generation_table() {
        let info = lto_generation(0x60).unwrap();
        assert_eq!((info.generation, info.name), (9, "LTO-9"));
        assert_eq!(info.native_capacity_bytes, 18_000_000_000_000);
        assert_eq!(lto_generation(0x5D).unwrap().name, "LTO-7 Type M");
        assert_eq!(lto_generation(0x46).unwrap().generation, 4);
        assert_eq!(lto_generation(0x01), None);
        assert_eq!(lto_density_of_generation(7).unwrap().density_code, 0x5C);
        let d7: Vec<(u8, bool)> = drive_densities(7)
            .iter()
            .map(|(i, w)| (i.density_code, *w))
            .collect();
        assert_eq!(d7, vec![(0x58, false), (0x5A, true), (0x5C, true)]);
        let d8: Vec<u8> = drive_densities(8)
            .iter()
            .map(|(i, _)| i.density_code)
            .collect();
        assert_eq!(d8, vec![0x5C, 0x5D, 0x5E]);
        assert_eq!(drive_densities(10).len(), 1);
    }
}
