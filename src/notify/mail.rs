//! Sendmail targets: an RFC 5322 message (text/plain, UTF-8,
//! quoted-printable; the details and the JSON document in the body) piped
//! to `sendmail -t -i`.

use std::process::Command;
use std::time::Duration;

use super::config::TargetConfig;
use super::event::{Document, Event};
use super::program::{find_program, run_with_input};

/// Where sendmail is looked for after PATH.
const SENDMAIL_DIRS: &[&str] = &["/usr/sbin", "/usr/lib", "/sbin"];

/// The sendmail program: `sendmail` on PATH, else in /usr/sbin, /usr/lib.
pub(crate) fn sendmail_program() -> Result<std::path::PathBuf, String> {
    find_program("sendmail", SENDMAIL_DIRS).ok_or_else(|| {
        "no sendmail program found on PATH or in /usr/sbin: install a mail transfer agent \
         (e.g. postfix, exim4, msmtp-mta, nullmailer)"
            .to_string()
    })
}

/// Sends the message; `from` is the default sender when the target names none.
pub(super) fn send(target: &TargetConfig, message: &str) -> Result<(), String> {
    let program = sendmail_program()?;
    let mut command = Command::new(&program);
    command.args(["-t", "-i"]);
    run_with_input(
        command,
        &format!("{} -t", program.display()),
        message.as_bytes(),
        Duration::from_secs(target.timeout_secs()),
    )
}

/// The whole message, headers and body, with CRLF line ends.
pub fn message(
    target: &TargetConfig,
    document: &Document<'_>,
    event: &Event,
    default_from: &str,
) -> String {
    let to = target.address.as_deref().unwrap_or_default();
    let from = target.from.as_deref().unwrap_or(default_from);
    let date = document
        .time
        .parse::<jiff::Timestamp>()
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC))
        .ok()
        .and_then(|z| jiff::fmt::rfc2822::to_string(&z).ok())
        .unwrap_or_default();
    let host = if document.host.is_empty() {
        "localhost"
    } else {
        &document.host
    };
    let mut headers = vec![
        format!("From: {from}"),
        format!(
            "To: {}",
            to.split(',').map(str::trim).collect::<Vec<_>>().join(", ")
        ),
        format!("Subject: {}", encode_header(&document.subject)),
        format!("Date: {date}"),
        format!("Message-ID: <{}@{host}>", uuid::Uuid::new_v4()),
        "MIME-Version: 1.0".to_string(),
        "Content-Type: text/plain; charset=utf-8".to_string(),
        "Content-Transfer-Encoding: quoted-printable".to_string(),
        "Auto-Submitted: auto-generated".to_string(),
        format!("X-Ptape-Event: {}", event.name()),
        format!("X-Ptape-Severity: {}", event.severity().as_str()),
    ];
    if let Some(job) = event.job() {
        headers.push(format!("X-Ptape-Job: {}", super::event::one_line(job)));
    }
    let body = format!(
        "{}\n\n{}\nThe same as JSON (schema {} version {}):\n\n{}\n",
        document.subject,
        event.text(),
        document.schema,
        document.version,
        document.to_json()
    );
    let mut out = String::new();
    for h in headers {
        out.push_str(&h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&quoted_printable(&body));
    out
}

/// A header value: as is when printable ASCII, else one or more RFC 2047
/// encoded words (base64 of UTF-8, whole characters per word).
fn encode_header(text: &str) -> String {
    let text = super::event::one_line(text);
    if text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return text;
    }
    // An encoded word is at most 75 characters: 45 bytes of input each.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                openssl::base64::encode_block(w.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, soft
/// breaks, CRLF line ends; `.` at a line start is encoded so no line is a
/// lone dot.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let bytes = line.as_bytes();
        let mut col = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let plain = (b == b' ' || b == b'\t') && !last
                || (33..=126).contains(&b) && b != b'=' && !(b == b'.' && col == 0);
            let piece = if plain {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if col + piece.len() > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            col += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    // `split` yields an empty last piece after the final '\n'.
    if text.ends_with('\n') {
        out.truncate(out.len() - 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp_decode(text: &str) -> String {
        let joined = text.replace("=\r\n", "");
        let mut out = Vec::new();
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap().replace("\r\n", "\n")
    }

    #[test]
    fn quoted_printable_round_trip_and_line_length() {
        let text = format!(
            "plain line\n.dot start\ntrailing space \nünïcødé = {}\n",
            "x".repeat(300)
        );
        let qp = quoted_printable(&text);
        assert!(qp.split("\r\n").all(|l| l.len() <= 76), "{qp}");
        assert!(qp.contains("=2Edot start"));
        assert!(qp.contains("trailing space=20"));
        assert_eq!(qp_decode(&qp), text);
    }

    #[test]
    fn header_encoding() {
        assert_eq!(encode_header("ptape: job a ok"), "ptape: job a ok");
        assert_eq!(encode_header("a\r\nBcc: x@y"), "a  Bcc: x@y");
        let enc = encode_header("ptape: Bänder voll");
        assert!(enc.starts_with("=?UTF-8?B?"), "{enc}");
        let long = encode_header(&"ü".repeat(100));
        assert!(long.split("\r\n ").all(|w| w.len() <= 75), "{long}");
    }
}
