//! ptape configuration: where the configuration and data live, and the
//! configured drives and changers (`config.toml` in the config directory).
//!
//! Locations:
//! - config directory: `$PTAPE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ptape`,
//!   else `~/.config/ptape`;
//! - data directory: `$PTAPE_DATA_DIR`, else `$XDG_DATA_HOME/ptape`, else
//!   `~/.local/share/ptape` (catalog `catalog.db`, embedded library `library/`).
//!
//! `config.toml` looks like:
//!
//! ```toml
//! default_drive = "lto9"          # optional, else the first drive
//! default_changer = "lib1"        # optional, else the first changer
//!
//! [[changer]]
//! name = "lib1"
//! path = "/dev/sg3"
//!
//! [[drive]]
//! name = "lto9"
//! path = "/dev/sg2"
//! changer = "lib1"                # optional
//! changer_drivenum = 0            # optional, index of the drive in the changer
//! ```
//!
//! Pools are not configured here: they live in the media catalog next to
//! the media sets they own, with a copy in `pools.toml` for rebuilding a
//! lost catalog (see [`crate::pool`]).
//!
//! With no drive configured, ptape uses the embedded emulated library under
//! the data directory ([`embedded_library_dir`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the configuration inside the config directory.
pub const CONFIG_FILE: &str = "config.toml";
/// File name of the media catalog inside the data directory.
pub const CATALOG_FILE: &str = "catalog.db";
/// Directory name of the embedded emulated library inside the data directory.
pub const EMBEDDED_LIBRARY_DIR: &str = "library";
/// Device name of the embedded library's changer.
pub const EMBEDDED_CHANGER: &str = "changer";
/// Device name of the embedded library's (only) drive.
pub const EMBEDDED_DRIVE: &str = "drive0";

/// Errors reading, validating or writing the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot determine the {what} directory: set ${var} or HOME")]
    NoDirectory {
        what: &'static str,
        var: &'static str,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid configuration: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("cannot serialize the configuration: {0}")]
    Serialize(#[from] toml::ser::Error),
    #[error("invalid name {name:?}: use 1-64 characters of letters, digits, '-', '_' or '.'")]
    InvalidName { name: String },
    #[error(
        "invalid tape label {label:?}: use 1-32 characters of letters, digits, '-', '_' or '.'"
    )]
    InvalidLabel { label: String },
    #[error("a {kind} named {name:?} already exists")]
    Duplicate { kind: &'static str, name: String },
    #[error("no {kind} named {name:?} is configured")]
    Unknown { kind: &'static str, name: String },
    #[error("drive {drive:?} refers to unknown changer {changer:?}")]
    UnknownChangerRef { drive: String, changer: String },
    #[error("cannot create the embedded library in {path}: {message}")]
    EmbeddedLibrary { path: PathBuf, message: String },
    #[error("invalid export slots: {0}")]
    InvalidExportSlots(String),
    #[error("changer {changer:?} is still used by drive {drive:?}")]
    ChangerInUse { changer: String, drive: String },
}

/// One configured tape drive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveConfig {
    pub name: String,
    /// Device path (`/dev/sgN`, `/dev/tape/by-id/...`, or an emulated `DIR/driveN`).
    pub path: String,
    /// Name of the changer this drive sits in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changer: Option<String>,
    /// Index of this drive among the changer's data transfer elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changer_drivenum: Option<u32>,
    /// Clean the drive with a cleaning cartridge of its changer when it
    /// asks for cleaning (TapeAlert CLEAN_NOW / CLEAN_PERIODIC).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_clean: bool,
}

/// One configured media changer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangerConfig {
    pub name: String,
    /// Device path (`/dev/sgN` or an emulated `DIR/changer`).
    pub path: String,
    /// Storage slots (numbers as `pmtx status` shows them) used as export
    /// slots, for libraries whose mail slot is not visible over SCSI:
    /// tapes there are offline, and media set exports put tapes there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_slots: Vec<usize>,
}

/// The whole `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_drive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_changer: Option<String>,
    #[serde(default, rename = "changer", skip_serializing_if = "Vec::is_empty")]
    pub changers: Vec<ChangerConfig>,
    #[serde(default, rename = "drive", skip_serializing_if = "Vec::is_empty")]
    pub drives: Vec<DriveConfig>,
}

/// A drive ready to be used: its path and, when it sits in a changer, the
/// changer's path and the drive's index there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedDrive {
    /// Configured name (`drive0` for the embedded library).
    pub name: String,
    pub path: String,
    /// Configured name of the drive's changer (`changer` for the embedded
    /// library).
    pub changer: Option<String>,
    pub changer_path: Option<String>,
    pub changer_drivenum: u32,
    /// The changer's storage slots configured as export slots.
    pub export_slots: Vec<usize>,
    /// True when this is the embedded emulated library (no configuration).
    pub embedded: bool,
    /// Clean the drive when it asks for it ([`DriveConfig::auto_clean`]).
    pub auto_clean: bool,
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The configuration directory (see the module documentation).
pub fn config_dir() -> Result<PathBuf, ConfigError> {
    if let Some(dir) = env_dir("PTAPE_CONFIG_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = env_dir("XDG_CONFIG_HOME") {
        return Ok(dir.join("ptape"));
    }
    dirs::home_dir()
        .map(|h| h.join(".config").join("ptape"))
        .ok_or(ConfigError::NoDirectory {
            what: "configuration",
            var: "PTAPE_CONFIG_DIR",
        })
}

/// The data directory (see the module documentation).
pub fn data_dir() -> Result<PathBuf, ConfigError> {
    if let Some(dir) = env_dir("PTAPE_DATA_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = env_dir("XDG_DATA_HOME") {
        return Ok(dir.join("ptape"));
    }
    dirs::home_dir()
        .map(|h| h.join(".local").join("share").join("ptape"))
        .ok_or(ConfigError::NoDirectory {
            what: "data",
            var: "PTAPE_DATA_DIR",
        })
}

/// Path of the media catalog database.
pub fn catalog_path() -> Result<PathBuf, ConfigError> {
    Ok(data_dir()?.join(CATALOG_FILE))
}

/// Directory of the embedded emulated library (may not exist yet).
pub fn embedded_library_dir() -> Result<PathBuf, ConfigError> {
    Ok(data_dir()?.join(EMBEDDED_LIBRARY_DIR))
}

/// Path of `config.toml`.
pub fn config_path() -> Result<PathBuf, ConfigError> {
    Ok(config_dir()?.join(CONFIG_FILE))
}

/// Loads `config.toml`; a missing file is an empty configuration.
pub fn load_config() -> Result<Config, ConfigError> {
    Config::load_from(&config_path()?)
}

/// Writes `config.toml` (atomically: temp file and rename).
pub fn save_config(config: &Config) -> Result<(), ConfigError> {
    config.save_to(&config_path()?)
}

/// Path of the default drive: the configured default (or first) drive, else
/// the embedded library's drive (the library is created when missing, so
/// the path can be opened). `None` only when a configured default names no
/// drive path (never with a valid configuration).
pub fn default_drive_path() -> Result<Option<String>, ConfigError> {
    let config = load_config()?;
    let drive = config.resolve_drive(None)?;
    if drive.embedded {
        ensure_embedded()?;
    }
    Ok(Some(drive.path))
}

/// Path of the default changer: the configured default (or first) changer,
/// the changer of the default drive, else the embedded library's changer
/// (created when missing). `None` when drives are configured but none sits
/// in a changer.
pub fn default_changer_path() -> Result<Option<String>, ConfigError> {
    let config = load_config()?;
    if config.uses_embedded_library() && config.changers.is_empty() {
        ensure_embedded()?;
    }
    config.default_changer_path()
}

fn ensure_embedded() -> Result<(), ConfigError> {
    let dir = embedded_library_dir()?;
    crate::library::ensure_embedded_library(&dir)
        .map(|_| ())
        .map_err(|e| ConfigError::EmbeddedLibrary {
            path: dir,
            message: e.to_string(),
        })
}

/// Export slots are slot numbers from 1, each given once.
fn check_export_slots(slots: &[usize]) -> Result<(), ConfigError> {
    for (i, slot) in slots.iter().enumerate() {
        if *slot == 0 || slots[..i].contains(slot) {
            return Err(ConfigError::InvalidExportSlots(format!(
                "slot {slot} {}",
                if *slot == 0 {
                    "(slots are numbered from 1)"
                } else {
                    "is given twice"
                }
            )));
        }
    }
    Ok(())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks a drive, changer or pool name: 1-64 characters of `[A-Za-z0-9._-]`,
/// not starting with '.' or '-'.
pub fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// Checks a tape label (barcode or the label text of a media label):
/// 1-32 characters of `[A-Za-z0-9._-]`, not starting with '.' or '-'.
/// Labels read from a tape are checked like labels a user gives.
pub fn validate_label(label: &str) -> Result<(), ConfigError> {
    let ok = !label.is_empty()
        && label.len() <= 32
        && !label.starts_with(['.', '-'])
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidLabel {
            label: label.to_string(),
        })
    }
}

/// The text of an optional configuration file: `None` when it does not
/// exist (the caller's defaults apply), any other failure an error.
pub fn read_optional(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the file at `path` with `text` so that a reader (or a crash)
/// sees the old file or the new one, never a part: the text goes to a
/// temporary file beside it (created with `mode`), is synced, renamed over
/// `path`, and the directory is synced. Creates the directory when needed.
/// Shared by `config.toml`, `jobs.toml`, `notify.toml` (0600: it may hold
/// webhook secrets) and `pools.toml`.
pub fn write_atomic(path: &Path, text: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("toml.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

impl Config {
    /// Loads a configuration file; a missing file is an empty configuration.
    pub fn load_from(path: &Path) -> Result<Config, ConfigError> {
        let Some(text) = read_optional(path).map_err(io_err(path))? else {
            return Ok(Config::default());
        };
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes the configuration atomically ([`write_atomic`]).
    pub fn save_to(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let text = toml::to_string_pretty(self)?;
        write_atomic(path, &text, 0o644).map_err(io_err(path))
    }

    /// Checks names, uniqueness and references.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, c) in self.changers.iter().enumerate() {
            validate_name(&c.name)?;
            check_export_slots(&c.export_slots)?;
            if self.changers[..i].iter().any(|o| o.name == c.name) {
                return Err(ConfigError::Duplicate {
                    kind: "changer",
                    name: c.name.clone(),
                });
            }
        }
        for (i, d) in self.drives.iter().enumerate() {
            validate_name(&d.name)?;
            if self.drives[..i].iter().any(|o| o.name == d.name) {
                return Err(ConfigError::Duplicate {
                    kind: "drive",
                    name: d.name.clone(),
                });
            }
            if let Some(ch) = &d.changer {
                if self.changer(ch).is_none() {
                    return Err(ConfigError::UnknownChangerRef {
                        drive: d.name.clone(),
                        changer: ch.clone(),
                    });
                }
            }
        }
        if let Some(name) = &self.default_drive {
            self.drive(name)?;
        }
        if let Some(name) = &self.default_changer {
            self.changer(name).ok_or_else(|| ConfigError::Unknown {
                kind: "changer",
                name: name.clone(),
            })?;
        }
        Ok(())
    }

    /// The drive with this name.
    pub fn drive(&self, name: &str) -> Result<&DriveConfig, ConfigError> {
        self.drives
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| ConfigError::Unknown {
                kind: "drive",
                name: name.to_string(),
            })
    }

    /// The changer with this name, if configured.
    pub fn changer(&self, name: &str) -> Option<&ChangerConfig> {
        self.changers.iter().find(|c| c.name == name)
    }

    /// True when no drive is configured: ptape uses the embedded library.
    pub fn uses_embedded_library(&self) -> bool {
        self.drives.is_empty()
    }

    /// The drive to use: `name`, else the default drive, else the first
    /// configured drive, else the embedded library's drive.
    pub fn resolve_drive(&self, name: Option<&str>) -> Result<ResolvedDrive, ConfigError> {
        let chosen = match name.or(self.default_drive.as_deref()) {
            Some(name) => Some(self.drive(name)?),
            None => self.drives.first(),
        };
        match chosen {
            Some(d) => Ok(ResolvedDrive {
                name: d.name.clone(),
                path: d.path.clone(),
                changer: d.changer.clone().filter(|c| self.changer(c).is_some()),
                export_slots: d
                    .changer
                    .as_deref()
                    .and_then(|c| self.changer(c))
                    .map(|c| c.export_slots.clone())
                    .unwrap_or_default(),
                changer_path: d
                    .changer
                    .as_deref()
                    .and_then(|c| self.changer(c))
                    .map(|c| c.path.clone()),
                changer_drivenum: d.changer_drivenum.unwrap_or(0),
                embedded: false,
                auto_clean: d.auto_clean,
            }),
            None => {
                let dir = embedded_library_dir()?;
                Ok(ResolvedDrive {
                    name: EMBEDDED_DRIVE.to_string(),
                    path: dir.join(EMBEDDED_DRIVE).to_string_lossy().into_owned(),
                    changer: Some(EMBEDDED_CHANGER.to_string()),
                    export_slots: Vec::new(),
                    changer_path: Some(dir.join(EMBEDDED_CHANGER).to_string_lossy().into_owned()),
                    changer_drivenum: 0,
                    embedded: true,
                    auto_clean: false,
                })
            }
        }
    }

    /// The first drive that sits in the named changer.
    pub fn resolve_changer_drive(&self, changer: &str) -> Result<ResolvedDrive, ConfigError> {
        if self.changer(changer).is_none() {
            return Err(ConfigError::Unknown {
                kind: "changer",
                name: changer.to_string(),
            });
        }
        let drive = self
            .drives
            .iter()
            .find(|d| d.changer.as_deref() == Some(changer))
            .ok_or_else(|| ConfigError::Unknown {
                kind: "drive in changer",
                name: changer.to_string(),
            })?;
        self.resolve_drive(Some(&drive.name))
    }

    /// Path of the default changer (see [`default_changer_path`]).
    pub fn default_changer_path(&self) -> Result<Option<String>, ConfigError> {
        if let Some(name) = &self.default_changer {
            return Ok(self.changer(name).map(|c| c.path.clone()));
        }
        if let Some(c) = self.changers.first() {
            return Ok(Some(c.path.clone()));
        }
        Ok(self.resolve_drive(None)?.changer_path)
    }

    /// Adds a drive (name unique, changer must exist).
    pub fn add_drive(&mut self, drive: DriveConfig) -> Result<(), ConfigError> {
        validate_name(&drive.name)?;
        if self.drive(&drive.name).is_ok() {
            return Err(ConfigError::Duplicate {
                kind: "drive",
                name: drive.name,
            });
        }
        self.drives.push(drive);
        if let Err(e) = self.validate() {
            self.drives.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Removes a drive (and clears it as the default).
    pub fn remove_drive(&mut self, name: &str) -> Result<DriveConfig, ConfigError> {
        let pos = self
            .drives
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| ConfigError::Unknown {
                kind: "drive",
                name: name.to_string(),
            })?;
        if self.default_drive.as_deref() == Some(name) {
            self.default_drive = None;
        }
        Ok(self.drives.remove(pos))
    }

    /// Adds a changer (name unique).
    pub fn add_changer(&mut self, changer: ChangerConfig) -> Result<(), ConfigError> {
        validate_name(&changer.name)?;
        if self.changer(&changer.name).is_some() {
            return Err(ConfigError::Duplicate {
                kind: "changer",
                name: changer.name,
            });
        }
        check_export_slots(&changer.export_slots)?;
        self.changers.push(changer);
        Ok(())
    }

    /// Sets the storage slots a changer uses as export slots.
    pub fn set_export_slots(&mut self, name: &str, slots: Vec<usize>) -> Result<(), ConfigError> {
        check_export_slots(&slots)?;
        let changer = self
            .changers
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| ConfigError::Unknown {
                kind: "changer",
                name: name.to_string(),
            })?;
        changer.export_slots = slots;
        Ok(())
    }

    /// Removes a changer no drive refers to (and clears it as the default).
    pub fn remove_changer(&mut self, name: &str) -> Result<ChangerConfig, ConfigError> {
        let pos = self
            .changers
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| ConfigError::Unknown {
                kind: "changer",
                name: name.to_string(),
            })?;
        if let Some(d) = self
            .drives
            .iter()
            .find(|d| d.changer.as_deref() == Some(name))
        {
            return Err(ConfigError::ChangerInUse {
                changer: name.to_string(),
                drive: d.name.clone(),
            });
        }
        if self.default_changer.as_deref() == Some(name) {
            self.default_changer = None;
        }
        Ok(self.changers.remove(pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_with_its_mode_and_leaves_no_temporary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/notify.toml");
        write_atomic(&path, "a = 1\n", 0o600).unwrap();
        write_atomic(&path, "a = 2\n", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["notify.toml"]);
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("a = 2\n"));
        assert_eq!(read_optional(&dir.path().join("none.toml")).unwrap(), None);
    }

    fn sample() -> Config {
        let mut c = Config::default();
        c.add_changer(ChangerConfig {
            name: "lib1".into(),
            path: "/dev/sg3".into(),
            export_slots: Vec::new(),
        })
        .unwrap();
        c.add_drive(DriveConfig {
            name: "lto9".into(),
            path: "/dev/sg2".into(),
            changer: Some("lib1".into()),
            changer_drivenum: Some(1),
            auto_clean: false,
        })
        .unwrap();
        c
    }

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CONFIG_FILE);
        let c = sample();
        c.save_to(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[[drive]]"), "{text}");
        assert!(text.contains("[[changer]]"), "{text}");
        assert_eq!(Config::load_from(&path).unwrap(), c);
    }

    #[test]
    fn missing_file_is_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load_from(&dir.path().join("nope.toml")).unwrap();
        assert!(c.uses_embedded_library());
    }

    #[test]
    fn rejects_unknown_changer_reference_and_bad_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &path,
            "[[drive]]\nname = \"a\"\npath = \"/x\"\nchanger = \"zz\"\n",
        )
        .unwrap();
        assert!(matches!(
            Config::load_from(&path),
            Err(ConfigError::UnknownChangerRef { .. })
        ));
        std::fs::write(&path, "[[drive]\n").unwrap();
        assert!(matches!(
            Config::load_from(&path),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn resolves_configured_drive_with_changer() {
        let c = sample();
        let d = c.resolve_drive(None).unwrap();
        assert_eq!(d.path, "/dev/sg2");
        assert_eq!(d.changer_path.as_deref(), Some("/dev/sg3"));
        assert_eq!(d.changer_drivenum, 1);
        assert!(!d.embedded);
        assert!(matches!(
            c.resolve_drive(Some("nope")),
            Err(ConfigError::Unknown { kind: "drive", .. })
        ));
    }

    #[test]
    fn add_remove_rules() {
        let mut c = sample();
        assert!(matches!(
            c.add_drive(DriveConfig {
                name: "lto9".into(),
                path: "/dev/sg9".into(),
                changer: None,
                changer_drivenum: None,
                auto_clean: false,
            }),
            Err(ConfigError::Duplicate { .. })
        ));
        assert!(matches!(
            c.remove_changer("lib1"),
            Err(ConfigError::ChangerInUse { .. })
        ));
        c.remove_drive("lto9").unwrap();
        c.remove_changer("lib1").unwrap();
        assert!(c.drives.is_empty() && c.changers.is_empty());
        assert!(matches!(
            c.add_changer(ChangerConfig {
                name: "bad name".into(),
                path: "/x".into(),
                export_slots: Vec::new(),
            }),
            Err(ConfigError::InvalidName { .. })
        ));
    }
}
