//! drive (work in progress)
