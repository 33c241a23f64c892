//! Webhook targets: an HTTP POST of the JSON document, with a timeout per
//! attempt and retries (transport errors, 408, 429 and 5xx answers) after
//! a growing pause.

use std::sync::Arc;
use std::time::Duration;

use super::config::TargetConfig;

/// Pause before the first retry; doubled for each further one, at most
/// [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Posts `body`; returns the number of attempts made, or the last error
/// and the attempts.
pub(super) fn post(
    target: &TargetConfig,
    body: &str,
    event: &str,
    first_delay: Duration,
) -> Result<u32, (String, u32)> {
    let url = target.url.as_deref().unwrap_or_default();
    let agent = agent(target).map_err(|e| (e, 0))?;
    let attempts = target.retries() + 1;
    let mut delay = first_delay;
    let mut last = String::new();
    for attempt in 1..=attempts {
        let mut request = agent
            .post(url)
            .set("Content-Type", "application/json")
            .set("X-Ptape-Event", event);
        for header in &target.headers {
            if let Some((name, value)) = header.split_once(':') {
                request = request.set(name.trim(), value.trim());
            }
        }
        match request.send_string(body) {
            Ok(_) => return Ok(attempt),
            Err(ureq::Error::Status(code, response)) => {
                let text = response
                    .into_string()
                    .map(|t| t.chars().take(200).collect::<String>())
                    .unwrap_or_default();
                last = format!("HTTP {code} from {}{}", redacted(url), answer(&text));
                if !(code == 408 || code == 429 || code >= 500) {
                    return Err((last, attempt));
                }
            }
            Err(ureq::Error::Transport(t)) => {
                last = format!("POST {}: {t}", redacted(url));
            }
        }
        if attempt < attempts {
            std::thread::sleep(delay);
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
    }
    Err((format!("{last} (after {attempts} attempts)"), attempts))
}

fn answer(text: &str) -> String {
    let text = super::event::one_line(text.trim());
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The URL without user info or query (they may hold tokens), for messages
/// and listings.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            if u.query().is_some() {
                u.set_query(Some("..."));
            }
            u.to_string()
        }
        Err(_) => url.to_string(),
    }
}

fn agent(target: &TargetConfig) -> Result<ureq::Agent, String> {
    let timeout = Duration::from_secs(target.timeout_secs());
    let mut builder = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .user_agent(concat!("ptape/", env!("CARGO_PKG_VERSION")));
    if target
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("https:"))
    {
        let tls =
            ureq::native_tls::TlsConnector::new().map_err(|e| format!("cannot set up TLS: {e}"))?;
        builder = builder.tls_connector(Arc::new(tls));
    }
    Ok(builder.build())
}
