//! Injectable faults: armed per device from the CLI (`tape-emu fault`) or
//! from tests, stored in the library state so every process sees them.

use serde::{Deserialize, Serialize};

use super::library::{EmuError, Library};
use super::state::LibraryState;

/// Which device of the library a fault is armed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "index")]
pub enum DeviceId {
    Changer,
    Drive(usize),
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The chosen WRITE fails at once with MEDIUM ERROR 03/0C00.
    WriteError,
    /// The chosen WRITE is accepted into the buffer, but the next flush
    /// reports a deferred (0x71) MEDIUM ERROR 03/0C00 and the data from that
    /// block on never reaches the medium.
    DeferredWriteError,
    /// The chosen READ fails with MEDIUM ERROR 03/1100 (unrecovered read error).
    ReadError,
    /// The chosen MOVE MEDIUM / EXCHANGE MEDIUM fails with HARDWARE ERROR.
    MoveHardwareError,
    /// Power loss: the drive's write buffer is discarded, the next command
    /// gets UNIT ATTENTION 29/00.
    PowerLoss,
    /// The chosen command never answers (the transport reports a timeout).
    Timeout,
    /// The drive raises these TapeAlert flags (bit n-1 is flag n, as in
    /// [`crate::drive::tape_alert::TapeAlertFlags`]) when the chosen
    /// command arrives; the command itself succeeds. The host reads them
    /// from LOG SENSE page 0x2E (which clears them) or 0x12.
    TapeAlert(u64),
}

/// One armed fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub device: DeviceId,
    pub kind: FaultKind,
    /// Number of matching commands that pass before the fault fires
    /// (0: the next matching command). Matching commands are WRITE(6) for
    /// write faults, READ(6) for read faults, MOVE/EXCHANGE MEDIUM for move
    /// faults, any command for timeout, power loss and TapeAlert flags.
    pub after: u64,
}

/// The commands a fault counts (and fires on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultClass {
    /// WRITE(6).
    Write,
    /// READ(6).
    Read,
    /// MOVE MEDIUM / EXCHANGE MEDIUM.
    Move,
    /// Every command.
    Any,
}

impl FaultKind {
    /// All kinds, for help texts and parsing.
    /// (`TapeAlert` with no flags: the flags are given separately.)
    pub const ALL: [FaultKind; 7] = [
        FaultKind::WriteError,
        FaultKind::DeferredWriteError,
        FaultKind::ReadError,
        FaultKind::MoveHardwareError,
        FaultKind::PowerLoss,
        FaultKind::Timeout,
        FaultKind::TapeAlert(0),
    ];

    /// Which commands this fault counts.
    pub fn class(self) -> FaultClass {
        match self {
            FaultKind::WriteError | FaultKind::DeferredWriteError => FaultClass::Write,
            FaultKind::ReadError => FaultClass::Read,
            FaultKind::MoveHardwareError => FaultClass::Move,
            FaultKind::PowerLoss | FaultKind::Timeout | FaultKind::TapeAlert(_) => FaultClass::Any,
        }
    }

    /// The kebab-case name used by the CLI and in `state.json`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::WriteError => "write-error",
            FaultKind::DeferredWriteError => "deferred-write-error",
            FaultKind::ReadError => "read-error",
            FaultKind::MoveHardwareError => "move-hardware-error",
            FaultKind::PowerLoss => "power-loss",
            FaultKind::Timeout => "timeout",
            FaultKind::TapeAlert(_) => "tape-alert",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())?;
        if let FaultKind::TapeAlert(flags) = self {
            let numbers: Vec<String> =
                crate::drive::tape_alert::TapeAlertFlags::from_bits_retain(*flags)
                    .entries()
                    .iter()
                    .map(|e| e.flag.to_string())
                    .collect();
            write!(f, " (flags {})", numbers.join(","))?;
        }
        Ok(())
    }
}

/// An unknown fault name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault '{0}' (known: write-error, deferred-write-error, read-error, move-hardware-error, power-loss, timeout, tape-alert)")]
pub struct UnknownFault(pub String);

impl std::str::FromStr for FaultKind {
    type Err = UnknownFault;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownFault(s.to_string()))
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceId::Changer => f.write_str("changer"),
            DeviceId::Drive(n) => write!(f, "drive{n}"),
        }
    }
}

impl std::str::FromStr for DeviceId {
    type Err = String;
    /// `changer` or `driveN`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "changer" {
            return Ok(DeviceId::Changer);
        }
        s.strip_prefix("drive")
            .and_then(|n| n.parse().ok())
            .map(DeviceId::Drive)
            .ok_or_else(|| format!("unknown device '{s}' (expected 'changer' or 'driveN')"))
    }
}

/// True when any fault is armed on `device` (checked on a cached state, so
/// commands of devices without faults pay nothing).
pub fn armed_on(state: &LibraryState, device: DeviceId) -> bool {
    state.faults.iter().any(|f| f.device == device)
}

/// Count one command of class `class` on `device` against the armed
/// faults, under the library lock so counts are exact across processes:
/// each matching fault with `after > 0` is decremented (and stored); the
/// first matching one with `after == 0` fires, is removed and returned.
pub fn count_command(
    lib: &Library,
    device: DeviceId,
    class: FaultClass,
) -> Result<Option<FaultKind>, EmuError> {
    lib.update(|state| {
        let mut fired = None;
        let mut i = 0;
        while i < state.faults.len() {
            let f = &mut state.faults[i];
            let matches = f.device == device
                && (f.kind.class() == class || f.kind.class() == FaultClass::Any);
            if matches && fired.is_none() && f.after == 0 {
                fired = Some(f.kind);
                state.faults.remove(i);
                continue;
            }
            if matches && f.after > 0 {
                f.after -= 1;
            }
            i += 1;
        }
        Ok(fired)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::state::LibraryConfig;

    #[test]
    fn names_round_trip() {
        for k in FaultKind::ALL {
            assert_eq!(k.name().parse::<FaultKind>().unwrap(), k);
        }
        assert!("melt".parse::<FaultKind>().is_err());
        assert_eq!("drive3".parse::<DeviceId>().unwrap(), DeviceId::Drive(3));
        assert_eq!("changer".parse::<DeviceId>().unwrap(), DeviceId::Changer);
        assert!("drv".parse::<DeviceId>().is_err());
    }

    #[test]
    fn counting_is_exact_and_fired_fault_is_consumed() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = Library::create(tmp.path(), LibraryConfig::default(), &[], &[]).unwrap();
        let dev = DeviceId::Drive(0);
        lib.arm_fault(FaultSpec {
            device: dev,
            kind: FaultKind::WriteError,
            after: 2,
        })
        .unwrap();
        // Reads do not count for a write fault.
        assert_eq!(count_command(&lib, dev, FaultClass::Read).unwrap(), None);
        assert_eq!(count_command(&lib, dev, FaultClass::Write).unwrap(), None);
        assert_eq!(count_command(&lib, dev, FaultClass::Write).unwrap(), None);
        assert_eq!(
            count_command(&lib, dev, FaultClass::Write).unwrap(),
            Some(FaultKind::WriteError)
        );
        assert_eq!(count_command(&lib, dev, FaultClass::Write).unwrap(), None);
        assert!(!armed_on(&lib.read_state().unwrap(), dev));
    }
}
