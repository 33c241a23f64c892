//! Which key a pool encrypts with and which key a media set was written
//! with (fingerprints, full colon-hex form; `None`: not encrypted).

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{Catalog, CatalogError};

impl Catalog {
    /// The key fingerprint pool `pool` encrypts with.
    pub fn pool_encrypt(&self, pool: &str) -> Result<Option<String>, CatalogError> {
        self.conn
            .query_row("SELECT encrypt FROM pools WHERE name = ?1", [pool], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .ok_or_else(|| CatalogError::UnknownPool(pool.to_string()))
    }

    /// Sets (or clears) the key pool `pool` encrypts with. Callers check
    /// the fingerprint against the key store (`ptape::keys::check_pool_key`).
    pub fn set_pool_encrypt(
        &self,
        pool: &str,
        fingerprint: Option<&str>,
    ) -> Result<(), CatalogError> {
        let n = self.conn.execute(
            "UPDATE pools SET encrypt = ?2 WHERE name = ?1",
            params![pool, fingerprint],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownPool(pool.to_string()));
        }
        Ok(())
    }

    /// Names of the pools that encrypt with key `fingerprint`.
    pub fn pools_using_key(&self, fingerprint: &str) -> Result<Vec<String>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pools WHERE encrypt = ?1 ORDER BY name")?;
        let rows = stmt.query_map([fingerprint], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The key fingerprint media set `set` was written with.
    pub fn media_set_key(&self, set: Uuid) -> Result<Option<String>, CatalogError> {
        self.conn
            .query_row(
                "SELECT encryption_key FROM media_sets WHERE uuid = ?1",
                [set.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .ok_or(CatalogError::UnknownMediaSet(set))
    }

    /// Records the key media set `set` is written with.
    pub fn set_media_set_key(
        &self,
        set: Uuid,
        fingerprint: Option<&str>,
    ) -> Result<(), CatalogError> {
        let n = self.conn.execute(
            "UPDATE media_sets SET encryption_key = ?2 WHERE uuid = ?1",
            params![set.to_string(), fingerprint],
        )?;
        if n == 0 {
            return Err(CatalogError::UnknownMediaSet(set));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::MediaSetRecord;

    #[test]
    fn pool_and_media_set_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("c.db")).unwrap();
        assert_eq!(cat.pool_encrypt("default").unwrap(), None);
        cat.set_pool_encrypt("default", Some("aa:bb")).unwrap();
        assert_eq!(
            cat.pool_encrypt("default").unwrap().as_deref(),
            Some("aa:bb")
        );
        assert_eq!(cat.pools_using_key("aa:bb").unwrap(), vec!["default"]);
        assert!(cat.pools_using_key("cc").unwrap().is_empty());
        cat.set_pool_encrypt("default", None).unwrap();
        assert!(cat.pools_using_key("aa:bb").unwrap().is_empty());
        assert!(matches!(
            cat.set_pool_encrypt("nope", None),
            Err(CatalogError::UnknownPool(_))
        ));
        let set = MediaSetRecord::new("default", 1, None);
        cat.insert_media_set(&set).unwrap();
        assert_eq!(cat.media_set_key(set.uuid).unwrap(), None);
        cat.set_media_set_key(set.uuid, Some("aa:bb")).unwrap();
        assert_eq!(
            cat.media_set_key(set.uuid).unwrap().as_deref(),
            Some("aa:bb")
        );
        assert!(cat.media_set_key(Uuid::new_v4()).is_err());
    }
}
