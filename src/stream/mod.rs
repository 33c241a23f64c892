//! The backup as streams: walking the sources (with excludes), and the
//! metadata and payload streams a snapshot is made of.

pub mod chunker;
pub mod encode;
pub mod entry;
pub mod exclude;
pub mod index;
pub mod reference;
pub mod walk;
