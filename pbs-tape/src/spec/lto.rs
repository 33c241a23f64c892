//! LTO formats: density codes, generations, capacities and the
//! generations a drive reads and writes (LTO Consortium format
//! specifications as the drive vendors' SCSI references list them). Facts
//! only: the drive layer names what a drive reports with them, the
//! emulator answers REPORT DENSITY SUPPORT and MODE SENSE from them.

use serde::Serialize;

/// What an LTO density code stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LtoInfo {
    pub density_code: u8,
    pub generation: u8,
    /// "LTO-9", "LTO-7 Type M".
    pub name: &'static str,
    pub native_capacity_bytes: u64,
    /// Cartridge type: "LTO-9 data cartridge", "LTO-7 cartridge formatted as M8".
    pub medium_type: &'static str,
    pub bits_per_mm: u32,
    pub tracks: u16,
    /// REPORT DENSITY SUPPORT density name, "U-932".
    pub density_name: &'static str,
    /// REPORT DENSITY SUPPORT description, "Ultrium 9/32T".
    pub description: &'static str,
}

/// Assigning organization of LTO densities.
pub const LTO_ASSIGNING_ORGANIZATION: &str = "LTO-CVE";
/// Width of LTO tape in tenths of a millimetre (12.65 mm).
pub const LTO_MEDIA_WIDTH: u16 = 127;

/// Density code of an LTO-7 cartridge formatted as Type M (M8) by an LTO-8 drive.
pub const LTO7_TYPE_M: u8 = 0x5D;

#[allow(clippy::too_many_arguments)] // one row of the table below
const fn lto(
    density_code: u8,
    generation: u8,
    name: &'static str,
    tb_tenths: u64,
    medium_type: &'static str,
    bits_per_mm: u32,
    tracks: u16,
    density_name: &'static str,
    description: &'static str,
) -> LtoInfo {
    LtoInfo {
        density_code,
        generation,
        name,
        native_capacity_bytes: tb_tenths * 100_000_000_000,
        medium_type,
        bits_per_mm,
        tracks,
        density_name,
        description,
    }
}

/// Every LTO density, oldest first.
pub static LTO_DENSITIES: [LtoInfo; 11] = [
    lto(
        0x40,
        1,
        "LTO-1",
        1,
        "LTO-1 data cartridge",
        4880,
        384,
        "U-18",
        "Ultrium 1/8T",
    ),
    lto(
        0x42,
        2,
        "LTO-2",
        2,
        "LTO-2 data cartridge",
        7398,
        512,
        "U-28",
        "Ultrium 2/8T",
    ),
    lto(
        0x44,
        3,
        "LTO-3",
        4,
        "LTO-3 data cartridge",
        9638,
        704,
        "U-316",
        "Ultrium 3/16T",
    ),
    lto(
        0x46,
        4,
        "LTO-4",
        8,
        "LTO-4 data cartridge",
        12725,
        896,
        "U-416",
        "Ultrium 4/16T",
    ),
    lto(
        0x58,
        5,
        "LTO-5",
        15,
        "LTO-5 data cartridge",
        15142,
        1280,
        "U-516",
        "Ultrium 5/16T",
    ),
    lto(
        0x5A,
        6,
        "LTO-6",
        25,
        "LTO-6 data cartridge",
        15142,
        2176,
        "U-616",
        "Ultrium 6/16T",
    ),
    lto(
        0x5C,
        7,
        "LTO-7",
        60,
        "LTO-7 data cartridge",
        19107,
        3584,
        "U-732",
        "Ultrium 7/32T",
    ),
    lto(
        0x5D,
        7,
        "LTO-7 Type M",
        90,
        "LTO-7 cartridge formatted as M8",
        19107,
        5376,
        "U-732M",
        "Ultrium M8/32T",
    ),
    lto(
        0x5E,
        8,
        "LTO-8",
        120,
        "LTO-8 data cartridge",
        20668,
        6656,
        "U-832",
        "Ultrium 8/32T",
    ),
    lto(
        0x60,
        9,
        "LTO-9",
        180,
        "LTO-9 data cartridge",
        23031,
        8960,
        "U-932",
        "Ultrium 9/32T",
    ),
    lto(
        0x63,
        10,
        "LTO-10",
        300,
        "LTO-10 data cartridge",
        0,
        0,
        "U-1032",
        "Ultrium 10/32T",
    ),
];

/// The LTO generation behind a density code.
pub fn lto_generation(density_code: u8) -> Option<LtoInfo> {
    LTO_DENSITIES
        .iter()
        .find(|i| i.density_code == density_code)
        .copied()
}

/// The regular (not Type M) density of an LTO generation.
pub fn lto_density_of_generation(generation: u8) -> Option<LtoInfo> {
    LTO_DENSITIES
        .iter()
        .find(|i| i.generation == generation && i.density_code != LTO7_TYPE_M)
        .copied()
}

/// Densities an LTO-`generation` drive reads, with whether it writes them
/// (LTO compatibility rules: up to LTO-7 read two generations back and
/// write one back; LTO-8 reads/writes LTO-7, M8 and LTO-8; LTO-9 LTO-8 and
/// LTO-9; LTO-10 only LTO-10).
pub fn drive_densities(generation: u8) -> Vec<(LtoInfo, bool)> {
    LTO_DENSITIES
        .iter()
        .filter_map(|i| {
            let g = generation;
            let (read, write) = match g {
                1..=7 => {
                    let regular = i.density_code != LTO7_TYPE_M;
                    let age = g.checked_sub(i.generation);
                    (
                        regular && age.is_some_and(|a| a <= 2),
                        regular && age.is_some_and(|a| a <= 1),
                    )
                }
                8 => (
                    (7..=8).contains(&i.generation),
                    (7..=8).contains(&i.generation),
                ),
                9 => (
                    (8..=9).contains(&i.generation),
                    (8..=9).contains(&i.generation),
                ),
                _ => (i.generation == g, i.generation == g),
            };
            read.then_some((*i, write))
        })
        .collect()
}
