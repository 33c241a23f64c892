//! Injectable faults: armed per device from the CLI (`tape-emu fault`) or
//! from tests, stored in the library state so every process sees them.

use serde::{Deserialize, Serialize};

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
}

/// One armed fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    pub device: DeviceId,
    pub kind: FaultKind,
    /// Number of matching commands that pass before the fault fires
    /// (0: the next matching command). Matching commands are WRITE(6) for
    /// write faults, READ(6) for read faults, MOVE/EXCHANGE MEDIUM for move
    /// faults, any command for timeout and power loss.
    pub after: u64,
}
