//! The shared `--wait[=SECS]` / `--no-wait` arguments: how long a command
//! waits for a busy drive or changer (held by another pmt, pmtx or ptape)
//! or for a cartridge an operator must insert.
//!
//! Flatten [`WaitArgs`] into a command and call [`WaitArgs::policy`]:
//! - neither flag: [`WaitPolicy::NoWait`], fail at once naming the holder
//!   (`drive lto0 (/dev/sg3, serial X) is in use by pid N (ptape backup,
//!   since 12:01:07)`);
//! - `--wait`: wait as long as it takes;
//! - `--wait=SECS` (or `--wait SECS`): at most SECS seconds, then fail;
//!   `--wait=0` is `--no-wait`;
//! - `--no-wait`: fail at once (explicit, for scripts).

use clap::Args;
use ptape::lock::WaitPolicy;

/// `--wait[=SECS]` and `--no-wait` (mutually exclusive, global: they may
/// stand before or after the subcommand).
#[derive(Debug, Clone, Default, Args)]
pub struct WaitArgs {
    /// Wait for a busy device (or a cartridge to be inserted): forever, or
    /// at most SECS seconds
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        num_args = 0..=1,
        require_equals = false,
        conflicts_with = "no_wait"
    )]
    pub wait: Option<Option<u64>>,

    /// Fail at once when a device is busy (the default)
    #[arg(long, global = true)]
    pub no_wait: bool,
}

impl WaitArgs {
    /// The policy the arguments ask for; `default` when neither flag was
    /// given (`ptape daemon`: its jobs wait as long as it takes).
    pub fn policy_or(&self, default: WaitPolicy) -> WaitPolicy {
        if !self.no_wait && self.wait.is_none() {
            default
        } else {
            self.policy()
        }
    }

    /// The policy the arguments ask for.
    pub fn policy(&self) -> WaitPolicy {
        match (self.no_wait, self.wait) {
            (true, _) | (false, None) => WaitPolicy::NoWait,
            (false, Some(None)) => WaitPolicy::FOREVER,
            (false, Some(Some(secs))) => WaitPolicy::seconds(secs),
        }
    }
}

/// What this process runs, for lock files and the busy message: the
/// program and its subcommands as given on the command line (`ptape
/// backup`, `ptape media-set close`, `pmt write`).
pub fn command_label(program: &str, cmd: &clap::Command) -> String {
    command_label_from(program, cmd, std::env::args().skip(1))
}

/// [`command_label`] from the given arguments (testable).
pub fn command_label_from(
    program: &str,
    cmd: &clap::Command,
    args: impl IntoIterator<Item = String>,
) -> String {
    let mut label = program.to_string();
    let mut current = cmd;
    for arg in args {
        if current.get_subcommands().next().is_none() {
            break;
        }
        if let Some(sub) = current.find_subcommand(&arg) {
            label.push(' ');
            label.push_str(sub.get_name());
            current = sub;
        }
    }
    label
}

/// Record this process's command and wait policy for every lock it takes
/// (see [`ptape::lock::set_process_defaults`]).
pub fn set_process_defaults(program: &str, cmd: &clap::Command, wait: &WaitArgs) {
    ptape::lock::set_process_defaults(&command_label(program, cmd), wait.policy());
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::time::Duration;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        wait: WaitArgs,
        #[command(subcommand)]
        cmd: Option<Sub>,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        Run,
    }

    fn policy(args: &[&str]) -> Result<WaitPolicy, clap::Error> {
        let mut all = vec!["prog"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|c| c.wait.policy())
    }

    #[test]
    fn forms() {
        assert_eq!(policy(&[]).unwrap(), WaitPolicy::NoWait);
        assert_eq!(policy(&["--no-wait"]).unwrap(), WaitPolicy::NoWait);
        assert_eq!(policy(&["--wait"]).unwrap(), WaitPolicy::FOREVER);
        assert_eq!(
            policy(&["--wait=30"]).unwrap(),
            WaitPolicy::Wait(Some(Duration::from_secs(30)))
        );
        assert_eq!(policy(&["--wait=0"]).unwrap(), WaitPolicy::NoWait);
        assert_eq!(policy(&["run", "--wait"]).unwrap(), WaitPolicy::FOREVER);
        assert_eq!(
            policy(&["run", "--wait", "5"]).unwrap(),
            WaitPolicy::Wait(Some(Duration::from_secs(5)))
        );
    }

    #[test]
    fn labels_name_the_subcommands() {
        use clap::CommandFactory;
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            command_label_from("prog", &Cli::command(), args(&["--wait", "run", "x"])),
            "prog run"
        );
        assert_eq!(
            command_label_from("prog", &Cli::command(), args(&[])),
            "prog"
        );
    }

    #[test]
    fn bad_values_are_usage_errors() {
        assert!(policy(&["--wait", "--no-wait"]).is_err());
        assert!(policy(&["--wait=soon"]).is_err());
        assert!(policy(&["--wait=-1"]).is_err());
    }
}
