//! The SPC ASC/ASCQ text table (SPC-5 Annex F / T10 asc-num.txt).
//!
//! Placeholder entries; the complete table is filled in by the SCSI layer work.

/// Description of an additional sense code and qualifier.
pub fn asc_text(asc: u8, ascq: u8) -> String {
    match (asc, ascq) {
        (0x00, 0x00) => "no additional sense information".into(),
        (0x0c, 0x00) => "write error".into(),
        _ => format!("ASC {asc:#04x} ASCQ {ascq:#04x}"),
    }
}
