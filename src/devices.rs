//! What the pool writer needs from the hardware: cartridges that can be
//! loaded by label, a drive that positions and moves blocks.
//!
//! [`TapeDevices`] is implemented by [`crate::library::LibraryDevices`]
//! (a configured or the embedded drive, with its changer when there is
//! one) and by [`MemoryDevices`] (cartridges held in memory, for tests of
//! the writer's logic without any device).

use std::collections::BTreeMap;

use pbs_tape::drive::tape_alert::TapeAlertFlags;
use pbs_tape::format::{MemoryTape, TapeIoError, TapeRead, TapeWrite};

/// Errors of loading, unloading and positioning tapes.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("changer {path}: {source}")]
    Changer {
        path: String,
        #[source]
        source: Box<pbs_tape::changer::ChangerError>,
    },
    #[error("drive {path}: {source}")]
    Drive {
        path: String,
        #[source]
        source: Box<pbs_tape::drive::DriveError>,
    },
    #[error(transparent)]
    Tape(Box<TapeIoError>),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: Box<pbs_tape::scsi::ScsiError>,
    },
    /// A device is held by another process (or its lock cannot be taken).
    #[error(transparent)]
    Lock(Box<crate::lock::LockError>),
    /// A lock handed in for a drive is the lock of another device.
    #[error("drive {path}: the lock handed in is for {held}, not this drive")]
    LockMismatch { path: String, held: String },
    #[error("cartridge {0} is not in the library")]
    NotOnline(String),
    #[error("drive {path} holds no cartridge")]
    DriveEmpty { path: String },
    #[error("drive {path} holds another cartridge, but {wanted} was asked for and there is no changer to swap it")]
    NoChanger { path: String, wanted: String },
}

impl From<TapeIoError> for DeviceError {
    fn from(e: TapeIoError) -> Self {
        DeviceError::Tape(Box::new(e))
    }
}

/// Moving the tape to a position (beyond what [`TapeWrite`] offers), and
/// the writing session that guards a position once it is proven.
pub trait TapeMotion {
    /// To the beginning of the tape (SSC REWIND).
    fn rewind(&mut self) -> Result<(), TapeIoError>;
    /// To the first block of tape file `file` (after the `file`-th filemark).
    fn locate_file(&mut self, file: u64) -> Result<(), TapeIoError>;
    /// To end of data (SSC SPACE to end of data), where a drive appends.
    fn move_to_eod(&mut self) -> Result<(), TapeIoError>;
    /// Starts a writing session: a reset or medium change seen from now on
    /// makes every command at the tape position fail (the drive layer's
    /// [`pbs_tape::drive::LtoDrive::begin_write_session`]). Called before
    /// the position a session writes at is proven.
    fn begin_write_session(&mut self);
    /// To logical object `object` (block or filemark number from BOT;
    /// SSC LOCATE): a reader skips an unreadable block with it.
    fn locate_object(&mut self, object: u64) -> Result<(), TapeIoError>;
}

/// A drive (and maybe a changer) from which tapes are loaded by label.
pub trait TapeDevices {
    /// `Send`: a restore reads the tape on a thread of its own.
    type Tape: TapeWrite + TapeRead + TapeMotion + crate::keys::HardwareEncryption + Send;

    /// Labels (barcodes) of the data cartridges that can be loaded now.
    /// Cleaning cartridges are never listed.
    fn online_labels(&mut self) -> Result<Vec<String>, DeviceError>;

    /// True when blank cartridges can be labelled automatically (their
    /// label is known without reading them: a changer with barcodes).
    fn can_autolabel(&self) -> bool;

    /// The configured name of the drive, for messages that tell the user
    /// which command to run (`ptape catalog scan --drive NAME`).
    fn drive_name(&self) -> String;

    /// The configured name of the changer the drive sits in; `None` for a
    /// standalone drive. Tapes it can load are "online" in that changer.
    fn changer_name(&self) -> Option<String>;

    /// Loads the cartridge into the drive and returns it rewound.
    fn load(&mut self, label: &str) -> Result<Self::Tape, DeviceError>;

    /// Unloads the tape (back to its slot in a library).
    fn unload(&mut self, tape: Self::Tape) -> Result<(), DeviceError>;

    /// Brings the cartridge `label` into the library when an operator put
    /// it into an import/export slot (or a configured export slot): moves
    /// it to a free storage slot, after which it is online. `Ok(false)`:
    /// it is not waiting there (a standalone drive has no such slots).
    fn import(&mut self, _label: &str) -> Result<bool, DeviceError> {
        Ok(false)
    }

    /// Moves the cartridges `labels` (in this order) into free
    /// import/export slots (and configured export slots), unloading the
    /// drive first when it holds one of them; when there are too few free
    /// slots, exports what fits. A cartridge already in such a slot counts
    /// as exported. Without a changer nothing can be exported.
    fn export(&mut self, labels: &[String]) -> Result<ExportReport, DeviceError> {
        Ok(ExportReport::nothing(
            labels,
            "no changer: take the tape out of the drive by hand",
        ))
    }

    /// The TapeAlert flags the drive raised since they were last read
    /// (LOG SENSE page 0x2E, or 0x12; reading clears them on most
    /// drives). A drive that has no TapeAlert pages reports none.
    fn tape_alerts(&mut self, _tape: &mut Self::Tape) -> Result<TapeAlertFlags, DeviceError> {
        Ok(TapeAlertFlags::empty())
    }

    /// True when the drive is configured to be cleaned automatically
    /// (`ptape drive update NAME --auto-clean`) when it asks for cleaning.
    fn auto_clean(&self) -> bool {
        false
    }

    /// Cleans the (empty) drive with a cleaning cartridge of its changer
    /// and puts the cartridge back; returns the cleaning cartridge's
    /// barcode, or `None` when there is no changer or no usable cleaning
    /// cartridge.
    fn clean_drive(&mut self) -> Result<Option<String>, DeviceError> {
        Ok(None)
    }
}

/// What [`TapeDevices::export`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportReport {
    /// Cartridges now in an import/export (or export) slot.
    pub exported: Vec<ExportedTape>,
    /// Cartridges left where they are, with the reason.
    pub not_exported: Vec<NotExported>,
}

/// A cartridge in an export slot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportedTape {
    pub label: String,
    /// Slot number as `pmtx status` shows it.
    pub slot: usize,
}

/// A cartridge that was not exported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotExported {
    pub label: String,
    pub reason: String,
}

impl ExportReport {
    /// Nothing exported, for one reason.
    pub fn nothing(labels: &[String], reason: &str) -> ExportReport {
        ExportReport {
            exported: Vec::new(),
            not_exported: labels
                .iter()
                .map(|l| NotExported {
                    label: l.clone(),
                    reason: reason.to_string(),
                })
                .collect(),
        }
    }
}

impl TapeMotion for MemoryTape {
    fn rewind(&mut self) -> Result<(), TapeIoError> {
        MemoryTape::rewind(self);
        Ok(())
    }
    fn locate_file(&mut self, file: u64) -> Result<(), TapeIoError> {
        MemoryTape::locate_file(self, file)
    }
    fn move_to_eod(&mut self) -> Result<(), TapeIoError> {
        MemoryTape::move_to_eod(self);
        Ok(())
    }
    /// A memory tape is never reset.
    fn begin_write_session(&mut self) {}
    fn locate_object(&mut self, object: u64) -> Result<(), TapeIoError> {
        MemoryTape::locate_object(self, object)
    }
}

/// The changer name [`MemoryDevices`] report.
pub const MEMORY_CHANGER: &str = "memory";

/// Cartridges held in memory, by label: a library without hardware.
#[derive(Debug, Default)]
pub struct MemoryDevices {
    /// Cartridges on the shelf (not loaded).
    pub cartridges: BTreeMap<String, MemoryTape>,
    /// Label of the loaded cartridge.
    pub loaded: Option<String>,
    /// Labels in the order they were loaded.
    pub load_log: Vec<String>,
    /// Cartridges in the import/export slots (not online until imported).
    pub mailbox: BTreeMap<String, MemoryTape>,
    /// Number of import/export slots (for [`TapeDevices::export`]).
    pub mailbox_slots: usize,
}

impl MemoryDevices {
    /// `count` blank cartridges `PREFIX0001L9`..., each reporting early
    /// warning after `early_warning` bytes.
    pub fn blank(prefix: &str, count: usize, early_warning: u64) -> Self {
        let cartridges = (1..=count)
            .map(|i| {
                (
                    format!("{prefix}{i:04}L9"),
                    MemoryTape::new().with_early_warning(early_warning),
                )
            })
            .collect();
        MemoryDevices {
            cartridges,
            ..Default::default()
        }
    }
}

impl TapeDevices for MemoryDevices {
    type Tape = MemoryTape;

    fn online_labels(&mut self) -> Result<Vec<String>, DeviceError> {
        Ok(self.cartridges.keys().cloned().collect())
    }

    fn can_autolabel(&self) -> bool {
        true
    }

    fn drive_name(&self) -> String {
        "memory".into()
    }

    fn changer_name(&self) -> Option<String> {
        Some(MEMORY_CHANGER.to_string())
    }

    fn load(&mut self, label: &str) -> Result<MemoryTape, DeviceError> {
        let mut tape = self
            .cartridges
            .remove(label)
            .ok_or_else(|| DeviceError::NotOnline(label.to_string()))?;
        tape.rewind();
        self.loaded = Some(label.to_string());
        self.load_log.push(label.to_string());
        Ok(tape)
    }

    fn unload(&mut self, tape: MemoryTape) -> Result<(), DeviceError> {
        let label = self.loaded.take().ok_or(DeviceError::DriveEmpty {
            path: "memory".into(),
        })?;
        self.cartridges.insert(label, tape);
        Ok(())
    }

    /// Import/export slots are numbered 1.. in label order of the mailbox.
    fn export(&mut self, labels: &[String]) -> Result<ExportReport, DeviceError> {
        let mut report = ExportReport::default();
        for label in labels {
            let reason = if self.mailbox.contains_key(label) {
                None
            } else if !self.cartridges.contains_key(label) {
                Some(format!("{label} is not in the library"))
            } else if self.mailbox.len() >= self.mailbox_slots {
                Some("no free import/export slot".to_string())
            } else {
                let tape = self
                    .cartridges
                    .remove(label)
                    .ok_or_else(|| DeviceError::NotOnline(label.clone()))?;
                self.mailbox.insert(label.clone(), tape);
                None
            };
            match reason {
                Some(reason) => report.not_exported.push(NotExported {
                    label: label.clone(),
                    reason,
                }),
                None => report.exported.push(ExportedTape {
                    label: label.clone(),
                    slot: 0,
                }),
            }
        }
        for tape in &mut report.exported {
            tape.slot = 1 + self
                .mailbox
                .keys()
                .position(|l| *l == tape.label)
                .unwrap_or_default();
        }
        Ok(report)
    }

    fn import(&mut self, label: &str) -> Result<bool, DeviceError> {
        match self.mailbox.remove(label) {
            Some(tape) => {
                self.cartridges.insert(label.to_string(), tape);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl<D: TapeDevices + ?Sized> TapeDevices for &mut D {
    type Tape = D::Tape;
    fn online_labels(&mut self) -> Result<Vec<String>, DeviceError> {
        (**self).online_labels()
    }
    fn can_autolabel(&self) -> bool {
        (**self).can_autolabel()
    }
    fn drive_name(&self) -> String {
        (**self).drive_name()
    }
    fn changer_name(&self) -> Option<String> {
        (**self).changer_name()
    }
    fn load(&mut self, label: &str) -> Result<Self::Tape, DeviceError> {
        (**self).load(label)
    }
    fn unload(&mut self, tape: Self::Tape) -> Result<(), DeviceError> {
        (**self).unload(tape)
    }
    fn import(&mut self, label: &str) -> Result<bool, DeviceError> {
        (**self).import(label)
    }
    fn export(&mut self, labels: &[String]) -> Result<ExportReport, DeviceError> {
        (**self).export(labels)
    }
    fn tape_alerts(&mut self, tape: &mut Self::Tape) -> Result<TapeAlertFlags, DeviceError> {
        (**self).tape_alerts(tape)
    }
    fn auto_clean(&self) -> bool {
        (**self).auto_clean()
    }
    fn clean_drive(&mut self) -> Result<Option<String>, DeviceError> {
        (**self).clean_drive()
    }
}
