//! Find tape drives and medium changers through sysfs.
//!
//! Every SCSI device with an sg node appears as
//! `SYSFS/class/scsi_generic/sgN`; its `device` link leads to the SCSI
//! device directory (named by its address `H:C:T:L`) with the attributes
//! `type` (1 = sequential access, 8 = medium changer), `vendor`, `model`,
//! `rev` and, on kernels since 4.x, `vpd_pg80` (the unit serial number VPD
//! page as binary). Tape drives have `device/scsi_tape/nstN`, changers
//! `device/scsi_changer/schN` when the st/ch drivers are bound.
//!
//! `/dev/tape/by-id` names are found by resolving the links in that
//! directory (created by our udev rules or the distribution's).

#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::devpath::{parse_node_name, NodeName, SYSFS_ROOT};

/// SCSI peripheral device type of tape drives (SPC-5 table 50).
pub const PERIPHERAL_TYPE_TAPE: u8 = 0x01;
/// SCSI peripheral device type of medium changers.
pub const PERIPHERAL_TYPE_CHANGER: u8 = 0x08;

/// What a discovered device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Tape,
    Changer,
}

/// One tape drive or changer found in sysfs.
///
/// Serialized (JSON) with these stable field names:
/// `kind` ("tape" | "changer"), `sg_path` ("/dev/sg3"), `device_path`
/// ("/dev/nst0", "/dev/sch0" or null when the st/ch driver is not bound),
/// `scsi_address` ("H:C:T:L"), `vendor`, `model`, `revision`, `serial`
/// (null when the kernel exposes no `vpd_pg80`), `by_id`
/// ("/dev/tape/by-id/..." or null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredDevice {
    pub kind: DeviceKind,
    pub sg_path: String,
    pub device_path: Option<String>,
    pub scsi_address: String,
    pub vendor: String,
    pub model: String,
    pub revision: String,
    pub serial: Option<String>,
    pub by_id: Option<String>,
}

/// Tape drives under `sysfs_root`, with device nodes in `/dev`.
pub fn scan_tape_drives(sysfs_root: &Path) -> Vec<DiscoveredDevice> {
    scan(sysfs_root, Path::new("/dev"), DeviceKind::Tape)
}

/// Medium changers under `sysfs_root`, with device nodes in `/dev`.
pub fn scan_changers(sysfs_root: &Path) -> Vec<DiscoveredDevice> {
    scan(sysfs_root, Path::new("/dev"), DeviceKind::Changer)
}

/// Tape drives and changers on this system (`/sys`, `/dev`).
pub fn scan_system() -> Vec<DiscoveredDevice> {
    let sys = Path::new(SYSFS_ROOT);
    let mut all = scan_tape_drives(sys);
    all.extend(scan_changers(sys));
    all
}

/// Devices of `kind` under `sysfs_root`, device nodes and the
/// `tape/by-id` directory under `dev_root`. Sorted by sg number.
pub fn scan(sysfs_root: &Path, dev_root: &Path, kind: DeviceKind) -> Vec<DiscoveredDevice> {
    let Ok(entries) = fs::read_dir(sysfs_root.join("class/scsi_generic")) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, DiscoveredDevice)> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| match parse_node_name(&name) {
            Some(NodeName::Generic(n)) => Some((n, name)),
            _ => None,
        })
        .filter_map(|(n, name)| {
            let dev = sysfs_root
                .join("class/scsi_generic")
                .join(&name)
                .join("device");
            describe(&dev, &name, dev_root, kind).map(|d| (n, d))
        })
        .collect();
    found.sort_by_key(|(n, _)| *n);
    found.into_iter().map(|(_, d)| d).collect()
}

/// Describe the SCSI device at `dev` (the sg node's `device` directory)
/// if it is of `kind`.
fn describe(
    dev: &Path,
    sg_name: &str,
    dev_root: &Path,
    kind: DeviceKind,
) -> Option<DiscoveredDevice> {
    let peripheral_type: u8 = read_attr(dev, "type")?.parse().ok()?;
    let (wanted, class_dir) = match kind {
        DeviceKind::Tape => (PERIPHERAL_TYPE_TAPE, "scsi_tape"),
        DeviceKind::Changer => (PERIPHERAL_TYPE_CHANGER, "scsi_changer"),
    };
    if peripheral_type != wanted {
        return None;
    }
    let scsi_address = fs::canonicalize(dev)
        .ok()
        .and_then(|p| p.file_name()?.to_str().map(str::to_string))
        .unwrap_or_default();
    let node_name = primary_node_name(&dev.join(class_dir), kind);
    let sg_path = dev_root.join(sg_name);
    let device_path = node_name.as_ref().map(|n| dev_root.join(n));
    let serial = fs::read(dev.join("vpd_pg80"))
        .ok()
        .and_then(|page| serial_from_vpd80(&page));
    let by_id = find_by_id(dev_root, device_path.as_deref(), &sg_path);
    Some(DiscoveredDevice {
        kind,
        sg_path: sg_path.display().to_string(),
        device_path: device_path.map(|p| p.display().to_string()),
        scsi_address,
        vendor: read_attr(dev, "vendor").unwrap_or_default(),
        model: read_attr(dev, "model").unwrap_or_default(),
        revision: read_attr(dev, "rev").unwrap_or_default(),
        serial,
        by_id,
    })
}

/// `nstN` (tapes) or `schN` (changers) from the class directory below the device.
fn primary_node_name(dir: &Path, kind: DeviceKind) -> Option<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| match kind {
            DeviceKind::Tape => n
                .strip_prefix("nst")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            DeviceKind::Changer => matches!(parse_node_name(n), Some(NodeName::Changer(_))),
        })
        .collect();
    names.sort();
    names.into_iter().next()
}

/// The serial number from a unit serial number VPD page (SPC-5 7.7.18):
/// page length in bytes 2..4, the ASCII serial from byte 4, with leading and
/// trailing spaces and NULs removed. None when empty or malformed.
pub fn serial_from_vpd80(page: &[u8]) -> Option<String> {
    if page.len() < 4 || page[1] != 0x80 {
        return None;
    }
    let len = u16::from_be_bytes([page[2], page[3]]) as usize;
    let end = page.len().min(4 + len);
    let text = String::from_utf8_lossy(&page[4..end]);
    let serial = text.trim_matches(|c: char| c == ' ' || c == '\0' || c.is_whitespace());
    (!serial.is_empty()).then(|| serial.to_string())
}

/// A sysfs attribute as trimmed text.
fn read_attr(dev: &Path, name: &str) -> Option<String> {
    let raw = fs::read(dev.join(name)).ok()?;
    Some(
        String::from_utf8_lossy(&raw)
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .to_string(),
    )
}

/// The `tape/by-id` link that resolves to the device node (preferred) or
/// the sg node. Links ending in `-nst` come first, then `-sg`, then others.
fn find_by_id(dev_root: &Path, node: Option<&Path>, sg: &Path) -> Option<String> {
    let dir = dev_root.join("tape/by-id");
    let targets: Vec<PathBuf> = node
        .into_iter()
        .chain(std::iter::once(sg))
        .filter_map(|p| fs::canonicalize(p).ok())
        .collect();
    if targets.is_empty() {
        return None;
    }
    let mut links: Vec<PathBuf> = fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| {
            fs::canonicalize(p)
                .map(|t| targets.contains(&t))
                .unwrap_or(false)
        })
        .collect();
    let rank = |p: &PathBuf| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let class = if name.ends_with("-nst") {
            0
        } else if name.ends_with("-sg") {
            1
        } else {
            2
        };
        (class, name.to_string())
    };
    links.sort_by_key(rank);
    links.first().map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_from_vpd_page() {
        let mut page = vec![0x01, 0x80, 0x00, 0x0c];
        page.extend_from_slice(b"  10WT0123\0\0");
        assert_eq!(serial_from_vpd80(&page).as_deref(), Some("10WT0123"));
        // Page length shorter than the buffer: only that many bytes count.
        let page = [0x01, 0x80, 0x00, 0x02, b'A', b'B', b'C'];
        assert_eq!(serial_from_vpd80(&page).as_deref(), Some("AB"));
        assert_eq!(
            serial_from_vpd80(&[0x01, 0x80, 0, 4, b' ', 0, b' ', 0]),
            None
        );
        assert_eq!(serial_from_vpd80(&[0x01, 0x83, 0, 1, b'A']), None);
        assert_eq!(serial_from_vpd80(&[0x01]), None);
    }

    #[test]
    fn missing_sysfs_gives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(scan(dir.path(), dir.path(), DeviceKind::Tape).is_empty());
    }
}
