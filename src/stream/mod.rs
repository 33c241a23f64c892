//! The backup as streams: walking the sources (with excludes), and the
//! metadata and payload streams a snapshot is made of.

pub mod exclude;
pub mod walk;
