//! `ptape notify ...`: notification targets (webhook, sendmail, command).

use anyhow::{bail, Result};
use clap::{ArgGroup, Args, Subcommand};
use ptape::notify::{
    self, Event, Notifier, NotifyConfig, Outcome, Severity, TargetConfig, TargetType,
    TestNotification,
};
use tape_cli::output::{ListTable, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// List the notification targets.
    List,
    /// Add a notification target.
    Add(AddArgs),
    /// Remove a notification target.
    Remove {
        /// Name of the target.
        name: String,
    },
    /// Send a test notification to a target (exit code 1 when it fails).
    Test {
        /// Name of the target.
        name: String,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("kind").required(true).args(["webhook", "sendmail", "command"])))]
pub struct AddArgs {
    /// Name of the target (letters, digits, '-', '_', '.').
    name: String,
    /// POST the JSON document to this http:// or https:// URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Mail the event to ADDRESS (comma-separated for several) through the
    /// system's `sendmail -t`.
    #[arg(long, value_name = "ADDRESS")]
    sendmail: Option<String>,
    /// Run PROGRAM with the JSON document on stdin (a path, or a name on PATH).
    #[arg(long, value_name = "PROGRAM")]
    command: Option<String>,
    /// Argument for the command (repeatable).
    #[arg(
        long = "arg",
        value_name = "ARG",
        requires = "command",
        allow_hyphen_values = true
    )]
    args: Vec<String>,
    /// Extra webhook request header "Name: value" (repeatable).
    #[arg(long = "header", value_name = "HEADER", requires = "webhook")]
    headers: Vec<String>,
    /// Webhook: attempts after the first (default 3).
    #[arg(long, requires = "webhook")]
    retries: Option<u32>,
    /// Mail: the From header (default "ptape <USER@HOST>").
    #[arg(long, requires = "sendmail")]
    from: Option<String>,
    /// Seconds one attempt may take (default 10 for a webhook, 60 otherwise).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Only these events (comma list of job_finished, tape_needed,
    /// drive_needs_cleaning, tape_damaged, test; default: all).
    #[arg(long, value_delimiter = ',', value_name = "EVENTS")]
    events: Vec<String>,
    /// Only events at least this severe: info, warning or error (a job that
    /// finished ok is info, with warnings warning, failed error).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    min_severity: Option<Severity>,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("{text:?}: use info, warning or error"))
}

pub fn notify_cmd(cmd: NotifyCmd, out: OutputFormat) -> Result<()> {
    let path = notify::config::notify_path()?;
    let mut cfg = NotifyConfig::load_from(&path)?;
    match cmd {
        NotifyCmd::List => out.print(&cfg.targets, |targets| {
            if targets.is_empty() {
                return "no notification targets (add one with `ptape notify add`)".into();
            }
            let mut t = ListTable::new(&["name", "type", "destination", "events", "min severity"]);
            for target in targets {
                t.row([
                    target.name.clone(),
                    target.kind.as_str().to_string(),
                    destination_text(target),
                    if target.events.is_empty() {
                        "all".to_string()
                    } else {
                        target.events.join(",")
                    },
                    target
                        .min_severity
                        .map_or("info", |s| s.as_str())
                        .to_string(),
                ]);
            }
            t.render()
        }),
        NotifyCmd::Add(args) => {
            let name = args.name.clone();
            let target = target_from(args);
            target.validate(&path)?;
            if let Err(why) = notify::check_target_here(&target) {
                bail!("target {name}: {why}");
            }
            cfg.add(target, &path)?;
            cfg.save_to(&path)?;
            println!("added notification target {name}");
            Ok(())
        }
        NotifyCmd::Remove { name } => {
            cfg.remove(&name)?;
            cfg.save_to(&path)?;
            println!("removed notification target {name}");
            Ok(())
        }
        NotifyCmd::Test { name } => {
            let mut target = cfg
                .get(&name)
                .cloned()
                .ok_or_else(|| notify::NotifyError::UnknownTarget(name.clone()))?;
            // A test goes through whatever the target's filters say.
            target.events.clear();
            target.min_severity = None;
            let notifier =
                Notifier::new(vec![target]).with_clock(ptape::schedule::Clock::from_env()?);
            let outcomes = notifier.send(&Event::Test(TestNotification {
                target: name.clone(),
            }));
            out.print(&outcomes, |o| outcome_table(o))?;
            if let Some(failed) = outcomes.iter().find(|o| !o.ok) {
                bail!(
                    "test notification to target {name} failed: {}",
                    failed.error.as_deref().unwrap_or("unknown error")
                );
            }
            Ok(())
        }
    }
}

fn target_from(args: AddArgs) -> TargetConfig {
    let (kind, dest) = match (args.webhook, args.sendmail, args.command) {
        (Some(url), _, _) => (TargetType::Webhook, url),
        (_, Some(address), _) => (TargetType::Sendmail, address),
        (_, _, Some(program)) => (TargetType::Command, program),
        // clap's "kind" group requires one of the three.
        (None, None, None) => (TargetType::Command, String::new()),
    };
    let mut target = TargetConfig::new(&args.name, kind, &dest);
    target.args = args.args;
    target.headers = args.headers;
    target.retries = args.retries;
    target.from = args.from;
    target.timeout = args.timeout;
    target.events = args.events;
    target.min_severity = args.min_severity;
    target
}

/// The destination; webhook URLs without user info or query (tokens).
fn destination_text(target: &TargetConfig) -> String {
    let dest = target.destination();
    let mut text = match target.kind {
        TargetType::Webhook => notify::redacted_url(dest),
        _ => dest.to_string(),
    };
    if !target.args.is_empty() {
        text = format!("{text} {}", target.args.join(" "));
    }
    text
}

/// Outcomes as a table (target, type, result, attempts).
pub fn outcome_table(outcomes: &[Outcome]) -> String {
    if outcomes.is_empty() {
        return "no target wanted this event".into();
    }
    let mut t = ListTable::new(&["target", "type", "result", "attempts"]);
    for o in outcomes {
        t.row([
            o.target.clone(),
            o.kind.as_str().to_string(),
            match &o.error {
                None => "sent".to_string(),
                Some(e) => format!("failed: {e}"),
            },
            o.attempts.to_string(),
        ]);
    }
    t.render()
}
