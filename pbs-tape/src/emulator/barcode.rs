//! Barcode lists and ranges as the operator types them
//! (`ABC001L9..ABC016L9,XYZ100L9`), expanded to single barcodes.
//!
//! A range is two barcodes of equal length that differ only in one run of
//! digits: the run is counted up from the first to the last with its width
//! kept (`ABC009L9..ABC011L9` gives `ABC009L9 ABC010L9 ABC011L9`).

/// Longest barcode accepted (the SMC primary volume tag field is 32 bytes).
pub const MAX_BARCODE_LEN: usize = 32;
/// Most barcodes one range may expand to.
pub const MAX_RANGE_LEN: u64 = 100_000;

/// Barcodes of cleaning cartridges start with "CLN" (the usual library
/// convention; the emulated library loads them as cleaning cartridges).
pub fn is_cleaning_barcode(barcode: &str) -> bool {
    barcode.starts_with("CLN")
}

/// What is wrong with a barcode or a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("empty barcode")]
    Empty,
    #[error("barcode '{0}' is longer than {MAX_BARCODE_LEN} characters")]
    TooLong(String),
    #[error("barcode '{0}' may only contain upper-case letters and digits")]
    InvalidCharacter(String),
    #[error("range '{start}..{end}': both ends must have the same length")]
    LengthMismatch { start: String, end: String },
    #[error("range '{start}..{end}': the ends may only differ in one run of digits")]
    NotNumeric { start: String, end: String },
    #[error("range '{start}..{end}': the first barcode is after the last")]
    Descending { start: String, end: String },
    #[error("range '{start}..{end}' expands to more than {MAX_RANGE_LEN} barcodes")]
    TooMany { start: String, end: String },
    #[error("barcode '{0}' is listed twice")]
    Duplicate(String),
}

/// Check one barcode: 1..=32 characters, `A-Z` and `0-9` only.
pub fn validate_barcode(barcode: &str) -> Result<(), BarcodeError> {
    if barcode.is_empty() {
        return Err(BarcodeError::Empty);
    }
    if barcode.len() > MAX_BARCODE_LEN {
        return Err(BarcodeError::TooLong(barcode.to_string()));
    }
    if !barcode
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(BarcodeError::InvalidCharacter(barcode.to_string()));
    }
    Ok(())
}

/// Expand a comma-separated list of barcodes and `FIRST..LAST` ranges, in
/// order. Whitespace around items is ignored; duplicates are an error.
pub fn parse_barcode_list(spec: &str) -> Result<Vec<String>, BarcodeError> {
    let mut out: Vec<String> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let expanded = match item.split_once("..") {
            Some((start, end)) => expand_range(start.trim(), end.trim())?,
            None => {
                validate_barcode(item)?;
                vec![item.to_string()]
            }
        };
        for barcode in expanded {
            if out.contains(&barcode) {
                return Err(BarcodeError::Duplicate(barcode));
            }
            out.push(barcode);
        }
    }
    Ok(out)
}

/// Expand one range `start..=end` (see the module documentation).
pub fn expand_range(start: &str, end: &str) -> Result<Vec<String>, BarcodeError> {
    validate_barcode(start)?;
    validate_barcode(end)?;
    let range_err = |f: fn(String, String) -> BarcodeError| f(start.to_string(), end.to_string());
    if start.len() != end.len() {
        return Err(range_err(|start, end| BarcodeError::LengthMismatch {
            start,
            end,
        }));
    }
    let (a, b) = (start.as_bytes(), end.as_bytes());
    let Some(first_diff) = (0..a.len()).find(|&i| a[i] != b[i]) else {
        return Ok(vec![start.to_string()]);
    };
    let last_diff = (0..a.len())
        .rev()
        .find(|&i| a[i] != b[i])
        .unwrap_or(first_diff);
    let both_digits = |i: usize| a[i].is_ascii_digit() && b[i].is_ascii_digit();
    if !(first_diff..=last_diff).all(both_digits) {
        return Err(range_err(|start, end| BarcodeError::NotNumeric {
            start,
            end,
        }));
    }
    // Widen the differing region to the whole run of digits around it.
    let mut lo = first_diff;
    while lo > 0 && both_digits(lo - 1) {
        lo -= 1;
    }
    let mut hi = last_diff + 1;
    while hi < a.len() && both_digits(hi) {
        hi += 1;
    }
    let width = hi - lo;
    let parse = |s: &str| s[lo..hi].parse::<u64>();
    let (Ok(first), Ok(last)) = (parse(start), parse(end)) else {
        return Err(range_err(|start, end| BarcodeError::NotNumeric {
            start,
            end,
        }));
    };
    if first > last {
        return Err(range_err(|start, end| BarcodeError::Descending {
            start,
            end,
        }));
    }
    if last - first >= MAX_RANGE_LEN {
        return Err(range_err(|start, end| BarcodeError::TooMany { start, end }));
    }
    let (prefix, suffix) = (&start[..lo], &start[hi..]);
    Ok((first..=last)
        .map(|n| format!("{prefix}{n:0width$}{suffix}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lto_range_expands_with_width_kept() {
        let v = expand_range("ABC001L9", "ABC016L9").unwrap();
        assert_eq!(v.len(), 16);
        assert_eq!(v[0], "ABC001L9");
        assert_eq!(v[9], "ABC010L9");
        assert_eq!(v[15], "ABC016L9");
    }

    #[test]
    fn range_crossing_a_decade() {
        assert_eq!(
            expand_range("ABC009L9", "ABC011L9").unwrap(),
            ["ABC009L9", "ABC010L9", "ABC011L9"]
        );
    }

    #[test]
    fn single_element_range_and_list() {
        assert_eq!(expand_range("CLN001L1", "CLN001L1").unwrap(), ["CLN001L1"]);
        assert_eq!(
            parse_barcode_list("A01L9..A02L9, XYZ100L9").unwrap(),
            ["A01L9", "A02L9", "XYZ100L9"]
        );
    }

    #[test]
    fn bad_ranges_have_clear_errors() {
        assert!(matches!(
            expand_range("ABC001L9", "ABC0010L9"),
            Err(BarcodeError::LengthMismatch { .. })
        ));
        assert!(matches!(
            expand_range("ABC001L9", "ABD001L9"),
            Err(BarcodeError::NotNumeric { .. })
        ));
        assert!(matches!(
            expand_range("ABC016L9", "ABC001L9"),
            Err(BarcodeError::Descending { .. })
        ));
        assert!(matches!(
            expand_range("ABC001L9", "ABC001L8"),
            Err(BarcodeError::Descending { .. })
        ));
        assert!(matches!(
            validate_barcode("abc001l9"),
            Err(BarcodeError::InvalidCharacter(_))
        ));
        assert!(matches!(
            parse_barcode_list("A01L9,A01L9"),
            Err(BarcodeError::Duplicate(_))
        ));
        let msg = expand_range("ABC001L9", "ABD001L9")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("ABC001L9..ABD001L9"), "{msg}");
    }
}
