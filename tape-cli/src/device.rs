//! Which device a command talks to.
//!
//! Order: the `-f/--device` argument, then the environment variable
//! (`TAPE` for drives, `CHANGER` for changers), then the configured default
//! (when a configuration provides one). Nothing found is a clear error.

use anyhow::bail;

/// Environment variable naming the default tape drive (as mt-st uses it).
pub const TAPE_ENV: &str = "TAPE";
/// Environment variable naming the default changer (as mtx uses it).
pub const CHANGER_ENV: &str = "CHANGER";

/// Kind of device, for the environment variable and the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Drive,
    Changer,
}

impl DeviceKind {
    /// The environment variable consulted for this kind.
    pub fn env_var(self) -> &'static str {
        match self {
            DeviceKind::Drive => TAPE_ENV,
            DeviceKind::Changer => CHANGER_ENV,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            DeviceKind::Drive => "drive",
            DeviceKind::Changer => "changer",
        }
    }
}

/// Pick the device: `given`, else the environment variable of `kind`, else
/// `configured()` (the configured default; pass `|| Ok(None)` when there is no
/// configuration). Empty strings count as not given.
pub fn select_device(
    given: Option<&str>,
    kind: DeviceKind,
    configured: impl FnOnce() -> anyhow::Result<Option<String>>,
) -> anyhow::Result<String> {
    select_device_from(
        given,
        std::env::var(kind.env_var()).ok().as_deref(),
        kind,
        configured,
    )
}

/// [`select_device`] with the environment value passed in (testable).
pub fn select_device_from(
    given: Option<&str>,
    env_value: Option<&str>,
    kind: DeviceKind,
    configured: impl FnOnce() -> anyhow::Result<Option<String>>,
) -> anyhow::Result<String> {
    if let Some(path) = given.filter(|p| !p.is_empty()) {
        return Ok(path.to_string());
    }
    if let Some(path) = env_value.filter(|p| !p.is_empty()) {
        return Ok(path.to_string());
    }
    if let Some(path) = configured()?.filter(|p| !p.is_empty()) {
        return Ok(path);
    }
    bail!(
        "no {} given: use -f or ${} (or configure a default {})",
        kind.noun(),
        kind.env_var(),
        kind.noun()
    )
}

/// Takes this command's lock on the device at `path` (see `ptape::lock`),
/// waiting as `wait` says. When `path` is no device the lock cannot
/// identify it: then `open` runs so the user gets the open's own error
/// ("no such file", "not a SCSI generic device", ...), not the lock's.
pub fn lock_device(
    role: ptape::lock::DeviceRole,
    path: &str,
    wait: ptape::lock::WaitPolicy,
    open: impl FnOnce(&str) -> anyhow::Result<()>,
) -> anyhow::Result<ptape::lock::DeviceLock> {
    match ptape::lock::DeviceLock::acquire(role, path, path, &ptape::lock::process_command(), wait)
    {
        Ok(lock) => Ok(lock),
        Err(e @ ptape::lock::LockError::Identify { .. }) => {
            open(path)?;
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_argument_env_config() {
        let cfg = || Ok(Some("/cfg".to_string()));
        let k = DeviceKind::Drive;
        assert_eq!(
            select_device_from(Some("/a"), Some("/e"), k, cfg).unwrap(),
            "/a"
        );
        assert_eq!(select_device_from(None, Some("/e"), k, cfg).unwrap(), "/e");
        assert_eq!(
            select_device_from(Some(""), Some(""), k, cfg).unwrap(),
            "/cfg"
        );
    }

    #[test]
    fn nothing_given_is_a_clear_error() {
        let err = select_device_from(None, None, DeviceKind::Drive, || Ok(None)).unwrap_err();
        assert!(err.to_string().contains("no drive given: use -f or $TAPE"));
        let err = select_device_from(None, None, DeviceKind::Changer, || Ok(None)).unwrap_err();
        assert!(err.to_string().contains("$CHANGER"));
    }
}
