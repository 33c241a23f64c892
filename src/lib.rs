//! `ptape`: pools, media catalog, backup and restore on top of `pbs-tape`.
