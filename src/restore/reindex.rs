//! Rebuilding the local file index of a snapshot from tape (`ptape
//! catalog scan`): its snapshot index from the snapshot archive and its
//! metadata chunks from the chunk archives, read like a restore reads them.

use std::collections::HashSet;

use super::{start_reading, RestoreError};
use crate::catalog::file_index::FileIndex;
use crate::catalog::{Catalog, SnapshotRecord};
use crate::chunking::Digest;
use crate::devices::TapeDevices;
use crate::keys::ReadKeys;
use crate::writer::WriterEvents;

/// Reads what the file index needs of `snapshot` from tape and stores it.
/// The tape read last is unloaded (its key cleared).
pub fn rebuild_file_index<D: TapeDevices>(
    devices: &mut D,
    catalog: &Catalog,
    snapshot: &SnapshotRecord,
    index: &FileIndex,
    keys: &mut ReadKeys,
    events: &mut dyn WriterEvents,
) -> Result<(), RestoreError> {
    let reason = format!("file index of {}", snapshot.name);
    let wait = crate::media_request::WaitForTapes::default();
    let (snap_index, mut reader) =
        start_reading(devices, catalog, snapshot, keys, &reason, &wait, events)?;
    let needed: HashSet<Digest> = snap_index
        .metadata
        .iter()
        .map(|e| e.digest)
        .filter(|d| index.chunk(d).is_err())
        .collect();
    let result = (|| {
        let (plan, missing) = reader.plan(&needed)?;
        reader.check_online(&plan, events)?;
        let mut failed = None;
        let (lost, problems, _) = reader.fetch(
            &plan,
            &mut |digest, data| {
                if let Err(e) = index.put_chunk(digest, data) {
                    failed.get_or_insert(e.to_string());
                }
                Ok(())
            },
            events,
        )?;
        if let Some(e) = failed {
            return Err(RestoreError::Invalid(snapshot.name.clone(), e));
        }
        if !missing.is_empty() || !lost.is_empty() {
            return Err(RestoreError::Invalid(
                snapshot.name.clone(),
                format!(
                    "{} metadata chunks could not be read from tape{}",
                    missing.len() + lost.len(),
                    problems
                        .first()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default()
                ),
            ));
        }
        let mut bytes = Vec::new();
        snap_index
            .write(&mut bytes)
            .map_err(|source| RestoreError::Index {
                snapshot: snapshot.name.clone(),
                source,
            })?;
        index
            .put_snapshot(snapshot.archive, &mut &bytes[..])
            .map_err(|e| RestoreError::Invalid(snapshot.name.clone(), e.to_string()))
    })();
    let closed = reader.close();
    if result.is_ok() {
        closed?;
    }
    result
}
