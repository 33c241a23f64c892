//! Shared helpers for the ptape binaries.
