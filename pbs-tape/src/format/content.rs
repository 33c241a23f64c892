//! The content header at the start of every tape file: which kind of
//! content follows (magic), its UUID, and the length of its JSON body.

use std::fmt;

use zerocopy::byteorder::big_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::block_reader::BlockReader;
use super::constants::{
    CATALOG_ARCHIVE_MAGIC, CHUNK_ARCHIVE_MAGIC, CONTENT_VERSION, MAX_CONTENT_BODY,
    MEDIA_LABEL_MAGIC, MEDIA_SET_LABEL_MAGIC, SNAPSHOT_ARCHIVE_MAGIC,
};
use super::error::FormatError;
use super::tape::TapeRead;

/// The kinds of tape file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentType {
    MediaLabel,
    MediaSetLabel,
    ChunkArchive,
    SnapshotArchive,
    CatalogArchive,
}

impl ContentType {
    pub const ALL: [ContentType; 5] = [
        ContentType::MediaLabel,
        ContentType::MediaSetLabel,
        ContentType::ChunkArchive,
        ContentType::SnapshotArchive,
        ContentType::CatalogArchive,
    ];

    /// The magic that starts this content type's header.
    pub fn magic(self) -> [u8; 8] {
        match self {
            ContentType::MediaLabel => MEDIA_LABEL_MAGIC,
            ContentType::MediaSetLabel => MEDIA_SET_LABEL_MAGIC,
            ContentType::ChunkArchive => CHUNK_ARCHIVE_MAGIC,
            ContentType::SnapshotArchive => SNAPSHOT_ARCHIVE_MAGIC,
            ContentType::CatalogArchive => CATALOG_ARCHIVE_MAGIC,
        }
    }

    /// The content type of a magic, if it is one of ours.
    pub fn from_magic(magic: [u8; 8]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.magic() == magic)
    }

    pub fn name(self) -> &'static str {
        match self {
            ContentType::MediaLabel => "media label",
            ContentType::MediaSetLabel => "media set label",
            ContentType::ChunkArchive => "chunk archive",
            ContentType::SnapshotArchive => "snapshot archive",
            ContentType::CatalogArchive => "catalog archive",
        }
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Wire layout of the content header (big-endian, 40 bytes).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct ContentHeaderWire {
    /// Content type magic.
    pub magic: [u8; 8],
    /// UUID of this content (RFC 4122 byte order).
    pub uuid: [u8; 16],
    /// Length of the JSON body that follows the header.
    pub body_len: U64,
    /// [`CONTENT_VERSION`].
    pub version: U32,
    /// Zero.
    pub reserved: U32,
}

/// Size of the content header on tape.
pub const CONTENT_HEADER_LEN: usize = std::mem::size_of::<ContentHeaderWire>();

/// A decoded content header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentHeader {
    pub content_type: ContentType,
    pub uuid: uuid::Uuid,
    pub body_len: u64,
}

impl ContentHeader {
    /// Encode to the 40 wire bytes.
    pub fn encode(&self) -> [u8; CONTENT_HEADER_LEN] {
        let wire = ContentHeaderWire {
            magic: self.content_type.magic(),
            uuid: *self.uuid.as_bytes(),
            body_len: U64::new(self.body_len),
            version: U32::new(CONTENT_VERSION),
            reserved: U32::new(0),
        };
        let mut out = [0u8; CONTENT_HEADER_LEN];
        out.copy_from_slice(wire.as_bytes());
        out
    }

    /// Decode and check a content header from its first bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let (wire, _) = ContentHeaderWire::read_from_prefix(bytes).map_err(|_| {
            FormatError::TruncatedContent {
                what: "content header",
                got: bytes.len(),
                need: CONTENT_HEADER_LEN,
            }
        })?;
        let content_type = ContentType::from_magic(wire.magic)
            .ok_or(FormatError::BadContentMagic { found: wire.magic })?;
        if wire.version.get() != CONTENT_VERSION {
            return Err(FormatError::UnsupportedContentVersion(wire.version.get()));
        }
        let body_len = wire.body_len.get();
        if body_len > MAX_CONTENT_BODY {
            return Err(FormatError::TooLarge {
                what: "content header body",
                len: body_len,
                max: MAX_CONTENT_BODY,
            });
        }
        Ok(ContentHeader {
            content_type,
            uuid: uuid::Uuid::from_bytes(wire.uuid),
            body_len,
        })
    }
}

/// Header plus JSON body: the start of every tape file.
pub fn encode_content_start<B: serde::Serialize>(
    content_type: ContentType,
    uuid: uuid::Uuid,
    body: &B,
) -> Result<Vec<u8>, FormatError> {
    let json = serde_json::to_vec(body).map_err(|e| FormatError::BadContentBody {
        what: content_type.name(),
        message: e.to_string(),
    })?;
    if json.len() as u64 > MAX_CONTENT_BODY {
        return Err(FormatError::TooLarge {
            what: "content header body",
            len: json.len() as u64,
            max: MAX_CONTENT_BODY,
        });
    }
    let header = ContentHeader {
        content_type,
        uuid,
        body_len: json.len() as u64,
    };
    let mut out = header.encode().to_vec();
    out.extend_from_slice(&json);
    Ok(out)
}

/// Read the content header of the stream `reader` is at.
pub fn read_content_header<R: TapeRead>(
    reader: &mut BlockReader<'_, R>,
) -> Result<ContentHeader, FormatError> {
    let mut bytes = [0u8; CONTENT_HEADER_LEN];
    let got = reader.read_fill(&mut bytes)?;
    ContentHeader::parse(&bytes[..got])
}

/// Read the JSON body announced by `header` and decode it.
pub fn read_content_body<R: TapeRead, B: serde::de::DeserializeOwned>(
    reader: &mut BlockReader<'_, R>,
    header: &ContentHeader,
) -> Result<B, FormatError> {
    // body_len <= MAX_CONTENT_BODY was checked by `ContentHeader::parse`.
    let mut body = vec![0u8; header.body_len as usize];
    let got = reader.read_fill(&mut body)?;
    if got < body.len() {
        return Err(FormatError::TruncatedContent {
            what: "content header body",
            got,
            need: body.len(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| FormatError::BadContentBody {
        what: header.content_type.name(),
        message: e.to_string(),
    })
}

/// Read the header and require a given content type.
pub fn expect_content<R: TapeRead>(
    reader: &mut BlockReader<'_, R>,
    expected: ContentType,
) -> Result<ContentHeader, FormatError> {
    let header = read_content_header(reader)?;
    if header.content_type != expected {
        return Err(FormatError::WrongContentType {
            expected,
            found: header.content_type,
        });
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        for t in ContentType::ALL {
            let h = ContentHeader {
                content_type: t,
                uuid: uuid::Uuid::new_v4(),
                body_len: 42,
            };
            let bytes = h.encode();
            assert_eq!(bytes.len(), 40);
            assert_eq!(ContentHeader::parse(&bytes).unwrap(), h);
        }
    }

    #[test]
    fn bad_headers() {
        let h = ContentHeader {
            content_type: ContentType::ChunkArchive,
            uuid: uuid::Uuid::nil(),
            body_len: 1,
        };
        let good = h.encode();
        assert!(matches!(
            ContentHeader::parse(&good[..39]),
            Err(FormatError::TruncatedContent { got: 39, .. })
        ));
        let mut bad = good;
        bad[0] = b'X';
        assert!(matches!(
            ContentHeader::parse(&bad),
            Err(FormatError::BadContentMagic { .. })
        ));
        let mut bad = good;
        bad[35] = 9;
        assert!(matches!(
            ContentHeader::parse(&bad),
            Err(FormatError::UnsupportedContentVersion(9))
        ));
        let mut bad = good;
        bad[24] = 1;
        assert!(matches!(
            ContentHeader::parse(&bad),
            Err(FormatError::TooLarge { .. })
        ));
    }
}
