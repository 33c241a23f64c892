//! Medium handling: ERASE, FORMAT MEDIUM, LOAD UNLOAD and PREVENT ALLOW
//! MEDIUM REMOVAL.

use super::super::cdb::{invalid_field, no_data, Cdb, CdbResult, CheckCondition};
use super::super::common;
use super::sense::{cc, image_write_failure, sense};
use super::EmulatedDrive;
use crate::scsi::SenseKey;

impl EmulatedDrive {
    /// ERASE(6) (opcode 0x19, SSC-5 6.2): short writes EOD at the head,
    /// long erases to the end of the medium; both discard what follows.
    pub(super) fn erase(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        cdb.reserved_bytes(2..5)?;
        self.writable_medium()?;
        self.drain(false)?;
        let pos = self.pos();
        let m = self.writable_medium()?;
        m.image.truncate(pos).map_err(image_write_failure)?;
        m.image.sync().map_err(image_write_failure)?;
        Ok(no_data())
    }

    /// FORMAT MEDIUM (opcode 0x04, SSC-5 6.3): only the default format
    /// (single partition); erases the whole cartridge.
    pub(super) fn format_medium(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        cdb.reserved(2, 0xff)?; // FORMAT field: only 0 (default format)
        if cdb.be16(3) != 0 {
            return Err(invalid_field(3));
        }
        self.writable_medium()?;
        self.buffer.clear();
        let m = self.writable_medium()?;
        m.image.truncate(0).map_err(image_write_failure)?;
        m.image.sync().map_err(image_write_failure)?;
        m.info.initialization_count += 1;
        m.info_dirty = true;
        self.file.position = 0;
        Ok(no_data())
    }

    /// LOAD UNLOAD (opcode 0x1B, SSC-5 7.2).
    pub(super) fn load_unload(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?;
        cdb.reserved_bytes(2..4)?;
        cdb.reserved(4, 0xf0)?;
        let load = cdb.bit(4, 0);
        let eot = cdb.bit(4, 2);
        let hold = cdb.bit(4, 3);
        if load && eot {
            return Err(CheckCondition::invalid_field_in_cdb(4, Some(2)));
        }
        let bay = self
            .state
            .drives
            .get(self.index)
            .cloned()
            .ok_or_else(|| common::internal_failure("drive bay missing"))?;
        if load {
            let Some(barcode) = bay.cartridge.clone() else {
                return Err(CheckCondition::medium_not_present());
            };
            if !bay.loaded {
                self.update_bay(|bay| bay.loaded = true)?;
                self.lib
                    .count_load(&barcode)
                    .map_err(common::internal_failure)?;
                self.file.barcode = Some(barcode);
                self.sync_medium().map_err(common::internal_failure)?;
            } else {
                self.drain(false)?;
            }
            self.file.position = 0;
            return Ok(no_data());
        }
        if bay.cartridge.is_none() {
            return Err(CheckCondition::medium_not_present());
        }
        if bay.removal_prevented && !hold {
            // ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED.
            return Err(cc(sense(SenseKey::IllegalRequest, 0x53, 0x02)));
        }
        let drained = self.drain(true);
        self.file.position = 0;
        if !hold && bay.loaded {
            // CKOD: the key goes with the medium.
            if self
                .file
                .settings
                .encryption
                .as_ref()
                .is_some_and(|e| e.clear_key_on_demount)
            {
                self.file.settings.encryption = None;
            }
            self.close_medium().map_err(common::internal_failure)?;
            // Whatever is loaded next (even this cartridge again, by the
            // changer) is a new medium for the host: UNIT ATTENTION 28/00.
            self.file.barcode = None;
            self.update_bay(|bay| bay.loaded = false)?;
            self.sync_medium().map_err(common::internal_failure)?;
        }
        drained.map(|_| no_data())
    }

    /// PREVENT ALLOW MEDIUM REMOVAL (opcode 0x1E, SSC-5 6.7).
    pub(super) fn prevent_allow(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved_bytes(1..4)?;
        cdb.reserved(4, 0xfc)?;
        let prevent = match cdb.byte(4) & 0x03 {
            0 => false,
            1 => true,
            _ => return Err(CheckCondition::invalid_field_in_cdb(4, Some(1))),
        };
        self.update_bay(|bay| bay.removal_prevented = prevent)?;
        Ok(no_data())
    }
}
