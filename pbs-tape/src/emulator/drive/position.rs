//! Positioning: SPACE(6)/(16), LOCATE(10)/(16) and READ POSITION. All
//! flush the write buffer first and cost O(log n) on the tape image.

use super::super::cdb::{invalid_field, no_data, Cdb, CdbResult, CheckCondition};
use super::super::common;
use super::sense::{blank_check, bot, cc, filemark, sense};
use super::EmulatedDrive;
use crate::emulator::ssc_wire::field::{
    DEST_END_OF_DATA as DEST_EOD, DEST_LOGICAL_FILE as DEST_FILE,
    DEST_LOGICAL_OBJECT as DEST_OBJECT, POSITION_LONG_FORM, POSITION_SHORT_FORM_BLOCK_ID,
    SPACE_BLOCKS, SPACE_END_OF_DATA as SPACE_EOD, SPACE_FILEMARKS,
};
use crate::emulator::ssc_wire::{
    position_long, position_short, Position, POSITION_BOP, POSITION_EOP, POSITION_LONG_LEN,
    POSITION_SHORT_LEN,
};
use crate::scsi::{DataDirection, SenseKey};

impl EmulatedDrive {
    /// SPACE(6) / SPACE(16) (opcodes 0x11 / 0x91, SSC-5 7.10 / 6.11).
    pub(super) fn space(&mut self, code: u8, count: i64) -> CdbResult {
        if !matches!(code, SPACE_BLOCKS | SPACE_FILEMARKS | SPACE_EOD) {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(3)));
        }
        self.medium()?;
        self.drain(false)?;
        let pos = self.pos();
        let m = self.medium()?;
        let img = &m.image;
        let end = img.len();
        let (new_pos, outcome) = match code {
            SPACE_EOD => (end, Ok(())),
            SPACE_BLOCKS if count > 0 => {
                let c = count as u64;
                let target = pos.saturating_add(c);
                match img.filemark_index(img.filemarks_before(pos)) {
                    Some(f) if f < target => (
                        f + 1,
                        Err(filemark(c.saturating_sub(f.saturating_sub(pos)))),
                    ),
                    _ if target > end => (
                        end,
                        Err(blank_check(c.saturating_sub(end.saturating_sub(pos)))),
                    ),
                    _ => (target, Ok(())),
                }
            }
            SPACE_BLOCKS if count < 0 => {
                let c = count.unsigned_abs();
                let before = img.filemarks_before(pos);
                let prev_fm = before.checked_sub(1).and_then(|k| img.filemark_index(k));
                match prev_fm {
                    Some(f) if f + c >= pos => (
                        f,
                        Err(filemark(c.saturating_sub(pos.saturating_sub(f + 1)))),
                    ),
                    _ if c > pos => (0, Err(bot(c.saturating_sub(pos)))),
                    _ => (pos - c, Ok(())),
                }
            }
            SPACE_FILEMARKS if count > 0 => {
                let c = count as u64;
                let before = img.filemarks_before(pos);
                match img.filemark_index(before.saturating_add(c - 1)) {
                    Some(f) => (f + 1, Ok(())),
                    None => {
                        let passed = img.total_filemarks().saturating_sub(before);
                        (end, Err(blank_check(c.saturating_sub(passed))))
                    }
                }
            }
            SPACE_FILEMARKS if count < 0 => {
                let c = count.unsigned_abs();
                let before = img.filemarks_before(pos);
                match before.checked_sub(c).and_then(|k| img.filemark_index(k)) {
                    Some(f) => (f, Ok(())),
                    None => (0, Err(bot(c.saturating_sub(before)))),
                }
            }
            _ => (pos, Ok(())),
        };
        self.file.position = new_pos;
        outcome.map(|_| no_data()).map_err(cc)
    }

    /// LOCATE(16) (opcode 0x92, SSC-5 6.5).
    pub(super) fn locate16(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xc4)?;
        cdb.reserved(2, 0xfe)?; // BAM (bit 0) is accepted, it changes nothing here
        cdb.reserved_bytes(12..15)?;
        let change_partition = cdb.bit(1, 1);
        if change_partition && cdb.byte(3) != 0 {
            return Err(invalid_field(3));
        }
        let dest = (cdb.byte(1) >> 3) & 0x07;
        if !matches!(dest, DEST_OBJECT | DEST_FILE | DEST_EOD) {
            return Err(CheckCondition::invalid_field_in_cdb(1, Some(5)));
        }
        self.locate(dest, cdb.be64(4))
    }

    /// LOCATE(10) (opcode 0x2B, SSC-5 7.3): to a logical object.
    pub(super) fn locate10(&mut self, cdb: &Cdb<'_>) -> CdbResult {
        cdb.reserved(1, 0xf8)?; // BT (bit 2) accepted: same address space
        cdb.reserved(2, 0xff)?;
        cdb.reserved(7, 0xff)?;
        if cdb.bit(1, 1) && cdb.byte(8) != 0 {
            return Err(invalid_field(8));
        }
        self.locate(DEST_OBJECT, cdb.be32(3) as u64)
    }

    pub(super) fn locate(&mut self, dest: u8, id: u64) -> CdbResult {
        self.medium()?;
        self.drain(false)?;
        let m = self.medium()?;
        let end = m.image.len();
        let target = match dest {
            DEST_OBJECT => (id <= end).then_some(id),
            DEST_FILE if id == 0 => Some(0),
            DEST_FILE => m.image.filemark_index(id - 1).map(|f| f + 1),
            _ => Some(end),
        };
        match target {
            Some(p) => {
                self.file.position = p;
                Ok(no_data())
            }
            None => {
                self.file.position = end;
                Err(cc(sense(SenseKey::BlankCheck, 0x00, 0x05)))
            }
        }
    }

    /// READ POSITION (opcode 0x34, SSC-5 7.7): short (00h) and long (06h) form.
    pub(super) fn read_position(&mut self, cdb: &Cdb<'_>, data: DataDirection<'_>) -> CdbResult {
        cdb.reserved(1, 0xe0)?;
        cdb.reserved_bytes(2..7)?;
        let action = cdb.byte(1) & 0x1f;
        let alloc = cdb.be16(7) as usize;
        let short_only = self.state.config.drive_personality.short_position_only;
        self.medium()?;
        let pos = self.pos();
        let used = self.used_at_head();
        let buffered = (self.buffer.objects, self.buffer.bytes);
        let capacity_ew = {
            let m = self.medium()?;
            m.cartridge
                .capacity
                .saturating_sub(self.state.config.early_warning)
        };
        let m = self.medium()?;
        let mut flags = 0;
        if pos == 0 {
            flags |= POSITION_BOP;
        }
        if used > capacity_ew {
            flags |= POSITION_EOP;
        }
        let mut reply = Position {
            flags,
            partition: 0,
            object: pos,
            file: 0,
            buffered_objects: buffered.0,
            buffered_bytes: buffered.1,
        };
        match action {
            POSITION_SHORT_FORM_BLOCK_ID => {
                let bytes = position_short(&reply, m.image.len().min(pos));
                let alloc = if alloc == 0 {
                    POSITION_SHORT_LEN
                } else {
                    alloc
                };
                Ok(common::respond(data, &bytes, alloc))
            }
            POSITION_LONG_FORM if short_only => {
                Err(CheckCondition::invalid_field_in_cdb(1, Some(4)))
            }
            POSITION_LONG_FORM => {
                reply.file =
                    m.image.filemarks_before(pos.min(m.image.len())) + self.buffer.filemarks;
                let alloc = if alloc == 0 { POSITION_LONG_LEN } else { alloc };
                Ok(common::respond(data, &position_long(&reply), alloc))
            }
            _ => Err(CheckCondition::invalid_field_in_cdb(1, Some(4))),
        }
    }
}
