//! `ptape content`: the archives and snapshots on each tape (from the catalog).

use anyhow::Result;
use clap::Args;
use ptape::catalog::Catalog;
use ptape::content::tape_contents;
use tape_cli::output::{human_bytes, opt, ListTable, OutputFormat};

#[derive(Debug, Args)]
pub struct ContentArgs {
    /// Only tapes of this pool.
    #[arg(long)]
    pool: Option<String>,
}

pub fn content(args: ContentArgs, out: OutputFormat) -> Result<()> {
    let catalog = Catalog::open_default()?;
    let tapes = tape_contents(&catalog, args.pool.as_deref())?;
    out.print(&tapes, |tapes| {
        let mut t = ListTable::new(&[
            "tape", "seq", "file", "content", "uuid", "entries", "size", "snapshot",
        ]);
        for tape in tapes {
            if tape.archives.is_empty() {
                t.row([
                    tape.label.clone(),
                    opt(tape.seq_nr),
                    "-".into(),
                    "(empty)".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            for a in &tape.archives {
                let content = if a.complete {
                    a.content.to_string()
                } else {
                    format!("{} (continues)", a.content)
                };
                t.row([
                    tape.label.clone(),
                    opt(tape.seq_nr),
                    a.file_number.to_string(),
                    content,
                    a.uuid.to_string(),
                    a.entries.to_string(),
                    human_bytes(a.bytes),
                    opt(a.snapshot.as_ref()),
                ]);
            }
        }
        t.render()
    })
}
