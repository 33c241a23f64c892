//! REPORT DENSITY SUPPORT (0x44, SSC-5 6.13) of the emulated drive: the
//! LTO densities its generation reads (WRTOK for those it writes), or with
//! MEDIA=1 the density of the loaded cartridge with its capacity.

use super::super::cdb::{Cdb, CdbResult, CheckCondition};
use super::{drive_density, medium, respond, InfoContext};
use crate::emulator::ssc_wire::{density_support, Density};
use crate::scsi::DataDirection;
use crate::spec::lto::drive_densities;

/// REPORT DENSITY SUPPORT (0x44). MEDIUM TYPE=1 (medium type descriptors)
/// is not supported: 05/2400.
pub fn report_density_support(
    ctx: &mut InfoContext<'_>,
    raw: &[u8],
    data: DataDirection<'_>,
) -> CdbResult {
    let cdb = Cdb::parse(raw)?;
    cdb.reserved(1, 0xfe)?;
    cdb.reserved_bytes(2..7)?;
    let media = cdb.bit(1, 0);
    let alloc = usize::from(cdb.be16(7));
    let own = drive_density(ctx.config);
    let descriptors: Vec<Density> = if media {
        let m = medium(ctx)?;
        let mut d = Density::lto(&own);
        d.default = true;
        d.writable = true;
        d.capacity_mb = u32::try_from(m.cartridge.capacity / 1_000_000).unwrap_or(u32::MAX);
        vec![d]
    } else {
        drive_densities(own.generation)
            .iter()
            .map(|(info, writable)| {
                let mut d = Density::lto(info);
                d.writable = *writable;
                d.default = info.density_code == own.density_code;
                d
            })
            .collect()
    };
    if descriptors.is_empty() {
        return Err(CheckCondition::invalid_field_in_cdb(1, Some(0)));
    }
    respond(data, alloc, &density_support(&descriptors))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_illegal, Fixture};
    use crate::drive::density::decode_density_support;
    use crate::scsi::SenseKey;

    fn rds(media: bool, alloc: u16) -> [u8; 10] {
        let [a0, a1] = alloc.to_be_bytes();
        [0x44, u8::from(media), 0, 0, 0, 0, 0, a0, a1, 0]
    }

    #[test]
    fn lists_drive_densities() {
        let mut f = Fixture::new();
        let list = decode_density_support(&f.read(&rds(false, 1000), 1000).unwrap()).unwrap();
        let codes: Vec<(u8, bool, bool)> = list
            .iter()
            .map(|d| (d.primary_density_code, d.writable, d.default))
            .collect();
        assert_eq!(codes, vec![(0x5e, true, false), (0x60, true, true)]);
        assert_eq!(list[1].density_name, "U-932");
        assert_eq!(list[1].assigning_organization, "LTO-CVE");
        f.config.lto_generation = 7;
        let list = decode_density_support(&f.read(&rds(false, 1000), 1000).unwrap()).unwrap();
        assert_eq!(list.len(), 3);
        assert!(!list[0].writable, "LTO-5 is read-only in an LTO-7 drive");
    }

    #[test]
    fn media_bit_reports_the_cartridge() {
        let mut f = Fixture::new();
        let list = decode_density_support(&f.read(&rds(true, 1000), 1000).unwrap()).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].capacity_mb, (2u64 << 30) as u32 / 1_000_000);
        assert!(list[0].default);
        f.loaded = false;
        let e = f.read(&rds(true, 1000), 1000).unwrap_err();
        assert!(e.sense.is(SenseKey::NotReady, 0x3a, 0));
    }

    #[test]
    fn truncation_and_bad_cdbs() {
        let mut f = Fixture::new();
        let short = f.read(&rds(false, 60), 1000).unwrap();
        assert_eq!(short.len(), 60);
        assert_eq!(decode_density_support(&short).unwrap().len(), 1);
        assert_illegal(
            &f.read(&[0x44, 0x02, 0, 0, 0, 0, 0, 0, 100, 0], 100)
                .unwrap_err(),
            0x24,
            Some(1),
        );
        assert_illegal(
            &f.read(&[0x44, 0, 0, 0, 0, 1, 0, 0, 100, 0], 100)
                .unwrap_err(),
            0x24,
            Some(5),
        );
    }
}
