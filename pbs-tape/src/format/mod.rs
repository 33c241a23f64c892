//! format (work in progress)
