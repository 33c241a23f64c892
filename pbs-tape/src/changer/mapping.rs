//! Which drive device sits in which data transfer element: the drive
//! serial the changer reports (DVCID) against each candidate device's
//! unit serial number (INQUIRY VPD page 0x80).

use super::status::ChangerStatus;

/// Normalise a serial for comparison: trimmed, upper case.
fn normalise(serial: &str) -> String {
    serial.trim().to_ascii_uppercase()
}

/// Shortest serial accepted for a suffix match.
const MIN_SUFFIX_MATCH: usize = 6;

/// True when the changer's DVCID serial names this drive serial. Equal
/// serials match; some libraries report a longer or shorter form of the
/// serial (prefixed with a vendor code), so a suffix match of at least
/// [`MIN_SUFFIX_MATCH`] characters also counts.
pub fn serials_match(changer_serial: &str, drive_serial: &str) -> bool {
    let (a, b) = (normalise(changer_serial), normalise(drive_serial));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (long, short) = if a.len() >= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    short.len() >= MIN_SUFFIX_MATCH && long.ends_with(short.as_str())
}

/// Map drives to devices given each candidate's serial (`None` when it
/// could not be read). Returns `(drive_index, path)` for every drive whose
/// DVCID serial matches exactly one candidate, in drive order. Drives
/// without a reported serial stay unmapped: there is no safe guess.
pub fn map_drives_by_serial(
    status: &ChangerStatus,
    candidates: &[(String, Option<String>)],
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for drive in &status.drives {
        let Some(serial) = drive.serial.as_deref() else {
            continue;
        };
        let mut hits = candidates
            .iter()
            .filter(|(_, s)| s.as_deref().is_some_and(|s| serials_match(serial, s)));
        if let (Some((path, _)), None) = (hits.next(), hits.next()) {
            out.push((drive.index, path.clone()));
        }
    }
    out
}

/// Map drives to device paths: reads each candidate's unit serial number
/// with `read_serial` (e.g. INQUIRY VPD 0x80 through the device) and
/// matches it against the changer's DVCID serials.
pub fn map_drives_with<P: AsRef<str>>(
    status: &ChangerStatus,
    candidates: &[P],
    mut read_serial: impl FnMut(&str) -> Option<String>,
) -> Vec<(usize, String)> {
    let with_serials: Vec<(String, Option<String>)> = candidates
        .iter()
        .map(|p| (p.as_ref().to_string(), read_serial(p.as_ref())))
        .collect();
    map_drives_by_serial(status, &with_serials)
}

/// Map drives to device paths: `candidates` are device paths (sg nodes,
/// `/dev/tape/by-id` links or an emulated library's `DIR/driveN`); each is
/// opened and asked for its unit serial number (INQUIRY VPD page 0x80).
/// Candidates that cannot be opened (busy, gone) are skipped. Returns
/// `(drive_index, path)`, e.g. `(1, "/dev/sg4")`: "drive 1 of this changer
/// is /dev/sg4".
pub fn map_drives<P: AsRef<str>>(status: &ChangerStatus, candidates: &[P]) -> Vec<(usize, String)> {
    map_drives_with(status, candidates, |path| {
        let mut t = crate::device::open_transport(path).ok()?;
        crate::scsi::spc::unit_serial_number(t.as_mut()).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changer::status::DriveStatus;

    fn drive(index: usize, serial: Option<&str>) -> DriveStatus {
        DriveStatus {
            index,
            address: 0x100 + index as u16,
            full: false,
            barcode: None,
            source_address: None,
            source_slot: None,
            serial: serial.map(String::from),
            device_id: None,
            access: true,
            exception: None,
        }
    }

    #[test]
    fn maps_by_serial_and_suffix() {
        let status = ChangerStatus {
            drives: vec![
                drive(0, Some("10WT000001")),
                drive(1, Some("IBM10WT000002")),
                drive(2, None),
            ],
            ..Default::default()
        };
        let candidates = ["/dev/sg2", "/dev/sg3", "/dev/sg4"];
        let serials = |p: &str| match p {
            "/dev/sg2" => Some("10WT000002".to_string()),
            "/dev/sg3" => Some(" 10wt000001 ".to_string()),
            _ => None,
        };
        let map = map_drives_with(&status, &candidates, serials);
        assert_eq!(
            map,
            vec![(0, "/dev/sg3".to_string()), (1, "/dev/sg2".to_string())]
        );
    }

    #[test]
    fn short_or_ambiguous_serials_do_not_map() {
        assert!(!serials_match("XX12", "12"));
        assert!(!serials_match("", ""));
        let status = ChangerStatus {
            drives: vec![drive(0, Some("SER001"))],
            ..Default::default()
        };
        let c = vec![
            ("/a".to_string(), Some("SER001".to_string())),
            ("/b".to_string(), Some("SER001".to_string())),
        ];
        assert!(map_drives_by_serial(&status, &c).is_empty());
    }
}
