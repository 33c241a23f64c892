//! The emulated drive's SSC information commands: MODE SENSE/SELECT,
//! LOG SENSE, READ/WRITE ATTRIBUTE (cartridge memory), REPORT DENSITY
//! SUPPORT and SECURITY PROTOCOL IN/OUT (tape data encryption).
//!
//! The drive dispatch calls [`execute`] for every CDB; `None` means the
//! opcode is not one of these. Every answer is encoded with the emulator's
//! own byte-level encoders (`spc_wire`, `ssc_wire`, and the page encoders
//! of [`mode`] and [`security`]), written from the standards' tables; only
//! numbers (page codes, parameter codes, attribute ids, the LTO density
//! table) come from `crate::spec`, shared with the drive layer. The tests
//! decode the answers with the drive layer: two readings that must agree.
//!
//! - [`mode`]: MODE SENSE(6)/(10), MODE SELECT(6)/(10).
//! - [`log`]: LOG SENSE pages 0x00, 0x12, 0x17, 0x2E, 0x31.
//! - [`attribute`]: READ ATTRIBUTE, WRITE ATTRIBUTE.
//! - [`density`]: REPORT DENSITY SUPPORT.
//! - [`security`]: SECURITY PROTOCOL IN/OUT.

pub mod attribute;
pub mod density;
pub mod log;
pub mod mode;
pub mod security;

use super::cdb::{CdbResult, CheckCondition};
use super::drive_state::{DriveSettings, MediumInfo};
use super::state::{Cartridge, LibraryConfig};
use crate::scsi::opcodes;
use crate::scsi::{Completion, DataDirection};
use crate::spec::lto::{lto_density_of_generation, LtoInfo, LTO_DENSITIES};

/// What the information commands see of the drive.
pub struct InfoContext<'a> {
    /// LTO generation, personality, capacity, max transfer.
    pub config: &'a LibraryConfig,
    /// Block size, compression, buffer mode, encryption, TapeAlert flags.
    pub settings: &'a mut DriveSettings,
    /// `None`: no cartridge loaded.
    pub medium: Option<MediumContext<'a>>,
    /// Set when `settings` changed (the caller persists them).
    pub settings_changed: bool,
    /// Set when `MediumInfo` changed (the caller persists it).
    pub medium_changed: bool,
}

/// The loaded cartridge.
pub struct MediumContext<'a> {
    pub cartridge: &'a Cartridge,
    pub info: &'a mut MediumInfo,
    /// Bytes on the medium up to end of data.
    pub used_bytes: u64,
    /// Current file number and logical object (block + filemark) number.
    pub file_number: u64,
    pub logical_object: u64,
}

/// Answer `cdb` if it is an information command; `None` otherwise.
pub fn execute(
    ctx: &mut InfoContext<'_>,
    cdb: &[u8],
    data: DataDirection<'_>,
) -> Option<CdbResult> {
    let opcode = *cdb.first()?;
    let result = match opcode {
        opcodes::MODE_SENSE_6 | opcodes::MODE_SENSE_10 => mode::mode_sense(ctx, cdb, data),
        opcodes::MODE_SELECT_6 | opcodes::MODE_SELECT_10 => mode::mode_select(ctx, cdb, data),
        opcodes::LOG_SENSE => log::log_sense(ctx, cdb, data),
        opcodes::READ_ATTRIBUTE => attribute::read_attribute(ctx, cdb, data),
        opcodes::WRITE_ATTRIBUTE => attribute::write_attribute(ctx, cdb, data),
        opcodes::REPORT_DENSITY_SUPPORT => density::report_density_support(ctx, cdb, data),
        opcodes::SECURITY_PROTOCOL_IN => security::security_protocol_in(ctx, cdb, data),
        opcodes::SECURITY_PROTOCOL_OUT => security::security_protocol_out(ctx, cdb, data),
        _ => return None,
    };
    Some(result)
}

/// The density of the emulated drive's own generation. LTO-10 uses 0x63
/// (see `crate::drive::density`); unknown generations fall back to LTO-9.
pub fn drive_density(config: &LibraryConfig) -> LtoInfo {
    lto_density_of_generation(config.lto_generation)
        .or_else(|| lto_density_of_generation(9))
        .unwrap_or(LTO_DENSITIES[9])
}

/// The data-in buffer of a command (empty for any other direction).
fn data_in_buffer<'b>(data: DataDirection<'b>) -> &'b mut [u8] {
    match data {
        DataDirection::FromDevice(buf) => buf,
        _ => &mut [],
    }
}

/// Send `response` truncated to the allocation length and the buffer.
fn respond(data: DataDirection<'_>, alloc: usize, response: &[u8]) -> CdbResult {
    let buf = data_in_buffer(data);
    let n = response.len().min(alloc).min(buf.len());
    buf[..n].copy_from_slice(&response[..n]);
    Ok(Completion {
        transferred: n,
        residual: buf.len() - n,
    })
}

/// The parameter list of a data-out command: exactly `len` bytes, or
/// PARAMETER LIST LENGTH ERROR when the buffer holds fewer.
fn parameter_list<'b>(data: &'b DataDirection<'_>, len: usize) -> Result<&'b [u8], CheckCondition> {
    match data {
        DataDirection::ToDevice(buf) if buf.len() >= len => Ok(&buf[..len]),
        _ if len == 0 => Ok(&[]),
        _ => Err(CheckCondition::parameter_list_length_error()),
    }
}

/// The loaded medium or NOT READY, MEDIUM NOT PRESENT.
fn medium<'c, 'a>(
    ctx: &'c mut InfoContext<'a>,
) -> Result<&'c mut MediumContext<'a>, CheckCondition> {
    ctx.medium
        .as_mut()
        .ok_or_else(CheckCondition::medium_not_present)
}

const MIB: u64 = 1 << 20;

#[cfg(test)]
pub(crate) mod test_support {
    //! A context over owned state for the unit tests of the submodules.

    use super::*;
    use crate::emulator::state::CartridgeKind;

    pub struct Fixture {
        pub config: LibraryConfig,
        pub settings: DriveSettings,
        pub cartridge: Cartridge,
        pub info: MediumInfo,
        pub loaded: bool,
        pub used_bytes: u64,
    }

    impl Fixture {
        pub fn new() -> Self {
            let config = LibraryConfig {
                serial: "EMUTEST".into(),
                ..LibraryConfig::default()
            };
            let cartridge = Cartridge {
                barcode: "ABC123L9".into(),
                kind: CartridgeKind::Data,
                write_protected: false,
                capacity: config.capacity,
            };
            let info = MediumInfo {
                manufacture_date: "20260101".into(),
                medium_serial: "EMUABC123L9".into(),
                load_count: 3,
                lifetime_bytes_written: 5 * MIB,
                ..MediumInfo::default()
            };
            Fixture {
                config,
                settings: DriveSettings::default(),
                cartridge,
                info,
                loaded: true,
                used_bytes: 3 * MIB,
            }
        }

        /// Run one CDB; returns the result, the bytes transferred and the
        /// (settings_changed, medium_changed) flags.
        pub fn run(&mut self, cdb: &[u8], data: DataDirection<'_>) -> (CdbResult, bool, bool) {
            let medium = self.loaded.then_some(MediumContext {
                cartridge: &self.cartridge,
                info: &mut self.info,
                used_bytes: self.used_bytes,
                file_number: 0,
                logical_object: 0,
            });
            let mut ctx = InfoContext {
                config: &self.config,
                settings: &mut self.settings,
                medium,
                settings_changed: false,
                medium_changed: false,
            };
            let res = execute(&mut ctx, cdb, data).expect("information opcode");
            (res, ctx.settings_changed, ctx.medium_changed)
        }

        /// Run a data-in CDB with a buffer of `len` bytes; the bytes moved.
        pub fn read(&mut self, cdb: &[u8], len: usize) -> Result<Vec<u8>, CheckCondition> {
            let mut buf = vec![0u8; len];
            let (res, _, _) = self.run(cdb, DataDirection::FromDevice(&mut buf));
            let done = res?;
            buf.truncate(done.transferred);
            Ok(buf)
        }

        /// Run a data-out CDB.
        pub fn write(&mut self, cdb: &[u8], data: &[u8]) -> Result<(), CheckCondition> {
            self.run(cdb, DataDirection::ToDevice(data)).0.map(|_| ())
        }
    }

    /// Assert ILLEGAL REQUEST with this ASC and field pointer byte.
    pub fn assert_illegal(err: &CheckCondition, asc: u8, byte: Option<u16>) {
        assert_eq!(
            err.sense.key,
            crate::scsi::SenseKey::IllegalRequest,
            "{err:?}"
        );
        assert_eq!(err.sense.asc, asc, "{err:?}");
        if let Some(byte) = byte {
            let sks = err.sense.sense_key_specific.expect("field pointer");
            assert_eq!(u16::from_be_bytes([sks[1], sks[2]]), byte, "{err:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::Fixture;
    use super::*;

    #[test]
    fn other_opcodes_are_not_ours() {
        let mut f = Fixture::new();
        let medium = None;
        let mut ctx = InfoContext {
            config: &f.config,
            settings: &mut f.settings,
            medium,
            settings_changed: false,
            medium_changed: false,
        };
        assert!(execute(&mut ctx, &[0x08, 0, 0, 0, 1, 0], DataDirection::None).is_none());
        assert!(execute(&mut ctx, &[], DataDirection::None).is_none());
    }

    #[test]
    fn drive_density_per_generation() {
        let mut config = LibraryConfig::default();
        for (gen, code) in [
            (5, 0x58),
            (6, 0x5A),
            (7, 0x5C),
            (8, 0x5E),
            (9, 0x60),
            (10, 0x63),
        ] {
            config.lto_generation = gen;
            assert_eq!(drive_density(&config).density_code, code);
        }
    }

    use proptest::prelude::*;

    /// A valid CDB for each data-out command with `len` parameter bytes.
    fn data_out_cdb(which: u8, len: usize) -> Vec<u8> {
        let len32 = (len as u32).to_be_bytes();
        match which % 4 {
            0 => vec![0x15, 0x10, 0, 0, len.min(255) as u8, 0],
            1 => {
                let [hi, lo] = (len.min(0xffff) as u16).to_be_bytes();
                vec![0x55, 0x10, 0, 0, 0, 0, 0, hi, lo, 0]
            }
            2 => {
                let mut c = vec![0x8d, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                c.extend_from_slice(&len32);
                c.extend_from_slice(&[0, 0]);
                c
            }
            _ => {
                let mut c = vec![0xb5, 0x20, 0x00, 0x10, 0, 0];
                c.extend_from_slice(&len32);
                c.extend_from_slice(&[0, 0]);
                c
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Parameter lists with valid CDBs but arbitrary content never panic
        /// and never leave a half-applied change behind an error.
        #[test]
        fn parameter_lists_never_panic(which in 0u8..4, data in prop::collection::vec(any::<u8>(), 0..400)) {
            let mut f = Fixture::new();
            let before = (f.settings.clone(), f.info.clone());
            let cdb = data_out_cdb(which, data.len());
            let (res, settings_changed, medium_changed) = f.run(&cdb, DataDirection::ToDevice(&data));
            if res.is_err() {
                prop_assert_eq!(&before.0, &f.settings);
                prop_assert_eq!(&before.1, &f.info);
            }
            prop_assert_eq!(settings_changed, before.0 != f.settings);
            prop_assert_eq!(medium_changed, before.1 != f.info);
        }

        /// Arbitrary data-in CDBs of our opcodes never panic and never move
        /// more than the buffer.
        #[test]
        fn data_in_cdbs_never_panic(op in prop::sample::select(vec![0x1au8, 0x5a, 0x4d, 0x8c, 0x44, 0xa2]), tail in prop::collection::vec(any::<u8>(), 0..16), buf_len in 0usize..2048) {
            let mut f = Fixture::new();
            let mut cdb = vec![op];
            cdb.extend(tail);
            let mut buf = vec![0u8; buf_len];
            let (res, _, _) = f.run(&cdb, DataDirection::FromDevice(&mut buf));
            if let Ok(done) = res {
                prop_assert!(done.transferred <= buf_len);
                prop_assert_eq!(done.transferred + done.residual, buf_len);
            }
        }
    }
}
