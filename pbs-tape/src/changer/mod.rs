//! changer (work in progress)
