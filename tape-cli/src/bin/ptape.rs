//! `ptape`: media pools, labels, the media catalog and backups.
//!
//! With no configuration ptape uses an emulated library under its data
//! directory (`$PTAPE_DATA_DIR`, else `$XDG_DATA_HOME/ptape`), created on
//! first use; `ptape status` shows what it will use.

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use tape_cli::docgen::{run_doc_command, DocCommand};
use tape_cli::output::KvTable;

#[path = "../ptape/backup_cmd.rs"]
mod backup_cmd;
#[path = "../ptape/calendar_cmd.rs"]
mod calendar_cmd;
#[path = "../ptape/catalog_cmds.rs"]
mod catalog_cmds;
#[path = "../ptape/config_cmds.rs"]
mod config_cmds;
#[path = "../ptape/content_cmd.rs"]
mod content_cmd;
#[path = "../ptape/job_cmds.rs"]
mod job_cmds;
#[path = "../ptape/key_cmds.rs"]
mod key_cmds;
#[path = "../ptape/notify_cmds.rs"]
mod notify_cmds;
#[path = "../ptape/pool_cmds.rs"]
mod pool_cmds;
#[path = "../ptape/progress.rs"]
mod progress;
#[path = "../ptape/read_events.rs"]
mod read_events;
#[path = "../ptape/restore_cmd.rs"]
mod restore_cmd;
#[path = "../ptape/scan_cmd.rs"]
mod scan_cmd;
#[path = "../ptape/verify_cmd.rs"]
mod verify_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "ptape",
    version,
    about = "Tape backups: pools, media, catalog, backup"
)]
struct Cli {
    #[command(flatten)]
    output: key_cmds::PtapeOutputArgs,
    #[command(flatten)]
    wait: tape_cli::wait::WaitArgs,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Show the configuration, devices and catalog ptape will use.
    Status,
    /// Back up files and directories to a media pool.
    Backup(backup_cmd::BackupArgs),
    /// Write a media label on a cartridge (or on all blank ones).
    Label(backup_cmd::LabelArgs),
    /// Media pools.
    #[command(subcommand)]
    Pool(pool_cmds::PoolCmd),
    /// Media sets: the tapes of a pool written as one sequence.
    #[command(subcommand)]
    MediaSet(pool_cmds::MediaSetCmd),
    /// Labelled tapes.
    #[command(subcommand)]
    Media(catalog_cmds::MediaCmd),
    /// Read the labels of the changer's cartridges the catalog does not
    /// know, and record them.
    Inventory(catalog_cmds::InventoryArgs),
    /// List snapshots (newest first).
    Snapshots {
        /// Only snapshots of this pool.
        #[arg(long)]
        pool: Option<String>,
    },
    /// Configured tape drives.
    #[command(subcommand)]
    Drive(config_cmds::DriveCmd),
    /// Configured media changers.
    #[command(subcommand)]
    Changer(config_cmds::ChangerCmd),
    /// Restore a snapshot (or parts of it) into a directory.
    Restore(restore_cmd::RestoreArgs),
    /// Read media sets back and check every archive and chunk digest.
    Verify(verify_cmd::VerifyArgs),
    /// List the archives and snapshots on each tape.
    Content(content_cmd::ContentArgs),
    /// The media catalog itself.
    #[command(subcommand)]
    Catalog(scan_cmd::CatalogCmd),
    /// Show the next occurrences of a calendar event (pool allocation, schedules).
    CalendarEvent(calendar_cmd::CalendarEventArgs),
    /// Tape encryption keys.
    #[command(subcommand)]
    Key(key_cmds::KeyCmd),
    /// Scheduled backup jobs: configuration, runs, history, task logs.
    #[command(subcommand)]
    Job(job_cmds::JobCmd),
    /// Run due jobs on schedule (foreground; logs to stderr).
    ///
    /// Scheduled runs wait for a busy drive and for a tape to be inserted as
    /// long as it takes; the global --wait=SECS bounds that, --no-wait makes
    /// them fail at once. SIGTERM/SIGINT: start nothing new, stop running
    /// jobs after the chunk being written, wait for them, exit.
    Daemon(job_cmds::DaemonArgs),
    /// Notification targets: webhooks, mail, commands.
    #[command(subcommand)]
    Notify(notify_cmds::NotifyCmd),
    #[command(flatten)]
    Doc(DocCommand),
}

fn main() -> ExitCode {
    tape_cli::report::init_logging();
    let cli = Cli::parse();
    // Every drive this process locks records `ptape SUBCOMMAND` and waits
    // as --wait/--no-wait say.
    tape_cli::wait::set_process_defaults("ptape", &Cli::command(), &cli.wait);
    tape_cli::report::run("ptape", || run(cli))
}

fn run(cli: Cli) -> Result<()> {
    // `ptape key paperkey` also prints html; every other command checks
    // the format here.
    let out = match cli.cmd {
        Cmd::Key(_) => tape_cli::output::OutputFormat::Text,
        _ => cli.output.format()?,
    };
    match cli.cmd {
        Cmd::Status => status(out),
        Cmd::Backup(args) => backup_cmd::backup(args, out, cli.wait.policy()),
        Cmd::Label(args) => backup_cmd::label(args, out),
        Cmd::Pool(cmd) => pool_cmds::pool(cmd, out),
        Cmd::MediaSet(cmd) => pool_cmds::media_set(cmd, out),
        Cmd::Media(cmd) => catalog_cmds::media(cmd, out),
        Cmd::Inventory(args) => catalog_cmds::inventory(args, out),
        Cmd::Snapshots { pool } => catalog_cmds::snapshots(pool, out),
        Cmd::Drive(cmd) => config_cmds::drive(cmd, out),
        Cmd::Changer(cmd) => config_cmds::changer(cmd, out),
        Cmd::Restore(args) => restore_cmd::restore(args, out, cli.wait.policy()),
        Cmd::Verify(args) => verify_cmd::verify_cmd(args, out),
        Cmd::Content(args) => content_cmd::content(args, out),
        Cmd::Catalog(cmd) => scan_cmd::catalog(cmd, out),
        Cmd::CalendarEvent(args) => calendar_cmd::calendar_event(args, clock()?, out),
        Cmd::Key(cmd) => key_cmds::key(cmd, &cli.output),
        Cmd::Job(cmd) => job_cmds::job(cmd, out, cli.wait.policy()),
        Cmd::Daemon(args) => {
            job_cmds::daemon(args, cli.wait.policy_or(ptape::lock::WaitPolicy::FOREVER))
        }
        Cmd::Notify(cmd) => notify_cmds::notify_cmd(cmd, out),
        Cmd::Doc(doc) => run_doc_command(&doc, Cli::command()),
    }
}

/// The clock of this run: the system's, or the test-only
/// `PTAPE_TEST_NOW` (see `ptape::schedule::Clock::from_env`).
fn clock() -> Result<ptape::schedule::Clock> {
    Ok(ptape::schedule::Clock::from_env()?)
}

fn status(out: tape_cli::output::OutputFormat) -> Result<()> {
    let status = ptape::status::status()?;
    out.print(&status, |s| {
        let mut t = KvTable::new();
        t.row("config dir", s.config_dir.display());
        t.row("data dir", s.data_dir.display());
        t.row("catalog", s.catalog.display());
        t.row("catalog schema", s.schema_version);
        t.row("drive", format!("{} ({})", s.drive.name, s.drive.path));
        t.opt_row("changer", s.drive.changer_path.as_ref());
        t.row(
            "embedded library",
            match (&s.embedded_library, s.embedded_library_exists) {
                (Some(dir), true) => format!("{}", dir.display()),
                (Some(dir), false) => format!("{} (created on first use)", dir.display()),
                (None, _) => "not used (drives configured)".to_string(),
            },
        );
        t.row("pools", s.pools);
        t.row("media", s.media);
        t.row("snapshots", s.snapshots);
        t.row(
            "daemon",
            match (s.daemon.running, s.daemon.pid) {
                (true, Some(pid)) => format!("running (pid {pid})"),
                (true, None) => "running".to_string(),
                (false, _) => "not running (ptape daemon starts it)".to_string(),
            },
        );
        for j in &s.jobs {
            t.row(
                &format!("job {}", j.id),
                format!(
                    "next run {} ({}), last run {}",
                    tape_cli::output::opt(j.next_run.as_ref()),
                    j.schedule,
                    tape_cli::output::opt(j.last_run_state)
                ),
            );
        }
        t.opt_row("jobs", s.jobs_error.as_ref());
        t.render()
    })
}
