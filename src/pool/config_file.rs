//! `pools.toml` in the config directory: the pool definitions kept apart
//! from the catalog, as the reference design keeps them in its config.
//!
//! The catalog is where ptape reads pools while it runs (media sets and
//! tapes refer to them by name). Every `ptape pool create|update|remove`
//! rewrites `pools.toml` from the catalog ([`save`]), so the settings
//! survive the loss of `catalog.db`: `ptape catalog scan` brings media sets
//! and tapes back from the tapes, then [`restore_pools`] gives every pool
//! the settings the file holds and recreates the pools the file names that
//! have no tape yet. A pool found on tape that the file does not name keeps
//! what the tape's catalog archive recorded, else the defaults (and its
//! newest set's encryption key); the scan warns about those.
//!
//! The file is written whole, atomically (temp file, fsync, rename); edit
//! pools with `ptape pool update` rather than by hand (a hand edit is read
//! only by the next catalog scan).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogError, PoolRecord};

/// The file name in the config directory.
pub const POOLS_FILE: &str = "pools.toml";

/// Errors of reading or writing `pools.toml`.
#[derive(Debug, thiserror::Error)]
pub enum PoolsFileError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Path of `pools.toml` in the config directory.
pub fn pools_file() -> Result<PathBuf, PoolsFileError> {
    Ok(crate::config::config_dir()?.join(POOLS_FILE))
}

/// One pool in the file (the table `[pool.NAME]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PoolEntry {
    allocation: String,
    retention: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encrypt: Option<String>,
    #[serde(default)]
    created: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PoolsToml {
    #[serde(default)]
    pool: BTreeMap<String, PoolEntry>,
}

const HEADER: &str = "# ptape pool definitions, rewritten by `ptape pool create|update|remove`.\n\
# `ptape catalog scan` restores pools from here after catalog.db was lost.\n\
# Change pools with `ptape pool update` (a hand edit is read only by the\n\
# next catalog scan).\n\n";

/// Writes every pool of `catalog` to `path` (atomically).
pub fn save(catalog: &Catalog, path: &Path) -> Result<(), PoolsFileError> {
    let io = |source| PoolsFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = PoolsToml {
        pool: catalog
            .pools()?
            .into_iter()
            .map(|p| {
                (
                    p.name.clone(),
                    PoolEntry {
                        allocation: p.allocation.to_string(),
                        retention: p.retention.to_string(),
                        template: p.template,
                        comment: p.comment,
                        encrypt: p.encrypt,
                        created: p.created,
                    },
                )
            })
            .collect(),
    };
    let text = toml::to_string_pretty(&file).map_err(|e| PoolsFileError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    crate::config::write_atomic(path, &format!("{HEADER}{text}"), 0o644).map_err(io)
}

/// The pools of the file at `path` (none when it does not exist). Every
/// entry is checked like `ptape pool create` checks its arguments.
pub fn load(path: &Path) -> Result<Vec<PoolRecord>, PoolsFileError> {
    let text = crate::config::read_optional(path).map_err(|source| PoolsFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let invalid = |message: String| PoolsFileError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let file: PoolsToml = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let mut pools = Vec::new();
    for (name, e) in file.pool {
        let at = |what: &str, err: &dyn std::fmt::Display| {
            invalid(format!("pool {name:?}, field {what:?}: {err}"))
        };
        crate::config::validate_name(&name).map_err(|err| at("name", &err))?;
        let mut settings = super::PoolSettings {
            allocation: e.allocation.parse().map_err(|err| at("allocation", &err))?,
            retention: e.retention.parse().map_err(|err| at("retention", &err))?,
            template: e.template,
            comment: e.comment,
            encrypt: e.encrypt,
        };
        super::check_settings(&mut settings).map_err(|err| at("settings", &err))?;
        pools.push(PoolRecord {
            name,
            allocation: settings.allocation,
            retention: settings.retention,
            template: settings.template,
            comment: settings.comment,
            encrypt: settings.encrypt,
            created: e.created,
        });
    }
    Ok(pools)
}

/// Where a pool's settings came from after a catalog scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingsSource {
    /// `pools.toml`.
    PoolsFile,
    /// A catalog archive on tape (the settings when it was written).
    Tape,
    /// Neither: the defaults (`continue`, `keep`), the newest set's key.
    Defaults,
}

impl SettingsSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingsSource::PoolsFile => "pools-file",
            SettingsSource::Tape => "tape",
            SettingsSource::Defaults => "defaults",
        }
    }
}

/// A pool the scan (re)created, and where its settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredPool {
    pub name: String,
    pub settings: SettingsSource,
}

/// After a catalog scan: `created` are the pools the scan created (with
/// their settings' source, [`SettingsSource::Tape`] or
/// [`SettingsSource::Defaults`]). Each pool of the file at `path` that the
/// catalog lacks, or that the scan created, gets the file's settings; a
/// pool the catalog held before the scan keeps its own. Returns every pool
/// created or changed, with its final source.
pub fn restore_pools(
    catalog: &Catalog,
    path: &Path,
    created: &[RestoredPool],
) -> Result<Vec<RestoredPool>, PoolsFileError> {
    let mut out: Vec<RestoredPool> = created.to_vec();
    for pool in load(path)? {
        let scanned = created.iter().any(|c| c.name == pool.name);
        match catalog.pool(&pool.name)? {
            None => catalog.insert_pool(&pool)?,
            // The settings; the creation time stays the scan's.
            Some(_) if scanned => catalog.update_pool(&pool)?,
            Some(_) => continue,
        }
        out.retain(|c| c.name != pool.name);
        out.push(RestoredPool {
            name: pool.name,
            settings: SettingsSource::PoolsFile,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{create_pool, PoolSettings};

    #[test]
    fn pools_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(POOLS_FILE);
        assert!(load(&path).unwrap().is_empty());
        let cat = Catalog::open_in_memory().unwrap();
        let fp = ["ab"; 32].join(":");
        create_pool(
            &cat,
            "weekly",
            PoolSettings {
                allocation: "mon".parse().unwrap(),
                retention: "3 weeks".parse().unwrap(),
                template: Some("%Y-%V".into()),
                comment: Some("kept three weeks".into()),
                encrypt: Some(fp.clone()),
            },
            1_700_000_000,
        )
        .unwrap();
        save(&cat, &path).unwrap();
        let loaded = load(&path).unwrap();
        let weekly = loaded.iter().find(|p| p.name == "weekly").unwrap();
        assert_eq!(Some(weekly), cat.pool("weekly").unwrap().as_ref());
        assert!(loaded.iter().any(|p| p.name == "default"));

        // A fresh catalog: the file's pools are created; a pool the scan
        // made with defaults gets the file's settings.
        let fresh = Catalog::open_in_memory().unwrap();
        create_pool(&fresh, "weekly", PoolSettings::default(), 5).unwrap();
        let made = [RestoredPool {
            name: "weekly".into(),
            settings: SettingsSource::Defaults,
        }];
        let restored = restore_pools(&fresh, &path, &made).unwrap();
        let back = fresh.pool("weekly").unwrap().unwrap();
        assert_eq!(
            PoolRecord {
                created: weekly.created,
                ..back
            },
            *weekly
        );
        assert!(restored
            .iter()
            .all(|r| r.settings == SettingsSource::PoolsFile));

        // A pool the catalog held before keeps its settings.
        let kept = Catalog::open_in_memory().unwrap();
        create_pool(&kept, "weekly", PoolSettings::default(), 5).unwrap();
        let restored = restore_pools(&kept, &path, &[]).unwrap();
        assert!(restored.iter().all(|r| r.name != "weekly"));
        assert_eq!(
            kept.pool("weekly").unwrap().unwrap().allocation.to_string(),
            "continue"
        );
    }

    #[test]
    fn a_bad_entry_names_pool_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(POOLS_FILE);
        std::fs::write(
            &path,
            "[pool.daily]\nallocation = \"every full moon\"\nretention = \"keep\"\n",
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("pool \"daily\", field \"allocation\""),
            "{err}"
        );
    }
}
