//! The data path proper: READ BLOCK LIMITS, READ(6), WRITE(6) and WRITE
//! FILEMARKS(6), in variable- and fixed-block mode, with capacity (early
//! warning, volume overflow), write protection, encryption and the READ /
//! WRITE faults.

use super::super::cdb::{invalid_field, no_data, Cdb, CdbResult, CheckCondition};
use super::super::common;
use super::super::crypto;
use super::super::fault::FaultKind;
use super::super::image::{BlockInfo, Record, FILEMARK_COST};
use super::sense::{
    blank_check, cc, filemark, image_read_failure, image_write_failure, residual_info, sense,
    write_error,
};
use super::{EmulatedDrive, SEAL_OVERHEAD, WRITE_BUFFER_LIMIT};
use crate::emulator::ssc_wire::{block_limits, BLOCK_LIMITS_LEN};
use crate::scsi::{Completion, DataDirection, SenseKey};
use crate::spec::security::encryption_mode;

impl EmulatedDrive {
    /// READ BLOCK LIMITS (opcode 0x05, SSC-5 7.6).
    pub(super) fn read_block_limits(
        &mut self,
        cdb: &Cdb<'_>,
        data: DataDirection<'_>,
    ) -> CdbResult {
        cdb.reserved(1, 0xff)?; // MLOI (bit 0) is not supported
        cdb.reserved_bytes(2..5)?;
        let max = self.max_transfer() as u32;
        Ok(common::respond(
            data,
            &block_limits(0, max, 1),
            BLOCK_LIMITS_LEN,
        ))
    }

    /// Check the mode of a READ/WRITE: FIXED bit against the block size and
    /// the personality. Returns the fixed block size, or `None` for
    /// variable-block transfers.
    pub(super) fn transfer_mode(&self, fixed: bool) -> Result<Option<u32>, CheckCondition> {
        let block_size = self.file.settings.block_size;
        if fixed {
            if block_size == 0 {
                return Err(CheckCondition::invalid_field_in_cdb(1, Some(0)));
            }
            return Ok(Some(block_size));
        }
        if self.state.config.drive_personality.fixed_block_only {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(0)));
        }
        Ok(None)
    }

    /// READ(6) (opcode 0x08, SSC-5 7.5).
    pub(super) fn read(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xfc)?;
        let fixed = cdb.bit(1, 0);
        let sili = cdb.bit(1, 1);
        if fixed && sili {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(1)));
        }
        let length = cdb.be24(2) as u64;
        let mode = self.transfer_mode(fixed)?;
        self.medium()?;
        self.drain(false)?;
        if length == 0 {
            return Ok(no_data());
        }
        let buf: &mut [u8] = match data {
            DataDirection::FromDevice(buf) => buf,
            _ => return Err(invalid_field(2)),
        };
        if self.fired == Some(FaultKind::ReadError) {
            if let Some(m) = self.medium.as_mut() {
                m.info.read_errors += 1;
                m.info_dirty = true;
            }
            return Err(cc(
                sense(SenseKey::MediumError, 0x11, 0x00).with_information(length)
            ));
        }
        match mode {
            None => self.read_variable(length, sili, buf),
            Some(block_size) => self.read_fixed(length, block_size as usize, buf),
        }
    }

    /// What the next object is, for reading.
    pub(super) fn next_object(&mut self) -> Result<Option<Record>, CheckCondition> {
        let pos = self.pos();
        let m = self.medium()?;
        Ok(m.image.record(pos))
    }

    /// Read the block at the head into the scratch buffer (decrypted when
    /// it was written encrypted) and advance past it.
    pub(super) fn read_block_at_head(&mut self) -> Result<(), CheckCondition> {
        let pos = self.pos();
        let Some(m) = self.medium.as_mut() else {
            return Err(CheckCondition::medium_not_present());
        };
        let Some(Record::Block(info)) = m.image.record(pos) else {
            return Err(common::internal_failure("no block at the head"));
        };
        m.image
            .read_block(pos, &mut self.scratch)
            .map_err(image_read_failure)?;
        m.info.lifetime_bytes_read += self.scratch.len() as u64;
        m.info.last_load_bytes_read += self.scratch.len() as u64;
        m.info_dirty = true;
        self.file.position = pos + 1;
        if info.encrypted {
            self.scratch =
                crypto::decrypt_block(&self.file.settings, &info.key_fingerprint, &self.scratch)?;
        } else {
            crypto::check_unencrypted_read(&self.file.settings)?;
        }
        Ok(())
    }

    pub(super) fn read_variable(&mut self, length: u64, sili: bool, buf: &mut [u8]) -> CdbResult {
        match self.next_object()? {
            None => Err(cc(blank_check(length))),
            Some(Record::Filemark) => {
                self.file.position += 1;
                Err(cc(filemark(length)))
            }
            Some(Record::Block(_)) => {
                self.read_block_at_head()?;
                let actual = self.scratch.len() as u64;
                let n = (actual.min(length) as usize).min(buf.len());
                buf[..n].copy_from_slice(&self.scratch[..n]);
                let done = Completion {
                    transferred: n,
                    residual: buf.len() - n,
                };
                if actual == length || (actual < length && sili) {
                    return Ok(done);
                }
                let s = sense(SenseKey::NoSense, 0, 0)
                    .with_ili()
                    .with_information(residual_info(length, actual));
                Err(cc(s).with_transferred(n))
            }
        }
    }

    pub(super) fn read_fixed(
        &mut self,
        count: u64,
        block_size: usize,
        buf: &mut [u8],
    ) -> CdbResult {
        if (buf.len() as u64) < count * block_size as u64 {
            return Err(invalid_field(2));
        }
        let mut transferred = 0usize;
        for done in 0..count {
            let left = count - done;
            match self.next_object()? {
                None => return Err(cc(blank_check(left)).with_transferred(transferred)),
                Some(Record::Filemark) => {
                    self.file.position += 1;
                    return Err(cc(filemark(left)).with_transferred(transferred));
                }
                Some(Record::Block(_)) => {
                    self.read_block_at_head()?;
                    let room = buf.len().saturating_sub(transferred).min(block_size);
                    let n = self.scratch.len().min(room);
                    buf[transferred..transferred + n].copy_from_slice(&self.scratch[..n]);
                    transferred += n;
                    if self.scratch.len() != block_size {
                        let s = sense(SenseKey::NoSense, 0, 0)
                            .with_ili()
                            .with_information(left);
                        return Err(cc(s).with_transferred(transferred));
                    }
                }
            }
        }
        Ok(Completion {
            transferred,
            residual: buf.len() - transferred,
        })
    }

    /// Check that `cost` more bytes fit: VOLUME OVERFLOW past the end;
    /// `Ok(true)` when the write lands in the early warning zone.
    pub(super) fn check_space(&mut self, cost: u64, residual: u64) -> Result<bool, CheckCondition> {
        let used = self.used_at_head();
        let m = self.medium()?;
        let capacity = m.cartridge.capacity;
        let early_warning = capacity.saturating_sub(self.state.config.early_warning);
        if used + cost > capacity {
            // VOLUME OVERFLOW, END-OF-PARTITION/MEDIUM DETECTED.
            return Err(cc(sense(SenseKey::VolumeOverflow, 0x00, 0x02)
                .with_eom()
                .with_information(residual)));
        }
        Ok(used + cost > early_warning)
    }

    /// Prepare to write at the head: writing anywhere but at the end of
    /// data discards everything after (like tape).
    pub(super) fn truncate_at_head(&mut self) -> Result<(), CheckCondition> {
        let pos = self.pos();
        let buffered = self.buffer.objects > 0;
        let m = self.medium()?;
        if !buffered && pos < m.image.len() {
            m.image.truncate(pos).map_err(image_write_failure)?;
        }
        Ok(())
    }

    /// After a write: drain a full buffer, then report early warning.
    pub(super) fn finish_write(&mut self, early_warning: bool) -> Result<(), CheckCondition> {
        if self.buffer.bytes > WRITE_BUFFER_LIMIT {
            self.drain(false)?;
        }
        if early_warning {
            // NO SENSE, END-OF-PARTITION/MEDIUM DETECTED with EOM: success.
            return Err(cc(sense(SenseKey::NoSense, 0x00, 0x02)
                .with_eom()
                .with_information(0)));
        }
        Ok(())
    }

    /// WRITE(6) (opcode 0x0A, SSC-5 7.11).
    pub(super) fn write(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?;
        let length = cdb.be24(2) as u64;
        let mode = self.transfer_mode(cdb.bit(1, 0))?;
        self.writable_medium()?;
        if length == 0 {
            return Ok(no_data());
        }
        let bytes = match mode {
            None if length > self.max_transfer() as u64 => return Err(invalid_field(2)),
            None => length,
            Some(bs) => length * bs as u64,
        };
        let payload: &[u8] = match data {
            DataDirection::ToDevice(buf) if buf.len() as u64 >= bytes => &buf[..bytes as usize],
            _ => return Err(invalid_field(2)),
        };
        if self.fired == Some(FaultKind::WriteError) {
            if let Some(m) = self.medium.as_mut() {
                m.info.write_errors += 1;
                m.info_dirty = true;
            }
            return Err(cc(write_error().with_information(length)));
        }
        let block_len = mode.map_or(bytes as usize, |bs| bs as usize).max(1);
        let encryption = self
            .file
            .settings
            .encryption
            .clone()
            .filter(|e| e.encryption_mode == encryption_mode::ENCRYPT);
        let overhead = match encryption {
            Some(_) => payload.len().div_ceil(block_len) as u64 * SEAL_OVERHEAD,
            None => 0,
        };
        let early_warning = self.check_space(bytes + overhead, length)?;
        self.truncate_at_head()?;
        if self.fired == Some(FaultKind::DeferredWriteError) && self.buffer.poison_at.is_none() {
            self.buffer.poison_at = Some(self.buffer.records.len());
        }
        let mut blocks = 0;
        for chunk in payload.chunks(block_len) {
            let (stored, info) = match &encryption {
                Some(enc) => {
                    let (sealed, key_fingerprint) = crypto::encrypt_block(enc, chunk)?;
                    let info = BlockInfo {
                        length: sealed.len() as u32,
                        encrypted: true,
                        key_fingerprint,
                    };
                    (sealed, info)
                }
                None => (self.buffer.copy_block(chunk), BlockInfo::default()),
            };
            self.buffer.push_block(stored, info);
            blocks += 1;
        }
        self.file.position += blocks;
        if let Some(m) = self.medium.as_mut() {
            m.info.lifetime_bytes_written += bytes;
            m.info.last_load_bytes_written += bytes;
            m.info_dirty = true;
        }
        self.finish_write(early_warning)?;
        Ok(Completion {
            transferred: payload.len(),
            residual: 0,
        })
    }

    /// WRITE FILEMARKS(6) (opcode 0x10, SSC-5 7.12). Without IMMED the
    /// buffer is written to the medium and synced (the finish barrier's flush).
    pub(super) fn write_filemarks(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xfe)?; // WMSM (setmarks) not supported
        let immed = cdb.bit(1, 0);
        let count = cdb.be24(2) as u64;
        if count > 0 {
            self.writable_medium()?;
        } else {
            self.medium()?;
        }
        let mut early_warning = false;
        if count > 0 {
            early_warning = self.check_space(count * FILEMARK_COST, count)?;
            self.truncate_at_head()?;
            self.buffer.push_filemarks(count);
            self.file.position += count;
        }
        if !immed {
            self.drain(true)?;
        }
        self.finish_write(early_warning)?;
        Ok(no_data())
    }
}
