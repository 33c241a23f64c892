//! Paper keys: the passphrase-wrapped key as text between BEGIN/END lines,
//! plus a QR code of the same text (ASCII art for text output, SVG for
//! HTML), to print and keep apart from the tapes. The plain key is never
//! printed: the paper key is useless without the passphrase.
//!
//! [`parse_key_text`] reads one back: a paper key (text or HTML, from
//! `ptape` or the reference design, whose markers read `PROXMOX BACKUP
//! KEY`), or a bare JSON key config.

use pbs_tape::format::KeyConfig;
use qrcode::{EcLevel, QrCode};

use super::KeyError;

/// First line of the key text.
pub const BEGIN: &str = "-----BEGIN PTAPE TAPE KEY-----";
/// Last line of the key text.
pub const END: &str = "-----END PTAPE TAPE KEY-----";

/// Output format of a paper key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperFormat {
    Text,
    Html,
}

/// The key text: BEGIN line, the key config as pretty JSON, END line.
pub fn key_text(config: &KeyConfig) -> Result<String, KeyError> {
    let json = serde_json::to_string_pretty(config)
        .map_err(|e| KeyError::PaperKey(format!("cannot encode the key config: {e}")))?;
    Ok(format!("{BEGIN}\n{json}\n{END}\n"))
}

fn qr(text: &str) -> Result<QrCode, KeyError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)
        .map_err(|e| KeyError::PaperKey(format!("cannot make the QR code: {e}")))
}

/// The QR code of `text` as ASCII art: each module two characters wide
/// (`##` dark, two spaces light), with the 4-module quiet zone.
pub fn qr_ascii(text: &str) -> Result<String, KeyError> {
    Ok(qr(text)?
        .render::<char>()
        .dark_color('#')
        .light_color(' ')
        .module_dimensions(2, 1)
        .quiet_zone(true)
        .build())
}

/// The QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> Result<String, KeyError> {
    Ok(qr(text)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(400, 400)
        .quiet_zone(true)
        .build())
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The whole paper key of `config` in `format`.
pub fn render(config: &KeyConfig, format: PaperFormat) -> Result<String, KeyError> {
    let text = key_text(config)?;
    let fingerprint = config.fingerprint.clone().unwrap_or_default();
    let hint = config.hint.clone().unwrap_or_default();
    match format {
        PaperFormat::Text => {
            let qr = qr_ascii(&text)?;
            Ok(format!(
                "ptape tape encryption key\nfingerprint: {fingerprint}\nhint: {hint}\n\n\
                 {text}\n{qr}\n"
            ))
        }
        PaperFormat::Html => {
            let svg = qr_svg(&text)?;
            Ok(format!(
                "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">\
                 <title>ptape tape key {short}</title></head>\n<body>\n\
                 <h1>ptape tape encryption key</h1>\n<p>fingerprint: {fp}<br>hint: {hint}</p>\n\
                 <pre>\n{text}</pre>\n<div style=\"width: 400pt\">\n{svg}\n</div>\n</body>\n</html>\n",
                short = html_escape(fingerprint.get(..23).unwrap_or(&fingerprint)),
                fp = html_escape(&fingerprint),
                hint = html_escape(&hint),
                text = html_escape(&text),
            ))
        }
    }
}

/// Reads a key config from a paper key (text or HTML, between BEGIN/END
/// lines) or from bare JSON.
pub fn parse_key_text(input: &str) -> Result<KeyConfig, KeyError> {
    let unescaped;
    let input = if input.contains("&quot;") || input.contains("<pre>") {
        unescaped = html_unescape(input);
        unescaped.as_str()
    } else {
        input
    };
    let json = match between_markers(input) {
        Some(json) => json,
        None if input.trim_start().starts_with('{') => input.trim(),
        None => {
            return Err(KeyError::PaperKey(
                "no key found: expected the text between -----BEGIN ... KEY----- and \
                 -----END ... KEY----- lines, or a JSON key config"
                    .into(),
            ))
        }
    };
    serde_json::from_str(json)
        .map_err(|e| KeyError::PaperKey(format!("the key text is not a valid key config: {e}")))
}

fn between_markers(input: &str) -> Option<&str> {
    let is_marker = |line: &str, word: &str| {
        let l = line.trim();
        l.starts_with(&format!("-----{word} ")) && l.ends_with("KEY-----")
    };
    let mut start = None;
    let mut offset = 0;
    for line in input.split_inclusive('\n') {
        let next = offset + line.len();
        match start {
            None if is_marker(line, "BEGIN") => start = Some(next),
            Some(s) if is_marker(line, "END") => return Some(input[s..offset].trim()),
            _ => {}
        }
        offset = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbs_tape::format::KdfParams;

    fn config() -> KeyConfig {
        KeyConfig {
            kdf: KdfParams::Pbkdf2 {
                iter: 65535,
                salt: "c2FsdHNhbHQ=".into(),
            },
            created: "2026-01-01T00:00:00Z".into(),
            modified: "2026-01-01T00:00:00Z".into(),
            data: "AAAA".into(),
            fingerprint: Some("aa:bb".into()),
            hint: Some("the <usual> & \"one\"".into()),
        }
    }

    #[test]
    fn text_and_html_round_trip() {
        let c = config();
        for format in [PaperFormat::Text, PaperFormat::Html] {
            let paper = render(&c, format).unwrap();
            assert_eq!(parse_key_text(&paper).unwrap(), c, "{format:?}");
        }
        let text = render(&c, PaperFormat::Text).unwrap();
        assert!(text.contains(BEGIN) && text.contains(END));
        let ascii = qr_ascii(&key_text(&c).unwrap()).unwrap();
        assert!(ascii.contains("##") && ascii.is_ascii());
        assert!(text.contains(&ascii));
        let html = render(&c, PaperFormat::Html).unwrap();
        assert!(html.contains("<svg"));
    }

    #[test]
    fn bare_json_and_foreign_markers() {
        let c = config();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(parse_key_text(&json).unwrap(), c);
        let foreign = format!(
            "-----BEGIN PROXMOX BACKUP KEY-----\n{}\n-----END PROXMOX BACKUP KEY-----\n",
            serde_json::to_string_pretty(&c).unwrap()
        );
        assert_eq!(parse_key_text(&foreign).unwrap(), c);
        assert!(parse_key_text("hello").is_err());
        assert!(parse_key_text(&format!("{BEGIN}\nnot json\n{END}")).is_err());
    }
}
