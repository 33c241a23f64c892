//! A file-backed tape library emulator that answers real CDBs.
//!
//! See `docs/emulator.md`.

pub mod cdb;
pub mod drive_state;
pub mod fault;
pub mod state;
