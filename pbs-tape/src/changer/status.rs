//! [`ChangerStatus`]: one snapshot of every element of a changer, with
//! user numbering (storage and import/export slots 1-based and numbered
//! in one run like mtx does, drives 0-based).

use serde::Serialize;

use super::element_status::{DeviceIdentifier, Element, ElementType};

/// An element in an abnormal state (EXCEPT bit) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementException {
    pub asc: u8,
    pub ascq: u8,
    /// The ASC/ASCQ text from the SPC table.
    pub description: String,
}

/// The medium transport (robot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransportStatus {
    pub address: u16,
    pub full: bool,
    pub barcode: Option<String>,
    pub exception: Option<ElementException>,
}

/// A data transfer element (drive bay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriveStatus {
    /// Drive number, 0-based, in element address order.
    pub index: usize,
    pub address: u16,
    pub full: bool,
    pub barcode: Option<String>,
    /// Element address the cartridge came from (SVALID).
    pub source_address: Option<u16>,
    /// The slot number of `source_address`, when it is a slot.
    pub source_slot: Option<usize>,
    /// Drive serial number from the device identifier (DVCID), if reported.
    pub serial: Option<String>,
    pub device_id: Option<DeviceIdentifier>,
    pub access: bool,
    pub exception: Option<ElementException>,
}

/// A storage or import/export slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotStatus {
    /// Slot number, 1-based; import/export slots follow the storage slots.
    pub number: usize,
    pub address: u16,
    pub full: bool,
    pub barcode: Option<String>,
    /// True for an import/export slot (mail slot).
    pub import_export: bool,
    pub access: bool,
    pub exception: Option<ElementException>,
}

/// Where a cartridge is, in user numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "number")]
pub enum Place {
    Transport,
    Slot(usize),
    Drive(usize),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Transport => f.write_str("the medium transport"),
            Place::Slot(n) => write!(f, "slot {n}"),
            Place::Drive(n) => write!(f, "drive {n}"),
        }
    }
}

/// Every element of a changer at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangerStatus {
    pub transports: Vec<TransportStatus>,
    pub drives: Vec<DriveStatus>,
    /// Storage slots, numbered 1..=len.
    pub slots: Vec<SlotStatus>,
    /// Import/export slots, numbered after the storage slots.
    pub import_export: Vec<SlotStatus>,
}

fn exception(e: &Element) -> Option<ElementException> {
    e.except.then(|| ElementException {
        asc: e.asc,
        ascq: e.ascq,
        description: crate::scsi::asc_table::asc_text(e.asc, e.ascq),
    })
}

impl ChangerStatus {
    /// Build the snapshot from decoded elements (any order, any mix of types).
    pub fn from_elements(elements: &[Element]) -> Self {
        let of_type = |t: ElementType| {
            let mut v: Vec<&Element> = elements.iter().filter(|e| e.element_type == t).collect();
            v.sort_by_key(|e| e.address);
            v.dedup_by_key(|e| e.address);
            v
        };
        let transports = of_type(ElementType::MediumTransport)
            .into_iter()
            .map(|e| TransportStatus {
                address: e.address,
                full: e.full,
                barcode: e.primary_tag.clone(),
                exception: exception(e),
            })
            .collect();
        let slot = |number: usize, e: &Element| SlotStatus {
            number,
            address: e.address,
            full: e.full,
            barcode: e.primary_tag.clone(),
            import_export: e.element_type == ElementType::ImportExport,
            access: e.access,
            exception: exception(e),
        };
        let slots: Vec<SlotStatus> = of_type(ElementType::Storage)
            .into_iter()
            .enumerate()
            .map(|(i, e)| slot(i + 1, e))
            .collect();
        let import_export: Vec<SlotStatus> = of_type(ElementType::ImportExport)
            .into_iter()
            .enumerate()
            .map(|(i, e)| slot(slots.len() + i + 1, e))
            .collect();
        let mut status = ChangerStatus {
            transports,
            drives: Vec::new(),
            slots,
            import_export,
        };
        status.drives = of_type(ElementType::DataTransfer)
            .into_iter()
            .enumerate()
            .map(|(index, e)| DriveStatus {
                index,
                address: e.address,
                full: e.full,
                barcode: e.primary_tag.clone(),
                source_address: e.source_address,
                source_slot: e
                    .source_address
                    .and_then(|a| status.slot_by_address(a))
                    .map(|s| s.number),
                serial: e.device_id.as_ref().and_then(|d| d.serial.clone()),
                device_id: e.device_id.clone(),
                access: e.access,
                exception: exception(e),
            })
            .collect();
        status
    }

    /// Storage slots then import/export slots, in number order.
    pub fn all_slots(&self) -> impl Iterator<Item = &SlotStatus> {
        self.slots.iter().chain(self.import_export.iter())
    }

    /// Number of slots (storage and import/export).
    pub fn slot_count(&self) -> usize {
        self.slots.len() + self.import_export.len()
    }

    /// A slot by its 1-based number.
    pub fn slot(&self, number: usize) -> Option<&SlotStatus> {
        number.checked_sub(1).and_then(|i| self.all_slots().nth(i))
    }

    /// The slot with this element address.
    pub fn slot_by_address(&self, address: u16) -> Option<&SlotStatus> {
        self.all_slots().find(|s| s.address == address)
    }

    /// Where the cartridge with this barcode is.
    pub fn find_barcode(&self, barcode: &str) -> Option<Place> {
        let b = Some(barcode);
        if let Some(d) = self.drives.iter().find(|d| d.barcode.as_deref() == b) {
            return Some(Place::Drive(d.index));
        }
        if let Some(s) = self.all_slots().find(|s| s.barcode.as_deref() == b) {
            return Some(Place::Slot(s.number));
        }
        self.transports
            .iter()
            .any(|t| t.barcode.as_deref() == b)
            .then_some(Place::Transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(t: ElementType, address: u16, tag: Option<&str>) -> Element {
        Element {
            element_type: t,
            address,
            full: tag.is_some(),
            except: false,
            access: true,
            import_export: false,
            asc: 0,
            ascq: 0,
            source_address: None,
            invert: false,
            primary_tag: tag.map(String::from),
            alternate_tag: None,
            device_id: None,
        }
    }

    #[test]
    fn numbering_and_source_slot() {
        let mut drive = el(ElementType::DataTransfer, 0x100, Some("B"));
        drive.source_address = Some(0x11);
        let elements = vec![
            drive,
            el(ElementType::ImportExport, 0x11, None),
            el(ElementType::ImportExport, 0x10, Some("C")),
            el(ElementType::Storage, 0x1001, None),
            el(ElementType::Storage, 0x1000, Some("A")),
        ];
        let s = ChangerStatus::from_elements(&elements);
        assert_eq!(s.slots[0].address, 0x1000);
        assert_eq!(s.slots[0].number, 1);
        assert_eq!(s.import_export[0].number, 3);
        assert_eq!(s.import_export[1].address, 0x11);
        assert_eq!(s.drives[0].source_slot, Some(4));
        assert_eq!(s.find_barcode("C"), Some(Place::Slot(3)));
        assert_eq!(s.find_barcode("B"), Some(Place::Drive(0)));
        assert_eq!(s.find_barcode("Z"), None);
        assert_eq!(s.slot(0), None);
        assert_eq!(s.slot(4).map(|s| s.address), Some(0x11));
        assert_eq!(s.slot(5), None);
    }
}
