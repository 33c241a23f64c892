//! Output formats and table rendering shared by all binaries.
//!
//! Every status-like command prints a readable table by default and the same
//! data as JSON with `--output-format json` (one line) or `json-pretty`.
//! JSON field names come from the `Serialize` impls of the library types and
//! are snake_case and stable.

use std::io::Write;

use clap::{Args, ValueEnum};
use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde::Serialize;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    #[default]
    Text,
    /// One line of JSON.
    Json,
    /// Indented JSON.
    JsonPretty,
}

/// The `--output-format` option; `#[command(flatten)]` it into a CLI struct.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format of status-like commands.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output_format: OutputFormat,
}

impl OutputArgs {
    /// The chosen format.
    pub fn format(&self) -> OutputFormat {
        self.output_format
    }
}

impl OutputFormat {
    /// True for the JSON formats.
    pub fn is_json(self) -> bool {
        !matches!(self, OutputFormat::Text)
    }

    /// Render `value` as JSON in this format (compact for `Text` too).
    pub fn to_json<T: Serialize + ?Sized>(self, value: &T) -> anyhow::Result<String> {
        Ok(match self {
            OutputFormat::JsonPretty => serde_json::to_string_pretty(value)?,
            OutputFormat::Json | OutputFormat::Text => serde_json::to_string(value)?,
        })
    }

    /// Render `value`: JSON for the JSON formats, `text(value)` otherwise.
    pub fn render<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<String> {
        if self.is_json() {
            self.to_json(value)
        } else {
            Ok(text(value))
        }
    }

    /// Print `value` to stdout (see [`OutputFormat::render`]); a trailing
    /// newline is added when the text lacks one.
    pub fn print<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        let mut out = self.render(value, text)?;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        // Not print!: a closed pipe (`pmt status | head -1`) is an error to
        // return, not a panic.
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes())?;
        stdout.flush()?;
        Ok(())
    }
}

fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    table
}

/// A two-column "name value" table, as used by status commands.
#[derive(Debug)]
pub struct KvTable {
    table: Table,
}

impl Default for KvTable {
    fn default() -> Self {
        Self::new()
    }
}

impl KvTable {
    pub fn new() -> Self {
        KvTable { table: new_table() }
    }

    /// Add one row.
    pub fn row(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.table
            .add_row(vec![Cell::new(name), Cell::new(value.to_string())]);
        self
    }

    /// Add one row when `value` is known; print `-` otherwise.
    pub fn opt_row<V: std::fmt::Display>(&mut self, name: &str, value: Option<V>) -> &mut Self {
        self.row(name, opt(value))
    }

    /// The rendered table.
    pub fn render(&self) -> String {
        self.table.to_string()
    }
}

/// A table with a header row, as used by list commands.
#[derive(Debug)]
pub struct ListTable {
    table: Table,
}

impl ListTable {
    pub fn new<S: AsRef<str>>(header: &[S]) -> Self {
        let mut table = new_table();
        table.set_header(header.iter().map(|h| Cell::new(h.as_ref())));
        ListTable { table }
    }

    /// Add one row (cells in header order).
    pub fn row<I, D>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = D>,
        D: std::fmt::Display,
    {
        self.table
            .add_row(cells.into_iter().map(|c| Cell::new(c.to_string())));
        self
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.table.row_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rendered table.
    pub fn render(&self) -> String {
        self.table.to_string()
    }
}

/// `value` as text, or `-` when unknown.
pub fn opt<V: std::fmt::Display>(value: Option<V>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => "-".to_string(),
    }
}

/// `yes` / `no`.
pub fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// A byte count for humans: `1.50 GiB (1610612736 bytes)` style, binary units.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.2} {unit}")
}

/// Parse a size: a number with an optional `K`/`KiB`/`M`/`MiB`/`G`/`GiB`/
/// `T`/`TiB` suffix (binary units; `B` or no suffix: bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: u64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 2GiB, 64MiB, 4096)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}' (use KiB, MiB, GiB or TiB)"
            ))
        }
    };
    value
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("size '{text}' is too large"))
}

/// [`parse_size`] for sizes that must fit a `usize` (block sizes).
pub fn parse_usize_size(text: &str) -> Result<usize, String> {
    let size = parse_size(text)?;
    usize::try_from(size).map_err(|_| format!("size '{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.00 KiB");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.50 GiB");
    }

    #[test]
    fn json_and_text_render() {
        let v = serde_json::json!({"file_number": 3});
        assert_eq!(
            OutputFormat::Json.render(&v, |_| "x".into()).unwrap(),
            r#"{"file_number":3}"#
        );
        assert_eq!(OutputFormat::Text.render(&v, |_| "x".into()).unwrap(), "x");
        assert!(OutputFormat::JsonPretty
            .render(&v, |_| String::new())
            .unwrap()
            .contains("\n"));
    }

    #[test]
    fn tables_contain_cells() {
        let mut kv = KvTable::new();
        kv.row("vendor", "IBM").opt_row::<u32>("block", None);
        let s = kv.render();
        assert!(s.contains("vendor") && s.contains("IBM") && s.contains('-'));
        let mut lt = ListTable::new(&["a", "b"]);
        lt.row(["1", "2"]);
        assert_eq!(lt.len(), 1);
        assert!(lt.render().contains('2'));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert_eq!(parse_usize_size("256KiB").unwrap(), 256 << 10);
        assert!(parse_size("2 PB").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }
}
