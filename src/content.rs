//! What each tape holds, from the catalog (`ptape content`): per tape its
//! archives in file order (content type, UUID, entries, bytes) and the
//! snapshots whose indexes it carries.

use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, ContentType, MediaLocation, MediaStatus};

/// One archive (tape file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArchiveContent {
    pub file_number: u64,
    pub content: ContentType,
    pub uuid: Uuid,
    pub entries: u64,
    pub bytes: u64,
    /// False when the archive continues on the next tape.
    pub complete: bool,
    /// Snapshot archives: the snapshot name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// One tape and its archives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TapeContent {
    pub label: String,
    pub media: Uuid,
    pub pool: Option<String>,
    pub media_set: Option<Uuid>,
    pub seq_nr: Option<u32>,
    pub status: MediaStatus,
    pub location: MediaLocation,
    pub archives: Vec<ArchiveContent>,
    /// Snapshot names whose snapshot archive is on this tape.
    pub snapshots: Vec<String>,
}

/// The content of every catalogued tape (optionally of one pool), by
/// media set and sequence number.
pub fn tape_contents(
    catalog: &Catalog,
    pool: Option<&str>,
) -> Result<Vec<TapeContent>, CatalogError> {
    let snapshots = catalog.snapshots(None)?;
    let mut media = catalog.media_list()?;
    media.retain(|m| pool.is_none() || m.pool.as_deref() == pool);
    media.sort_by(|a, b| (a.media_set, a.seq_nr, &a.label).cmp(&(b.media_set, b.seq_nr, &b.label)));
    let mut out = Vec::with_capacity(media.len());
    for m in media {
        let archives = catalog
            .archives_of_media(m.uuid)?
            .into_iter()
            .map(|a| ArchiveContent {
                snapshot: snapshots
                    .iter()
                    .find(|s| s.media == m.uuid && s.file_number == a.file_number)
                    .map(|s| s.name.clone()),
                file_number: a.file_number,
                content: a.content,
                uuid: a.uuid,
                entries: a.entries,
                bytes: a.bytes,
                complete: a.complete,
            })
            .collect::<Vec<_>>();
        out.push(TapeContent {
            snapshots: archives.iter().filter_map(|a| a.snapshot.clone()).collect(),
            label: m.label,
            media: m.uuid,
            pool: m.pool,
            media_set: m.media_set,
            seq_nr: m.seq_nr,
            status: m.status,
            location: m.location,
            archives,
        });
    }
    Ok(out)
}
