//! [`MediaChanger`]: a changer behind any [`ScsiTransport`], with status
//! snapshots and checked moves (load, unload, transfer, exchange,
//! import/export, stepping like mtx first/last/next/previous).
//!
//! Every move reads the element status first and checks source and
//! destination, so the user gets "slot 3 is empty" rather than a bare
//! sense code; what the changer still refuses comes back as
//! [`ChangerError::Scsi`] with the decoded sense.

use serde::Serialize;

use crate::scsi::discovery::PERIPHERAL_TYPE_CHANGER;
use crate::scsi::{ScsiTransport, SenseData};

use super::address::{ElementAddressAssignment, ElementRange};
use super::cleaning::is_cleaning_barcode;
use super::commands::{
    self, is_illegal_request, mode_sense_element_addresses, ElementStatusRequest,
};
use super::element_status::{parse_element_status, Element, ElementType};
use super::error::ChangerError;
use super::status::{ChangerStatus, DriveStatus, Place};

/// ILLEGAL REQUEST, INVALID FIELD IN CDB (05/24xx): the changer does not
/// support a bit we set.
fn is_invalid_field(err: &ChangerError) -> bool {
    err.sense().is_some_and(SenseData::is_invalid_field_in_cdb)
}

/// The drive `drive` (0-based) of the snapshot, or [`ChangerError::NoSuchDrive`].
pub(super) fn drive_status(
    status: &ChangerStatus,
    drive: usize,
) -> Result<&DriveStatus, ChangerError> {
    status.drives.get(drive).ok_or(ChangerError::NoSuchDrive {
        drive,
        count: status.drives.len(),
    })
}

/// The drive `drive` when it exists and holds no cartridge, else
/// [`ChangerError::NoSuchDrive`] / [`ChangerError::DriveFull`].
pub(super) fn empty_drive(
    status: &ChangerStatus,
    drive: usize,
) -> Result<&DriveStatus, ChangerError> {
    let d = drive_status(status, drive)?;
    if d.full {
        return Err(ChangerError::DriveFull {
            drive,
            barcode: d.barcode.clone(),
        });
    }
    Ok(d)
}

/// The changer refused because the drive has not released the cartridge:
/// ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED (05/5302) or the vendor form
/// SOURCE DRIVE NOT UNLOADED (05/3B83, IBM libraries).
pub fn is_not_ejected(err: &ChangerError) -> bool {
    err.sense().is_some_and(|s| {
        s.key == crate::scsi::SenseKey::IllegalRequest
            && ((s.asc, s.ascq) == (0x53, 0x02) || (s.asc, s.ascq) == (0x3b, 0x83))
    })
}

/// Largest allocation length asked for: some changers honour only two of
/// the three ALLOCATION LENGTH bytes.
pub const MAX_ALLOCATION: usize = 0xFFFF;
/// Most elements asked for in one READ ELEMENT STATUS; larger libraries
/// are read in several requests, each continuing after the last address.
pub const MAX_ELEMENTS_PER_REQUEST: u16 = 128;

/// What a move did, in user numbering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveOutcome {
    pub barcode: Option<String>,
    pub from: Place,
    pub to: Place,
}

/// Direction of the mtx-style stepping commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Load the first full slot.
    First,
    /// Load the last full slot.
    Last,
    /// Unload to the source slot, then load the next full slot after it.
    Next,
    /// Unload to the source slot, then load the previous full slot before it.
    Previous,
}

/// Ejects the cartridge of a drive through the drive itself (LOAD UNLOAD
/// with LOAD=0), for libraries that only take a cartridge the drive has
/// ejected. Given the drive's element status (index, serial).
pub type Ejector = Box<dyn FnMut(&DriveStatus) -> Result<(), BoxError> + Send>;
/// Error of an [`Ejector`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A media changer.
pub struct MediaChanger<T: ScsiTransport> {
    transport: T,
    ejector: Option<Ejector>,
    addresses: Option<Option<ElementAddressAssignment>>,
    /// Ask for volume tags (cleared when the changer rejects VOLTAG=1).
    voltag: bool,
    /// Ask for device identifiers (cleared when the changer rejects DVCID=1).
    dvcid: bool,
}

impl MediaChanger<Box<dyn ScsiTransport>> {
    /// Open the changer at `path` (sg node, `/dev/tape/by-id/...-sg` or an
    /// emulated `DIR/changer`) and check with INQUIRY that it is a medium
    /// changer (peripheral device type 8).
    pub fn open(path: &str) -> Result<Self, ChangerError> {
        let mut transport =
            crate::device::open_transport(path).map_err(|source| ChangerError::Open {
                device: path.to_string(),
                source,
            })?;
        let inquiry = crate::scsi::spc::inquiry(transport.as_mut())
            .map_err(|e| ChangerError::scsi("INQUIRY", path, e))?;
        if inquiry.peripheral_type != PERIPHERAL_TYPE_CHANGER {
            return Err(ChangerError::NotAChanger {
                device: path.to_string(),
                peripheral_type: inquiry.peripheral_type,
            });
        }
        Ok(MediaChanger::new(transport))
    }
}

impl<T: ScsiTransport> MediaChanger<T> {
    /// Wrap an open transport. Nothing is sent until the first call.
    pub fn new(transport: T) -> Self {
        MediaChanger {
            transport,
            addresses: None,
            ejector: None,
            voltag: true,
            dvcid: true,
        }
    }

    /// Eject through the drive when the changer refuses to take a cartridge
    /// out of a drive that still has it loaded (05/53xx), then retry once.
    pub fn set_ejector(&mut self, ejector: Ejector) {
        self.ejector = Some(ejector);
    }

    /// The device path, for messages.
    pub fn path(&self) -> &str {
        self.transport.path()
    }

    /// The transport, for commands this type does not wrap.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Element address assignment (MODE SENSE page 0x1D), read once.
    /// `None` when the changer does not answer it: element status is then
    /// read by type from address 0.
    pub fn element_addresses(&mut self) -> Result<Option<ElementAddressAssignment>, ChangerError> {
        if let Some(a) = self.addresses {
            return Ok(a);
        }
        let a = match mode_sense_element_addresses(&mut self.transport) {
            Ok(a) => Some(a),
            Err(e) if is_illegal_request(&e) => None,
            Err(e) => return Err(e),
        };
        self.addresses = Some(a);
        Ok(a)
    }

    /// All elements of one type, read in as many requests as needed.
    pub fn read_elements(
        &mut self,
        element_type: ElementType,
    ) -> Result<Vec<Element>, ChangerError> {
        let range = match self.element_addresses()? {
            Some(a) => a.range(element_type),
            None => ElementRange {
                first: 0,
                count: u16::MAX,
            },
        };
        let mut out: Vec<Element> = Vec::new();
        let mut start = range.first;
        let mut buf = vec![0u8; MAX_ALLOCATION.min(self.transport.max_transfer()).max(8)];
        // Each round either adds at least one element or stops.
        while out.len() < range.count as usize {
            let remaining = range.count as usize - out.len();
            let n = remaining.min(MAX_ELEMENTS_PER_REQUEST as usize) as u16;
            let len = self.request(element_type, start, n, &mut buf)?;
            let report = parse_element_status(&buf[..len]).map_err(|source| {
                ChangerError::ElementStatus {
                    device: self.path().to_string(),
                    source,
                }
            })?;
            let fresh: Vec<Element> = report
                .elements
                .iter()
                .filter(|e| e.element_type == element_type && e.address >= start)
                .take(remaining)
                .cloned()
                .collect();
            let Some(last) = fresh.iter().map(|e| e.address).max() else {
                if report.truncated && report.elements_available > 0 {
                    return Err(ChangerError::Decode {
                        what: "element status",
                        device: self.path().to_string(),
                        message: format!(
                            "not one {} element descriptor fits in {} bytes",
                            element_type.name(),
                            buf.len()
                        ),
                    });
                }
                break;
            };
            out.extend(fresh);
            match last.checked_add(1) {
                Some(next) => start = next,
                None => break,
            }
        }
        Ok(out)
    }

    /// One READ ELEMENT STATUS, dropping DVCID and then VOLTAG when the
    /// changer rejects them (ILLEGAL REQUEST, INVALID FIELD IN CDB 05/24xx).
    fn request(
        &mut self,
        element_type: ElementType,
        start: u16,
        count: u16,
        buf: &mut [u8],
    ) -> Result<usize, ChangerError> {
        loop {
            let dvcid = self.dvcid && element_type == ElementType::DataTransfer;
            let req = ElementStatusRequest {
                element_type: Some(element_type),
                starting_address: start,
                number_of_elements: count,
                voltag: self.voltag,
                dvcid,
            };
            match commands::read_element_status(&mut self.transport, &req, buf) {
                Ok(n) => return Ok(n),
                Err(e) if is_invalid_field(&e) && dvcid => self.dvcid = false,
                Err(e) if is_invalid_field(&e) && self.voltag => self.voltag = false,
                Err(e) => return Err(e),
            }
        }
    }

    /// A snapshot of every element.
    pub fn status(&mut self) -> Result<ChangerStatus, ChangerError> {
        let mut elements = Vec::new();
        for t in ElementType::ALL {
            elements.extend(self.read_elements(t)?);
        }
        Ok(ChangerStatus::from_elements(&elements))
    }

    /// INITIALIZE ELEMENT STATUS (re-scan barcodes), then a snapshot.
    pub fn inventory(&mut self) -> Result<ChangerStatus, ChangerError> {
        commands::initialize_element_status(&mut self.transport)?;
        self.status()
    }

    fn transport_address(&mut self, status: &ChangerStatus) -> Result<u16, ChangerError> {
        if let Some(t) = status.transports.first() {
            return Ok(t.address);
        }
        Ok(self.element_addresses()?.map_or(0, |a| a.transport.first))
    }

    fn drive_address(status: &ChangerStatus, drive: usize) -> Result<u16, ChangerError> {
        drive_status(status, drive).map(|d| d.address)
    }

    fn slot_address(status: &ChangerStatus, slot: usize) -> Result<u16, ChangerError> {
        status
            .slot(slot)
            .map(|s| s.address)
            .ok_or(ChangerError::NoSuchSlot {
                slot,
                count: status.slot_count(),
            })
    }

    /// Check that the slot exists and holds a cartridge; its barcode.
    fn full_slot(status: &ChangerStatus, slot: usize) -> Result<Option<String>, ChangerError> {
        Self::slot_address(status, slot)?;
        match status.slot(slot) {
            Some(s) if s.full => Ok(s.barcode.clone()),
            _ => Err(ChangerError::SlotEmpty { slot }),
        }
    }

    /// Check that the slot exists and is empty.
    fn empty_slot(status: &ChangerStatus, slot: usize) -> Result<(), ChangerError> {
        Self::slot_address(status, slot)?;
        match status.slot(slot) {
            Some(s) if s.full => Err(ChangerError::SlotFull {
                slot,
                barcode: s.barcode.clone(),
            }),
            _ => Ok(()),
        }
    }

    fn do_move(
        &mut self,
        status: &ChangerStatus,
        barcode: Option<String>,
        from: Place,
        to: Place,
    ) -> Result<MoveOutcome, ChangerError> {
        let addr = |p: Place| match p {
            Place::Slot(n) => Self::slot_address(status, n),
            Place::Drive(n) => Self::drive_address(status, n),
            Place::Transport => Err(ChangerError::InvalidArgument(
                "cannot move to or from the medium transport".into(),
            )),
        };
        let (src, dst) = (addr(from)?, addr(to)?);
        let transport = self.transport_address(status)?;
        match commands::move_medium(&mut self.transport, transport, src, dst) {
            Err(e) if is_not_ejected(&e) => {
                let (Place::Drive(n), Some(eject)) = (from, self.ejector.as_mut()) else {
                    return Err(e);
                };
                // Already checked by `addr(from)`; no index panic either way.
                let drive = drive_status(status, n)?;
                eject(drive).map_err(|source| ChangerError::Eject { drive: n, source })?;
                commands::move_medium(&mut self.transport, transport, src, dst)?;
            }
            other => other?,
        }
        Ok(MoveOutcome { barcode, from, to })
    }

    fn refuse_cleaning(barcode: &Option<String>) -> Result<(), ChangerError> {
        match barcode {
            Some(b) if is_cleaning_barcode(b) => {
                Err(ChangerError::CleaningCartridge { barcode: b.clone() })
            }
            _ => Ok(()),
        }
    }

    /// Load the cartridge in `slot` (1-based) into `drive` (0-based).
    /// Cleaning cartridges are refused (use [`super::cleaning::clean_drive`]).
    pub fn load_slot(&mut self, slot: usize, drive: usize) -> Result<MoveOutcome, ChangerError> {
        let status = self.status()?;
        empty_drive(&status, drive)?;
        let barcode = Self::full_slot(&status, slot)?;
        Self::refuse_cleaning(&barcode)?;
        self.do_move(&status, barcode, Place::Slot(slot), Place::Drive(drive))
    }

    /// Load the cartridge with this barcode into `drive`.
    pub fn load_barcode(
        &mut self,
        barcode: &str,
        drive: usize,
    ) -> Result<MoveOutcome, ChangerError> {
        let status = self.status()?;
        empty_drive(&status, drive)?;
        Self::refuse_cleaning(&Some(barcode.to_string()))?;
        match status.find_barcode(barcode) {
            Some(Place::Slot(slot)) => self.do_move(
                &status,
                Some(barcode.to_string()),
                Place::Slot(slot),
                Place::Drive(drive),
            ),
            Some(other) => Err(ChangerError::WrongLocation {
                barcode: barcode.to_string(),
                location: other.to_string(),
                expected: "a slot",
            }),
            None => Err(ChangerError::BarcodeNotFound {
                barcode: barcode.to_string(),
            }),
        }
    }

    /// Move the cartridge in `drive` to `target` (1-based slot), or to the
    /// slot it came from. The drive must have ejected it already (on real
    /// libraries and the emulator a loaded cartridge cannot be taken).
    pub fn unload(
        &mut self,
        drive: usize,
        target: Option<usize>,
    ) -> Result<MoveOutcome, ChangerError> {
        let status = self.status()?;
        let d = drive_status(&status, drive)?;
        if !d.full {
            return Err(ChangerError::DriveEmpty { drive });
        }
        let barcode = d.barcode.clone();
        let slot = match target.or(d.source_slot) {
            Some(s) => s,
            None => return Err(ChangerError::UnknownSource { drive }),
        };
        Self::empty_slot(&status, slot)?;
        self.do_move(&status, barcode, Place::Drive(drive), Place::Slot(slot))
    }

    /// Move the cartridge in slot `from` to the empty slot `to`.
    pub fn transfer(&mut self, from: usize, to: usize) -> Result<MoveOutcome, ChangerError> {
        let status = self.status()?;
        let barcode = Self::full_slot(&status, from)?;
        Self::empty_slot(&status, to)?;
        self.do_move(&status, barcode, Place::Slot(from), Place::Slot(to))
    }

    /// EXCHANGE MEDIUM between slots: `src` goes to `dst1`, the cartridge
    /// of `dst1` goes to `dst2` (default: `src`, a swap).
    pub fn exchange(
        &mut self,
        src: usize,
        dst1: usize,
        dst2: Option<usize>,
    ) -> Result<Vec<MoveOutcome>, ChangerError> {
        let status = self.status()?;
        let b_src = Self::full_slot(&status, src)?;
        let b_dst1 = Self::full_slot(&status, dst1)?;
        let dst2 = dst2.unwrap_or(src);
        if dst2 != src {
            Self::empty_slot(&status, dst2)?;
        }
        if src == dst1 {
            return Err(ChangerError::InvalidArgument(format!(
                "exchange: source and first destination are both slot {src}"
            )));
        }
        let transport = self.transport_address(&status)?;
        commands::exchange_medium(
            &mut self.transport,
            transport,
            Self::slot_address(&status, src)?,
            Self::slot_address(&status, dst1)?,
            Self::slot_address(&status, dst2)?,
        )?;
        Ok(vec![
            MoveOutcome {
                barcode: b_src,
                from: Place::Slot(src),
                to: Place::Slot(dst1),
            },
            MoveOutcome {
                barcode: b_dst1,
                from: Place::Slot(dst1),
                to: Place::Slot(dst2),
            },
        ])
    }

    /// Move a cartridge from an import/export slot into the first free
    /// storage slot.
    pub fn import(&mut self, barcode: &str) -> Result<MoveOutcome, ChangerError> {
        self.move_across(barcode, true)
    }

    /// Move a cartridge from a storage slot into the first free
    /// import/export slot.
    pub fn export(&mut self, barcode: &str) -> Result<MoveOutcome, ChangerError> {
        self.move_across(barcode, false)
    }

    /// Move the cartridge `barcode` from a slot of one kind (import/export
    /// when `from_import_export`, else storage) into the first free slot of
    /// the other kind.
    fn move_across(
        &mut self,
        barcode: &str,
        from_import_export: bool,
    ) -> Result<MoveOutcome, ChangerError> {
        let status = self.status()?;
        let (expected, targets, what) = if from_import_export {
            ("an import/export slot", &status.slots, "storage slot")
        } else {
            (
                "a storage slot",
                &status.import_export,
                "import/export slot",
            )
        };
        let from = match status.find_barcode(barcode) {
            Some(Place::Slot(n))
                if status
                    .slot(n)
                    .is_some_and(|s| s.import_export == from_import_export) =>
            {
                n
            }
            Some(other) => {
                return Err(ChangerError::WrongLocation {
                    barcode: barcode.to_string(),
                    location: other.to_string(),
                    expected,
                })
            }
            None => {
                return Err(ChangerError::BarcodeNotFound {
                    barcode: barcode.to_string(),
                })
            }
        };
        let to = targets
            .iter()
            .find(|s| !s.full)
            .map(|s| s.number)
            .ok_or(ChangerError::NoFreeSlot { what })?;
        self.do_move(
            &status,
            Some(barcode.to_string()),
            Place::Slot(from),
            Place::Slot(to),
        )
    }

    /// mtx first/last/next/previous for `drive`. Next and previous unload
    /// the drive to its source slot first (when full) and continue from
    /// that slot; first/last need an empty drive. Cleaning cartridges and
    /// import/export slots are skipped. Returns the moves done.
    pub fn step(&mut self, drive: usize, step: Step) -> Result<Vec<MoveOutcome>, ChangerError> {
        let status = self.status()?;
        let d = drive_status(&status, drive)?;
        // Decide everything before the first move, so a refused step
        // leaves the library as it was.
        let current = match step {
            Step::First | Step::Last => {
                empty_drive(&status, drive)?;
                None
            }
            Step::Next | Step::Previous if d.full => {
                Some(d.source_slot.ok_or(ChangerError::UnknownSource { drive })?)
            }
            Step::Next | Step::Previous => return Err(ChangerError::DriveEmpty { drive }),
        };
        let loadable = |s: &&super::status::SlotStatus| {
            s.full && !s.barcode.as_deref().is_some_and(is_cleaning_barcode)
        };
        let slots = status.slots.iter();
        let candidate = match (step, current) {
            (Step::Next, Some(c)) => slots.clone().filter(|s| s.number > c).find(loadable),
            (Step::Previous, Some(c)) => {
                slots.clone().rev().filter(|s| s.number < c).find(loadable)
            }
            (Step::Last, _) => slots.clone().rev().find(loadable),
            _ => slots.clone().find(loadable),
        };
        let Some(slot) = candidate.map(|s| s.number) else {
            let direction = match (step, current) {
                (Step::Next, Some(c)) => format!("after slot {c}"),
                (Step::Previous, Some(c)) => format!("before slot {c}"),
                _ => "to load".to_string(),
            };
            return Err(ChangerError::NoCartridge { direction });
        };
        let mut moves = Vec::new();
        if let Some(src) = current {
            moves.push(self.unload(drive, Some(src))?);
        }
        moves.push(self.load_slot(slot, drive)?);
        Ok(moves)
    }
}
