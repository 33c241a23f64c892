//! Shared helpers for the ptape binaries (`pmt`, `pmtx`, `ptape`, `tape-emu`).
//!
//! The binaries stay thin: they parse arguments, call the library and print.
//! What they print, and how they fail, is the same everywhere thanks to these
//! helpers:
//!
//! - [`output`]: `--output-format text|json|json-pretty` and table printing.
//! - [`device`]: which device a command talks to (`-f`, environment, config).
//! - [`docgen`]: shell completions and man pages from the clap definitions.
//! - [`report`]: the one place that turns an error into a message and an exit code.
//! - [`wait`]: `--wait[=SECS]` / `--no-wait` ([`wait::WaitArgs`]), one policy for busy devices and missing cartridges.
//!
//! ```no_run
//! use clap::Parser;
//! use tape_cli::output::{OutputArgs, KvTable};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     output: OutputArgs,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let cli = Cli::parse();
//!     tape_cli::report::run("demo", || {
//!         let value = serde_json::json!({ "answer": 42 });
//!         cli.output.format().print(&value, |_| {
//!             let mut t = KvTable::new();
//!             t.row("answer", 42);
//!             t.render()
//!         })
//!     })
//! }
//! ```

#![forbid(unsafe_code)]

pub mod device;
pub mod docgen;
pub mod output;
pub mod report;
pub mod wait;
